"""Long articles: the chunk requests of one article are asked together, then the merge — live
(async: concurrently; sync: one after another) and through the Batch API (all chunks in one round).
A re-ask, a length retry or a resend is for the one chunk that needs it."""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from takeaways import pricing
from takeaways.batch import apijobs as batchapi
from takeaways.batch.apijobs import Submission
from takeaways.engines import batchfile, llm
from takeaways.engines.llm.conversation import Conversation, Result
from takeaways.errors import BudgetExceeded
from takeaways.models import Digest, Spec
from tests.fakebatch import FakeBatchAPI, Job
from tests.fakellm import FakeLLM, Reply
from tests.test_batchapi import drive, no_duplicates, settings
from tests.test_batchfile import completion, offline_settings
from tests.test_llm import LONG, _merge_aware, make_article, settings_for

SPEC = Spec(takeaways=5, questions=4)
MAX_INPUT = 1500  # ARTICLE in 3 chunks whose candidates fit in one merge
ARTICLE = LONG * 2


def part(body: dict[str, Any]) -> int | None:
    """Which chunk a request asks about (None: not a chunk)."""
    m = re.search(r"This is part (\d+) of 3\b", body["messages"][1]["content"])
    return int(m.group(1)) if m else None


def is_merge(body: dict[str, Any]) -> bool:
    return "<candidates>" in body["messages"][1]["content"]


def invalid_first_part2(body: dict[str, Any]) -> Reply:
    if part(body) == 2 and len(body["messages"]) == 2:
        return Reply(content="Part two is about the council.")
    return _merge_aware(body)


def three_chunks(s: Any) -> Any:
    article = make_article(ARTICLE)
    assert len(llm.plan(article, SPEC, s).users) == 3
    return article


# ------------------------------------------------------------------ the step machine


def test_the_conversation_yields_all_chunks_in_one_step_then_the_merge() -> None:
    s = offline_settings(max_input_tokens=MAX_INPUT)
    article = three_chunks(s)
    steps = Conversation(article, SPEC, s).run()
    first = next(steps)
    assert [r.purpose for r in first] == ["chunk 1/3", "chunk 2/3", "chunk 3/3"]
    assert len({r.tag for r in first}) == 3
    answers = [Result(_parsed(completion(_merge_aware(llm.body(r, s, "json_schema")).content or "")), 1) for r in first]
    second = steps.send(answers)
    assert [r.purpose for r in second] == ["merge"]


def _parsed(data: dict[str, Any]) -> Any:
    from openai.types.chat import ChatCompletion

    return ChatCompletion.model_validate(data)


def test_the_merges_of_a_tree_level_go_together() -> None:
    s = offline_settings(max_input_tokens=900)
    steps = Conversation(make_article(LONG * 3), SPEC, s).run()
    sizes: list[int] = []
    with pytest.raises(StopIteration) as stop:
        batch = next(steps)
        while True:
            sizes.append(len(batch))
            batch = steps.send([Result(_parsed(completion(_merge_aware(llm.body(r, s, "json_schema")).content or "")), 1)
                                for r in batch])
    assert sizes == [8, 4, 2, 1]  # 8 chunks, then 4 + 2 + 1 merges: 4 steps, not 15
    digest = stop.value.value
    assert digest.usage.requests == 15 and len(digest.takeaways) == 5


def test_max_cost_checks_every_chunk_before_any_is_sent(fake_llm: FakeLLM) -> None:
    s = settings_for(fake_llm, max_input_tokens=MAX_INPUT)
    article = three_chunks(s)
    chunks = next(Conversation(article, SPEC, s).run())
    most = [pricing.cost(s.model, llm.messages_tokens(r.messages, s.model, "json_schema"), r.max_tokens) for r in chunks]
    # two chunks fit, the third does not: refused before anything goes out
    tight = settings_for(fake_llm, max_input_tokens=MAX_INPUT, max_cost=most[0] + most[1] + most[2] / 2)
    with pytest.raises(BudgetExceeded, match=r"chunk 3/3.*in flight"):
        llm.LLMEngine().generate(article, SPEC, tight)
    assert fake_llm.requests == []


