"""The LLM engine: the conversation (conversation.py) sent live (transport.py), sync or async."""

from __future__ import annotations

from ...config import Settings
from ...models import Article, Digest, Spec
from .conversation import ENGINE_NAME, Conversation
from .transport import live, run_async, run_sync


class LLMEngine:
    """generate/agenerate: Article → Digest (origin='llm'), usage summed over every attempt.

    Errors carry `.usage`: what the article spent before failing (for run-wide budgets)."""

    name = ENGINE_NAME

    def generate(self, article: Article, spec: Spec, settings: Settings) -> Digest:
        return run_sync(live(Conversation(article, spec, settings)), settings)

    async def agenerate(self, article: Article, spec: Spec, settings: Settings) -> Digest:
        return await run_async(live(Conversation(article, spec, settings)), settings)


__all__ = ["LLMEngine"]
