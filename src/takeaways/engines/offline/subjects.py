"""What the article is about: its names, its real subjects, and whether a question is about one of them."""

from __future__ import annotations

import re
from collections import Counter

from ...models import Article
from .templates import NOT_NAME_START, ROLE_SET, TIME_WORDS, TITLE_WORDS, question_subject
from .text import STOPWORDS, Unit, stem, terms

_SPEAKER = re.compile(r"\b(?:said|says|added|insisted) (?:mr |mrs |ms |dr )?([a-z][a-z'’-]{2,})(?=[,.])"
                      r"|\b(?:[Mm]r|[Mm]rs|[Mm]s|[Dd]r)\.? ([a-z][a-z'’-]{2,})")


def names_in_lower_case(items: list[Unit]) -> set[str]:
    """Names in an all-lower-case text: a word after "said" or "Mr" that also opens a sentence ("Rose believes …")."""
    found = {m.group(1) or m.group(2) for u in items for m in _SPEAKER.finditer(u.text)}
    openers = {u.text.split(" ", 1)[0] for u in items if u.text[:1].isupper()}
    openers |= {u.text.split(" ", 2)[1] for u in items if u.text[:1].isupper() and u.text.count(" ") >= 2}
    return {w for w in found if w not in STOPWORDS and (w.capitalize() in openers or w in openers)}


def recase(sentence: str, lower_names: set[str]) -> str:
    """Capitalise the known names of a lower-case sentence (the question shows them as names)."""
    return re.sub(r"\b[a-z][a-z'’-]{2,}\b", lambda m: m.group(0).capitalize() if m.group(0) in lower_names else m.group(0),
                  sentence)


_ENTITY = re.compile(r"(?<![\w'’-])(?:[A-Z][\w'’.-]*[a-z0-9][\w'’-]*(?: (?:of |de |the )?[A-Z][\w'’-]*[\w])*"
                     r"|[A-Z]{2,6}(?![\w'’-]))")  # "NASA", "WeWork", "Rickie Fowler", "the Bank of England"
_CONTRACTION = re.compile(r"['’](?:m|re|ve|ll|d)\b")
_DEMONYM = ("ish", "ese", "ian", "ean", "ern", "ic")


def _entity_words(raw: str, common: set[str]) -> list[str] | None:
    """The words of the name in an entity match, or None when no name is left."""
    name = raw.rstrip(".")
    if name.endswith(("'s", "’s")):
        name = name[:-2]
    words = name.split()
    cut = next((i for i, w in enumerate(words) if i and w in NOT_NAME_START), len(words))
    words = words[:cut]  # "the Masters. The Scot …" ran two names together
    while words and (words[0] in NOT_NAME_START or words[0] in TITLE_WORDS
                     or (len(words) > 1 and words[0].casefold() in common)):
        words = words[1:]  # "Substitute Rodrigo De Paul", "Dad Phil": a common word before the name
    if not words or words[-1] in NOT_NAME_START or words[-1] in {"of", "de", "the", "and"}:
        return None
    if words[-1].endswith(_DEMONYM) or (len(words) == 1 and len(words[0]) < 3) or any(w in TIME_WORDS for w in words):
        return None  # "the Saudi Arabian", "Easter Monday"
    if " ".join(words) in _SOURCES:
        return None
    return words


