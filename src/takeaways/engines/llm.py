"""LLM engine: any OpenAI-compatible chat endpoint through the `openai` package.

One request per article produces both blocks. The conversation logic (prompts, structured
output, validation re-ask, `finish_reason: length` retry, budget, map/reduce for long articles)
is written once, as a generator that yields `_Request`s and receives `_Result`s; `generate`
drives it with `openai.OpenAI`, `agenerate` with a shared `openai.AsyncOpenAI`.

Structured output modes, tried in order per base URL (and model) and remembered for the whole
process (`_MODES`): `json_schema` (strict schema from the pydantic models) → `json_object` (with the
schema alongside, as llama.cpp's server accepts it) → `text` (no response_format; the JSON
shape is in the system prompt either way, and the answer is extracted tolerantly). Until a base
URL's mode is known, one request at a time probes it without client retries, so a server that
rejects json_schema costs exactly one extra request per run, not one per article or per retry.
A probe that fails for another reason (429, 5xx, timeout) waits as the policy says (Retry-After
or the first backoff) and continues with the remaining retries, so the number of attempts stays
1 + --max-retries.

Retries: the one policy in `retry.py` (`--max-retries`, Retry-After honoured, backoff with
jitter), around each single HTTP request; the openai client is built with max_retries=0. No
second retry layer: the only extra requests we make are the response_format fallback, one
re-ask after invalid output and one retry after `finish_reason: length`, each counted in usage.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
import time
import weakref
from collections.abc import Generator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import json_repair
import openai
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from .. import pricing, retry, tokens
from ..client import shared_async_client, shared_client
from ..config import Settings
from ..errors import BudgetExceeded, LLMError, TakeawaysError
from ..grounding import find_evidence, normalise
from ..models import QA, Article, Block, Digest, Spec, Takeaway, Usage
from ..rendering import get_template

log = logging.getLogger(__name__)

OPENAI_BASE = "https://api.openai.com/v1"
MODES = ("json_schema", "json_object", "text")
MESSAGE_OVERHEAD = 4  # tokens the chat format adds per message (OpenAI's documented figure)


# ---------------------------------------------------------------- output schema


def _join_quotes(value: Any) -> Any:
    """Some models answer a list of quotes; joined with an ellipsis they must occur in that order."""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return " ... ".join(value)
    return value


class LLMTakeaway(BaseModel):
    model_config = ConfigDict(json_schema_extra={"additionalProperties": False})
    text: str
    evidence: str

    _quotes = field_validator("evidence", mode="before")(_join_quotes)


class LLMQA(BaseModel):
    model_config = ConfigDict(json_schema_extra={"additionalProperties": False})
    question: str
    answer: str
    evidence: str

    _quotes = field_validator("evidence", mode="before")(_join_quotes)


class LLMOutput(BaseModel):
    """What the model must answer; extra keys are ignored when validating."""

    model_config = ConfigDict(json_schema_extra={"additionalProperties": False})
    takeaways: list[LLMTakeaway]
    faq: list[LLMQA]


def _compact(node: Any) -> Any:
    """The schema without titles and descriptions: fewer prompt tokens, same constraints."""
    if isinstance(node, dict):
        return {k: _compact(v) for k, v in node.items()
                if k not in ("title", "description") or (isinstance(v, dict) and "type" in v)}
    if isinstance(node, list):
        return [_compact(v) for v in node]
    return node


OUTPUT_SCHEMA: dict[str, Any] = _compact(LLMOutput.model_json_schema())


def response_format(mode: str, counts: tuple[int, int] | None = None) -> dict[str, Any] | None:
    """`counts` (takeaways, questions) pins the array lengths in json_object mode: servers that
    enforce the schema by grammar (llama.cpp) would otherwise let small models answer empty lists."""
    if mode == "json_schema":
        return {"type": "json_schema", "json_schema": {"name": "takeaways", "strict": True, "schema": OUTPUT_SCHEMA}}
    if mode == "json_object":
        schema = OUTPUT_SCHEMA
        if counts is not None:
            props = dict(schema["properties"])
            for key, n in zip(("takeaways", "faq"), counts, strict=True):
                props[key] = {**props[key], "minItems": n, "maxItems": n}
            schema = {**schema, "properties": props}
        return {"type": "json_object", "schema": schema}
    return None


# ---------------------------------------------------------------- process-wide state

_MODES: dict[str, str] = {}  # "base URL model" → structured-output mode that worked
_sync_locks: dict[str, threading.Lock] = {}
_async_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = weakref.WeakKeyDictionary()
_locks_guard = threading.Lock()


def base_key(settings: Settings) -> str:
    """Modes are remembered per base URL and model: OpenAI itself supports json_schema for some
    models and not others; one server (llama.cpp, vLLM) answers the same for every model."""
    return f"{(settings.base_url or OPENAI_BASE).rstrip('/')} {settings.model}"


def known_mode(settings: Settings) -> str | None:
    return _MODES.get(base_key(settings))


def _sync_lock(base: str) -> threading.Lock:
    with _locks_guard:
        return _sync_locks.setdefault(base, threading.Lock())


def _async_lock(base: str) -> asyncio.Lock:
    per_loop = _async_locks.setdefault(asyncio.get_running_loop(), {})
    return per_loop.setdefault(base, asyncio.Lock())


# ---------------------------------------------------------------- prompts

LANGUAGES = {"en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian", "pt": "Portuguese",
             "nl": "Dutch", "pl": "Polish", "sv": "Swedish", "da": "Danish", "no": "Norwegian", "nb": "Norwegian",
             "fi": "Finnish", "cs": "Czech", "ru": "Russian", "uk": "Ukrainian", "tr": "Turkish", "el": "Greek",
             "ar": "Arabic", "he": "Hebrew", "hi": "Hindi", "ja": "Japanese", "zh": "Chinese", "ko": "Korean",
             "id": "Indonesian", "vi": "Vietnamese", "th": "Thai", "ro": "Romanian", "hu": "Hungarian"}
_FENCE_TAG = re.compile(r"<(/?)(article|candidates)\b", re.I)


def language_name(spec: Spec, article: Article) -> str:
    """--lang wins; else the article's detected language; else 'the language of the article'."""
    code = spec.language or article.language
    if not code:
        return "the language of the article"
    return LANGUAGES.get(code.lower().split("-")[0].split("_")[0], code)


