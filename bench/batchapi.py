"""Batch API figures against the fake Batch API (tests/fakebatch.py) on 127.0.0.1.

    python bench/batchapi.py [--articles 200] [--data ../shared/data] [--model gpt-4o-mini]

For each failure scenario, the step machine (batch/apijobs.py) drives every article to the end
with --max-retries 2 and prints: requests per item, jobs and rounds needed, requests that came
back unanswered, items failed, the custom_ids submitted twice (must be 0), and the cost paid at
the batch price. Then the --dry-run estimate for the same articles: requests, files, tokens, and
the cost at the batch price vs live. Real articles come from highlights-dev.jsonl when --data has
it (CNN/DailyMail news), else synthetic ones.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.fakebatch
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from takeaways.batch.apijobs import Finished, Submission, estimate
from takeaways.config import Settings
from takeaways.extraction import extract_text
from takeaways.models import Article, Spec
from tests.fakebatch import FakeBatchAPI, Job
from tests.fakellm import Reply, grounded_reply

SPEC = Spec(takeaways=5, questions=4)


def load(data: Path, n: int) -> list[Article]:
    path = data / "highlights-dev.jsonl"
    if path.exists():
        out = []
        with path.open() as fh:
            for line in fh:
                out.append(extract_text(json.loads(line)["article"]))
                if len(out) >= n:
                    break
        return out
    from tests.test_llm import PARAS, make_article

    return [make_article([f"Story {i}. " + p for p in PARAS]) for i in range(n)]


def every(k: int) -> Callable[[int, str], bool]:
    return lambda i, cid: i % k == 0


def flaky_json(body: dict[str, Any]) -> Reply:
    """One first answer in ten is not JSON (a re-ask follows)."""
    if len(body["messages"]) == 2 and hash(body["messages"][1]["content"]) % 10 == 0:
        return Reply(content="Sure! Here are the takeaways you asked for.")
    return grounded_reply(body)


SCENARIOS: list[tuple[str, list[Job], Any]] = [
    ("all complete", [], grounded_reply),
    ("10% of lines 5xx", [Job(errors=every(10), error_status=500)], grounded_reply),
    ("10% of lines 429", [Job(errors=every(10), error_status=429)], grounded_reply),
    ("first job expires half done", [Job(end="expired", done=0.5)], grounded_reply),
    ("first job cancelled half done", [Job(end="cancelled", done=0.5)], grounded_reply),
    ("first job fails validation", [Job(end="failed")], grounded_reply),
    ("10% invalid JSON (re-ask)", [], flaky_json),
    ("every line 5xx, every job", [Job(errors=every(1))] * 10, grounded_reply),
]


def scenario(arts: list[Article], plan: list[Job], responder: Any, model: str, max_requests: int) -> dict[str, Any]:
    with FakeBatchAPI(responder=responder, default_job=Job(polls=0)) as api, tempfile.TemporaryDirectory() as tmp:
        api.plan.extend(plan)
        settings = Settings.from_env(engine="openai", base_url=api.url, api_key="x", model=model, max_retries=2,
                                     timeout=10.0)
        sub = Submission(Path(tmp), settings, SPEC, max_requests=max_requests)
        keys = {f"item{i}": a for i, a in enumerate(arts)}
        sub.add(keys.items())
        done: dict[str, Finished] = {}
        steps = 0
        t0 = time.perf_counter()
        while len(done) < len(keys) and steps < 50:
            steps += 1
            done.update({f.key: f for f in sub.step(keys.keys())})
        wall = time.perf_counter() - t0
        rounds = max(j.round for j in sub.jobs())
        twice = sum(1 for n in Counter(api.submitted).values() if n > 1)
        failed = sum(1 for f in done.values() if f.digest is None)
        cost = sum(f.usage.cost_usd for f in done.values())
        return {"requests/item": len(api.submitted) / len(arts), "jobs": len(api.batches), "rounds": rounds,
                "unanswered": len(api.submitted) - sum(f.usage.requests for f in done.values()),
                "failed": failed, "sent twice": twice, "cost $": round(cost, 6), "wall s": round(wall, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--articles", type=int, default=200)
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--model", default="gpt-4o-mini")
    ap.add_argument("--max-requests", type=int, default=50_000, help="per file (--batch-max-requests)")
    args = ap.parse_args()
    arts = load(args.data, args.articles)
    print(f"{len(arts)} articles, model {args.model}, --max-retries 2, --batch-max-requests {args.max_requests}")
    print(f"{'scenario':<32} " + " ".join(f"{h:>12}" for h in ("requests/item", "jobs", "rounds", "unanswered",
                                                                  "failed", "sent twice", "cost $", "wall s")))
    for name, plan, responder in SCENARIOS:
        r = scenario(arts, plan, responder, args.model, args.max_requests)
        print(f"{name:<32} " + " ".join(f"{v:>12.2f}" if isinstance(v, float) and k == "requests/item" else f"{v:>12}"
                                        for k, v in r.items()))
    s = Settings.from_env(engine="openai", base_url="http://127.0.0.1:9/v1", model=args.model)
    est = estimate(arts, s, SPEC, max_requests=args.max_requests)
    print(f"\nestimate (--dry-run --batch-api): {est.requests} requests ({est.requests / est.items:.2f}/item), "
          f"{est.files} file(s), {est.bytes:,} bytes, {est.prompt_tokens:,} prompt tokens, at most "
          f"{est.max_output_tokens:,} output tokens")
    print(f"cost at most: ${est.cost_usd:.4f} at the batch price vs ${est.live_cost_usd:.4f} live "
          f"({est.cost_usd / est.live_cost_usd:.0%}); per 1M articles: ${est.cost_usd / est.items * 1e6:,.0f} vs "
          f"${est.live_cost_usd / est.items * 1e6:,.0f}")


if __name__ == "__main__":
    main()
