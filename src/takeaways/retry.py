"""The one retry policy: what is transient, how many attempts, how long to wait. Nothing retries on top.

- Transient: connection errors, timeouts, HTTP 408/409/425/429 and 5xx (whether the error is one
  of ours with `.transient`, an openai error or an httpx2 one).
- Attempts: 1 + `settings.max_retries` (--max-retries, default 2) per request: an LLM call, a
  page fetch, a sitemap or feed download. The openai client itself is built with max_retries=0.
- Wait: `Retry-After` / `retry-after-ms` when the server sends one (up to 120 s), else
  exponential backoff with jitter (tenacity): `settings.retry_wait` (0.5 s) doubling up to 8 s.
- A limiter hook: `on_retry_after(fn)` registers `fn(seconds)`, called whenever a server asks
  for a pause, so a limiter shared by many workers (Ray actors) can pause them all.

    page = retry.call(lambda: sources.fetch(url, settings), settings)
    raw = await retry.acall(send_once, settings)
"""

from __future__ import annotations

import email.utils
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from tenacity import AsyncRetrying, RetryCallState, Retrying, retry_if_exception, stop_after_attempt
from tenacity import wait_exponential_jitter as _jitter

T = TypeVar("T")
MAX_RETRY_AFTER = 120.0  # seconds; a longer Retry-After is not waited for (the item fails, --retry-failed later)
MAX_BACKOFF = 8.0
TRANSIENT_STATUS = frozenset({408, 409, 425, 429})

_hooks: list[Callable[[float], None]] = []
_hooks_lock = threading.Lock()


def transient_status(code: int) -> bool:
    return code in TRANSIENT_STATUS or code >= 500


def is_transient(exc: BaseException) -> bool:
    """Worth another attempt: a timeout, a broken connection, 408/409/425/429 or a 5xx."""
    flag = getattr(exc, "transient", None)
    if isinstance(flag, bool):
        return flag
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        return transient_status(status)
    if any(c.__name__ == "APIConnectionError" for c in type(exc).__mro__):  # openai; its timeouts subclass it
        return True
    module = type(exc).__module__ or ""
    if module.startswith("httpx"):  # httpx2.TransportError family: timeouts, connect, read, protocol
        import httpx2

        return isinstance(exc, (httpx2.TimeoutException, httpx2.NetworkError, httpx2.RemoteProtocolError))
    return False


def retry_after(exc: BaseException) -> float | None:
    """The pause the server asked for (Retry-After seconds or HTTP date, retry-after-ms), if any, ≤ 120 s."""
    explicit = getattr(exc, "retry_after", None)
    if isinstance(explicit, (int, float)) and not isinstance(explicit, bool):
        return float(explicit) if 0 <= explicit <= MAX_RETRY_AFTER else None
    headers = getattr(getattr(exc, "response", None), "headers", None)
    return retry_after_header(headers) if headers is not None else None


def retry_after_header(headers: Any) -> float | None:
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            delay = float(ms) / 1000.0
        except ValueError:
            delay = -1.0
        if 0 <= delay <= MAX_RETRY_AFTER:
            return delay
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        delay = float(value)
    except ValueError:
        when = email.utils.parsedate_to_datetime(value) if value.strip() else None
        if when is None:
            return None
        delay = when.timestamp() - time.time()
    return max(0.0, delay) if delay <= MAX_RETRY_AFTER else None


def on_retry_after(hook: Callable[[float], None]) -> Callable[[], None]:
    """Call `hook(seconds)` whenever a server asks for a pause; returns a function that unregisters it."""
    with _hooks_lock:
        _hooks.append(hook)

    def remove() -> None:
        with _hooks_lock:
            if hook in _hooks:
                _hooks.remove(hook)
    return remove


def _notify(delay: float) -> None:
    with _hooks_lock:
        hooks = list(_hooks)
    for hook in hooks:
        hook(delay)


class _Wait:
    """Retry-After when given, else exponential backoff with jitter."""

    def __init__(self, first: float) -> None:
        self.backoff = _jitter(multiplier=first, max=MAX_BACKOFF, jitter=first)

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        delay = retry_after(exc) if exc is not None else None
        if delay is not None:
            _notify(delay)
            return delay
        return float(self.backoff(state))


def wait_for(exc: BaseException, attempt: int = 1, first: float = 0.5) -> float:
    """The wait before retry number `attempt` after `exc` (for callers that loop themselves)."""
    delay = retry_after(exc)
    if delay is not None:
        _notify(delay)
        return delay
    import random

    return float(min(MAX_BACKOFF, first * 2 ** (attempt - 1)) + random.uniform(0, first))


def _settings(settings: Any) -> tuple[int, float]:
    return 1 + max(0, int(getattr(settings, "max_retries", 2))), float(getattr(settings, "retry_wait", 0.5))


def retrying(settings: Any, *, attempts: int | None = None,
             when: Callable[[BaseException], bool] = is_transient) -> Retrying:
    n, first = _settings(settings)
    return Retrying(stop=stop_after_attempt(attempts or n), wait=_Wait(first), retry=retry_if_exception(when),
                    reraise=True)


def aretrying(settings: Any, *, attempts: int | None = None,
              when: Callable[[BaseException], bool] = is_transient) -> AsyncRetrying:
    n, first = _settings(settings)
    return AsyncRetrying(stop=stop_after_attempt(attempts or n), wait=_Wait(first), retry=retry_if_exception(when),
                         reraise=True)


def call(fn: Callable[[], T], settings: Any, *, attempts: int | None = None) -> T:
    """`fn()` under the policy: transient errors retried, the last one re-raised."""
    return retrying(settings, attempts=attempts)(fn)


async def acall(fn: Callable[[], Awaitable[T]], settings: Any, *, attempts: int | None = None) -> T:
    result: T = await aretrying(settings, attempts=attempts)(fn)
    return result


__all__ = ["MAX_RETRY_AFTER", "acall", "aretrying", "call", "is_transient", "on_retry_after", "retry_after",
           "retrying", "transient_status", "wait_for"]
