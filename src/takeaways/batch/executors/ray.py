"""The Ray executor: fetch + extract as Ray Data tasks, the LLM in a pool of async actors, one coordinator.

    pending work items ──► prepare  (a Ray Data pipeline of tasks, one CPU each: fetch + extract)
                       ──► generate (a pool of async actors, num_cpus=0, many requests in flight
                                     per actor; verification, support check and fill in a thread
                                     of the actor after the request's slot is free)
                       ──► streamed back to the driver: one Outcome per item, which the runner
                           commits through the journal as it arrives

- The generate actors, the coordinator and one warm-up task per CPU start in `make()`, while
  the runner expands the inputs and Ray Data plans: the first block finds every process warm
  (imports done, language model loaded). The actors live for the whole run; each window of items
  is a Ray Data execution of the prepare stage, whose output blocks go to the actors by
  reference (the driver never loads a prepared article; it only sees the outcomes).
- Every row comes back as an `Outcome` (done / skipped / failed with a reason): the stages catch
  page and provider errors at the item boundary and never raise them into Ray. A second outcome of
  a key is dropped here, and the journal would ignore it anyway.
- The driver keeps the state. The cache / duplicate-content gate (`ctx.lookup`, the journal's)
  runs in the driver process: a generate actor asks it through the coordinator before spending an
  LLM call, and a driver thread answers. No worker opens the driver's files.
- One `Coordinator` actor per run holds --concurrency, --rpm, --tpm and --max-cost for every actor
  on every node. Each generate actor's HTTP client has two hooks: before every request it waits
  while the coordinator is paused; a 429 with Retry-After pauses it, so every actor waits, not just
  the one that got it. The budget is reserved (an upper-bound estimate) before a request and
  settled with what it cost after, as the local executor's; an item over budget stays pending.
- Items go to Ray in windows (`RayPlan.window` items or `window_bytes` of items, whichever comes
  first: WARC items carry their HTML), so the driver never holds a whole crawl.

Ray is optional (`pip install 'takeaways[ray]'`); the registry imports this module only when
`--executor ray` is chosen. `--ray-address` (none: a local Ray on this machine; `auto`, HOST:PORT,
ray://HOST:10001). This module imports only Ray at the top, so the coordinator's process stays light.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import pickle
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

# Imported here, so that without the extra the registry says "--executor ray needs ray: pip install
# 'takeaways[ray]'" before the run writes anything (this module is only imported when chosen).
import ray

from ...config import Settings
from ...errors import ConfigError
from . import Context, Status

if TYPE_CHECKING:
    from ...models import Article
    from ..work import Outcome, WorkItem

NAMESPACE = "takeaways"

Lookup = Callable[["WorkItem", "Article"], "Outcome | None"]


def import_ray() -> Any:
    return ray


def import_ray_data() -> Any:
    """Ray Data (the driver and the prepare tasks need it; the actors do not)."""
    try:
        import ray.data
    except ModuleNotFoundError as exc:  # ray without its data extra (pyarrow)
        raise ConfigError(f"--executor ray needs {exc.name}: pip install 'takeaways[ray]'") from exc
    return ray.data


def connect(address: str | None) -> dict[str, Any]:
    """Join the cluster at `address` (auto, HOST:PORT, ray://HOST:10001) or start a local Ray.

    Reuses a Ray this process already started. Returns nodes and CPUs for the report.
    """
    ray = import_ray()
    import importlib.util

    if importlib.util.find_spec("pyarrow") is None:  # said before Ray starts (Ray Data needs it)
        raise ConfigError("--executor ray needs pyarrow: pip install 'takeaways[ray]'")
    started = time.monotonic()
    if not ray.is_initialized():
        try:
            if address:
                ray.init(address=address, namespace=NAMESPACE, log_to_driver=False, logging_level="warning")
            else:
                ray.init(namespace=NAMESPACE, include_dashboard=False, log_to_driver=False, logging_level="warning")
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = address or "a local Ray"
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ConfigError(f"cannot start or join Ray at {where} ({first}); check --ray-address (auto, "
                              "HOST:PORT, ray://HOST:10001) and that the cluster is up") from exc
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    return {"address": address or "local", "nodes": len(nodes),
            "cpus": int(sum(n.get("Resources", {}).get("CPU", 0) for n in nodes)),
            "start_s": round(time.monotonic() - started, 3)}


def quiet_ray_data() -> None:
    import logging

    # No per-dataset lines on the user's terminal. Ray Data sets its logger up again for every
    # execution, from its config unless RAY_DATA_LOG_LEVEL says otherwise (a user's value is kept).
    os.environ.setdefault("RAY_DATA_LOG_LEVEL", "ERROR")
    logging.getLogger("ray.data").setLevel(os.environ["RAY_DATA_LOG_LEVEL"])
    ctx = import_ray_data().DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.verbose_stats_logs = False


# -- the cluster-global coordinator: limiter, budget, gate relay ------------------------------

class Coordinator:
    """--concurrency / --rpm / --tpm / --max-cost for the whole cluster, the shared pause after a
    429, and the relay of the generate actors' lookups to the driver thread that answers them."""

    def __init__(self, concurrency: int, rpm: int | None, tpm: int | None, max_cost: float | None) -> None:
        from aiolimiter import AsyncLimiter

        self.sem = asyncio.Semaphore(concurrency)
        self.rpm = AsyncLimiter(rpm, 60) if rpm else None
        self.tpm = AsyncLimiter(tpm, 60) if tpm else None
        self.paused_until = 0.0
        self.pauses = 0
        self.in_flight = 0
        self.peak = 0
        self.waited = 0  # requests held back by a pause
        from ..budget import Budget  # the local executor's: reserve an estimate, settle with the cost

        self.budget = Budget(max_cost)
        # the gate relay
        self.queue: asyncio.Queue[tuple[int, bytes]] | None = None
        self.waiters: dict[int, asyncio.Future[bytes | None]] = {}
        self.n = 0

    def ready(self) -> bool:
        return True

    # limiter
    async def acquire(self, tokens: int) -> None:
        """Before an article's generation: a concurrency slot, then its share of --rpm / --tpm."""
        await self.sem.acquire()
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        if self.rpm is not None:
            await self.rpm.acquire()
        if self.tpm is not None:
            await self.tpm.acquire(min(tokens, int(self.tpm.max_rate)))

    def release(self) -> None:
        self.in_flight -= 1
        self.sem.release()

    async def wait(self) -> None:
        """Before every HTTP request: return once no pause is in force."""
        held = False
        while (delay := self.paused_until - time.monotonic()) > 0:
            held = True
            await asyncio.sleep(delay)
        self.waited += held

    def pause(self, seconds: float) -> None:
        """A provider said 429 with Retry-After: nobody sends for that long."""
        self.paused_until = max(self.paused_until, time.monotonic() + seconds)
        self.pauses += 1

    # budget (batch/budget.py, as the local executor keeps it), called remotely by the actors
    def reserve(self, estimate: float) -> bool:
        return self.budget.reserve(estimate)

    def settle(self, estimate: float, actual: float) -> None:
        self.budget.settle(estimate, actual)

    def stats(self) -> dict[str, Any]:
        out: dict[str, Any] = {"pauses": self.pauses, "peak_in_flight": self.peak, "held_by_pause": self.waited}
        b = self.budget
        if b.limit is not None:
            out.update(budget_usd=b.limit, spent_usd=round(b.spent, 6), budget_reached=b.reached)
        return out

    # gate relay
    def _q(self) -> asyncio.Queue[tuple[int, bytes]]:
        if self.queue is None:
            self.queue = asyncio.Queue()
        return self.queue

    async def ask(self, question: bytes) -> bytes | None:
        self.n += 1
        fut: asyncio.Future[bytes | None] = asyncio.get_running_loop().create_future()
        self.waiters[self.n] = fut
        self._q().put_nowait((self.n, question))
        return await fut

    async def take(self, most: int, timeout: float) -> list[tuple[int, bytes]]:
        q = self._q()
        try:
            first = await asyncio.wait_for(q.get(), timeout)
        except TimeoutError:
            return []
        out = [first]
        while len(out) < most and not q.empty():
            out.append(q.get_nowait())
        return out

    def answer(self, answers: list[tuple[int, bytes | None]]) -> None:
        for rid, result in answers:
            fut = self.waiters.pop(rid, None)
            if fut is not None and not fut.done():
                fut.set_result(result)


class _GateServer(threading.Thread):
    """Driver thread: takes lookups from the coordinator, answers them with the driver's `lookup`."""

    def __init__(self, ray: Any, coordinator: Any, lookup: Lookup) -> None:
        super().__init__(name="ray-gate", daemon=True)
        self.ray, self.coordinator, self.lookup = ray, coordinator, lookup
        self.stopping = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                asks = self.ray.get(self.coordinator.take.remote(256, 0.2))
                answers = []
                for rid, blob in asks:
                    item, article = pickle.loads(blob)
                    hit = self.lookup(item, article)
                    answers.append((rid, pickle.dumps(hit) if hit is not None else None))
                if answers:
                    self.coordinator.answer.remote(answers)
        except BaseException as exc:  # reported by the driver after the run
            if not self.stopping.is_set():
                self.error = exc


# -- the stages --------------------------------------------------------------------------------

def _node() -> str:
    """This worker's node: the first 8 hex digits of its node id (the report adds its address)."""
    return str(ray.get_runtime_context().get_node_id())[:8]


def warm_up() -> int:
    """A CPU worker's start (a task per CPU in make()): the extraction stack imported, the language
    model loaded. Ray reuses the process for the prepare tasks of the same job."""
    import ray.data  # noqa: F401 - the prepare tasks run inside Ray Data's map code

    from ... import extraction, langid, sources  # noqa: F401
    from .. import stages  # noqa: F401

    langid.warm_up()
    return os.getpid()


def _prepare_one(item: WorkItem, client: Any, attempts: int) -> Outcome | tuple[WorkItem, Article, int, Any]:
    """Fetch (transient errors retried under retry.py, like the local executor) and extract one item;
    with the offline engine, generate too (its digest is used if the driver's gate lets it through)."""
    from ... import retry
    from ...errors import SourceError
    from ...extraction import extract_page
    from ..stages import load_page
    from ..work import failed

    tries = 0
    try:
        if item.error is not None:  # the input (a sitemap, a list line) could not be read
            raise SourceError(item.error)

        def fetch() -> Any:
            nonlocal tries
            tries += 1
            return load_page(item, item.options, client)

        page = retry.call(fetch, item.options, attempts=attempts)
        article = extract_page(page, item.options)
    except Exception as exc:  # the item boundary: every row comes back as an outcome
        return failed(item, exc, attempts=tries)
    if item.options.resolved_engine() == "extractive":  # the offline engine is CPU only: here, not in an actor
        from ... import api

        try:
            return item, article, tries, api.generate(article, item.options)
        except Exception as exc:
            return failed(item, exc, attempts=tries + 1).with_(article=article)
    return item, article, tries, None


def prepare(batch: Any, settings: Settings, attempts: int) -> Any:
    """Ray Data UDF (a task, one CPU): fetch + extract each item of the batch (+ the offline engine)."""
    import pyarrow as pa

    from ...sources import http_client
    from ..work import Outcome

    node = _node()
    out = []
    with http_client(settings) as client:
        for blob in batch.column("p").to_pylist():
            res = _prepare_one(pickle.loads(blob), client, attempts)
            out.append(pickle.dumps(res.with_(worker=node) if isinstance(res, Outcome) else (*res, node)))
    return pa.table({"p": pa.array(out, pa.binary())})


OVER_BUDGET, FATAL, OUTCOME = "budget", "fatal", "outcome"


class Generate:
    """A generate actor (async, num_cpus=0): the gate, then the LLM under the coordinator's limits.

    Lives for the whole run; takes prepared blocks by reference and returns, per row, an outcome
    (or: over budget, the item stays pending; or: a setup error that ends the run)."""

    def __init__(self, settings: Settings, coordinator: Any, budgeted: bool) -> None:
        from ... import api  # noqa: F401 - warm up: the engine, verification, support check
        from ...engines import get_engine
        from ..work import Outcome  # noqa: F401

        self.settings = settings
        self.coordinator = coordinator
        self.engine_name = settings.resolved_engine()
        self.engine = get_engine(self.engine_name)
        self.budgeted = budgeted  # --max-cost: estimate each article's cost (else nothing to reserve)
        self.installed: asyncio.AbstractEventLoop | None = None
        self.name = f"pid {os.getpid()}"

    def ready(self) -> str:
        return self.name

    def _install_client(self) -> None:
        """This loop's shared openai client, with the coordinator's hooks on every HTTP request."""
        import openai

        from ... import retry
        from ...client import install_shared_async_client, make_client

        coordinator = self.coordinator

        async def before(request: Any) -> None:
            await coordinator.wait.remote()

        async def after(response: Any) -> None:
            if response.status_code == 429 and (delay := retry.retry_after_header(response.headers) or 0) > 0:
                await coordinator.pause.remote(delay)

        base = make_client(self.settings, async_=True)
        client = base.with_options(http_client=openai.DefaultAsyncHttpxClient(
            event_hooks={"request": [before], "response": [after]}))
        install_shared_async_client(self.settings, client)
        self.installed = asyncio.get_running_loop()

    async def run(self, block: Any, start: int, end: int | None) -> list[tuple[str, Any]]:
        from ...errors import ConfigError

        rows = [pickle.loads(b) for b in block.column("p").to_pylist()[start:end]]
        if self.installed is not asyncio.get_running_loop() and self.engine_name != "extractive":
            try:
                self._install_client()
            except ConfigError as exc:  # no API key: every item would fail alike; the run stops
                return [(FATAL, str(exc))] * len(rows)
        return list(await asyncio.gather(*(self._one(r) for r in rows)))

    async def _one(self, row: Outcome | tuple[WorkItem, Article, int, Any, str]) -> tuple[str, Any]:
        from ...errors import ConfigError
        from ..work import DONE, Outcome, failed

        if isinstance(row, Outcome):
            return OUTCOME, pickle.dumps(row)
        item, article, tries, offline, node = row
        worker = f"{node} {self.name}"
        try:
            hit = await self.coordinator.ask.remote(pickle.dumps((item, article)))
            if hit is not None:
                known: Outcome = pickle.loads(hit)
                return OUTCOME, pickle.dumps(known.with_(attempts=tries, worker=node))
            if offline is not None:  # the offline engine's digest, made in the prepare task
                digest = offline
            else:
                raw = await self._generate(item, article)
                if raw is None:
                    return OVER_BUDGET, item.key
                digest = await asyncio.to_thread(self._check, raw, article, item.options)
            return OUTCOME, pickle.dumps(Outcome(item.key, DONE, digest=digest, article=article, usage=digest.usage,
                                                 attempts=tries + 1, worker=worker))
        except ConfigError as exc:  # a setup problem (no API key): every item would fail alike
            return FATAL, str(exc)
        except Exception as exc:  # the item boundary: a provider error becomes a failed row
            return OUTCOME, pickle.dumps(failed(item, exc, attempts=tries + 1, worker=worker).with_(article=article))

    @staticmethod
    def _check(raw: Any, article: Article, settings: Settings) -> Any:
        from ... import api

        return api.checked(raw, article, settings)

    async def _generate(self, item: WorkItem, article: Article) -> Any:
        """The LLM's raw answer under the concurrency slot, the rate limits and the budget (None: over
        budget). The engine retries each request under retry.py; nothing retries on top."""
        from ...models import Spec, Usage
        from ..budget import estimate_cost

        settings = item.options
        spec = Spec(takeaways=settings.takeaways, questions=settings.questions, language=settings.lang)
        tokens = len(article.text) // 4 + settings.max_output_tokens
        await self.coordinator.acquire.remote(tokens)
        try:
            estimate = estimate_cost(article, spec, settings) if self.budgeted else 0.0
            if not await self.coordinator.reserve.remote(estimate):
                return None
            try:
                raw = await self.engine.agenerate(article, spec, settings)  # type: ignore[attr-defined]
            except BaseException as exc:
                await self.coordinator.settle.remote(estimate, (getattr(exc, "usage", None) or Usage()).cost_usd)
                raise
            await self.coordinator.settle.remote(estimate, raw.usage.cost_usd)
            return raw
        finally:
            await self.coordinator.release.remote()


# -- the driver --------------------------------------------------------------------------------

@dataclass
class RayPlan:
    """How hard to push: the same knobs as the local executor, plus the pool shape."""

    concurrency: int = 8
    rpm: int | None = None
    tpm: int | None = None
    max_cost: float | None = None
    actors: int = 1  # generate actors (num_cpus=0; each keeps many requests in flight)
    block_rows: int = 4  # items per block: small blocks stream back soon and spread well
    window: int = 20_000  # items per Ray Data execution: bounds what the driver holds at once
    window_bytes: int = 256 << 20  # ... and their pickled size (inline HTML from WARC files adds up)
    first_window: int = 1000  # ... or this many while no window runs (work starts before 20,000 are listed)
    attempts: int = 3  # fetch tries for transient errors: 1 + --max-retries (retry.py)

    def blocks_in_flight(self) -> int:
        """Prepared blocks handed to the actors at once: enough rows to keep every slot busy."""
        return max(2, math.ceil(3 * self.concurrency / self.block_rows)) + self.actors


@dataclass
class _Sent:
    window: int
    actor: int
    block: Any  # the prepared block's ref and rows: sent again if the actor died
    span: tuple[int, int | None]
    handle: Any  # the actor it went to
    tries: int = 1


class RayRun:
    """Run work items through the Ray pipeline; iterate `results()`; the figures fill in as it goes.

    `start()` starts the coordinator, the generate actors and the CPU warm-up at once (without
    waiting); `results()` starts them if nobody did; `close()` ends them."""

    def __init__(self, settings: Settings, plan: RayPlan, lookup: Lookup) -> None:
        self.ray = import_ray()
        self.settings = settings
        self.plan = plan
        self.lookup = lookup
        self.rows_per_node: dict[str, int] = {}
        self.duplicates = 0  # outcomes of an item that already came back (a re-run task), dropped
        self.limiter_stats: dict[str, Any] = {}
        self.first_outcome_s: float | None = None  # pipeline start-up as the driver sees it
        self.budget_reached = False
        self.fatal: str | None = None
        self.actors_replaced = 0  # generate actors that died (their node went away) and were replaced
        self.windows = 0  # Ray Data executions of the prepare stage (one per window of items)
        self._started = time.monotonic()
        self._stop = threading.Event()
        self.coordinator: Any = None
        self.actors: list[Any] = []
        self.warm: list[Any] = []

    def start(self) -> None:
        if self.coordinator is not None:
            return
        ray, plan = self.ray, self.plan
        self._started = time.monotonic()
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        # On the driver's node: the run's state already dies with that node, and no other node's
        # death may take the limits and the gate with it.
        here = NodeAffinitySchedulingStrategy(node_id=ray.get_runtime_context().get_node_id(), soft=True)
        self.coordinator = ray.remote(num_cpus=0, max_concurrency=10_000, scheduling_strategy=here)(
            Coordinator).remote(plan.concurrency, plan.rpm, plan.tpm, plan.max_cost)
        self.actors = [self._actor() for _ in range(plan.actors)]
        self._ready = [a.ready.remote() for a in self.actors]
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.warm = [ray.remote(num_cpus=1)(warm_up).remote() for _ in range(max(1, cpus))]

    def _actor(self) -> Any:
        # SPREAD: the actors go to different nodes (not all to the driver's), so one node's death
        # takes at most its share of the requests in flight.
        return self.ray.remote(num_cpus=0, max_concurrency=10_000, scheduling_strategy="SPREAD")(Generate).remote(
            self.settings, self.coordinator, self.plan.max_cost is not None)

    def _resend(self, info: _Sent, pending: dict[Any, _Sent]) -> None:
        """A generate actor died (its node went away): a new one takes its place and its blocks."""
        if info.tries >= 3:
            raise RuntimeError("a generate actor died three times on the same block; see the Ray logs")
        if self.actors[info.actor] is info.handle:  # its other blocks come here too: replace it once
            self.actors[info.actor] = self._actor()
            self.actors_replaced += 1
        handle = self.actors[info.actor]
        pending[handle.run.remote(info.block, *info.span)] = _Sent(info.window, info.actor, info.block, info.span,
                                                                   handle, info.tries + 1)

    def close(self) -> None:
        ray = self.ray
        for handle in [*self.actors, self.coordinator]:
            if handle is not None:
                with contextlib.suppress(Exception):
                    ray.kill(handle)
        self.actors, self.coordinator = [], None

    def stop(self) -> None:
        """Yield nothing more: the stream ends at the next row (what is in flight stays pending)."""
        self._stop.set()

    def results(self, items: Iterable[WorkItem]) -> Iterator[Outcome]:
        ray = self.ray
        owned = self.coordinator is None
        self.start()
        self._started = min(self._started, time.monotonic())
        quiet_ray_data()  # imports Ray Data (~1.5 s): after the actors started, not before
        server = _GateServer(ray, self.coordinator, self.lookup)
        server.start()
        sent: queue.Queue[tuple[Any, _Sent] | None] = queue.Queue()
        room = threading.Semaphore(self.plan.blocks_in_flight())
        load = [0] * len(self.actors)
        feeder = _Feeder(self, items, sent, room, load)
        feeder.start()
        pending: dict[Any, _Sent] = {}
        seen: dict[int, set[str]] = {}  # per window: a window's keys are distinct from every other's
        fed_all = False
        try:
            ray.get(self._ready)  # an actor that cannot start (a bad setting) says so here
            while not self._stop.is_set():
                wait = not pending and not fed_all  # nothing to collect: wait for the feeder
                with contextlib.suppress(queue.Empty):
                    while not fed_all:
                        got = sent.get(block=wait, timeout=0.1)
                        wait = False
                        if got is None:
                            fed_all = True
                        else:
                            pending[got[0]] = got[1]
                if feeder.error is not None:
                    raise feeder.error
                if not pending:
                    if fed_all:
                        break
                    continue
                ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=0.05, fetch_local=True)
                for ref in ready:
                    info = pending.pop(ref)
                    try:
                        rows = ray.get(ref)
                    except ray.exceptions.RayActorError:
                        self._resend(info, pending)
                        continue
                    load[info.actor] -= 1
                    room.release()
                    keys = seen.setdefault(info.window, set())
                    for kind, payload in rows:
                        if kind == OVER_BUDGET:
                            self.budget_reached = True
                            feeder.stopping.set()
                            continue
                        if kind == FATAL:
                            self.fatal = self.fatal or payload
                            self._stop.set()
                            continue
                        res: Outcome = pickle.loads(payload)
                        if res.key in keys:  # Ray re-ran a task whose rows had already come back
                            self.duplicates += 1
                            continue
                        keys.add(res.key)
                        if self.first_outcome_s is None:
                            self.first_outcome_s = round(time.monotonic() - self._started, 3)
                        node = (res.worker or "?").split(" ")[0]
                        self.rows_per_node[node] = self.rows_per_node.get(node, 0) + 1
                        yield res
                        if self._stop.is_set():
                            return
                live = {i.window for i in pending.values()} | feeder.live()
                for w in [w for w in seen if w not in live]:
                    del seen[w]
            if server.error is not None:
                raise server.error
        finally:
            feeder.stopping.set()
            for ref in pending:  # Ctrl-C: the LLM calls in flight end now (their items stay pending)
                with contextlib.suppress(Exception):
                    ray.cancel(ref)
            with contextlib.suppress(Exception):
                self.limiter_stats = ray.get(self.coordinator.stats.remote(), timeout=10)
            server.stopping.set()
            server.join(timeout=5)
            if owned:
                self.close()


