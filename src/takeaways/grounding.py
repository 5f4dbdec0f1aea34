"""Evidence check shared by every engine: each item's quote must be found in the article text.

Matching ignores case, Unicode compatibility forms, curly vs straight quotes, dash variants,
zero-width characters, Markdown emphasis and whitespace. A quote with an ellipsis ("A … B")
matches when its parts occur in order. Otherwise a quote matches when some window of the
article with the same number of words is at least MIN_SIMILARITY alike (difflib ratio), which
tolerates a changed word or a typo but not a paraphrase.

Every kept item records where its quote was found (`evidence_span`, offsets into article.text,
and the match quality). Dropped items are kept as `Digest.dropped` entries (the item, the check
that failed, why) for review; no block template renders them, and the warnings derived from them
name kind and position only, so no block can show an unsupported claim, even one that renders
warnings. (`-f json` is the whole record, `dropped` included, under its own key.)
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Any, TypeVar

from .models import QA, Article, Digest, DropKind, Dropped, Match, Takeaway

T = TypeVar("T", Takeaway, QA)

log = logging.getLogger(__name__)

_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "‘": "'", "’": "'", "‚": "'",
                         "‹": "'", "›": "'", "`": "'", "´": "'",
                         "–": "-", "—": "-", "‐": "-", "‑": "-", "−": "-", "…": "...", "\u00a0": " ",
                         "\u200b": None, "\u200c": None, "\u200d": None, "\ufeff": None, "\u00ad": None,
                         "*": None})
MIN_SIMILARITY = 0.9
MIN_EVIDENCE_WORDS = 4
MAX_WINDOWS = 3000  # fuzzy candidates examined per quote; bounds the cost on very long articles


def normalise(text: str) -> str:
    """Case, quote marks, dashes, emphasis and whitespace do not count when matching evidence."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).casefold()
    return re.sub(r"\s+", " ", text).strip(" .,;:\"'")


@lru_cache(maxsize=8)
def _index(haystack: str) -> tuple[list[str], dict[str, list[int]]]:
    """The haystack's words and where each occurs (built once per article, reused per item)."""
    words = haystack.split(" ")
    where: dict[str, list[int]] = defaultdict(list)
    for i, w in enumerate(words):
        where[w].append(i)
    return words, dict(where)


def _word_starts(haystack: str) -> list[int]:
    starts, pos = [], 0
    for w in _index(haystack)[0]:
        starts.append(pos)
        pos += len(w) + 1
    return starts


def _fuzzy(q: str, haystack: str) -> tuple[int, int, float] | None:
    """Compare the quote with article windows of about its length, anchored on its rarest words.

    The first window start that matches wins; its best size gives the span and the score."""
    hw, where = _index(haystack)
    qw = q.split(" ")
    k = len(qw)
    present = sorted((len(where[w]), j) for j, w in enumerate(qw) if w in where)
    starts: set[int] = set()
    for _, j in present[:3]:  # a window ≥ 90 % alike keeps at least one of its three rarest words
        starts.update(p - j for p in where[qw[j]])
        if len(starts) > MAX_WINDOWS:
            break
    for start in sorted(starts):
        a = max(0, start)
        best: tuple[float, int] | None = None
        for size in (k, k - 1, k + 1):
            window = " ".join(hw[a:a + size])
            m = SequenceMatcher(None, window, q, autojunk=False)
            if m.real_quick_ratio() >= MIN_SIMILARITY and m.quick_ratio() >= MIN_SIMILARITY:
                ratio = m.ratio()
                if ratio >= MIN_SIMILARITY and (best is None or ratio > best[0]):
                    best = (ratio, size)
        if best is not None:
            ws = _word_starts(haystack)
            last = min(a + best[1], len(hw)) - 1
            return ws[a], ws[last] + len(hw[last]), round(best[0], 4)
    return None


_CJK = "\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff"
_WORDS = re.compile(rf"[{_CJK}]|[^\s{_CJK}]+")


def word_count(text: str) -> int:
    """Words, counting each Chinese/Japanese character as one (those scripts put no spaces between words)."""
    return len(_WORDS.findall(text))


def _min_words(haystack: str) -> int:
    return min(MIN_EVIDENCE_WORDS, word_count(haystack[:400]))  # a tiny article cannot ask for more


def _match(q: str, haystack: str, min_words: int) -> tuple[Match, int, int, float] | None:
    """Where the normalised quote `q` occurs in the normalised `haystack`: (kind, start, end, score)."""
    if not q or word_count(q) < min_words:
        return None
    found = haystack.find(q)
    if found >= 0:
        return "normalised", found, found + len(q), 1.0
    if "..." in q:  # "A ... B": every part, in order
        parts = [p.strip(" .,;:\"'") for p in q.split("...")]
        parts = [p for p in parts if p]
        pos, first = 0, -1
        for part in parts:
            found = haystack.find(part, pos)
            if found < 0:
                return None
            first = found if first < 0 else first
            pos = found + len(part)
        if parts and sum(word_count(p) for p in parts) >= MIN_EVIDENCE_WORDS:
            return "normalised", first, pos, 1.0
        return None
    fuzzy = _fuzzy(q, haystack)
    return None if fuzzy is None else ("fuzzy", *fuzzy)


def find_evidence(quote: str, haystack: str) -> bool:
    """True when `quote` (normalised) occurs in `haystack` (already normalised), allowing small differences."""
    return _match(normalise(quote), haystack, _min_words(haystack)) is not None


