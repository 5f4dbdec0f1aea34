"""The batch-file transport of the LLM engine: Batch API request lines out, result lines in.

The format is OpenAI's Batch API JSONL, which Azure OpenAI (global batch), Groq, Together and
vLLM's `run-batch` read and write too:

    request  {"custom_id": ID, "method": "POST", "url": "/v1/chat/completions", "body": {...}}
    result   {"id": ..., "custom_id": ID, "response": {"status_code": 200, "body": <chat completion>},
              "error": null}        (error-file lines: status_code ≥ 400, or response null + error)

A batch cannot hold a conversation open, so the conversation (the same `llm.conversation` step
machine the live transports drive: prompts, structured output, re-ask after invalid JSON, length
retry, chunks and merge) is *replayed*: `replay(article, spec, settings, history)` runs it from the
start through `converse`, feeding it the answers recorded so far, and returns either the next
requests to send (the body is built by `llm.requests.body`, the live builder, so it is byte for byte
the live request) or the finished Digest. Each round of the Batch API therefore moves every open
conversation one step on: a step is one request, or all the chunks of a long article together (the
merge is the next round), and an answer is matched to its request by the request's tag.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

import httpx2
import openai
from openai.types.chat import ChatCompletion

from ..config import Settings
from ..errors import TakeawaysError
from ..models import Article, Digest, Spec
from .llm.conversation import Conversation, Outcome, Result, converse
from .llm.failures import map_error
from .llm.requests import Request, body, known_mode

ENDPOINT = "/v1/chat/completions"
MAX_REQUESTS = 50_000  # OpenAI's limit per batch file
MAX_BYTES = 200_000_000  # OpenAI's limit per batch file (200 MB)
TRANSIENT_CODES = frozenset({"batch_expired", "batch_cancelled"})  # the job ended before the line ran


# ---------------------------------------------------------------- request lines


def request_line(custom_id: str, body: dict[str, Any], url: str = ENDPOINT) -> bytes:
    """One JSONL line (newline included) of a Batch API input file; `url` is the job's endpoint."""
    line = {"custom_id": custom_id, "method": "POST", "url": url, "body": body}
    return json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def split_files(lines: Iterable[bytes], max_requests: int = MAX_REQUESTS, max_bytes: int = MAX_BYTES) -> list[list[bytes]]:
    """Lines in order, cut into files of at most `max_requests` lines and `max_bytes` bytes.
    A single line over `max_bytes` is an error (no file could carry it)."""
    if max_requests < 1 or max_bytes < 1:
        raise ValueError("max_requests and max_bytes must be positive")
    files: list[list[bytes]] = []
    size = 0
    for line in lines:
        if len(line) > max_bytes:
            raise TakeawaysError(f"one request is {len(line)} bytes, over --batch-max-bytes {max_bytes}; raise "
                                 "--batch-max-bytes or lower --max-input-tokens")
        if not files or len(files[-1]) >= max_requests or size + len(line) > max_bytes:
            files.append([])
            size = 0
        files[-1].append(line)
        size += len(line)
    return files


# ---------------------------------------------------------------- result lines