# ------------------------------------------------------------------ live


def test_async_sends_the_three_chunks_together_then_the_merge(fake_llm: FakeLLM) -> None:
    fake_llm.default = _merge_aware
    fake_llm.hold = 3  # no answer until three requests are in: a one-at-a-time client would stall here
    s = settings_for(fake_llm, max_input_tokens=MAX_INPUT)
    digest = asyncio.run(llm.LLMEngine().agenerate(three_chunks(s), SPEC, s))
    events = fake_llm.events
    assert sorted(events[:3]) == [("arrived", 0), ("arrived", 1), ("arrived", 2)]  # all in before any answer
    assert sorted(part(r) or 0 for r in fake_llm.requests[:3]) == [1, 2, 3]
    merge_in = events.index(("arrived", 3))
    assert all(events.index(("answered", i)) < merge_in for i in range(3))  # the merge waits for every chunk
    assert is_merge(fake_llm.requests[3]) and len(fake_llm.requests) == 4
    assert digest.usage.requests == 4 and digest.usage.prompt_tokens == 4 * 100  # usage sums every request
    assert len(digest.takeaways) == 5


def test_sync_sends_the_chunks_one_after_another_then_the_merge(fake_llm: FakeLLM) -> None:
    fake_llm.default = _merge_aware
    s = settings_for(fake_llm, max_input_tokens=MAX_INPUT)
    digest = llm.LLMEngine().generate(three_chunks(s), SPEC, s)
    assert fake_llm.events == [(what, i) for i in range(4) for what in ("arrived", "answered")]
    assert [part(r) for r in fake_llm.requests] == [1, 2, 3, None] and is_merge(fake_llm.requests[3])
    assert digest.usage.requests == 4 and len(digest.takeaways) == 5


@pytest.mark.parametrize("driver", ["sync", "async"])
def test_invalid_json_of_one_chunk_re_asks_that_chunk_only(fake_llm: FakeLLM, driver: str) -> None:
    fake_llm.default = invalid_first_part2
    s = settings_for(fake_llm, max_input_tokens=MAX_INPUT)
    article = three_chunks(s)
    engine = llm.LLMEngine()
    digest = engine.generate(article, SPEC, s) if driver == "sync" else asyncio.run(engine.agenerate(article, SPEC, s))
    assert Counter(part(r) for r in fake_llm.requests) == {1: 1, 2: 2, 3: 1, None: 1}
    reask = next(r for r in fake_llm.requests if len(r["messages"]) == 4)
    assert part(reask) == 2 and reask["messages"][2]["content"] == "Part two is about the council."
    assert is_merge(fake_llm.requests[-1])
    assert digest.usage.requests == 5 and any("asked again once" in w for w in digest.warnings)


def test_a_cut_off_chunk_is_retried_alone_with_more_tokens(fake_llm: FakeLLM) -> None:
    def cut_part3(body: dict[str, Any]) -> Reply:
        if part(body) == 3 and body["max_tokens"] == 600:
            return Reply(content='{"takeaways": [', finish_reason="length")
        return _merge_aware(body)

    fake_llm.default = cut_part3
    s = settings_for(fake_llm, max_input_tokens=MAX_INPUT, max_output_tokens=600)
    digest = asyncio.run(llm.LLMEngine().agenerate(three_chunks(s), SPEC, s))
    assert sorted((part(r) or 0, r["max_tokens"]) for r in fake_llm.requests) == [
        (0, 600), (1, 600), (2, 600), (3, 600), (3, 1200)]
    assert digest.usage.requests == 5


# ------------------------------------------------------------------ Batch API


def long_items() -> dict[str, Any]:
    return {"k0": make_article(ARTICLE), "k1": make_article()}  # a long article and a short one


def round_ids(api: FakeBatchAPI) -> list[list[str]]:
    return [sorted(line["custom_id"] for line in b.lines) for b in api.batches.values()]