def neutralise(text: str) -> str:
    """Article text cannot close (or open) the fence: `</article>` becomes `<\\/article>`."""
    return _FENCE_TAG.sub(lambda m: "<" + ("\\/" if m.group(1) else "") + m.group(2), text)


@lru_cache(maxsize=32)
def _template(name: str, template_dir: Path | None) -> jinja2.Template:
    """Compiled once per process: the batch renders the same prompts thousands of times."""
    return get_template(name, template_dir)


def _render(name: str, settings: Settings, **context: Any) -> str:
    return _template(name, settings.template_dir).render(**context).strip()


def system_prompt(article: Article, spec: Spec, settings: Settings) -> str:
    return _render("system.j2", settings, takeaways=spec.takeaways, questions=spec.questions,
                   language=language_name(spec, article), title=article.title)


def user_prompt(text: str, settings: Settings, chunk: dict[str, int] | None = None) -> str:
    return _render("user.j2", settings, text=neutralise(text), chunk=chunk)


def merge_prompt(candidates: LLMOutput, spec: Spec, settings: Settings) -> str:
    data = neutralise(json.dumps(candidates.model_dump(), ensure_ascii=False))
    return _render("merge.j2", settings, candidates=data, takeaways=spec.takeaways, questions=spec.questions)


def _messages(system: str, user: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def messages_tokens(messages: list[dict[str, str]], model: str, mode: str | None = None) -> int:
    n = 3 + sum(MESSAGE_OVERHEAD + tokens.count_tokens(m["content"], model) for m in messages)
    if mode in ("json_schema", "json_object"):
        n += tokens.count_tokens(json.dumps(OUTPUT_SCHEMA, separators=(",", ":")), model)
    return n


# ---------------------------------------------------------------- chunking


def _split_long(text: str, budget: int, model: str) -> list[str]:
    """A block longer than the budget: split at sentence ends, then at words."""
    pieces = re.split(r"(?<=[.!?])\s+", text)
    out: list[str] = []
    cur = ""
    for piece in pieces:
        if tokens.count_tokens(piece, model) > budget:
            words = piece.split()
            step = max(1, len(words) * budget // max(1, tokens.count_tokens(piece, model)))
            parts = [" ".join(words[i:i + step]) for i in range(0, len(words), step)]
        else:
            parts = [piece]
        for part in parts:
            cand = f"{cur} {part}".strip()
            if cur and tokens.count_tokens(cand, model) > budget:
                out.append(cur)
                cur = part
            else:
                cur = cand
    if cur:
        out.append(cur)
    return out


def split_sections(article: Article, budget: int, model: str) -> list[str]:
    """Article text in chunks of at most `budget` tokens, cut at headings where possible."""
    sections: list[list[Block]] = [[]]
    for b in article.blocks:
        if b.kind == "heading" and sections[-1]:
            sections.append([])
        sections[-1].append(b)
    units: list[str] = []
    for sec in sections:
        text = "\n".join(b.text for b in sec)
        if tokens.count_tokens(text, model) <= budget:
            units.append(text)
            continue
        for b in sec:  # section too long: go block by block
            if tokens.count_tokens(b.text, model) <= budget:
                units.append(b.text)
            else:
                units.extend(_split_long(b.text, budget, model))
    chunks: list[str] = []
    for unit in units:
        if chunks and tokens.count_tokens(chunks[-1] + "\n" + unit, model) <= budget:
            chunks[-1] += "\n" + unit
        else:
            chunks.append(unit)
    return [c for c in chunks if c.strip()]


# ---------------------------------------------------------------- the conversation


@dataclass
class _Request:
    messages: list[dict[str, str]]
    max_tokens: int
    purpose: str = "article"


@dataclass
class _Result:
    completion: Any  # openai ChatCompletion
    requests: int  # HTTP requests this took (client retries and rejected response_format included)


class _ContextTooLong(TakeawaysError):
    """The server said the prompt exceeds the model's context: retry in smaller chunks."""


class _Invalid(ValueError):
    pass


def parse_output(content: str) -> LLMOutput:
    """Tolerant JSON extraction (code fences, prose around the object, small syntax slips) + validation."""
    text = content.strip()
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, re.S)
    if fenced:
        text = fenced.group(1).strip()
    try:
        data = json.loads(text)
    except ValueError:
        start = text.find("{")
        data = json_repair.loads(text[start:]) if start >= 0 else None
    if not isinstance(data, dict):
        raise _Invalid("the answer is not a JSON object")
    try:
        return LLMOutput.model_validate(data)
    except ValidationError as exc:
        errors = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5])
        raise _Invalid(errors) from exc


