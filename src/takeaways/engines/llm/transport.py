"""Sending requests live: one HTTP exchange per request, written once, driven sync or async.

`exchange(request, settings)` is a step machine (sans-IO) like the conversation: it yields the
operations it needs — `Post` (one chat completion under the retry policy), `Sleep` — and returns
the `Result`. `live(conversation)` chains the conversation and the exchanges into one stream of
operations; `run_sync` performs them with `openai.OpenAI`, `run_async` with a shared
`openai.AsyncOpenAI`. Those two loops are the only code that differs between the sync and async paths.
A step of several requests (a long article's chunks) comes as one `Together` of exchanges: the
async driver performs them concurrently (`asyncio.gather`), the sync driver one after another.

Structured output: until a base URL's mode is known, each request probes it without retries
(json_schema → json_object → text), skipping the modes the server has already rejected and
switching to the mode another request has learned meanwhile. Probes are not serialised: waiting
for one probe's answer would leave all but one of the --concurrency slots idle for a whole LLM latency at the
start of every run. The price, on a server that rejects json_schema, is at most one rejected
request per request in flight at the start (≤ --concurrency, once per run; a format rejection is
answered at once and not billed). A probe that fails for another reason (429, 5xx, timeout)
waits as the policy says (Retry-After or the first backoff) and continues with the remaining
retries, so the number of attempts stays 1 + --max-retries.

Retries: the one policy in `retry.py` (`--max-retries`, Retry-After honoured, backoff with
jitter), around each single HTTP request; the openai client is built with max_retries=0. No
second retry layer: the only extra requests we make are the response_format fallback, one
re-ask after invalid output and one retry after `finish_reason: length`, each counted in usage.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Generator
from contextlib import closing
from dataclasses import dataclass
from typing import Any, TypeVar

import openai

from ... import retry
from ...client import shared_async_client, shared_client
from ...config import Settings
from ...models import Digest
from .conversation import Conversation, Result, Together, converse
from .failures import map_error, not_a_completion, rejects_format
from .requests import Request, base_key, body, known_mode, remember_mode, remember_rejected, untried_modes

log = logging.getLogger(__name__)
T = TypeVar("T")


# ---------------------------------------------------------------- operations


@dataclass
class Post:
    """Send one chat completion request, with up to `attempts` tries under the retry policy.
    Answered with the raw response, or the openai error of the last try; `sent` counts the tries."""

    body: dict[str, Any]
    attempts: int
    sent: int = 0

    def __call__(self, create: Callable[..., T]) -> T:
        self.sent += 1
        return create(**self.body)


@dataclass(frozen=True)
class Sleep:
    seconds: float


Op = Post | Sleep | Together  # Together: the exchanges of a step of several requests (conversation.py)
Ops = Generator[Op, Any, T]


# ---------------------------------------------------------------- one request


def exchange(request: Request, settings: Settings) -> Ops[Result]:
    mode = known_mode(settings)
    if mode is None:
        return (yield from _probe(request, settings))
    return (yield from _attempt(request, settings, mode, settings.max_retries, 0))


def _probe(request: Request, settings: Settings) -> Ops[Result]:
    rejected = 0
    for mode in untried_modes(settings):
        if (learned := known_mode(settings)) is not None:  # another request found the mode meanwhile
            return (yield from _attempt(request, settings, learned, settings.max_retries, rejected))
        reply = yield Post(body(request, settings, mode), attempts=1)
        if isinstance(reply, openai.OpenAIError):
            if mode != "text" and rejects_format(reply):
                log.info("%s rejects response_format %s; falling back", base_key(settings), mode)
                remember_rejected(settings, mode)
                rejected += 1
                continue
            if settings.max_retries > 0 and retry.is_transient(reply):
                yield Sleep(retry.wait_for(reply, 1, settings.retry_wait))
                return (yield from _attempt(request, settings, mode, settings.max_retries - 1, rejected + 1))
            raise map_error(reply, settings, rejected + 1)
        remember_mode(settings, mode)
        return Result(_completion(reply, settings), rejected + 1)
    raise AssertionError("unreachable: text mode is never rejected")  # pragma: no cover


def _attempt(request: Request, settings: Settings, mode: str, retries: int, before: int) -> Ops[Result]:
    """One request under the retry policy (retry.py): 1 + `retries` HTTP requests at most."""
    post = Post(body(request, settings, mode), attempts=retries + 1)
    reply = yield post
    if isinstance(reply, openai.OpenAIError):
        raise map_error(reply, settings, before + post.sent)
    remember_mode(settings, mode)
    return Result(_completion(reply, settings), before + post.sent)


def _completion(raw: Any, settings: Settings) -> Any:
    """The ChatCompletion of a raw response; a body that is not one is the base URL's fault."""
    try:
        return raw.parse()
    except (openai.OpenAIError, ValueError) as exc:
        raise not_a_completion(settings, str(exc)) from None


def live(conv: Conversation) -> Ops[Digest]:
    """The whole conversation, each request sent live."""
    return converse(conv, lambda request: exchange(request, conv.settings))


# ---------------------------------------------------------------- the two drivers


@dataclass(frozen=True)
class _Done:
    value: Any


def _advance(ops: Ops[Any], reply: Any) -> Op | _Done:
    try:
        return ops.send(reply)
    except StopIteration as stop:
        return _Done(stop.value)


def run_sync(ops: Ops[T], settings: Settings) -> T:
    """Perform `ops` with the process's shared `openai.OpenAI`; their return value. The
    exchanges of a `Together` are performed one after another."""
    create = shared_client(settings).chat.completions.with_raw_response.create
    return _drive(ops, create, settings)


def _drive(ops: Ops[T], create: Callable[..., Any], settings: Settings) -> T:
    with closing(ops):
        step = _advance(ops, None)
        while not isinstance(step, _Done):
            step = _advance(ops, _perform(step, create, settings))
        return step.value  # type: ignore[no-any-return]


def _perform(op: Op, create: Callable[..., Any], settings: Settings) -> Any:
    if isinstance(op, Sleep):
        return time.sleep(op.seconds)
    if isinstance(op, Together):
        return [_drive(ex, create, settings) for ex in op.exchanges]
    try:
        return retry.call(lambda: op(create), settings, attempts=op.attempts)
    except openai.OpenAIError as exc:
        return exc


async def run_async(ops: Ops[T], settings: Settings) -> T:
    """Perform `ops` with the event loop's shared `openai.AsyncOpenAI`; their return value. The
    exchanges of a `Together` (the chunks of a long article) are performed concurrently, each
    under its own retry policy."""
    create = shared_async_client(settings).chat.completions.with_raw_response.create
    return await _adrive(ops, create, settings)


async def _adrive(ops: Ops[T], create: Callable[..., Any], settings: Settings) -> T:
    with closing(ops):
        step = _advance(ops, None)
        while not isinstance(step, _Done):
            step = _advance(ops, await _aperform(step, create, settings))
        return step.value  # type: ignore[no-any-return]


async def _aperform(op: Op, create: Callable[..., Any], settings: Settings) -> Any:
    if isinstance(op, Sleep):
        return await asyncio.sleep(op.seconds)
    if isinstance(op, Together):
        return list(await asyncio.gather(*(_adrive(ex, create, settings) for ex in op.exchanges)))
    post = op

    async def once() -> Any:  # a coroutine function: how tenacity tells it must await
        return await post(create)

    try:
        return await retry.acall(once, settings, attempts=post.attempts)
    except openai.OpenAIError as exc:
        return exc


__all__ = ["Op", "Ops", "Post", "Sleep", "Together", "exchange", "live", "run_async", "run_sync"]
