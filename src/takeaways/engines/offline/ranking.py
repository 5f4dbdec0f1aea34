"""Takeaway ranking: similarity graph, salience, MMR selection."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable

import numpy as np

from ...models import Article, Spec
from .filters import DANGLING, PROMO, SPEAKER_LABEL, first_person, hook, takeaway_problem
from .text import DATELINE, ENDS_SENTENCE, QUOTED, STOPWORDS, WORD, Unit, cosine, terms, unbalanced_quotes
from .units import units

W_POSITION = 1.0
W_CENTRALITY = 0.3
W_TITLE = 0.3
MMR_LAMBDA = 0.85
MIN_TAKEAWAYS = 3  # always given when that many sentences pass the checks (and that many are asked for)
TAIL_FLOOR = 0.4  # past them, a takeaway scores at least this share of the best one (see `strong`)
NEAR_DUPLICATE = 0.7  # cosine to a chosen sentence above which a sentence only repeats it
SAME_FACT = 0.5  # … or this share, when the shorter one's figures are all in the chosen one (see `_contained`)
CONTAINED = 0.8  # share of the shorter sentence's terms in a chosen one above which it repeats it
MIN_WORDS = 6  # shorter sentences are captions, bylines or fragments, rarely a takeaway
LONG_WORDS = 45  # longer "sentences" are usually run-together captions or lists
MAX_RANKED = 400  # sentences that compete for takeaways (~10,000 words); keeps book-length pages fast
# How much the lead counts, by the kind of article: hard news puts its point first; a feature opens with a
# hook, a listicle with a preamble, a live blog with its latest entry. In those the first sentence of each
# section (an item, an entry) gets a share of the lead's prior instead.
POSITION_WEIGHT = {"news": 1.0, "feature": 0.6, "listicle": 0.25, "live": 0.25}
SECTION_LEAD = 0.3
QUOTE_PENALTY = 0.7  # a sentence that opens with a quotation rarely states the point on its own

_LIVE_TITLE = re.compile(r"\blive(?:[- ]blog|[: ]+updates?|\b.*\bas it happened)\b|\bas it happened\b|^live\b|\blive$", re.I)
_TIME_STAMP = re.compile(r"^(?:\d{1,2}[:.]\d{2}\s?(?:[ap]\.?m\.?|GMT|BST|CET|CEST|UTC|ET|EST|EDT|PT|PST|PDT)?|"
                         r"\d{1,2}\s?[ap]\.?m\.?)(?:\s|:|$)", re.I)
_NUMBERED = re.compile(r"^(?:#?\d{1,2}[.):]?\s|No\.\s?\d{1,2}\b)")
_COUNT_TITLE = re.compile(r"^(?:The\s)?\d{1,2}\s(?:[\w'’-]+\s){0,3}?(?:ways|things|reasons|tips|questions|lessons|signs|"
                          r"steps|ideas|facts|places|books|films|movies|songs|apps|tools|habits|mistakes|rules|takeaways|"
                          r"changes|moments|players|best|worst|biggest|key|most|of)\b", re.I)
# A hook: a question, a scene, the writer or the reader, a quotation; not a report of what happened.
_YOU_LEAD = re.compile(r"\b(?:you|your|you['’](?:re|ve|d|ll))\b", re.I)  # the reader addressed in the lead
_HOOK = re.compile(r"^(?:[\"“‘']|I\b|I['’]|We\b|We['’]|You\b|You['’]|My\b|Your\b|Imagine\b|Picture\b|Think\b|"
                   r"Remember\b|Ever\b|Once\b|It was\b|It['’]s\b|There (?:was|is|are|were)\b|There['’]s\b|Here['’]s\b|"
                   r"What if\b|If you\b|When you\b|On a\b|In the summer\b|Every (?:morning|day|year|time)\b|Nobody\b|"
                   r"No one\b|Few\b|Most people\b|Like many\b)|\?\s*$")


def genre(article: Article, items: list[Unit]) -> str:
    """What kind of article this is, for the position prior: "live", "listicle", "feature" or "news".

    A live blog: "live" in the title or three entries that open with a time. A listicle: a title that
    counts ("7 key questions …") or three numbered headings. A feature: its first sentence is a hook (a
    question, a scene, the reader's "you" or the writer's "my", a quotation, or under eight words) and no
    dateline says it is a wire report. Else news."""
    heads = [b.text for b in article.blocks if b.kind == "heading"]
    title = article.title or ""
    stamps = sum(1 for b in article.blocks if _TIME_STAMP.match(b.text))
    if _LIVE_TITLE.search(title) or stamps >= 3:
        return "live"
    numbered = sum(1 for h in heads if _NUMBERED.match(h))
    if numbered >= 3 or (_COUNT_TITLE.match(title) and len(heads) >= 3):
        return "listicle"
    lead = next((u for u in items if not u.caption and u.words >= 4), None)
    if lead is not None and not DATELINE.match(lead.text) and (_HOOK.search(lead.text) or first_person(lead.text)
                                                                 or _YOU_LEAD.search(lead.text) or lead.words < 8):
        return "feature"
    return "news"


def similarity_matrix(items: list[Unit]) -> tuple[np.ndarray, dict[str, float]]:
    """Cosine similarity of every pair of units over TF-IDF vectors (idf over the article's sentences);
    the diagonal is 0 (a sentence does not count as its own neighbour)."""
    n = len(items)
    # Sparse dot products through the terms the sentences share: for each term, every pair of sentences
    # that holds it adds the product of their weights. numpy's bincount does the adding in C; a dense
    # matrix product would go through BLAS, which starts threads (the engine runs on one core).
    column: dict[str, int] = {}  # term -> its column, in the order the terms first occur
    rows: list[int] = []
    cols: list[int] = []
    counts: list[int] = []
    for r, u in enumerate(items):
        rows += [r] * len(u.terms)
        cols += [column.setdefault(k, len(column)) for k in u.terms]
        counts += u.terms.values()
    df = np.bincount(np.array(cols, dtype=np.intp), minlength=len(column)).tolist() if cols else []
    idf = dict(zip(column, [math.log(1 + n / c) for c in df], strict=True))
    if not rows:
        return np.zeros((n, n)), idf
    row, col = np.array(rows, dtype=np.intp), np.array(cols, dtype=np.intp)
    weight = np.array(counts, dtype=float) * np.array(list(idf.values()))[col]
    norms = np.sqrt(np.bincount(row, weights=weight * weight, minlength=n))
    norms[norms == 0] = 1.0
    order = np.argsort(col, kind="stable")
    row, col, val = row[order], col[order], (weight / norms[row])[order]
    starts = np.flatnonzero(np.r_[True, col[1:] != col[:-1]])
    sizes = np.diff(np.r_[starts, col.size])
    size_of = np.repeat(sizes, sizes)  # for each entry: how many sentences hold its term
    left = np.repeat(np.arange(col.size), size_of)  # each entry, once per sentence sharing its term
    first = np.repeat(np.repeat(starts, sizes), size_of)
    right = first + np.arange(left.size) - np.repeat(np.cumsum(size_of) - size_of, size_of)
    sim = np.bincount(row[left] * n + row[right], weights=val[left] * val[right], minlength=n * n).reshape(n, n)
    np.fill_diagonal(sim, 0.0)
    return sim, idf


def rank(items: list[Unit], sim: np.ndarray, cue: Counter[str], idf: dict[str, float], kind: str = "news") -> None:
    """Set each unit's salience score (higher is better). `kind`: see `genre`."""
    n = len(items)
    if not n:
        return
    centrality = (np.asarray(sim).sum(axis=1) / max(n - 1, 1)).tolist()
    top = max(centrality) or 1.0
    weight = POSITION_WEIGHT.get(kind, 1.0)
    shown = 0  # position among the sentences a reader sees (captions run into the text do not count)
    led: set[int | None] = set()  # sections whose first sentence has been seen
    for pos, u in enumerate(items):
        position = weight / math.sqrt(1 + shown)
        if weight < 1.0 and u.section is not None and u.section not in led and not u.caption:
            position += SECTION_LEAD  # the first sentence of an item or an entry
        if not u.caption:
            led.add(u.section)
        shown += not u.caption
        title = cosine(u.terms, cue, idf) if cue else 0.0
        length = 1.0
        if u.words < MIN_WORDS:
            length = 0.3
        elif u.words > LONG_WORDS:
            length = max(0.4, LONG_WORDS / u.words)
        penalty = 1.0
        if PROMO.search(u.text):
            penalty = 0.2  # "Follow @site for daily insights", "Subscribe to our newsletter"
        elif u.text.endswith("?") or u.kind == "quote":
            penalty = 0.6
        elif QUOTED.match(u.text) or u.text[:1] in "\"“‘'":
            penalty = QUOTE_PENALTY  # a quotation (with or without "she said") rarely states the point on its own
        elif u.first and first_person(u.text):
            penalty = 0.5  # the writer's own story ("my friend Helen handed me a novel") is seldom the news
        if not ENDS_SENTENCE.search(u.text):
            tokens = WORD.findall(u.text)
            digits = sum(1 for t in tokens if t.isdigit())
            # "Sexta-feira, 22 de outubro de 2010 às 20:13", "기사입력 :[ 2018-08-25 15:24 ]": a date stamp;
            # other unpunctuated lines are titles, labels or menu entries rather than sentences.
            penalty *= 0.2 if tokens and digits / len(tokens) >= 0.4 else 0.5
        if unbalanced_quotes(u.text):
            penalty *= 0.3  # one sentence of a longer quotation: 'We are in a good position to advance."'
        elif DANGLING.match(u.text):
            penalty *= 0.6  # "He was arrested …", "In it, …": who or what is unclear out of context
        u.score = (W_POSITION * position + W_CENTRALITY * centrality[pos] / top + W_TITLE * title) * length * penalty


def mmr(items: list[Unit], sim: np.ndarray | list[list[float]], k: int, lam: float = MMR_LAMBDA,
        allowed: Callable[[Unit], bool] | None = None) -> list[Unit]:
    """Maximal marginal relevance: best score minus closeness to what is already chosen.

    `allowed` (a sentence check) is asked only about the sentences MMR would pick, best first: the
    choice is the same as over the allowed sentences alone, without checking all of them."""
    n = len(items)
    if not n or k <= 0:
        return []
    sim = np.asarray(sim, dtype=float)
    open_ = np.ones(n, dtype=bool)
    verdict: dict[int, bool] = {}

    def fits(i: int) -> bool:
        if allowed is None:
            return True
        if i not in verdict:
            verdict[i] = allowed(items[i])
        return verdict[i]

    # Scores are scaled by the best one that may be chosen.
    best_allowed = next((i for i in sorted(range(n), key=lambda i: -items[i].score) if fits(i)), None)
    if best_allowed is None:
        return []
    top = items[best_allowed].score or 1.0
    relevance = lam * np.array([u.score for u in items]) / top
    redundancy = np.zeros(n)  # closeness to the nearest chosen sentence
    chosen: list[int] = []
    while open_.any() and len(chosen) < k:
        value = np.where(open_, relevance - (1 - lam) * redundancy, -np.inf)
        best = int(np.argmax(value))  # the first of equals: the earlier sentence
        open_[best] = False
        if not fits(best):
            continue
        if chosen and (redundancy[best] > NEAR_DUPLICATE or any(_contained(items[best], items[j]) for j in chosen)):
            continue  # a near-duplicate adds nothing
        chosen.append(best)
        redundancy = np.maximum(redundancy, sim[best])
    return [items[i] for i in sorted(chosen)]


def strong(chosen: list[Unit], keep: int = MIN_TAKEAWAYS, floor: float = TAIL_FLOOR) -> list[Unit]:
    """The `keep` best-scored of `chosen`, and those others that score at least `floor` of the best (article order)."""
    if len(chosen) <= keep:
        return chosen
    best = sorted(chosen, key=lambda u: -u.score)
    top = best[0].score
    kept = {id(u) for i, u in enumerate(best) if i < keep or u.score >= floor * top}
    return [u for u in chosen if id(u) in kept]


def _contained(a: Unit, b: Unit) -> bool:
    """Most of the shorter sentence's terms are in the other: it repeats it (a standfirst and the lead)."""
    small, big = (a, b) if len(a.terms) <= len(b.terms) else (b, a)
    if not small.terms:
        return True
    shared = sum(1 for t in small.terms if t in big.terms) / len(small.terms)
    if shared >= CONTAINED:
        return True
    # The same facts in other words: the same figure ("Benaud has died at the age of 84 after battling skin
    # cancer" / "… passed away at the age of 84 after a short battle with skin cancer") or the same phrase.
    return shared >= SAME_FACT and (_same_figures(small.text, big.text) or _same_phrase(small.text, big.text))


def _same_phrase(a: str, b: str, n: int = 5) -> bool:
    """The two share a run of `n` words ("the relevant colour information from"): one restates the other.
    Titles in double quotation marks do not count (two sentences about one documentary both name it)."""
    a, b = _TITLE.sub(" ", a), _TITLE.sub(" ", b)
    wa, wb = [w.casefold() for w in WORD.findall(a)], [w.casefold() for w in WORD.findall(b)]
    grams = {tuple(wb[i:i + n]) for i in range(len(wb) - n + 1)}
    return any(tuple(wa[i:i + n]) in grams for i in range(len(wa) - n + 1))


def _same_figures(a: str, b: str) -> bool:
    """The two share a figure of two digits or more (an age, a price, a score; not a list item's "1.")."""
    return bool(set(_FIGURE.findall(a)) & set(_FIGURE.findall(b)))


_FIGURE = re.compile(r"\d[\d,.]*\d")
_TITLE = re.compile(r'"[^"]{1,120}"|“[^”]{1,120}”')


def cue_terms(article: Article, english: bool) -> Counter[str]:
    """Terms of the title and headings: what the author says the article is about."""
    cue: Counter[str] = Counter()
    if article.title:
        cue.update(terms(article.title, english))
    for b in article.blocks:
        if b.kind == "heading":
            cue.update(terms(b.text, english))
    return cue


# A sentence whose subject is one capitalised word, then a verb: "Elise found …", "Karo claims …".
_BARE_NAME = re.compile(r"([A-Z][a-z]{2,})(?:['’]s)? (?=[a-z])")
_LEAD_IN = re.compile(r"[A-Z][^,;:\"“”]{0,30}, (?=[A-Z])")  # "In 1997, Elise wrote …": the name after the phrase


def _lead_in(text: str) -> int:
    m = _LEAD_IN.match(text)
    return m.end() if m else 0


INTRODUCED_IN = 3  # a name the title or the first sentences use is known to the reader of the takeaways


# Words that open sentences and may follow a caption glued without a stop ("… her hair Ever since …").
_NOT_NAMES = frozenset("""Ever Even Just Only Still Yet Also Again Soon Later Then Now Once Twice Today Yesterday Tomorrow
Meanwhile Finally Instead Indeed Perhaps Maybe Like Unlike Another Many Most Some Every Each Both Several Such Other Others
Nothing Nobody Everyone Everything Something Someone Anyone Despite Although Though While Since Until Unless Because
However Therefore Thus Hence Besides Overall Earlier Last Next First Second Third Asked Speaking According
Head Former Manager Coach Boss Chairman Captain President Prime Minister Secretary Director Chief Professor Doctor Judge
Senator Governor Mayor Police Officers Scientists Researchers Experts Fans Supporters""".split())  # noqa: SIM905
class _Strangers:
    """Is this opening word a name the reader of the takeaways has not met? A name is a word the article
    capitalises inside a sentence ("… his friend Elise …") and never writes in lower case ("Police said …",
    "Another tool …" are common words); met are the names in the title and the first INTRODUCED_IN sentences.
    Asked only about the few sentences MMR would pick, so the article is read lazily."""

    def __init__(self, article: Article, items: list[Unit]) -> None:
        self.article, self.items = article, items
        self.words: set[str] | None = None
        self.known: set[str] = set()

    def __call__(self, word: str) -> bool:
        if word in _NOT_NAMES or word.casefold() in STOPWORDS or word.endswith(("ing", "ly", "ed")):
            return False
        text = self.article.text
        if self.words is None:
            self.words = set(WORD.findall(text))
            self.known = set(WORD.findall(self.article.title or ""))
            for u in [u for u in self.items if not u.caption][:INTRODUCED_IN]:
                self.known.update(WORD.findall(u.text))
        if word in self.known or word.lower() in self.words:
            return False
        w = re.escape(word)
        # a person's name: capitalised inside a sentence, and somewhere next to another capitalised word ("Tom
        # Berg", "Elise Matthesen"); a place or a team seldom is ("Slovakia are the surprise leaders …")
        return (re.search(rf"(?<=[a-z,] ){w}\b", text) is not None
                and re.search(rf"\b[A-Z][a-z]+ {w}\b|\b{w} [A-Z][a-z]+\b", text) is not None)


def select_takeaways(article: Article, spec: Spec, english: bool, items: list[Unit] | None = None
                     ) -> tuple[list[Unit], list[Unit], np.ndarray, dict[str, float]]:
    """(chosen, all ranked units, similarity matrix, idf)."""
    items = units(article, english) if items is None else items
    # The similarity graph is quadratic: on a book-length page only the first MAX_RANKED sentences
    # compete (the rest keep score 0 and still serve the FAQ's headings).
    ranked = items[:MAX_RANKED]
    sim, idf = similarity_matrix(ranked)
    rank(ranked, sim, cue_terms(article, english), idf, genre(article, ranked))
    # A label that opens several lines is a speaker in a transcript ("Prof. Carlos: …"); one alone may be a heading.
    labels = Counter(m.group(0) for u in ranked if (m := SPEAKER_LABEL.match(u.text)))
    speakers = {label for label, c in labels.items() if c >= 2}

    def transcript(u: Unit) -> bool:
        m = SPEAKER_LABEL.match(u.text)
        return bool(m and m.group(0) in speakers)

    lead = next((u for u in ranked if not u.caption and u.words >= 4), None)
    stranger = _Strangers(article, ranked)

    def fit(u: Unit) -> bool:
        if english and u is lead and hook(u):
            return False  # "As attempts to break a world record go, it was pretty impressive."
        if english and (m := _BARE_NAME.match(u.text, _lead_in(u.text))) and stranger(m.group(1)):
            return False  # "Elise found contact information for …": who is Elise?
        return takeaway_problem(u) is None and not transcript(u)

    # Precision over count: a page of nothing but promos, quotation pieces and asides gets no takeaway (the
    # engine says why) rather than junk, and past the first MIN_TAKEAWAYS a takeaway must score TAIL_FLOOR
    # of the best one: three strong bullets beat five with two weak ones.
    candidates = [u for u in ranked if u.words >= 4 and not u.caption]
    sub = sim if len(candidates) == len(ranked) else sim[np.ix_(*[[u.index for u in candidates]] * 2)]
    chosen = strong(mmr(candidates, sub, spec.takeaways, allowed=fit))
    # Captions helped rank; from here on (the FAQ) they are not part of the text.
    shown = [u for u in items if not u.caption]
    for i, u in enumerate(shown):
        u.index = i
    return chosen, shown, sim, idf
