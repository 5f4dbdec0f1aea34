"""The Batch API step machine against the fake Batch API: parts, rounds, retries, and resuming
after a stop at every step without uploading, creating or submitting anything twice."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from takeaways.batch import apijobs as batchapi
from takeaways.batch.apijobs import Finished, Submission
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
    sub.add(arts.items())
    for _ in range(steps):
        for f in sub.step(arts.keys()):
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
        sub.add(arts.items())
        assert list(sub.step(arts.keys())) == []  # submitted, nothing back yet
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
    assert not list((tmp_path / "state" / "batchapi").glob("*.jsonl"))  # input files go once created, results once collected


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
        sub.add(articles(1).items())
        list(sub.step({"k0"}))
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
from takeaways.batch.apijobs import Submission
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


def answer_file(requests: Path, out: Path, responder: Any = grounded_reply, extra: list[str] | None = None) -> None:
    """What `vllm run-batch -i requests -o out` writes: one output line per request line."""
    from tests.fakebatch import _completion

    lines = []
    for n, raw in enumerate(requests.read_text().splitlines()):
        req = json.loads(raw)
        lines.append(json.dumps({"id": f"vllm-{n}", "custom_id": req["custom_id"], "error": None, "response": {
            "status_code": 200, "request_id": f"vllm-{n}", "body": _completion(req["body"], responder(req["body"]), f"r{n}")}}))
    out.write_text("\n".join(lines + (extra or [])) + "\n")


def test_export_then_answer_elsewhere_then_import_round_trip(tmp_path: Path) -> None:
    arts = articles(3)
    sub = Submission(tmp_path / "state", Settings.from_env(engine="openai", base_url="http://127.0.0.1:9/v1",
                                                           model="gpt-4o-mini"), SPEC)
    sub.add(arts.items())
    n, finished = sub.export(arts.keys(), tmp_path / "requests.jsonl")
    assert n == 3 and finished == []
    lines = [json.loads(x) for x in (tmp_path / "requests.jsonl").read_text().splitlines()]
    assert [x["custom_id"] for x in lines] == ["k0", "k1", "k2"] and all(x["url"] == "/v1/chat/completions" for x in lines)
    stray = json.dumps({"custom_id": "nobody", "response": {"status_code": 200, "body": {"choices": []}}})
    answer_file(tmp_path / "requests.jsonl", tmp_path / "out.jsonl", invalid_first, extra=[stray, "garbage"])
    matched, problems = sub.import_results(tmp_path / "out.jsonl")
    assert matched == 3
    assert any("nobody matches no exported request" in p for p in problems)
    assert any("not a Batch API result line" in p for p in problems)
    assert list(sub.step(arts.keys(), submit=False)) == []  # every answer was invalid JSON: a re-ask is due
    n, _ = sub.export(arts.keys(), tmp_path / "round2.jsonl")
    again = [json.loads(x) for x in (tmp_path / "round2.jsonl").read_text().splitlines()]
    assert n == 3 and sorted(x["custom_id"] for x in again) == ["k0~1", "k1~1", "k2~1"]
    answer_file(tmp_path / "round2.jsonl", tmp_path / "out2.jsonl")
    assert sub.import_results(tmp_path / "out2.jsonl") == (3, [])
    done = {f.key: f for f in sub.step(arts.keys(), submit=False)}
    assert sorted(done) == ["k0", "k1", "k2"] and all(f.digest is not None for f in done.values())
    _, problems = sub.import_results(tmp_path / "out2.jsonl")  # importing the same file twice
    assert len(problems) == 3 and all("already imported" in p for p in problems)


def test_an_export_never_imported_is_written_again_with_the_same_custom_ids(tmp_path: Path) -> None:
    arts = articles(2)
    sub = Submission(tmp_path / "state", Settings.from_env(engine="openai", base_url="http://127.0.0.1:9/v1"), SPEC)
    sub.add(arts.items())
    sub.export(arts.keys(), tmp_path / "a.jsonl")
    n, _ = sub.export(arts.keys(), tmp_path / "b.jsonl")
    assert n == 2 and (tmp_path / "a.jsonl").read_text() == (tmp_path / "b.jsonl").read_text()
    answer_file(tmp_path / "a.jsonl", tmp_path / "out.jsonl")  # the answers to the first file still count
    assert sub.import_results(tmp_path / "out.jsonl") == (2, [])


def test_a_request_too_big_for_any_file_fails_that_item_only(tmp_path: Path) -> None:
    arts = articles(2)
    arts["huge"] = make_article([(p + " ") * 100 for p in PARAS])
    with FakeBatchAPI() as api:
        sub = Submission(tmp_path / "state", settings(api, max_input_tokens=500_000), SPEC, max_bytes=60_000)
        done = drive(sub, arts)
    assert "over --batch-max-bytes 60000" in str(done["huge"].error)
    assert done["k0"].digest is not None and "huge" not in api.submitted


def test_the_estimate_counts_requests_and_files_at_half_the_live_price(tmp_path: Path) -> None:
    arts = list(articles(5).values())
    s = Settings.from_env(engine="openai", base_url="http://127.0.0.1:9/v1", model="gpt-4o-mini")
    est = batchapi.estimate(arts, s, SPEC, max_requests=2)
    assert (est.items, est.requests, est.first_round, est.files) == (5, 5, 5, 3)
    assert est.cost_usd == pytest.approx(est.live_cost_usd / 2, rel=1e-4) and est.cost_usd > 0
    assert est.max_output_tokens == 5 * s.max_output_tokens


def test_a_create_whose_answer_is_lost_is_found_not_created_again(tmp_path: Path) -> None:
    arts = articles(2)
    with FakeBatchAPI() as api:
        api.lose_create_answers = 1
        done = drive(submission(tmp_path, api), arts)
        assert len(api.batches) == 1 and ("POST", "/batches") in api.calls
    no_duplicates(api)
    assert all(f.digest is not None for f in done.values())
