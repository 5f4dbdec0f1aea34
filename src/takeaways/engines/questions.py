"""FAQ for the extractive engine: questions the article answers, each answered by 1-2 of its sentences.

Three sources, in this order of trust:

1. the article's own questions: headings and sentences ending in "?" that open with a wh-word,
   answered by what follows them;
2. headings turned into questions (`heading_question`, a small rule table: "Why This Matters" →
   "Why does this matter?"), answered by the section's lead;
3. template questions about who and what the article names (`template_questions`), formed from a
   sentence whose shape makes the question certain: "<Name> said …" → "What did <Name> say?",
   "<Name>, 54, was charged with …" → "What was <Name> charged with?", "<Name> (was) born in 1950"
   → "When was <Name> born?", "<Name> paid $5m" → "How much did <Name> pay?", and so on.

A question is emitted only when `question_problems()` finds nothing wrong with it (ends with one
"?", opens with a wh-word, is not yes/no, is neither too short nor too long, has balanced quotes);
a skipped question is better than a bad one.
"""

from __future__ import annotations

import re

from ..models import QA, Article, Spec
from .extractive import _DANGLING, _DATELINE, _NO_COMMENT, STOPWORDS, Unit, cosine, open_quote, stem, strip_lead, terms

WH = ("What", "Who", "When", "Where", "Why", "How", "Which", "Whose", "Whom")
_YES_NO = re.compile(r"^(is|are|was|were|do|does|did|can|could|will|would|should|shall|has|have|had|may|might|must"
                     r"|isn't|aren't|wasn't|don't|doesn't|didn't|can't|won't)\b", re.I)
_PRONOUN_SUBJECT = re.compile(r"\b(?:did|does|do|is|was|were|are|has|have|will) (?:he|she|they|him|her|them|this one)\b"
                              r"|\b(?:he|she|him|her|they|them|his|their)\b", re.I)
MAX_Q_WORDS = 22


_HEAD_PREPOSITIONS = {"of", "about", "for", "in", "on", "with", "to", "from", "at", "over", "under", "behind",
                      "against", "between", "after", "before", "during", "into", "across", "around",
                      "beyond", "inside", "near", "since", "through", "toward", "towards", "within", "without"}


def question_problems(q: str, english: bool = True) -> list[str]:
    """What is wrong with a question; [] when it is well formed."""
    problems = []
    if not q.endswith("?"):
        problems.append("does not end with '?'")
    if q.count("?") != 1:
        problems.append("more than one '?'")
    words = q.split()
    if english:
        if not words or (words[0].rstrip(",") not in WH and not re.match(r"^(In|For|From|With|To|At|On|By|Of|Under|After|Before) (what|which|whom|how)\b", q)):
            problems.append("does not open with a wh-word")
        if _YES_NO.match(q):
            problems.append("yes/no question")
        if _PRONOUN_SUBJECT.search(q):
            problems.append("a bare pronoun as subject")
        if not 2 <= len(words) <= MAX_Q_WORDS:
            problems.append("too short or too long")
    elif not 1 <= len(q) <= 200:
        problems.append("too short or too long")
    for a, b in ("()", "[]", "“”"):
        if q.count(a) != q.count(b):
            problems.append("unbalanced brackets or quotes")
    if q.count('"') % 2:
        problems.append("unbalanced brackets or quotes")
    if re.search(r"\s[,;:]|[,;:]\?|\s\?|\s{2}", q):
        problems.append("stray punctuation or spaces")
    return problems


# --- headings → questions -------------------------------------------------------------------------

_SKIP_HEADINGS = re.compile(
    r"^(conclusions?|summary|introduction|intro|overview|final thoughts|in conclusion|(the )?bottom line|comments?"
    r"|references|sources|notes?|about( the author| us)?|share( this)?|related.*|tl;?dr|updates?|editor'?s note"
    r"|disclaimer|faqs?|key takeaways|takeaways|contents|table of contents|methodology|acknowledg(e)?ments"
    r"|subscribe.*|sign up.*|follow us.*|advertisement|photos?|video|gallery|read more|more"
    r"|(?:most )?popular(?: (?:on|in|at|now|stories|posts|articles)\b.*)?|trending.*|most (?:read|viewed|shared).*"
    r"|recommended.*|you (?:may|might) also like.*|more (?:from|on|stories|news)\b.*|latest (?:news|stories|posts)"
    r"|(?:top|related) (?:stories|posts|articles|reads))$", re.I)
_COLLECTION = {"portfolio", "lineup", "line-up", "range", "list", "package", "bill", "deal", "agreement", "proposal",
               "budget", "roadmap", "toolkit", "menu", "agenda", "catalogue", "catalog", "collection", "bundle",
               "kit", "box", "pipeline", "line", "stack", "suite", "library"}
_IRREGULAR_PLURAL = {"people", "children", "men", "women", "data", "media", "criteria", "police", "pros", "cons"}
_NOT_PLURAL = ("ss", "us", "is", "news", "'s", "’s")
_FUNCTION = {"a", "an", "the", "of", "and", "or", "for", "in", "on", "to", "with", "at", "by", "from", "vs", "versus",
             "about", "its", "their", "our", "your", "new", "key", "main", "big", "first", "next", "latest",
             "it", "this", "that", "these", "those", "we", "you", "they", "is", "are", "was", "were", "be"}
_VERBISH = re.compile(r"['’](?:s|re|ve|ll|d|m)\b(?<!\w['’]s)|n['’]t\b|\b(?:there|it|here|that|what|who)['’]s\b|"
                      r"\b(is|are|was|were|will|can|could|would|should|has|have|had|does|do|did|gets?|makes?|"
                      r"takes?|goes|comes?|says?|said|wins?|won|beats?|hits?|launch(es)?|sets?|becomes?|shows?)\b", re.I)
_GERUND_NOUNS = {"pricing", "funding", "training", "marketing", "housing", "spending", "testing", "licensing",
                 "shipping", "timing", "earnings", "findings", "savings", "warnings", "ratings", "rankings",
                 "meeting", "building", "financing", "staffing", "lending", "polling", "trading", "hiring",
                 "sentencing", "casting", "filming", "recycling", "parking", "reporting", "offering", "offerings"}

