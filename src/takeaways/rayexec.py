"""The batch stages on Ray: a Ray Data pipeline, an actor pool for the LLM, one global limiter.

    work items ──► prepare (Ray tasks, 1 CPU each: fetch + extract)
               ──► generate (actor pool, num_cpus=0, async: many requests in flight per actor)
               ──► streamed back to the driver (iter_batches), one result per item

- Every row comes back as a `RayResult` (done / skipped / failed with a reason): the UDFs catch
  page and provider errors at the item boundary and never raise them into Ray.
- The driver keeps the state: the cache / duplicate-content gate (`lookup`) runs in the driver
  process. A generate actor asks it through a small relay actor (`Gate`) before spending an LLM
  call; a driver thread answers. So the journal's own read-only lookup decides, with its
  in-memory view of what is in flight, and no worker opens the driver's files (which on a
  cluster are not on the worker's disk).
- One `Limiter` actor per run holds --concurrency, --rpm and --tpm for every actor on every
  node. Each generate actor's HTTP client has two hooks: before every request it waits while the
  limiter is paused; a 429 with Retry-After pauses the limiter, so every actor waits, not just
  the one that got it. The retries themselves stay the client's (one retry policy).

Ray is optional (`pip install 'takeaways[ray]'`); nothing here imports it at module import.
"""

from __future__ import annotations

import asyncio
import math
import os
import pickle
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .config import Settings
from .errors import ConfigError, ExtractionError, TakeawaysError
from .inputs import Item
from .models import Article, Digest, Usage

RAY_MISSING = "--executor ray needs Ray: pip install 'takeaways[ray]'"
NAMESPACE = "takeaways"
DONE, FAILED, SKIPPED = "done", "failed", "skipped"


@dataclass
class RayResult:
    """How one item finished on Ray (a plain, picklable value; the driver commits it)."""

    key: str
    source: str
    status: str
    digest: Digest | None = None
    article: Article | None = None
    error: str | None = None
    reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    content_hash: str | None = None
    cached: bool = False
    worker: str | None = None  # node id (short) that did the work
    actor: str | None = None  # host:pid of the generate actor, when one ran


Lookup = Callable[[str, Article], "RayResult | None"]


def import_ray() -> Any:
    try:
        import ray
        import ray.data  # the pipeline needs Ray Data, not just Ray core
    except ImportError as exc:
        raise ConfigError(RAY_MISSING) from exc
    return ray


