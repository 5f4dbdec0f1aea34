"""Building a request: the prompts, and the chat completion body every transport sends.

`body(request, settings, mode)` is the one builder: the live transports send it over HTTP and the
batch file writes it as a line's `body`, so a Batch API request is byte for byte the live one.

Structured-output modes (`MODES`): `json_schema` (strict schema from the pydantic models) →
`json_object` (with the schema alongside, as llama.cpp's server accepts it) → `text` (no
response_format; the JSON shape is in the system prompt either way). The mode a base URL (and
model) accepted is learned by the live transport and remembered for the whole process
(`known_mode`, `remember_mode`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from ... import tokens
from ...config import Settings
from ...models import Article, Spec
from ...rendering import get_template
from .schema import OUTPUT_SCHEMA, LLMOutput

OPENAI_BASE = "https://api.openai.com/v1"
MODES = ("json_schema", "json_object", "text")
MESSAGE_OVERHEAD = 4  # tokens the chat format adds per message (OpenAI's documented figure)

Messages = list[dict[str, str]]


@dataclass
class Request:
    """One chat request of a conversation, before it is given a transport's shape."""

    messages: Messages
    max_tokens: int
    purpose: str = "article"  # "article", "chunk i/n", "merge" or (a subtree of a merge tree) "merge i-j/n"
    attempt: int = 0  # 0 for the first request of its purpose; 1, 2 for a re-ask or a length retry

    @property
    def tag(self) -> str:
        """Names the request within its conversation, the same on every replay (the batch file
        matches answers to requests by it)."""
        return self.purpose if self.attempt == 0 else f"{self.purpose} +{self.attempt}"


# ---------------------------------------------------------------- the body


def is_openai(settings: Settings) -> bool:
    return settings.base_url is None or "api.openai.com" in settings.base_url


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


def body(request: Request, settings: Settings, mode: str) -> dict[str, Any]:
    """The chat completion request body (the keyword arguments of `chat.completions.create`)."""
    kwargs: dict[str, Any] = {"model": settings.model, "messages": request.messages}
    # OpenAI's own API wants max_completion_tokens (reasoning models reject max_tokens);
    # compatible servers (llama.cpp, older vLLM, Ollama) know max_tokens.
    kwargs["max_completion_tokens" if is_openai(settings) else "max_tokens"] = request.max_tokens
    if not re.match(r"(o\d|gpt-5)", settings.model):  # reasoning models accept only the default temperature
        kwargs["temperature"] = 0.2
    if settings.seed is not None:
        kwargs["seed"] = settings.seed
    counts = (settings.takeaways, settings.questions) if request.purpose == "article" else None
    rf = response_format(mode, counts)
    if rf is not None:
        kwargs["response_format"] = rf
    return kwargs


# ---------------------------------------------------------------- the mode each server accepts

_MODES: dict[str, str] = {}  # "base URL model" → structured-output mode that worked
_REJECTED: dict[str, set[str]] = {}  # "base URL model" → modes it answered with a format rejection


def base_key(settings: Settings) -> str:
    """Modes are remembered per base URL and model: OpenAI itself supports json_schema for some
    models and not others; one server (llama.cpp, vLLM) answers the same for every model."""
    return f"{(settings.base_url or OPENAI_BASE).rstrip('/')} {settings.model}"


def known_mode(settings: Settings) -> str | None:
    return _MODES.get(base_key(settings))


def remember_mode(settings: Settings, mode: str) -> None:
    """The server answered a request sent in `mode` (the first mode learned stays)."""
    _MODES.setdefault(base_key(settings), mode)


def remember_rejected(settings: Settings, mode: str) -> None:
    """The server rejected `mode`: requests that start probing after this skip it."""
    _REJECTED.setdefault(base_key(settings), set()).add(mode)


def untried_modes(settings: Settings) -> tuple[str, ...]:
    """The modes a new probe tries, best first: every mode the server has not rejected ("text" always)."""
    rejected = _REJECTED.get(base_key(settings), set())
    return tuple(m for m in MODES if m not in rejected)


def forget_modes() -> None:
    """Forget what every server accepted or rejected (the next request to each probes again)."""
    _MODES.clear()
    _REJECTED.clear()


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


def messages(system: str, user: str) -> Messages:
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def messages_tokens(messages: Messages, model: str, mode: str | None = None) -> int:
    n = 3 + sum(MESSAGE_OVERHEAD + tokens.count_tokens(m["content"], model) for m in messages)
    if mode in ("json_schema", "json_object"):
        n += tokens.count_tokens(json.dumps(OUTPUT_SCHEMA, separators=(",", ":")), model)
    return n


__all__ = ["MODES", "OPENAI_BASE", "Messages", "Request", "base_key", "body", "forget_modes", "is_openai",
           "known_mode", "language_name", "merge_prompt", "messages", "messages_tokens", "neutralise",
           "remember_mode", "response_format", "system_prompt", "user_prompt"]