# (pattern on the heading, question template); groups are inserted as they are (case kept).
_HEADING_RULES: list[tuple[re.Pattern[str], str]] = [(re.compile(p, re.I), t) for p, t in [
    (r"why (this|it|that) matters?", "Why does {0} matter?"),
    (r"why (.{2,60}?) matters", "Why does {0} matter?"),
    (r"why (.{2,60}?) matter", "Why do {0} matter?"),
    (r"what (?:we|you) (?:know|have learned|learned)(?: so far)?(?: about (.{2,60}))?", "What do we know{0: about }?"),
    (r"what (?:we|you) (?:don'?t|do not) know(?: (?:yet|so far))?(?: about (.{2,60}))?", "What don't we know{0: about }?"),
    (r"what (?:it|this|that) means(?: for (.{2,60}))?", "What does it mean{0: for }?"),
    (r"what (.{2,60}?) means for (.{2,60})", "What does {0} mean for {1}?"),
    (r"what happens next|what'?s next|what comes next|next steps", "What happens next?"),
    (r"what (?:happened|went wrong)", "{H}?"),
    (r"how (it|this|that) works?", "How does {0} work?"),
    (r"how (.{2,60}?) works", "How does {0} work?"),
    (r"how (.{2,60}?) work", "How do {0} work?"),
    (r"how to (.{2,60})", "How do you {0}?"),
    (r"where to (.{2,60})", "Where can you {0}?"),
    (r"when to (.{2,60})", "When should you {0}?"),
    (r"what to expect(?: from (.{2,60}))?", "What can you expect{0: from }?"),
    (r"what to (.{2,60})", "What should you {0}?"),
    (r"(?:looking ahead|the road ahead|(?:the )?outlook|what lies ahead)", "What lies ahead?"),
    (r"(?:the )?background", "What is the background?"),
    (r"(?:the )?(?:big|bigger) picture", "What is the bigger picture?"),
    (r"(?:the )?pros and cons", "What are the pros and cons?"),
    (r"(?:the )?advantages and disadvantages", "What are the advantages and disadvantages?"),
    (r"who (?:is|are|was|were) (.{2,60})", "{H}?"),
    # A direct question without its "?" ("What Is DeepSeek"); "How Huawei Caught Up" is not one.
    (r"(?:what|how|why|where|when|which|who) (?:is|are|was|were|do|does|did|can|could|will|would|should|has|have)"
     r" .{2,80}", "{H}?"),
]]


def _case(word: str, names: set[str] | None) -> str:
    """Lower-case a title-cased heading word unless it is a name.

    `names`: the words the article capitalises inside sentences (casefolded), i.e. its names;
    None when unknown, and then only function words are lowered ("This", "Of").
    """
    low = word.casefold()
    bare = re.sub(r"['’]s$", "", low)
    if (word[:1].isupper() and word[1:].islower() and not word.endswith(".")  # "Dr." stays
            and (low in _FUNCTION or (names is not None and bare not in names))):
        return low
    return word


def _phrase(text: str, names: set[str] | None) -> str:
    return " ".join(_case(w, names) for w in text.split())


def heading_question(heading: str, names: set[str] | None = None) -> str | None:
    """A heading as a natural question, or None when no rule gives a good one.

    `names` (casefolded words the article capitalises mid-sentence) keeps names capitalised and
    lowers the rest of a title-cased heading: "The Huawei AI Chip Portfolio" → "What is in the
    Huawei AI chip portfolio?".
    """
    h = re.sub(r"^\s*(?:\d{1,2}[.):]|[IVX]{1,4}\.|Step \d+:?|Part \d+:?|Chapter \d+:?)\s*", "", heading)
    h = re.sub(r"\s+", " ", h).strip(" :.-–—")
    if not h or _SKIP_HEADINGS.match(h) or len(h.split()) > 12:
        return None
    if h.isupper() and len(h.split()) > 1:
        return None  # "HOW TO USE A WATER BATH CANNER": which words are names cannot be known
    if h.endswith("?"):  # the author's own question, in sentence case ("How Will the City …?")
        q = _phrase(h, names)
        q = q[0].upper() + q[1:]
        return q if not question_problems(q) else None
    for rx, template in _HEADING_RULES:
        m = rx.fullmatch(h)
        if not m:
            continue
        out = template
        if "{H}" in out:
            out = out.replace("{H}", _phrase(h, names))
        for i, g in enumerate(m.groups()):
            slot = re.search(rf"\{{{i}(?::([^}}]*))?\}}", out)
            if not slot:
                continue
            prefix = slot.group(1)
            value = "" if g is None else ((prefix or "") + _phrase(g, names))
            out = out[: slot.start()] + value + out[slot.end():]
        q = out[0].upper() + out[1:]
        return q if not question_problems(q) else None
    return _noun_phrase_question(h, names)


def _noun_phrase_question(h: str, names: set[str] | None) -> str | None:
    words = h.split()
    if len(words) > 7 or _VERBISH.search(h) or re.search(r"[!\"“”:;,]|\d", h):
        return None
    first = words[0].casefold()
    if first.endswith("ing") and (first not in _GERUND_NOUNS or (len(words) > 1 and words[1].casefold() in
                                  {"the", "a", "an", "our", "your", "its", "their", "his", "her", "this", "that"})):
        return None  # "Looking Beyond Chips", "Testing the Silicon": verb phrases
    if h.isupper() and len(words) > 1:
        return None  # "GIRLS BASKETBALL": the case of its words cannot be known
    if first in {"in", "on", "at", "for", "from", "with", "to", "by", "about", "after", "before", "beyond",
                 "inside", "behind", "under", "over", "into", "against", "between", "during", "as", "and", "or",
                 "not", "no", "more", "less", "why", "what", "how", "time", "ready", "enough"}:
        return None
    had_article = first in {"the", "a", "an"}
    if had_article:
        words = words[1:]
        if not words:
            return None
    cased = [_case(w, names) for w in words]
    # The head noun stands before the first preposition: "Concerns About Staffing" → "concerns".
    lowered = [w.casefold() for w in words]
    cut = next((i for i, w in enumerate(lowered) if i > 0 and w in _HEAD_PREPOSITIONS), len(words))
    head = lowered[cut - 1]
    possessive = cased[0].endswith(("'s", "’s"))
    proper = all(w[:1].isupper() for w in cased)
    np = " ".join(cased)
    det = "" if possessive or (proper and not had_article) else "the "
    if any(w.casefold() in {"and", "&"} for w in words):
        q = f"What do we know about {det}{np}?"  # "Power and Performance": neither "is" nor "are" reads well
    elif head in _COLLECTION:
        q = f"What is in {det}{np}?"
    elif head in _IRREGULAR_PLURAL or (head.endswith("s") and not head.endswith(_NOT_PLURAL) and len(head) > 3):
        q = f"What are {det}{np}?"
    else:
        q = f"What is {det}{np}?"
    return q if not question_problems(q) else None