def key_entities(items: list[Unit], body_lower: set[str] | None = None,
                 mentions: dict[str, int] | None = None) -> list[str]:
    """Proper names the article mentions at least twice (a surname counts for the full name), most frequent first.

    A name usually written after "the" comes back with it ("the Grand National"); a capitalised word
    at the start of a sentence that the article also writes in lower case is not a name ("Footage").
    """
    body_lower = body_lower or set()
    common = body_lower | ROLE_SET
    seen: dict[str, list[str] | None] = {}  # a name comes back many times: its words are worked out once
    counts: dict[str, int] = {}
    first: dict[str, int] = {}
    the: dict[str, int] = {}
    openers: list[str] = []
    for u in items:
        for m in _ENTITY.finditer(u.text):
            if m.start() == 0 and " " not in m.group(0):
                openers.append(m.group(0))  # "Footage shows …": counts only as the short form of a name seen whole
                continue
            if u.text[m.end():m.end() + 1] == ":" or _CONTRACTION.search(m.group(0)):
                continue  # "Daughter: …" is a caption label; "I'm" no name
            raw = m.group(0)
            if raw not in seen:
                seen[raw] = _entity_words(raw, common)
            words = seen[raw]
            if words is None:
                continue
            name = " ".join(words)
            counts[name] = counts.get(name, 0) + 1
            if u.text[max(0, m.start() - 4):m.start()] in {"the ", "The "} and words == m.group(0).split():
                the[name] = the.get(name, 0) + 1
            first.setdefault(name, u.index)
    surnames = {n.split()[-1] for n in counts if " " in n}
    for w in openers:
        if w in surnames or w in counts:
            counts[w] = counts.get(w, 0) + 1
            first.setdefault(w, len(items))
    merged: dict[str, int] = {}
    for name, c in counts.items():
        if " " in name:
            merged[name] = merged.get(name, 0) + c
    multi = list(merged)
    ends: dict[str, set[str]] = {}  # a word -> the full names it starts or ends
    for n in multi:
        words = n.split()
        ends.setdefault(words[0], set()).add(n)
        ends.setdefault(words[-1], set()).add(n)
    for name, c in counts.items():
        if " " not in name:
            holders = ends.get(name)
            full = [n for n in multi if n in holders] if holders else []
            if full:
                best = max(full, key=lambda n: (merged[n], -first[n]))
                merged[best] += c
            else:
                merged[name] = merged.get(name, 0) + c
    ranked = sorted((n for n, c in merged.items() if c >= 2), key=lambda n: (-merged[n], first[n], n))
    out: list[str] = []
    for n in ranked:
        if not any(n in o or o in n for o in out):
            out.append(n)
    named = [f"the {n}" if 2 * the.get(n, 0) >= counts.get(n, 1) else n for n in out]
    if mentions is not None:
        mentions.update({shown: merged[n] for shown, n in zip(named, out, strict=True)})
    return named


# Bylines and wire services are named on every story but are not what it is about.
_SOURCES = {"Reuters", "AP", "AFP", "CNN", "BBC", "Associated Press", "Press Association", "PA", "Getty Images",
            "Getty", "Daily Mail", "MailOnline", "Sportsmail", "Bloomberg", "UPI", "dpa", "EFE", "Xinhua"}


LEAD_SENTENCES = 5


def lead_terms(article: Article, items: list[Unit], english: bool) -> set[str]:
    """Terms of the title and the lead (its first sentences): what the article is about."""
    text = " ".join([article.title or ""] + [u.text for u in items[:LEAD_SENTENCES]])
    return set(terms(text, english))


def real_subjects(items: list[Unit], body_lower: set[str], topic: set[str],
                  shown: list[str] | None = None) -> list[frozenset[str]]:
    """The name words of the people and organisations the article is about: named in at least two of its
    sentences (captions are not sentences) and in the title or the lead, or named three times or more.
    `shown` receives each one's name as the article writes it, in the same order."""
    out = []
    mentions: dict[str, int] = {}
    for name in key_entities(items, body_lower, mentions):
        words = [w for w in name.split() if w not in {"the", "of", "de"}]
        if mentions[name] >= 3 or any(stem(w.casefold()) in topic for w in words):
            out.append(frozenset(w.casefold() for w in words))
            if shown is not None:
                shown.append(name)
    return out


# --- what a speaker spoke about ---------------------------------------------------------------------

_SPEECH_VERB = re.compile(r"\b(?:said|says|told|added|explained|noted|stated|wrote|insisted|warned|argued|replied)\b")
EARLY_WORDS = 12
_TOPIC_AFTER = r"(?=(?P<after>[,.;:!?'\"”’)]| [\w'’-]+|$))"
_TOPIC_WORDS = (  # "the rent", and "the first lanes" (its head word: "the lanes")
    re.compile(rf"\b(?P<before>the|its|their|his|her|of|on|about|over|for|against|to) (?P<word>[a-z][a-z-]{{3,}}){_TOPIC_AFTER}"),
    re.compile(rf"\b(?P<before>the|its|their|his|her) [a-z][\w-]+ (?P<word>[a-z][a-z-]{{3,}}){_TOPIC_AFTER}"))
_LISTENER = re.compile(r"\b(?:told|to|tells|with|in an interview with)(?: the)? $")
_PLACE_PREFIX = frozenset({"New", "North", "South", "East", "West", "San", "Santa", "Los", "Las", "St", "Saint", "Fort",
                           "Port", "Mount", "Lake", "Upper", "Lower", "Great", "Greater", "Central", "United"})
