"""The shape of the model's answer: pydantic models, and the JSON schema sent with requests."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator


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

__all__ = ["LLMQA", "OUTPUT_SCHEMA", "LLMOutput", "LLMTakeaway"]
