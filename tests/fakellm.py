"""A scripted OpenAI-compatible server on 127.0.0.1 for tests and benchmarks.

The openai package sends through httpx2, which respx/pytest-httpx do not intercept, so the
tests talk to a real HTTP server instead. Each request is recorded; each answer comes from
`script` (consumed in order) or, when the script is empty, from `default`.

    with FakeLLM() as llm:                      # answers with grounded JSON by default
        llm.script.append(Reply(status=500))    # the first request fails
        ... OpenAI(base_url=llm.url, api_key="x") ...
        assert len(llm.requests) == 2
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.loopback import Handler, LoopbackServer

ARTICLE_FENCE = re.compile(r"<article>\n?(.*?)\n?</article>", re.S)


@dataclass
class Reply:
    """One scripted answer. `content` is the assistant message; `body` replaces the whole JSON body."""

    content: str | None = None
    status: int = 200
    finish_reason: str = "stop"
    prompt_tokens: int = 100
    completion_tokens: int = 50
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    body: Any = None
    refusal: str | None = None


Responder = Callable[[dict[str, Any]], Reply]


def article_of(request: dict[str, Any]) -> str:
    """The article text fenced in the request's user message (empty if none)."""
    for msg in request.get("messages", []):
        content = msg.get("content")
        if isinstance(content, str) and (m := ARTICLE_FENCE.search(content)):
            return m.group(1)
    return ""


def article_sentences(request: dict[str, Any]) -> list[str]:
    text = article_of(request)
    sents = re.split(r"(?<=[.!?])\s+(?=[A-Z\"“])", text.replace("\n", " "))
    return [s.strip() for s in sents if len(s.split()) >= 6]


def grounded(request: dict[str, Any], *, takeaways: int = 5, questions: int = 4) -> dict[str, Any]:
    """Valid output whose evidence quotes the article verbatim."""
    sents = article_sentences(request) or ["No article text was found in the request."]
    tk = [{"text": s, "evidence": s} for s in sents[:takeaways]]
    faq = [{"question": f"What does the article say about point {i + 1}?", "answer": s, "evidence": s}
           for i, s in enumerate(sents[takeaways:takeaways + questions] or sents[:questions])]
    return {"takeaways": tk, "faq": faq}


def grounded_reply(request: dict[str, Any]) -> Reply:
    return Reply(content=json.dumps(grounded(request)))


class FakeLLM(LoopbackServer):
    """Start with `with FakeLLM() as llm:`; `llm.url` is the base URL (ends with /v1)."""

    def __init__(self, default: Responder = grounded_reply) -> None:
        self.default = default
        self.script: list[Reply | Responder] = []
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.times: list[tuple[float, float]] = []  # (arrived, answered) per chat request, time.time()
        # ("arrived" | "answered", n): the n-th chat request (0-based), in the order it happened
        self.events: list[tuple[str, int]] = []
        # hold every answer until this many chat requests have arrived (0: answer at once); a
        # client that sends one request at a time is answered after `hold_timeout` s
        self.hold = 0
        self.hold_timeout = 5.0
        self._lock = threading.Lock()
        self._arrivals = threading.Condition(self._lock)
        super().__init__()

    @property
    def url(self) -> str:
        return f"{self.base}/v1"

    def _next(self, request: dict[str, Any]) -> tuple[int, Reply]:
        with self._lock:
            n = len(self.requests)
            self.requests.append(request)
            self.events.append(("arrived", n))
            item = self.script.pop(0) if self.script else self.default
            self._arrivals.notify_all()
            self._arrivals.wait_for(lambda: len(self.requests) >= self.hold, timeout=self.hold_timeout)
        return n, item if isinstance(item, Reply) else item(request)

    def handle(self, handler: Handler) -> None:
        if handler.command == "GET":
            _send(handler, 200, {"object": "list", "data": [{"id": "fake-model", "object": "model"}]})
            return
        arrived = time.time()
        request = json.loads(handler.body() or b"{}")
        with self._lock:
            self.headers.append(dict(handler.headers))
        n, reply = self._next(request)
        if reply.delay:
            time.sleep(reply.delay)
        with self._lock:
            self.times.append((arrived, time.time()))
            self.events.append(("answered", n))
        if reply.body is not None or reply.status != 200:
            body = reply.body if reply.body is not None else {
                "error": {"message": f"scripted error {reply.status}", "type": "server_error", "code": None}}
            _send(handler, reply.status, body, reply.headers)
            return
        message: dict[str, Any] = {"role": "assistant", "content": reply.content}
        if reply.refusal:
            message = {"role": "assistant", "content": None, "refusal": reply.refusal}
        _send(handler, 200, {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.get("model", "fake-model"),
            "choices": [{"index": 0, "message": message, "finish_reason": reply.finish_reason}],
            "usage": {"prompt_tokens": reply.prompt_tokens, "completion_tokens": reply.completion_tokens,
                      "total_tokens": reply.prompt_tokens + reply.completion_tokens},
        }, reply.headers)


def _send(handler: Handler, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
    handler.reply(status, json.dumps(payload).encode(), "application/json", headers)