# --- template questions about what the article names ----------------------------------------------

_NAME = r"(?:[A-Z][\w'’.-]*(?:-[A-Z][\w'’-]*)?)(?: (?:[A-Z][\w'’.-]+|of|de|van|von|al|bin|da|la|le|the))*?(?: [A-Z][\w'’.-]+)?"
_NOT_NAME_START = {
    "The", "A", "An", "In", "On", "At", "But", "And", "So", "Yet", "If", "When", "While", "After", "Before", "As", "It",
    "He", "She", "They", "We", "I", "You", "This", "That", "These", "Those", "There", "Here", "Then", "Now", "His",
    "Her", "Their", "Its", "Our", "My", "Your", "Some", "Many", "Most", "All", "One", "Two", "Three", "According",
    "However", "Meanwhile", "Also", "Still", "For", "From", "With", "By", "To", "Of", "Last", "Earlier", "Later",
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "January", "February", "March",
    "April", "May", "June", "July", "August", "September", "October", "November", "December", "Yesterday",
    "Today", "Tomorrow", "Speaking", "Despite", "Although", "Though", "Since", "Because", "Under", "During", "Why",
    "What", "How", "Who", "Where", "Which", "Mr", "Mrs", "Ms", "Dr", "Scroll", "Pictured", "Daily", "Mail",
    "PUBLISHED", "UPDATED", "Photo", "Video", "Image", "Click", "Read", "Follow", "Share", "Sign",
    "Not", "No", "Nor", "Neither", "Even", "Just", "Only", "Every", "Each", "Such", "Other", "Another", "Both",
    "Either", "Few", "More", "Less", "Much", "Several", "Like", "Unlike", "Until", "Unless", "Whether", "Once",
}
_TITLE = r"(?:(?:Mr|Mrs|Ms|Dr|Prof|Sir|Dame|Lord|Lady|President|Prime Minister|Senator|Sen\.|Rep\.|Gov\.|Judge|Chancellor|Minister|Secretary|Chief|Coach|Captain|Officer|Detective|Sergeant|Pope|King|Queen|Prince|Princess)\.? )?"
_CLAUSE_START = re.compile(r"(?:^|(?<=[.;:] )|(?<=, )|(?<=[,.!?]['’\"”] ))(?=[A-Za-z])")
_NAME_AT = re.compile(rf"{_TITLE}{_NAME}")
_DET_NP = re.compile(r"(?:[Tt]he|A|An|[Pp]olice|[Oo]fficials)((?: [a-z0-9][\w'’-]*){0,5})")
_APPOS = re.compile(r",(?: (?:aged )?\d{1,3},| (?:who|which|whose) [^,]{3,60},| [a-z][^,]{2,50},)")


def _subjects(sentence: str) -> list[tuple[int, str, int]]:
    """(start, subject, where the verb should begin) at each clause start.

    A name is taken whole; a determiner phrase ("the sports brand") in every length, shortest
    first, since which word is the verb is only known when a verb template matches after it.
    An appositive after the subject (", 54," / ", who …,") is skipped.
    """
    out: list[tuple[int, str, int]] = []
    for cs in _CLAUSE_START.finditer(sentence):
        pos = cs.start()
        spans: list[int] = []
        dm = _DET_NP.match(sentence, pos)
        if dm and sentence[max(0, pos - 2):pos] == ", " and dm.group(0).split()[0] in {"the", "a", "an"}:
            dm = None  # ", the largest project the city has approved": an appositive, not a clause
        if dm:
            det_end = dm.start(1)
            if dm.group(0).split()[0].casefold() in {"police", "officials"}:
                spans.append(det_end)
            spans += [det_end + m.end() for m in re.finditer(r" [a-z0-9][\w'’-]*", dm.group(1))]
        nm = _NAME_AT.match(sentence, pos)
        if nm and nm.group(0) not in {"The", "A", "An"}:
            spans.append(nm.end())
        for end in spans:
            after = end
            am = _APPOS.match(sentence, after)
            if am:
                after = am.end()
            if sentence[after:after + 1] == " ":
                out.append((pos, sentence[pos:end], after + 1))
    return out

