"""Does a claim say what the article says? The support check, beside grounding (pure functions).

Grounding makes sure an item's quote is in the article; this module checks that the item says
what its evidence says. `check_claim(claim, text)` finds the best evidence window (one sentence
or two adjacent ones, from `sentences.sentence_spans`) and compares the claim with it term by term:

- numbers, amounts, percentages and years, normalised: "7-2" is 7 and 2, "£330million" and
  "£330m" are 330,000,000, "3.5 per cent" is "3.5%", "three" is 3 (number words are read by the
  `number-parser` library, its calls cached);
- names of people, places and organisations, told by the article's own casing, so a lower-cased
  claim is checked too; a name the window lacks counts when the window refers to it by a pronoun
  and the article named it in the three sentences before, or names the same person by another
  part of the name;
- negation and modality: "did not" or "may" in one and not the other, for a word both share;
- who-did-what: two names with a shared verb between them must stand in the same order in the
  window ("A beat B" vs "B beat A"), a passive "by" turning the order round; and "A verb X" must
  not be "B verb X", another name doing the same thing right before the verb;
- every other content word (stemmed with the Snowball English stemmer) counts towards coverage;
- a claim opening with a word that points back ("It", "He", "But") loses a little score: what it
  refers to is not checked;
- a number or place the window lacks is only weak when the article gives it elsewhere as an
  attribute of the same person ("Pat Ingles, 69,", "Barry Beavis, from Chelmsford") or in the same
  compound ("mother-of-six").

The score (0–1) is the weighted share of the claim's terms the window backs, lowered for each
hard problem (a number, a name, a negation, a modality, a role) and by the share of the claim's
content words the article never uses; `supported` means no hard problem and enough coverage, each
word the article never uses counting whole. `unsupported` lists what makes a claim unsupported (empty exactly
when it is supported), `weak` the terms that only lower its score, each with its kind and reason.
What it cannot catch: see docs/support.md.
"""

from __future__ import annotations

import calendar
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal, NamedTuple, TypeVar

import simplemma
import snowballstemmer
from number_parser import parse_number
from number_parser.data.en import info as _EN_NUMBERS

from .grounding import normalise
from .models import QA, Article, Digest, DropKind, Dropped, Takeaway
from .sentences import sentence_spans

T = TypeVar("T", Takeaway, QA)

__all__ = ["MIN_COVERAGE", "MIN_SCORE", "WEAK_SCORE", "SupportResult", "Unsupported", "check_claim", "check_claims", "check_digest",
           "reads_well", "restates"]

TermKind = Literal["number", "name", "word", "negation", "modality", "role", "reference"]

MIN_COVERAGE = 0.6  # share of the claim's weighted terms the window must back
MIN_SCORE = 0.65  # and the score after penalties for words the article never uses
WEAK_SCORE = 0.85  # a supported item below this is backed only in part (the review page marks it)
W_NAME = 2.0
W_NUMBER = 4.0
W_WORD = 1.0
PENALTY = {"number": 0.35, "name": 0.15, "negation": 0.35, "modality": 0.2, "role": 0.35}
PENALTY_ABSENT = {"number": 0.5, "name": 0.35}  # the same, for a number or name the article never gives
PENALTY_NEAR = 0.1  # a number or name found only in a sentence next to the window
PENALTY_NEW_WORD_UNCASED = 0.35  # the same in a lower-cased claim, where it may be a name we cannot tell
PENALTY_NEW_WORD = 0.2  # a content word the article never uses (on top of the coverage it costs)
NEW_WORD_SHARE = 3  # in the score, that penalty is charged by share: whole in a claim of 3 content words, less in longer
PENALTY_DANGLING = 0.05  # a claim opening with "he", "it", "but": whom or what it points back to is not checked
CREDIT = 0.5  # a term backed outside the window (a pronoun, the same name's age elsewhere) counts half
PAIR_COST = 0.02
MAX_CANDIDATES = 4  # sentences scored in full per claim (those sharing the most terms with it)
LEMMAS = True
ROLE_GAP = 4  # words between the two names of "A verb B"
SPREAD = 1.5  # the claim's terms must be found within a run of about 1.5 times its length  # a two-sentence window must back this much more to beat a single sentence

# Function words: never content terms, never names (even capitalised at a sentence start).
_FUNCTION = frozenset("""
a about above after again against all also am an and any are as at be because been before being below
between both but by can did do does doing down during each few for from further had has have having
he her here hers herself him himself his how i if in into is it its itself just me more most my myself
nor now of off on once only or other our ours ourselves out over own same she should so some such than
that the their theirs them themselves then there these they this those through to too under until up
very was we were what when where which while who whom why will with you your yours yourself yourselves
said says say told tell according s t us mr mrs ms dr also yet upon via amid among per cent percent
would shall must last next year years day days week weeks month months time times pm
""".split())  # noqa: SIM905 - a word list reads better as text
_PRONOUNS = frozenset(["he", "him", "his", "she", "her", "hers", "they", "them", "their", "theirs", "it", "its"])
# Words that open a sentence pointing back to an earlier one ("He", "It", "But", "This").
_DANGLING_START = frozenset(_PRONOUNS | {"this", "that", "these", "those", "but", "and", "or", "so", "yet", "also"})
_NEGATIONS = frozenset(["not", "no", "never", "nobody", "nothing", "none", "neither", "nor", "without", "cannot"])
_MODALS = frozenset(["may", "might", "could", "possibly", "perhaps", "probably", "likely", "unlikely", "allegedly", "reportedly"])
_PLACEHOLDERS = frozenset(["UNK", "LRB", "RRB", "LSB", "RSB", "LCB", "RCB"])
_CLITICS = frozenset(["re", "ve", "ll", "d", "m", "s"])
_NUMBER_SUFFIXES = frozenset(["st", "nd", "rd", "th", "s", "bn", "mn", "tn", "m", "k", "b"])
_CLITIC = re.compile(r"'(?:re|ve|ll|d|m)$")  # "we're" → "we"
_SCOPE = 4  # negation / modal words govern the next few words