class _Feeder(threading.Thread):
    """Driver thread: items in windows → a Ray Data execution of the prepare stage per window (in a
    thread of its own, at most two at once, so the next window is listed and started while one
    runs) → its blocks, by reference, to the least busy generate actor (at most `blocks_in_flight`
    at once). A window closes at `window` items or `window_bytes`, or, while no window runs, at
    `first_window` items: work starts soon however slowly the inputs are listed."""

    def __init__(self, run: RayRun, items: Iterable[WorkItem], sent: queue.Queue[tuple[Any, _Sent] | None],
                 room: threading.Semaphore, load: list[int]) -> None:
        super().__init__(name="ray-feed", daemon=True)
        self.r, self.items, self.sent, self.room, self.load = run, items, sent, room, load
        self.stopping = threading.Event()
        self.error: BaseException | None = None
        self.window = 0
        self.lock = threading.Lock()
        self.active: set[int] = set()  # windows whose Ray Data execution still runs
        self.running = threading.Semaphore(2)

    def live(self) -> set[int]:
        with self.lock:
            return set(self.active)

    def run(self) -> None:
        threads: list[threading.Thread] = []
        try:
            plan = self.r.plan
            window: list[dict[str, bytes]] = []
            size = 0
            for item in self.items:
                if self.stopping.is_set():
                    return
                blob = pickle.dumps(item)
                window.append({"p": blob})
                size += len(blob)
                if (len(window) >= plan.window or size >= plan.window_bytes
                        or (len(window) >= plan.first_window and not self.live())):
                    threads.append(self._start(window))
                    window, size = [], 0
            if window:
                threads.append(self._start(window))
            for t in threads:
                while t.is_alive() and not self.stopping.is_set():
                    t.join(0.2)
        except _Stopped:
            pass
        except BaseException as exc:  # reported by the driver
            self.error = exc
        finally:
            self.sent.put(None)

    def _start(self, rows: list[dict[str, bytes]]) -> threading.Thread:
        while not self.running.acquire(timeout=0.2):
            if self.stopping.is_set():
                raise _Stopped
        self.window += 1
        self.r.windows = n = self.window
        with self.lock:
            self.active.add(n)
        t = threading.Thread(target=self._execute, args=(n, rows), name=f"ray-window-{n}", daemon=True)
        t.start()
        return t

    def _execute(self, n: int, rows: list[dict[str, bytes]]) -> None:
        try:
            self._window(n, rows)
        except BaseException as exc:
            self.error = self.error or exc
            self.stopping.set()
        finally:
            with self.lock:
                self.active.discard(n)
            self.running.release()

    def _window(self, n: int, rows: list[dict[str, bytes]]) -> None:
        data = import_ray_data()
        plan = self.r.plan
        blocks = max(1, math.ceil(len(rows) / plan.block_rows))
        ds = data.from_items(rows, override_num_blocks=blocks)
        del rows
        ds = ds.map_batches(prepare, fn_kwargs={"settings": self.r.settings, "attempts": plan.attempts},
                            batch_format="pyarrow", batch_size=None, num_cpus=1)
        for bundle in ds.iter_internal_ref_bundles():
            for entry, cut in zip(bundle.blocks, bundle.slices, strict=True):
                ref = entry.ref if hasattr(entry, "ref") else entry[0]
                span = (cut.start_offset, cut.end_offset) if cut is not None else (0, None)
                while not self.room.acquire(timeout=0.2):
                    if self.stopping.is_set():
                        return
                if self.stopping.is_set():
                    self.room.release()
                    return
                i = min(range(len(self.load)), key=self.load.__getitem__)
                self.load[i] += 1
                handle = self.r.actors[i]
                self.sent.put((handle.run.remote(ref, *span), _Sent(n, i, ref, span, handle)))


