"""The Ray executor: the batch stages as a Ray Data pipeline, the LLM in an actor pool, one global limiter.

    pending work items ──► prepare  (Ray Data tasks, one CPU each: fetch + extract)
                       ──► generate (an actor pool, num_cpus=0, async: many requests in flight per actor)
                       ──► streamed back to the driver (iter_batches): one Outcome per item,
                           which the runner commits through the journal as it arrives

- Every row comes back as an `Outcome` (done / skipped / failed with a reason): the UDFs catch
  page and provider errors at the item boundary and never raise them into Ray. If Ray re-runs a
  task (a worker died), a second outcome of a key is dropped here, and the journal would ignore
  it anyway.
- The driver keeps the state. The cache / duplicate-content gate (`ctx.lookup`, the journal's)
  runs in the driver process: a generate actor asks it through a small relay actor (`Gate`)
  before spending an LLM call, and a driver thread answers. No worker opens the driver's files
  (on a cluster they are not on the worker's disk).
- One `Limiter` actor per run holds --concurrency, --rpm and --tpm for every actor on every
  node. Each generate actor's HTTP client has two hooks: before every request it waits while the
  limiter is paused; a 429 with Retry-After pauses the limiter, so every actor waits, not just
  the one that got it. The retries themselves follow the same policy as the local executor.
- Items go to Ray in windows (`RayPlan.window` items or `window_bytes` of items, whichever comes
  first: WARC items carry their HTML), so the driver never holds a whole crawl.

Ray is optional (`pip install 'takeaways[ray]'`); the registry imports this module only when
`--executor ray` is chosen. `--ray-address` (none: a local Ray on this machine; `auto`, HOST:PORT, ray://HOST:10001).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import pickle
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

# Imported here, so that without the extra the registry says "--executor ray needs ray: pip install
# 'takeaways[ray]'" before the run writes anything (this module is only imported when chosen).
import ray
import ray.data  # the pipeline needs Ray Data (and its pyarrow), not just Ray core

from ...config import Settings
from ...errors import ConfigError, TakeawaysError
from ...models import Article
from ..work import DONE, Outcome, WorkItem, failed
from . import Context, Status

NAMESPACE = "takeaways"

Lookup = Callable[[WorkItem, Article], "Outcome | None"]


def import_ray() -> Any:
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
                ray.init(address=address, namespace=NAMESPACE, log_to_driver=False, logging_level="warning")
            else:
                ray.init(namespace=NAMESPACE, include_dashboard=False, log_to_driver=False, logging_level="warning")
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = address or "a local Ray"
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ConfigError(f"cannot start or join Ray at {where} ({first}); check --ray-address (auto, "
                              "HOST:PORT, ray://HOST:10001) and that the cluster is up") from exc
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.verbose_stats_logs = False
    import logging

    logging.getLogger("ray.data").setLevel(logging.WARNING)  # no per-dataset INFO lines on the user's terminal
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
        self.queue: asyncio.Queue[tuple[int, bytes]] | None = None
        self.waiters: dict[int, asyncio.Future[bytes | None]] = {}
        self.n = 0

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
                for rid, blob in asks:
                    item, article = pickle.loads(blob)
                    hit = self.lookup(item, article)
                    answers.append((rid, pickle.dumps(hit) if hit is not None else None))
                if answers:
                    self.gate.answer.remote(answers)
        except BaseException as exc:  # reported by the driver after the run
            self.error = exc


# -- the stages --------------------------------------------------------------------------------

def _node() -> str:
    """This worker's node: the first 8 hex digits of its node id (the report adds its address)."""
    return str(ray.get_runtime_context().get_node_id())[:8]


def _prepare_one(item: WorkItem, client: Any, attempts: int, wait: float) -> Outcome | tuple[WorkItem, Article, int]:
    """Fetch (transient errors retried under retry.py, like the local executor) and extract one item."""
    from ... import retry
    from ...errors import SourceError
    from ...extraction import extract_page
    from ..stages import load_page

    tries = 0
    try:
        if item.error is not None:  # the input (a sitemap, a list line) could not be read
            raise SourceError(item.error)

        def fetch() -> Any:
            nonlocal tries
            tries += 1
            return load_page(item, item.options, client)

        page = retry.call(fetch, item.options, attempts=attempts)
        return item, extract_page(page, item.options), tries
    except Exception as exc:  # the item boundary: every row comes back as an outcome
        return failed(item, exc, attempts=tries)


