"""Text utilities shared by both blocks: words and terms, the sentence unit, quotation checks, display clean-up."""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter
from collections.abc import Iterator
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
    in_quote: bool = False  # it starts inside a quotation, or opens one that runs past its end (see quote_spans)
    first: bool = True  # it may speak in the first person ("I", "our" …); False when none of its words does


class Gated:
    """A regex tried only when one of its literal keys occurs in the text (casefolded).

    Python's `re` tries every alternative at every position, so a rule with twenty alternatives costs
    ~60 µs a sentence even when nothing matches; a substring test is ~50 ns. Every match of the
    pattern must contain one of the keys (in any case): the gate then never changes a result."""

    __slots__ = ("keys", "pattern", "rx")

    def __init__(self, rx: re.Pattern[str], *keys: str) -> None:
        self.rx, self.pattern, self.keys = rx, rx.pattern, tuple(k.casefold() for k in keys)

    def _open(self, text: str) -> bool:
        global _folded
        last = _folded  # one tuple: safe when threads share it
        if last[0] is not text:
            last = _folded = (text, text.casefold())  # several gates ask about the same sentence in a row
        folded = last[1]
        for k in self.keys:  # noqa: SIM110 - a loop, not any(): no generator per call (hot path)
            if k in folded:
                return True
        return False

    def search(self, text: str) -> re.Match[str] | None:
        return self.rx.search(text) if self._open(text) else None

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        return self.rx.finditer(text) if self._open(text) else iter(())

    def sub(self, repl: str, text: str) -> str:
        return self.rx.sub(repl, text) if self._open(text) else text


class AnyGate:
    """Several `Gated` patterns tried in turn: each runs only when one of its own keys occurs (a long rule split
    by the words that open it costs less than one pattern whose gate opens for any of them)."""

    __slots__ = ("gates",)

    def __init__(self, *gates: Gated) -> None:
        self.gates = gates

    def search(self, text: str) -> re.Match[str] | None:
        for g in self.gates:
            m = g.search(text)
            if m:
                return m
        return None


_folded: tuple[str, str] = ("", "")  # the last text a gate casefolded, and its casefolded form
_stem_cache: dict[str, str] = {}
_term_cache: dict[str, str] = {}  # word as written -> its term, "" for a stopword, a digit or a single letter


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


def terms(text: str, english: bool, tokens: list[str] | None = None) -> Counter[str]:
    """The text's terms: stemmed words less stopwords (English); words and CJK character pairs (others).
    `tokens`: the text's words (`WORD.findall(text)`) when the caller has them already."""
    if english:
        if len(_term_cache) > 500_000:
            _term_cache.clear()  # a long batch over many languages: keep memory bounded
        get = _term_cache.get
        kept = []
        for w in WORD.findall(text) if tokens is None else tokens:
            t = get(w)
            if t is None:
                low = w.casefold()
                t = _term_cache[w] = "" if low in STOPWORDS or len(low) < 2 or low.isdigit() else stem(low)
            if t:
                kept.append(t)
        return Counter(kept)
    words = WORD.findall(text.casefold())
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


# Quote marks told apart by where they stand: one that opens comes after a space or a bracket and before a
# letter, one that closes comes before a space or a stop (an apostrophe inside a word is neither: 'I don't know';
# text tokenised for a corpus closes with a space before the mark: 'very tall ').
_QUOTE_CHAR = re.compile(r"[\"“”‘’']")
_OPENS_AFTER = frozenset(" \t\n(—–-“\"")  # what may stand before an opening mark (or the start of the text)
_CLOSES_BEFORE = frozenset(" \t\n.,;:!?)—–-\"”'’")  # what may follow a closing mark (or the end of the text)
_QUOTE_MAX = 1000  # a quotation reopened further on than this was a stray mark, not a quotation


