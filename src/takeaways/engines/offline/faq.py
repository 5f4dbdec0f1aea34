"""FAQ composition: questions the article answers, each answered by 1-2 of its sentences.

Three sources, in this order of trust:

1. the article's own questions: headings and sentences ending in "?" that open with a wh-word,
   answered by what follows them;
2. headings turned into questions (`templates.heading_question_for`: a small rule table, "Why This
   Matters" → "Why does this matter?"; a bare topic only as its lead treats it, "What is the keyboard
   like?"), answered by the section's lead;
3. template questions about who and what the article names (`templates.template_questions`), formed
   from a sentence whose shape makes the question certain: "<Name> closed its borders" → "What did
   <Name> close?", "<Name> said the rent …" → "What did <Name> say about the rent?" (`subjects.
   speech_topic`), "<Name>, the chief executive of Y," → "Who is <Name>?", "<Name> was suspended after
   …" → "Why was <Name> suspended?", "<Name> paid $5m" → "How much did <Name> pay?", and so on; kept
   only about the article's real subjects (`subjects.about_subject`).

Generic shapes ("What did X say/do?") only fill an otherwise empty FAQ; no two answers tell the same
facts, and at most one repeats a takeaway. A question is emitted only when `filters.question_problems()`
finds nothing wrong with it; a skipped question is better than a bad one.
"""

from __future__ import annotations

import re
from collections import Counter

from ...models import QA, Article, Spec
from .filters import DANGLING, NO_COMMENT, answers, boilerplate, question_problems
from .subjects import about_subject, lead_terms, names_in_lower_case, real_subjects, recase, speech_topic
from .templates import (
    ROLE_SET,
    heading_question,
    heading_question_for,
    org_answer,
    question_subject,
    template_questions,
    who_answer,
)
from .text import DATELINE, ONES, STOPWORDS, Unit, cosine, open_quote, stem, strip_lead, terms

# --- the FAQ --------------------------------------------------------------------------------------

def _answer(items: list[Unit], i: int, text: str, limit: int = 2) -> tuple[str, str] | None:
    """(answer, evidence) from items[i] and, when it is short or introduces a list, the next sentence."""
    if i >= len(items):
        return None
    first = items[i]
    if first.words < 4:
        return None
    end = first.end
    parts = [first.text]
    nxt = items[i + 1] if i + 1 < len(items) else None
    if first.text.rstrip().endswith(":"):
        # "… has implications:" promises what follows: the list items under it, else the next sentence
        # of the section; when that is a table or nothing at all, the answer would stop mid-air.
        listed = []
        for u in items[i + 1:i + 9]:
            if u.kind != "list_item" or u.section != first.section:
                break
            listed.append(u)
        if listed:
            answer = first.text + " " + "; ".join(u.text.rstrip(".;") for u in listed) + "."
            return answer, text[first.start:listed[-1].end]
        if nxt is None or nxt.section != first.section or nxt.block != first.block + 1 or nxt.text.endswith("?"):
            return None
    if (limit > 1 and nxt is not None and nxt.section == first.section
            and (first.words < 15 or first.text.rstrip().endswith(":")) and not nxt.text.endswith("?")):
        parts.append(nxt.text)
        end = nxt.end
    evidence = text[first.start:end]
    return " ".join(parts), evidence


# An answer that repeats a Key Takeaway word for word shows the reader the same sentence twice on
# the page; such a candidate ranks lower (it still serves when nothing else answers).
TAKEN_PENALTY = 0.6
DANGLING_PENALTY = 0.3

# Generic question shapes ask less precisely than specific ones; rank them lower.
_KIND_PENALTY = {"say": 0.2, "do": 0.5, "doing": 0.5, "happened": 0.3, "who": 0.1, "what": 0.1, "about": 0.0, "why": 0.0,
                 "act": 0.15, "count": 0.0, "say_about": 0.05}
