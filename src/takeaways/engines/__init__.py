"""Engines turn an Article into a Digest. One small interface: generate(article, spec, settings)."""

from __future__ import annotations

from typing import Protocol

from ..config import Settings
from ..models import Article, Digest, Spec


class Engine(Protocol):
    name: str

    def generate(self, article: Article, spec: Spec, settings: Settings) -> Digest: ...


def get_engine(name: str) -> Engine:
    """Return the engine for a resolved engine name ('extractive' or 'openai')."""
    if name == "extractive":
        from .offline import ExtractiveEngine

        return ExtractiveEngine()
    if name == "openai":
        from .llm import LLMEngine

        return LLMEngine()
    from ..errors import ConfigError

    raise ConfigError(f"unknown engine {name!r}; use auto, extractive or openai")