_MONTHS = {m.casefold(): i for i, m in enumerate(calendar.month_name) if m}
_MONTHS.update({m.casefold(): i for i, m in enumerate(calendar.month_abbr) if m})
_MONTHS["sept"] = 9

_NUMBER_WORDS = frozenset(
    w for key in ("UNIT_NUMBERS", "DIRECT_NUMBERS", "TENS", "BIG_POWERS_OF_TEN") for w in _EN_NUMBERS[key])
_SCALES = {"thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "mn": 1e6, "billion": 1e9, "bn": 1e9,
           "b": 1e9, "trillion": 1e12, "tn": 1e12}
_NUMBER = re.compile(
    r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?:st|nd|rd|th)?"
    r"(?:\s?(thousand|million|billion|trillion|mn|bn|tn|m|k|b)\b)?", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")

_stemmer = snowballstemmer.stemmer("english")


@dataclass(frozen=True)
class Unsupported:
    """A term of the claim the evidence does not back, and why."""

    term: str
    kind: TermKind
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"term": self.term, "kind": self.kind, "reason": self.reason}


@dataclass(frozen=True)
class SupportResult:
    """The verdict for one claim: the best evidence window of the article and what it does not back.

    `unsupported` is what makes the claim unsupported, each term with its reason: empty exactly when
    `supported` is true. A hard problem (a number, a name, a negation, a modality, a role) is
    unsupported on its own; when there is none and the claim still fails, it fails on coverage and
    every weak term is listed as unsupported. `weak` holds the terms that only lower the score of a
    claim that does not fail on them: words the evidence lacks or has far from the claim's other
    words, a number or name found only in the next sentence or beside the same name elsewhere, a
    name the evidence refers to by a pronoun or by another part of the name, and an opening word
    that points back ("It", "He", "But": kind "reference", never a reason to fail)."""

    claim: str
    supported: bool
    score: float
    evidence: str
    evidence_span: tuple[int, int] | None
    unsupported: tuple[Unsupported, ...] = ()
    weak: tuple[Unsupported, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"claim": self.claim, "supported": self.supported, "score": self.score, "evidence": self.evidence,
                "evidence_span": list(self.evidence_span) if self.evidence_span else None,
                "unsupported": [u.to_dict() for u in self.unsupported], "weak": [u.to_dict() for u in self.weak]}


# ---- tokens -------------------------------------------------------------------------------------

class _Tok(NamedTuple):
    low: str
    stem: str
    cap: bool
    start: int  # character offset


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    w = word.replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    if LEMMAS and w.isalpha():
        w = simplemma.lemmatize(w, lang="en")  # irregular forms: "paid" → "pay", "beaten" → "beat"
    return str(_stemmer.stemWord(w))


def _tokens(text: str, offset: int = 0) -> list[_Tok]:
    out = []
    for m in _WORD.finditer(text):
        w = m.group(0)
        if w in _PLACEHOLDERS:
            continue  # "UNK" (an unknown word) and "-LRB-" (a bracket) in tokenised text claim nothing
        low = w.casefold()
        start = m.start()
        if "'" in low or "’" in low:
            low = low.replace("’", "'")
            key = _CLITIC.sub("", low) or low
        elif low in _CLITICS and start > 0 and text[start - 1] in "'’":
            continue  # "we 're", "it 's" in tokenised text: the clitic of the word before
        elif low in _NUMBER_SUFFIXES and start > 0 and text[start - 1].isdigit():
            continue  # "18th", "£5bn", "1990s": part of the number, read by _numbers
        else:
            key = low
        out.append(_Tok(low, _stem(key), w[0].isupper(), offset + start))
    return out


@lru_cache(maxsize=4096)
def _parse_words(run: str) -> float | None:
    value = parse_number(run)
    return None if value is None else float(value)


def _norm(value: float) -> float:
    return float(f"{value:.6g}")


# Clock times: "21:10", "9:10pm", "9.10 p.m.", "3pm" (not "3.5m": a decimal before an "m" is money).
_TIME = re.compile(r"(?<![\w.,:])(\d{1,2})(?::(\d{2})(?:\s?([ap])\.?m\b\.?)?|(?:[.:](\d{2}))?\s?([ap])\.?m\b\.?)",
                   re.IGNORECASE)
_TIME_BASE = 1e7  # clock times are kept apart from every count a claim compares them with


def _clock(m: re.Match[str], found: dict[float, str]) -> str:
    hours = int(m.group(1))
    minutes = int(m.group(2) or m.group(4) or 0)
    half = (m.group(3) or m.group(5) or "").casefold()
    if hours > 23 or minutes > 59 or (half and not 1 <= hours <= 12):
        return m.group(0)
    if half:
        hours = hours % 12 + (12 if half == "p" else 0)
    found.setdefault(_TIME_BASE + hours * 60 + minutes, m.group(0).strip())
    return " " * len(m.group(0))


_DIGIT = re.compile(r"\d")


