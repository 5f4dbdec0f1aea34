"""Progress: a rich bar on a TTY, plain periodic lines otherwise, nothing with --quiet.

`Progress` follows the run's items; `JobsProgress` the provider's Batch API jobs while --wait
polls them (from their `request_counts`), as a second bar under the run's bar (a live display
nested on the same console: rich >= 14.1), or a line per poll."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from .work import DONE, FAILED, SKIPPED


class Progress:
    def __init__(self, mode: str, interval: float, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        if mode == "auto":
            mode = "bar" if self.stream.isatty() else "lines"
        self.mode = mode
        self.interval = interval
        self.total = 0
        self._bar: Any = None
        self._task: Any = None
        self.console: Any = None  # the rich Console of the bar (mode "bar", once started)
        self._last = 0.0
        self._start = time.monotonic()

    def start(self, total: int) -> None:
        self.total = total
        self._start = time.monotonic()
        if self.mode == "bar":
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(
                TextColumn("[bold]batch"), BarColumn(), MofNCompleteColumn(),
                TextColumn("[green]{task.fields[done]} done[/] [red]{task.fields[failed]} failed[/] "
                           "[yellow]{task.fields[skipped]} skipped[/]"),
                TextColumn("{task.fields[rate]:.2f}/s"), TimeRemainingColumn(),
                TextColumn("{task.fields[tokens]:,} tok ${task.fields[cost]:.4f}"),
                console=Console(file=self.stream), transient=False)
            self.console = self._bar.console
            self._bar.start()
            self._task = self._bar.add_task("batch", total=total or None, done=0, failed=0, skipped=0, rate=0.0, tokens=0, cost=0.0)

    def update(self, counts: dict[str, int], tokens: int, cost: float, finished_now: int, force: bool = False) -> None:
        elapsed = max(time.monotonic() - self._start, 1e-6)
        rate = finished_now / elapsed
        finished = counts[DONE] + counts[FAILED] + counts[SKIPPED]
        if self.mode == "bar" and self._bar is not None:
            self._bar.update(self._task, total=self.total or None, completed=finished, done=counts[DONE], failed=counts[FAILED],
                             skipped=counts[SKIPPED], rate=rate, tokens=tokens, cost=cost)
        elif self.mode == "lines" and (force or time.monotonic() - self._last >= self.interval):
            self._last = time.monotonic()
            left = self.total - finished
            eta = f"{left / rate:.0f}s" if rate > 0 else "?"
            print(f"batch: {finished}/{self.total} ({counts[DONE]} done, {counts[FAILED]} failed, "
                  f"{counts[SKIPPED]} skipped) {rate:.2f}/s ETA {eta} {tokens:,} tokens ${cost:.4f}",
                  file=self.stream, flush=True)

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()


class JobsProgress:
    """The Batch API jobs' request counts while --wait polls: a bar under the run's bar in bar
    mode, a line per poll in lines mode, nothing with --progress none (--quiet)."""

    def __init__(self, run: Progress) -> None:
        self.run = run
        self._bar: Any = None
        self._task: Any = None

    def update(self, *, done: int, failed: int, total: int, jobs: int, running: int, states: str, next_check: float,
               final: bool = False) -> None:
        """`done`/`failed`/`total`: requests of the `jobs` this wait follows; `running`: those not
        ended yet (`states`). `final`: the wait is over (the bar shows it; no line is printed)."""
        if self.run.mode == "bar" and self.run.console is not None:
            if self._bar is None:
                self._start()
            jobs_text = (f"all {jobs} job(s) ended" if final or not running
                         else f"{running} job(s) {states}, next poll in {next_check:.0f} s")
            self._bar.update(self._task, total=total or None, completed=done + failed, failed=failed, jobs=jobs_text)
        elif self.run.mode in ("lines", "bar") and not final:  # "bar" without a started bar: lines
            print(f"batch-api: {running} job(s) running ({states or '-'}): {done}/{total} requests done, {failed} "
                  f"failed; next check in {next_check:.0f} s", file=self.run.stream, flush=True)

    def _start(self) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as RichProgress

        self._bar = RichProgress(
            TextColumn("[bold]batch-api"), BarColumn(bar_width=20), MofNCompleteColumn(), TextColumn("requests"),
            TextColumn("[red]{task.fields[failed]} failed[/], {task.fields[jobs]}"), TimeElapsedColumn(),
            console=self.run.console, transient=False)
        self._bar.start()
        self._task = self._bar.add_task("batch-api", total=None, failed=0, jobs="")

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
