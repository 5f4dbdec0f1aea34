"""Takeaway ranking: similarity graph, salience, MMR selection."""

from __future__ import annotations

import math
from collections import Counter

from ...models import Article, Spec
from .filters import DANGLING, PROMO, SPEAKER_LABEL, takeaway_problem
from .text import ENDS_SENTENCE, QUOTED, WORD, Unit, cosine, terms, unbalanced_quotes
from .units import units

W_POSITION = 1.0
W_CENTRALITY = 0.4
W_TITLE = 0.3
MMR_LAMBDA = 0.75
MIN_WORDS = 6  # shorter sentences are captions, bylines or fragments, rarely a takeaway
LONG_WORDS = 45  # longer "sentences" are usually run-together captions or lists
MAX_RANKED = 400  # sentences that compete for takeaways (~10,000 words); keeps book-length pages fast


def similarity_matrix(items: list[Unit]) -> tuple[list[list[float]], dict[str, float]]:
    """Cosine similarity of every pair of units over TF-IDF vectors (idf over the article's sentences)."""
    n = len(items)
    df: Counter[str] = Counter()
    for u in items:
        df.update(u.terms.keys())
    idf = {t: math.log(1 + n / c) for t, c in df.items()}
    vecs = []
    for u in items:
        v = {k: c * idf[k] for k, c in u.terms.items()}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        vecs.append({k: x / norm for k, x in v.items()})
    sim = [[0.0] * n for _ in range(n)]
    for i in range(n):
        vi = vecs[i]
        row = sim[i]
        for j in range(i + 1, n):
            vj = vecs[j]
            if len(vj) < len(vi):
                s = sum(x * vi[k] for k, x in vj.items() if k in vi)
            else:
                s = sum(x * vj[k] for k, x in vi.items() if k in vj)
            row[j] = sim[j][i] = s
    return sim, idf


def rank(items: list[Unit], sim: list[list[float]], cue: Counter[str], idf: dict[str, float]) -> None:
    """Set each unit's salience score (higher is better)."""
    n = len(items)
    if not n:
        return
    centrality = [sum(row) / max(n - 1, 1) for row in sim]
    top = max(centrality) or 1.0
    shown = 0  # position among the sentences a reader sees (captions run into the text do not count)
    for pos, u in enumerate(items):
        position = 1.0 / math.sqrt(1 + shown)
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
            penalty = 0.8  # a quotation (with or without "she said") rarely states the point on its own
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


def mmr(items: list[Unit], sim: list[list[float]], k: int, lam: float = MMR_LAMBDA) -> list[Unit]:
    """Maximal marginal relevance: best score minus closeness to what is already chosen."""
    chosen: list[int] = []
    candidates = list(range(len(items)))
    top = max((u.score for u in items), default=1.0) or 1.0
    while candidates and len(chosen) < k:
        def value(i: int) -> tuple[float, int]:
            redundancy = max((sim[i][j] for j in chosen), default=0.0)
            return lam * items[i].score / top - (1 - lam) * redundancy, -i

        best = max(candidates, key=value)
        candidates.remove(best)
        if chosen and (max(sim[best][j] for j in chosen) > 0.7
                       or any(_contained(items[best], items[j]) for j in chosen)):
            continue  # a near-duplicate adds nothing
        chosen.append(best)
    return [items[i] for i in sorted(chosen)]


def _contained(a: Unit, b: Unit) -> bool:
    """Most of the shorter sentence's terms are in the other: it repeats it (a standfirst and the lead)."""
    small, big = (a, b) if len(a.terms) <= len(b.terms) else (b, a)
    if not small.terms:
        return True
    return sum(1 for t in small.terms if t in big.terms) / len(small.terms) >= 0.8


def cue_terms(article: Article, english: bool) -> Counter[str]:
    """Terms of the title and headings: what the author says the article is about."""
    cue: Counter[str] = Counter()
    if article.title:
        cue.update(terms(article.title, english))
    for b in article.blocks:
        if b.kind == "heading":
            cue.update(terms(b.text, english))
    return cue


def select_takeaways(article: Article, spec: Spec, english: bool, items: list[Unit] | None = None
                     ) -> tuple[list[Unit], list[Unit], list[list[float]], dict[str, float]]:
    """(chosen, all ranked units, similarity matrix, idf)."""
    items = units(article, english) if items is None else items
    # The similarity graph is quadratic: on a book-length page only the first MAX_RANKED sentences
    # compete (the rest keep score 0 and still serve the FAQ's headings).
    ranked = items[:MAX_RANKED]
    sim, idf = similarity_matrix(ranked)
    rank(ranked, sim, cue_terms(article, english), idf)
    # A label that opens several lines is a speaker in a transcript ("Prof. Carlos: …"); one alone may be a heading.
    labels = Counter(m.group(0) for u in ranked if (m := SPEAKER_LABEL.match(u.text)))
    speakers = {label for label, c in labels.items() if c >= 2}

    def transcript(u: Unit) -> bool:
        m = SPEAKER_LABEL.match(u.text)
        return bool(m and m.group(0) in speakers)

    eligible = [u for u in ranked if u.words >= 4 and not u.caption and takeaway_problem(u) is None and not transcript(u)]
    if not eligible:
        eligible = [u for u in ranked if u.words >= 4 and not u.caption]  # a page of nothing but such lines
    if eligible and len(eligible) < len(ranked):
        idx = [u.index for u in eligible]
        sub = [[sim[i][j] for j in idx] for i in idx]
        chosen = mmr(eligible, sub, spec.takeaways)
    else:
        chosen = mmr(ranked, sim, spec.takeaways)
    # Captions helped rank; from here on (the FAQ) they are not part of the text.
    shown = [u for u in items if not u.caption]
    for i, u in enumerate(shown):
        u.index = i
    return chosen, shown, sim, idf