# Shapes that ask generically ("What did X say?", "What did X do?"): an editor rewords them. One of them fills an
# FAQ only when it would otherwise be empty, and only about one of the article's main subjects.
WEAK_KINDS = frozenset({"say", "do", "doing", "will"})
MAX_WEAK = 1
MAIN_SUBJECTS = 2


def _whole_quote(items: list[Unit], u: Unit, text: str) -> tuple[str, str] | None:
    """(answer, evidence) from `u`, with the next sentences while a quotation it opens is still open."""
    last = u
    while _open_quote(text[u.start:last.end]) and last.index + 1 < len(items) and last.index + 1 - u.index <= 2:
        last = items[last.index + 1]
    if _open_quote(text[u.start:last.end]):
        return None  # a piece of a quotation ("Barnes replied in a text, 'No.") answers nothing
    if last is u:
        return u.text, u.text
    parts = [x.text for x in items[u.index:last.index + 1]]
    return " ".join(parts), text[u.start:last.end]


_open_quote = open_quote


_ABOUT_A_THING = re.compile(r"^\w+ \w+ [a-z]")  # "What did counters record?", not "What did Mr Lee say?"
_LOWER_WORD = re.compile(r"\b[a-z][a-z'’-]+\b")
_MID_CAPITAL = re.compile(r" (?<=[\w,;] )([A-Z][\w'’-]*)")  # a capital inside a sentence (a name); the space first: a fast scan
_CAPITALISED_WORD = re.compile(r"[A-Z][a-z'’-]+\b")
_POSSESSIVE = re.compile(r"['’]s$")

# A question that points back ("What makes that pain go away?") or has no verb ("For whom this game?") is a line of
# the article's argument, not a question a reader brings to it.
_POINTS_BACK = re.compile(r"\b(?:that|this|these|those|such) (?!is\b|was\b|are\b|were\b|does\b|do\b|did\b|has\b|have\b|"
                          r"will\b|would\b|can\b|could\b|means?\b|matters?\b|happens?\b|works?\b)[a-z]", re.I)
_HAS_VERB = re.compile(r"\b(?:is|are|was|were|am|be|do|does|did|can|could|will|would|should|shall|may|might|must|has|have|"
                       r"had)\b|['’](?:s|re|ve|ll|d)\b|\b\w{2,}(?:ed|es|ks|ts|ns|ps|ws|ys)\b", re.I)


def asks_on_its_own(q: str) -> bool:
    """The question can be read without the sentence before it, and has a verb."""
    return not _POINTS_BACK.search(q) and bool(_HAS_VERB.search(q))


# "… after battling skin cancer 1.": the next list item's number glued to the sentence.
_LIST_NUMBER = re.compile(r"(?<![\d,.])(?<!\bof)(?<!\bto)(?<!\bby)(?<!\bat)(?<!\bno)(?<!\bNo)(?<!\band)(?<!\baged)"
                          r"(?<!\bage)(?<!\bnumber)(?<!\bpage)(?<!\bround)(?<!\bgame)(?<!\bstage) [1-9]\.$")
_UNNAMED_OBJECT = re.compile(r"\b(?:him|them)\b")
_FIRST_PERSON_WORD = re.compile(r"\b(?:I|my|me|we|our|us)\b")
_TOLD_KINDS = frozenset({"reveal", "admit", "claim", "confirm", "deny", "warn", "urge", "promise", "announce"})
_DESCRIBED_ROLE = re.compile(r"^What (?:did|does|do) the (?:[\w'’-]+ ){0,3}?([\w'’-]+) \w+(?: about| to)?\?$")
_DESCRIBED = re.compile(r"^What did (?:the|a|an) ")

MAX_ANSWER_WORDS = 50
_RESEARCH_WORDS = frozenset({"study", "survey", "poll", "report", "research", "analysis", "review", "paper", "trial",
                             "experiment", "audit", "investigation", "inquiry", "census"})
_QUESTION_WORDS = frozenset("""what why how when where who which whose whom is are was were do does did can could will
would should has have had it this that there get gets got make makes""".split())  # noqa: SIM905