# verb (as it follows the subject) → question template; {S} is the subject; the rest of the sentence is the answer.
_VERB_TEMPLATES: list[tuple[re.Pattern[str], str, str]] = [(re.compile(p), t, kind) for p, t, kind in [
    (r"(?:has |had )?said|says|concluded|noted|stated|wrote|tweeted|recalled|joked|replied|told (?:[\w ]{2,30}?)(?= that|[,:] ['\"‘“])|added|explained|insisted", "What did {S} say?", "say"),
    (r"(?:has |had )?claimed|claims|alleged|alleges", "What does {S} claim?", "claim"),
    (r"(?:has |had )?announced|announces", "What did {S} announce?", "announce"),
    (r"(?:has |had )?revealed|reveals", "What did {S} reveal?", "reveal"),
    (r"(?:has |had )?warned|warns", "What did {S} warn about?", "warn"),
    (r"(?:has |had )?admitted|admits", "What did {S} admit?", "admit"),
    (r"(?:has |had )?denied|denies", "What did {S} deny?", "deny"),
    (r"(?:has |had )?found|finds", "What did {S} find?", "find"),
    (r"(?:has |had )?confirmed|confirms", "What did {S} confirm?", "confirm"),
    (r"(?:has |had )?urged|urges", "What did {S} urge?", "urge"),
    (r"(?:has |had )?promised|promises|vowed|vows|pledged", "What did {S} promise?", "promise"),
    (r"(?:has |had )?launched|launches|unveiled|unveils", "What did {S} launch?", "launch"),
    (r"(?:has |had )?agreed to", "What did {S} agree to?", "agree"),
    (r"(?:is|was|are|were|has been|have been|had been) (?:charged with|accused of|arrested for|convicted of|jailed for|found guilty of|sentenced to|suing|sued for|banned from)",
     "{Q}", "legal"),
    (r"(?:was|were) (?:born|founded|established|launched|released|opened|built|created|elected|appointed|married|diagnosed|killed|arrested|discovered) (?=in \d{4}|on [A-Z]|in [A-Z][a-z]+ \d{4}|last |this |\d)",
     "When was {S} {P}?", "when"),
    (r"(?:paid|raised|spent|earned|lost|won|made|sold|bought|invested|owes|cost|costs|received|donated) (?=[^.]{0,40}?[$£€¥]\s?\d)",
     "How much did {S} {B}?", "much"),
    (r"(?:is|are|was|were) worth (?=[$£€¥]\s?\d)", "How much {BE} {S} worth?", "much"),
    (r"will (?!be\b)", "What will {S} do?", "will"),
    (r"(?:plans|plan|planned|is planning|are planning|intends|wants) to ", "What does {S} plan to do?", "plan"),
    # Generic shapes last: they ask less precisely, so they rank lower (see faq()).
    (r"(?:has |have |had )?(?:died|passed away)\b", "What happened to {S}?", "happened"),
    (r"(?:is|are) being [a-z]+(?:ed|en|wn)\b", "What is happening to {S}?", "happened"),
    (r"(?:has|have) been [a-z]+(?:ed|en|wn)\b", "What has happened to {S}?", "happened"),
    (r"(?:was|were) (?:[a-z]+ly )?(?:[a-z]+(?:ed|en|wn)|caught|found|hit|hurt|shot|struck|left|held|kept|sent|told|"
     r"sold|bought|brought|built|put|set|cut|stuck|led|paid|made|won|lost)\b(?! to\b| that\b)", "What happened to {S}?", "happened"),
    (r"(?:has|have) (?:[a-z]+ly )?(?:[a-z]{3,}ed|made|taken|given|won|lost|paid|met|held|kept|brought|bought|sold|"
     r"sent|spent|built|written|set|led|chosen|become|begun|left|put)\b", "What {AUX} {S} done?", "do"),
    (r"(?:[a-z]+ly )?(?:[a-z]{3,}(?<!need)ed|made|took|gave|won|lost|paid|met|held|kept|brought|bought|sold|sent|spent|"
     r"built|wrote|led|chose|became|began|left|went|ran|fought|threw|caught|drove|flew|broke|hit|set|put|came|got|gave|"
     r"took|saw|beat|shot|sent|rode|swam|sang|wore|struck|won|spent|stole|sold|bought)\b(?! to be\b)",
     "What did {S} do?", "do"),
    (r"(?:is|are) (?!being\b|going to\b)[a-z]{3,}ing\b", "What {AUX} {S} doing?", "doing"),
]]
_ROLES = ("actress|actor|singer|star|model|leader|minister|president|chief|director|manager|coach|player|striker|"
          "midfielder|defender|goalkeeper|boss|officer|spokesman|spokeswoman|spokesperson|professor|researcher|"
          "author|founder|chairman|chairwoman|judge|lawyer|attorney|mother|father|son|daughter|wife|husband|"
          "girlfriend|boyfriend|victim|suspect|teacher|doctor|nurse|student|pilot|soldier|champion|golfer|"
          "footballer|owner|designer|chef|presenter|host|comedian|rapper|businessman|businesswoman|billionaire|"
          "analyst|economist|scientist|secretary|senator|governor|mayor|executive|CEO|winger|captain|rider|driver|"
          "campaigner|activist|councillor|MP|candidate|commissioner|inspector|detective|sergeant|constable")
_ANY_VERB = re.compile("|".join(f"(?:{rx.pattern})" for rx, _, _ in _VERB_TEMPLATES))
_ROLE_SET = set(_ROLES.casefold().split("|"))
# In an all-lower-case text a name still shows by its role before it or an age after it.
_WHO_LOWER = [re.compile(rf"\b(?:{_ROLES}) (?P<name>[a-z]{{2,}} [a-z]{{2,}})(?=,| said| who| has| was| is|\.)"),
              re.compile(r"(?:^|(?<=[.;] )|(?<=, ))(?P<name>[A-Za-z][a-z]+ [a-z]{2,}), (?:aged )?\d{1,2},")]
_PERSON_NAME = r"[A-Z][a-z][\w'’-]*(?: [A-Z][a-z][\w'’-]*){1,2}"
_WHO = [re.compile(rf"\b(?:{_ROLES}) (?P<name>{_PERSON_NAME})(?= |,|\.|$)"),
        re.compile(rf"(?:^|(?<=[.;:] )|(?<=, ))(?P<name>{_PERSON_NAME}), (?:the |a |an )?(?:[a-z-]+ ){{0,3}}(?:{_ROLES})\b")]
_OBJECT = re.compile(r" (?:the|a|an|his|her|their|its|our|my|your|this|that|these|those|some|all|every|no|two|three|"
                     r"four|five|six|seven|eight|nine|ten|dozens|hundreds|thousands|millions|\d|up|out|down|off|back|on|"
                     r"in|to|for|with|at|over|into|more|than|him|them|it|himself|herself|themselves)\b")
_BASE = {"paid": "pay", "raised": "raise", "spent": "spend", "earned": "earn", "lost": "lose", "won": "win",
         "made": "make", "sold": "sell", "bought": "buy", "invested": "invest", "owes": "owe", "cost": "cost",
         "costs": "cost", "received": "receive", "donated": "donate"}
_LEGAL = {"charged with": "What was {S} charged with?", "accused of": "What is {S} accused of?",
          "arrested for": "Why was {S} arrested?", "convicted of": "What was {S} convicted of?",
          "jailed for": "Why was {S} jailed?", "found guilty of": "What was {S} found guilty of?",
          "sentenced to": "What was {S} sentenced to?", "suing": "Why is {S} suing?", "sued for": "Why was {S} sued?",
          "banned from": "What was {S} banned from?"}
_GENERIC_SUBJECT = re.compile(r"^(?:the|an?|police|officials) (?:[a-z'’-]+ ){0,3}?(?:he|she|it|they|this|that|one|two|other|same|first|last|"
                              r"new|former|latest|\w+ly|\w+est)$", re.I)


_COMMON_SUBJECTS = {"researchers", "scientists", "police", "officials", "authorities", "experts", "doctors",
                    "investigators", "witnesses", "residents", "prosecutors", "critics", "fans", "analysts", "studies",
                    "officers", "detectives", "campaigners", "parents", "locals", "teachers", "users", "customers"}
_SAID_NAME = re.compile(rf"(?:,|[,.!?]['’\"”]) (?:said|says|explained|added|insisted) (?P<subj>{_TITLE}{_PERSON_NAME})[.,]")


