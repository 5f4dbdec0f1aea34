"""Page → Article with trafilatura: body blocks with headings, metadata, existing blocks, quality gate."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable
from itertools import accumulate
from typing import Any, Literal

import trafilatura
from htmldate import find_date
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.metadata import (
    examine_meta,
    extract_author,
    extract_meta_json,
    extract_sitename,
    extract_title,
    extract_url,
)
from trafilatura.settings import set_date_params
from trafilatura.utils import load_html

from . import langid
from .config import Settings
from .errors import ExtractionError
from .models import Article, Block, ExistingBlock, Page
from .sources import decode, sniff_kind

_CJK = "\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af"
_WORD = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")

FAQ_HEADING = re.compile(
    r"^\W*(faqs?|frequently asked questions|questions (and|&) answers|q\s*&\s*a|common questions"
    r"|people also ask)\W*$", re.I)
TAKEAWAYS_HEADING = re.compile(r"^\W*(key takeaways?|takeaways?|key points|key facts|main points)\W*$", re.I)
# Weaker names for a summary: an existing block only when a list follows (prose under them is article).
SUMMARY_HEADING = re.compile(
    r"^\W*(tl;?\s?dr|highlights|at a glance|in brief|what you need to know|(the )?bottom line)\W*$", re.I)
TRAILER_HEADING = re.compile(
    r"^\W*(related (articles|posts|stories|reading|content)|read (more|next|also)|more from .{0,40}|"
    r"you (may|might) also like|recommended( for you)?|more stories|share this( article| post)?)\W*$", re.I)
TRAILER_TAIL = re.compile(r"\W(related (articles|posts|stories)|read (more|next))\W*$", re.I)
QA_LINE = re.compile(r"^\s*(Q|Question)\s*[:.)]\s*\S", re.I)

# Texts that mean "this is not the article, it is a wall in front of it".
WALLS: dict[str, re.Pattern[str]] = {
    "a cookie/consent banner": re.compile(
        r"\b((we|this (site|website)|our (site|website)) uses? cookies|cookie (policy|settings|preferences|consent|notice|banner)|"
        r"accept (all )?cookies|(accept|reject|allow) all|manage (options|preferences|cookies|consent)|consent|"
        r"privacy (policy|settings|preferences)|legitimate interest|partners? (process|use|store)|"
        r"personali[sz]ed (ads|content)|store and/or access information)\b", re.I),
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


LANGUAGE_CHECK_WORDS = 40  # enough text to tell its language; shorter pages keep the declared one


def count_words(text: str) -> int:
    return len(_WORD.findall(text))


def extract_page(page: Page, settings: Settings | None = None) -> Article:
    """Extract the article of a loaded Page and apply the quality gate."""
    settings = settings or Settings()
    text = decode(page)
    if page.content_type == "html":
        article = extract_html(text, url=page.url)
        check_quality(article, page.source, settings.min_words, page_text=lambda: trafilatura.html2txt(text))
    else:
        article = extract_text(text, url=page.url)
        check_quality(article, page.source, settings.min_words)
    return article


def extract(html_or_text: str | bytes, url: str | None = None, *, min_words: int = 0) -> Article:
    """Public API: HTML or plain text → Article (no quality gate unless min_words > 0)."""
    if isinstance(html_or_text, bytes):
        page = Page(source=url or "<bytes>", url=url, content=html_or_text, content_type=sniff_kind(html_or_text))
        html_or_text = decode(page)
    looks_html = sniff_kind(html_or_text.encode("utf-8", "replace")[:4096]) == "html"
    article = extract_html(html_or_text, url=url) if looks_html else extract_text(html_or_text, url=url)
    if min_words:
        check_quality(article, url or "<text>", min_words)
    return article


def extract_html(html: str, url: str | None = None) -> Article:
    """HTML → Article. The page is parsed once; metadata and body are read from the same tree.

    trafilatura runs in fast mode (no readability/justext comparison): on the extraction benchmark
    it loses no F1 and saves the time metadata extraction costs. When fast mode finds less than
    FULL_RETRY_WORDS words, the full cascade gets a second chance before the quality gate speaks.
    """
    tree = load_html(html)
    if tree is None:
        return _finish([], meta={"url": url})
    meta = _metadata(tree, url)
    _drop_overlays(tree)
    body = _body(tree, url, fast=True)
    if body is None or count_words(" ".join(body.itertext())) < FULL_RETRY_WORDS:
        body = _body(tree, url, fast=False) if body is None else _longer(body, _body(tree, url, fast=False))
    return _finish(list(_body_blocks(body)) if body is not None else [], meta)


FULL_RETRY_WORDS = 100

# Hover cards and tooltips sit inside the paragraph they decorate, hidden by CSS that trafilatura does
# not apply: "Gov. Kristi NoemKristi Lynn NoemSouth Dakota governor doubles down on … MORE (R) is …".
_OVERLAY = re.compile(r"(?:^|[\s_-])(?:rollover|tooltip|popover|hover-?card)(?:$|[\s_-])", re.I)


def _drop_overlays(tree: HtmlElement) -> None:
    """Drop the card of a hover card: an overlay-classed element (not a link) inside another one; the
    outer one and its link hold the visible name and stay, and a lone 'tooltip' span may be the word itself."""
    def overlay(el: etree._Element) -> bool:
        return isinstance(el.get("class"), str) and bool(_OVERLAY.search(el.get("class")))

    cards = [el for el in tree.iter() if el.tag != "a" and overlay(el) and any(overlay(a) for a in el.iterancestors())]
    for el in cards:
        if not any(c in cards for c in el.iterancestors()):
            el.drop_tree()  # keeps the text that follows the element


def _body(tree: HtmlElement, url: str | None, *, fast: bool) -> etree._Element | None:
    # bare_extraction copies a tree it is given, so `tree` stays usable; "txt" skips the text
    # serialisation of the python format, which we do not use (we walk the body).
    doc = trafilatura.bare_extraction(tree, url=url, fast=fast, output_format="txt", include_comments=False,
                                      include_tables=True, deduplicate=False)
    return None if doc is None else doc.body  # type: ignore[union-attr]  # a dict only with as_dict=True


def _longer(a: etree._Element, b: etree._Element | None) -> etree._Element:
    if b is None:
        return a
    return b if count_words(" ".join(b.itertext())) > count_words(" ".join(a.itertext())) else a


def _metadata(tree: HtmlElement, url: str | None) -> dict[str, Any]:
    """Title, author, date, site name and language: trafilatura's metadata steps minus the ones we
    never show (categories, tags, licence), which cost a quarter of the extraction time."""
    md = examine_meta(tree)
    if md.author and " " not in md.author:
        md.author = None  # a single token is usually a handle or a site name (trafilatura does the same)
    with contextlib.suppress(ValueError, TypeError, AttributeError, KeyError):  # malformed JSON-LD: keep the meta tags
        md = extract_meta_json(tree, md)
    title = md.title or extract_title(tree)
    author = md.author or extract_author(tree)
    page_url = url or md.url or extract_url(tree)
    date = find_date(tree, url=page_url, **set_date_params(False))
    sitename = md.sitename or extract_sitename(tree)
    if sitename:
        sitename = sitename.lstrip("@")
        if "." not in sitename and not sitename[0].isupper():
            sitename = sitename.title()
    return {"url": page_url, "title": _clean(title) if title else None, "author": author, "date": date,
            "sitename": sitename or None, "language": _html_lang(tree)}


def _html_lang(tree: HtmlElement) -> str | None:
    """The page's declared language (<html lang>, then Content-Language), as a 2-3 letter code."""
    values = [tree.get("lang") or tree.get("{http://www.w3.org/XML/1998/namespace}lang")]
    values += tree.xpath('//meta[translate(@http-equiv, "CONTENTLAGU", "contentlagu")="content-language"]/@content')
    for value in values:
        m = re.match(r"\s*([A-Za-z]{2,3})\b", value or "")
        if m:
            return m.group(1).lower()
    return None


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# Children of trafilatura's output tree that separate words (<lb/> is a <br>).
_BREAKS = {"p", "lb", "head", "item", "list", "row", "cell", "quote", "table", "div", "code"}