def _numbers(text: str) -> dict[float, str]:
    """The numbers of `text`, normalised (value → how it was written). Word numbers of value 1
    ("one", "a") are left out: "one of the" is rarely a figure."""
    found: dict[float, str] = {}
    digits = _DIGIT.search(text) is not None  # most sentences have none: no figure or clock time to read
    if digits and (":" in text or "m" in text):
        text = _TIME.sub(lambda m: _clock(m, found), text)  # a clock time is one value, not two counts
    for m in _NUMBER.finditer(text) if digits else ():
        whole, frac, scale = m.group(1), m.group(2), m.group(3)
        value = float(whole.replace(",", "") + (f".{frac}" if frac else ""))
        if scale:
            s = scale.casefold()
            if s in ("m", "k", "b") and scale.isupper() and s != "m":
                s = ""  # "5K" as a race is fine either way; "B" alone is rarely billions
            value *= _SCALES.get(s, 1.0)
        found.setdefault(_norm(value), m.group(0))
    words = text.replace("-", " ").split()
    run: list[str] = []
    for w in [*words, ""]:
        low = w.casefold().strip(".,;:!?\"'()")
        if low in _NUMBER_WORDS or (run and low == "and"):
            run.append(low)
            continue
        while run and run[-1] == "and":
            run.pop()
        if run and not (len(run) == 1 and run[0] in ("one", "hundred", "thousand", "million", "billion")):
            parsed = _parse_words(" ".join(run))
            if parsed is not None:
                found.setdefault(_norm(parsed), " ".join(run))
        run = []
    return found


def _scoped(toks: list[_Tok], triggers: frozenset[str], negation: bool = False) -> dict[str, str]:
    """Stems that occur only within _SCOPE words after a trigger word (→ the trigger)."""
    inside: dict[str, str] = {}
    covered: set[int] = set()
    for i, t in enumerate(toks):
        if (t.low in triggers and not (t.cap and i > 0)) or (negation and t.low.endswith(("n't", "n’t"))):
            for j in range(i + 1, min(len(toks), i + 1 + _SCOPE)):
                if toks[j].low not in _FUNCTION:
                    inside.setdefault(toks[j].stem, t.low)
                    covered.add(j)
    if not inside:
        return inside
    outside = {t.stem for j, t in enumerate(toks) if j not in covered}
    return {k: v for k, v in inside.items() if k not in outside}


# ---- the article, analysed once -----------------------------------------------------------------

@dataclass
class _Sentence:
    start: int
    end: int
    toks: list[_Tok]
    stems: frozenset[str]
    lows: frozenset[str]
    numbers: dict[float, str]
    negated: dict[str, str]
    modal: dict[str, str]


@dataclass
class _Article:
    text: str
    sentences: list[_Sentence]
    where: dict[str, list[int]]  # stem or number key → sentence indices
    names: frozenset[str]  # lower-cased words the article writes capitalised (not only at a sentence start)
    lower_words: frozenset[str]  # words the article writes in lower case somewhere
    first_seen: dict[str, int]  # lower-cased word → offset of its first occurrence
    numbers: dict[float, str]
    idf: dict[str, float] = field(default_factory=dict)
    folded: str = ""  # the text, case-folded
    windows: dict[tuple[int, int], _Window] = field(default_factory=dict)  # built once, shared by claims

    def window(self, a: int, b: int) -> _Window:
        w = self.windows.get((a, b))
        if w is None:
            w = self.windows[(a, b)] = _join(self.sentences[a:b])
        return w


def _sentence(text: str, a: int, b: int) -> _Sentence:
    chunk = text[a:b]
    toks = _tokens(chunk, a)
    lows = frozenset(t.low for t in toks)
    negates = not lows.isdisjoint(_NEGATIONS) or "n't" in chunk or "n’t" in chunk
    return _Sentence(a, b, toks, frozenset(t.stem for t in toks), lows, _numbers(chunk),
                     _scoped(toks, _NEGATIONS, negation=True) if negates else {},
                     _scoped(toks, _MODALS) if not lows.isdisjoint(_MODALS) else {})


# A stop glued to the next sentence ("on Tuesday.There had been"), as in text scraped without its
# paragraph breaks: `sentence_spans` wants a space after a stop, so these are split here.
_GLUED = re.compile(r"[^\W\d_]{2}[\"”’']?[.!?][\"”’']?(?=[\"“]?[A-Z][a-z])")


def _spans(text: str) -> list[tuple[int, int]]:
    out = []
    for a, b in sentence_spans(text):
        for m in _GLUED.finditer(text, a, b):
            out.append((a, m.end()))
            a = m.end()
        out.append((a, b))
    return out


@lru_cache(maxsize=16)
def _analyse(text: str) -> _Article:
    spans = _spans(text)
    sentences = [_sentence(text, a, b) for a, b in spans]
    where: dict[str, list[int]] = {}
    cap_mid: set[str] = set()
    lower: set[str] = set()
    first: dict[str, int] = {}
    numbers: dict[float, str] = {}
    for i, s in enumerate(sentences):
        for key in s.stems | {f"#{n}" for n in s.numbers}:
            where.setdefault(key, []).append(i)
        for j, t in enumerate(s.toks):
            low = t.low[:-2] if t.low.endswith("'s") else t.low  # "Jolie's" names "jolie" (a claim may say "jolie 's")
            first.setdefault(low, t.start)
            if t.cap:
                if j > 0 and text[t.start - 2:t.start].strip() not in ('"', "“", "'", "‘", ":", "(", "-"):
                    cap_mid.add(low)
            else:
                lower.add(low)
        for n, raw in s.numbers.items():
            numbers.setdefault(n, raw)
    n_sent = max(1, len(sentences))
    idf = {k: math.log(1 + n_sent / len(v)) for k, v in where.items()}
    return _Article(text, sentences, where, frozenset(cap_mid - _FUNCTION), frozenset(lower), first, numbers, idf,
                    text.casefold())