_PREPOSITIONS = {"with", "for", "in", "on", "at", "from", "to", "by", "about", "after", "before", "into", "than", "as"}
_TIME_WORDS = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "January", "February",
               "March", "April", "June", "July", "August", "September", "October", "November", "December",
               "Summer", "Winter", "Spring", "Autumn", "Year", "Week", "Month", "Season", "Night", "Day", "Weekend",
               "summer", "winter", "spring", "autumn", "year", "week", "month", "season", "night", "day", "weekend"}
_AUXILIARIES = {"then", "there", "also", "now", "still", "later", "finally", "again", "already", "is", "are", "was", "were", "be", "been", "has", "have", "had", "will", "would", "can", "could",
                "do", "does", "did", "should", "may", "might", "must", "said", "says", "that", "who", "which"}


def _subject_ok(subj: str) -> bool:
    words = subj.split()
    if not words or (words[0] in _NOT_NAME_START and not re.match(r"^(?:The|A|An|Police|Officials|Mr|Mrs|Ms|Dr)\b", words[0])):
        return False
    if words[0] in {"The", "the", "A", "An"} and (len(words) < 2 or (words[1][:1].isupper() is False and len(words) > 6)):
        return False
    if any(w in {"Scroll", "Pictured", "Mail", "PUBLISHED", "UPDATED", "Daily"} for w in words):
        return False
    if re.search(r"['’]s?$", words[-1]) or (len(words) == 1 and words[0].casefold().endswith("ing")):
        return False  # "Manuel Pellegrini's (side)", "Using …": not the subject itself
    if any(w in _TIME_WORDS for w in words):
        return False  # "Masters Wednesday", "Last Summer"
    if re.match(r"(?i)(?:i|we|you|they|he|she|it|there|that|who|what|here|let)['’]", words[0]):
        return False  # "We’ve asked …", "I’m honored …": a pronoun with a contraction
    if any(w.casefold() in _AUXILIARIES for w in words[1:]):
        return False  # "the pair were": the verb is inside, the subject ended earlier
    if any(w in {"the", "a", "an"} and words[i] not in {"of", "for", "in", "at", "on", "from", "to", "with"}
           for i, w in enumerate(words[1:])):
        return False  # "the project the city": a relative clause begins inside
    if words[0] in {"The", "the", "A", "An"} and any(w in _PREPOSITIONS for w in words[1:]):
        return False  # "the plan appears consistent with another": a verb hides inside; "of" is fine
    if _GENERIC_SUBJECT.match(subj) or len(words) > 6 or len(subj) < 3:
        return False
    if words[-1].casefold() in {"the", "of", "and", "a", "an", "who", "which", "that", "has", "had", "was", "is"}:
        return False
    # "the troll even (attempted)": the adverb belongs to the verb, not the subject
    return not (len(words) > 1 and words[-1].casefold() in _ADVERBS)


_NOT_DONE = re.compile(r"(?:[a-z]+ly )?(?:has |have |had |is |are )?(?:continued|suffered|turned|faced|saw|received|remained|"
                       r"became|become|seemed|appeared|looked|felt|needed|wanted|liked|loved|responded|replied|"
                       r"wrote|tweeted|posted|commented|described|called|noted|recalled|lived|died|grew|stayed|"
                       r"experienced|struggled|failed|featured|included|contained|involved)\b")
_ADVERBS = {"even", "also", "still", "just", "now", "then", "only", "already", "never", "always", "often", "later",
            "soon", "again", "too", "once", "ever", "finally", "reportedly", "allegedly", "apparently", "recently"}


def _subject_text(subj: str) -> str:
    """Subject as it reads inside a question: sentence-initial "The" becomes "the"."""
    words = subj.split()
    if words[0] in {"A", "An"}:
        words[0] = "the"  # "A Chinese team took …" → "What did the Chinese team do?"
    if words[0] in {"The", "Police", "Officials"}:
        words[0] = words[0].lower()
    return " ".join(words)


_ROLE_RX = re.compile(rf"\b(?:{_ROLES})s?\b", re.I)
_PHRASE_KEEP = {"and", "of", "the", "a", "an", "its", "his", "her", "their"}


def who_answer(sentence: str, name: str) -> str | None:
    """ "Who is X?" answered by the role phrase that introduces X in `sentence`: "lead researcher and NASA
    planetary scientist Lucas Paganini said …" → "Lucas Paganini is a lead researcher and NASA planetary
    scientist."; "Joshua Apte, a professor of engineering at Texas, explained …" → "Joshua Apte is a professor
    of engineering at Texas." None when no role phrase stands next to the name."""
    i = sentence.find(name)
    if i < 0:
        return None
    phrase = ""
    after = re.match(r", ((?:the |a |an |[A-Z][\w'’.-]*['’]s )?[^,;:()\"“”]{2,80}?),", sentence[i + len(name):])
    if after and _ROLE_RX.search(after.group(1)) and not re.search(r"\b(?:who|which|said|says|is|was|has|had)\b",
                                                                   after.group(1)):
        phrase = after.group(1)
    else:
        words = re.split(r"(?<=[,;:(—–\"“”])\s*|\s+", sentence[:i].rstrip())
        kept: list[str] = []
        for w in reversed(words):
            if (not w or w[-1] in ",;:(—–\"“”" or (w.casefold() in STOPWORDS and w.casefold() not in _PHRASE_KEEP)
                    or re.fullmatch(r"[a-z]+ed", w)):
                break  # "was killed in the fight and suspect …": a verb ends the phrase
            kept.insert(0, w)
            if len(kept) >= 8:
                break
        while kept and kept[0].casefold() in _PHRASE_KEEP - {"the", "a", "an", "its", "his", "her", "their"}:
            kept.pop(0)
        if "and" in kept:  # "killed in the fight and suspect David Gaver": only a role on both sides makes one phrase
            at = kept.index("and")
            if not any(_ROLE_RX.search(w) or w[:1].isupper() for w in kept[:at]):
                kept = kept[at + 1:]
        if kept and _ROLE_RX.search(kept[-1]):
            phrase = " ".join(kept)
    if not phrase:
        return None
    first = phrase.split()[0]
    if sentence.startswith(phrase) and first[:1].isupper() and first[1:].islower():
        phrase = first.casefold() + phrase[len(first):]  # "Council leader Maria Holt said …": capital of the sentence
        first = first.casefold()
    if first.casefold() in _ROLE_SET or (first[:1].isupper() and first.casefold() in STOPWORDS):
        phrase = first.casefold() + phrase[len(first):]  # "Actress Julia …" → "an actress"
        first = first.casefold()
    if not (first in {"the", "a", "an", "his", "her", "their", "its"} or re.search(r"['’]s$", first)):
        if any(w[:1].isupper() for w in phrase.split()):
            phrase = "the " + phrase  # "Masters chairman" → "the Masters chairman": one of a kind
        else:
            phrase = ("an " if first[:1] in "aeiou" else "a ") + phrase
    return f"{name} is {phrase}."


