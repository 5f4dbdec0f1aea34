"""Reading an answer: what a chat completion says, as pure functions (no request, no state).

`read(completion, settings)` → `Parsed` (the validated output), `CutOff` (finish_reason length) or
`Invalid` (not the JSON we asked for, with the reason); a refusal or a body without choices raises
the error the user sees. The conversation decides what to do next (re-ask once, retry once with
more tokens); `reask` builds the messages of that re-ask.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import json_repair
from pydantic import ValidationError

from ...config import Settings
from ...errors import LLMError
from .failures import not_a_completion
from .requests import Messages
from .schema import LLMOutput


class InvalidOutput(ValueError):
    """The answer is not the JSON object in the required shape."""


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
        raise InvalidOutput("the answer is not a JSON object")
    try:
        return LLMOutput.model_validate(data)
    except ValidationError as exc:
        errors = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5])
        raise InvalidOutput(errors) from exc


@dataclass(frozen=True)
class Parsed:
    output: LLMOutput


@dataclass(frozen=True)
class CutOff:
    """The answer stopped at max tokens (finish_reason length)."""


@dataclass(frozen=True)
class Invalid:
    content: str
    reason: str


Verdict = Parsed | CutOff | Invalid


def read(completion: Any, settings: Settings) -> Verdict:
    """What one chat completion says. Raises LLMError for a refusal or a body without choices."""
    choices = getattr(completion, "choices", None)
    if not choices:
        raise not_a_completion(settings)
    choice = choices[0]
    message = choice.message
    refusal = getattr(message, "refusal", None)
    if refusal or choice.finish_reason == "content_filter":
        raise LLMError(f"the model refused to summarize this article ({(refusal or 'content filter')[:200]}); "
                       "try another model with -m, or --engine extractive")
    if choice.finish_reason == "length":
        return CutOff()
    content = message.content or ""
    try:
        return Parsed(parse_output(content))
    except InvalidOutput as exc:
        return Invalid(content, str(exc))


def reask(messages: Messages, invalid: Invalid) -> Messages:
    """The conversation so far, the invalid answer, and the request to answer again."""
    return [*messages, {"role": "assistant", "content": invalid.content[:4000]},
            {"role": "user", "content": f"That answer was invalid: {invalid.reason}. Answer again with only the "
                                        "JSON object in the required shape."}]


__all__ = ["CutOff", "Invalid", "InvalidOutput", "Parsed", "Verdict", "parse_output", "read", "reask"]