def _inner_text(el: etree._Element, skip: str | None = None) -> str:
    """Text of an element with a space wherever a block or line break separated words."""
    parts: list[str] = []

    def walk(e: etree._Element) -> None:
        if e.text:
            parts.append(e.text)
        for child in e:
            if isinstance(child.tag, str) and child.tag != skip:
                brk = child.tag in _BREAKS
                if brk:
                    parts.append(" ")
                walk(child)
                if brk:
                    parts.append(" ")
            if child.tail:
                parts.append(child.tail)

    walk(el)
    return _clean("".join(parts))


def _body_blocks(body: etree._Element) -> Iterable[Block]:
    if body.text and body.text.strip():
        yield Block(kind="paragraph", text=_clean(body.text))
    for el in body:
        if isinstance(el.tag, str):
            yield from _element_blocks(el)
        if el.tail and el.tail.strip():  # trafilatura leaves loose text as the tail of the previous element
            yield Block(kind="paragraph", text=_clean(el.tail))


def _element_blocks(el: etree._Element) -> Iterable[Block]:
    tag = el.tag
    if tag == "head":
        rend = el.get("rend") or "h2"
        level = int(rend[1]) if re.fullmatch(r"h[1-6]", rend) else 2
        if text := _inner_text(el):
            yield Block(kind="heading", text=text, level=level)
    elif tag == "list":
        for item in el.iterchildren("item"):
            if text := _inner_text(item, skip="list"):
                yield Block(kind="list_item", text=text)
            for sub in item.iterchildren("list"):  # nested lists: their items follow their parent
                yield from _element_blocks(sub)
    elif tag == "table":
        for row in el.iter("row"):
            if next(row.iterancestors("table"), None) is el:
                cells = [_inner_text(c) for c in row.iterchildren("cell")]
                if any(cells):
                    yield Block(kind="table", text=" | ".join(c for c in cells if c))
    elif text := _inner_text(el):
        yield Block(kind="quote" if tag == "quote" else "paragraph", text=text)


