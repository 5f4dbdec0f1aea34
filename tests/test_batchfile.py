"""Batch API files: request lines are the live request, files split by count and size, result
lines parsed by custom_id, the conversation replayed across rounds, the batch price."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from takeaways import pricing
from takeaways.config import Settings
from takeaways.engines import batchfile, llm
from takeaways.errors import ConfigError, LLMError, TakeawaysError
from takeaways.models import Digest, Spec
from tests.fakellm import FakeLLM, Reply, grounded
from tests.test_llm import make_article, settings_for

SPEC = Spec(takeaways=5, questions=4)


def offline_settings(**kw: object) -> Settings:
    """Replay sends nothing: any base URL will do."""
    return Settings.from_env(engine="openai", base_url="http://127.0.0.1:9/v1", model="gpt-4o-mini", **kw)


def completion(content: str, finish: str = "stop", pt: int = 1000, ct: int = 500) -> dict[str, object]:
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}],
            "usage": {"prompt_tokens": pt, "completion_tokens": ct, "total_tokens": pt + ct}}


def test_the_batch_body_is_exactly_the_live_request(fake_llm: FakeLLM) -> None:
    article = make_article()
    settings = settings_for(fake_llm, seed=7, max_output_tokens=900)
    llm.forget_modes()
    ask = batchfile.replay(article, SPEC, settings, [])
    llm.forget_modes()
    llm.LLMEngine().generate(article, SPEC, settings)
    assert isinstance(ask, batchfile.Ask)
    assert ask.body == fake_llm.requests[0]
    assert ask.body["seed"] == 7 and ask.body["max_tokens"] == 900
    assert ask.body["response_format"]["type"] == "json_schema"
    line = json.loads(batchfile.request_line("k1", ask.body))
    assert line == {"custom_id": "k1", "method": "POST", "url": "/v1/chat/completions", "body": fake_llm.requests[0]}


@pytest.mark.parametrize("driver", ["sync", "async"])
def test_every_batch_body_of_a_conversation_is_the_live_request_of_that_step(fake_llm: FakeLLM, driver: str) -> None:
    """Re-ask and length retry included: the batch file and both live drivers share one builder."""
    article = make_article()
    settings = settings_for(fake_llm, seed=3, max_output_tokens=400)
    invalid, cut = "The article is about buses.", '{"takeaways": [{"text": "The city'
    fake_llm.script += [Reply(content=invalid), Reply(content=cut, finish_reason="length")]
    llm.forget_modes()
    engine = llm.LLMEngine()
    if driver == "sync":
        live = engine.generate(article, SPEC, settings)
    else:
        live = asyncio.run(engine.agenerate(article, SPEC, settings))
    assert len(fake_llm.requests) == 3 and live.usage.requests == 3
    history = [batchfile.Answer("a", completion=completion(invalid)),
               batchfile.Answer("b", completion=completion(cut, finish="length"))]
    asks = [batchfile.replay(article, SPEC, settings, history[:n]) for n in range(3)]
    assert [a.body for a in asks if isinstance(a, batchfile.Ask)] == fake_llm.requests
    assert [r["max_tokens"] for r in fake_llm.requests] == [400, 400, 800]


def test_replay_feeds_answers_and_asks_again_after_invalid_json_and_a_cut_off_answer() -> None:
    article = make_article()
    settings = offline_settings(max_output_tokens=800)
    first = batchfile.replay(article, SPEC, settings, [])
    assert isinstance(first, batchfile.Ask) and not first.followup and first.step == 0
    bad = batchfile.Answer("a", completion=completion("not json at all"))
    reask = batchfile.replay(article, SPEC, settings, [bad])
    assert isinstance(reask, batchfile.Ask) and reask.followup and reask.step == 1
    assert reask.body["messages"][-2] == {"role": "assistant", "content": "not json at all"}
    assert "invalid" in reask.body["messages"][-1]["content"]
    cut = batchfile.Answer("b", completion=completion("{", finish="length"))
    longer = batchfile.replay(article, SPEC, settings, [bad, cut])
    assert isinstance(longer, batchfile.Ask) and longer.max_tokens == 1600 and longer.body["max_tokens"] == 1600
    good = batchfile.Answer("c", completion=completion(json.dumps(grounded(first.body))))
    digest = batchfile.replay(article, SPEC, settings, [bad, cut, good])
    assert isinstance(digest, Digest) and len(digest.takeaways) == 5
    # three answers at the batch price: half of gpt-4o-mini's $0.15 / $0.60 per 1M tokens
    assert digest.usage.requests == 3
    assert digest.usage.cost_usd == pytest.approx(3 * (1000 * 0.075 + 500 * 0.30) / 1e6)
    with pytest.raises(LLMError, match="invalid output twice") as info:
        batchfile.replay(article, SPEC, settings, [bad, bad])
    assert info.value.usage.requests == 2  # type: ignore[attr-defined]


def test_replay_turns_a_context_error_into_chunks_and_a_permanent_error_into_a_failure() -> None:
    article = make_article()
    settings = offline_settings()
    too_long = batchfile.Answer("a", status=400, message="This model's maximum context length is 128 tokens")
    chunk = batchfile.replay(article, SPEC, settings, [too_long])
    assert isinstance(chunk, batchfile.Ask) and chunk.purpose.startswith("chunk 1/") and not chunk.followup
    with pytest.raises(LLMError, match="refused the API key"):
        batchfile.replay(article, SPEC, settings, [batchfile.Answer("a", status=401, message="bad key")])


def test_files_are_split_by_count_and_by_bytes() -> None:
    lines = [b"x" * 9 + b"\n"] * 7  # 10 bytes each
    assert [len(f) for f in batchfile.split_files(lines, max_requests=3)] == [3, 3, 1]
    assert [len(f) for f in batchfile.split_files(lines, max_bytes=25)] == [2, 2, 2, 1]
    assert [len(f) for f in batchfile.split_files(lines, max_requests=100, max_bytes=1000)] == [7]
    with pytest.raises(TakeawaysError, match="--batch-max-bytes"):
        batchfile.split_files(lines, max_bytes=5)


def test_result_lines_are_matched_by_custom_id_and_problems_reported() -> None:
    ok = {"id": "r1", "custom_id": "a", "response": {"status_code": 200, "body": completion("{}")}, "error": None}
    http_err = {"id": "r2", "custom_id": "b", "response": {"status_code": 500, "body": {"error": {"message": "boom"}}},
                "error": None}
    expired = {"id": "r3", "custom_id": "c", "response": None,
               "error": {"code": "batch_expired", "message": "not executed in time"}}
    bad_req = {"id": "r4", "custom_id": "d", "response": {"status_code": 400, "body": {"error": {"message": "no"}}},
               "error": None}
    output = "\n".join(json.dumps(x) for x in (ok, ok)) + "\nnot json\n"
    errors = "\n".join(json.dumps(x) for x in (http_err, expired, bad_req, {**http_err, "custom_id": "a"}))
    results = batchfile.parse_results([output, errors])
    a, b, c, d = (results.answers[k] for k in "abcd")
    assert a.ok and not a.transient
    assert b.transient and b.status == 500 and b.message == "boom"
    assert c.transient and c.code == "batch_expired"
    assert not d.ok and not d.transient and d.status == 400
    assert len(results.problems) == 2
    assert "answered twice" in results.problems[0] and "not a Batch API result line" in results.problems[1]
    assert batchfile.Answer.from_json(b.to_json()) == b


def test_batch_price_is_half_the_live_price_or_the_price_files_own(tmp_path: Path) -> None:
    assert pricing.cost("gpt-4o-mini", 1_000_000, 1_000_000, batch=True) == pytest.approx(0.375)
    assert pricing.cost("gpt-4o-mini", 1_000_000, 1_000_000) == pytest.approx(0.75)
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"my-model": {"input": 1.0, "output": 2.0, "batch": {"input": 0.2, "output": 0.4}},
                                  "other": {"input": 1.0, "output": 2.0}}))
    assert pricing.price_for("my-model", prices, batch=True) == {"input": 0.2, "output": 0.4}
    assert pricing.price_for("my-model", prices) == {"input": 1.0, "output": 2.0}
    assert pricing.price_for("other", prices, batch=True) == {"input": 0.5, "output": 1.0}
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"m": {"input": 1.0, "output": 2.0, "batch": {"input": "cheap"}}}))
    with pytest.raises(ConfigError, match="batch price"):
        pricing.price_for("m", broken)
