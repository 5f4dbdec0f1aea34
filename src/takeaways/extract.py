"""Page → Article with trafilatura: body blocks with headings, metadata, existing blocks, quality gate."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import py3langid
import trafilatura
from lxml import etree

from .config import Settings
from .errors import ExtractionError
from .models import Article, Block, ExistingBlock, Page
from .sources import decode

_CJK = "\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af"
_WORD = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")

FAQ_HEADING = re.compile(
    r"^\W*(faqs?|frequently asked questions|questions (and|&) answers|q\s*&\s*a|common questions"
    r"|people also ask)\W*$", re.I)
TAKEAWAYS_HEADING = re.compile(
    r"^\W*(key takeaways?|takeaways?|key points|key facts|main points|tl;?\s?dr|highlights|at a glance"
    r"|what you need to know|the bottom line|bottom line)\W*$", re.I)
TRAILER_HEADING = re.compile(
    r"^\W*(related (articles|posts|stories|reading|content)|read (more|next|also)|more from .{0,40}|"
    r"you (may|might) also like|recommended( for you)?|more stories|share this( article| post)?)\W*$", re.I)
TRAILER_TAIL = re.compile(r"\W(related (articles|posts|stories)|read (more|next))\W*$", re.I)
QA_LINE = re.compile(r"^\s*(Q|Question)\s*[:.)]\s*\S", re.I)

# Texts that mean "this is not the article, it is a wall in front of it".
WALLS: dict[str, re.Pattern[str]] = {
    "a cookie/consent banner": re.compile(
        r"\b(cookies?|consent|privacy (policy|settings|preferences)|accept all|reject all|manage (options|preferences)|"
        r"legitimate interest|partners? (process|use)|personali[sz]ed (ads|content))\b", re.I),
    "a paywall or subscription prompt": re.compile(
        r"\b(subscribe (now |today )?to (continue|read|keep reading|unlock)|subscribers? only|already (a )?subscriber|"
        r"sign in to (continue|read)|create a free account|this (article|content) is (for|available to) (paid )?(subscribers|members)|"
        r"unlock (this|full) (article|access)|start your (free )?trial)\b", re.I),
    "a captcha or bot check": re.compile(
        r"\b(captcha|verify (that )?you are (a )?human|are you a robot|checking your browser|unusual traffic|"
        r"access denied|ray id|press (&|and) hold)\b", re.I),
    "a 'JavaScript required' page": re.compile(
        r"\b(enable javascript|javascript (is )?(required|disabled)|turn on javascript|browser (is )?not supported)\b", re.I),
}


def count_words(text: str) -> int:
    return len(_WORD.findall(text))


def extract_page(page: Page, settings: Settings | None = None) -> Article:
    """Extract the article of a loaded Page and apply the quality gate."""
    settings = settings or Settings()
    text = decode(page)
    article = extract_html(text, url=page.url) if page.content_type == "html" else extract_text(text, url=page.url)
    check_quality(article, page.source, settings.min_words)
    return article


def extract(html_or_text: str | bytes, url: str | None = None, *, min_words: int = 0) -> Article:
    """Public API: HTML or plain text → Article (no quality gate unless min_words > 0)."""
    if isinstance(html_or_text, bytes):
        page = Page(source=url or "<bytes>", url=url, content=html_or_text,
                    content_type="html" if re.match(rb"\s*<", html_or_text) else "text")
        html_or_text = decode(page)
    looks_html = re.match(r"\s*<", html_or_text) is not None
    article = extract_html(html_or_text, url=url) if looks_html else extract_text(html_or_text, url=url)
    if min_words:
        check_quality(article, url or "<text>", min_words)
    return article


def extract_html(html: str, url: str | None = None) -> Article:
    doc = trafilatura.bare_extraction(html, url=url, with_metadata=True, include_comments=False,
                                      include_tables=True, deduplicate=False)
    if doc is None or doc.body is None:
        return _finish([], meta={"url": url})
    blocks = list(_body_blocks(doc.body))
    meta: dict[str, Any] = {
        "url": url or doc.url, "title": doc.title, "author": doc.author, "date": doc.date,
        "sitename": doc.sitename, "language": doc.language or _html_lang(html),
    }
    return _finish(blocks, meta)


def _html_lang(html: str) -> str | None:
    m = re.search(r"<html[^>]*\slang\s*=\s*[\"']?([A-Za-z]{2,3})", html[:5000], re.I)
    return m.group(1).lower() if m else None


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _body_blocks(body: etree._Element) -> Iterable[Block]:
    for el in body:
        tag = el.tag
        if tag == "head":
            rend = el.get("rend") or "h2"
            level = int(rend[1]) if re.fullmatch(r"h[1-6]", rend) else 2
            text = _clean("".join(el.itertext()))
            if text:
                yield Block(kind="heading", text=text, level=level)
        elif tag == "list":
            for item in el.iter("item"):
                text = _clean("".join(item.itertext()))
                if text:
                    yield Block(kind="list_item", text=text)
        elif tag == "table":
            for row in el.iter("row"):
                cells = [_clean("".join(c.itertext())) for c in row.iter("cell")]
                if any(cells):
                    yield Block(kind="table", text=" | ".join(cells))
        else:
            text = _clean("".join(el.itertext()))
            if text:
                yield Block(kind="quote" if tag == "quote" else "paragraph", text=text)


_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*$")
_BULLET = re.compile(r"^\s*(?:[-*+•·▪–]|\d{1,2}[.)])\s+(.+)$")


def extract_text(text: str, url: str | None = None) -> Article:
    """Plain text / Markdown → Article. A short first line is the title."""
    lines = [ln.rstrip() for ln in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    lines = [ln for ln in lines if ln.strip()]
    title = None
    if lines:
        first = _MD_HEADING.sub(r"\2", lines[0]).strip()
        if count_words(first) <= 20 and not first.endswith((".", ":", ";")):
            title, lines = first, lines[1:]
    blocks: list[Block] = []
    for i, line in enumerate(lines):
        s = line.strip()
        if m := _MD_HEADING.match(s):
            blocks.append(Block(kind="heading", text=_clean(m.group(2)), level=len(m.group(1))))
        elif s.startswith("|") and s.endswith("|"):
            blocks.append(Block(kind="table", text=_clean(s.strip("|"))))
        elif m := _BULLET.match(s):
            blocks.append(Block(kind="list_item", text=_clean(m.group(1))))
        elif s.startswith(">"):
            blocks.append(Block(kind="quote", text=_clean(s.lstrip("> "))))
        elif _looks_like_heading(s, lines[i + 1] if i + 1 < len(lines) else None):
            blocks.append(Block(kind="heading", text=_clean(s), level=2))
        else:
            blocks.append(Block(kind="paragraph", text=_clean(s)))
    return _finish(blocks, {"url": url, "title": title})


def _looks_like_heading(line: str, nxt: str | None) -> bool:
    if nxt is None or QA_LINE.match(line):
        return False
    n = count_words(line)
    return (0 < n <= 12 and line[:1].isupper() and not line.endswith((".", ",", ";", ":", "!", "…", '"', "”"))
            and count_words(nxt) > n)


def split_existing(blocks: list[Block]) -> tuple[list[Block], list[ExistingBlock]]:
    """Take out FAQ / Key Takeaways blocks the page already has, and trailing 'Related articles' lists."""
    kept: list[Block] = []
    found: list[ExistingBlock] = []
    i = 0
    while i < len(blocks):
        b = blocks[i]
        if i > 0 and (b.kind == "heading" and TRAILER_HEADING.match(b.text) or TRAILER_TAIL.search(b.text)):
            break
        if b.kind == "heading" and (FAQ_HEADING.match(b.text) or TAKEAWAYS_HEADING.match(b.text)):
            kind = "faq" if FAQ_HEADING.match(b.text) else "takeaways"
            j = i + 1
            while j < len(blocks) and _in_section(blocks[j], b, kind, blocks[j - 1]):
                j += 1
            found.append(ExistingBlock(kind=kind, heading=b.text, items=[x.text for x in blocks[i + 1:j]]))
            i = j
            continue
        if QA_LINE.match(b.text):
            j = i
            while j < len(blocks) and (QA_LINE.match(blocks[j].text) or re.match(r"^\s*A(nswer)?\s*[:.)]", blocks[j].text)):
                j += 1
            if j - i >= 2 or re.search(r"\bA(nswer)?\s*[:.)]\s", b.text):
                found.append(ExistingBlock(kind="faq", heading="", items=[x.text for x in blocks[i:j]]))
                i = j
                continue
        kept.append(b)
        i += 1
    return kept, found


def _in_section(b: Block, head: Block, kind: str, prev: Block) -> bool:
    if b.kind == "heading":
        # FAQ questions are often sub-headings ending in "?"; a deeper heading stays inside.
        return b.text.endswith("?") or (head.level and b.level > head.level) or False
    if kind == "takeaways" and prev.kind == "list_item" and b.kind != "list_item":
        return False  # the list ended: what follows is the page again
    return True


def _finish(blocks: list[Block], meta: dict[str, Any]) -> Article:
    kept, existing = split_existing(blocks)
    title = meta.get("title")
    if title and kept and kept[0].kind == "heading" and kept[0].text.casefold() == title.casefold():
        kept = kept[1:]  # the H1 repeats the title
    text = "\n".join(b.text for b in kept)
    language = meta.get("language")
    if text and not language:
        language = py3langid.classify(text[:4000])[0]
    meta = {**meta, "language": language, "word_count": count_words(text)}
    return Article(blocks=kept, existing_blocks=existing, **meta)


def wall_reason(article: Article) -> str | None:
    """Name the wall when most of the text is cookie/consent/paywall/captcha boilerplate."""
    if not article.blocks:
        return None
    total = sum(count_words(b.text) for b in article.blocks) or 1
    for reason, rx in WALLS.items():
        hit = sum(count_words(b.text) for b in article.blocks if rx.search(b.text))
        if hit / total >= 0.5:
            return reason
    return None


def check_quality(article: Article, source: str, min_words: int) -> None:
    if not article.blocks:
        raise ExtractionError(f"{source}: no article text found; the page may be an index, a search page or rendered by JavaScript")
    if reason := wall_reason(article):
        raise ExtractionError(f"{source}: the page is mostly {reason}, not an article; save the page as it shows in your browser and pass the file instead")
    if article.word_count < min_words:
        raise ExtractionError(
            f"{source}: only {article.word_count} words of article text (minimum {min_words}); "
            "this does not look like an article; pass --min-words to accept shorter texts")