@dataclass
class _Conversation:
    """Per-article state: usage, warnings and the budget check. Yields requests, gets results."""

    article: Article
    spec: Spec
    settings: Settings
    usage: Usage = field(default_factory=Usage)
    warnings: list[str] = field(default_factory=list)

    # -- accounting
    def _account(self, result: _Result) -> None:
        u = getattr(result.completion, "usage", None)
        pt = int(getattr(u, "prompt_tokens", 0) or 0)
        ct = int(getattr(u, "completion_tokens", 0) or 0)
        self.add_usage(Usage(requests=result.requests, prompt_tokens=pt, completion_tokens=ct,
                             cost_usd=pricing.cost(self.settings.model, pt, ct, self.settings.price_file)))

    def add_usage(self, usage: Usage) -> None:
        self.usage = self.usage.add(usage)

    def _check_budget(self, request: _Request) -> None:
        s = self.settings
        if s.max_cost is None:
            return
        pt = messages_tokens(request.messages, s.model, known_mode(s) or "json_schema")
        next_cost = pricing.cost(s.model, pt, request.max_tokens, s.price_file)
        if self.usage.cost_usd + next_cost > s.max_cost:
            raise BudgetExceeded(
                f"the next {request.purpose} request would cost up to ${next_cost:.6f} (spent so far ${self.usage.cost_usd:.6f}),"
                f" over --max-cost ${s.max_cost:g}; raise --max-cost, lower --max-output-tokens or use a cheaper -m model")

    # -- one exchange with validation re-ask and length retry
    def ask(self, messages: list[dict[str, str]], purpose: str) -> Generator[_Request, _Result, LLMOutput]:
        max_tokens = self.settings.max_output_tokens
        reasked = length_retried = False
        while True:
            request = _Request(messages, max_tokens, purpose)
            self._check_budget(request)
            result = yield request
            self._account(result)
            choices = getattr(result.completion, "choices", None)
            if not choices:
                raise LLMError(f"{self.settings.base_url or OPENAI_BASE} answered without a chat completion; check that "
                               "--base-url points at an OpenAI-compatible API (it usually ends in /v1)")
            choice = choices[0]
            message = choice.message
            refusal = getattr(message, "refusal", None)
            if refusal or choice.finish_reason == "content_filter":
                raise LLMError(f"the model refused to summarize this article ({(refusal or 'content filter')[:200]}); "
                               "try another model with -m, or --engine extractive")
            if choice.finish_reason == "length":
                if length_retried:
                    raise LLMError(f"the answer was cut off at {max_tokens} output tokens twice; raise --max-output-tokens"
                                   " or ask for fewer items with -t/-q")
                length_retried = True
                max_tokens *= 2
                self.warnings.append(f"answer cut off (finish_reason=length); retried with {max_tokens} output tokens")
                continue
            content = message.content or ""
            try:
                return parse_output(content)
            except _Invalid as exc:
                if reasked:
                    raise LLMError(f"the model returned invalid output twice ({exc}); try a stronger model with -m,"
                                   " or --engine extractive") from None
                reasked = True
                self.warnings.append(f"invalid model output ({str(exc)[:120]}); asked again once")
                messages = [*messages, {"role": "assistant", "content": content[:4000]},
                            {"role": "user", "content": f"That answer was invalid: {exc}. Answer again with only the "
                                                        "JSON object in the required shape."}]

    # -- the whole article
    def run(self) -> Generator[_Request, _Result, Digest]:
        s = self.settings
        system = system_prompt(self.article, self.spec, s)
        messages = _messages(system, user_prompt(self.article.text, s))
        if messages_tokens(messages, s.model, "json_schema") <= s.max_input_tokens:
            try:
                out = yield from self.ask(messages, "article")
            except _ContextTooLong:
                budget = max(200, tokens.count_tokens(self.article.text, s.model) // 2)
                self.warnings.append("the server's context is smaller than the article; retried in chunks")
                out = yield from self.map_reduce(system, budget)
        else:
            out = yield from self.map_reduce(system, chunk_budget(system, s))
        return self.digest(out)

    def map_reduce(self, system: str, budget: int) -> Generator[_Request, _Result, LLMOutput]:
        s = self.settings
        chunks = split_sections(self.article, budget, s.model)
        parts: list[LLMOutput] = []
        for i, chunk in enumerate(chunks, 1):
            user = user_prompt(chunk, s, {"index": i, "total": len(chunks)})
            try:
                part = yield from self.ask(_messages(system, user), f"chunk {i}/{len(chunks)}")
            except _ContextTooLong:
                raise LLMError(f"the server rejects even {budget}-token chunks as too long for the model's context; "
                               "lower --max-input-tokens or use a model with a larger context") from None
            hay = normalise(chunk)  # candidates that do not quote their chunk never reach the merge
            parts.append(LLMOutput(takeaways=[t for t in part.takeaways if find_evidence(t.evidence, hay)],
                                   faq=[q for q in part.faq if find_evidence(q.evidence, hay)]))
        self.warnings.append(f"long article: {len(chunks)} chunks of at most {budget} tokens, then merged")
        merged: LLMOutput = yield from self.reduce(system, parts)
        return merged

    def reduce(self, system: str, parts: list[LLMOutput]) -> Generator[_Request, _Result, LLMOutput]:
        """One merge request for all candidates; only when they do not fit in --max-input-tokens,
        merge halves first (a tree of merges)."""
        if len(parts) == 1:
            return parts[0]
        combined = LLMOutput(takeaways=[t for p in parts for t in p.takeaways], faq=[q for p in parts for q in p.faq])
        messages = _messages(system, merge_prompt(combined, self.spec, self.settings))
        if len(parts) > 2 and messages_tokens(messages, self.settings.model, "json_schema") > self.settings.max_input_tokens:
            mid = len(parts) // 2
            left = yield from self.reduce(system, parts[:mid])
            right = yield from self.reduce(system, parts[mid:])
            parts = [left, right]
            combined = LLMOutput(takeaways=left.takeaways + right.takeaways, faq=left.faq + right.faq)
            messages = _messages(system, merge_prompt(combined, self.spec, self.settings))
        merged: LLMOutput = yield from self.ask(messages, "merge")
        return merged

    def digest(self, out: LLMOutput) -> Digest:
        takeaways = [Takeaway(text=t.text.strip(), evidence=t.evidence.strip(), origin="llm")
                     for t in out.takeaways if t.text.strip()][: self.spec.takeaways]
        faq = [QA(question=q.question.strip(), answer=q.answer.strip(), evidence=q.evidence.strip(), origin="llm")
               for q in out.faq if q.question.strip() and q.answer.strip()][: self.spec.questions]
        return Digest(article=self.article.meta, takeaways=takeaways, faq=faq, engine=LLMEngine.name,
                      model=self.settings.model, usage=self.usage, warnings=self.warnings,
                      existing_blocks=self.article.existing_blocks)


def chunk_budget(system: str, settings: Settings) -> int:
    """Article tokens per chunk: --max-input-tokens minus the prompt around the article."""
    overhead = messages_tokens(_messages(system, user_prompt("", settings, {"index": 99, "total": 99})), settings.model,
                               "json_schema")
    return max(200, settings.max_input_tokens - overhead)


# ---------------------------------------------------------------- errors


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
        return _ContextTooLong(text)
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


# ---------------------------------------------------------------- drivers


def _is_openai(settings: Settings) -> bool:
    return settings.base_url is None or "api.openai.com" in settings.base_url


def _create_kwargs(request: _Request, settings: Settings, mode: str) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"model": settings.model, "messages": request.messages}
    # OpenAI's own API wants max_completion_tokens (reasoning models reject max_tokens);
    # compatible servers (llama.cpp, older vLLM, Ollama) know max_tokens.
    kwargs["max_completion_tokens" if _is_openai(settings) else "max_tokens"] = request.max_tokens
    if not re.match(r"(o\d|gpt-5)", settings.model):  # reasoning models accept only the default temperature
        kwargs["temperature"] = 0.2
    if settings.seed is not None:
        kwargs["seed"] = settings.seed
    counts = (settings.takeaways, settings.questions) if request.purpose == "article" else None
    rf = response_format(mode, counts)
    if rf is not None:
        kwargs["response_format"] = rf
    return kwargs


