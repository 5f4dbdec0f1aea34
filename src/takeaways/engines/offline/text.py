"""Text utilities shared by both blocks: words and terms, the sentence unit, quotation checks, display clean-up."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

from ...models import Article, Spec

# Chinese and Japanese write no spaces: each character counts as a word, and terms are character
# pairs (single characters are shared by almost every sentence). Korean spaces its words.
_CJK = "\u3040-\u30ff\u3400-\u9fff"
WORD = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")
_CJK_RUN = re.compile(rf"[{_CJK}]+")

STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have having
he her here hers herself him himself his how i if in into is it its itself just me more most my myself no
nor not now of off on once only or other our ours ourselves out over own same she should so some such than
that the their theirs them themselves then there these they this those through to too under until up very
was we were what when where which while who whom why will with would you your yours yourself yourselves
said says say told according one two new would could may might must shall us mr mrs ms dr s t
""".split())  # noqa: SIM905 - a word list reads better as text than as 150 quoted strings


@dataclass
class Unit:
    """One sentence of the article, where it is, and its terms."""

    index: int
    text: str
    start: int  # offsets in article.text
    end: int
    block: int
    kind: str
    section: int | None  # index of the heading block it is under
    words: int
    terms: Counter[str] = field(default_factory=Counter)
    score: float = 0.0
    caption: bool = False  # a photo caption or credit: it counts for centrality, it is never shown


_stem_cache: dict[str, str] = {}


def stem(word: str) -> str:
    """A light English suffix stripper (plural, -ing, -ed, -ly): enough to match word forms."""
    s = _stem_cache.get(word)
    if s is not None:
        return s
    s = word
    if s.endswith(("'s", "’s")):
        s = s[:-2]
    if len(s) > 4:
        if s.endswith("ies"):
            s = s[:-3] + "y"
        elif s.endswith("sses"):
            s = s[:-2]
        elif s.endswith("s") and not s.endswith(("ss", "us", "is")):
            s = s[:-1]
        if len(s) > 5 and s.endswith("ing"):
            s = s[:-3]
        elif len(s) > 4 and s.endswith(("ed", "ly")):
            s = s[:-2]
    _stem_cache[word] = s
    return s


def terms(text: str, english: bool) -> Counter[str]:
    words = WORD.findall(text.casefold())
    if english:
        return Counter(stem(w) for w in words if w not in STOPWORDS and len(w) > 1 and not w.isdigit())
    out = Counter(w for w in words if len(w) > 1 and not _CJK_RUN.match(w))
    for run in _CJK_RUN.findall(text.casefold()):
        out.update(run[i:i + 2] for i in range(max(1, len(run) - 1)))
    return out


def is_english(article: Article, spec: Spec) -> bool:
    """The article's language decides the analysis (the engine quotes, it cannot translate)."""
    lang = (article.language or spec.language or "en").casefold()
    return lang.split("-")[0] == "en"


def cosine(a: Counter[str], b: Counter[str], idf: dict[str, float], default: float = 1.0) -> float:
    """TF-IDF cosine; a term missing from `idf` (e.g. only in the title) weighs `default`."""
    if len(a) > len(b):
        a, b = b, a
    dot = sum(v * b[k] * idf.get(k, default) ** 2 for k, v in a.items() if k in b)
    if not dot:
        return 0.0
    na = math.sqrt(sum((v * idf.get(k, default)) ** 2 for k, v in a.items()))
    nb = math.sqrt(sum((v * idf.get(k, default)) ** 2 for k, v in b.items()))
    return dot / (na * nb) if na and nb else 0.0


QUOTATION = re.compile(r"[\"“][^\"“”]*[\"”]|(?:^|(?<=\s))['‘][^'‘’]*['’](?=\W*$|\s)")


def unbalanced_quotes(text: str) -> bool:
    """Straight double quotes of odd count, or curly ones that do not pair up: a piece of a quotation."""
    return text.count('"') % 2 == 1 or text.count("“") != text.count("”")


_SINGLE_OPEN = re.compile(r"(?:^|(?<=[\s(]))['‘](?=\w)")
_SINGLE_CLOSE = re.compile(r"(?<=[\w.,!?])['’](?=[\s.,;:!?)]|$)")


def open_quote(text: str) -> bool:
    """A quotation opens and does not close (single quotes too, told from apostrophes by where they stand)."""
    return unbalanced_quotes(text) or len(_SINGLE_OPEN.findall(text)) > len(_SINGLE_CLOSE.findall(text))


ENDS_SENTENCE = re.compile(r"[.!?。！？…:;]['\"’”»」』)\]]*\s*$")
QUOTED = re.compile(r"^[\"'“‘].*[\"'”’]\W*$")


DATELINE = re.compile(
    r"^(?:\((?:CNN|Reuters|AP|AFP|The [A-Z][\w ]{2,30})\)\s*(?:[-–—]{1,2}\s*)?"
    r"|[A-Z][A-Z.' ]{1,30}(?:,\s*[A-Z][\w.]*\.?){0,2}\s*(?:\([\w ]{2,30}\))?\s*[-–—]{1,2}\s+)")
LEAD_CONNECTIVE = re.compile(r"^(?:And|But|So|Yet|However|Meanwhile|Also|Still|Now)\b,?\s+(?=\w)")
_TRAILING_ATTRIBUTION = re.compile(
    r",\s*(?:(?:he|she|they|it|police|officials|experts|researchers|sources|the (?:\w+ ){0,2}\w+|"
    r"[A-Z][\w.'-]+(?: [A-Z][\w.'-]+){0,3})\s+(?:said|says|added|explained|told [\w ]{2,30}|reported)"
    r"|(?:said|says|added) (?:the (?:\w+ ){0,2}\w+|[A-Z][\w.'-]+(?: [A-Z][\w.'-]+){0,3}))\s*([.!])$")


def compress(sentence: str) -> str:
    """Light compression for display; the evidence keeps the original sentence."""
    s = DATELINE.sub("", sentence, count=1)
    s = LEAD_CONNECTIVE.sub("", s, count=1)
    if not QUOTED.match(s) and not re.search(r"[\"“”]", s):
        s = _TRAILING_ATTRIBUTION.sub(r"\1", s)
    s = s.strip()
    if len(WORD.findall(s)) < 4:
        return sentence.strip()
    return s[0].upper() + s[1:] if s[0].islower() else s


def strip_lead(text: str) -> str:
    """An answer as shown: without the dateline ("MADRID —", "(Reuters) —") or a leading "But"."""
    s = LEAD_CONNECTIVE.sub("", DATELINE.sub("", text, count=1), count=1).strip()
    if len(WORD.findall(s)) < 4:
        return text.strip()
    return s[0].upper() + s[1:] if s[0].islower() else s


class _Ones(dict[str, float]):
    def __missing__(self, key: str) -> float:
        return 1.0


ONES = _Ones()