# ---- the claim ----------------------------------------------------------------------------------

@dataclass
class _Claim:
    text: str
    toks: list[_Tok]
    names: list[list[int]]  # name phrases: runs of token indices
    words: list[int]  # content-word token indices (not names)
    numbers: dict[float, str]
    negated: dict[str, str]
    modal: dict[str, str]
    cased: bool


def _is_name(claim_toks: list[_Tok], i: int, cased: bool, art: _Article) -> bool:
    t = claim_toks[i]
    if t.low in _FUNCTION or t.low in _NUMBER_WORDS or len(t.low) < 2:
        return False
    if t.low in _MONTHS:
        return True
    if cased and t.cap and i > 0:
        return t.low in art.names or t.low not in art.lower_words
    if t.low in art.lower_words:
        return False
    return t.low in art.names or (cased and t.cap and t.low in art.first_seen)


def _claim(text: str, art: _Article) -> _Claim:
    toks = _tokens(text)
    letters = [c for c in text if c.isalpha()]
    cased = any(c.isupper() for c in letters[1:]) and not all(c.isupper() for c in letters)
    names: list[list[int]] = []
    words: list[int] = []
    prev = -2
    for i, t in enumerate(toks):
        if _is_name(toks, i, cased, art):
            if prev == i - 1:
                names[-1].append(i)
            else:
                names.append([i])
            prev = i
        elif t.low == "old" and i > 0 and toks[i - 1].low in ("year", "years"):
            continue  # "the 19-year-old": an age, checked as its number
        elif t.low not in _FUNCTION and t.low not in _NUMBER_WORDS and t.low not in _NEGATIONS \
                and t.low not in _MODALS and not t.low.endswith(("n't", "n’t")) and len(t.low) > 1:
            words.append(i)
    return _Claim(text, toks, names, words, _numbers(text), _scoped(toks, _NEGATIONS, negation=True),
                  _scoped(toks, _MODALS), cased)


# ---- windows ------------------------------------------------------------------------------------

# A window is one sentence or a run of them, analysed the same way.
_Window = _Sentence


def _join(ss: list[_Sentence]) -> _Window:
    if len(ss) == 1:
        return ss[0]
    numbers: dict[float, str] = {}
    negated: dict[str, str] = {}
    modal: dict[str, str] = {}
    for s in ss:
        numbers.update(s.numbers)
        negated.update(s.negated)
        modal.update(s.modal)
    return _Window(ss[0].start, ss[-1].end, [t for s in ss for t in s.toks],
                   frozenset().union(*(s.stems for s in ss)), frozenset().union(*(s.lows for s in ss)),
                   numbers, negated, modal)


def _weights(c: _Claim, art: _Article) -> list[tuple[str, float]]:
    """(key, weight) of every claim term: stems of names and words, '#n' for numbers. A term the claim
    repeats is listed each time but backed once (`_coverage` counts the window's stems), so repetition
    ("the assembly's assembly", "cruel and cruel", typical of a summariser going wrong) lowers the
    coverage; counting it once lowered FRANK dev by 0.01-0.03 on both datasets."""
    out: list[tuple[str, float]] = []
    for phrase in c.names:
        for i in phrase:
            out.append((c.toks[i].stem, W_NAME))
    for i in c.words:
        out.append((c.toks[i].stem, W_WORD * min(2.0, art.idf.get(c.toks[i].stem, 2.0))))
    for n in c.numbers:
        out.append((f"#{n}", W_NUMBER))
    return out


def _coverage(keys: list[tuple[str, float]], w: _Window, span: int | None = None) -> float:
    """Weighted share of the claim's terms the window has; with `span`, only those found within
    some run of `span` words of it count (numbers count anywhere in the window)."""
    total = sum(wt for _, wt in keys)
    if not total:
        return 0.0
    got = sum(wt for k, wt in keys if k.startswith("#") and float(k[1:]) in w.numbers)
    words = {k: wt for k, wt in keys if not k.startswith("#") and k in w.stems}
    if span is None or len(w.toks) <= span or len(words) < 2:
        return (got + sum(words.values())) / total
    hits = [(j, t.stem) for j, t in enumerate(w.toks) if t.stem in words]
    best = 0.0
    inside: dict[str, int] = {}
    weight = 0.0
    lo = 0
    for j, stem in hits:
        inside[stem] = inside.get(stem, 0) + 1
        if inside[stem] == 1:
            weight += words[stem]
        while j - hits[lo][0] >= span:
            old = hits[lo][1]
            inside[old] -= 1
            if not inside[old]:
                weight -= words[old]
            lo += 1
        best = max(best, weight)
    return (got + best) / total


_FAR = "in the evidence only far from the claim's other words"


def _in_run(keys: list[tuple[str, float]], w: _Window, span: int) -> set[str]:
    """The word stems of the best run of `span` words (as `_coverage` counts them)."""
    words = {k: wt for k, wt in keys if not k.startswith("#") and k in w.stems}
    if len(w.toks) <= span or len(words) < 2:
        return set(words)
    hits = [(j, t.stem) for j, t in enumerate(w.toks) if t.stem in words]
    best: tuple[float, set[str]] = (0.0, set())
    for lo, (j0, _) in enumerate(hits):
        run = {stem for j, stem in hits[lo:] if j - j0 < span}
        weight = sum(words[x] for x in run)
        if weight > best[0]:
            best = (weight, run)
    return best[1]


