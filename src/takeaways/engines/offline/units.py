"""The article as sentence units with offsets, blocks and sections (captions marked)."""

from __future__ import annotations

from ...models import Article
from ...sentences import sentence_spans
from .filters import BRACKET_TAG, CAPS_LABEL, FIRST_PERSON_WORDS, caption_cut, glue_cut
from .text import WORD, Unit, in_quotation, quote_spans, terms


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
            quotes = quote_spans(block.text) if english else []
            for a, b in sentence_spans(block.text):
                cut = caption_cut(block.text[a:b])
                a += cut or 0
                label = CAPS_LABEL.match(block.text, a, b) if cut is not None and english else None
                a = label.end() if label else a  # "BALL OF THE CENTURY Benaud was …": a list item's heading
                tag = BRACKET_TAG.match(block.text, a, b) if cut is not None else None
                a = tag.end() if tag and b - tag.end() > 10 else a  # "[Entermedia=Jeong's column] …": a byline
                glue = glue_cut(block.text[a:b]) if cut is not None and english else 0
                if glue:  # the caption part glued to the sentence: it counts for ranking, it is not shown
                    out.append(_unit(len(out), block.text, a, a + glue, offset, bi, block.kind, section, english, True))
                    a += glue
                    label = CAPS_LABEL.match(block.text, a, b)
                    a = label.end() if label else a
                out.append(_unit(len(out), block.text, a, b, offset, bi, block.kind, section, english, cut is None))
                out[-1].in_quote = bool(quotes) and in_quotation(quotes, a, b)
        offset += len(block.text) + 1
    return out


def _unit(index: int, block: str, a: int, b: int, offset: int, bi: int, kind: str, section: int | None,
          english: bool, caption: bool) -> Unit:
    text = block[a:b].rstrip()
    tokens = WORD.findall(text)
    return Unit(index=index, text=text, start=offset + a, end=offset + a + len(text), block=bi, kind=kind,
                section=section, words=len(tokens), terms=terms(text, english, tokens), caption=caption,
                first=not FIRST_PERSON_WORDS.isdisjoint(tokens))