@dataclass(frozen=True)
class Located:
    """Where a quote was found: `span` in offsets into article.text (None: only in the title)."""

    match: Match
    score: float
    span: tuple[int, int] | None


@lru_cache(maxsize=8)
def _mapped(text: str) -> tuple[str, tuple[int, ...], tuple[int, ...]]:
    """`text` normalised as `normalise` does (without the end strip), with, for every character of
    the result, the [start, end) of the original characters it came from.

    Each starter character and the combining marks after it are normalised together, so NFKC
    composition within a character stays; runs of whitespace become one space."""
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    memo: dict[str, str] = {}
    i, n = 0, len(text)
    space = False
    while i < n:
        j = i + 1
        while j < n and unicodedata.combining(text[j]):
            j += 1
        seg = text[i:j]
        norm = memo.get(seg)
        if norm is None:
            norm = memo[seg] = unicodedata.normalize("NFKC", seg).translate(_QUOTES).casefold()
        for ch in norm:
            if ch.isspace():
                if space:
                    ends[-1] = j
                    continue
                ch, space = " ", True
            else:
                space = False
            out.append(ch)
            starts.append(i)
            ends.append(j)
        i = j
    return "".join(out), tuple(starts), tuple(ends)


def locate(quote: str, article: Article, haystack: str | None = None) -> Located | None:
    """Find `quote` in the article: verbatim in article.text, else normalised or fuzzy in the body
    (span mapped back to article.text), else anywhere in title + body (no span)."""
    haystack = haystack_of(article) if haystack is None else haystack
    min_words = _min_words(haystack)
    q = normalise(quote)
    if not q or word_count(q) < min_words:
        return None
    text = article.text
    raw = quote.strip()
    found = text.find(raw) if raw else -1
    if found >= 0:
        return Located("exact", 1.0, (found, found + len(raw)))
    body, starts, ends = _mapped(text)
    m = _match(q, body, min_words)
    if m is not None:
        kind, s, e, score = m
        return Located(kind, score, (starts[s], ends[e - 1]))
    m = _match(q, haystack, min_words)
    return None if m is None else Located(m[0], m[3], None)


def _key(text: str) -> str:
    """Identity for duplicate detection: words only ("Who pays?" == "who pays")."""
    return re.sub(r"[\W_]+", " ", normalise(text)).strip()


def haystack_of(article: Article) -> str:
    """The normalised text evidence is matched against: title and body."""
    return normalise("\n".join(filter(None, [article.title, article.text])))


QUESTION_MARKS = ("?", "\uff1f", "\u061f", "\u037e", "\u055e")  # ? ？ ؟ ; ՞


def grounded_evidence(evidence: str, own_text: str, article: Article,
                      haystack: str | None = None) -> tuple[str, Located] | None:
    """The quote that grounds an item and where it is: its evidence, or else its own text when that
    text is itself a quote of the article (small models often copy the sentence but invent the evidence)."""
    haystack = haystack_of(article) if haystack is None else haystack
    for quote in (evidence, own_text):
        where = locate(quote, article, haystack)
        if where is not None:
            return quote, where
    return None


def _grounded(item: T, quote: str, where: Located) -> T:
    return item.model_copy(update={"evidence": quote, "evidence_span": where.span, "match": where.match,
                                   "match_score": where.score})


def verify(digest: Digest, article: Article) -> Digest:
    """Keep the items whose evidence is in the article, each with where its quote was found; drop
    empty items, repeated ones and questions without a question mark. Every drop becomes a
    `Dropped` entry (the item, the check, the reason) and a warning derived from it."""
    haystack = haystack_of(article)
    warnings = list(digest.warnings)
    dropped = list(digest.dropped)

    def drop(kind: DropKind, index: int, item: Takeaway | QA, check: str, reason: str, **details: Any) -> None:
        entry = Dropped(kind=kind, index=index, item=item, check=check, reason=reason, details=details)
        dropped.append(entry)
        warnings.append(entry.warning)

    takeaways = []
    seen_t: dict[str, int] = {}
    for i, t in enumerate(digest.takeaways, 1):
        key = _key(t.text)
        if not key:
            drop("takeaway", i, t, "empty", "empty text")
        elif key in seen_t:
            drop("takeaway", i, t, "duplicate", "repeats an earlier takeaway", repeats=seen_t[key])
        elif (found := grounded_evidence(t.evidence, t.text, article, haystack)) is None:
            drop("takeaway", i, t, "evidence", "its evidence quote is not in the article")
            log.info("dropped takeaway %r: evidence %r not found", t.text, t.evidence)
        else:
            seen_t[key] = i
            takeaways.append(_grounded(t, *found))
    faq = []
    seen_q: dict[str, int] = {}
    for i, qa in enumerate(digest.faq, 1):
        key = _key(qa.question)
        if not key or not normalise(qa.answer):
            drop("faq", i, qa, "empty", "empty question or answer")
        elif key in seen_q:
            drop("faq", i, qa, "duplicate", "repeats an earlier question", repeats=seen_q[key])
        elif not qa.question.rstrip().endswith(QUESTION_MARKS):
            drop("faq", i, qa, "question_mark", "the question does not end with a question mark")
        elif (found := grounded_evidence(qa.evidence, qa.answer, article, haystack)) is None:
            drop("faq", i, qa, "evidence", "its evidence quote is not in the article")
            log.info("dropped FAQ item %r: evidence %r not found", qa.question, qa.evidence)
        else:
            seen_q[key] = i
            faq.append(_grounded(qa, *found))
    return digest.model_copy(update={"takeaways": takeaways, "faq": faq, "warnings": warnings, "dropped": dropped})