def template_questions(sentence: str, body_lower: set[str] | None = None, names: bool = True,
                       known: frozenset[str] | set[str] = frozenset(),
                       proper: set[str] | None = None) -> list[tuple[str, str]]:
    """(question, kind) pairs this sentence answers with certainty of form; may be empty.

    `body_lower` (the article's lower-case words) tells a sentence-initial common noun
    ("Researchers found …") from a name, so the question reads "What did researchers find?".
    `proper` (words the article capitalises mid-sentence) does the same more surely: a sentence's
    first word that is not among them is a common noun ("Counters will record …").
    `names=False` (an all-lower-case text) keeps only subjects that open with a determiner
    ("the couple", "a 12-year-old girl"), are common nouns ("police") or end in a `known` name.
    """
    out: list[tuple[str, str]] = []
    if sentence.endswith("?") or len(sentence.split()) < 6:
        return out
    for rx in [] if names else _WHO_LOWER:
        for m in rx.finditer(sentence):
            words = m.group("name").split()
            if any(w.casefold() in STOPWORDS or w.endswith(("ing", "ed", "ly")) or w.casefold() in _ROLE_SET
                   or w in _NOT_NAME_START or w in _TIME_WORDS for w in words):
                continue
            q = f"Who is {' '.join(w[:1].upper() + w[1:] for w in words)}?"  # a role or an age marks a person's name
            if not question_problems(q):
                out.append((q, "who"))
    for rx in _WHO if names else []:
        for m in rx.finditer(sentence):
            name = m.group("name")
            if name.split()[0] in _NOT_NAME_START or name.split()[-1] in _NOT_NAME_START or re.search(r"['’]s?$", name):
                continue  # "Nicola Sturgeon's answers": a possessor, not the person asked about
            q = f"Who is {name}?"
            if not question_problems(q):
                out.append((q, "who"))
    for m in _SAID_NAME.finditer(sentence) if names else []:
        if m.group("subj").split()[0] not in _NOT_NAME_START:
            out.append((f"What did {m.group('subj')} say?", "say"))
    answered: set[int] = set()  # clause starts whose (shortest) subject already met its verb
    for start, subj, end in _subjects(sentence):
        if start in answered or not _subject_ok(subj):
            continue
        if (not names and not re.match(r"(?i)(?:the|an?|police|officials)\b", subj) and subj.casefold() not in _COMMON_SUBJECTS
                and subj.split()[-1].casefold() not in known):
            continue
        if start == 0 and " " not in subj and not subj.isupper() and not any(c.isupper() for c in subj[1:]) and (subj.casefold() in (body_lower or set()) or subj.casefold() in _COMMON_SUBJECTS
                                               or (proper is not None and subj.casefold() not in proper)):
            subj = subj.casefold()
            if subj not in _COMMON_SUBJECTS and subj not in {"police", "officials"}:
                continue  # "Data previously collected …" → "What did data do?": a bare noun is no one to ask about
        rest = sentence[end:]
        if not _ANY_VERB.match(rest):
            continue  # one combined match first: most clause starts meet no template (keeps bulk runs fast)
        for rx, template, kind in _VERB_TEMPLATES:
            vm = rx.match(rest)
            if not vm or (rest[vm.end() - 1:vm.end()].isalpha() and rest[vm.end():vm.end() + 1].isalpha()):
                continue  # the verb must be a whole word: "allegedly" is not "alleged", "foundation" not "found"
            if len(rest[vm.end():].split()) < 3:
                continue  # nothing left to answer with
            if kind == "do" and _NOT_DONE.match(rest):
                continue  # "O'Neill continued: '…'", "India suffered the worst toll": nothing the subject did
            if kind == "do" and subj.split()[0] in {"the", "The", "A", "An"} and not _OBJECT.match(rest, vm.end()):
                continue  # "The oscar nominated actress": after a determiner phrase, an -ed word is a verb only before its object
            s = _subject_text(subj)
            if kind == "legal":
                phrase = next(k for k in _LEGAL if k in vm.group(0))
                q = _LEGAL[phrase]
                if vm.group(0).split()[0] in {"was", "were", "had", "has", "have"} and q.startswith("What is"):
                    q = q.replace("What is", "What was")
                if vm.group(0).startswith(("are", "were", "have")):
                    q = q.replace(" was ", " were ").replace(" is ", " are ")
            elif kind == "when":
                verb = vm.group(0).split()
                q = template.replace("{P}", verb[1])
                if verb[0] == "were":
                    q = q.replace("When was", "When were")
            elif kind == "much":  # "is worth $5m" → "How much is X worth?"; "paid $5m" → "How much did X pay?"
                first_word = vm.group(0).split()[0]
                q = template.replace("{BE}", first_word).replace("{B}", _BASE.get(first_word, ""))
            else:
                q = template
            q = q.replace("{S}", s).replace("{AUX}", vm.group(0).split()[0])  # the verb agrees as in the sentence
            if s.casefold() in {"police", "officials"} and "did" not in q and "does" in q:
                q = q.replace("does", "do")
            if "What does" in q and kind in {"claim", "plan"} and (s.casefold().startswith(("police", "officials"))
                                                                   or (s.endswith("s") and " and " in s)):
                q = q.replace("What does", "What do")
            if not question_problems(q):
                out.append((q, kind))
            answered.add(start)
            break
    return out


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
_KIND_PENALTY = {"say": 0.2, "do": 0.5, "doing": 0.5, "happened": 0.3, "who": 0.1, "about": 0.0}


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


def answers(q: str, answer: str, kind: str, english: bool = True) -> bool:
    """An answer a reader can use: a whole sentence (a caption or a label ends without a stop). Template
    questions are formed from their answer, so it holds their key terms; the article's own questions and
    headings are answered by what follows them."""
    return not english or bool(_ENDS.search(answer))


_ENDS = re.compile(r"[.!?…]['\"’”)\]]*\s*$")