def _parse(raw: Any, settings: Settings) -> Any:
    """The ChatCompletion of a raw response; a body that is not one is the base URL's fault."""
    try:
        return raw.parse()
    except (openai.OpenAIError, ValueError) as exc:
        raise LLMError(f"{settings.base_url or OPENAI_BASE} answered with something that is not a chat completion "
                       f"({exc}); check that --base-url points at an OpenAI-compatible API (it usually ends in /v1)"
                       ) from None


def _send_sync(client: openai.OpenAI, request: _Request, settings: Settings) -> _Result:
    base = base_key(settings)
    mode = _MODES.get(base)
    if mode is None:
        with _sync_lock(base):
            mode = _MODES.get(base)
            if mode is None:
                return _probe_sync(client, request, settings, base)
    return _attempt_sync(client, request, settings, mode, settings.max_retries, 0)


def _probe_sync(client: openai.OpenAI, request: _Request, settings: Settings, base: str) -> _Result:
    rejected = 0
    for mode in MODES:
        try:
            raw = client.chat.completions.with_raw_response.create(**_create_kwargs(request, settings, mode))
        except openai.OpenAIError as exc:
            if mode != "text" and rejects_format(exc):
                log.info("%s rejects response_format %s; falling back", base, mode)
                rejected += 1
                continue
            if settings.max_retries > 0 and retry.is_transient(exc):
                time.sleep(retry.wait_for(exc, 1, settings.retry_wait))
                return _attempt_sync(client, request, settings, mode, settings.max_retries - 1, rejected + 1)
            raise map_error(exc, settings, rejected + 1) from None
        _MODES[base] = mode
        return _Result(_parse(raw, settings), rejected + 1)
    raise AssertionError("unreachable: text mode never counts as rejected")  # pragma: no cover