def prepare(batch: Any, settings: Settings, attempts: int, wait: float) -> Any:
    """Ray Data UDF (a task, one CPU): fetch + extract each item of the batch."""
    import pyarrow as pa

    from ...sources import http_client

    node = _node()
    out = []
    with http_client(settings) as client:
        for blob in batch.column("p").to_pylist():
            res = _prepare_one(pickle.loads(blob), client, attempts, wait)
            out.append(pickle.dumps(res.with_(worker=node) if isinstance(res, Outcome) else (*res, node)))
    return pa.table({"p": pa.array(out, pa.binary())})


class Generate:
    """Ray Data UDF (an async actor, num_cpus=0): the gate, then the LLM under the global limiter."""

    def __init__(self, settings: Settings, limiter: str, gate: str, attempts: int, wait: float) -> None:
        self.settings = settings
        self.limiter = ray.get_actor(limiter, namespace=NAMESPACE)
        self.gate = ray.get_actor(gate, namespace=NAMESPACE)
        self.attempts, self.wait = attempts, wait
        self.installed: asyncio.AbstractEventLoop | None = None
        self.name = f"pid {os.getpid()}"

    def _install_client(self) -> None:
        """This loop's shared openai client, with the limiter's hooks on every HTTP request."""
        import openai

        from ...client import install_shared_async_client, make_client

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

    async def _one(self, row: Outcome | tuple[WorkItem, Article, int, str]) -> Outcome:
        if isinstance(row, Outcome):
            return row
        item, article, tries, node = row
        worker = f"{node} {self.name}"
        try:
            hit = await self.gate.ask.remote(pickle.dumps((item, article)))
            if hit is not None:
                known: Outcome = pickle.loads(hit)
                return known.with_(attempts=tries, worker=node)
            tokens = len(article.text) // 4 + self.settings.max_output_tokens
            await self.limiter.acquire.remote(tokens)
            try:
                digest, gen_tries = await self._generate(article, item.options)
            finally:
                await self.limiter.release.remote()
            return Outcome(item.key, DONE, digest=digest, article=article, usage=digest.usage,
                           attempts=tries + gen_tries, worker=worker)
        except Exception as exc:  # the item boundary: a provider error becomes a failed row
            return failed(item, exc, attempts=tries, worker=worker).with_(article=article)

    async def _generate(self, article: Article, settings: Settings) -> tuple[Any, int]:
        """api.agenerate once: the engine retries each request under retry.py, nothing retries on top."""
        from ... import api
        from ...models import Usage

        spent, tries = Usage(), 0

        async def attempt() -> Any:
            nonlocal spent, tries
            tries += 1
            try:
                return await api.agenerate(article, settings)
            except TakeawaysError as exc:
                spent = spent.add(getattr(exc, "usage", None) or Usage())
                exc.usage = spent  # type: ignore[attr-defined]
                raise

        digest: Any = await attempt()
        return digest.model_copy(update={"usage": spent.add(digest.usage)}), tries


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
    window_bytes: int = 256 << 20  # ... and their pickled size (inline HTML from WARC files adds up)
    attempts: int = 3  # fetch tries for transient errors: 1 + --max-retries (retry.py)
    retry_wait: float = 0.5


