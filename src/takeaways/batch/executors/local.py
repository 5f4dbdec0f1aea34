"""The local executor: one process, asyncio.

Fetching in a thread pool with a per-host semaphore, extraction in a process pool (CPU-bound),
generation on the event loop (the async openai client) bounded by --concurrency and the
optional --rpm/--tpm limiters (aiolimiter) and the run-wide --max-cost budget. Fetches are
retried under retry.py; LLM requests are retried by the engine under the same policy, never here. Ctrl-C or SIGTERM: start no new item, cancel the ones in
flight; what finished is still yielded (and so committed).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from typing import TypeVar
from urllib.parse import urlsplit

from ...config import Settings
from ...errors import ConfigError, SourceError
from ...models import Article, Digest, Page, Spec, Usage
from ..budget import Budget, estimate_cost
from ..stages import load_page
from ..work import DONE, Outcome, WorkItem, failed
from . import Context, Status

T = TypeVar("T")
SHARE_MODEL_ABOVE = 2  # extraction workers above which the runner loads the language model before forking


def make(ctx: Context) -> LocalExecutor:
    return LocalExecutor(ctx)


def _init_worker() -> None:  # pragma: no cover - runs in the extraction processes
    """Extraction processes ignore Ctrl-C (the runner handles it) and die with the runner, even on kill -9.

    Each imports the extraction stack itself (trafilatura, ~0.5 s), in parallel with the runner
    importing the LLM engine, instead of the runner importing it before forking."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform == "linux":
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
        if os.getppid() == 1:  # the runner died before prctl
            os._exit(1)
    from ... import extraction, langid  # noqa: F401 - warm up

    langid.warm_up()  # at once if the runner loaded it before forking


def _noop() -> None:  # pragma: no cover - runs in the extraction processes
    pass


def extract(page: Page, settings: Settings) -> Article:
    """The extraction stage, by a name the runner can pickle without importing trafilatura itself."""
    from ...extraction import extract_page

    return extract_page(page, settings)


def offline(article: Article, settings: Settings) -> Digest:
    """The offline engine, verified (in a worker process: pure CPU)."""
    from ... import api

    return api.generate(article, settings)


def check(raw: Digest, article: Article, settings: Settings) -> Digest:
    """An LLM answer verified, support-checked and filled (in a worker process: pure CPU)."""
    from ... import api

    return api.checked(raw, article, settings)


def extraction_pool(workers: int | None) -> Executor:
    """Processes for the CPU-bound extraction (threads when workers == 0).

    Forked while this process is still single-threaded (before the event loop and the fetch
    threads), so the workers start at once; spawned otherwise (fork is unsafe once threads run).
    """
    n = workers if workers is not None else (os.cpu_count() or 1)
    if n == 0:
        return ThreadPoolExecutor(max_workers=2, thread_name_prefix="extract")
    method = "fork" if sys.platform == "linux" and threading.active_count() == 1 else "spawn"
    if method == "fork" and n > SHARE_MODEL_ABOVE:
        # The language model (~120 MB) loaded before forking is shared by every worker; with few
        # workers each loads its own instead, in parallel with the runner's start-up (faster start).
        from ... import langid

        langid.warm_up()
    pool = ProcessPoolExecutor(max_workers=n, initializer=_init_worker, mp_context=multiprocessing.get_context(method))
    pool.submit(_noop)  # fork every worker now, before any thread exists (they warm up on their own)
    return pool


class _OverBudget(Exception):
    """Not started: the run-wide budget is spent (the item stays pending)."""


