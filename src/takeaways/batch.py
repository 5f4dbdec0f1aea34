"""The batch job: expand inputs, then load → extract → generate → verify → render every item.

The stages are the same plain functions the single-article command uses (`sources`, `extract`,
`api.agenerate`, `render`); this module only schedules them and does the I/O around them:

- fetching in a thread pool with a per-host semaphore, extraction in a process pool (CPU-bound),
  generation on the event loop (the async openai client) bounded by `concurrency` and the
  optional --rpm/--tpm limiters (aiolimiter) and a run-wide --max-cost budget;
- transient errors (FetchError/LLMError with `.transient`) retried with backoff (tenacity);
- per item, in this order: output files (atomic), one line appended to results.jsonl, then one
  state-db transaction that marks the item finished *and* records the new committed length of
  results.jsonl. A restart truncates results.jsonl to that length, so a `kill -9` at any moment
  neither loses a finished item nor duplicates one;
- a result cache keyed by article text + engine + model + prompts + options, so an unchanged
  article costs no LLM call in any later run.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import multiprocessing
import os
import re
import signal
import sys
import threading
import time
import unicodedata
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO, TypeVar
from urllib.parse import urlsplit

import httpx2
from aiolimiter import AsyncLimiter
from platformdirs import user_cache_dir
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from . import __version__, api, inputs, sources
from .config import Settings
from .engines import get_engine
from .errors import BudgetExceeded, ConfigError, ExtractionError, SourceError, TakeawaysError
from .extract import extract_page
from .fsutil import atomic_write
from .models import Article, Digest, Page, Spec, Usage
from .render import EXTENSIONS, FORMATS, builtin_dir
from .store import DONE, FAILED, PENDING, SKIPPED, Outcome, ResultCache, State, read_statuses

T = TypeVar("T")
STATE_DIR = ".takeaways"
RESULTS = "results.jsonl"
REPORT = "report.json"


@dataclass(frozen=True)
class BatchOptions:
    """What the batch job adds to Settings: where to write, how hard to push, what to resume."""

    out: Path
    formats: tuple[str, ...] = ("md",)
    concurrency: int = 8
    per_host: int = 2
    rpm: int | None = None
    tpm: int | None = None
    max_cost: float | None = None
    retry_failed: bool = False
    limit: int | None = None
    dry_run: bool = False
    progress: str = "auto"  # auto (bar on a TTY, else lines) | bar | lines | none
    progress_interval: float = 10.0
    cache_dir: Path | None = None  # None: the user cache dir
    use_cache: bool = True
    workers: int | None = None  # extraction processes; None: one per CPU; 0: threads in this process
    attempts: int = 3  # tries per stage for transient errors
    retry_wait: float = 1.0  # first backoff, seconds

    def resolved_cache_dir(self) -> Path:
        return self.cache_dir or Path(user_cache_dir("takeaways"))


# ---------------------------------------------------------------------------------------------
# Stages: plain functions over records.


def load_page(item: inputs.Item, settings: Settings, client: httpx2.Client | None = None) -> Page:
    """Item → Page: inline JSONL content, a fetched URL or a file."""
    if item.text is not None:
        return Page(source=item.source, url=item.url, content=item.text.encode("utf-8"), content_type="text")
    if item.html is not None:
        return Page(source=item.source, url=item.url, content=item.html.encode("utf-8"), content_type="html",
                    encoding="utf-8")
    if item.url is not None:
        return sources.fetch(item.url, settings, client)
    return sources.load(item.path or item.source, settings)


def content_hash(article: Article) -> str:
    """Same text (whitespace and case aside) → same hash: how duplicate content is found."""
    norm = re.sub(r"\s+", " ", article.text).strip().casefold()
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()


def prompt_hash(template_dir: Path | None) -> str:
    """Hash of the prompt templates in effect (built-in, overridden by --template-dir): editing one invalidates the cache."""
    h = hashlib.sha256()
    builtin = builtin_dir() / "prompts"
    names = sorted(p.name for p in builtin.glob("*")) if builtin.is_dir() else []
    for name in names:
        path = template_dir / name if template_dir and (template_dir / name).is_file() else builtin / name
        h.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def cache_key(article: Article, settings: Settings, prompts: str) -> str:
    """Article text + engine + model + prompt/version + generation options → the result-cache key."""
    engine = settings.resolved_engine()
    parts = {
        "text": article.text, "title": article.title, "language": article.language,
        "engine": engine, "model": settings.model if engine != "extractive" else None,
        "prompts": prompts, "version": __version__,
        "options": {"takeaways": settings.takeaways, "questions": settings.questions, "lang": settings.lang,
                    "fill": settings.fill, "max_input_tokens": settings.max_input_tokens,
                    "max_output_tokens": settings.max_output_tokens, "seed": settings.seed},
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode("utf-8")).hexdigest()


def slug(text: str, limit: int = 60) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:limit].strip("-") or "article"


def output_stem(item: inputs.Item) -> str:
    """`<slug>-<shorthash>`: stable for an item across runs, so a redone item overwrites its own files."""
    if item.url:
        parts = urlsplit(item.url)
        segs = [s for s in parts.path.split("/") if s]
        base = re.sub(r"\.(s?html?|php|aspx?)$", "", segs[-1], flags=re.I) if segs else parts.hostname or "page"
    elif item.path:
        base = Path(item.path).stem
    else:
        base = " ".join((item.text or item.html or "").split()[:8]) if item.text else "article"
    return f"{slug(base)}-{hashlib.sha256(item.key.encode()).hexdigest()[:8]}"


def render_outputs(digest: Digest, formats: Iterable[str], template_dir: Path | None) -> dict[str, str]:
    """Digest → {extension: text} for each requested format."""
    return {EXTENSIONS[fmt]: api.render(digest, fmt, template_dir) for fmt in formats}


def reason_of(exc: BaseException, source: str) -> str:
    """A short, groupable reason: the message without the source and the how-to-fix hint, numbers blurred."""
    msg = str(exc)
    for prefix in (f"{source}: ", f"{source} "):
        if msg.startswith(prefix):
            msg = msg[len(prefix):]
    msg = re.sub(r"^https?://\S+?:\s", "", msg).split(";")[0].strip()
    msg = re.sub(r"(?<!HTTP )\b\d+(\.\d+)?\b", "N", msg)
    return f"{type(exc).__name__}: {msg}"[:200]


def is_transient(exc: BaseException) -> bool:
    return bool(getattr(exc, "transient", False))


# ---------------------------------------------------------------------------------------------
# Progress.


class Progress:
    """A rich bar on a TTY, plain periodic lines otherwise, nothing with --quiet."""

    def __init__(self, mode: str, interval: float, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        if mode == "auto":
            mode = "bar" if self.stream.isatty() else "lines"
        self.mode = mode
        self.interval = interval
        self._bar: Any = None
        self._task: Any = None
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
            self._bar.start()
            self._task = self._bar.add_task("batch", total=total, done=0, failed=0, skipped=0, rate=0.0, tokens=0, cost=0.0)

    def update(self, counts: dict[str, int], tokens: int, cost: float, finished_now: int, force: bool = False) -> None:
        elapsed = max(time.monotonic() - self._start, 1e-6)
        rate = finished_now / elapsed
        finished = counts[DONE] + counts[FAILED] + counts[SKIPPED]
        if self.mode == "bar" and self._bar is not None:
            self._bar.update(self._task, completed=finished, done=counts[DONE], failed=counts[FAILED],
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


# ---------------------------------------------------------------------------------------------
# The runner.


def _init_worker() -> None:  # pragma: no cover - runs in the extraction processes
    """Extraction processes ignore Ctrl-C (the runner handles it) and die with the runner, even on kill -9."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform == "linux":
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
        if os.getppid() == 1:  # the runner died before prctl
            os._exit(1)