_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*$")
_BULLET = re.compile(r"^\s*(?:[-*+•·▪–]|\d{1,2}[.)])\s+(.+)$")  # noqa: RUF001 - bullet characters


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
            # a Markdown table row; drop |---| separator cells (some sites flatten a table onto one line)
            cells = [_clean(c) for c in s.strip("|").split("|")]
            cells = [c for c in cells if c and not re.fullmatch(r":?-{2,}:?", c)]
            if cells:
                blocks.append(Block(kind="table", text=" | ".join(cells)))
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
    """Take out the FAQ / Key Takeaways blocks the page already has, and the site's trailer.

    - A heading such as "FAQ" or "Key Takeaways" starts an existing block (see `_section_end`).
    - A run of "Q: … A: …" paragraphs without such a heading is an existing FAQ only near the end
      of the article; an interview written as Q/A all along is the article itself.
    - "Related articles"-style headings end the article when they come in its second half.
    - Short promotional text after the last existing block ("Follow us…") is dropped too.
    """
    words = [count_words(b.text) for b in blocks]
    upto = list(accumulate(words, initial=0))  # upto[i] = words before block i
    total = upto[-1] or 1
    kept: list[Block] = []
    found: list[ExistingBlock] = []
    last_end: int | None = None
    tail_start = 0  # index in `kept` after the last existing block
    qa_in_article = False
    i = 0
    while i < len(blocks):
        b = blocks[i]
        before, after = upto[i], upto[-1] - upto[i + 1]
        if i > 0 and after < before and _is_trailer(b):
            break
        if b.kind == "heading" and (kind := _existing_kind(b.text)):
            j = _section_end(blocks, i, kind)
            if j > i + 1:
                found.append(ExistingBlock(kind=kind, heading=b.text, items=[x.text for x in blocks[i + 1:j]]))
                i, last_end, tail_start = j, j, len(kept)
                continue
        if QA_LINE.match(b.text) and not qa_in_article:
            j = _qa_run_end(blocks, i)
            inline_answer = _A_INLINE.search(b.text) is not None
            rest = sum(w for w, x in zip(words[j:], blocks[j:], strict=True) if not QA_LINE.match(x.text))
            if (j - i >= 2 or inline_answer) and rest <= max(80, 0.2 * total) and upto[j] - upto[i] <= 0.5 * total:
                found.append(ExistingBlock(kind="faq", heading="", items=[x.text for x in blocks[i:j]]))
                i, last_end, tail_start = j, j, len(kept)
                continue
            qa_in_article = True  # Q/A inside the article: an interview; keep every Q/A run
        kept.append(b)
        i += 1
    if last_end is not None:
        tail = kept[tail_start:]
        if tail and sum(count_words(x.text) for x in tail) < 60 and not any(x.kind == "heading" for x in tail):
            kept = kept[:tail_start]
    return kept, found


_A_LINE = re.compile(r"^\s*A(nswer)?\s*[:.)]\s*\S", re.I)
_A_INLINE = re.compile(r"\bA(nswer)?\s*[:.)]\s+\S")


def _existing_kind(heading: str) -> Literal["faq", "takeaways"] | None:
    if FAQ_HEADING.match(heading):
        return "faq"
    if TAKEAWAYS_HEADING.match(heading) or SUMMARY_HEADING.match(heading):
        return "takeaways"
    return None


def _is_trailer(b: Block) -> bool:
    if b.kind == "heading" and TRAILER_HEADING.match(b.text):
        return True
    return count_words(b.text) <= 30 and TRAILER_TAIL.search(b.text) is not None


