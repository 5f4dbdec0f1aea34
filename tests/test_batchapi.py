"""The Batch API step machine against the fake Batch API: parts, rounds, retries, and resuming
after a stop at every step without uploading, creating or submitting anything twice."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from takeaways import batchapi
from takeaways.batchapi import Finished, Submission
from takeaways.config import Settings
from takeaways.engines import batchfile
from takeaways.models import Article, Digest, Spec
from tests.fakebatch import FakeBatchAPI, Job
from tests.fakellm import Reply, grounded, grounded_reply
from tests.test_llm import PARAS, make_article

SPEC = Spec(takeaways=5, questions=4)


def articles(n: int) -> dict[str, Article]:
    """n different articles keyed k0..k(n-1)."""
    return {f"k{i}": make_article([f"Item {i} of the series. " + p for p in PARAS]) for i in range(n)}


def settings(api: FakeBatchAPI, **kw: Any) -> Settings:
    base: dict[str, Any] = {"engine": "openai", "base_url": api.url, "api_key": "x", "model": "gpt-4o-mini",
                            "max_retries": 2, "timeout": 5.0}
    return Settings.from_env(**(base | kw))


def submission(tmp_path: Path, api: FakeBatchAPI, **kw: Any) -> Submission:
    max_requests = kw.pop("max_requests", 50_000)
    return Submission(tmp_path / "state", settings(api, **kw), SPEC, max_requests=max_requests)


def drive(sub: Submission, arts: dict[str, Article], steps: int = 30) -> dict[str, Finished]:
    """Step until every item finished; each item must finish exactly once."""
    done: dict[str, Finished] = {}
    for _ in range(steps):
        for f in sub.step(arts):
            assert f.key not in done, f"{f.key} finished twice"
            done[f.key] = f
        if len(done) == len(arts):
            return done
    raise AssertionError(f"not finished after {steps} steps: {sorted(set(arts) - set(done))}")


def no_duplicates(api: FakeBatchAPI) -> None:
    dup = [cid for cid, n in Counter(api.submitted).items() if n > 1]
    assert not dup, f"submitted twice: {dup}"


def test_requests_go_out_in_parts_and_answers_come_back_as_digests(tmp_path: Path) -> None:
    arts = articles(3)
    with FakeBatchAPI() as api:
        sub = submission(tmp_path, api, max_requests=2)
        assert sub.step(arts) == []  # submitted, nothing back yet
        assert len(api.uploads()) == 2 and len(api.batches) == 2
        assert sorted(api.submitted) == ["k0", "k1", "k2"]  # custom_id = the key for a first request
        first = api.requests()[0]
        assert first["body"] == batchfile.replay(arts["k0"], SPEC, sub.settings, []).body
        metas = [b.obj["metadata"] for b in api.batches.values()]
        assert metas == [{"takeaways_run": sub.run_id, "takeaways_part": p} for p in ("p00001", "p00002")]
        done = drive(sub, arts)
        assert sub.in_flight() == 0
        assert [j.status for j in sub.jobs()] == ["completed", "completed"]
    for f in done.values():
        assert isinstance(f.digest, Digest) and len(f.digest.takeaways) == 5 and f.error is None
        # one request at the batch price: half of gpt-4o-mini's $0.15 / $0.60 per 1M tokens
        assert f.usage.requests == 1
        assert f.usage.cost_usd == pytest.approx((100 * 0.075 + 50 * 0.30) / 1e6)
    assert not list((tmp_path / "state" / "batchapi").glob("takeaways-*.jsonl"))  # input files go once created


@pytest.mark.parametrize("job", [
    Job(errors=lambda i, cid: i % 2 == 0, error_status=500),
    Job(errors=lambda i, cid: i == 1, error_status=429),
    Job(end="expired", done=0.5),
    Job(end="cancelled", done=0.5),
    Job(end="failed"),
], ids=["5xx-lines", "429-line", "expired-half-done", "cancelled-half-done", "failed"])
def test_what_did_not_come_back_goes_out_again_in_a_new_job(tmp_path: Path, job: Job) -> None:
    arts = articles(4)
    with FakeBatchAPI() as api:
        api.plan.append(job)
        sub = submission(tmp_path, api)
        done = drive(sub, arts)
        assert len(api.batches) == 2  # the first job, then one more for what it did not answer
        resent = [line["custom_id"] for line in list(api.batches.values())[1].lines]
    assert resent and all(cid.endswith("~1") for cid in resent)
    no_duplicates(api)
    assert all(f.digest is not None for f in done.values())


def test_an_item_that_never_comes_back_fails_after_its_rounds_with_the_reason(tmp_path: Path) -> None:
    arts = articles(2)
    always = Job(errors=lambda i, cid: cid.startswith("k1"), error_status=503)
    with FakeBatchAPI(default_job=always) as api:
        done = drive(submission(tmp_path, api, max_retries=2), arts)
        assert Counter(cid.split("~")[0] for cid in api.submitted) == {"k0": 1, "k1": 3}  # 1 + --max-retries
    no_duplicates(api)
    assert done["k0"].digest is not None
    err = done["k1"].error
    assert done["k1"].digest is None and err is not None
    assert "HTTP 503" in str(err) and "3 round(s)" in str(err) and "--max-retries 2" in str(err)


def invalid_first(body: dict[str, Any]) -> Reply:
    """Invalid JSON to a first request, a good answer to the re-ask."""
    if len(body["messages"]) == 2:
        return Reply(content="this is not JSON")
    return grounded_reply(body)


def test_a_re_ask_after_invalid_json_goes_in_the_next_round(tmp_path: Path) -> None:
    arts = articles(2)
    with FakeBatchAPI(responder=invalid_first) as api:
        done = drive(submission(tmp_path, api), arts)
        reask = list(api.batches.values())[1].lines
    assert sorted(x["custom_id"] for x in reask) == ["k0~1", "k1~1"]
    assert reask[0]["body"]["messages"][-2] == {"role": "assistant", "content": "this is not JSON"}
    for f in done.values():
        assert f.digest is not None and f.usage.requests == 2


def test_without_retry_rounds_a_re_ask_fails_the_item(tmp_path: Path) -> None:
    arts = articles(1)
    with FakeBatchAPI(responder=invalid_first) as api:
        done = drive(submission(tmp_path, api, max_retries=0), arts)
        assert len(api.batches) == 1
    assert "re-ask after invalid output" in str(done["k0"].error)
    assert done["k0"].usage.requests == 1  # the invalid answer was paid for


def test_a_cut_off_answer_is_asked_again_with_more_tokens(tmp_path: Path) -> None:
    def cut_first(body: dict[str, Any]) -> Reply:
        if body["max_tokens"] == 800:
            return Reply(content='{"takeaways": [', finish_reason="length")
        return Reply(content=json.dumps(grounded(body)))

    with FakeBatchAPI(responder=cut_first) as api:
        done = drive(submission(tmp_path, api, max_output_tokens=800), articles(1))
        bodies = [line["body"] for line in api.requests()]
    assert [b["max_tokens"] for b in bodies] == [800, 1600]
    assert done["k0"].digest is not None


def test_a_finished_conversation_is_rebuilt_from_the_db_in_a_new_process(tmp_path: Path) -> None:
    arts = articles(2)
    with FakeBatchAPI() as api:
        first = drive(submission(tmp_path, api), arts)
        again = drive(submission(tmp_path, api), arts)  # e.g. killed before the journal committed
        assert len(api.batches) == 1
    assert {k: f.digest for k, f in again.items()} == {k: f.digest for k, f in first.items()}


def test_unknown_custom_ids_in_a_result_file_are_reported(tmp_path: Path) -> None:
    def stray(body: dict[str, Any]) -> Reply:
        return grounded_reply(body)

    with FakeBatchAPI(responder=stray) as api:
        sub = submission(tmp_path, api)
        sub.step(articles(1))
        batch = next(iter(api.batches.values()))
        batch.lines.append({"custom_id": "nobody", "method": "POST", "url": "/v1/chat/completions",
                            "body": batch.lines[0]["body"]})
        done = drive(sub, articles(1))
    assert done["k0"].digest is not None
    assert any("unknown custom_id nobody" in p for p in sub.problems)


@pytest.mark.parametrize("point", batchapi.CRASH_POINTS)
def test_a_stop_at_any_step_resumes_without_sending_anything_twice(tmp_path: Path, point: str,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    arts = articles(3)
    with FakeBatchAPI() as api:
        api.plan.append(Job(errors=lambda i, cid: i == 0))  # a second round, so every step runs twice
        monkeypatch.setenv(batchapi.CRASH_ENV, point)
        sub = submission(tmp_path, api, max_requests=2)
        with pytest.raises(batchapi.Crash):
            drive(sub, arts)
        sub.close()
        monkeypatch.delenv(batchapi.CRASH_ENV)
        done = drive(submission(tmp_path, api, max_requests=2), arts)  # a new process resumes
        parts = len({b.obj["metadata"]["takeaways_part"] for b in api.batches.values()})
        assert len(api.batches) == parts == 3  # two parts, then one for the line in the error file
        assert len(api.uploads()) == parts
    no_duplicates(api)
    assert sorted(api.submitted) == ["k0", "k0~1", "k1", "k2"]
    assert all(f.digest is not None for f in done.values())


_CHILD = """
import sys
from pathlib import Path
from tests.test_batchapi import SPEC, articles, drive
from takeaways.batchapi import Submission
from takeaways.config import Settings
settings = Settings.from_env(engine="openai", base_url=sys.argv[1], api_key="x", model="gpt-4o-mini", timeout=5.0)
drive(Submission(Path(sys.argv[2]), settings, SPEC, max_requests=2), articles(3))
"""


@pytest.mark.parametrize("point", ["uploaded-unrecorded", "created-unrecorded", "polled"])
def test_kill_9_between_a_call_and_its_record_then_resume(tmp_path: Path, point: str) -> None:
    import os
    import signal
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, batchapi.CRASH_ENV: f"{point}:kill",
           "PYTHONPATH": os.pathsep.join([str(root / "src"), str(root), os.environ.get("PYTHONPATH", "")])}
    with FakeBatchAPI() as api:
        proc = subprocess.run([sys.executable, "-c", _CHILD, api.url, str(tmp_path / "state")], env=env,
                              capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == -signal.SIGKILL, proc.stderr
        done = drive(Submission(tmp_path / "state", settings(api), SPEC, max_requests=2), articles(3))
        assert len(api.uploads()) == len(api.batches) == 2
    no_duplicates(api)
    assert sorted(api.submitted) == ["k0", "k1", "k2"] and len(done) == 3