def _attempt_sync(client: openai.OpenAI, request: _Request, settings: Settings, mode: str, retries: int,
                  before: int) -> _Result:
    """One request under the retry policy (retry.py): 1 + `retries` HTTP requests at most."""
    sent = 0

    def once() -> Any:
        nonlocal sent
        sent += 1
        return client.chat.completions.with_raw_response.create(**_create_kwargs(request, settings, mode))

    try:
        raw = retry.call(once, settings, attempts=retries + 1)
    except openai.OpenAIError as exc:
        raise map_error(exc, settings, before + sent) from None
    _MODES.setdefault(base_key(settings), mode)
    return _Result(_parse(raw, settings), before + sent)


async def _send_async(client: openai.AsyncOpenAI, request: _Request, settings: Settings) -> _Result:
    base = base_key(settings)
    mode = _MODES.get(base)
    if mode is None:
        async with _async_lock(base):
            mode = _MODES.get(base)
            if mode is None:
                return await _probe_async(client, request, settings, base)
    return await _attempt_async(client, request, settings, mode, settings.max_retries, 0)


async def _probe_async(client: openai.AsyncOpenAI, request: _Request, settings: Settings, base: str) -> _Result:
    rejected = 0
    for mode in MODES:
        try:
            raw = await client.chat.completions.with_raw_response.create(**_create_kwargs(request, settings, mode))
        except openai.OpenAIError as exc:
            if mode != "text" and rejects_format(exc):
                log.info("%s rejects response_format %s; falling back", base, mode)
                rejected += 1
                continue
            if settings.max_retries > 0 and retry.is_transient(exc):
                await asyncio.sleep(retry.wait_for(exc, 1, settings.retry_wait))
                return await _attempt_async(client, request, settings, mode, settings.max_retries - 1, rejected + 1)
            raise map_error(exc, settings, rejected + 1) from None
        _MODES[base] = mode
        return _Result(_parse(raw, settings), rejected + 1)
    raise AssertionError("unreachable: text mode never counts as rejected")  # pragma: no cover