def _qa_run_end(blocks: list[Block], i: int) -> int:
    """End of a run of Q:/A: blocks starting at i (an answer may be a plain paragraph after its Q:)."""
    j = i
    while j < len(blocks):
        x = blocks[j]
        if QA_LINE.match(x.text) or _A_LINE.match(x.text):
            j += 1
        elif x.kind != "heading" and j > i and QA_LINE.match(blocks[j - 1].text) and not _A_INLINE.search(blocks[j - 1].text):
            j += 1  # the answer to the question just before, without an "A:" label
        else:
            break
    return j


def _section_end(blocks: list[Block], i: int, kind: str) -> int:
    """Index after the last block of the existing block whose heading is blocks[i]."""
    head = blocks[i]
    j = i + 1
    if kind == "takeaways":
        # Key Takeaways are a list. After an explicit "Key Takeaways" heading short paragraphs count
        # too; after a weaker one ("TL;DR", "Highlights", "Bottom line") only list items do, since
        # prose under such a heading is usually part of the article.
        while j < len(blocks) and blocks[j].kind == "list_item":
            j += 1
        if j == i + 1 and TAKEAWAYS_HEADING.match(head.text):
            while j < len(blocks) and blocks[j].kind in ("paragraph", "quote") and count_words(blocks[j].text) <= 50:
                j += 1
        return j
    if j < len(blocks) and (QA_LINE.match(blocks[j].text)):
        return _qa_run_end(blocks, j)  # Q:/A: style: the FAQ ends where the Q/A lines end
    while j < len(blocks):
        x = blocks[j]
        if x.kind == "heading" and not (x.text.endswith("?") or (head.level and x.level > head.level)):
            break  # a question heading or a deeper heading stays inside the FAQ; others end it
        j += 1
    return j


def _finish(blocks: list[Block], meta: dict[str, Any]) -> Article:
    kept, existing = split_existing(blocks)
    title = meta.get("title")
    if title and kept and kept[0].kind == "heading" and kept[0].text.casefold() == title.casefold():
        kept = kept[1:]  # the H1 repeats the title
    text = "\n".join(b.text for b in kept)
    language = meta.get("language")
    words = count_words(text)
    if text and (not language or words >= LANGUAGE_CHECK_WORDS):
        # <html lang> is often a site template's default ("en" on every page of a multilingual site):
        # when the text says otherwise, the text wins (the engines quote it and match its words).
        found = langid.classify(text[:4000] if not language else text[:2000])  # a check needs less (~1.5 ms)
        if not language or found != language.split("-")[0].casefold():
            language = found
    meta = {**meta, "language": language, "word_count": words}
    return Article(blocks=kept, existing_blocks=existing, **meta)


def _wall_hits(rx: re.Pattern[str], block: Block) -> bool:
    """A block is wall text when it has two wall phrases, or one and is short."""
    hits = {m.group(0).casefold() for m in rx.finditer(block.text)}
    return len(hits) >= 2 or (len(hits) == 1 and count_words(block.text) <= 30)


def wall_reason_of(blocks: list[Block]) -> str | None:
    """Name the wall when most of the text is cookie/consent/paywall/captcha boilerplate."""
    total = sum(count_words(b.text) for b in blocks)
    if not total:
        return None
    for reason, rx in WALLS.items():
        hit = sum(count_words(b.text) for b in blocks if _wall_hits(rx, b))
        if hit / total >= 0.5:
            return reason
    return None


def wall_reason(article: Article) -> str | None:
    return wall_reason_of(article.blocks)


def check_quality(article: Article, source: str, min_words: int, *,
                  page_text: Callable[[], str] | None = None) -> None:
    """Refuse what is not an article. `page_text` (all text of the page, computed only on failure)
    names a wall that the extractor already threw away, leaving too little text."""
    reason = wall_reason(article)
    if reason is None and page_text is not None and article.word_count < min_words:
        lines = [ln.strip() for ln in page_text().splitlines() if ln.strip()]
        reason = wall_reason_of([Block(kind="paragraph", text=ln) for ln in lines])
    if reason:
        raise ExtractionError(f"{source}: the page is mostly {reason}, not an article; "
                              "save the page as it shows in your browser and pass the file instead")
    if not article.blocks:
        raise ExtractionError(f"{source}: no article text found; the page may be an index, a search page "
                              "or rendered by JavaScript")
    if article.word_count < min_words:
        raise ExtractionError(
            f"{source}: only {article.word_count} words of article text (minimum {min_words}); "
            "this does not look like an article; pass --min-words to accept shorter texts")