def _span(c: _Claim) -> int:
    return int(len(c.toks) * SPREAD) + 4


def _best_window(c: _Claim, art: _Article, keys: list[tuple[str, float]]) -> tuple[_Window | None, float, int, int]:
    hits: dict[int, float] = {}
    for k, wt in keys:
        for i in art.where.get(k, ()):
            hits[i] = hits.get(i, 0.0) + wt
    # Only the sentences that share most with the claim (and their pairs) are scored in full.
    top = sorted(hits, key=lambda i: (-hits[i], i))[:MAX_CANDIDATES]
    n = len(art.sentences)
    spans = sorted({(a, b) for i in top for a, b in ((i, i + 1), (i, i + 2), (i - 1, i + 1)) if a >= 0 and b <= n})
    best: tuple[float, int, int] | None = None
    for a, b in spans:
        cov = _coverage(keys, art.window(a, b), _span(c)) - (PAIR_COST if b - a > 1 else 0.0)
        if best is None or cov > best[0] + 1e-9:
            best = (cov, a, b)
    if best is None:
        return None, 0.0, 0, 0
    w = art.window(best[1], best[2])
    return w, _coverage(keys, w, _span(c)), best[1], best[2]


def _near(art: _Article, a: int, b: int) -> _Window | None:
    return art.window(max(0, a - 1), min(len(art.sentences), b + 1)) if art.sentences else None


def _sentences_of(art: _Article, span: tuple[int, int]) -> tuple[int, int]:
    """Indices [a, b) of the sentences that overlap `span`."""
    idx = [i for i, s in enumerate(art.sentences) if s.end > span[0] and s.start < span[1]]
    return (idx[0], idx[-1] + 1) if idx else (0, 0)


# ---- the checks ---------------------------------------------------------------------------------

def _role_swaps(c: _Claim, w: _Window) -> list[Unsupported]:
    """Two names with a shared content word between them, in the opposite order in the window."""
    out = []
    pos: dict[str, list[int]] = {}
    for j, t in enumerate(w.toks):
        pos.setdefault(t.stem, []).append(j)
    for pa, pb in zip(c.names, c.names[1:], strict=False):
        between = [i for i in c.words if pa[-1] < i < pb[0] and c.toks[i].stem in pos]
        gap = pb[0] - pa[-1]
        if not between or gap > ROLE_GAP:
            continue  # only "A verb B" close together says who did what to whom
        a_pos = [j for i in pa for j in pos.get(c.toks[i].stem, [])]
        b_pos = [j for i in pb for j in pos.get(c.toks[i].stem, [])]
        if not a_pos or not b_pos:
            continue
        claim_passive = any(c.toks[i].low == "by" for i in range(between[-1] + 1, pb[0]))
        for v in between:
            v_pos = pos[c.toks[v].stem]

            def by(x: int, y: int) -> bool:
                return any(w.toks[j].low == "by" for j in range(x + 1, y))
            # In each arrangement of the window, is A the doer (as in the claim, unless the claim is passive)?
            near = gap + ROLE_GAP
            a_doer = [not by(x, b) for a in a_pos for x in v_pos for b in b_pos if a < x < b and b - a <= near] + \
                     [by(x, a) for a in a_pos for x in v_pos for b in b_pos if b < x < a and a - b <= near]
            if not a_doer or (not claim_passive) in a_doer:
                continue
            names = " ".join(c.toks[i].low for i in pa), " ".join(c.toks[i].low for i in pb)
            out.append(Unsupported(f"{names[0]} … {c.toks[v].low} … {names[1]}", "role",
                                   "the evidence has it the other way round"))
            break
    return out


SUBJECT_BACK = 3  # words before the verb (auxiliaries, adverbs) skipped to find the window's doer
SUBJECT_NEAR = 6  # the claim's doer named this close before the verb in the window: no clash
_PREPOSITIONS = frozenset("""about above across after against along among around as at before behind below beside
between beyond by during for from in inside into near of off on onto out outside over past since than through to
toward towards under until upon with within without""".split())  # noqa: SIM905


def _subject_clash(c: _Claim, w: _Window, art: _Article) -> list[Unsupported]:
    """"A verb X" in the claim where the window says "B verb X": the window names another doer
    right before the same verb and its next content word (nothing but auxiliaries and -ly adverbs
    between them, no comma), and does not name A close before them. A is a name phrase not
    governed by a preposition ("from Leeds" is no doer)."""
    words = set(c.words)
    pos: dict[str, list[int]] = {}
    for j, t in enumerate(w.toks):
        pos.setdefault(t.stem, []).append(j)
    for phrase in c.names:
        v1 = phrase[-1] + 1
        if v1 not in words or c.toks[v1].stem not in pos:
            continue
        if phrase[0] > 0 and c.toks[phrase[0] - 1].low in _PREPOSITIONS:
            continue
        if "UNK" in c.text[c.toks[phrase[-1]].start:c.toks[v1].start]:
            continue  # tokenised text: part of the name is unknown
        v2 = next((i for i in range(v1 + 1, min(len(c.toks), v1 + 4)) if i in words), None)
        if v2 is None or c.toks[v2].stem not in pos:
            continue
        own = [c.toks[i] for i in phrase]
        anchors = [j for j in pos[c.toks[v1].stem] if any(0 < k - j <= 4 for k in pos[c.toks[v2].stem])]
        others: list[str] = []
        for j in anchors:
            if any(_names(x, w.toks[k]) for k in range(max(0, j - SUBJECT_NEAR), j) for x in own):
                others = []
                break  # the claim's doer is named right before the verb here
            k = j - 1
            while k >= 0 and j - k <= SUBJECT_BACK and (w.toks[k].low in _FUNCTION or w.toks[k].low.endswith("ly")) \
                    and not w.toks[k].cap:
                k -= 1  # auxiliaries and adverbs: "Gullit has controversially decided"
            doer = w.toks[k] if k >= 0 else None
            if doer is None or not doer.cap or doer.low not in art.names or doer.low in _PRONOUNS \
                    or _BREAK.search(art.text, doer.start, w.toks[j].start):
                others = []
                break  # nobody named right before the verb (a pronoun, a noun, a comma): no clash
            others.append(doer.low)
        if others:
            name = " ".join(t.low for t in own)
            return [Unsupported(name, "role", f"the evidence has {others[0]!r} {c.toks[v1].low} here, not {name!r}")]
    return []