# Fewer, better questions: when only answers that repeat a takeaway are left, stop at this many.
MIN_FAQ = 2
LEAD_SENTENCES = 5


def lead_terms(article: Article, items: list[Unit], english: bool) -> set[str]:
    """Terms of the title and the lead (its first sentences): what the article is about."""
    text = " ".join([article.title or ""] + [u.text for u in items[:LEAD_SENTENCES]])
    return set(terms(text, english))


def real_subjects(items: list[Unit], body_lower: set[str], topic: set[str]) -> list[frozenset[str]]:
    """The name words of the people and organisations the article is about: named in at least two of its
    sentences (captions are not sentences) and in the title or the lead, or named three times or more."""
    out = []
    mentions: dict[str, int] = {}
    for name in key_entities(items, body_lower, mentions):
        words = [w for w in name.split() if w not in {"the", "of", "de"}]
        if mentions[name] >= 3 or any(stem(w.casefold()) in topic for w in words):
            out.append(frozenset(w.casefold() for w in words))
    return out


# Real speech: a quotation, a reported clause ("said that", "told reporters the …"), a colon before the words,
# or the attribution after them (", Claure said in the email.").
_REAL_SPEECH = re.compile(r"[\"“”]|(?:^|\s)['‘]\w|\w['’](?:\s|$)|\b(?:said|says|told|explained|added|noted|stated|wrote|"
                          r"insisted|warned|argued)\b(?: [\w ]{0,30}?)? (?:that|how|why|what|whether)\b|\b(?:said|says|added|"
                          r"explained|wrote|stated|told [\w ]{2,30}):|\b(?:said|says|added|explained|wrote|noted)"
                          r"(?: [\w ,]{0,40})?[.!]$")
_FINDERS = frozenset({"researchers", "scientists", "experts", "investigators", "analysts", "study", "studies",
                      "survey", "report", "review", "inquiry", "investigation"})
_SPEECH_KINDS = {"say", "claim", "warn", "admit", "deny", "confirm", "urge", "promise", "reveal", "announce"}


def about_subject(q: str, kind: str, sentence: str, subjects: list[frozenset[str]], topic: set[str],
                  english: bool = True) -> bool:
    """A template question is kept only about what the article is about: a real subject (see
    `real_subjects`), or a thing ("the campaign") the title or lead names; a speech question only
    over real speech."""
    if (kind in _SPEECH_KINDS and kind != "announce" and not _REAL_SPEECH.search(sentence)
            and not (kind == "say" and re.search(r"\b(?:said|says|told)\b", sentence))):
        return False  # "The striker added a second goal": a verb taken for speech
    subj = _question_subject(q)
    if subj is None:
        m = re.match(r"^(?:What|How much|When|Why) \w+ (?:the |a |an )?(.+?) (?:\w+)(?: \w+)?\?$", q)
        subj = frozenset(w.casefold() for w in m.group(1).split()) if m else None
    if not subj:
        return False
    if any(subj & s for s in subjects):
        return True
    if kind in {"find", "warn"} and subj & _FINDERS:
        return True  # "What did researchers find?": what a study found is the point of a report on it
    if kind in {"happened", "do", "doing", "will"}:
        return False  # "What happened to the video?": about a thing, these ask nothing a reader wants
    lowered = [w for w in re.findall(r"[\w'’-]+", q) if w.casefold() in subj and w.casefold() not in STOPWORDS]
    # A thing or a group ("the campaign", "researchers"): only when the title or lead names it and it is no name.
    return bool(lowered) and stem(lowered[-1].casefold()) in topic and not _is_name(q, subj)


def _is_name(q: str, subj: frozenset[str]) -> bool:
    """The question's subject is written with capitals in the question (a name, not a thing)."""
    return any(w.casefold() in subj and w[:1].isupper() for w in q.split()[1:])