def quote_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each quotation in `text`, quote marks included. A quotation that runs over several
    paragraphs reopens each one without closing the one before (the news convention); in text whose
    paragraphs were joined, the reopening mark ends the part before it."""
    spans: list[tuple[int, int]] = []
    opened: dict[str, int] = {}
    n = len(text)
    for m in _QUOTE_CHAR.finditer(text):
        i = m.start()
        c = text[i]
        prev = text[i - 1] if i else " "
        nxt = text[i + 1] if i + 1 < n else " "
        q = "s" if c in "‘’'" else "d"
        if c in "“‘" or (c in "\"'" and prev in _OPENS_AFTER and (nxt.isalpha() or (c == '"' and (nxt.isalnum() or nxt in "‘'(")))):
            if c == "‘" and not nxt.isalnum():
                continue
            if q in opened and i - opened[q] <= _QUOTE_MAX:
                spans.append((opened[q], i))
            opened[q] = i
        elif q in opened and (c in "”" or ((prev.isalnum() or prev in ".,;:!?…\"”’' " or prev.isspace()) and nxt in _CLOSES_BEFORE)):
            spans.append((opened.pop(q), i + 1))
    return sorted(spans)  # a quotation that never closes is left out: its end is anyone's guess


def in_quotation(spans: list[tuple[int, int]], a: int, b: int) -> bool:
    """The sentence text[a:b] starts inside a quotation ("… Twitter can make a joke of it …" of a longer
    tweet), or opens one that goes on after it: a piece of a quotation, with no speaker of its own.
    `spans`: `quote_spans(text)` (sorted, and they do not nest within one kind of mark)."""
    i = bisect.bisect_right(spans, (a, len(spans) and spans[-1][1] + b + 1))
    # the last spans starting at or before a (quotations seldom nest deeper)
    return any(s < a < e or (s == a and e > b + 1) for s, e in spans[max(0, i - 4):i])


ENDS_SENTENCE = re.compile(r"[.!?。！？…:;]['\"’”»」』)\]]*\s*$")
QUOTED = re.compile(r"^[\"'“‘].*[\"'”’]\W*$")


DATELINE = re.compile(
    r"^(?:\((?:CNN|Reuters|AP|AFP|The [A-Z][\w ]{2,30})\)\s*(?:[-–—]{1,2}\s*)?"
    r"|[A-Z][A-Z.' ]{1,30}(?:,\s*[A-Z][\w.]*\.?(?: [A-Z][\w.]*){0,3}){0,2}\s*(?:\([\w ]{2,30}\))?\s*[-–—]{1,2}\s+)")
LEAD_CONNECTIVE = re.compile(r"^(?:And|But|So|Yet|However|Meanwhile|Also|Still|Now)\b,?\s+(?=\w)")
_TRAILING_ATTRIBUTION = re.compile(
    r",\s*(?:(?:he|she|they|it|police|officials|experts|researchers|sources|the (?:\w+ ){0,2}\w+|"
    r"[A-Z][\w.'-]+(?: [A-Z][\w.'-]+){0,3})\s+(?:said|says|added|explained|told [\w ]{2,30}|reported)"
    r"|(?:said|says|added) (?:the (?:\w+ ){0,2}\w+|[A-Z][\w.'-]+(?: [A-Z][\w.'-]+){0,3}))\s*([.!])$")


_DOUBLE_QUOTE = re.compile(r"[\"“”]")


def _drop_trailing_attribution(s: str) -> str:
    """ "…, the minister said." → "….": the first comma where the attribution runs to the end (what
    `_TRAILING_ATTRIBUTION.sub` finds, tried only at commas instead of at every position)."""
    p = s.find(",")
    while p >= 0:
        m = _TRAILING_ATTRIBUTION.match(s, p)
        if m:
            return s[:p] + m.group(1) + s[m.end():]
        p = s.find(",", p + 1)
    return s


def compress(sentence: str) -> str:
    """Light compression for display; the evidence keeps the original sentence."""
    s = DATELINE.sub("", sentence, count=1)
    s = LEAD_CONNECTIVE.sub("", s, count=1)
    if not QUOTED.match(s) and not _DOUBLE_QUOTE.search(s):
        s = _drop_trailing_attribution(s)
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