class RayRun:
    """Run work items through the Ray pipeline; iterate `results()`; the figures fill in as it goes."""

    def __init__(self, settings: Settings, plan: RayPlan, lookup: Lookup) -> None:
        self.ray = import_ray()
        self.settings = settings
        self.plan = plan
        self.lookup = lookup
        self.rows_per_node: dict[str, int] = {}
        self.duplicates = 0  # outcomes of an item that already came back (a re-run task), dropped
        self.limiter_stats: dict[str, Any] = {}
        self.first_outcome_s: float | None = None  # pipeline start-up as the driver sees it
        self._started = time.monotonic()
        self._stop = threading.Event()

    def stop(self) -> None:
        """Yield nothing more: the stream ends at the next row (what is in flight stays pending)."""
        self._stop.set()

    def results(self, items: Iterable[WorkItem]) -> Iterator[Outcome]:
        ray = self.ray
        self._started = time.monotonic()
        tag = f"{os.getpid()}-{time.monotonic_ns()}"
        names = f"limiter-{tag}", f"gate-{tag}"
        limiter = ray.remote(num_cpus=0, max_concurrency=10_000)(Limiter).options(
            name=names[0], namespace=NAMESPACE).remote(self.plan.concurrency, self.plan.rpm, self.plan.tpm)
        gate = ray.remote(num_cpus=0, max_concurrency=10_000)(Gate).options(
            name=names[1], namespace=NAMESPACE).remote()
        # Not waited for: the generate actors find them by name, and calls queue until they are up.
        server = _GateServer(ray, gate, self.lookup)
        server.start()
        try:
            window: list[dict[str, bytes]] = []
            size = 0
            for item in items:
                blob = pickle.dumps(item)
                window.append({"p": blob})
                size += len(blob)
                if len(window) >= self.plan.window or size >= self.plan.window_bytes:
                    yield from self._window(window, *names)
                    window, size = [], 0
                if self._stop.is_set():
                    return
            if window:
                yield from self._window(window, *names)
            if server.error is not None:
                raise server.error
            with contextlib.suppress(Exception):
                self.limiter_stats = ray.get(limiter.stats.remote(), timeout=10)
        finally:
            server.stopping.set()
            server.join(timeout=5)
            ray.kill(gate)
            ray.kill(limiter)

    def _window(self, rows: list[dict[str, bytes]], limiter: str, gate: str) -> Iterator[Outcome]:
        ray = self.ray
        from ray.data import ActorPoolStrategy

        plan = self.plan
        blocks = max(1, math.ceil(len(rows) / plan.block_rows))
        ds = ray.data.from_items(rows, override_num_blocks=blocks)
        rows.clear()
        retry = {"attempts": plan.attempts, "wait": plan.retry_wait}
        ds = ds.map_batches(prepare, fn_kwargs={"settings": self.settings, **retry},
                            batch_format="pyarrow", batch_size=None, num_cpus=1)
        ds = ds.map_batches(Generate, fn_constructor_kwargs={"settings": self.settings, "limiter": limiter,
                                                             "gate": gate, **retry},
                            batch_format="pyarrow", batch_size=plan.block_rows, num_cpus=0,
                            compute=ActorPoolStrategy(size=min(plan.actors, blocks),
                                                      max_concurrent_calls_per_actor=max(4, plan.concurrency)))
        seen: set[str] = set()  # a window's keys are distinct from every other window's
        for batch in ds.iter_batches(batch_format="pyarrow", batch_size=None, prefetch_batches=0):
            for blob in batch.column("p").to_pylist():
                res: Outcome = pickle.loads(blob)
                if res.key in seen:  # Ray re-ran a task whose rows had already come back
                    self.duplicates += 1
                    continue
                seen.add(res.key)
                if self.first_outcome_s is None:
                    self.first_outcome_s = round(time.monotonic() - self._started, 3)
                node = (res.worker or "?").split(" ")[0]
                self.rows_per_node[node] = self.rows_per_node.get(node, 0) + 1
                yield res
                if self._stop.is_set():
                    return


# -- the executor ------------------------------------------------------------------------------

def make(ctx: Context) -> RayExecutor:
    return RayExecutor(ctx)


class RayExecutor:
    """The executor protocol (batch.executors) over `RayRun`: connect in make(), stream in run()."""

    def __init__(self, ctx: Context) -> None:
        opts = ctx.options
        if opts.max_cost is not None:
            raise ConfigError("--max-cost is not supported with --executor ray yet; drop it or use --executor local")
        self.ctx = ctx
        self.status = Status()
        self.ray = import_ray()
        self.owns_ray = not self.ray.is_initialized()  # a Ray we start (or join) here, we shut down in close()
        self.address = getattr(opts, "ray_address", None)
        self.cluster = connect(self.address)
        self.plan = RayPlan(concurrency=opts.concurrency, rpm=opts.rpm, tpm=opts.tpm,
                            actors=max(2, math.ceil(opts.concurrency / 16)),  # each keeps ~16+ requests in flight
                            attempts=1 + ctx.settings.max_retries, retry_wait=ctx.settings.retry_wait)
        self.status.info = self._info(None)

    def _info(self, run: RayRun | None) -> dict[str, object]:
        c = self.cluster
        info: dict[str, object] = {"address": c["address"], "nodes": c["nodes"], "cpus": c["cpus"],
                                   "start_s": c["start_s"], "actors": self.plan.actors}
        if run is not None:
            per_node = dict(sorted((self._node_name(k), v) for k, v in run.rows_per_node.items()))
            used = sum(1 for n in per_node.values() if n)
            info.update(rows_per_node=per_node, nodes_used=used, duplicates_dropped=run.duplicates,
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
        run = RayRun(self.ctx.settings, self.plan, self.ctx.lookup)

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

    def close(self) -> None:
        if self.owns_ray:
            self.ray.shutdown()


__all__ = ["Gate", "Generate", "Limiter", "RayExecutor", "RayPlan", "RayRun", "connect", "import_ray", "make"]
