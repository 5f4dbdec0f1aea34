"""The run report (report.json), the human summary and the exit code."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .options import REPORT, RESULTS
from .state import PENDING
from .work import DONE, FAILED, SKIPPED

if TYPE_CHECKING:
    from .executors import Status
    from .journal import Journal


def build(journal: Journal, status: Status, engine: str, wall: float, executor: str = "local") -> dict[str, Any]:
    state = journal.state
    counts = state.counts()
    totals = state.totals()
    opts = journal.opts
    reviews = state.reviews()  # recorded by `takeaways apply-review`
    return {
        "out": str(opts.out), "run": state.run, "engine": engine, "executor": executor,
        "model": journal.settings.model if engine != "extractive" else None,
        "items": sum(counts.values()), "duplicate_inputs": journal.duplicates,
        "done": counts[DONE], "failed": counts[FAILED], "skipped": counts[SKIPPED], "pending": counts[PENDING],
        "this_run": {"finished": totals["finished"], "from_cache": totals["cached"]},
        "usage": {k: totals[k] for k in ("requests", "prompt_tokens", "completion_tokens", "cost_usd")},
        "failures": state.reasons(FAILED), "skips": state.reasons(SKIPPED),
        "wall_time_s": round(wall, 3),
        "items_per_s": round(totals["finished"] / wall, 3) if wall > 0 else None,
        "interrupted": status.interrupted, "budget_reached": status.budget_reached,
        "max_cost": opts.max_cost, **({"executor_info": status.info} if status.info else {}),
        **({"review": _review_summary(reviews)} if reviews else {}),
    }


def _review_summary(reviews: dict[str, tuple[str | None, dict[str, str]]]) -> dict[str, Any]:
    from ..review import review_summary

    return review_summary(reviews)


def exit_code(report: dict[str, Any]) -> int:
    """0: every item done or skipped (or waiting in Batch API jobs); 1: some failed (or left pending
    by the budget); 130: interrupted."""
    if report.get("interrupted"):
        return 130
    if report.get("dry_run"):
        return 0
    awaiting = (report.get("executor_info") or {}).get("batch_api", {}).get("awaiting", 0)
    return 1 if report["failed"] or report["pending"] - awaiting > 0 else 0  # items in Batch API jobs are on their way


def summary(report: dict[str, Any]) -> str:
    """The human summary printed at the end of a run."""
    if report.get("dry_run"):
        lines = [f"Dry run: {report['items']} item(s) ({report['duplicate_inputs']} duplicate input(s) dropped): "
                 f"{report['to_process']} to process, {report['done']} done, {report['failed']} failed, "
                 f"{report['skipped']} skipped in earlier runs; at most {report['llm_calls_at_most']} LLM call(s)."]
        lines += [f"  {s}" for s in report["first"]]
        if report["to_process"] > len(report["first"]):
            lines.append(f"  … and {report['to_process'] - len(report['first'])} more")
        if "batch_api" in report:
            from .executors.batchapi import dry_run_summary

            lines.append(dry_run_summary(report["batch_api"]))
        return "\n".join(lines)
    u = report["usage"]
    awaiting = (report.get("executor_info") or {}).get("batch_api", {}).get("awaiting", 0)
    lines = [
        f"{report['items']} item(s): {report['done']} done, {report['skipped']} skipped, {report['failed']} failed"
        + (f", {report['pending'] - awaiting} not processed" if report["pending"] > awaiting else "")
        + (f", {awaiting} in Batch API jobs" if awaiting else "")
        + (f" ({report['duplicate_inputs']} duplicate input(s) dropped)" if report["duplicate_inputs"] else ""),
        f"this run: {report['this_run']['finished']} finished ({report['this_run']['from_cache']} from cache) in "
        f"{report['wall_time_s']:.1f} s, {report['items_per_s'] or 0:.2f} items/s; "
        f"{u['requests']} LLM request(s), {u['prompt_tokens'] + u['completion_tokens']:,} tokens, ${u['cost_usd']:.4f}",
    ]
    if isinstance(line := (report.get("executor_info") or {}).get("summary"), str):  # e.g. Ray: nodes, rows per node
        lines.append(line)
    for title, groups in (("failed", report["failures"]), ("skipped", report["skips"])):
        for g in groups:
            lines.append(f"  {title} {g['count']}× {g['reason']}  e.g. {', '.join(g['examples'])}")  # noqa: RUF001 - a multiplication sign
    if report["budget_reached"]:
        lines.append(f"Stopped: --max-cost {report['max_cost']} reached; raise it and rerun to continue.")
    if report["interrupted"]:
        lines.append("Interrupted: finished items are saved; rerun the same command to continue.")
    elif report["failed"]:
        lines.append("Rerun with --retry-failed to retry the failed items.")
    if "batch_api" in (report.get("executor_info") or {}):
        from .executors.batchapi import summary_lines

        lines += summary_lines(report["executor_info"]["batch_api"])
    lines.append(f"Results: {report['out']}/{RESULTS}, report: {report['out']}/{REPORT}")
    return "\n".join(lines)