_CAPITALISED_BEFORE = re.compile(r"[A-Z][\w'’-]* $")
_VAGUE = frozenset("""issue issues matter matters thing things way ways time times moment day days year years point fact
idea situation world people end news part lot kind sort number case rest side place week weeks month months
something everything nothing anything someone everyone team company state country city government""".split())  # noqa: SIM905
_NOT_NOUN_END = ("ly", "ing", "ed", "ous", "ive", "ful", "able", "ible", "less", "est")


def speech_topic(sentence: str, speaker: frozenset[str], names: list[str], title: set[str], topic: set[str],
                 counts: Counter[str] | None = None) -> str | None:
    """What a speaker spoke about, for "What did X say about …?": in the words spoken (after "said" or inside
    the quotation), a thing the title names ("the rent", "settlements"), else another of the article's real
    subjects ("Nicola Sturgeon"), else a thing the lead names that the article comes back to (`counts`: its
    terms' counts; three mentions or more). None when the words name none of them."""
    m = _SPEECH_VERB.search(sentence)
    if m is None:
        return None
    after = sentence[m.end():]
    if m.group(0) == "told":  # "told some of his friends that …": who was told is not what was said
        listener = re.match(r" (?:[\w'’.-]+ ){0,5}?(?:that\b|(?=[,:]))|(?: (?:the|a|an|his|her|their|its))?(?: [A-Z][\w'’.-]*)+"
                            r"|(?: (?:the|a|an|his|her|their|its|some of (?:the|his|her|their)))? [\w'’.-]+", after)
        after = " " * (listener.end() if listener else 0) + after[listener.end() if listener else 0:]
    quoted_first = (sentence[:1] in "\"“‘'" or sentence[:m.start()].rstrip().endswith(("”", '"', "’", "'"))
                    or bool(re.match(r" (?:[A-Z][\w'’.-]* ?){1,3}", after) and speaker
                            & {w.casefold() for w in re.findall(r"[A-Z][\w'’-]*", after[:40])}))  # "…, said Rassol Omar, a …"
    spoken = after if len(after.split()) >= 4 and not quoted_first else sentence[:m.start()]
    offset = m.end() if spoken is after else 0
    found: list[tuple[int, int, str]] = []  # (rank, order, topic as the question shows it)
    for t in (t for rx in _TOPIC_WORDS for t in rx.finditer(spoken)):
        word, before, nxt = t.group("word"), t.group("before"), t.group("after")
        if word in STOPWORDS or word in _VAGUE or word.endswith(_NOT_NOUN_END):
            continue
        if nxt.startswith(" ") and nxt[1:].casefold() not in STOPWORDS:
            continue  # "the tow truck company": only a word that ends its phrase is surely its head noun
        plural = word.endswith("s") and not word.endswith(("ss", "us", "is"))
        if before not in {"the", "its", "their", "his", "her"} and not plural:
            continue  # "running for president": a bare singular after a preposition is no thing spoken about
        st = stem(word)
        early = len(spoken[:t.start()].split()) < EARLY_WORDS  # the clause's own topic, not a word at its tail
        rank = 0 if st in title else 2 if st in topic and early and (counts is None or counts[st] >= 3) else None
        if rank is None:
            continue
        shown = word if plural and before not in {"the", "its", "their", "his", "her"} else f"the {word}"
        found.append((rank, len(found), shown))
    for name in names:
        words = [w for w in name.split() if w not in {"the", "of", "de"}]
        if {w.casefold() for w in words} & speaker:
            continue
        bare = name.removeprefix("the ")
        # The whole name, or its last word alone ("Sturgeon"), not after another first name ("Jamie Silvonek" is
        # not "Cheryl Silvonek"), and not as a modifier ("the Reclaim Australia rally", "SNP leader …").
        at = re.search(rf"\b{re.escape(bare if bare in spoken else words[-1])}\b", spoken)
        if at is None or (bare not in spoken and (len(words) == 1 or words[0] in _PLACE_PREFIX
                                                  or _CAPITALISED_BEFORE.search(spoken, 0, at.start())
                                                  or sum(n.split()[-1] == words[-1] for n in names) > 1)):
            continue  # "Ford" alone, when the article names Mike Ford and Dale Ford: which one is not known
        nxt = re.match(r" ([a-z][\w-]*)", spoken[at.end():])
        if (nxt and nxt.group(1) not in STOPWORDS and not nxt.group(1).endswith("ed")) or _LISTENER.search(
                sentence, 0, offset + at.start()):
            continue  # "told Guardian Australia": who was spoken to is not what was spoken about
        if not name.startswith("the ") and re.search(rf"\bthe {re.escape(at.group(0))}", spoken, re.I):
            name = "the " + name  # "helping the Steelers"
        found.append((1, -len(words), name))
    return min(found)[2] if found else None