def _names(t: _Tok, x: _Tok) -> bool:
    """Window token `x` names what claim token `t` names ("Georgian" for "Georgia")."""
    return t.stem == x.stem or t.low == x.low or (len(t.low) >= 4 and x.low.startswith(t.low))


_BREAK = re.compile(r"[.;:!?,()–—]")


def _has_name(t: _Tok, w: _Window) -> bool:
    """The window names it: the same word or stem, or a word it begins ("Georgia" in "Georgian")."""
    if t.stem in w.stems or t.low in w.lows:
        return True
    return len(t.low) >= 4 and any(x.startswith(t.low) for x in w.lows)


def _before(toks: list[_Tok], pos: int, n: int = 3) -> list[_Tok]:
    """The `n` tokens before character offset `pos`."""
    out = [t for t in toks if t.start < pos]
    return out[-n:]


_COMPOUND = re.compile(r"[^\W_]+(?:-[^\W_]+)+")


def _attribute_elsewhere(c: _Claim, art: _Article, n: float, raw: str) -> str:
    """The claim gives number `n` right after a name ("Pat Ingles, 69, from…") and the article
    gives it right after the same name in some other sentence, or the claim writes it in a
    compound ("mother-of-six") the article has elsewhere: an attribute of that person or thing
    (an age, a count), which claims often join to another fact."""
    pos = c.text.find(raw)
    for m in _COMPOUND.finditer(c.text):
        if m.start() <= pos < m.end() and m.group(0).casefold() in art.folded:
            return f"in {m.group(0)!r}"  # "mother-of-six", "three-time": the same compound elsewhere
    name_toks = {i for p in c.names for i in p}
    mine = [t for t in _before(c.toks, pos) if c.toks.index(t) in name_toks]
    if pos < 0 or not mine:
        return ""
    for i in art.where.get(f"#{n}", ()):
        s = art.sentences[i]
        at = art.text.find(s.numbers[n], s.start, s.end)
        if at >= 0 and all(any(_names(t, x) for x in _before(s.toks, at) if x.cap) for t in mine):
            return "beside the same name"
    return ""


def _named_with(c: _Claim, art: _Article, w: _Window, phrase: list[int], t: _Tok) -> str:
    """A place or other name the claim attaches by a preposition ("Barry Beavis, from Chelmsford")
    that the article names elsewhere in one sentence with another of the claim's names (or a part
    of it: "Pat" for "Pat Ingles"), one the window has: an attribute of that person, which claims
    often join to another fact."""
    if not (phrase[0] > 0 and c.toks[phrase[0] - 1].low in _PREPOSITIONS):
        return ""
    others = [q for q in c.names if q is not phrase and any(_has_name(c.toks[i], w) for i in q)]
    if not others:
        return ""
    for si in art.where.get(t.stem, ()):
        s = art.sentences[si]
        for q in others:
            if any(c.toks[i].stem in s.stems for i in q):
                return " ".join(c.toks[i].low for i in q)
    return ""


PRONOUN_BACK = 3  # how far back a pronoun's antecedent is looked for, in sentences


def _named_before(art: _Article, t: _Tok, w: _Window) -> bool:
    """The article names `t` in one of the PRONOUN_BACK sentences before window `w`, so that a pronoun
    in the window may refer to it (further back, the pronoun more likely means someone named since)."""
    if art.first_seen.get(t.low, len(art.text)) >= w.start:
        return False
    a = next((i for i, s in enumerate(art.sentences) if s.end > w.start), len(art.sentences))
    return any(_has_name(t, art.sentences[i]) for i in range(max(0, a - PRONOUN_BACK), a))


