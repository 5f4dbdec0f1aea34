"""What a server's error means: our error with the fix in its message, and the two errors the
conversation and the transport act on (a context too small for the prompt, a rejected response_format)."""

from __future__ import annotations

import re

import openai

from ... import retry
from ...config import Settings
from ...errors import LLMError, TakeawaysError
from .requests import OPENAI_BASE


class ContextTooLong(TakeawaysError):
    """The server said the prompt exceeds the model's context: retry in smaller chunks."""


_CONTEXT = re.compile(r"context[ _](length|window|size)|maximum context|too many tokens|prompt is too long|"
                      r"exceeds? the (available|maximum|max)", re.I)
_FORMAT = re.compile(r"response_format|json_schema|json schema|json_object|\bschema\b|grammar", re.I)


def _error_text(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        return str(body.get("message") or body)
    return str(body or exc.message)


def rejects_format(exc: Exception) -> bool:
    """A server saying it does not support the response_format we sent (llama.cpp answers 500)."""
    return (isinstance(exc, openai.APIStatusError) and exc.status_code in (400, 422, 500)
            and bool(_FORMAT.search(_error_text(exc))))


def is_retryable(exc: Exception) -> bool:
    """Kept for callers: the one policy's answer (retry.is_transient)."""
    return retry.is_transient(exc)


def map_error(exc: openai.OpenAIError, settings: Settings, attempts: int) -> TakeawaysError:
    """openai exception (after the client's retries) → our error, with the fix in the message;
    `.attempts` says how many HTTP requests it took."""
    err = _map_error(exc, settings, attempts)
    err.attempts = attempts  # type: ignore[attr-defined]
    return err


def _map_error(exc: openai.OpenAIError, settings: Settings, attempts: int) -> TakeawaysError:
    where = settings.base_url or OPENAI_BASE
    tries = f"after {attempts} attempt(s)"
    if isinstance(exc, openai.APITimeoutError):
        return LLMError(f"{where} did not answer within {settings.resolved_timeout():g} s {tries}; raise --timeout or "
                        "--max-retries, or try again later", transient=True)
    if isinstance(exc, openai.APIConnectionError):
        return LLMError(f"cannot connect to {where} {tries}: is the server running and is --base-url right "
                        "(it usually ends in /v1)?", transient=True)
    if not isinstance(exc, openai.APIStatusError):
        return LLMError(f"{where}: {exc}")
    text = _error_text(exc)[:300]
    code = exc.status_code
    if code in (401, 403):
        return LLMError(f"{where} refused the API key ({code}: {text}); check OPENAI_API_KEY / --api-key "
                        "and that the key may use this model")
    if code == 404 or (code == 400 and re.search(r"model", text, re.I) and re.search(r"not (exist|found)|unknown|"
                                                                                       r"invalid model", text, re.I)):
        return LLMError(f"{where} does not know model {settings.model!r} or the endpoint ({code}: {text}); pass "
                        f"-m with a model the server lists (GET {where}/models) and check --base-url")
    if code in (400, 413) and _CONTEXT.search(text):
        return ContextTooLong(text)
    if code == 429:
        if re.search(r"quota|billing", text, re.I):
            return LLMError(f"{where}: quota exhausted (429: {text}); check your plan and billing")
        return LLMError(f"{where} is rate limiting (429) {tries}; lower the concurrency, raise --max-retries, "
                        "or try again later", transient=True)
    if retry.transient_status(code):
        return LLMError(f"{where} failed with {code} {tries} ({text}); try again later or raise --max-retries",
                        transient=True)
    return LLMError(f"{where} rejected the request ({code}: {text}); check -m, --base-url and the server's "
                    "OpenAI compatibility")


def not_a_completion(settings: Settings, detail: str = "") -> LLMError:
    """The base URL answered, but not with a chat completion."""
    what = f"with something that is not a chat completion ({detail})" if detail else "without a chat completion"
    return LLMError(f"{settings.base_url or OPENAI_BASE} answered {what}; check that --base-url points at an "
                    "OpenAI-compatible API (it usually ends in /v1)")


__all__ = ["ContextTooLong", "is_retryable", "map_error", "not_a_completion", "rejects_format"]