def test_batch_api_long_article_finishes_in_two_rounds(tmp_path: Path) -> None:
    with FakeBatchAPI(responder=_merge_aware) as api:
        sub = Submission(tmp_path / "state", settings(api, max_input_tokens=MAX_INPUT), SPEC)
        done = drive(sub, long_items())
        assert round_ids(api) == [["k0", "k0~1", "k0~2", "k1"], ["k0~3"]]  # the chunks, then the merge
        first, second = ([line["body"] for line in b.lines] for b in api.batches.values())
        assert sorted(part(b) or 0 for b in first) == [0, 1, 2, 3] and is_merge(second[0])
        assert first[0] == batchfile.replay_all(make_article(ARTICLE), SPEC, sub.settings, [])[0].body  # type: ignore[index]
    no_duplicates(api)
    assert isinstance(done["k0"].digest, Digest) and len(done["k0"].digest.takeaways) == 5
    assert done["k0"].usage.requests == 4 and done["k1"].usage.requests == 1


def test_batch_api_invalid_json_of_one_chunk_re_asks_only_that_chunk(tmp_path: Path) -> None:
    with FakeBatchAPI(responder=invalid_first_part2) as api:
        done = drive(Submission(tmp_path / "state", settings(api, max_input_tokens=MAX_INPUT), SPEC), long_items())
        assert round_ids(api) == [["k0", "k0~1", "k0~2", "k1"], ["k0~3"], ["k0~4"]]
        reask, merge = (b.lines[0]["body"] for b in list(api.batches.values())[1:])
    assert part(reask) == 2 and reask["messages"][2]["content"] == "Part two is about the council."
    assert is_merge(merge)
    no_duplicates(api)
    assert done["k0"].digest is not None and done["k0"].usage.requests == 5


def test_batch_api_a_lost_chunk_is_sent_again_alone(tmp_path: Path) -> None:
    with FakeBatchAPI(responder=_merge_aware) as api:
        api.plan.append(Job(errors=lambda i, cid: cid in ("k0~1", "k0~2"), error_status=500))
        sub = Submission(tmp_path / "state", settings(api, max_input_tokens=MAX_INPUT, max_retries=1), SPEC)
        done = drive(sub, long_items())
        assert round_ids(api) == [["k0", "k0~1", "k0~2", "k1"], ["k0~3", "k0~4"], ["k0~5"]]
        lines = list(api.batches.values())
        assert [x["body"] for x in lines[1].lines] == [x["body"] for x in lines[0].lines[1:3]]
    no_duplicates(api)
    assert done["k0"].digest is not None  # two chunks lost in one job spent one of its one round


_CRASH_POINTS = ("planned", "written", "uploaded-unrecorded", "created-unrecorded", "polled", "collected")


