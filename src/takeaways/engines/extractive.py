"""Offline extractive engine (first cut): lead sentences and heading questions.

Deterministic, no network. Replaced by the ranked engine of the offline-engine issue.
"""

from __future__ import annotations

import re

from ..config import Settings
from ..models import QA, Article, Digest, Spec, Takeaway

_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[\"'“A-Z0-9])")


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SPLIT.split(text) if s.strip()]


class ExtractiveEngine:
    name = "extractive"

    def generate(self, article: Article, spec: Spec, settings: Settings) -> Digest:
        sents = [s for b in article.blocks if b.kind == "paragraph" for s in sentences(b.text) if len(s.split()) >= 6]
        takeaways = [Takeaway(text=s, evidence=s) for s in sents[: spec.takeaways]]
        faq: list[QA] = []
        blocks = article.blocks
        for i, b in enumerate(blocks):
            if len(faq) >= spec.questions:
                break
            if b.kind == "heading" and i + 1 < len(blocks) and blocks[i + 1].kind == "paragraph":
                first = sentences(blocks[i + 1].text)[0]
                q = b.text if b.text.endswith("?") else f"What about {b.text.rstrip('.:')}?"
                faq.append(QA(question=q, answer=first, evidence=first))
        return Digest(article=article.meta, takeaways=takeaways, faq=faq, engine=self.name,
                      existing_blocks=article.existing_blocks)
