"""The batch-api executor: the provider's Batch API (OpenAI, Azure global batch, Groq, Together)
at half the price, or request/result files for a batch run elsewhere (vLLM `run-batch`).

    takeaways batch INPUT... --out DIR --batch-api [--wait]

Every pending item is loaded, extracted and gated (duplicate text, result cache) here as in a
live run; its conversation is then driven by `batch.apijobs.Submission` (state in
DIR/.takeaways/batchapi.db), one request per item per round. Without --wait the run submits,
records the job ids and ends (exit 0, the items stay pending); the same command again collects
what has ended, commits it through the journal and submits what needs another round. With
--wait it polls (the interval grows from --poll-interval up to 5 min) until every item is over.
A finished answer goes through the same verification and fill as a live answer
(`api.verify_and_fill`), and the journal renders and commits it; its cost is the batch price.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ... import api
from ...config import Settings
from ...errors import ConfigError, TakeawaysError
from ...models import Article, Spec
from ..apijobs import Estimate, Finished, JobInfo, Submission, estimate
from ..keys import cache_key, prompt_hash
from ..options import STATE_DIR
from ..progress import JobsProgress, Progress
from ..stages import load_page
from ..work import DONE, Outcome, WorkItem, failed
from . import Context, Status

POLL_MAX = 300.0  # the longest wait between two polls with --wait (s)


def make(ctx: Context) -> BatchAPIExecutor:
    return BatchAPIExecutor(ctx)


def _spec(ctx: Context) -> Spec:
    s = ctx.settings
    return Spec(takeaways=s.takeaways, questions=s.questions, language=s.lang)


def check_engine(ctx: Context) -> None:
    if ctx.settings.resolved_engine() != "openai":
        raise ConfigError("--batch-api sends LLM requests: configure the openai engine (OPENAI_API_KEY or "
                          "--api-key, and --base-url for another provider), not --engine extractive")


class BatchAPIExecutor:
    def __init__(self, ctx: Context) -> None:
        check_engine(ctx)
        self.ctx = ctx
        self.opts = ctx.options
        self.settings = ctx.settings
        self.status = Status()
        self.sub = Submission(self.opts.out / STATE_DIR, self.settings, _spec(ctx),
                              max_requests=self.opts.batch_max_requests, max_bytes=self.opts.batch_max_bytes,
                              max_cost=self.opts.max_cost, endpoint=self.opts.batch_endpoint)
        self.prompts = prompt_hash(self.settings.template_dir)
        # --wait: the jobs' request counts, under the run's bar (or as lines)
        self.jobs_progress = JobsProgress(ctx.progress or Progress(self.opts.progress, self.opts.progress_interval))
        self.followed: set[str] = set()  # parts of the jobs this run has polled while running

    def close(self) -> None:
        self.sub.close()

    # ------------------------------------------------------------ the run

    def run(self, items: Iterable[WorkItem]) -> Iterator[Outcome]:
        members: dict[str, list[WorkItem]] = {}
        try:
            for item, result in self._prepare(items):
                if isinstance(result, Outcome):
                    yield result
                else:
                    members.setdefault(result, []).append(item)
        except ConfigError as exc:
            self.status.fatal = exc
            return
        keys = members.keys()
        info: dict[str, Any] = {"run": self.sub.run_id}
        self.status.info["batch_api"] = info
        if self.opts.retry_failed:
            self.sub.retry_failed(keys)
        try:
            if self.opts.import_results is not None:
                matched, problems = self.sub.import_results(self.opts.import_results)
                info["imported"] = {"file": str(self.opts.import_results), "matched": matched, "problems": problems[:50],
                                    "problem_count": len(problems)}
            if self.opts.export_requests is not None:
                count, finished = self.sub.export(keys, self.opts.export_requests)
                info["exported"] = {"file": str(self.opts.export_requests), "requests": count}
                for f in finished:
                    yield from self._outcomes(f, members)
            else:
                try:
                    yield from self._rounds(members, submit=self.opts.import_results is None)
                finally:
                    self._wait_over()
        except KeyboardInterrupt:
            self.status.interrupted = True
        except ConfigError as exc:
            self.status.fatal = exc
        finally:
            offline = self.opts.export_requests is not None or self.opts.import_results is not None
            # waiting: in a job, or (export/import) for the next round's file; not: held back by --max-cost
            info["awaiting"] = sum(len(members[k]) for k in self.sub.open_keys(list(keys))
                                   if offline or self.sub.waiting([k]))
            self.status.budget_reached = self.sub.budget_reached
            info["in_flight"] = self.sub.in_flight()
            info["jobs"] = [_job(j) for j in self.sub.jobs() if j.batch_id is not None]
            info["problems"] = self.sub.problems[:50]

    def _rounds(self, members: dict[str, list[WorkItem]], *, submit: bool) -> Iterator[Outcome]:
        polls = 0
        while True:
            for f in self.sub.step(members.keys(), submit=submit):
                yield from self._outcomes(f, members)
            if not self.opts.wait or not self.sub.open_keys(list(members)) or self.sub.in_flight() == 0:
                return
            interval = min(POLL_MAX, self.opts.poll_interval * 1.5 ** polls)
            polls += 1
            self._progress(interval)
            time.sleep(interval)

    def _wait_over(self) -> None:
        if self.followed:
            self._progress(0.0, final=True)
        self.jobs_progress.stop()

    def _progress(self, interval: float, *, final: bool = False) -> None:
        """The request_counts of the jobs this wait has seen running (the bar, or a line per poll)."""
        jobs = self.sub.jobs()
        running = [j for j in jobs if j.step == "created"]
        self.followed.update(j.part for j in running)
        seen = [j for j in jobs if j.part in self.followed]
        if not seen:
            return
        self.jobs_progress.update(
            done=sum(j.counts.get("completed", 0) for j in seen), failed=sum(j.counts.get("failed", 0) for j in seen),
            total=sum(j.counts.get("total", j.requests) for j in seen), jobs=len(seen), running=len(running),
            states=", ".join(sorted({str(j.status) for j in running})), next_check=interval, final=final)

    def _outcomes(self, f: Finished, members: dict[str, list[WorkItem]]) -> Iterator[Outcome]:
        article = self.sub.article(f.key)
        worker = "batch-api " + self.sub.run_id
        for item in members.get(f.key, []):
            if f.digest is not None:
                digest = api.verify_and_fill(f.digest, article, item.options)
                yield Outcome(item.key, DONE, digest=digest, article=article, usage=f.usage, worker=worker)
            else:
                exc = f.error or TakeawaysError("no answer")
                exc.usage = f.usage  # type: ignore[attr-defined]
                yield failed(item, exc, worker=worker).with_(article=article)

    # ------------------------------------------------------------ load, extract, gate

    def _prepare(self, items: Iterable[WorkItem]) -> Iterator[tuple[WorkItem, Outcome | str]]:
        """Each item → its conversation key, or the outcome it gets without one (a duplicate, a
        cache hit, not an article, unreadable). Items a run already recorded are not loaded again."""
        fresh: list[WorkItem] = []

        def flush() -> Iterator[tuple[WorkItem, Outcome | str]]:
            for item, result in load_articles(fresh, self.ctx):
                if isinstance(result, Outcome):
                    yield item, result
                    continue
                if (known := self.ctx.lookup(item, result)) is not None:
                    yield item, known
                    continue
                key = cache_key(result, item.options, self.prompts)
                self.sub.add([(key, result)])
                self.sub.link(item.key, key)
                yield item, key
            fresh.clear()

        for item in items:
            key = self.sub.linked(item.key)
            # the same conversation only while model, prompts and options are the same (the key says so)
            if key is not None and cache_key(self.sub.article(key), item.options, self.prompts) == key:
                yield item, key
                continue
            fresh.append(item)
            if len(fresh) >= 256:
                yield from flush()
        yield from flush()


def load_articles(items: list[WorkItem], ctx: Context) -> Iterator[tuple[WorkItem, Article | Outcome]]:
    """Load and extract `items` in a thread pool (in order); a failure is the item's outcome.
    Fetches are retried under the one policy (retry.py)."""
    from ... import retry
    from ...errors import SourceError
    from ...extraction import extract_page

    opts = ctx.options

    def one(item: WorkItem) -> Article | Outcome:
        try:
            if item.error is not None:
                raise SourceError(item.error)
            page = retry.call(lambda: load_page(item, ctx.settings), ctx.settings)
            return extract_page(page, ctx.settings)
        except ConfigError:
            raise
        except Exception as exc:  # one bad item must not end the run
            return failed(item, exc)

    window = max(4, opts.concurrency * 2)
    with ThreadPoolExecutor(max_workers=max(1, opts.concurrency), thread_name_prefix="batch-api-load") as pool:
        queue: deque[tuple[WorkItem, Future[Article | Outcome]]] = deque()
        for item in items:
            queue.append((item, pool.submit(one, item)))
            if len(queue) >= window:
                first, fut = queue.popleft()
                yield first, fut.result()
        while queue:
            first, fut = queue.popleft()
            yield first, fut.result()


def dry_run(items: Iterable[WorkItem], ctx: Context) -> dict[str, Any]:
    """Requests, files, tokens and cost at the batch price of the pending items (loaded and
    extracted; nothing sent to the LLM)."""
    check_engine(ctx)
    articles: list[Article] = []
    skipped = 0
    for _, result in load_articles(list(items), ctx):
        if isinstance(result, Outcome):
            skipped += 1
        else:
            articles.append(result)
    est: Estimate = estimate(articles, ctx.settings, _spec(ctx), max_requests=ctx.options.batch_max_requests,
                             max_bytes=ctx.options.batch_max_bytes)
    return {**est.to_json(), "not_articles": skipped}


def _job(j: JobInfo) -> dict[str, Any]:
    return {"id": j.batch_id, "part": j.part, "round": j.round, "status": j.status, "requests": j.requests,
            "counts": j.counts, "created": int(j.created), "error": j.error}





# ------------------------------------------------------------ what the CLI prints


def summary_lines(info: dict[str, Any]) -> list[str]:
    """The Batch API part of the run summary."""
    lines: list[str] = []
    if "exported" in info:
        e = info["exported"]
        lines.append(f"Wrote {e['requests']} request(s) to {e['file']}; nothing was sent. Run them elsewhere (e.g. "
                     f"`vllm run-batch -i {e['file']} -o results.jsonl --model MODEL`), then rerun this command "
                     "with --import-results results.jsonl instead of --export-requests.")
    if "imported" in info:
        i = info["imported"]
        lines.append(f"Imported {i['matched']} answer(s) from {i['file']}"
                     + (f"; {i['problem_count']} line(s) not used:" if i["problem_count"] else "."))
        lines += [f"  {p}" for p in i["problems"][:10]]
    running = [j for j in info.get("jobs", []) if j["status"] not in ("completed", "expired", "cancelled", "failed")]
    if running:
        lines.append(f"Batch API: {len(running)} job(s) running: "
                     + ", ".join(f"{j['id']} ({j['status']}, {j['requests']} request(s))" for j in running[:10])
                     + (" …" if len(running) > 10 else ""))
    if info.get("awaiting"):
        if "exported" in info or "imported" in info:
            lines.append(f"{info['awaiting']} item(s) wait for answers: export the next round with --export-requests.")
        else:
            lines.append(f"{info['awaiting']} item(s) in Batch API jobs (answers within 24 h): run the same command "
                         "again to collect (or add --wait); `takeaways batch-status OUT` shows the jobs.")
    if info.get("problems"):
        lines.append(f"{len(info['problems'])} result line(s) matched no request, e.g. {info['problems'][0]}")
    return lines


def dry_run_summary(est: dict[str, Any]) -> str:
    return (f"Batch API: {est['requests']} request(s) for {est['items']} article(s) ({est['first_round']} in the "
            f"first round, {est['files']} file(s), {est['bytes']:,} bytes; {est['not_articles']} not an article); "
            f"{est['prompt_tokens']:,} prompt tokens, at most {est['max_output_tokens']:,} output tokens; "
            f"estimated cost at most ${est['cost_usd']:.4f} at the batch price (live: ${est['live_cost_usd']:.4f}).")


def status_text(jobs: list[JobInfo], now: float | None = None) -> str:
    """`takeaways batch-status`: one line per recorded job."""
    now = time.time() if now is None else now
    if not jobs:
        return "No Batch API jobs recorded."
    lines = [f"{'part':<8} {'round':>5} {'job':<36} {'status':<12} {'done':>7} {'failed':>7} {'total':>7}  age"]
    for j in jobs:
        c = j.counts
        age = now - j.created
        age_text = f"{age / 3600:.1f} h" if age >= 3600 else f"{age / 60:.0f} min"
        lines.append(f"{j.part:<8} {j.round:>5} {j.batch_id or '(' + j.step + ')':<36} {j.status or '-':<12} "
                     f"{c.get('completed', 0):>7} {c.get('failed', 0):>7} {c.get('total', j.requests):>7}  {age_text}")
    return "\n".join(lines)


def jobs_status(out: Path, settings: Settings, *, cancel: bool = False) -> str:
    """`takeaways batch-status OUT [--cancel]`: the recorded jobs as the provider sees them now."""
    state = out / STATE_DIR
    if not (state / "batchapi.db").exists():
        raise ConfigError(f"{out} has no Batch API run (no {STATE_DIR}/batchapi.db); start one with "
                           f"`takeaways batch INPUT... --out {out} --batch-api`")
    sub = Submission(state, settings, Spec())
    try:
        lines = []
        if cancel:
            ids = sub.cancel()
            lines.append(f"Cancel requested for {len(ids)} job(s): {', '.join(ids) or '-'}; rerun the batch command to "
                         "collect what they answered (the rest is sent again).")
        lines.insert(0, status_text(sub.refresh()))
        return "\n".join(lines)
    finally:
        sub.close()


__all__ = ["BatchAPIExecutor", "dry_run", "dry_run_summary", "jobs_status", "load_articles", "make", "status_text",
           "summary_lines"]