def faq(article: Article, spec: Spec, items: list[Unit], sim: list[list[float]], takeaways: list[Unit],
        english: bool) -> list[QA]:
    """Up to spec.questions QA items; see the module docstring for where questions come from."""
    if not items:
        return []
    text = article.text
    # Words the article writes in lower case and never capitalises inside a sentence: common nouns.
    capitalised = {w.casefold() for u in items for w in re.findall(r"(?<=[\w,;] )[A-Z][a-z'’-]+\b", u.text)}
    body_lower = {w for u in items for w in re.findall(r"\b[a-z][a-z'’-]+\b", u.text)} - capitalised
    # Some pages (and some datasets) are all lower case; then names cannot be told from words, and
    # questions about names would be wrong ("What did oscar do?"): only the event questions remain.
    mid_capitals = sum(len(re.findall(r"(?<=[\w,;] )[A-Z][a-z]", u.text)) for u in items)
    names_ok = mid_capitals >= 0.3 * len(items)
    names = {re.sub(r"['’]s$", "", w.casefold()) for u in items for w in re.findall(r"(?<=[\w,;] )[A-Z][\w'’-]*", u.text)}
    seen_lower = {w for u in items for w in re.findall(r"\b[a-z][a-z'’-]+\b", u.text)}  # "keyboard" is no name
    taken_evidence = {u.index for u in takeaways}

    def own(u: Unit) -> float:
        """A sentence's worth as an answer: its salience, less when it is already a takeaway or opens with
        a pronoun whose referent is in the sentence before ("He had been facing …", "In it, …")."""
        return (u.score - (TAKEN_PENALTY if u.index in taken_evidence else 0.0)
                - (DANGLING_PENALTY if _DANGLING.match(u.text) else 0.0))
    candidates: list[tuple[float, int, str, tuple[str, str], str]] = []  # (priority, first unit, q, answer, kind)
    topic = lead_terms(article, items, english)
    subjects = real_subjects(items, body_lower, topic) if english and names_ok else []

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
        if ans:
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
        if re.search(r"[\"“”]", q) or (english and question_problems(q)) or len(q.split()) < 4:
            continue
        if not english and (":" in q or u.index < 2):
            continue  # "Prof. Carlos: E agora …?" (a transcript line), an opening hook: no question a reader asks
            continue
        ans = _answer(items, u.index + 1, text)
        if ans:
            candidates.append((2.5, u.index + 1, q, ans, "asked"))

    # 3: template questions from the most salient sentences.
    if english:
        lower_names = set() if names_ok else names_in_lower_case(items)
        # The 40 most salient sentences are plenty to find a handful of questions (and keep bulk runs fast).
        for u in sorted(items, key=lambda x: (-x.score, x.index))[:40]:
            sentence = _DATELINE.sub("", u.text, count=1)  # "MADRID (AP) — Rafael Nadal kept …": the clause starts after it
            if lower_names:
                sentence = recase(sentence, lower_names)
            for q, kind in template_questions(sentence, body_lower - lower_names, names_ok, lower_names,
                                              names | lower_names if names_ok else None):
                if not about_subject(q, kind, u.text, subjects, topic, english):
                    continue
                whole = _whole_quote(items, u, text)
                if whole is None or (kind != "who" and len(whole[0].split()) < 8):
                    continue
                ans = whole
                if kind == "who":
                    role = who_answer(u.text, q[len("Who is "):-1])
                    if role is None:
                        continue
                    ans = (role, u.text)
                priority = 1.0 + own(u) - _KIND_PENALTY.get(kind, 0.0)
                if re.match(r"^\w+ \w+ [a-z]", q):
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
        if kind not in {"heading", "asked"} and kinds.get(kind, 0) >= 2:
            return False
        subj = _question_subject(q)
        # One person is one person under any of their names ("Wang Dongming", "Mr Wang", "Wang"): at most
        # two questions about them, and never two of one kind ("What did Fowler do?" after "What has Rickie Fowler done?").
        asked = next((k for words, k in people if subj and words & subj), None)
        if asked is not None and (len(asked) >= 2 or kind in asked):
            return False
        if any(cosine(terms(q, english), terms(other.question, english), _ONES) > 0.8 for _, other in chosen):
            return False
        seen_q.add(key)
        used_units.add(ui)
        kinds[kind] = kinds.get(kind, 0) + 1
        if asked is not None:
            asked.append(kind)
        elif subj:
            people.append((subj, [kind]))
        return True

    candidates = [c for c in candidates if not _NO_COMMENT.search(c[3][0]) and answers(c[2], c[3][0], c[4], english)]
    ordered = sorted(candidates, key=lambda c: (-c[0], c[1], c[2]))
    # An answer that repeats a takeaway word for word is used only when too few others exist.
    fresh = [c for c in ordered if not any(t.text in c[3][0] for t in takeaways)]
    reused = [c for c in ordered if c not in fresh]
    for pass_, pool in enumerate((fresh, reused)):
        for _priority, ui, q, (answer, evidence), kind in pool:
            if len(chosen) >= spec.questions:
                break
            if pass_ and len(chosen) >= MIN_FAQ and kind not in {"heading", "asked"}:
                continue  # the author's own sections may repeat a takeaway; a template question need not
            if not _take(ui, q, answer, evidence, kind):
                continue
            chosen.append((ui, QA(question=q, answer=strip_lead(answer), evidence=evidence)))
    chosen.sort(key=lambda c: c[0])
    return [qa for _, qa in chosen]


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
_DEMONYM = ("ish", "ese", "ian", "ean", "ern", "ic")


def key_entities(items: list[Unit], body_lower: set[str] | None = None,
                 mentions: dict[str, int] | None = None) -> list[str]:
    """Proper names the article mentions at least twice (a surname counts for the full name), most frequent first.

    A name usually written after "the" comes back with it ("the Grand National"); a capitalised word
    at the start of a sentence that the article also writes in lower case is not a name ("Footage").
    """
    body_lower = body_lower or set()
    counts: dict[str, int] = {}
    first: dict[str, int] = {}
    the: dict[str, int] = {}
    openers: list[str] = []
    for u in items:
        for m in _ENTITY.finditer(u.text):
            if m.start() == 0 and " " not in m.group(0):
                openers.append(m.group(0))  # "Footage shows …": counts only as the short form of a name seen whole
                continue
            if u.text[m.end():m.end() + 1] == ":" or re.search(r"['’](?:m|re|ve|ll|d)\b", m.group(0)):
                continue  # "Daughter: …" is a caption label; "I'm" no name
            name = m.group(0).rstrip(".")
            if name.endswith(("'s", "’s")):
                name = name[:-2]
            words = name.split()
            cut = next((i for i, w in enumerate(words) if i and w in _NOT_NAME_START), len(words))
            words = words[:cut]  # "the Masters. The Scot …" ran two names together
            while words and (words[0] in _NOT_NAME_START or words[0] in _TITLE_WORDS
                             or (len(words) > 1 and words[0].casefold() in body_lower | _ROLE_SET)):
                words = words[1:]  # "Substitute Rodrigo De Paul", "Dad Phil": a common word before the name
            if not words or words[-1] in _NOT_NAME_START or words[-1] in {"of", "de", "the", "and"}:
                continue
            if words[-1].endswith(_DEMONYM) or (len(words) == 1 and len(words[0]) < 3) or any(w in _TIME_WORDS for w in words):
                continue  # "the Saudi Arabian", "Easter Monday"
            name = " ".join(words)
            if name in _SOURCES:
                continue
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
    for name, c in counts.items():
        if " " not in name:
            full = [n for n in merged if n.split()[-1] == name or n.split()[0] == name]
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
_TITLE_WORDS = {"Mr", "Mrs", "Ms", "Dr", "Prof", "Sir", "Dame", "Lord", "Lady", "President", "Senator", "Judge",
                "Actress", "Actor", "Singer", "Star", "Model", "Former", "Chancellor", "Minister", "Secretary"}


class _Ones(dict[str, float]):
    def __missing__(self, key: str) -> float:
        return 1.0


_ONES = _Ones()


def _question_subject(q: str) -> frozenset[str] | None:
    """The words of the name a question is about (titles and "the" left out), or None."""
    m = re.match(r"^\w+ (?:did|does|do|is|was|were|are|will|has|have) (.+?) (?:say|claim|announce|reveal|warn|admit|deny|find|"
                 r"confirm|urge|promise|launch|agree|charged|accused|convicted|found|sentenced|suing|sued|banned|born|do|"
                 r"plan|pay|worth|done|doing|happen)\b", q)
    if not m:
        m = re.match(r"^(?:Who is|What (?:is|has) happen(?:ed|ing) to|What happened to|What do we know about) (?:the )?(.+?)\?$", q)
    if not m:
        return None
    words = frozenset(w.casefold() for w in m.group(1).split()
                      if w not in _TITLE_WORDS and w.rstrip(".") not in {"Mr", "Mrs", "Ms", "Dr", "the"})
    return words or None