def asked_terms_answered(q: str, answer: str) -> bool:
    """The answer names at least half of what the question asks about (its content words, by stem or first
    five letters), and the question asks about something ("What will it take?" does not)."""
    asked = {stem(w) for w in re.findall(r"[^\W\d_]{3,}", q.casefold()) if w not in _QUESTION_WORDS and w not in STOPWORDS}
    if not asked:
        return False
    said = {stem(w) for w in re.findall(r"[^\W\d_]{2,}", answer.casefold())}
    hit = sum(1 for a in asked if a in said or (len(a) >= 5 and any(x.startswith(a[:5]) for x in said)))
    return 2 * hit >= len(asked)


# Two answers this alike (cosine of their terms) tell the reader the same thing twice.
SAME_ANSWER = 0.5
# An answer whose terms are this much inside a takeaway's (or a takeaway's inside the answer's) repeats it, word for
# word or nearly: the caption copy of the lede, the same sentence less "by YouGov".
REPEAT_SHARE = 0.8


def repeats(answer: str, takeaway: str, english: bool = True) -> bool:
    """The answer tells what the takeaway tells in (nearly) its words: most of the shorter one's terms are in the
    other (by stem; counted once each), or the one contains the other."""
    if takeaway in answer or answer in takeaway:
        return True
    a, t = set(terms(answer, english)), set(terms(takeaway, english))
    small = min(len(a), len(t))
    return small >= 4 and len(a & t) >= REPEAT_SHARE * small


_SHORT_ROLE = frozenset("""ceo cfo coo cto chief founder co-founder president chairman chairwoman chair director minister
secretary governor mayor manager coach captain editor spokesman spokeswoman spokesperson head leader owner senator
professor ambassador commissioner prosecutor judge""".split())  # noqa: SIM905


def informative_role(answer: str, name: str) -> bool:
    """A role answer worth a "Who is X?": it says of what or whose ("a professor of engineering at Texas",
    "Facebook's security chief"), or is three words or more ("a former federal MP"), or an office at a named body
    ("the Uber CEO"); not a bare "a host", "an actress", "the YouTube star"."""
    phrase = answer[len(name) + len(" is "):].rstrip(".")
    words = phrase.split()
    if words[:1] and words[0] in {"a", "an", "the"}:
        words = words[1:]
    if not words:
        return False
    if " of " in f" {phrase} " or re.search(r"['’]s\b", phrase) or len(words) >= 3:
        return True
    return words[-1].casefold() in _SHORT_ROLE and any(w[:1].isupper() and not w.isupper() for w in words[:-1])


def role_article(answer: str, name: str) -> str:
    """ "X is the former federal MP." → "X is a former federal MP.": "the" only for a role of one kind, at a named
    body or of something ("the Uber CEO", "the head of the agency")."""
    phrase = answer[len(name) + len(" is "):]
    if not phrase.startswith("the "):
        return answer
    rest = phrase[len("the "):]
    if " of " in f" {rest}" or any(w[:1].isupper() and not w.isupper() for w in rest.split()) or re.search(r"['’]s\b", rest):
        return answer
    return f"{name} is {'an' if rest[:1].casefold() in 'aeiou' else 'a'} {rest}"


# Fewer, better questions: an answer that repeats a takeaway (the reader sees the same sentence twice on the page)
# is a template question's answer only as an FAQ's one item.
MAX_REPEATS = 1