def _check(c: _Claim, art: _Article, w: _Window, coverage: float, near: _Window | None,
           keys: list[tuple[str, float]]) -> SupportResult:
    """Judge the claim against window `w`; `near` is `w` with a sentence either side, where a
    number or a name the window lacks costs less (claims often join two neighbouring facts)."""
    problems: list[Unsupported] = []
    soft: list[Unsupported] = []
    nearby: list[Unsupported] = []  # backed only outside the window (they cost PENALTY_NEAR each)
    excused: list[Unsupported] = []  # names the window refers to otherwise
    credit = 0.0  # weight of the claim's terms backed outside the window (half of it counts as covered)
    for n, raw in c.numbers.items():
        if n in w.numbers:
            continue
        if near is not None and n in near.numbers:
            nearby.append(Unsupported(raw, "number", f"{raw} is in the next or previous sentence, not in the evidence"))
        elif n in art.numbers and (where := _attribute_elsewhere(c, art, n, raw)):
            credit += W_NUMBER
            nearby.append(Unsupported(raw, "number", f"the article gives {raw} {where} elsewhere, not in the evidence"))
        elif n in art.numbers:
            problems.append(Unsupported(raw, "number", f"the evidence does not say {raw}; the article has it elsewhere"))
        else:
            problems.append(Unsupported(raw, "number", f"{raw} is not in the article"))
    has_pronoun = bool(w.lows & _PRONOUNS)
    for phrase in c.names:
        in_window = [i for i in phrase if _has_name(c.toks[i], w)]
        for i in phrase:
            t = c.toks[i]
            if i in in_window:
                continue
            name = " ".join(c.toks[j].low for j in phrase)
            if t.low not in art.first_seen and t.stem not in art.where:
                problems.append(Unsupported(t.low, "name", f"{name!r} is not in the article"))
            elif in_window:  # another part of the same name is in the window ("Moon" for "Natalia Moon")
                excused.append(Unsupported(t.low, "name", f"the evidence names {name!r} by another part of the name"))
            elif has_pronoun and _named_before(art, t, w):
                credit += W_NAME  # the window refers to the name by a pronoun
                excused.append(Unsupported(t.low, "name", f"the evidence refers to {name!r} by a pronoun"))
            elif near is not None and _has_name(t, near):
                nearby.append(Unsupported(t.low, "name", f"{name!r} is in the next or previous sentence, not in the evidence"))
            elif with_ := _named_with(c, art, w, phrase, t):
                nearby.append(Unsupported(t.low, "name", f"the article names {name!r} with {with_!r} elsewhere, "
                                                         "not in the evidence"))
            else:
                problems.append(Unsupported(t.low, "name", f"{name!r} is not in the evidence"))
    run = _in_run(keys, w, _span(c)) if len(w.toks) > _span(c) else None
    for i in c.words:
        t = c.toks[i]
        if t.stem not in w.stems:
            reason = "not in the evidence" if t.stem in art.where else "not in the article"
            soft.append(Unsupported(t.low, "word", reason))
        elif run is not None and t.stem not in run:
            soft.append(Unsupported(t.low, "word", _FAR))
    if run is not None:
        soft.extend(Unsupported(c.toks[i].low, "name", _FAR) for p in c.names for i in p
                    if c.toks[i].stem in w.stems and c.toks[i].stem not in run)
    for stem, trigger in w.negated.items():
        if c.negated or stem not in {c.toks[i].stem for i in c.words}:
            continue
        problems.append(Unsupported(stem, "negation", f"the evidence says {trigger!r} here and the claim does not"))
        break
    window_negates = bool(c.negated) and any(t.low in _NEGATIONS or t.low.endswith(("n't", "n’t")) for t in w.toks)
    for stem, trigger in c.negated.items():
        if stem in w.stems and not window_negates:
            problems.append(Unsupported(trigger, "negation", f"the claim says {trigger!r}; the evidence does not"))
            break
    if not c.modal:
        for stem, trigger in w.modal.items():
            if stem in {c.toks[i].stem for i in c.words}:
                problems.append(Unsupported(stem, "modality",
                                            f"the evidence only says it {trigger!r} be so; the claim says it is"))
                break
    problems.extend(_role_swaps(c, w) or _subject_clash(c, w, art))
    total = sum(wt for _, wt in keys)
    if credit and total:
        coverage = min(1.0, coverage + CREDIT * credit / total)
    score = coverage
    for p in problems:
        absent = p.reason.endswith("is not in the article")
        score *= 1 - (PENALTY_ABSENT.get(p.kind, 0.3) if absent else PENALTY.get(p.kind, 0.3))
    score *= (1 - PENALTY_NEAR) ** len(nearby)
    # Words the article never uses: for the verdict each one counts whole (any of them may carry an
    # invented fact); for the score it is the share of the claim's content words that counts, so that
    # a long claim with one word of its own ranks above a short one with the same word.
    new = sum(1 for u in soft if u.reason == "not in the article")
    keep = (1 - (PENALTY_NEW_WORD if c.cased else PENALTY_NEW_WORD_UNCASED)) ** new
    verdict = score * keep
    score *= keep ** (NEW_WORD_SHARE / max(1, len(c.words)))
    supported = not problems and coverage >= MIN_COVERAGE and verdict >= MIN_SCORE
    weak = tuple(nearby + excused + soft)
    if supported:
        unsupported: tuple[Unsupported, ...] = ()
    elif problems:
        unsupported = tuple(problems)
    else:  # no single term at fault: together the weak ones leave too little of the claim backed
        unsupported, weak = weak or (Unsupported(c.text, "word", "too little of the claim is in the evidence"),), ()
    if c.toks and c.toks[0].low in _DANGLING_START:
        # The claim opens by pointing back ("It is one of the largest", "He was sent off"): the evidence
        # may say it of someone or something else than the claim's reader takes it to mean. Nothing
        # here can tell, so it only lowers the score a little, and the verdict not at all.
        score *= 1 - PENALTY_DANGLING
        weak += (Unsupported(c.toks[0].low, "reference", f"the claim opens with {c.toks[0].low!r}; whom or what "
                                                         "it points back to is not checked"),)
    return SupportResult(c.text, supported, round(max(0.0, min(1.0, score)), 4), art.text[w.start:w.end],
                         (w.start, w.end), unsupported, weak)


def _window_at(art: _Article, span: tuple[int, int]) -> _Window:
    return _sentence(art.text, *span)