def _noop() -> None:  # pragma: no cover - runs in the extraction processes
    pass


def extraction_pool(workers: int | None) -> Executor:
    """Processes for the CPU-bound extraction (threads when workers == 0).

    Forked while this process is still single-threaded (before the event loop and the fetch
    threads), after loading the language model, so the workers start at once and share its
    pages; spawned otherwise (fork is unsafe once threads run).
    """
    n = workers if workers is not None else (os.cpu_count() or 1)
    if n == 0:
        return ThreadPoolExecutor(max_workers=2, thread_name_prefix="extract")
    method = "fork" if sys.platform == "linux" and threading.active_count() == 1 else "spawn"
    if method == "fork":
        import py3langid

        py3langid.classify("warm up the language model before forking")
    pool = ProcessPoolExecutor(max_workers=n, initializer=_init_worker, mp_context=multiprocessing.get_context(method))
    pool.submit(_noop).result()  # start the workers now, before any thread exists
    return pool


@dataclass
class _Budget:
    limit: float | None
    spent: float = 0.0
    reserved: float = 0.0
    reached: bool = False

    def reserve(self, estimate: float) -> bool:
        if self.limit is not None and self.spent + self.reserved + estimate > self.limit:
            self.reached = True
            return False
        self.reserved += estimate
        return True

    def settle(self, estimate: float, actual: float) -> None:
        self.reserved -= estimate
        self.spent += actual


