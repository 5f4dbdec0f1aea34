"""One batch run: inputs → journal → executor → journal → report."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from ..config import Settings
from ..errors import TakeawaysError
from ..fsutil import atomic_write
from . import executors, report
from .journal import Journal
from .options import REPORT, STATE_DIR, BatchOptions
from .progress import Progress
from .state import PENDING, State, read_statuses
from .work import DONE, FAILED, SKIPPED, Outcome, WorkItem


def run(sources_: list[str], settings: Settings, options: BatchOptions, *, stdin: BinaryIO | None = None,
        progress_stream: TextIO | None = None) -> dict[str, Any]:
    """Run a batch job; returns the report (also written to OUT/report.json)."""
    from ..rendering import FORMATS

    unknown = [f for f in options.formats if f not in FORMATS]
    if unknown:
        raise TakeawaysError(f"unknown format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    settings = settings.with_(max_cost=None, dry_run=False)  # the run-wide budget is the executor's
    if options.dry_run:
        return dry_run(sources_, settings, options, stdin=stdin)
    factory = executors.load(options.executor)  # unknown or not installed: say so before writing anything
    if options.parquet:
        from .. import parquet

        parquet.require()  # pyarrow missing: say so before the run, not after it
    started = time.monotonic()
    engine = settings.resolved_engine()
    # The offline engine is cheaper to rerun than to cache, and a cached result would hide its fixes.
    journal = Journal(options, settings, use_cache=options.use_cache and engine != "extractive")
    executor: executors.Executor | None = None
    progress = Progress(options.progress, options.progress_interval, progress_stream)
    try:
        # The executor first: the local one forks its extraction processes (no thread may run yet)
        # and warms the LLM engine up in a thread while the inputs are expanded.
        executor = factory(executors.Context(options=options, settings=settings, lookup=journal.lookup,
                                             progress=progress))
        progress.start(0)  # the total grows as the inputs are expanded, while the first items run
        try:
            _drive(executor, journal, _expand(sources_, settings, stdin), progress)
        finally:
            progress.total = journal.total
            progress.update(journal.counts, journal.tokens, journal.cost, journal.finished_now, force=True)
            progress.stop()
        if options.parquet:  # from the journal's results, so it describes every run into this DIR
            from .. import parquet

            parquet.write(options.out)
        if executor.status.fatal is not None:  # e.g. no API key: every item would fail the same way
            raise executor.status.fatal
        result = report.build(journal, executor.status, engine, time.monotonic() - started, options.executor)
        atomic_write(options.out / REPORT, json.dumps(result, indent=2) + "\n")
        return result
    finally:
        if executor is not None:
            executor.close()
        journal.close()


def _drive(executor: executors.Executor, journal: Journal, inputs: Iterable[Any], progress: Progress) -> None:
    """Feed the pending items to the executor as the inputs are expanded; commit each outcome it yields."""
    inflight: dict[str, WorkItem] = {}

    def feed() -> Iterator[WorkItem]:
        for item in journal.pending(inputs):
            inflight[item.key] = item
            yield item

    def commit(outcome: Outcome) -> None:
        item = inflight.pop(outcome.key, None)
        if item is not None and journal.commit(item, outcome):
            progress.total = journal.total
            progress.update(journal.counts, journal.tokens, journal.cost, journal.finished_now)

    stream = executor.run(feed())
    if isinstance(stream, AsyncIterator):
        async def drain(outcomes: AsyncIterator[Outcome]) -> None:
            async with contextlib.aclosing(outcomes):  # type: ignore[type-var]
                async for outcome in outcomes:
                    commit(outcome)

        asyncio.run(drain(stream))
    else:
        with contextlib.closing(stream):  # type: ignore[type-var]
            for outcome in stream:
                commit(outcome)


def _expand(sources_: list[str], settings: Settings, stdin: BinaryIO | None) -> Iterable[Any]:
    from .. import inputs, sources

    client = sources.http_client(settings)
    try:
        yield from inputs.expand(sources_, settings, stdin=stdin, client=client)
    finally:
        client.close()


def dry_run(sources_: list[str], settings: Settings, options: BatchOptions, *,
            stdin: BinaryIO | None = None) -> dict[str, Any]:
    """Expand the inputs and say what a real run would do; write nothing, fetch no article."""
    engine = settings.resolved_engine()
    mem = State(Path(":memory:"))
    total = duplicates = 0
    try:
        for item in _expand(sources_, settings, stdin):
            if options.limit is not None and total >= options.limit:
                break
            if mem.add(item):
                total += 1
            else:
                duplicates += 1
        mem.flush()
        known = read_statuses(options.out / STATE_DIR / "state.db")
        todo: list[str] = []
        counts = {DONE: 0, FAILED: 0, SKIPPED: 0, PENDING: 0}
        for item, _ in mem.pending():
            status = known.get(item.key, PENDING)
            if status == FAILED and options.retry_failed:
                status = PENDING
            counts[status] += 1
            if status == PENDING and len(todo) < 20:
                todo.append(item.source)
        result = {"dry_run": True, "out": str(options.out), "engine": engine, "items": total,
                  "duplicate_inputs": duplicates, "to_process": counts[PENDING], "done": counts[DONE],
                  "failed": counts[FAILED], "skipped": counts[SKIPPED], "first": todo,
                  "llm_calls_at_most": counts[PENDING] if engine != "extractive" else 0}
        if options.executor == "batch-api":  # loads and extracts the pending items to count requests and tokens
            from .executors import batchapi

            pending = [WorkItem.of(item, settings) for item, _ in mem.pending()
                       if (known.get(item.key, PENDING) == PENDING or (options.retry_failed and known[item.key] == FAILED))]
            ctx = executors.Context(options=options, settings=settings, lookup=lambda item, article: None)
            result["batch_api"] = batchapi.dry_run(pending, ctx)
        return result
    finally:
        mem.close()
