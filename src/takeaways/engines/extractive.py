"""Offline extractive engine: ranked Key Takeaways and an FAQ built from the article itself.

Deterministic, no network, no model files. The steps, each a small function:

1. `units()`      the article's sentences with their offsets in `article.text`, block and section;
2. `rank()`       salience = TF-IDF centrality + position prior + title/heading overlap + length prior;
3. `mmr()`        greedy selection that trades salience against similarity to what is chosen;
4. `compress()`   light clean-up of the shown text (datelines, a leading "But", a trailing "he said");
5. `questions.faq()` (engines/questions.py) the FAQ: the article's own questions, headings turned
   into questions, and template questions about the people, organisations and figures it names.

Every item's `evidence` is a verbatim slice of `article.text`.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

from ..config import Settings
from ..models import QA, Article, Digest, Spec, Takeaway
from ..sentences import sentence_spans

# Weights of the salience signals. General forms, not fitted per article set: news puts the point
# first (position), the point is what the rest of the text keeps talking about (centrality), and the
# title/headings name it (overlap). See bench/rouge.py for their effect.
W_POSITION = 1.0
W_CENTRALITY = 0.4
W_TITLE = 0.3
MMR_LAMBDA = 0.75
MIN_WORDS = 6  # shorter sentences are captions, bylines or fragments, rarely a takeaway
LONG_WORDS = 45  # longer "sentences" are usually run-together captions or lists
MAX_RANKED = 400  # sentences that compete for takeaways (~10,000 words); keeps book-length pages fast

# Chinese and Japanese write no spaces: each character counts as a word, and terms are character
# pairs (single characters are shared by almost every sentence). Korean spaces its words.
_CJK = "\u3040-\u30ff\u3400-\u9fff"
_WORD = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")
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
    words = _WORD.findall(text.casefold())
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


# --- captions and credits ---------------------------------------------------------------------------
# News pages run photo captions into the text: "Scroll down for video Strictly business: Julia covers
# the May issue (pictured) Julia revealed …". A caption is neither a takeaway nor an answer, and a name
# seen only in one is no subject to ask about.
_CAPTION_MARK = re.compile(
    r"\bScroll down for (?:video|more)\b"
    r"|\((?:pictured|left|right|centre|center|above|below|top|bottom|inset|file(?: photo)?|stock (?:image|photo)|"
    r"second (?:left|right)|far (?:left|right)|front|back|middle)\b[^()]{0,40}\)"
    r"|, (?:pictured|seen|shown)\b(?: (?:here|above|left|right|with|in|at|on|during|as|after|before|campaigning))?"
    r"|\b(?:Pictured|Above|Below|Left|Right|Inset)(?: (?:left|right|centre|center|above|below))?: "
    r"|(?:^|\b)(?:From (?:left|right)|(?:From )?[Ll]eft to right|L-R|Clockwise from (?:top )?(?:left|right)),"
    r"|(?:^|(?<=[a-z0-9)'’] ))(?!(?:Mr|Mrs|Ms|Dr|He|She|They|It|We|I)\b)[A-Z][\w'’-]*(?: [\w'’-]+){0,4}: (?=[A-Z])")
_LABEL_VERB = re.compile(r"\b(?:said|says|say|added|told|tells|explained|wrote|writes|tweeted|posted|asked|replied|"
                         r"stated|announced|is|are|was|were|has|have|had|will|would|can|could)\b", re.I)
# "With the new Avengers: Age of Ultron …": a prepositional phrase with an article leads a sentence, not a caption.
_LABEL_PHRASE = re.compile(r"(?:With|In|On|At|For|From|After|Before|As|Of|By|To|Under|Over) (?:[\w'’-]+ )*?(?:the|a|an|his|her|their|its|this|that)\b")
# After the last caption a sentence of the text resumes; it opens with a word that is rarely capitalised mid-caption.
_RESUME = re.compile(
    r"(?<=[a-z0-9)'’]) (?=(?:The|A|An|He|She|It|They|We|His|Her|Their|Its|In|On|At|But|And|When|After|As|Ever|This|"
    r"That|These|Those|There|Mr|Mrs|Ms|Dr|According|Speaking|However|Meanwhile|While|Although|Since|If|Last|"
    r"Earlier|Later|During|Before|Despite|Following|Under|Over|With|For|From)\b)")
_CREDIT = re.compile(
    r"^(?:Photo|Image|Picture|Video|Credit|Source|Illustration|Graphic)s?(?: credits?| by| courtesy(?: of)?)?\s*[:|/-]"
    r"|\((?:AP|AFP|Reuters|Getty|EPA|PA|Shutterstock|Bloomberg)(?: Photo| Images?)?(?:/[^()]{2,40})?\)\s*$"
    r"|\b(?:Getty Images|Shutterstock|AP Photo|AFP via Getty|Photograph: |Image credit|Photo credit|Photo by )", re.I)


def caption_cut(text: str) -> int | None:
    """Where the sentence proper starts in a unit with photo captions run into it: 0 when there are none,
    None when the whole unit is caption or credit (or no sentence can be told from the caption text)."""
    if _CREDIT.search(text):
        return None
    last = -1
    for m in _CAPTION_MARK.finditer(text):
        if m.group(0).endswith(": ") and (_LABEL_VERB.search(m.group(0)) or text[m.end():m.end() + 1] in "\"'“‘"
                                          or _LABEL_PHRASE.match(m.group(0))):
            continue  # "Mr Wang said: 'Big kites …'", "The plan is simple: …": a colon in a sentence
        last = m.end()
    if last < 0:
        return 0
    for r in _RESUME.finditer(text, last):
        tail = text[r.end():]
        if len(_WORD.findall(tail)) >= 8 and _ENDS_SENTENCE.search(tail):
            return r.end()
        break
    return None


def units(article: Article, english: bool = True) -> list[Unit]:
    """Every sentence of the body (headings and tables excluded), with offsets into article.text.

    A sentence with photo captions run into its start begins after them; a unit that is all caption
    or credit is kept with `caption=True` (see `caption_cut`): it still tells what the page is about."""
    out: list[Unit] = []
    offset = 0
    section: int | None = None
    for bi, block in enumerate(article.blocks):
        if block.kind == "heading":
            section = bi
        elif block.kind != "table":
            for a, b in sentence_spans(block.text):
                cut = caption_cut(block.text[a:b])
                a += cut or 0
                text = block.text[a:b]
                out.append(Unit(index=len(out), text=text, start=offset + a, end=offset + b, block=bi,
                                kind=block.kind, section=section, words=len(_WORD.findall(text)),
                                terms=terms(text, english), caption=cut is None))
        offset += len(block.text) + 1
    return out


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
        if _PROMO.search(u.text):
            penalty = 0.2  # "Follow @site for daily insights", "Subscribe to our newsletter"
        elif u.text.endswith("?") or u.kind == "quote":
            penalty = 0.6
        elif _QUOTED.match(u.text) or u.text[:1] in "\"“‘'":
            penalty = 0.8  # a quotation (with or without "she said") rarely states the point on its own
        if not _ENDS_SENTENCE.search(u.text):
            tokens = _WORD.findall(u.text)
            digits = sum(1 for t in tokens if t.isdigit())
            # "Sexta-feira, 22 de outubro de 2010 às 20:13", "기사입력 :[ 2018-08-25 15:24 ]": a date stamp;
            # other unpunctuated lines are titles, labels or menu entries rather than sentences.
            penalty *= 0.2 if tokens and digits / len(tokens) >= 0.4 else 0.5
        if _unbalanced_quotes(u.text):
            penalty *= 0.3  # one sentence of a longer quotation: 'We are in a good position to advance."'
        elif _DANGLING.match(u.text):
            penalty *= 0.6  # "He was arrested …", "In it, …": who or what is unclear out of context
        u.score = (W_POSITION * position + W_CENTRALITY * centrality[pos] / top + W_TITLE * title) * length * penalty


_DANGLING = re.compile(
    r"^(?:(?:He|She|They|It|We|His|Her|Their|Its|Him|Them)\b(?![’'-]s? own)"
    r"|(?:That|This|These|Those)(?:['’]s\b| (?:is|was|are|were|means|meant|comes|came|includes|included|"
    r"will|would|has|had|could|may|might)\b)"
    r"|(?:In|On|With|By|For|After|Before|From|Of) (?:it|this|that|them|him|her|these|those)\b)")


# Sentences that are never a takeaway, whatever their score.
_DISCLOSURE = re.compile(
    r"^(?:Disclosure|Disclaimer|Editor['’]?s note|Correction|Clarification)\b"
    r"|\b(?:may (?:earn|receive) (?:a )?(?:small )?(?:commission|compensation)|affiliate (?:links?|commission)|"
    r"paid (?:subscriber|partnership)|sponsored (?:by|content)|(?:contributed|contributing) to this (?:report|story)|"
    r"(?:Reporting|Writing|Editing|Additional reporting) by\b|All times (?:are )?local|owns shares (?:of|in)|"
    r"(?:has|have) no (?:position|positions|financial interest) in|This (?:article|story|post|piece) (?:was|has been|"
    r"originally|first|is part)\b|terms of (?:use|service)|privacy policy|(?:accept|use) (?:of )?cookies|"
    r"is available (?:to stream|now) on|(?:download|get) (?:the|our) (?:free )?app)", re.I)
_NO_COMMENT = re.compile(r"\b(?:declined|refused) to (?:comment|elaborate)|did not (?:immediately )?(?:respond|reply|return)"
                         r"|could not (?:immediately )?be reached|(?:had|has|have) no (?:immediate )?comment\b", re.I)
_YOU = re.compile(r"\b(?:you|your|you['’](?:re|ve|d|ll))\b", re.I)
_ASIDE = re.compile(r"^(?:Yes|No|Sure|Well|OK|Okay|Oh|Yeah|Alas|Sadly|Honestly|Seriously)\b[,!.]")
# "Prof. Carlos: Estou aqui …", "Q: …": a line of an interview transcript, not a statement of the article.
_SPEAKER_LABEL = re.compile(r"^(?:[A-Z][\w.'’-]*(?: [A-Z][\w.'’-]*){0,2}|Q|A):\s")
_FIRST_PERSON = re.compile(r"^(?:I|I['’](?:m|ve|d|ll)|My|Me|Let me|Let['’]s|Let us)\b")
# A subject whose referent is in an earlier sentence: "Those gains were …", "All of that …", "The move comes …".
_DANGLING_SUBJECT = re.compile(
    r"^(?:(?:That|This|These|Those|Such) (?!(?:week|year|month|morning|afternoon|evening|weekend|season|time|summer|"
    r"winter|spring|autumn|fall)\b)(?:[\w'’-]+ ){0,2}?(?:is|was|are|were|has|have|had|will|would|could|can|may|might|"
    r"means?|meant|shows?|showed|suggests?|comes?|came|follows?|followed|includes?|included)\b"
    r"|That (?:his|her|their|its|the|a|an)\b"  # "That her party want …": a that-clause without its sentence
    r"|All (?:of )?(?:that|this|these|those|it)\b|(?:Both|Neither|None|Each|Some|Many|Most) of (?:them|these|those)\b"
    r"|The (?:move|decision|report|findings?|announcement|change|incident|comments?|remarks?|news|latest|development)"
    r" (?:is|was|comes?|came|follows?|followed|marks?|marked)\b)")


def takeaway_problem(u: Unit) -> str | None:
    """Why a sentence can never be a takeaway (None when it can)."""
    t = u.text
    if t.rstrip("\"'’”»)").endswith("?"):
        return "a question"
    if _PROMO.search(t) or _DISCLOSURE.search(t):
        return "boilerplate"
    if _NO_COMMENT.search(t) and u.words < 20:
        return "no comment"
    if _FIRST_PERSON.match(t) or _ASIDE.match(t):
        return "a first-person aside"
    if _YOU.search(_QUOTATION.sub(" ", t)) and not re.search(r"\d|(?<=[\w,;] )[A-Z][a-z]", t):
        return "an aside to the reader"  # "Now you know …", "you would think a reporter would know better"
    bare = _LEAD_CONNECTIVE.sub("", _DATELINE.sub("", t, count=1), count=1)  # "But she added …" is shown as "She added …"
    bare = re.sub(r"^[A-Z][\w'’-]*(?: [\w'’-]+){0,2}, (?=[a-z])", "", bare)  # "Instead, they …", "In 2019, he …"
    bare = bare[:1].upper() + bare[1:]
    if _DANGLING.match(bare) or _DANGLING_SUBJECT.match(bare):
        return "a dangling reference"
    if _unbalanced_quotes(t):
        return "part of a quotation"
    if len(_WORD.findall(_QUOTATION.sub(" ", t))) < 4 and _QUOTATION.search(t):
        return "a bare quotation"  # 'Finally, "Lose some weight, baby girl."': no speaker, no context
    return None


_QUOTATION = re.compile(r"[\"“][^\"“”]*[\"”]|(?:^|(?<=\s))['‘][^'‘’]*['’](?=\W*$|\s)")


def _unbalanced_quotes(text: str) -> bool:
    """Straight double quotes of odd count, or curly ones that do not pair up: a piece of a quotation."""
    return text.count('"') % 2 == 1 or text.count("“") != text.count("”")


_SINGLE_OPEN = re.compile(r"(?:^|(?<=[\s(]))['‘](?=\w)")
_SINGLE_CLOSE = re.compile(r"(?<=[\w.,!?])['’](?=[\s.,;:!?)]|$)")


def open_quote(text: str) -> bool:
    """A quotation opens and does not close (single quotes too, told from apostrophes by where they stand)."""
    return _unbalanced_quotes(text) or len(_SINGLE_OPEN.findall(text)) > len(_SINGLE_CLOSE.findall(text))


_ENDS_SENTENCE = re.compile(r"[.!?。！？…:;]['\"’”»」』)\]]*\s*$")
_QUOTED = re.compile(r"^[\"'“‘].*[\"'”’]\W*$")
_PROMO = re.compile(r"(?:^|\W)@\w{3,}|https?://|\bwww\.\w|\b(?:subscribe|sign up|newsletter|follow (?:us|@)|click here|"
                    r"read more|share this|all rights reserved|copyright)\b|[©ⓒ]|무단\s?전재|無断転載|版权所有", re.I)


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


_DATELINE = re.compile(
    r"^(?:\((?:CNN|Reuters|AP|AFP|The [A-Z][\w ]{2,30})\)\s*(?:[-–—]{1,2}\s*)?"
    r"|[A-Z][A-Z.' ]{1,30}(?:,\s*[A-Z][\w.]*\.?){0,2}\s*(?:\([\w ]{2,30}\))?\s*[-–—]{1,2}\s+)")
_LEAD_CONNECTIVE = re.compile(r"^(?:And|But|So|Yet|However|Meanwhile|Also|Still|Now)\b,?\s+(?=\w)")
_TRAILING_ATTRIBUTION = re.compile(
    r",\s*(?:(?:he|she|they|it|police|officials|experts|researchers|sources|the (?:\w+ ){0,2}\w+|"
    r"[A-Z][\w.'-]+(?: [A-Z][\w.'-]+){0,3})\s+(?:said|says|added|explained|told [\w ]{2,30}|reported)"
    r"|(?:said|says|added) (?:the (?:\w+ ){0,2}\w+|[A-Z][\w.'-]+(?: [A-Z][\w.'-]+){0,3}))\s*([.!])$")


def compress(sentence: str) -> str:
    """Light compression for display; the evidence keeps the original sentence."""
    s = _DATELINE.sub("", sentence, count=1)
    s = _LEAD_CONNECTIVE.sub("", s, count=1)
    if not _QUOTED.match(s) and not re.search(r"[\"“”]", s):
        s = _TRAILING_ATTRIBUTION.sub(r"\1", s)
    s = s.strip()
    if len(_WORD.findall(s)) < 4:
        return sentence.strip()
    return s[0].upper() + s[1:] if s[0].islower() else s


def strip_lead(text: str) -> str:
    """An answer as shown: without the dateline ("MADRID —", "(Reuters) —") or a leading "But"."""
    s = _LEAD_CONNECTIVE.sub("", _DATELINE.sub("", text, count=1), count=1).strip()
    if len(_WORD.findall(s)) < 4:
        return text.strip()
    return s[0].upper() + s[1:] if s[0].islower() else s


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
    labels = Counter(m.group(0) for u in ranked if (m := _SPEAKER_LABEL.match(u.text)))
    speakers = {label for label, c in labels.items() if c >= 2}

    def transcript(u: Unit) -> bool:
        m = _SPEAKER_LABEL.match(u.text)
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


class ExtractiveEngine:
    name = "extractive"

    def generate(self, article: Article, spec: Spec, settings: Settings) -> Digest:
        from .questions import faq  # here, so the two modules can import each other's helpers

        english = is_english(article, spec)
        warnings: list[str] = []
        asked, own = (spec.language or "").split("-")[0].casefold(), (article.language or "").split("-")[0].casefold()
        if asked and own and asked != own:
            warnings.append(f"extractive engine: it quotes the article and cannot translate; the output is in "
                            f"{article.language!r}, not {spec.language!r}")
        if not english:
            lang = article.language or spec.language
            warnings.append(f"extractive engine: language {lang!r} is not English; ranking uses position, "
                            "centrality and headings only, and the FAQ only the article's own questions and headings")
        chosen, items, sim, _idf = select_takeaways(article, spec, english)
        takeaways = [Takeaway(text=compress(u.text), evidence=u.text) for u in chosen]
        qas: list[QA] = faq(article, spec, items, sim, chosen, english) if spec.questions else []
        if spec.takeaways and len(takeaways) < spec.takeaways:
            warnings.append(f"extractive engine: only {len(takeaways)} takeaway(s); the article has few sentences")
        if spec.questions and len(qas) < spec.questions:
            warnings.append(f"extractive engine: only {len(qas)} FAQ item(s) could be formed from the article")
        return Digest(article=article.meta, takeaways=takeaways, faq=qas, engine=self.name,
                      existing_blocks=article.existing_blocks, warnings=warnings)