async def _attempt_async(client: openai.AsyncOpenAI, request: _Request, settings: Settings, mode: str, retries: int,
                  before: int) -> _Result:
    """One request under the retry policy (retry.py): 1 + `retries` HTTP requests at most."""
    sent = 0

    async def once() -> Any:
        nonlocal sent
        sent += 1
        return await client.chat.completions.with_raw_response.create(**_create_kwargs(request, settings, mode))

    try:
        raw = await retry.acall(once, settings, attempts=retries + 1)
    except openai.OpenAIError as exc:
        raise map_error(exc, settings, before + sent) from None
    _MODES.setdefault(base_key(settings), mode)
    return _Result(_parse(raw, settings), before + sent)


class LLMEngine:
    """generate/agenerate: Article → Digest (origin='llm'), usage summed over every attempt.

    Errors carry `.usage`: what the article spent before failing (for run-wide budgets)."""

    name = "openai"

    def generate(self, article: Article, spec: Spec, settings: Settings) -> Digest:
        conv = _Conversation(article, spec, settings)
        gen = conv.run()
        client = shared_client(settings)
        try:
            request = next(gen)
            while True:
                try:
                    result = _send_sync(client, request, settings)
                except TakeawaysError as exc:
                    request = _throw(gen, exc, conv)
                else:
                    request = gen.send(result)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        except TakeawaysError as exc:
            exc.usage = conv.usage  # type: ignore[attr-defined]
            raise

    async def agenerate(self, article: Article, spec: Spec, settings: Settings) -> Digest:
        conv = _Conversation(article, spec, settings)
        gen = conv.run()
        client = shared_async_client(settings)
        try:
            request = next(gen)
            while True:
                try:
                    result = await _send_async(client, request, settings)
                except TakeawaysError as exc:
                    request = _throw(gen, exc, conv)
                else:
                    request = gen.send(result)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        except TakeawaysError as exc:
            exc.usage = conv.usage  # type: ignore[attr-defined]
            raise