@dataclass(frozen=True)
class Answer:
    """What came back for one request line: a chat completion, or an error (HTTP status and/or code)."""

    custom_id: str
    completion: dict[str, Any] | None = None
    status: int | None = None
    code: str | None = None
    message: str = ""
    tag: str | None = None  # the request it answers (`Request.tag`), once recorded

    @property
    def ok(self) -> bool:
        return self.completion is not None

    @property
    def transient(self) -> bool:
        """Worth sending again in the next round (5xx, 429, 408, 409; the job expired or was cancelled)."""
        if self.ok:
            return False
        if self.code in TRANSIENT_CODES:
            return True
        return self.status is not None and (self.status in (408, 409, 429) or self.status >= 500)

    def reason(self) -> str:
        what = f"HTTP {self.status}" if self.status is not None else (self.code or "error")
        return f"{what}: {self.message}" if self.message else what

    def to_json(self) -> str:
        return json.dumps({"custom_id": self.custom_id, "completion": self.completion, "status": self.status,
                           "code": self.code, "message": self.message, "tag": self.tag}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Answer:
        d = json.loads(text)
        return cls(d["custom_id"], d.get("completion"), d.get("status"), d.get("code"), d.get("message") or "",
                   d.get("tag"))


@dataclass
class Results:
    answers: dict[str, Answer] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # malformed lines, duplicate custom_ids


def _message(error: Any) -> str:
    if isinstance(error, dict):
        inner = error.get("error", error)
        if isinstance(inner, dict):
            return str(inner.get("message") or inner.get("code") or inner)[:500]
        return str(inner)[:500]
    return "" if error is None else str(error)[:500]


def parse_line(line: str) -> Answer:
    """One output- or error-file line → Answer; ValueError when it is not one."""
    d = json.loads(line)
    if not isinstance(d, dict) or not isinstance(d.get("custom_id"), str):
        raise ValueError("no custom_id")
    cid = d["custom_id"]
    response = d.get("response")
    error = d.get("error")
    if isinstance(response, dict):
        status = response.get("status_code")
        body = response.get("body")
        if status in (None, 200) and isinstance(body, dict) and body.get("choices") is not None and not error:
            return Answer(cid, completion=body)
        status = int(status) if isinstance(status, int) else None
        return Answer(cid, status=status, code=_code(error) or _code(body), message=_message(body) or _message(error))
    if error is None:
        raise ValueError("neither response nor error")
    return Answer(cid, code=_code(error), message=_message(error))


def _code(error: Any) -> str | None:
    if isinstance(error, dict):
        inner = error.get("error", error)
        if isinstance(inner, dict) and inner.get("code") is not None:
            return str(inner["code"])
    return None


def parse_results(texts: Iterable[str]) -> Results:
    """Output and error files (any order) → one Answer per custom_id. A success wins over an
    error for the same id; a second success for an id is reported, not guessed between."""
    results = Results()
    for text in texts:
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                answer = parse_line(line)
            except ValueError as exc:
                results.problems.append(f"line {n}: not a Batch API result line ({exc})")
                continue
            seen = results.answers.get(answer.custom_id)
            if seen is not None and seen.ok and answer.ok:
                results.problems.append(f"line {n}: custom_id {answer.custom_id} answered twice; the first is kept")
                continue
            if seen is None or (answer.ok and not seen.ok):
                results.answers[answer.custom_id] = answer
    return results


# ---------------------------------------------------------------- the conversation, replayed


@dataclass(frozen=True)
class Ask:
    """A request of a conversation to send: `body` is the live request; `tag` names it within
    the conversation (`Request.tag`: its answer is recorded under it); `followup` is True for a
    re-ask or length retry, which counts as a retry round."""

    body: dict[str, Any]
    purpose: str
    step: int
    followup: bool
    max_tokens: int
    tag: str = ""


def batch_mode(settings: Settings) -> str:
    """The structured-output mode of batch requests: the one a live run found, else json_schema
    (no probing: a batch cannot fall back within a job)."""
    return known_mode(settings) or "json_schema"


def request_body(request: Request, settings: Settings) -> dict[str, Any]:
    """Exactly what the live transports send for `request` (the same builder)."""
    return body(request, settings, batch_mode(settings))


def _status_error(answer: Answer) -> openai.APIStatusError:
    """An error line as the exception the live client would have raised for the same response."""
    status = answer.status or 400
    error_body = {"message": answer.message, "code": answer.code}
    response = httpx2.Response(status, request=httpx2.Request("POST", f"https://batch.invalid{ENDPOINT}"))
    return openai.APIStatusError(answer.message or answer.code or f"HTTP {status}", response=response, body=error_body)


def replay(article: Article, spec: Spec, settings: Settings, history: Sequence[Answer]) -> Ask | Digest:
    """The first of `replay_all`'s requests (a conversation of one request per step), or the Digest."""
    result = replay_all(article, spec, settings, history)
    return result if isinstance(result, Digest) else result[0]


def replay_all(article: Article, spec: Spec, settings: Settings, history: Sequence[Answer]) -> list[Ask] | Digest:
    """Run the conversation feeding it `history` (the answers it got so far, transient errors
    excluded); the requests to send next, or the finished (unverified) Digest. The requests are
    every request of the conversation's step that has no answer yet: all the chunks of a long
    article at once (then only those whose answer did not come back, or that need a re-ask).
    An answer with a `tag` answers the request of that tag; answers without one (recorded
    before tags) answer the untagged requests in order. A conversation that fails raises the
    TakeawaysError the live path would, with `.usage`."""
    tagged = {a.tag: a for a in history if a.tag}
    untagged = iter([a for a in history if not a.tag])

    def send(request: Request) -> Generator[Request, None, Result]:
        answer = tagged.pop(request.tag, None) or next(untagged, None)
        if answer is None:
            yield request  # no answer yet: this is a request to send
            raise AssertionError("unreachable: a replay stops at its first unanswered request")  # pragma: no cover
        if answer.completion is None:
            raise map_error(_status_error(answer), settings, 1)
        return Result(ChatCompletion.model_validate(answer.completion), 1)

    def ask(request: Request) -> Ask:
        return Ask(request_body(request, settings), request.purpose, len(history), request.attempt > 0,
                   request.max_tokens, request.tag)

    steps = converse(Conversation(article, spec, settings, batch=True), send)
    with closing(steps):
        reply: Any = None
        while True:
            try:
                op = steps.send(reply)
            except StopIteration as stop:
                digest: Digest = stop.value
                return digest
            if isinstance(op, Request):  # a step of one request, unanswered
                return [ask(op)]
            outcomes: list[Outcome] = []
            unanswered: list[Ask] = []
            for exchange in op.exchanges:
                with closing(exchange):
                    try:
                        unanswered.append(ask(next(exchange)))
                    except StopIteration as stop:
                        outcomes.append(stop.value)
            if unanswered:
                return unanswered
            reply = outcomes


__all__ = ["ENDPOINT", "MAX_BYTES", "MAX_REQUESTS", "Answer", "Ask", "Results", "batch_mode", "parse_line",
           "parse_results", "replay", "replay_all", "request_body", "request_line", "split_files"]