def check_claim(claim: str, text: str, evidence_span: tuple[int, int] | None = None) -> SupportResult:
    """Check one claim against the article `text`.

    With `evidence_span` (offsets into `text`, e.g. the item's own quote), that passage is judged
    first; when it does not support the claim, the best window of the article is judged instead
    and returned if it does better."""
    art = _analyse(text)
    c = _claim(claim, art)
    keys = _weights(c, art)
    first: SupportResult | None = None
    if evidence_span is not None and 0 <= evidence_span[0] < evidence_span[1] <= len(text):
        w = _window_at(art, evidence_span)
        first = _check(c, art, w, _coverage(keys, w, _span(c)), _near(art, *_sentences_of(art, evidence_span)),
                       keys)
        if first.supported:
            return first
    if not keys:  # nothing to check ("He said so."): no term can be unsupported
        return first or SupportResult(claim, True, 1.0, "", None)
    best, coverage, a, b = _best_window(c, art, keys)
    if best is None:
        if first is not None:
            return first
        terms = [Unsupported(c.toks[i].low, "word", "not in the article") for i in c.words]
        return SupportResult(claim, False, 0.0, "", None, tuple(terms))
    result = _check(c, art, best, coverage, _near(art, a, b), keys)
    if first is not None and first.score >= result.score and not result.supported:
        return first
    return result


def check_claims(claims: list[str], text: str) -> list[SupportResult]:
    """Check each claim against the article `text` (the article is analysed once)."""
    return [check_claim(c, text) for c in claims]


# ---- in the pipeline: every published item says what its quote says -------------------------------

_SENTENCE_END = (".", "!", "?", '"', "”", "’", "'", ")")


def restates(claim: str, quote: str) -> bool:
    """The claim is (part of) its quote, word for word after normalising: nothing to check."""
    c, q = normalise(claim), normalise(quote)
    return bool(c) and c in q


def reads_well(quote: str) -> bool:
    """A quote that can stand as an item's text: one whole sentence, 6–40 words, that does not open
    with a word pointing back to an earlier sentence ("He", "But", "This")."""
    q = quote.strip()
    words = q.split()
    if not 6 <= len(words) <= 40 or not q.endswith(_SENTENCE_END):
        return False
    first = q.lstrip("\"'“‘(")
    if not first or not (first[0].isupper() or first[0].isdigit()):
        return False
    return words[0].strip("\"'“‘(,").casefold() not in _DANGLING_START and len(sentence_spans(q)) == 1


def _kinds(result: SupportResult) -> str:
    kinds = list(dict.fromkeys(u.kind for u in result.unsupported if u.kind != "word"))
    return ", ".join(f"{k}s" if k in ("number", "name") else k for k in kinds) or "too little of it is in the quote"


def _kept_indices(raw_count: int, dropped: list[Dropped], kind: DropKind, kept: int) -> list[int]:
    gone = {d.index for d in dropped if d.kind == kind}
    indices = [i for i in range(1, raw_count + 1) if i not in gone]
    return indices if len(indices) == kept else list(range(1, kept + 1))


def check_digest(digest: Digest, article: Article, raw: Digest | None = None) -> Digest:
    """After grounding: keep the items whose text says what their quote says (or what the best window
    of the article says: then the item takes that quote); repair the others with their quote as
    their text where it reads well; drop the rest as `Dropped` entries with check="support" and the
    unsupported terms in `details`, for fill to replace. `raw` is the digest before grounding (it
    gives each kept item its position among the engine's items)."""
    text = article.text
    warnings = list(digest.warnings)
    dropped = list(digest.dropped)

    def one(kind: DropKind, index: int, item: T) -> T | None:
        claim = item.text if isinstance(item, Takeaway) else item.answer
        if restates(claim, item.evidence):
            return item.model_copy(update={"support_score": 1.0})
        result = check_claim(claim, text, item.evidence_span)
        if result.supported and result.evidence_span is not None:
            update: dict[str, Any] = {"support_score": result.score}
            if result.evidence_span != item.evidence_span:
                update.update(evidence=result.evidence, evidence_span=result.evidence_span, match="exact",
                              match_score=1.0)
            return item.model_copy(update=update)
        label = "takeaway" if kind == "takeaway" else "FAQ item"
        reason = f"its text says what its quote does not ({_kinds(result)})"
        if item.evidence_span is not None and reads_well(item.evidence):
            field_ = "text" if isinstance(item, Takeaway) else "answer"
            warnings.append(f"repaired {label} {index} ({item.origin}): {reason}; it now reads as its quote")
            return item.model_copy(update={field_: item.evidence, "support_score": 1.0, "repaired_from": claim})
        entry = Dropped(kind=kind, index=index, item=item, check="support", reason=reason,
                        details={"score": result.score, "evidence": result.evidence,
                                 "evidence_span": list(result.evidence_span) if result.evidence_span else None,
                                 "unsupported": [u.to_dict() for u in result.unsupported]})
        dropped.append(entry)
        warnings.append(entry.warning)
        return None

    raw_t = len(raw.takeaways) if raw is not None else len(digest.takeaways)
    raw_q = len(raw.faq) if raw is not None else len(digest.faq)
    idx_t = _kept_indices(raw_t, digest.dropped, "takeaway", len(digest.takeaways))
    idx_q = _kept_indices(raw_q, digest.dropped, "faq", len(digest.faq))
    takeaways = [t for i, t0 in zip(idx_t, digest.takeaways, strict=True) if (t := one("takeaway", i, t0)) is not None]
    faq = [q for i, q0 in zip(idx_q, digest.faq, strict=True) if (q := one("faq", i, q0)) is not None]
    return digest.model_copy(update={"takeaways": takeaways, "faq": faq, "warnings": warnings, "dropped": dropped})