class _Stopped(Exception):
    pass


# -- the executor ------------------------------------------------------------------------------

def make(ctx: Context) -> RayExecutor:
    return RayExecutor(ctx)


class RayExecutor:
    """The executor protocol (batch.executors) over `RayRun`: connect and start the actors in make(),
    stream in run()."""

    def __init__(self, ctx: Context) -> None:
        opts = ctx.options
        self.ctx = ctx
        self.status = Status()
        self.ray = import_ray()
        self.owns_ray = not self.ray.is_initialized()  # a Ray we start (or join) here, we shut down in close()
        self.address = getattr(opts, "ray_address", None)
        self.cluster = connect(self.address)
        self.plan = RayPlan(concurrency=opts.concurrency, rpm=opts.rpm, tpm=opts.tpm, max_cost=opts.max_cost,
                            actors=max(1, math.ceil(opts.concurrency / 16)),  # each keeps ~16+ requests in flight
                            attempts=1 + ctx.settings.max_retries,
                            window=int(os.environ.get("TAKEAWAYS_RAY_WINDOW", 0)) or RayPlan.window)
        self.status.info = self._info(None)
        self.runner = RayRun(ctx.settings, self.plan, ctx.lookup)
        self.runner.start()  # actors and warm-up tasks start while the runner expands the inputs

    def _info(self, run: RayRun | None) -> dict[str, object]:
        c = self.cluster
        info: dict[str, object] = {"address": c["address"], "nodes": c["nodes"], "cpus": c["cpus"],
                                   "start_s": c["start_s"], "actors": self.plan.actors}
        if run is not None:
            per_node = dict(sorted((self._node_name(k), v) for k, v in run.rows_per_node.items()))
            used = sum(1 for n in per_node.values() if n)
            info.update(rows_per_node=per_node, nodes_used=used, duplicates_dropped=run.duplicates, windows=run.windows,
                        actors_replaced=run.actors_replaced,
                        limiter=run.limiter_stats, first_outcome_s=run.first_outcome_s)
            rows = ", ".join(f"{k} {v}" for k, v in per_node.items())
            info["summary"] = (f"executor ray at {c['address']}: {c['nodes']} node(s), {c['cpus']} CPU(s), "
                               f"{used} node(s) did work; rows per node: {rows or 'none'}")
        return info

    def _node_name(self, short: str) -> str:
        """`address/node-id-prefix` (two nodes on one machine share the address)."""
        with contextlib.suppress(Exception):
            for n in self.ray.nodes():
                if str(n.get("NodeID", "")).startswith(short):
                    return f"{n.get('NodeManagerAddress', '?')}/{short}"
        return short

    def run(self, items: Iterable[WorkItem]) -> Iterator[Outcome]:
        run = self.runner

        def interrupt(signum: int, frame: Any) -> None:
            if self.status.interrupted:  # a second Ctrl-C: leave now (the journal stays consistent)
                os._exit(130)
            self.status.interrupted = True
            run.stop()

        restore: dict[signal.Signals, Any] = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                restore[sig] = signal.signal(sig, interrupt)
        try:
            yield from run.results(items)
        finally:
            for signum, handler in restore.items():
                signal.signal(signum, handler)
            self.status.info = self._info(run)
            self.status.budget_reached = run.budget_reached
            if run.fatal is not None and self.status.fatal is None:
                self.status.fatal = ConfigError(run.fatal)

    def close(self) -> None:
        self.runner.close()
        if self.owns_ray:
            self.ray.shutdown()


__all__ = ["Coordinator", "Generate", "RayExecutor", "RayPlan", "RayRun", "connect", "import_ray", "make"]