@dataclass
class _Live:
    """Counters for progress and the report."""

    finished_now: int = 0
    tokens: int = 0
    cost: float = 0.0
    duplicates: int = 0
    total: int = 0
    interrupted: bool = False
    tasks: set[asyncio.Task[None]] = field(default_factory=set)


class BatchRun:
    """One invocation of `takeaways batch`. Use `run()`; it returns the report dict."""

    def __init__(self, sources_: list[str], settings: Settings, options: BatchOptions, *,
                 stdin: Any = None, progress_stream: TextIO | None = None) -> None:
        self.inputs = sources_
        self.settings = settings.with_(max_cost=None, dry_run=False)  # the run-wide budget is enforced here
        self.opts = options
        self.stdin = stdin
        self.progress = Progress("none" if options.dry_run else options.progress, options.progress_interval,
                                 progress_stream)
        self.live = _Live()
        self.budget = _Budget(options.max_cost)
        self.engine = self.settings.resolved_engine()
        self.fatal: ConfigError | None = None

    # -- setup ------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        out = self.opts.out
        out.mkdir(parents=True, exist_ok=True)
        if self.opts.dry_run:
            return self._dry_run()
        started = time.monotonic()
        lock = _lock(out / STATE_DIR / "lock")
        for stale in out.glob(".*.tmp"):  # temp files of writes a killed run never renamed
            stale.unlink(missing_ok=True)
        state = State(out / STATE_DIR / "state.db")
        try:
            self._expand_into(state)
            if self.opts.retry_failed:
                state.retry_failed()
            self._repair_results(state)
            # The offline engine is cheaper to rerun than to cache, and a cached result would hide its fixes.
            use_cache = self.opts.use_cache and self.engine != "extractive"
            cache = ResultCache(self.opts.resolved_cache_dir() / "results.db") if use_cache else None
            get_engine(self.engine)  # import it now (the LLM engine takes ~1 s), not on the event loop
            self.cpu_pool = extraction_pool(self.opts.workers)
            try:
                asyncio.run(self._process_all(state, cache))
            finally:
                self.cpu_pool.shutdown(wait=True, cancel_futures=True)
                if cache is not None:
                    cache.close()
            if self.fatal is not None:  # e.g. no API key: every item would fail the same way
                raise self.fatal
            report = self._report(state, time.monotonic() - started)
            atomic_write(out / REPORT, json.dumps(report, indent=2) + "\n")
            return report
        finally:
            state.close()
            lock.close()

    def _expand_into(self, state: State) -> None:
        client = sources.http_client(self.settings)
        try:
            for item in inputs.expand(self.inputs, self.settings, stdin=self.stdin, client=client):
                if self.opts.limit is not None and self.live.total >= self.opts.limit:
                    break
                if state.add(item):
                    self.live.total += 1
                else:
                    self.live.duplicates += 1
        finally:
            state.flush()
            client.close()

    def _repair_results(self, state: State) -> None:
        """Cut results.jsonl back to its committed length (drops a torn or uncommitted tail)."""
        path = self.opts.out / RESULTS
        committed = state.results_size
        size = path.stat().st_size if path.exists() else 0
        if size > committed:
            os.truncate(path, committed)
        elif size < committed:  # someone shortened it: keep what is there, up to its last full line
            data = path.read_bytes() if path.exists() else b""
            keep = data.rfind(b"\n") + 1
            if path.exists():
                os.truncate(path, keep)
            state.set_meta("results_size", str(keep))

    # -- the loop -------------------------------------------------------------------------
    async def _process_all(self, state: State, cache: ResultCache | None) -> None:
        loop = asyncio.get_running_loop()
        opts = self.opts
        self.state, self.cache = state, cache
        self.prompts = prompt_hash(self.settings.template_dir)
        self.gen_sem = asyncio.Semaphore(opts.concurrency)
        self.host_sems: dict[str, asyncio.Semaphore] = {}
        self.rpm = AsyncLimiter(opts.rpm, 60) if opts.rpm else None
        self.tpm = AsyncLimiter(opts.tpm, 60) if opts.tpm else None
        slots = asyncio.Semaphore(opts.concurrency * 2 + 2)  # items in flight: generation plus prefetch
        self.fetch_pool = ThreadPoolExecutor(max_workers=min(64, opts.concurrency * 2 + 2), thread_name_prefix="fetch")
        self.client = sources.http_client(self.settings)
        self.results = open(opts.out / RESULTS, "ab")  # noqa: SIM115 - closed below
        self.commits: set[asyncio.Task[None]] = set()
        self.counts = state.counts()
        self.progress.start(self.live.total)
        self._tick()
        for signum in (signal.SIGINT, signal.SIGTERM):  # Ctrl-C, or a scheduler stopping the job
            with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread / Windows
                loop.add_signal_handler(signum, self._interrupt)

        def done(t: asyncio.Task[None]) -> None:
            self.live.tasks.discard(t)
            slots.release()

        try:
            for item, _attempts in state.pending():
                await slots.acquire()
                if self.live.interrupted or self.budget.reached or self.fatal:
                    slots.release()
                    break
                task = asyncio.create_task(self._process(item))
                self.live.tasks.add(task)
                task.add_done_callback(done)
            while self.live.tasks:
                await asyncio.gather(*list(self.live.tasks), return_exceptions=True)
            while self.commits:
                await asyncio.gather(*list(self.commits), return_exceptions=True)
        finally:
            from .client import aclose_shared_clients

            await aclose_shared_clients()
            for signum in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(signum)
            self.progress.update(state.counts(), self.live.tokens, self.live.cost, self.live.finished_now, force=True)
            self.progress.stop()
            self.results.close()
            self.client.close()
            self.fetch_pool.shutdown(wait=False, cancel_futures=True)

    def _interrupt(self) -> None:
        """Ctrl-C (or SIGTERM): start no new item, cancel the ones in flight; finished writes still complete."""
        if self.live.interrupted:  # a second Ctrl-C: leave now (state stays consistent, see module doc)
            os._exit(130)
        self.live.interrupted = True
        self._cancel_in_flight()

    def _cancel_in_flight(self) -> None:
        current = asyncio.current_task()
        for task in list(self.live.tasks):
            if task is not current:
                task.cancel()

    def _tick(self) -> None:
        self.progress.update(self.counts, self.live.tokens, self.live.cost, self.live.finished_now)

    async def _retrying(self, key: str, fn: Callable[[], Awaitable[T]]) -> T:
        async for attempt in AsyncRetrying(stop=stop_after_attempt(self.opts.attempts),
                                           wait=wait_exponential_jitter(multiplier=self.opts.retry_wait, jitter=self.opts.retry_wait, max=30),
                                           retry=retry_if_exception(is_transient), reraise=True):
            with attempt:
                self.state.add_attempt(key)
                return await fn()
        raise AssertionError("unreachable")  # pragma: no cover

    async def _process(self, item: inputs.Item) -> None:
        try:
            outcome, digest = await self._stages(item)
        except ConfigError as exc:  # a setup problem, not this item's: stop the run, leave the items pending
            self.fatal = self.fatal or exc
            self._cancel_in_flight()
            return
        except ExtractionError as exc:  # not an article (too short, a wall, an index page): nothing to do
            outcome, digest = Outcome(SKIPPED, error=str(exc), reason=reason_of(exc, item.source)), None
        except TakeawaysError as exc:  # an LLM failure still cost what its attempts spent
            outcome = Outcome(FAILED, error=str(exc), reason=reason_of(exc, item.source), usage=getattr(exc, "usage", None))
            digest = None
        except (asyncio.CancelledError, KeyboardInterrupt):
            raise
        except Exception as exc:  # one bad item must not end a run of thousands
            outcome = Outcome(FAILED, error=f"unexpected {type(exc).__name__}: {exc} (a bug; please report it)",
                              reason=f"unexpected {type(exc).__name__}")
            digest = None
        if outcome.status == PENDING:
            return  # not started: budget reached
        commit = asyncio.ensure_future(self._commit(item, outcome, digest))
        self.commits.add(commit)
        commit.add_done_callback(self.commits.discard)
        await asyncio.shield(commit)

    async def _stages(self, item: inputs.Item) -> tuple[Outcome, Digest | None]:
        loop = asyncio.get_running_loop()
        if item.error is not None:  # the input (a sitemap, a list line) could not be read
            raise SourceError(item.error)
        host = urlsplit(item.url).hostname or "" if item.url and item.html is None and item.text is None else None

        async def fetch() -> Page:
            if host is None:
                return await loop.run_in_executor(self.fetch_pool, load_page, item, self.settings, None)
            sem = self.host_sems.setdefault(host, asyncio.Semaphore(self.opts.per_host))
            async with sem:
                return await loop.run_in_executor(self.fetch_pool, load_page, item, self.settings, self.client)

        page = await self._retrying(item.key, fetch)
        article = await loop.run_in_executor(self.cpu_pool, extract_page, page, self.settings)
        chash = content_hash(article)
        if (other := self.state.claim_content(item.key, chash)) is not None:
            return Outcome(SKIPPED, error=f"same text as {other}", reason="duplicate content", content_hash=chash), None
        key = cache_key(article, self.settings, self.prompts)
        if self.cache is not None and (hit := self.cache.get(key)) is not None:
            cached = Digest.model_validate_json(hit).model_copy(update={"article": article.meta, "usage": Usage()})
            return Outcome(DONE, content_hash=chash, usage=Usage(), cached=True), cached
        digest = await self._generate(item, article)
        if digest is None:
            return Outcome(PENDING), None
        if self.cache is not None:
            self.cache.put(key, digest.model_dump_json())
        return Outcome(DONE, content_hash=chash, usage=digest.usage), digest

    async def _generate(self, item: inputs.Item, article: Article) -> Digest | None:
        """Generate under the concurrency bound, the limiters and the budget; None when the budget is spent."""
        async with self.gen_sem:
            estimate = self._estimate_cost(article)
            if not self.budget.reserve(estimate):
                return None
            try:
                if self.engine != "extractive":
                    if self.rpm is not None:
                        await self.rpm.acquire()
                    if self.tpm is not None:
                        tokens = min(len(article.text) // 4 + self.settings.max_output_tokens, self.opts.tpm or 1)
                        await self.tpm.acquire(tokens)
                spent = Usage()  # what failed attempts cost: paid for, so it is counted

                async def attempt() -> Digest:
                    nonlocal spent
                    try:
                        return await api.agenerate(article, self.settings)
                    except TakeawaysError as exc:
                        spent = spent.add(getattr(exc, "usage", None) or Usage())
                        exc.usage = spent  # type: ignore[attr-defined]
                        raise

                digest = await self._retrying(item.key, attempt)
                digest = digest.model_copy(update={"usage": spent.add(digest.usage)})
            except BaseException as exc:
                self.budget.settle(estimate, getattr(exc, "usage", Usage()).cost_usd)
                raise
            self.budget.settle(estimate, digest.usage.cost_usd)
            return digest

    def _estimate_cost(self, article: Article) -> float:
        if self.budget.limit is None or self.engine == "extractive":
            return 0.0
        from .engines import llm  # the LLM engine exposes estimate_cost(article, spec, settings)

        spec = Spec(takeaways=self.settings.takeaways, questions=self.settings.questions, language=self.settings.lang)
        try:
            return float(llm.estimate_cost(article, spec, self.settings))
        except BudgetExceeded:
            return float("inf")

    async def _commit(self, item: inputs.Item, outcome: Outcome, digest: Digest | None) -> None:
        """Files, then the results line, then the state transaction (see the module doc)."""
        files: list[str] = []
        if digest is not None:
            stem = output_stem(item)
            rendered = render_outputs(digest, self.opts.formats, self.settings.template_dir)
            await asyncio.to_thread(_write_files, self.opts.out, stem, rendered)
            files = [f"{stem}.{ext}" for ext in rendered]
        usage = outcome.usage or Usage()
        record: dict[str, Any] = {"source": item.source, "key": item.key, "status": outcome.status}
        if digest is not None:
            record.update(files=files, cached=outcome.cached, digest=digest.model_dump(mode="json"))
        else:
            record.update(error=outcome.error, reason=outcome.reason)
        record["usage"] = usage.model_dump(mode="json")
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        # From here to the end: no await, so a cancellation cannot split the line from its commit.
        fd = self.results.fileno()
        offset = self.state.results_size
        view = memoryview(line)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        self.state.finish(item.key, outcome, offset + len(line))
        self.counts[PENDING] -= 1
        self.counts[outcome.status] += 1
        self.live.finished_now += 1
        self.live.tokens += usage.total_tokens
        self.live.cost += usage.cost_usd
        self._tick()

    # -- reporting ------------------------------------------------------------------------
    def _report(self, state: State, wall: float) -> dict[str, Any]:
        counts = state.counts()
        totals = state.totals()
        return {
            "out": str(self.opts.out), "run": state.run, "engine": self.engine,
            "model": self.settings.model if self.engine != "extractive" else None,
            "items": sum(counts.values()), "duplicate_inputs": self.live.duplicates,
            "done": counts[DONE], "failed": counts[FAILED], "skipped": counts[SKIPPED], "pending": counts[PENDING],
            "this_run": {"finished": totals["finished"], "from_cache": totals["cached"]},
            "usage": {k: totals[k] for k in ("requests", "prompt_tokens", "completion_tokens", "cost_usd")},
            "failures": state.reasons(FAILED), "skips": state.reasons(SKIPPED),
            "wall_time_s": round(wall, 3),
            "items_per_s": round(totals["finished"] / wall, 3) if wall > 0 else None,
            "interrupted": self.live.interrupted, "budget_reached": self.budget.reached,
            "max_cost": self.opts.max_cost,
        }

    def _dry_run(self) -> dict[str, Any]:
        """Expand the inputs and say what a real run would do; write nothing, fetch no article."""
        mem = State(Path(":memory:"))
        try:
            self._expand_into(mem)
            known = read_statuses(self.opts.out / STATE_DIR / "state.db")
            todo: list[str] = []
            counts = {DONE: 0, FAILED: 0, SKIPPED: 0, PENDING: 0}
            for item, _ in mem.pending():
                status = known.get(item.key, PENDING)
                if status == FAILED and self.opts.retry_failed:
                    status = PENDING
                counts[status] += 1
                if status == PENDING and len(todo) < 20:
                    todo.append(item.source)
            return {"dry_run": True, "out": str(self.opts.out), "engine": self.engine, "items": self.live.total,
                    "duplicate_inputs": self.live.duplicates, "to_process": counts[PENDING], "done": counts[DONE],
                    "failed": counts[FAILED], "skipped": counts[SKIPPED], "first": todo,
                    "llm_calls_at_most": counts[PENDING] if self.engine != "extractive" else 0}
        finally:
            mem.close()


def _lock(path: Path) -> Any:
    """Hold an exclusive lock on the output dir for the whole run (released by the OS if we die)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fh = path.open("a")
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no lock
        return fh
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        fh.close()
        raise TakeawaysError(f"another batch run is using {path.parent.parent}; wait for it or use another --out") from exc
    return fh


def _write_files(out: Path, stem: str, rendered: dict[str, str]) -> None:
    for ext, text in rendered.items():
        atomic_write(out / f"{stem}.{ext}", text)


def run(sources_: list[str], settings: Settings, options: BatchOptions, **kwargs: Any) -> dict[str, Any]:
    """Run a batch job; returns the report (also written to OUT/report.json)."""
    unknown = [f for f in options.formats if f not in FORMATS]
    if unknown:
        raise TakeawaysError(f"unknown format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    return BatchRun(sources_, settings, options, **kwargs).run()


def exit_code(report: dict[str, Any]) -> int:
    """0: every item done or skipped; 1: some failed (or left pending by the budget); 130: interrupted."""
    if report.get("interrupted"):
        return 130
    if report.get("dry_run"):
        return 0
    return 1 if report["failed"] or report["pending"] else 0


def summary(report: dict[str, Any]) -> str:
    """The human summary printed at the end of a run."""
    if report.get("dry_run"):
        lines = [f"Dry run: {report['items']} item(s) ({report['duplicate_inputs']} duplicate input(s) dropped): "
                 f"{report['to_process']} to process, {report['done']} done, {report['failed']} failed, "
                 f"{report['skipped']} skipped in earlier runs; at most {report['llm_calls_at_most']} LLM call(s)."]
        lines += [f"  {s}" for s in report["first"]]
        if report["to_process"] > len(report["first"]):
            lines.append(f"  … and {report['to_process'] - len(report['first'])} more")
        return "\n".join(lines)
    u = report["usage"]
    lines = [
        f"{report['items']} item(s): {report['done']} done, {report['skipped']} skipped, {report['failed']} failed"
        + (f", {report['pending']} not processed" if report["pending"] else "")
        + (f" ({report['duplicate_inputs']} duplicate input(s) dropped)" if report["duplicate_inputs"] else ""),
        f"this run: {report['this_run']['finished']} finished ({report['this_run']['from_cache']} from cache) in "
        f"{report['wall_time_s']:.1f} s, {report['items_per_s'] or 0:.2f} items/s; "
        f"{u['requests']} LLM request(s), {u['prompt_tokens'] + u['completion_tokens']:,} tokens, ${u['cost_usd']:.4f}",
    ]
    for title, groups in (("failed", report["failures"]), ("skipped", report["skips"])):
        for g in groups:
            lines.append(f"  {title} {g['count']}× {g['reason']}  e.g. {', '.join(g['examples'])}")  # noqa: RUF001 - a multiplication sign
    if report["budget_reached"]:
        lines.append(f"Stopped: --max-cost {report['max_cost']} reached; raise it and rerun to continue.")
    if report["interrupted"]:
        lines.append("Interrupted: finished items are saved; rerun the same command to continue.")
    elif report["failed"]:
        lines.append("Rerun with --retry-failed to retry the failed items.")
    lines.append(f"Results: {report['out']}/{RESULTS}, report: {report['out']}/{REPORT}")
    return "\n".join(lines)