def _throw(gen: Generator[_Request, _Result, Digest], exc: TakeawaysError, conv: _Conversation) -> _Request:
    """Count the failed attempts; let the conversation handle the error (context too long → chunks)."""
    conv.add_usage(Usage(requests=getattr(exc, "attempts", 1)))
    if isinstance(exc, _ContextTooLong):
        return gen.throw(exc)
    raise exc


# ---------------------------------------------------------------- estimates (no request)


@dataclass
class Plan:
    """What `generate` would send for an article, before any request."""

    system: str
    users: list[str]
    merge: bool
    prompt_tokens: int
    article_tokens: int
    max_output_tokens: int
    cost_usd: float
    mode: str


def plan(article: Article, spec: Spec, settings: Settings) -> Plan:
    s = settings
    mode = known_mode(s) or "json_schema"
    system = system_prompt(article, spec, s)
    single = user_prompt(article.text, s)
    article_tokens = tokens.count_tokens(article.text, s.model)
    pt = messages_tokens(_messages(system, single), s.model, mode)
    if messages_tokens(_messages(system, single), s.model, "json_schema") <= s.max_input_tokens:
        users, merge = [single], False
    else:
        chunks = split_sections(article, chunk_budget(system, s), s.model)
        users = [user_prompt(c, s, {"index": i, "total": len(chunks)}) for i, c in enumerate(chunks, 1)]
        merge = len(chunks) > 1
        pt = sum(messages_tokens(_messages(system, u), s.model, mode) for u in users)
        if merge:  # the merge prompt holds at most every chunk's full answer
            pt += messages_tokens(_messages(system, ""), s.model, mode) + len(users) * s.max_output_tokens
    calls = len(users) + int(merge)
    out = calls * s.max_output_tokens
    return Plan(system=system, users=users, merge=merge, prompt_tokens=pt, article_tokens=article_tokens,
                max_output_tokens=out, cost_usd=pricing.cost(s.model, pt, out, s.price_file), mode=mode)


def estimate_cost(article: Article, spec: Spec, settings: Settings) -> float:
    """Upper bound in USD of generating this article (every planned request at full output length,
    no retries); 0.0 when the model's price is unknown."""
    return plan(article, spec, settings).cost_usd


def dry_run(article: Article, spec: Spec, settings: Settings) -> str:
    """The rendered prompt(s), a token estimate and the estimated cost. Sends nothing."""
    p = plan(article, spec, settings)
    price = pricing.price_for(settings.model, settings.price_file)
    price_text = (f"${price['input']:g} in / ${price['output']:g} out per 1M tokens" if price
                  else "price unknown: counted as $0; add the model with --price-file")
    calls = f"{len(p.users)} chunk request(s) + 1 merge request" if p.merge else f"{len(p.users)} request"
    lines = [
        "# dry run: nothing was sent",
        f"engine: openai, model: {settings.model}, base URL: {settings.base_url or OPENAI_BASE}",
        f"structured output: {p.mode}" + ("" if known_mode(settings) else " (falls back to json_object, then text)"),
        f"requests: {calls} (--max-input-tokens {settings.max_input_tokens})",
        f"article tokens: {p.article_tokens} ({tokens.method(settings.model)})",
        f"prompt tokens (estimate): {p.prompt_tokens}; output tokens at most {p.max_output_tokens}",
        f"estimated cost: at most ${p.cost_usd:.6f} ({price_text})",
    ]
    if settings.max_cost is not None:
        verdict = "within" if p.cost_usd <= settings.max_cost else "OVER"
        lines.append(f"--max-cost ${settings.max_cost:g}: {verdict} budget")
    lines += ["", "--- system ---", p.system]
    for i, u in enumerate(p.users, 1):
        lines += ["", f"--- user{f' (chunk {i}/{len(p.users)})' if len(p.users) > 1 else ''} ---", u]
    if p.merge:
        lines += ["", "--- merge (merge.j2, rendered from the chunk answers) ---"]
    return "\n".join(lines) + "\n"


__all__ = ["OUTPUT_SCHEMA", "LLMEngine", "dry_run", "estimate_cost", "parse_output", "plan", "split_sections"]