@pytest.mark.parametrize("point", _CRASH_POINTS)
def test_batch_api_chunks_resume_after_a_stop_without_sending_anything_twice(tmp_path: Path, point: str,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeBatchAPI(responder=_merge_aware) as api:
        api.plan.append(Job(errors=lambda i, cid: cid == "k0~1"))  # chunk 2 again in round 2, then the merge
        monkeypatch.setenv(batchapi.CRASH_ENV, point)
        sub = Submission(tmp_path / "state", settings(api, max_input_tokens=MAX_INPUT), SPEC, max_requests=2)
        with pytest.raises(batchapi.Crash):
            drive(sub, long_items())
        sub.close()
        monkeypatch.delenv(batchapi.CRASH_ENV)
        done = drive(Submission(tmp_path / "state", settings(api, max_input_tokens=MAX_INPUT), SPEC, max_requests=2),
                     long_items())
    no_duplicates(api)
    assert sorted(api.submitted) == ["k0", "k0~1", "k0~2", "k0~3", "k0~4", "k1"]
    merge = next(line["body"] for b in api.batches.values() for line in b.lines if line["custom_id"] == "k0~4")
    assert is_merge(merge)
    assert all(f.digest is not None for f in done.values()) and done["k0"].usage.requests == 4


def test_batch_api_re_asks_of_two_chunks_split_across_files_spend_one_round(tmp_path: Path) -> None:
    def invalid_first_parts12(body: dict[str, Any]) -> Reply:
        if part(body) in (1, 2) and len(body["messages"]) == 2:
            return Reply(content="Not JSON.")
        return _merge_aware(body)

    with FakeBatchAPI(responder=invalid_first_parts12) as api:
        sub = Submission(tmp_path / "state", settings(api, max_input_tokens=MAX_INPUT, max_retries=1), SPEC,
                         max_requests=1)  # one request per file: a round is several jobs
        done = drive(sub, {"k0": make_article(ARTICLE)})
        rounds = Counter(j.round for j in sub.jobs())
    assert rounds == {1: 3, 2: 2, 3: 1}  # chunks; the two re-asks; the merge
    no_duplicates(api)
    assert done["k0"].digest is not None and done["k0"].usage.requests == 6


def test_export_writes_every_chunk_then_the_merge_after_the_import(tmp_path: Path) -> None:
    from tests.test_batchapi import answer_file

    sub = Submission(tmp_path / "state", offline_settings(max_input_tokens=MAX_INPUT), SPEC)
    items = long_items()
    sub.add(items.items())
    n, finished = sub.export(items.keys(), tmp_path / "r1.jsonl")
    lines = [json.loads(x) for x in (tmp_path / "r1.jsonl").read_text().splitlines()]
    assert n == 4 and finished == [] and sorted(x["custom_id"] for x in lines) == ["k0", "k0~1", "k0~2", "k1"]
    answer_file(tmp_path / "r1.jsonl", tmp_path / "o1.jsonl", _merge_aware)
    assert sub.import_results(tmp_path / "o1.jsonl") == (4, [])
    assert [f.key for f in sub.step(items.keys(), submit=False)] == ["k1"]  # the short one is done, k0 needs its merge
    n, _ = sub.export(items.keys(), tmp_path / "r2.jsonl")
    merge = [json.loads(x) for x in (tmp_path / "r2.jsonl").read_text().splitlines()]
    assert n == 1 and merge[0]["custom_id"] == "k0~3" and is_merge(merge[0]["body"])
    answer_file(tmp_path / "r2.jsonl", tmp_path / "o2.jsonl", _merge_aware)
    assert sub.import_results(tmp_path / "o2.jsonl") == (1, [])
    done = list(sub.step(items.keys(), submit=False))
    assert [f.key for f in done] == ["k0"] and done[0].digest is not None and done[0].usage.requests == 4


_CHILD = """
import sys
from pathlib import Path
from tests.test_batchapi import drive, settings
from tests.test_llm_chunks import MAX_INPUT, SPEC, long_items
from tests.fakebatch import FakeBatchAPI
from takeaways.batch.apijobs import Submission
from takeaways.config import Settings
s = Settings.from_env(engine="openai", base_url=sys.argv[1], api_key="x", model="gpt-4o-mini", timeout=5.0,
                      max_input_tokens=MAX_INPUT)
drive(Submission(Path(sys.argv[2]), s, SPEC, max_requests=2), long_items())
"""


@pytest.mark.parametrize("point", ["uploaded-unrecorded", "created-unrecorded"])
def test_batch_api_chunks_survive_kill_9_between_a_call_and_its_record(tmp_path: Path, point: str) -> None:
    import os
    import signal
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, batchapi.CRASH_ENV: f"{point}:kill",
           "PYTHONPATH": os.pathsep.join([str(root / "src"), str(root), os.environ.get("PYTHONPATH", "")])}
    with FakeBatchAPI(responder=_merge_aware) as api:
        proc = subprocess.run([sys.executable, "-c", _CHILD, api.url, str(tmp_path / "state")], env=env,
                              capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == -signal.SIGKILL, proc.stderr
        done = drive(Submission(tmp_path / "state", settings(api, max_input_tokens=MAX_INPUT), SPEC, max_requests=2),
                     long_items())
    no_duplicates(api)
    assert sorted(api.submitted) == ["k0", "k0~1", "k0~2", "k0~3", "k1"]  # two parts of chunks, then the merge
    assert all(f.digest is not None for f in done.values())