# Real speech: a quotation, a reported clause ("said that", "told reporters the …"), a colon before the words,
# or the attribution after them (", Claure said in the email.").
_REAL_SPEECH = re.compile(r"[\"“”]|(?:^|\s)['‘]\w|\w['’](?:\s|$)|\b(?:said|says|told|explained|added|noted|stated|wrote|"
                          r"insisted|warned|argued)\b(?: [\w ]{0,30}?)? (?:that|how|why|what|whether)\b|\b(?:said|says|added|"
                          r"explained|wrote|stated|told [\w ]{2,30}):|\b(?:said|says|added|explained|wrote|noted)"
                          r"(?: [\w ,]{0,40})?[.!]$")
_FINDERS = frozenset({"researchers", "scientists", "experts", "investigators", "analysts", "study", "studies",
                      "survey", "report", "review", "inquiry", "investigation", "poll", "research", "analysis", "paper",
                      "trial", "experiment", "audit", "census"})
# Verbs that say what they report by themselves ("Pellegrini has admitted City have let their season go"):
# unlike "added" (a goal) or "claimed" (a title), no quotation or "that" is needed to know it is speech.
_OWN_VERBS = frozenset({"announce", "urge", "promise", "warn", "admit", "deny", "confirm", "reveal"})
_SPEECH_KINDS = {"say", "claim", "warn", "admit", "deny", "confirm", "urge", "promise", "reveal", "announce"}


def about_subject(q: str, kind: str, sentence: str, subjects: list[frozenset[str]], topic: set[str],
                  english: bool = True, subject: str | None = None) -> bool:
    """A template question is kept only about what the article is about: a real subject (see
    `real_subjects`), or a thing ("the campaign") the title or lead names; a speech question only
    over real speech."""
    if kind == "study":  # "What did the study find?": only when the title or the lead is about the study
        return stem(q.split()[3]) in topic
    if (kind in _SPEECH_KINDS and kind not in _OWN_VERBS and not _REAL_SPEECH.search(sentence)
            and not (kind == "say" and re.search(r"\b(?:said|says|told)\b", sentence))):
        return False  # "The striker added a second goal": a verb taken for speech
    subj = question_subject(q) if subject is None else frozenset(
        w.casefold() for w in subject.split() if w.casefold() not in {"the", "a", "an", "of", "de", "and", "for", "&"})
    if subj is None:
        m = re.match(r"^(?:What|How much|When|Why) \w+ (?:the |a |an )?(.+?) (?:\w+)(?: \w+)?\?$", q)
        subj = frozenset(w.casefold() for w in m.group(1).split()) if m else None
    if not subj:
        return False
    named = [w.casefold() for w in re.findall(r"[\w'’-]+", q)[1:] if w[:1].isupper() and w.casefold() in subj]
    if named and any(named[-1] in s for s in subjects):
        return True  # by a name the question writes as a name ("the general" is not General Ortiz), ending as the
        # subject's does ("Sam Stringer" is not Sam Brownback)
    if kind in {"find", "warn"} and subj & _FINDERS:
        return True  # "What did researchers find?": what a study found is the point of a report on it
    if kind in {"happened", "do", "doing", "will", "act"}:
        return False  # "What happened to the video?": about a thing, these ask nothing a reader wants
    lowered = [w for w in re.findall(r"[\w'’-]+", q) if w.casefold() in subj and w.casefold() not in STOPWORDS]
    # A thing or a group ("the campaign", "researchers"): only when the title or lead names it and it is no name.
    return bool(lowered) and stem(lowered[-1].casefold()) in topic and not _is_name(q, subj)


def _is_name(q: str, subj: frozenset[str]) -> bool:
    """The question's subject is written with capitals in the question (a name, not a thing)."""
    return any(w.casefold() in subj and w[:1].isupper() for w in q.split()[1:])