class LocalExecutor:
    def __init__(self, ctx: Context) -> None:
        from ...engines import get_engine

        self.ctx = ctx
        self.spec = Spec(takeaways=ctx.settings.takeaways, questions=ctx.settings.questions, language=ctx.settings.lang)
        self.opts = ctx.options
        self.settings = ctx.settings
        self.engine = self.settings.resolved_engine()
        self.status = Status()
        self.budget = Budget(self.opts.max_cost)
        self.cpu_pool = extraction_pool(self.opts.workers)  # first: it forks, and no thread may run yet
        # Then the LLM engine (~1 s to import openai), here on the main thread, while the extraction
        # processes warm up on the other cores. (In a thread it overlapped with the event loop but
        # fought it for the GIL: measured slower to the first request.)
        self.llm = get_engine(self.engine)
        self.tasks: set[asyncio.Task[Outcome | None]] = set()

    def close(self) -> None:
        self.cpu_pool.shutdown(wait=True, cancel_futures=True)

    async def run(self, items: Iterable[WorkItem]) -> AsyncIterator[Outcome]:
        from aiolimiter import AsyncLimiter

        from ... import sources

        loop = asyncio.get_running_loop()
        opts = self.opts
        self.gen_sem = asyncio.Semaphore(opts.concurrency)
        self.holding: set[str] = set()  # items holding an LLM slot until their outcome is committed
        self.host_sems: dict[str, asyncio.Semaphore] = {}
        self.rpm = AsyncLimiter(opts.rpm, 60) if opts.rpm else None
        self.tpm = AsyncLimiter(opts.tpm, 60) if opts.tpm else None
        slots = asyncio.Semaphore(opts.concurrency * 2 + 2)  # items in flight: generation plus prefetch
        self.fetch_pool = ThreadPoolExecutor(max_workers=min(64, opts.concurrency * 2 + 2), thread_name_prefix="fetch")
        self.client = sources.http_client(self.settings)
        done: asyncio.Queue[Outcome | None] = asyncio.Queue()
        for signum in (signal.SIGINT, signal.SIGTERM):  # Ctrl-C, or a scheduler stopping the job
            with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread / Windows
                loop.add_signal_handler(signum, self._interrupt)

        def finished(t: asyncio.Task[Outcome | None]) -> None:
            self.tasks.discard(t)
            slots.release()
            if not t.cancelled() and t.exception() is None and (o := t.result()) is not None:
                done.put_nowait(o)

        source = iter(items)
        # The items come from the journal as the inputs are expanded (a sitemap download, SQLite):
        # pulled in a thread of their own, so the event loop never waits for them.
        puller = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inputs")

        async def feed() -> None:
            try:
                while True:
                    await slots.acquire()
                    item = await loop.run_in_executor(puller, next, source, None)
                    if item is None or self._stopped():
                        slots.release()
                        break
                    task = asyncio.create_task(self._process(item))
                    self.tasks.add(task)
                    task.add_done_callback(finished)
                while self.tasks:
                    await asyncio.gather(*list(self.tasks), return_exceptions=True)
            finally:
                done.put_nowait(None)

        feeder = asyncio.create_task(feed())
        try:
            while (outcome := await done.get()) is not None:
                yield outcome
                self._release(outcome.key)  # committed by now: its LLM slot is free
            await feeder
        finally:
            feeder.cancel()
            self._cancel_in_flight()
            with contextlib.suppress(BaseException):
                await asyncio.gather(feeder, *list(self.tasks), return_exceptions=True)
            from ...client import aclose_shared_clients

            await aclose_shared_clients()
            for signum in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(signum)
            self.client.close()
            self.fetch_pool.shutdown(wait=False, cancel_futures=True)
            puller.shutdown(wait=False)  # an expansion still running stops when the journal closes

    def _stopped(self) -> bool:
        return self.status.interrupted or self.budget.reached or self.status.fatal is not None

    def _interrupt(self) -> None:
        """Ctrl-C (or SIGTERM): start no new item, cancel the ones in flight; finished items are still yielded."""
        if self.status.interrupted:  # a second Ctrl-C: leave now (state stays consistent, see journal)
            os._exit(130)
        self.status.interrupted = True
        self._cancel_in_flight()

    def _cancel_in_flight(self) -> None:
        current = asyncio.current_task()
        for task in list(self.tasks):
            if task is not current:
                task.cancel()

    async def _retrying(self, attempts: list[int], fn: Callable[[], Awaitable[T]]) -> T:
        """A stage under the one retry policy (retry.py), counting its attempts."""
        from ... import retry

        async def once() -> T:
            attempts[0] += 1
            return await fn()

        return await retry.acall(once, self.settings)

    def _release(self, key: str) -> None:
        """Free the LLM slot an item took in _generate (once its outcome is committed, or it has none)."""
        if key in self.holding:
            self.holding.discard(key)
            self.gen_sem.release()

    async def _process(self, item: WorkItem) -> Outcome | None:
        attempts = [0]
        outcome: Outcome | None = None
        try:
            outcome = await self._stages(item, attempts)
        except ConfigError as exc:  # a setup problem, not this item's: stop the run, leave the items pending
            self.status.fatal = self.status.fatal or exc
            self._cancel_in_flight()
        except _OverBudget:
            pass
        except (asyncio.CancelledError, KeyboardInterrupt):
            self._release(item.key)
            raise
        except Exception as exc:  # one bad item must not end a run of thousands
            outcome = failed(item, exc, attempts=attempts[0])
        if outcome is None:
            self._release(item.key)
        return outcome

    async def _stages(self, item: WorkItem, attempts: list[int]) -> Outcome:
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

        page = await self._retrying(attempts, fetch)
        article = await loop.run_in_executor(self.cpu_pool, extract, page, self.settings)
        if (known := self.ctx.lookup(item, article)) is not None:
            return known.with_(attempts=attempts[0])
        if self.engine == "extractive":  # CPU only: in the worker processes, beside the extraction
            attempts[0] += 1
            digest = await loop.run_in_executor(self.cpu_pool, offline, article, self.settings)
        else:
            digest = await self._generate(item.key, article, attempts)
        return Outcome(item.key, DONE, digest=digest, article=article, usage=digest.usage, attempts=attempts[0])

    async def _generate(self, key: str, article: Article, attempts: list[int]) -> Digest:
        """The LLM's answer, checked, under the concurrency bound, the limiters and the budget.

        The slot taken here is freed only once the item's outcome is committed (`run` after the
        yield; `_process` when there is none): a kill -9 then loses at most --concurrency paid
        answers, however slowly the disk takes the commits."""
        await self.gen_sem.acquire()
        self.holding.add(key)
        estimate = estimate_cost(article, self.spec, self.settings) if self.budget.limit is not None else 0.0
        if not self.budget.reserve(estimate):
            self.status.budget_reached = True
            raise _OverBudget
        try:
            if self.rpm is not None:
                await self.rpm.acquire()
            if self.tpm is not None:
                tokens = min(len(article.text) // 4 + self.settings.max_output_tokens, self.opts.tpm or 1)
                await self.tpm.acquire(tokens)
            # No retry here: the engine retries each request under retry.py (nothing stacks);
            # a failure carries what its attempts cost in `.usage`.
            attempts[0] += 1
            raw = await self.llm.agenerate(article, self.spec, self.settings)  # type: ignore[attr-defined]
        except BaseException as exc:
            self.budget.settle(estimate, getattr(exc, "usage", Usage()).cost_usd)
            raise
        self.budget.settle(estimate, raw.usage.cost_usd)
        # Verification, the support check and fill are CPU work: in a worker process, so the
        # event loop goes on sending.
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.cpu_pool, check, raw, article, self.settings)

__all__ = ["LocalExecutor", "extraction_pool", "make"]
