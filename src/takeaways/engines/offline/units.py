"""The article as sentence units with offsets, blocks and sections (captions marked)."""

from __future__ import annotations

from ...models import Article
from ...sentences import sentence_spans
from .filters import caption_cut
from .text import WORD, Unit, terms


def units(article: Article, english: bool = True) -> list[Unit]:
    """Every sentence of the body (headings and tables excluded), with offsets into article.text.

    A sentence with photo captions run into its start begins after them; a unit that is all caption
    or credit is kept with `caption=True` (see `caption_cut`): it still tells what the page is about."""
    out: list[Unit] = []
    offset = 0
    section: int | None = None
    for bi, block in enumerate(article.blocks):
        if block.kind == "heading":
            section = bi
        elif block.kind != "table":
            for a, b in sentence_spans(block.text):
                cut = caption_cut(block.text[a:b])
                a += cut or 0
                text = block.text[a:b]
                tokens = WORD.findall(text)
                out.append(Unit(index=len(out), text=text, start=offset + a, end=offset + b, block=bi,
                                kind=block.kind, section=section, words=len(tokens),
                                terms=terms(text, english, tokens), caption=cut is None))
        offset += len(block.text) + 1
    return out
