"""Long articles: the text in chunks of at most a token budget, cut at headings where possible."""

from __future__ import annotations

import re

from ... import tokens
from ...config import Settings
from ...models import Article, Block
from .requests import messages, messages_tokens, user_prompt


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


def chunk_budget(system: str, settings: Settings) -> int:
    """Article tokens per chunk: --max-input-tokens minus the prompt around the article."""
    overhead = messages_tokens(messages(system, user_prompt("", settings, {"index": 99, "total": 99})), settings.model,
                               "json_schema")
    return max(200, settings.max_input_tokens - overhead)


__all__ = ["chunk_budget", "split_sections"]