def faq(article: Article, spec: Spec, items: list[Unit], sim: object, takeaways: list[Unit],
        english: bool) -> list[QA]:
    """Up to spec.questions QA items; see the module docstring for where questions come from."""
    if not items:
        return []
    text = article.text
    # Words the article writes in lower case and never capitalises inside a sentence: common nouns.
    capitalised: set[str] = set()
    seen_lower: set[str] = set()  # "keyboard" is no name
    names: set[str] = set()
    mid_capitals = 0
    for u in items:
        seen_lower.update(_LOWER_WORD.findall(u.text))
        for w in _MID_CAPITAL.findall(u.text):
            names.add(_POSSESSIVE.sub("", w.casefold()))
            mid_capitals += "a" <= w[1:2] <= "z"
            if m := _CAPITALISED_WORD.match(w):
                capitalised.add(m.group(0).casefold())
    body_lower = seen_lower - capitalised
    # Some pages (and some datasets) are all lower case; then names cannot be told from words, and
    # questions about names would be wrong ("What did oscar do?"): only the event questions remain.
    names_ok = mid_capitals >= 0.3 * len(items)
    taken_evidence = {u.index for u in takeaways}

    def own(u: Unit) -> float:
        """A sentence's worth as an answer: its salience, less when it is already a takeaway or opens with
        a pronoun whose referent is in the sentence before ("He had been facing …", "In it, …")."""
        return (u.score - (TAKEN_PENALTY if u.index in taken_evidence else 0.0)
                - (DANGLING_PENALTY if DANGLING.match(u.text) else 0.0))
    candidates: list[tuple[float, int, str, tuple[str, str], str]] = []  # (priority, first unit, q, answer, kind)
    topic = lead_terms(article, items, english)
    shown_names: list[str] = []
    subjects = real_subjects(items, body_lower, topic, shown_names) if english and names_ok else []
    # Without a title (a wire story, a dataset row), the first sentence says what the article is about.
    title_terms = set(terms(article.title or (items[0].text if items else ""), english))
    # The main subjects: those the title names, and the most mentioned.
    main = [sub for sub in subjects if any(stem(w) in title_terms for w in sub)] + subjects[:MAIN_SUBJECTS]
    counts: Counter[str] = Counter()
    for u in items:
        counts.update(u.terms)

    # 1 and 2: headings (as they are when they ask, else through the rule table).
    first_in_section: dict[int, int] = {}
    for u in items:
        if u.section is not None and u.section not in first_in_section:
            first_in_section[u.section] = u.index
    for bi, block in enumerate(article.blocks):
        if block.kind != "heading" or bi not in first_in_section:
            continue
        if block.text.rstrip().endswith("?") and not english:
            q = block.text.strip()
        elif english:
            q = heading_question(block.text, names - seen_lower) or ""
            if not q:
                continue
        else:
            continue
        ans = _answer(items, first_in_section[bi], text)
        if ans and english and DANGLING.match(strip_lead(ans[0])):
            continue  # "It was the first …" under "Why This Matters": what "it" is was said before the heading
        if ans and english and not block.text.rstrip().endswith("?"):
            q = heading_question_for(block.text, ans[0], names - seen_lower) or ""  # a bare topic: only as its lead treats it
        if english and q and not asks_on_its_own(q):
            continue
        if ans and q:
            candidates.append((3.0, first_in_section[bi], q, ans, "heading"))

    # 1: sentences that ask, answered by what follows in the same section.
    for u in items:
        if not u.text.endswith("?") or u.index + 1 >= len(items):
            continue
        q = re.sub(r"^[\"'“‘]+|[\"'”’]+$", "", u.text).strip()
        q = re.sub(r"^(?:So|And|But|Now|Then),? ", "", q)
        q = q[:1].upper() + q[1:]
        nxt = items[u.index + 1]
        if nxt.section != u.section or nxt.text.endswith("?") or u.kind == "quote":
            continue
        if re.search(r"[\"“”]", q) or (english and (question_problems(q) or not asks_on_its_own(q))) or len(q.split()) < 4:
            continue
        if english and q.startswith(("What ", "Which ", "Who ")) and not asked_terms_answered(q, items[u.index + 1].text):
            continue  # "What are the world's safest airlines?" over a paragraph about air miles (why, how and when
            # are checked by what their answer must hold: a reason, a way, a time)
        if not english and (":" in q or u.index < 2):
            continue  # "Prof. Carlos: E agora …?" (a transcript line), an opening hook: no question a reader asks
            continue
        ans = _answer(items, u.index + 1, text)
        if ans:
            candidates.append((2.5, u.index + 1, q, ans, "asked"))

    # 3: template questions from the most salient sentences.
    if english:
        lower_names = set() if names_ok else names_in_lower_case(items)
        common_words = body_lower - lower_names
        proper = names | lower_names if names_ok else None
        # The 40 most salient sentences are plenty to find a handful of questions (and keep bulk runs fast).
        for u in sorted(items, key=lambda x: (-x.score, x.index))[:40]:
            sentence = DATELINE.sub("", u.text, count=1)  # "MADRID (AP) — Rafael Nadal kept …": the clause starts after it
            if lower_names:
                sentence = recase(sentence, lower_names)
            shown_subject: dict[str, str] = {}
            for q, kind in template_questions(sentence, common_words, names_ok, lower_names, proper, shown_subject):
                if not about_subject(q, kind, u.text, subjects, topic, english, shown_subject.get(q)):
                    continue
                if kind in {"plan", "will", "when", "act", "do", "doing"} and _UNNAMED_OBJECT.search(u.text):
                    continue  # "The Lakers plan to re-evaluate him": who "him" is was said in another sentence
                if kind in {"act", "count", "do"} and _FIRST_PERSON_WORD.search(u.text):
                    continue  # "Helen placed the paperback in my hands": a scene of the writer's story, not news
                whole = _whole_quote(items, u, text)
                if whole is None or (kind not in {"who", "what"} and len(whole[0].split()) < 8):
                    continue
                if kind not in {"who", "what"} and DANGLING.match(strip_lead(whole[0])):
                    continue  # "She alleges that … Ms Kunis confessed": the answer leans on a sentence not shown
                if kind not in {"who", "what"} and max(len(x.text.split()) for x in items[u.index:u.index + 1]) > MAX_ANSWER_WORDS:
                    continue  # a sentence this long is mostly captions run into it, or a reader's ordeal
                if kind == "find" and q.split()[3:4] and q.split()[3] in _RESEARCH_WORDS:
                    kind = "study"  # "What did the study find?" however it was found
                if kind == "say" and (about := speech_topic(u.text, question_subject(q) or frozenset(), shown_names,
                                                            title_terms, topic, counts)):
                    q, kind = f"{q[:-1]} about {about}?", "say_about"  # "What did Brown say about Nicola Sturgeon?"
                elif kind == "say" and _DESCRIBED.match(q):
                    continue  # "What did the young woman say?": a description, not a name, and no topic either
                if kind in _TOLD_KINDS and (d := _DESCRIBED_ROLE.match(q)) and d.group(1).casefold() in ROLE_SET:
                    continue  # "What did the oscar nominated actress reveal?": a person left unnamed
                ans = whole
                if kind in {"who", "what"}:
                    role = (who_answer(u.text, q[len("Who is "):-1], names, seen_lower) if kind == "who"
                            else org_answer(u.text, q[len("What is "):-1]))
                    if role is None:
                        continue
                    ans = (role, u.text)
                priority = 1.0 + own(u) - _KIND_PENALTY.get(kind, 0.0)
                if _ABOUT_A_THING.match(q):
                    priority -= 0.2  # about "counters" or "the figure": less telling than a question about a name
                candidates.append((priority, u.index, q, ans, kind))

    chosen: list[tuple[int, QA]] = []
    seen_q: set[str] = set()
    used_units: set[int] = set()
    kinds: dict[str, int] = {}
    people: list[tuple[frozenset[str], list[str]]] = []  # (name words, kinds asked about them)

    def _take(ui: int, q: str, answer: str, evidence: str, kind: str) -> bool:
        key = re.sub(r"\W+", " ", q.casefold()).strip()
        if key in seen_q or ui in used_units:
            return False
        if kind not in {"heading", "asked"} and kinds.get(kind, 0) >= (1 if kind == "study" else 2):
            return False
        subj = question_subject(q)
        # One person is one person under any of their names ("Wang Dongming", "Mr Wang", "Wang"): at most
        # two questions about them, and never two of one kind ("What did Fowler do?" after "What has Rickie Fowler done?").
        asked = next((k for words, k in people if subj and words & subj), None)
        if asked is not None and (len(asked) >= 2 or kind in asked):
            return False
        if any(cosine(terms(q, english), terms(other.question, english), ONES) > 0.8 for _, other in chosen):
            return False
        said = terms(answer, english)
        if kind not in {"who", "what"} and any(  # a role answer ("X is the Y striker") shares its words with any about X
                cosine(said, terms(other.answer, english), ONES) > SAME_ANSWER for _, other in chosen
                if not other.question.startswith(("Who is ", "What is "))):
            return False  # two questions answered by the same facts ("three suspects", "three persons of interest")
        seen_q.add(key)
        used_units.add(ui)
        kinds[kind] = kinds.get(kind, 0) + 1
        if asked is not None:
            asked.append(kind)
        elif subj:
            people.append((subj, [kind]))
        return True

    candidates = [c for c in candidates if not NO_COMMENT.search(c[3][0]) and not boilerplate(c[3][1])
                  and answers(c[2], c[3][0], c[4], english) and not _LIST_NUMBER.search(c[3][0])]
    # "Who is X?" is answered by the fullest role phrase the article gives X ("the founder and president of
    # Hanson Robotics" over "a chief designer"), asked at the best priority any of them has.
    fullest: dict[str, tuple[float, int, str, tuple[str, str], str]] = {}
    for c in candidates:
        if c[4] == "who" and (c[2] not in fullest or len(c[3][0]) > len(fullest[c[2]][3][0])):
            fullest[c[2]] = c
    best = {q: max(c[0] for c in candidates if c[2] == q) for q in fullest}
    candidates = [c for c in candidates if c[4] != "who"] + [(best[q], *c[1:]) for q, c in fullest.items()]
    ordered = sorted(candidates, key=lambda c: (-c[0], c[1], c[2]))
    # An answer that repeats a takeaway word for word is used only when too few others exist.
    fresh = [c for c in ordered if c[4] in {"who", "what"} or not any(repeats(c[3][0], t.text, english) for t in takeaways)]
    reused = [c for c in ordered if c not in fresh]
    weak = n_repeats = 0
    for pass_, pool in enumerate((fresh, reused, fresh, reused)):
        for _priority, ui, q, (answer, evidence), kind in pool:
            if len(chosen) >= spec.questions:
                break
            is_weak = kind in WEAK_KINDS
            if is_weak != (pass_ >= 2):
                continue  # the specific questions first, all of them; the generic ones only to fill
            if is_weak:
                subj = question_subject(q)
                shown = strip_lead(answer).split()
                opening = {w.strip(",.'’\"”").casefold() for w in shown[:4] + (shown[-6:] if kind == "say" else [])}
                if weak >= MAX_WEAK or chosen or not (subj and any(subj & m for m in main)) or not subj & opening:
                    continue  # and the answer is about them from its first words, not "…; United Airlines ranked …"
            if (pass_ % 2 and kind not in {"heading", "asked"} and (n_repeats >= MAX_REPEATS or any(
                    not c.question.startswith(("Who is ", "What is ")) for _, c in chosen))):
                continue  # the author's own sections may repeat a takeaway; a template question only beside role answers
            if kind == "who" and not (informative_role(answer, q[len("Who is "):-1])
                                      and (subj := question_subject(q)) and any(subj & m for m in main)):
                continue  # "Tom Bergeron is a host.", a vox-pop's role: only a main subject, by a role that tells something
            if not _take(ui, q, answer, evidence, kind):
                continue
            weak += is_weak
            n_repeats += pass_ % 2
            if kind == "who":
                answer = role_article(answer, q[len("Who is "):-1])
            chosen.append((ui, QA(question=q, answer=strip_lead(answer), evidence=evidence)))
    chosen.sort(key=lambda c: c[0])
    return [qa for _, qa in chosen]
