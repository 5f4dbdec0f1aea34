"""The one place that builds `openai` clients.

`make_client(settings)` returns a fresh `openai.OpenAI` (or `AsyncOpenAI` with `async_=True`).
`shared_client(settings)` returns one process-wide `openai.OpenAI` per client key, and
`shared_async_client(settings)` returns one `AsyncOpenAI` per (base_url, api_key, timeout,
max_retries) per running event loop, so the batch job's thousands of `agenerate` calls share
one connection pool instead of opening one per article.

Retries: none here. Every client is built with max_retries=0; the engine retries each request
under the one policy in `retry.py` (1 + --max-retries attempts, Retry-After honoured), so
nothing stacks.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from typing import Literal, overload

import openai

from .config import Settings
from .errors import ConfigError

NO_KEY = "no API key: set OPENAI_API_KEY or pass --api-key, or use --engine extractive"
LOCAL_DUMMY_KEY = "sk-no-key-required"  # local servers (llama.cpp, Ollama, vLLM) ignore it

_ClientKey = tuple[str | None, str, float, int]
_sync_clients: dict[_ClientKey, openai.OpenAI] = {}
_sync_guard = threading.Lock()
_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[_ClientKey, openai.AsyncOpenAI]] = (
    weakref.WeakKeyDictionary())


def _key(settings: Settings) -> _ClientKey:
    if settings.api_key:
        api_key = settings.api_key
    elif settings.base_url:
        api_key = LOCAL_DUMMY_KEY
    else:
        raise ConfigError(NO_KEY)
    return (settings.base_url or None, api_key, settings.resolved_timeout(), 0)


@overload
def make_client(settings: Settings, *, async_: Literal[False] = False) -> openai.OpenAI: ...
@overload
def make_client(settings: Settings, *, async_: Literal[True]) -> openai.AsyncOpenAI: ...


def make_client(settings: Settings, *, async_: bool = False) -> openai.OpenAI | openai.AsyncOpenAI:
    """An OpenAI(-compatible) client from the settings; ConfigError when neither key nor base URL is set."""
    base_url, api_key, timeout, _ = _key(settings)
    cls = openai.AsyncOpenAI if async_ else openai.OpenAI
    return cls(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0)  # retries: retry.py


def shared_client(settings: Settings) -> openai.OpenAI:
    """One OpenAI client per client key per process (httpx clients are thread-safe); building one
    costs ~50 ms (TLS context), more than the rest of a call."""
    key = _key(settings)
    with _sync_guard:
        client = _sync_clients.get(key)
        if client is None:
            client = _sync_clients[key] = make_client(settings)
    return client


def shared_async_client(settings: Settings) -> openai.AsyncOpenAI:
    """One AsyncOpenAI per client key per running event loop (dropped with the loop)."""
    loop = asyncio.get_running_loop()
    per_loop = _async_clients.setdefault(loop, {})
    key = _key(settings)
    client = per_loop.get(key)
    if client is None:
        client = per_loop[key] = make_client(settings, async_=True)
    return client


def install_shared_async_client(settings: Settings, client: openai.AsyncOpenAI) -> None:
    """Make `client` this event loop's shared client for `settings` (a Ray actor's, with the
    cluster-global limiter's HTTP hooks), so `shared_async_client` hands it to every call."""
    _async_clients.setdefault(asyncio.get_running_loop(), {})[_key(settings)] = client


async def aclose_shared_clients() -> None:
    """Close this event loop's shared clients (call at the end of a batch, before the loop closes)."""
    for client in _async_clients.pop(asyncio.get_running_loop(), {}).values():
        await client.close()


__all__ = ["NO_KEY", "aclose_shared_clients", "install_shared_async_client", "make_client", "shared_async_client",
           "shared_client"]
