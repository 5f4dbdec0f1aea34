"""The live transport as a step machine (sans-IO): driven by hand here, with no server and no
client, the operations it asks for are the ones both drivers (sync and async) perform."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import openai
import pytest
from openai.types.chat import ChatCompletion

from takeaways.engines import llm
from takeaways.engines.llm import transport
from takeaways.engines.llm.conversation import Conversation
from takeaways.errors import LLMError
from takeaways.models import Digest, Spec
from tests.fakellm import grounded
from tests.test_batchfile import completion, offline_settings
from tests.test_llm import make_article

SPEC = Spec(takeaways=5, questions=4)


class Raw:
    """What `with_raw_response.create` returns: `.parse()` gives the ChatCompletion."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def parse(self) -> ChatCompletion:
        return ChatCompletion.model_validate(self.data)


def rejected(status: int = 500, message: str = "Unsupported response_format type: json_schema") -> openai.APIStatusError:
    response = httpx2.Response(status, request=httpx2.Request("POST", "http://127.0.0.1:9/v1/chat/completions"))
    return openai.APIStatusError(message, response=response, body={"message": message})


@pytest.fixture(autouse=True)
def fresh_modes() -> None:
    llm.forget_modes()


def test_probe_falls_back_then_reasks_with_retries_and_finishes() -> None:
    settings = offline_settings(max_retries=2)
    ops = transport.live(Conversation(make_article(), SPEC, settings))
    first = next(ops)
    assert isinstance(first, transport.Post) and first.attempts == 1  # a probe is never retried blindly
    assert first.body["response_format"]["type"] == "json_schema"
    second = ops.send(rejected())
    assert isinstance(second, transport.Post) and second.attempts == 1
    assert second.body["response_format"]["type"] == "json_object"
    assert {k: v for k, v in second.body.items() if k != "response_format"} == {
        k: v for k, v in first.body.items() if k != "response_format"}
    reask = ops.send(Raw(completion("not json")))
    assert llm.known_mode(settings) == "json_object"
    assert isinstance(reask, transport.Post) and reask.attempts == 3  # mode known: 1 + --max-retries
    assert reask.body["messages"][-2] == {"role": "assistant", "content": "not json"}
    reask.sent = 2  # the driver tried twice
    with pytest.raises(StopIteration) as stop:
        ops.send(Raw(completion(json.dumps(grounded(first.body)))))
    digest = stop.value.value
    assert isinstance(digest, Digest) and len(digest.takeaways) == 5
    assert digest.usage.requests == 4  # rejected probe + probe + two tries of the re-ask


def test_concurrent_probes_share_what_they_learn() -> None:
    """Two articles probing at once: a rejection one of them sees is skipped by probes that start
    later, and a mode one of them learns is taken by the other at its next step, with full retries."""
    settings = offline_settings(max_retries=2)
    a = transport.live(Conversation(make_article(), SPEC, settings))
    b = transport.live(Conversation(make_article(), SPEC, settings))
    a1, b1 = next(a), next(b)
    assert a1.body["response_format"]["type"] == b1.body["response_format"]["type"] == "json_schema"  # no waiting
    a2 = a.send(rejected())
    assert a2.body["response_format"]["type"] == "json_object"
    c = transport.live(Conversation(make_article(), SPEC, settings))
    assert next(c).body["response_format"]["type"] == "json_object"  # starts after the rejection: skips it
    with pytest.raises(StopIteration):
        a.send(Raw(completion(json.dumps(grounded(a1.body)))))
    assert llm.known_mode(settings) == "json_object"
    b2 = b.send(rejected())  # b's own json_schema probe is rejected too; the mode is known by now
    assert isinstance(b2, transport.Post) and b2.attempts == 3 and b2.body["response_format"]["type"] == "json_object"


def test_a_transient_probe_failure_waits_then_continues_with_the_remaining_retries() -> None:
    settings = offline_settings(max_retries=2, retry_wait=0.25)
    ops = transport.live(Conversation(make_article(), SPEC, settings))
    next(ops)
    wait = ops.send(rejected(503, "overloaded"))
    assert isinstance(wait, transport.Sleep) and wait.seconds >= 0.25
    retry = ops.send(None)
    assert isinstance(retry, transport.Post) and retry.attempts == 2
    assert retry.body["response_format"]["type"] == "json_schema"


def test_a_known_mode_is_sent_with_retries_and_a_permanent_error_carries_the_usage() -> None:
    settings = offline_settings(max_retries=1)
    llm.remember_mode(settings, "json_schema")
    ops = transport.live(Conversation(make_article(), SPEC, settings))
    post = next(ops)
    assert isinstance(post, transport.Post) and post.attempts == 2
    post.sent = 1
    with pytest.raises(LLMError, match="refused the API key") as info:
        ops.send(rejected(401, "bad key"))
    assert info.value.usage.requests == 1  # type: ignore[attr-defined]
