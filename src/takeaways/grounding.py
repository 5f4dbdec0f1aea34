"""Evidence check shared by every engine: each item's quote must be found in the article text."""

from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher

from .models import Article, Digest

_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "‘": "'", "’": "'", "‚": "'",
                         "–": "-", "—": "-", "‐": "-", "‑": "-", "−": "-", "…": "...", "\u00a0": " "})
MIN_SIMILARITY = 0.9
MIN_EVIDENCE_WORDS = 4


def normalise(text: str) -> str:
    """Case, quote marks, dashes and whitespace do not count when matching evidence."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).casefold()
    return re.sub(r"\s+", " ", text).strip(" .,;:\"'")


def find_evidence(quote: str, haystack: str) -> bool:
    """True when `quote` (normalised) occurs in `haystack` (normalised), allowing small differences."""
    q = normalise(quote)
    if len(q.split()) < min(MIN_EVIDENCE_WORDS, len(haystack.split())) or not q:
        return False
    if q in haystack:
        return True
    # Fuzzy: the best-matching window of the same length must be at least MIN_SIMILARITY alike.
    m = SequenceMatcher(None, haystack, q, autojunk=False)
    for block in m.get_matching_blocks():
        if block.size < max(8, len(q) // 4):
            continue
        start = max(0, block.a - block.b)
        window = haystack[start:start + len(q) + 10]
        if SequenceMatcher(None, window[: len(q)], q, autojunk=False).ratio() >= MIN_SIMILARITY:
            return True
    return False


def verify(digest: Digest, article: Article) -> Digest:
    """Drop every item whose evidence is not in the article; name each drop in warnings."""
    haystack = normalise(article.text)
    warnings = list(digest.warnings)
    takeaways = []
    for t in digest.takeaways:
        if find_evidence(t.evidence, haystack):
            takeaways.append(t)
        else:
            warnings.append(f"dropped takeaway (evidence not found in the article): {t.text[:80]!r}")
    faq = []
    for qa in digest.faq:
        if find_evidence(qa.evidence, haystack):
            faq.append(qa)
        else:
            warnings.append(f"dropped FAQ item (evidence not found in the article): {qa.question[:80]!r}")
    return digest.model_copy(update={"takeaways": takeaways, "faq": faq, "warnings": warnings})