def connect(address: str | None) -> dict[str, Any]:
    """Join the cluster at `address` (auto, HOST:PORT, ray://HOST:10001) or start a local Ray.

    Reuses a Ray this process already started. Returns nodes and CPUs for the report.
    """
    ray = import_ray()
    started = time.monotonic()
    if not ray.is_initialized():
        try:
            if address:
                ray.init(address=address, namespace=NAMESPACE, log_to_driver=False)
            else:
                ray.init(namespace=NAMESPACE, include_dashboard=False, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = address or "a local Ray"
            raise ConfigError(f"cannot start or join Ray at {where} ({exc}); check --ray-address (auto, HOST:PORT, "
                              "ray://HOST:10001) and that the cluster is up") from exc
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.verbose_stats_logs = False
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    return {"address": address or "local", "nodes": len(nodes),
            "cpus": int(sum(n.get("Resources", {}).get("CPU", 0) for n in nodes)),
            "start_s": round(time.monotonic() - started, 3)}


# -- the cluster-global limiter ---------------------------------------------------------------

class Limiter:
    """--concurrency / --rpm / --tpm for the whole cluster, and a shared pause after a 429."""

    def __init__(self, concurrency: int, rpm: int | None, tpm: int | None) -> None:
        from aiolimiter import AsyncLimiter

        self.sem = asyncio.Semaphore(concurrency)
        self.rpm = AsyncLimiter(rpm, 60) if rpm else None
        self.tpm = AsyncLimiter(tpm, 60) if tpm else None
        self.paused_until = 0.0
        self.pauses = 0
        self.in_flight = 0
        self.peak = 0
        self.waited = 0  # requests held back by a pause

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

    def stats(self) -> dict[str, Any]:
        return {"pauses": self.pauses, "peak_in_flight": self.peak, "held_by_pause": self.waited}


def retry_after(headers: Any) -> float | None:
    """Seconds from retry-after-ms / Retry-After (numeric form), capped at 120 s."""
    for name, div in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is not None:
            try:
                delay = float(value) / div
            except ValueError:
                continue
            if delay > 0:
                return min(delay, 120.0)
    return None


# -- the driver-side gate, through a relay actor ----------------------------------------------

class Gate:
    """Relays lookups from generate actors to the driver thread that serves them."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[tuple[int, str, bytes]] | None = None
        self.waiters: dict[int, asyncio.Future[bytes | None]] = {}
        self.n = 0

    def _q(self) -> asyncio.Queue[tuple[int, str, bytes]]:
        if self.queue is None:
            self.queue = asyncio.Queue()
        return self.queue

    async def ask(self, key: str, article: bytes) -> bytes | None:
        self.n += 1
        fut: asyncio.Future[bytes | None] = asyncio.get_running_loop().create_future()
        self.waiters[self.n] = fut
        self._q().put_nowait((self.n, key, article))
        return await fut

    async def take(self, most: int, timeout: float) -> list[tuple[int, str, bytes]]:
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
    """Driver thread: takes lookups from the Gate actor, answers them with the driver's `lookup`."""

    def __init__(self, ray: Any, gate: Any, lookup: Lookup) -> None:
        super().__init__(name="ray-gate", daemon=True)
        self.ray, self.gate, self.lookup = ray, gate, lookup
        self.stopping = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                asks = self.ray.get(self.gate.take.remote(256, 0.2))
                answers = []
                for rid, key, blob in asks:
                    hit = self.lookup(key, pickle.loads(blob))
                    answers.append((rid, pickle.dumps(hit) if hit is not None else None))
                if answers:
                    self.gate.answer.remote(answers)
        except BaseException as exc:  # reported by the driver after the run
            self.error = exc


# -- the stages --------------------------------------------------------------------------------

def _node() -> str:
    import ray

    return str(ray.get_runtime_context().get_node_id())[:12]


def _failed(item: Item, exc: BaseException) -> RayResult:
    from .batch import reason_of

    status = SKIPPED if isinstance(exc, ExtractionError) else FAILED
    if isinstance(exc, TakeawaysError):
        error = str(exc)
        reason = reason_of(exc, item.source)
    else:
        error = f"unexpected {type(exc).__name__}: {exc} (a bug; please report it)"
        reason = f"unexpected {type(exc).__name__}"
    usage = getattr(exc, "usage", None) or Usage()
    return RayResult(item.key, item.source, status, error=error, reason=reason, usage=usage)


def _prepare_one(item: Item, settings: Settings, client: Any, attempts: int) -> RayResult | tuple[Item, Article]:
    from .batch import content_hash, is_transient, load_page
    from .errors import SourceError
    from .extract import extract_page

    try:
        if item.error is not None:
            raise SourceError(item.error)
        for attempt in range(attempts):
            try:
                page = load_page(item, settings, client)
                break
            except TakeawaysError as exc:
                if not is_transient(exc) or attempt == attempts - 1:
                    raise
                time.sleep(min(0.2 * 2 ** attempt, 5.0))
        article = extract_page(page, settings)
        content_hash(article)
        return item, article
    except Exception as exc:  # the item boundary: every row comes back as a result
        return _failed(item, exc)


def prepare(batch: Any, settings: Settings, attempts: int = 3) -> Any:
    """Ray Data UDF (a task, one CPU): fetch + extract each item of the batch."""
    import pyarrow as pa

    from .sources import http_client

    node = _node()
    out = []
    with http_client(settings) as client:
        for blob in batch.column("p").to_pylist():
            item: Item = pickle.loads(blob)
            res = _prepare_one(item, settings, client, attempts)
            if isinstance(res, RayResult):
                res.worker = node
            out.append(pickle.dumps(res if isinstance(res, RayResult) else (res[0], res[1], node)))
    return pa.table({"p": pa.array(out, pa.binary())})


class Generate:
    """Ray Data UDF (an async actor, num_cpus=0): the gate, then the LLM under the global limiter."""

    def __init__(self, settings: Settings, limiter: str, gate: str) -> None:
        import ray

        self.ray = ray
        self.settings = settings
        self.limiter = ray.get_actor(limiter, namespace=NAMESPACE)
        self.gate = ray.get_actor(gate, namespace=NAMESPACE)
        self.installed: asyncio.AbstractEventLoop | None = None
        self.name = f"{socket.gethostname()}:{os.getpid()}"

    def _install_client(self) -> None:
        """This loop's shared openai client, with the limiter's hooks on every HTTP request."""
        import openai

        from .client import install_shared_async_client, make_client

        limiter = self.limiter

        async def before(request: Any) -> None:
            await limiter.wait.remote()

        async def after(response: Any) -> None:
            if response.status_code == 429 and (delay := retry_after(response.headers)) is not None:
                await limiter.pause.remote(delay)

        base = make_client(self.settings, async_=True)
        client = base.with_options(http_client=openai.DefaultAsyncHttpxClient(
            event_hooks={"request": [before], "response": [after]}))
        install_shared_async_client(self.settings, client)
        self.installed = asyncio.get_running_loop()

    async def __call__(self, batch: Any) -> Any:
        import pyarrow as pa

        if self.installed is not asyncio.get_running_loop() and self.settings.resolved_engine() != "extractive":
            self._install_client()
        rows = [pickle.loads(b) for b in batch.column("p").to_pylist()]
        outs = await asyncio.gather(*(self._one(r) for r in rows))
        return pa.table({"p": pa.array([pickle.dumps(o) for o in outs], pa.binary())})

    async def _one(self, row: RayResult | tuple[Item, Article, str]) -> RayResult:
        if isinstance(row, RayResult):
            return row
        item, article, node = row
        try:
            return await self._generate(item, article, node)
        except Exception as exc:  # the item boundary: a provider error becomes a failed row
            res = _failed(item, exc)
            res.worker, res.actor, res.article = node, self.name, article
            return res

    async def _generate(self, item: Item, article: Article, node: str) -> RayResult:
        from . import api
        from .batch import content_hash

        chash = content_hash(article)
        hit = await self.gate.ask.remote(item.key, pickle.dumps(article))
        if hit is not None:
            res: RayResult = pickle.loads(hit)
            res.worker, res.article, res.content_hash = node, article, res.content_hash or chash
            return res
        tokens = len(article.text) // 4 + self.settings.max_output_tokens
        await self.limiter.acquire.remote(tokens)
        try:
            digest = await api.agenerate(article, self.settings)
        finally:
            await self.limiter.release.remote()
        return RayResult(item.key, item.source, DONE, digest=digest, article=article, usage=digest.usage,
                         content_hash=chash, worker=node, actor=self.name)


# -- the driver --------------------------------------------------------------------------------

@dataclass
class RayPlan:
    """How hard to push: the same knobs as the local executor, plus the pool shape."""

    concurrency: int = 8
    rpm: int | None = None
    tpm: int | None = None
    actors: int = 2  # generate actors (num_cpus=0; each keeps many requests in flight)
    block_rows: int = 4  # items per block: small blocks stream back soon and spread well
    window: int = 20_000  # items per Ray Data execution: bounds what the driver holds at once
    attempts: int = 3


class RayRun:
    """Run items through the Ray pipeline; iterate `results()`; `stats` fills in as it goes."""

    def __init__(self, settings: Settings, plan: RayPlan, lookup: Lookup) -> None:
        self.ray = import_ray()
        self.settings = settings
        self.plan = plan
        self.lookup = lookup
        self.rows_per_node: dict[str, int] = {}
        self.duplicates = 0  # outcomes of an item that already came back (a re-run task), dropped
        self.limiter_stats: dict[str, Any] = {}
        self._stop = threading.Event()

    def stop(self) -> None:
        """Start no new window; the current stream ends with the iterator."""
        self._stop.set()

    def results(self, items: Iterable[Item]) -> Iterator[RayResult]:
        ray = self.ray
        tag = f"{os.getpid()}-{time.monotonic_ns()}"
        limiter = ray.remote(num_cpus=0, max_concurrency=10_000)(Limiter).options(
            name=f"limiter-{tag}", namespace=NAMESPACE).remote(self.plan.concurrency, self.plan.rpm, self.plan.tpm)
        gate = ray.remote(num_cpus=0, max_concurrency=10_000)(Gate).options(
            name=f"gate-{tag}", namespace=NAMESPACE).remote()
        ray.get([limiter.stats.remote(), gate.take.remote(1, 0.0)])
        server = _GateServer(ray, gate, self.lookup)
        server.start()
        try:
            window: list[dict[str, bytes]] = []
            for item in items:
                window.append({"p": pickle.dumps(item)})
                if len(window) >= self.plan.window:
                    yield from self._window(window, f"limiter-{tag}", f"gate-{tag}")
                    window = []
                    if self._stop.is_set():
                        return
            if window:
                yield from self._window(window, f"limiter-{tag}", f"gate-{tag}")
            if server.error is not None:
                raise server.error
            self.limiter_stats = ray.get(limiter.stats.remote())
        finally:
            server.stopping.set()
            server.join(timeout=5)
            ray.kill(gate)
            ray.kill(limiter)

    def _window(self, rows: list[dict[str, bytes]], limiter: str, gate: str) -> Iterator[RayResult]:
        ray = self.ray
        from ray.data import ActorPoolStrategy

        plan = self.plan
        blocks = max(1, math.ceil(len(rows) / plan.block_rows))
        ds = ray.data.from_items(rows, override_num_blocks=blocks)
        rows.clear()
        ds = ds.map_batches(prepare, fn_kwargs={"settings": self.settings, "attempts": plan.attempts},
                            batch_format="pyarrow", batch_size=None, num_cpus=1)
        ds = ds.map_batches(Generate, fn_constructor_kwargs={"settings": self.settings, "limiter": limiter, "gate": gate},
                            batch_format="pyarrow", batch_size=plan.block_rows, num_cpus=0,
                            compute=ActorPoolStrategy(size=min(plan.actors, blocks), max_concurrent_calls_per_actor=max(4, plan.concurrency)))
        seen: set[str] = set()  # a window's keys are distinct from every other window's
        for batch in ds.iter_batches(batch_format="pyarrow", batch_size=None, prefetch_batches=0):
            for blob in batch.column("p").to_pylist():
                res: RayResult = pickle.loads(blob)
                if res.key in seen:  # Ray re-ran a task whose rows had already come back
                    self.duplicates += 1
                    continue
                seen.add(res.key)
                node = res.worker or "?"
                self.rows_per_node[node] = self.rows_per_node.get(node, 0) + 1
                yield res
