"""Evidence check shared by every engine: each item's quote must be found in the article text.

Matching ignores case, Unicode compatibility forms, curly vs straight quotes, dash variants,
zero-width characters, Markdown emphasis and whitespace. A quote with an ellipsis ("A … B")
matches when its parts occur in order. Otherwise a quote matches when some window of the
article with the same number of words is at least MIN_SIMILARITY alike (difflib ratio), which
tolerates a changed word or a typo but not a paraphrase.

Dropped items are named in `warnings` by kind and position only: their text never travels on,
so no output format can show an unsupported claim, even one that renders warnings.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import defaultdict
from difflib import SequenceMatcher
from functools import lru_cache

from .models import Article, Digest

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


def _fuzzy(q: str, haystack: str) -> bool:
    """Compare the quote with article windows of about its length, anchored on its rarest words."""
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
        for size in (k, k - 1, k + 1):
            window = " ".join(hw[max(0, start):max(0, start) + size])
            m = SequenceMatcher(None, window, q, autojunk=False)
            if m.real_quick_ratio() >= MIN_SIMILARITY and m.quick_ratio() >= MIN_SIMILARITY and m.ratio() >= MIN_SIMILARITY:
                return True
    return False


_CJK = "\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff"
_WORDS = re.compile(rf"[{_CJK}]|[^\s{_CJK}]+")


def word_count(text: str) -> int:
    """Words, counting each Chinese/Japanese character as one (those scripts put no spaces between words)."""
    return len(_WORDS.findall(text))


def find_evidence(quote: str, haystack: str) -> bool:
    """True when `quote` (normalised) occurs in `haystack` (already normalised), allowing small differences."""
    q = normalise(quote)
    if not q or word_count(q) < min(MIN_EVIDENCE_WORDS, word_count(haystack[:400])):  # the cap needs no more
        return False
    if q in haystack:
        return True
    if "..." in q:  # "A ... B": every part, in order
        parts = [p.strip(" .,;:\"'") for p in q.split("...")]
        parts = [p for p in parts if p]
        pos = 0
        for part in parts:
            found = haystack.find(part, pos)
            if found < 0:
                return False
            pos = found + len(part)
        return sum(word_count(p) for p in parts) >= MIN_EVIDENCE_WORDS
    return _fuzzy(q, haystack)


def _key(text: str) -> str:
    """Identity for duplicate detection: words only ("Who pays?" == "who pays")."""
    return re.sub(r"[\W_]+", " ", normalise(text)).strip()


def haystack_of(article: Article) -> str:
    """The normalised text evidence is matched against: title and body."""
    return normalise("\n".join(filter(None, [article.title, article.text])))


QUESTION_MARKS = ("?", "\uff1f", "\u061f", "\u037e", "\u055e")  # ? ？ ؟ ; ՞


def grounded_evidence(evidence: str, own_text: str, haystack: str) -> str | None:
    """The quote that grounds an item: its evidence, or else its own text when that text is itself
    a quote of the article (small models often copy the sentence but invent the evidence)."""
    if find_evidence(evidence, haystack):
        return evidence
    if find_evidence(own_text, haystack):
        return own_text
    return None


def verify(digest: Digest, article: Article) -> Digest:
    """Drop every item whose evidence is not in the article, empty items and repeated questions;
    name each drop in warnings (kind and position, never the dropped text)."""
    haystack = haystack_of(article)
    warnings = list(digest.warnings)
    takeaways = []
    seen_t: set[str] = set()
    for i, t in enumerate(digest.takeaways, 1):
        key = _key(t.text)
        if not key:
            warnings.append(f"dropped takeaway {i} ({t.origin}): empty text")
        elif key in seen_t:
            warnings.append(f"dropped takeaway {i} ({t.origin}): repeats an earlier takeaway")
        elif (evidence := grounded_evidence(t.evidence, t.text, haystack)) is None:
            warnings.append(f"dropped takeaway {i} ({t.origin}): its evidence quote is not in the article")
            log.info("dropped takeaway %r: evidence %r not found", t.text, t.evidence)
        else:
            seen_t.add(key)
            takeaways.append(t if evidence is t.evidence else t.model_copy(update={"evidence": evidence}))
    faq = []
    seen_q: set[str] = set()
    for i, qa in enumerate(digest.faq, 1):
        key = _key(qa.question)
        if not key or not normalise(qa.answer):
            warnings.append(f"dropped FAQ item {i} ({qa.origin}): empty question or answer")
        elif key in seen_q:
            warnings.append(f"dropped FAQ item {i} ({qa.origin}): repeats an earlier question")
        elif not qa.question.rstrip().endswith(QUESTION_MARKS):
            warnings.append(f"dropped FAQ item {i} ({qa.origin}): the question does not end with a question mark")
        elif (evidence := grounded_evidence(qa.evidence, qa.answer, haystack)) is None:
            warnings.append(f"dropped FAQ item {i} ({qa.origin}): its evidence quote is not in the article")
            log.info("dropped FAQ item %r: evidence %r not found", qa.question, qa.evidence)
        else:
            seen_q.add(key)
            faq.append(qa if evidence is qa.evidence else qa.model_copy(update={"evidence": evidence}))
    return digest.model_copy(update={"takeaways": takeaways, "faq": faq, "warnings": warnings})
