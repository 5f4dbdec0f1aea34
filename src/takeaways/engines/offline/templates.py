"""Question templates: headings turned into questions, and questions a sentence's shape makes certain."""

from __future__ import annotations

import re

from .filters import question_problems
from .text import STOPWORDS, Gated, open_quote

_HEAD_PREPOSITIONS = {"of", "about", "for", "in", "on", "with", "to", "from", "at", "over", "under", "behind",
                      "against", "between", "after", "before", "during", "into", "across", "around",
                      "beyond", "inside", "near", "since", "through", "toward", "towards", "within", "without"}


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
    turned = _wh_statement_question(h, names)
    return turned if turned is not None else _noun_phrase_question(h, names)


_WH_AUX = {"is", "are", "was", "were", "can", "could", "will", "would", "should", "has", "have", "had", "does", "do",
           "did", "may", "might", "must"}
_NOT_VERB_S = re.compile(r"(?:ss|us|is|ics|ness|ous|['’]s)$")


def _wh_statement_question(h: str, names: set[str] | None) -> str | None:
    """A "Why/How" heading written as a statement, turned round: "Why Delhi's Air Gets So Bad" → "Why does Delhi's
    air get so bad?", "How a Mindset Helps You" → "How does a mindset help you?", "Why Rents Are Rising" → "Why are
    rents rising?", "How Huawei Caught Up" → "How did Huawei catch up?". None when no verb is surely found."""
    words = h.split()
    if len(words) < 3 or words[0].casefold() not in {"why", "how"} or h.endswith("?"):
        return None
    wh = words[0].capitalize()
    for i in range(2, min(len(words), 8)):
        w = words[i].casefold()
        subject, rest = words[1:i], words[i + 1:]
        if any(x.casefold() in _WH_AUX or x.casefold() in {"and", "or", "to", "that", "which"} for x in subject):
            return None
        if w in _WH_AUX:
            if not rest:
                return None
            out = [wh, w, *subject, *rest]
        elif (w.endswith("ed") and len(w) > 4) or w in _PAST:
            import simplemma

            base = _PAST.get(w) or simplemma.lemmatize(w, lang="en")
            if base == w or not base.isalpha():
                continue
            out = [wh, "did", *subject, base, *rest]
        elif w.endswith("s") and not _NOT_VERB_S.search(w) and len(w) > 3 and i >= 2 and words[i - 1][:1].isalpha():
            base = w[:-2] if w.endswith(("ches", "shes", "sses", "xes", "oes")) else w[:-3] + "y" if w.endswith("ies") else w[:-1]
            if words[i - 1].casefold() in {"the", "a", "an", "its", "their", "his", "her", "our", "your", "this", "that"}:
                continue  # "How the Rules …": a noun after a determiner
            out = [wh, "does", *subject, base, *rest]
        else:
            continue
        text = " ".join(out)
        q = _phrase(text, names)
        q = q[0].upper() + q[1:] + "?"
        return q if not question_problems(q) else None
    return None


_IMPERATIVE = frozenset("""practice practise try eat drink get make take use avoid keep stop start find learn add cut
choose limit plan be have go do set stay exercise sleep reduce increase consider skip ditch swap manage build
create write read ask tell call check buy sell save spend pay apply join watch listen look think talk remember
forget give let put run walk drink cook wash clean turn switch open close book visit bring leave drop focus know
understand protect prepare invest track meet share upgrade download install update""".split())  # noqa: SIM905
_EVALUATIVE = re.compile(r"\b(?:good|great|excellent|superb|solid|decent|fine|poor|bad|weak|strong|impressive|"
                         r"disappointing|comfortable|uncomfortable|bright|dim|sharp|vivid|fast|slow|smooth|quiet|loud|"
                         r"noisy|responsive|sluggish|sturdy|flimsy|premium|cheap|best|better|worse|worst|nice|pleasant|"
                         r"outstanding|mediocre|satisfying|generous|lacking|lackluster|lacklustre|snappy|crisp|accurate|"
                         r"reliable|well-built|cool|hot|warm|shallow|mushy|clicky|tactile|roomy|cramped|stunning|"
                         r"gorgeous|terrible|awful|impressed|disappointed|enjoyed|loved|recommend|excels?|struggles?|lasts?|lasted|"
                         r"falls? short|fell short|audible|silent|heavy|light|comfortable|bulky|sleek|premium)\b",
                         re.I)
_DEFINES = r"\b(?:is|are|was|were|refers to|means)\s+(?:a|an|the|one|not|made|used|known|called|caused)\b"


def heading_question_for(heading: str, answer: str, names: set[str] | None = None) -> str | None:
    """A heading as a question its section's lead answers, or None.

    A heading the rule table turns into a question (or the author's own question) is asked as
    `heading_question` gives it. A bare noun phrase ("The Keyboard", "GPU") is a topic, not a question:
    it is asked only as what the lead does with it: "What is the X?" when the lead defines it ("The X
    is a …"), "What is the X like?" when the lead judges it ("… the keyboard is comfortable …", a
    review's section), "What is in the X?" for a collection the lead names; else it is skipped.
    """
    q = heading_question(heading, names)
    np = noun_heading(heading, names)
    if q is None or np is None:
        return q
    phrase, plural, head = np
    said = [w.casefold() for w in re.findall(r"[\w'’-]+", answer)]
    stem_head = head[:-1] if plural and head.endswith("s") else head
    named = [stem_head] + [w.casefold() for w in phrase.split()[:-1] if w.casefold() not in _FUNCTION and len(w) > 3]
    if not any(w.startswith(n) or (len(n) >= 5 and w.startswith(n[:5])) for w in said for n in named):
        return None  # the lead is not about what the heading names (its head noun or a word before it: "battery")
    be = "are" if plural else "is"
    if not phrase.startswith("the ") and re.search(rf"\bthe {re.escape(phrase)}\b", answer, re.I):
        phrase = "the " + phrase  # "GPU" written "the GPU" by the lead
    if head in _COLLECTION and " and " not in phrase:
        return q
    if re.search(rf"\b{re.escape(stem_head)}\w*\b[^.;:]{{0,40}}?\b(?:is|are) (?:located|situated|based) (?:in|near|on|at)\b",
                 answer, re.I):
        return f"Where {be} {phrase}?"  # "The Rukban camp, also known as the Berm, is located in the desert …"
    if re.search(rf"\b{re.escape(stem_head)}\w*\b[^.;:]{{0,30}}?{_DEFINES}", answer, re.I) and " and " not in phrase:
        return f"What {be} {phrase}?"
    if _EVALUATIVE.search(answer):
        return f"What {'are' if plural or ' and ' in phrase else 'is'} {phrase} like?"
    acts = re.match(rf"(?i)^(?:the |a |an |its |their )?(?:[\w'’-]+ ){{0,3}}?{re.escape(stem_head)}\w* (?P<verb>[a-z]+)\b", answer)
    if acts and acts.group("verb") not in _COPULAS and not acts.group("verb").endswith("ly") and " and " not in phrase:
        return f"What {be} {phrase}?"  # "The funding plan adds a levy …": the lead says what it is by what it does
    return None


_COPULAS = frozenset({"is", "are", "was", "were", "be", "been", "being", "seems", "seem", "looks", "look", "feels", "feel",
                      "remains", "remain", "can", "could", "may", "might", "should", "would", "will", "and", "or", "of"})


def noun_heading(heading: str, names: set[str] | None = None) -> tuple[str, bool, str] | None:
    """(noun phrase as a question shows it, plural, head noun) when `heading` is a bare noun phrase that
    `heading_question` asks about with "What is/are …?"; None for any other heading."""
    h = re.sub(r"^\s*(?:\d{1,2}[.):]|[IVX]{1,4}\.|Step \d+:?|Part \d+:?|Chapter \d+:?)\s*", "", heading)
    h = re.sub(r"\s+", " ", h).strip(" :.-–—")
    if not h or h.endswith("?") or any(rx.fullmatch(h) for rx, _ in _HEADING_RULES):
        return None
    q = _noun_phrase_question(h, names)
    if q is None:
        return None
    m = re.match(r"^What (?:is in|are|is|do we know about) (.+)\?$", q)
    if m is None:
        return None
    phrase = m.group(1)
    words = [w.casefold() for w in phrase.split()]
    cut = next((i for i, w in enumerate(words) if i > 0 and w in _HEAD_PREPOSITIONS), len(words))
    head = words[cut - 1]
    plural = q.startswith("What are") or (head.endswith("s") and not head.endswith(_NOT_PLURAL) and len(head) > 3)
    return phrase, plural, head


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
    if first in _IMPERATIVE:
        return None  # "Practice Mindfulness", "Eat More Fiber": a listicle's advice, not a thing to define
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
NOT_NAME_START = {
    "The", "A", "An", "In", "On", "At", "But", "And", "So", "Yet", "If", "When", "While", "After", "Before", "As", "It",
    "He", "She", "They", "We", "I", "You", "This", "That", "These", "Those", "There", "Here", "Then", "Now", "His",
    "Her", "Their", "Its", "Our", "My", "Your", "Some", "Many", "Most", "All", "One", "Two", "Three", "According",
    "However", "Meanwhile", "Also", "Still", "For", "From", "With", "By", "To", "Of", "Last", "Earlier", "Later",
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "January", "February", "March",
    "April", "May", "June", "July", "August", "September", "October", "November", "December", "Yesterday",
    "Today", "Tomorrow", "Speaking", "Despite", "Although", "Though", "Since", "Because", "Under", "During", "Why",
    "What", "How", "Who", "Where", "Which", "Mr", "Mrs", "Ms", "Miss", "Dr", "Scroll", "Pictured", "Daily", "Mail",
    "PUBLISHED", "UPDATED", "Photo", "Video", "Image", "Click", "Read", "Follow", "Share", "Sign",
    "Not", "No", "Nor", "Neither", "Even", "Just", "Only", "Every", "Each", "Such", "Other", "Another", "Both",
    "Either", "Few", "More", "Less", "Much", "Several", "Like", "Unlike", "Until", "Unless", "Whether", "Once",
}
_TITLE = r"(?:(?:Mr|Mrs|Ms|Miss|Dr|Prof|Sir|Dame|Lord|Lady|President|Prime Minister|Senator|Sen\.|Rep\.|Gov\.|Judge|Chancellor|Minister|Secretary|Chief|Coach|Captain|Officer|Detective|Sergeant|Pope|King|Queen|Prince|Princess)\.? )?"
# A clause starts at the sentence's start or after ". ", "; ", ": ", ", " or a closing quote and a space
# (the match ends where the clause starts: one scan for the delimiters, no look-behind at every position).
_CLAUSE_START = re.compile(r"(?:[.;:,]|[,.!?]['’\"”]) (?=[A-Za-z])")
_NAME_AT = re.compile(rf"{_TITLE}{_NAME}")
_NAME_RUN = re.compile(rf"{_TITLE}[A-Z][\w'’.-]*(?: [A-Z][a-z][a-z'’-]*(?<![nN]['’]t)(?![\w'’.-])){{0,3}}")
_NEXT_NAME_WORD = re.compile(r" [A-Z][a-z][a-z'’-]*")
_DET_NP = re.compile(r"(?:[Tt]he|A|An|[Pp]olice|[Oo]fficials)((?: [a-z0-9][\w'’-]*){0,5})")
_APPOS = re.compile(r",(?: (?:aged )?\d{1,3},| (?:who|which|whose) [^,]{3,60},| [a-z][^,]{2,50},)")


_NP_WORD = re.compile(r" [a-z0-9][\w'’-]*")
_DET_WORD = re.compile(r"^(?:The|A|An|Police|Officials|Mr|Mrs|Ms|Dr)\b")
_POSSESSOR = re.compile(r"['’]s?$")
_PRONOUN_CONTRACTION = re.compile(r"(?i)(?:i|we|you|they|he|she|it|there|that|who|what|here|let)['’]")
_DET_SUBJECT = re.compile(r"(?i)(?:the|an?|police|officials)\b")
def _subjects(sentence: str) -> list[tuple[int, str, int]]:
    """(start, subject, where the verb should begin) at each clause start.

    A name is taken whole; a determiner phrase ("the sports brand") in every length, shortest
    first, since which word is the verb is only known when a verb template matches after it.
    An appositive after the subject (", 54," / ", who …,") is skipped.
    """
    out: list[tuple[int, str, int]] = []
    starts = [m.end() for m in _CLAUSE_START.finditer(sentence)]
    if sentence[:1].isascii() and sentence[:1].isalpha():
        starts.insert(0, 0)
    for pos in starts:
        spans: list[int] = []
        dm = _DET_NP.match(sentence, pos)
        if dm and sentence[max(0, pos - 2):pos] == ", " and dm.group(0).split()[0] in {"the", "a", "an"}:
            dm = None  # ", the largest project the city has approved": an appositive, not a clause
        if dm:
            det_end = dm.start(1)
            if dm.group(0).split()[0].casefold() in {"police", "officials"}:
                spans.append(det_end)
            spans += [det_end + m.end() for m in _NP_WORD.finditer(dm.group(1))]
        nm = _NAME_AT.match(sentence, pos)
        if nm and nm.group(0) not in {"The", "A", "An"}:
            spans.append(nm.end())
            long = _NAME_RUN.match(sentence, pos)  # "Mayor Ines Duarte": a longer name, tried after the short one
            if long and long.end() > nm.end() and not any(w in NOT_NAME_START for w in long.group(0).split()[1:]):
                spans += [nm.end() + w.end() for w in _NEXT_NAME_WORD.finditer(sentence[nm.end():long.end()])]
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
    (r"(?:has |had )?launched|launches", "What did {S} launch?", "launch"),
    (r"(?:has |had )?unveiled|unveils", "What did {S} unveil?", "launch"),
    (r"(?:has |had )?agreed to", "What did {S} agree to?", "agree"),
    (r"(?:is|was|are|were|has been|have been|had been) (?:[a-z]+ly )?(?:charged with|accused of|arrested for|convicted of|jailed for|found guilty of|sentenced to|suing|sued for|banned from)",
     "{Q}", "legal"),
    (r"(?:was|were) (?:born|founded|established|launched|released|opened|built|created|elected|appointed|married|diagnosed|killed|arrested|discovered) (?=in \d{4}|on [A-Z]|in [A-Z][a-z]+ \d{4}|last |this |\d)",
     "When was {S} {P}?", "when"),
    (r"(?:(?:has|have|had) )?(?:paid|raised|spent|earned|lost|won|made|sold|bought|invested|owes|cost|costs|received|donated) (?=[^.]{0,40}?[$£€¥]\s?\d)",
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
          "campaigner|activist|councillor|MP|candidate|commissioner|inspector|detective|sergeant|constable|chair|"
          "chairperson|organiser|organizer|curator|editor|correspondent|prosecutor|ambassador|envoy|general")
_ANY_VERB = re.compile("|".join(f"(?:{rx.pattern})" for rx, _, _ in _VERB_TEMPLATES))
ROLE_SET = set(_ROLES.casefold().split("|"))
# In an all-lower-case text a name still shows by its role before it or an age after it.
_WHO_LOWER = [re.compile(rf"\b(?:{_ROLES}) (?P<name>[a-z]{{2,}} [a-z]{{2,}})(?=,| said| who| has| was| is|\.)"),
              re.compile(r"(?:^|(?<=[.;] )|(?<=, ))(?P<name>[A-Za-z][a-z]+ [a-z]{2,}), (?:aged )?\d{1,2},")]
_PERSON_NAME = r"[A-Z][a-z][\w'’-]*(?: [A-Z][a-z][\w'’-]*){1,2}"
_WHO = [re.compile(rf"\b(?:{_ROLES}) (?P<name>{_PERSON_NAME})(?= |,|\.|$)"),
        re.compile(rf"(?:^|(?<=[.;:] )|(?<=, ))(?P<name>{_PERSON_NAME}), (?:the |a |an )?(?:[a-z-]+ ){{0,3}}(?:{_ROLES})\b")]
_ROLE_TOKENS = frozenset(_ROLES.split("|"))
_LETTERS = re.compile(r"[A-Za-z]+")
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
TIME_WORDS = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "January", "February",
               "March", "April", "June", "July", "August", "September", "October", "November", "December",
               "Summer", "Winter", "Spring", "Autumn", "Year", "Week", "Month", "Season", "Night", "Day", "Weekend",
               "summer", "winter", "spring", "autumn", "year", "week", "month", "season", "night", "day", "weekend"}
_AUXILIARIES = {"then", "there", "also", "now", "still", "later", "finally", "again", "already", "is", "are", "was", "were", "be", "been", "has", "have", "had", "will", "would", "can", "could",
                "do", "does", "did", "should", "may", "might", "must", "said", "says", "that", "who", "which"}


def _subject_ok(subj: str) -> bool:
    words = subj.split()
    if not words or (words[0] in NOT_NAME_START and not _DET_WORD.match(words[0])):
        return False
    if words[0] in {"The", "the", "A", "An"} and (len(words) < 2 or (words[1][:1].isupper() is False and len(words) > 6)):
        return False
    if any(w in {"Scroll", "Pictured", "Mail", "PUBLISHED", "UPDATED", "Daily"} for w in words):
        return False
    if _POSSESSOR.search(words[-1]) or (len(words) == 1 and words[0].casefold().endswith("ing")):
        return False  # "Manuel Pellegrini's (side)", "Using …": not the subject itself
    if any(w in TIME_WORDS for w in words):
        return False  # "Masters Wednesday", "Last Summer"
    if _PRONOUN_CONTRACTION.match(words[0]):
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
                       r"wrote|tweeted|posted|commented|described|called|noted|recalled|reported|lived|died|grew|stayed|"
                       r"experienced|struggled|failed|featured|included|contained|involved)\b")
_ADVERBS = {"even", "also", "still", "just", "now", "then", "only", "already", "never", "always", "often", "later",
            "soon", "again", "too", "once", "ever", "finally", "reportedly", "allegedly", "apparently", "recently"}


def _subject_text(subj: str) -> str:
    """Subject as it reads inside a question: sentence-initial "The" becomes "the"."""
    words = subj.split()
    if words[0] in {"A", "An"}:
        words[0] = "the"  # "A Chinese team took …" → "What did the Chinese team do?"
    if words[0] in {"The", "Police", "Officials", "Former"}:
        words[0] = words[0].lower()
    return " ".join(words)


_ROLE_RX = re.compile(rf"\b(?:{_ROLES})s?\b", re.I)
# "the Lakers", "prosecutors": a plural subject ("What do the Lakers plan to do?"); not "the United States", "Texas".
_PLURAL_SUBJECT = re.compile(r"(?:^|\bthe )(?:[\w'’-]+ )*(?!States\b)[\w'’-]+[^sauio\W]s$|^[a-z]+[^sauio\W]s$")
_HAS_OBJECT = re.compile(r" (?:to |that |the |a |an |its |his |her |their |our |new |plans |\d|[A-Z])")
# Words that open a role phrase as common words even where the article capitalises them in a name ("High School").
_COMMON_MODIFIERS = frozenset("""high primary secondary middle senior junior local former top chief head deputy assistant
vice state federal city county police fire team club party staff art music math maths science school university
college hospital church army navy military government council district regional national international veteran
retired young old new""".split())  # noqa: SIM905
_NOUN_AFTER = re.compile(r"(?: (?!and\b|but\b|then\b|who\b|which\b|that\b)[\w()'’-]+){1,3} (?:is|are|was|were|have|has)\b")
_FAMILY = frozenset({"wife", "husband", "mother", "father", "son", "daughter", "girlfriend", "boyfriend", "sister",
                     "brother", "partner", "fiancee", "fiance", "widow", "mum", "dad", "grandmother", "grandfather"})
_DOUBLED = re.compile(r"\b(\w+) \1\b")
_NAMED_AS = frozenset({"named", "appointed", "elected", "hired", "installed", "promoted", "crowned", "confirmed"})
_BEFORE_A_NAME = {"former", "ex", "late", "veteran", "fellow", "top", "senior", "deputy", "acting", "interim", "then",
                  "current", "longtime", "long-time", "retired", "outgoing", "incoming"}
_PHRASE_KEEP = {"and", "of", "the", "a", "an", "its", "his", "her", "their"}


def who_answer(sentence: str, name: str, proper: set[str] | None = None, common: set[str] | None = None) -> str | None:
    """ "Who is X?" answered by the role phrase that introduces X in `sentence`: "lead researcher and NASA
    planetary scientist Lucas Paganini said …" → "Lucas Paganini is a lead researcher and NASA planetary
    scientist."; "Joshua Apte, a professor of engineering at Texas, explained …" → "Joshua Apte is a professor
    of engineering at Texas." None when no role phrase stands next to the name, or only a family role that needs
    its possessor ("his wife"). `proper` and `common`: the words the article capitalises mid-sentence and those it
    writes in lower case (casefolded); the sentence's first word keeps its capital when it is a name ("Belgium
    manager Marc Wilmots", "Real Madrid striker …"), not when a common word ("High school teacher …")."""
    i = sentence.find(name)
    if i < 0:
        return None
    phrase = ""
    after = re.match(r", ((?:the |a |an |[A-Z][\w'’.-]*['’]s )?[^,;:()\"“”]{2,80}?)(?:,|\.$)", sentence[i + len(name):])
    if after and _ROLE_RX.search(after.group(1)) and not re.search(r"\b(?:who|which|said|says|is|was|has|had)\b",
                                                                   after.group(1)):
        phrase = after.group(1)
    else:
        words = re.split(r"(?<=[,;:(—–\"“”])\s*|\s+", sentence[:i].rstrip())
        kept: list[str] = []
        skip = 0
        for at, w in enumerate(reversed(words)):
            if skip:
                skip -= 1
                continue
            if (w in _NAMED_AS and at + 1 < len(words) and words[-at - 2].endswith("ly") and kept
                    and _ROLE_RX.search(kept[-1])):
                skip = 1  # "The We Company's recently named executive chair": the participle is no part of the role
                continue
            in_name = w in {"The", "We"} and kept and kept[0][:1].isupper() and not _ROLE_RX.fullmatch(kept[0])
            if (not w or w[-1] in ",;:(—–\"“”'‘’!?" or (w.casefold() in STOPWORDS and w.casefold() not in _PHRASE_KEEP
                                                          and not in_name)
                    or re.fullmatch(r"[a-z]+ed", w) or re.fullmatch(r"[a-z]+\.", w)):
                break  # "was killed in the fight and suspect …": a verb ends the phrase
            if (kept and _ROLE_RX.fullmatch(w) and "and" not in kept and kept[0][:1].isupper()
                    and not _ROLE_RX.fullmatch(kept[0]) and any(_ROLE_RX.fullmatch(k) for k in kept)):
                break  # "with his wife Masters chairman Billy Payne": two roles without "and" are two people's
            if (kept and kept[0][:1].isupper() and not _ROLE_RX.fullmatch(kept[0]) and w[:1].islower() and w not in _PHRASE_KEEP
                    and w not in _BEFORE_A_NAME and not _ROLE_RX.fullmatch(w)):
                break  # "a new tutorial YouTube star …": before a name's modifier, a common word ends the phrase
            kept.insert(0, w)
            if len(kept) >= 8:
                break
        while kept and kept[0].casefold() in _PHRASE_KEEP - {"the", "a", "an", "its", "his", "her", "their"}:
            kept.pop(0)
        if "and" in kept:  # "killed in the fight and suspect David Gaver": only a role on both sides makes one phrase
            at = kept.index("and")
            if not any(_ROLE_RX.search(w) or w[:1].isupper() for w in kept[:at]):
                kept = kept[at + 1:]
        if "of" in kept and not any(_ROLE_RX.fullmatch(w) for w in kept[:kept.index("of")]):
            kept = kept[kept.index("of") + 1:]  # "the murder of soldier Lee Rigby": the role is after "of"
        if kept and _ROLE_RX.search(kept[-1]):
            phrase = " ".join(kept)
    if not phrase or phrase[:1].isdigit() or phrase.split()[0].casefold() in {"his", "her", "their", "its", "our"}:
        return None  # "England Under 17 star" cut to "17 star", "his editor": the phrase lost its head or its owner
    bare_role = phrase.split()[-1].casefold()
    if bare_role in _FAMILY and not re.search(r"[A-Z][\w'’.-]*['’]s\b|\bof [A-Z]", phrase):
        return None  # "his wife Lindsey Sims" → "a wife": whose, the answer cannot say
    first = phrase.split()[0]
    second = phrase.split()[1:2]
    if common is not None and proper is not None:
        low = first.casefold()
        lower_it = (low in ROLE_SET or low in _COMMON_MODIFIERS
                    or (low in common and not (low in proper and second and second[0][:1].isupper())))
    else:
        lower_it = first.casefold() in ROLE_SET or not second or second[0][:1].islower()
    if sentence.startswith(phrase) and first[:1].isupper() and first[1:].islower() and lower_it:
        phrase = first.casefold() + phrase[len(first):]  # "Council leader Maria Holt said …": capital of the sentence
        first = first.casefold()
    if (first.casefold() in ROLE_SET and not first.isupper()) or (first[:1].isupper() and first.casefold() in STOPWORDS):
        phrase = first.casefold() + phrase[len(first):]  # "Actress Julia …" → "an actress"
        first = first.casefold()
    if not (first in {"the", "a", "an", "his", "her", "their", "its"} or re.search(r"['’]s$", first)
            or re.match(r"(?:[A-Z][\w.-]* ){0,2}[A-Z][\w.-]*['’]s\b", phrase)):  # "Tom Berg's wife"
        if any(w[:1].isupper() for w in phrase.split()):
            phrase = "the " + phrase  # "Masters chairman" → "the Masters chairman": one of a kind
        else:
            phrase = ("an " if first[:1] in "aeiou" else "a ") + phrase
    phrase = _DOUBLED.sub(r"\1", phrase)  # "the founder and and president": the source's slip, not ours to repeat
    phrase = " ".join(w.casefold() if w.casefold() in ROLE_SET and not w.isupper() else w for w in phrase.split())
    return f"{name} is {phrase}."  # "the Paris mayor", not "the Paris Mayor"


_PAST = {"made": "make", "took": "take", "gave": "give", "left": "leave", "went": "go", "came": "come", "fled": "flee",
         "quit": "quit", "lost": "lose", "won": "win", "sold": "sell", "bought": "buy", "paid": "pay", "kept": "keep",
         "held": "hold", "chose": "choose", "broke": "break", "ran": "run", "fell": "fall", "became": "become",
         "began": "begin", "threw": "throw", "drove": "drive", "wrote": "write", "stole": "steal", "sent": "send",
         "spent": "spend", "built": "build", "cut": "cut", "shut": "shut", "hit": "hit", "put": "put", "set": "set",
         "sued": "sue", "fought": "fight", "sought": "seek", "struck": "strike", "withdrew": "withdraw", "rose": "rise",
         "caught": "catch", "grew": "grow", "got": "get", "saw": "see", "brought": "bring", "taught": "teach",
         "thought": "think", "killed": "kill", "called": "call", "filled": "fill", "pulled": "pull", "rolled": "roll", "spilled": "spill"}
_PARTICIPLE = re.compile(r"^(?:[a-z]{2,}(?:ed|en|wn)|made|left|held|kept|sent|built|paid|sold|lost|won|hit|cut|shut|put|"
                         r"set|told|found|brought|bought|caught|taught|fought|run|come|become|begun|gone|done|struck|stuck)$")
_NO_WHY = {"said", "told", "added", "explained", "asked", "noted", "wrote", "claimed", "insisted", "needed", "wanted",
           "liked", "loved", "used", "based", "aged", "named", "seen", "been", "seemed", "appeared", "felt", "happened"}
_WHY = re.compile(r"(?P<aux>(?:has|have|had) been |(?:is|are|was|were|has|have|had) )?(?P<verb>[a-z]{3,})"
                  r"(?P<obj>(?: (?!because\b|due\b|owing\b)[a-z0-9][\w'’-]*){0,4}),? (?:because|due to|owing to)\b")
_WHY_AFTER = re.compile(r"(?P<aux>(?:has|have|had) been |(?:is|are|was|were|has|have|had) )?(?P<verb>[a-z]{3,})"
                        r"(?P<obj>(?: (?!after\b|over\b)[a-z0-9$£€][\w'’,.-]*){0,5}),? (?:after|over)\b"
                        r"(?! ?(?:\d|the (?:weekend|years?|months?|weeks?|days?|match|game|break)\b|(?:last|this|next)\b|(?:a|an) (?:while|hour|year|week|month|day|minute|moment|few|couple|spell|period)\b|"
                        r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|February|March|April|May|June|"
                        r"July|August|September|October|November|December)\b|[a-z]+ (?:years?|months?|weeks?|days?|hours?|minutes?)\b))")
# What is done to someone for a reason ("suspended after a rant", "criticised over the cost"): "after" and "over"
# give the cause only after such a verb.
_CONSEQUENCES = frozenset("""arrested charged jailed imprisoned suspended sacked fired banned fined sued criticised criticized
slammed blasted condemned praised hospitalised hospitalized withdrawn resigned quit apologised apologized axed dropped
punished investigated questioned detained evacuated closed cancelled canceled postponed delayed grounded recalled removed
deported expelled forced ordered disqualified excluded stripped accused attacked mocked ridiculed shamed
reprimanded warned cautioned""".split())  # noqa: SIM905
_OPEN_END = {"the", "a", "an", "to", "of", "in", "on", "for", "with", "at", "by", "and", "or", "from", "that", "this",
             "its", "their", "his", "her", "as", "than", "very", "so"}
_PRONOUNS = {"he", "she", "it", "they", "him", "her", "them", "his", "their", "its", "we", "us", "our", "i", "me", "my",
             "you", "your", "himself", "herself", "themselves", "itself"}


def why_question(subject: str, rest: str) -> str | None:
    """ "Why …?" from a reason clause after the subject: "… was closed because of flooding" → "Why was the road
    closed?", "… delayed the vote because …" → "Why did the council delay the vote?". None when the verb
    phrase cannot be turned round with certainty."""
    m = _WHY.match(rest)
    if not m:
        m = _WHY_AFTER.match(rest)  # "… has been suspended from her job after a rant": a consequence and its cause
        if not m or m.group("verb") not in _CONSEQUENCES:
            return None
        if any(w in _PRONOUNS for w in m.group("obj").split()) or (m.group("obj").split()[:1] and (
                m.group("obj").split()[0] in _HEAD_PREPOSITIONS)):
            rest = rest[:m.start("obj")] + " because"  # "Why has X been suspended?": the verb alone asks it
            m = _WHY.match(rest)
            if not m:
                return None
    aux, verb, obj = (m.group("aux") or "").split(), m.group("verb"), m.group("obj")
    words = obj.split()
    if verb in _NO_WHY or any(w in _PRONOUNS for w in words) or (words and words[-1] in _OPEN_END):
        return None  # "Why did X say …?", "Why was X told his …?", "Why did X move to?"
    if aux:
        if not _PARTICIPLE.match(verb):
            return None  # "is planning", "was happy"
        middle = " ".join([*aux[1:], verb])  # "has been closed" → "Why has the road been closed?"
        return f"Why {aux[0]} {subject} {middle}{obj}?"
    if verb in _PAST:
        base = _PAST[verb]
    elif verb.endswith("ed") and not verb.endswith("lled"):
        import simplemma  # irregular forms and spelling: "delayed" → "delay", "banned" → "ban"

        base = simplemma.lemmatize(verb, lang="en")
        if base == verb or len(base) < 3 or not base.isalpha():
            return None
    else:
        return None  # "says", "wants": the present tense is not asked about
    return f"Why did {subject} {base}{obj}?"


_ORG_WORDS = ("company|firm|group|charity|organisation|organization|agency|startup|start-up|retailer|bank|airline|brand|"
              "party|union|club|team|university|college|school|hospital|foundation|institute|nonprofit|non-profit|"
              "watchdog|regulator|manufacturer|maker|developer|publisher|broadcaster|chain|operator|provider|giant|body|"
              "network|platform|website|magazine|newspaper|museum|laboratory|lab|programme|program|initiative|campaign|"
              "festival|competition|tournament|league|fund|insurer|carrier|supermarket|restaurant|hotel|studio|label|"
              "consultancy|coalition|alliance|movement|outlet|project|scheme|service|app|game|show|series|band|court")
_ORG_APPOS = Gated(re.compile(rf"(?:^|(?<=[.;:] )|(?<=, ))(?P<name>[A-Z][\w&'’.-]*(?: (?:[A-Z][\w&'’.-]*|of|for|and|&|de|the))*?)"
                        rf", (?P<phrase>(?:a|an|the) (?:[\w'’-]+ ){{0,6}}?(?:{_ORG_WORDS})\b[^,;:()\"“”]{{0,50}}?),"),
                   ", a ", ", an ", ", the ")  # an appositive opens with a comma and an article


def org_answer(sentence: str, name: str) -> str | None:
    """ "What is X?" answered by the appositive that introduces X: "Fernleaf, a Dublin-based charity that …,
    said …" → "Fernleaf is a Dublin-based charity that …"."""
    for m in _ORG_APPOS.finditer(sentence):
        phrase = m.group("phrase")
        if m.group("name") != name or _NOT_ORG.search(phrase) or _ROLE_RX.search(phrase):
            continue  # "Dr. Luz Arroyo, a member of the group, …" is a person: no "What is …?"
        if _TITLE_BEFORE.search(sentence, 0, m.start()):
            continue
        return f"{name} is {phrase}."
    return None


_NOT_ORG = re.compile(r"\b(?:who|said|says|member|members|one|part|head|leader|founder|co-founder|employee|worker|"
                      r"volunteer|fan|resident|official|partner|owner|editor|reporter|fellow|veteran)\b")
_TITLE_BEFORE = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|Prof|Sir|Dame|Lord|Lady)\.? $")


def template_questions(sentence: str, body_lower: set[str] | None = None, names: bool = True,
                       known: frozenset[str] | set[str] = frozenset(),
                       proper: set[str] | None = None, subjects_out: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """(question, kind) pairs this sentence answers with certainty of form; may be empty.

    `body_lower` (the article's lower-case words) tells a sentence-initial common noun
    ("Researchers found …") from a name, so the question reads "What did researchers find?".
    `proper` (words the article capitalises mid-sentence) does the same more surely: a sentence's
    first word that is not among them is a common noun ("Counters will record …").
    `names=False` (an all-lower-case text) keeps only subjects that open with a determiner
    ("the couple", "a 12-year-old girl"), are common nouns ("police") or end in a `known` name.
    `subjects_out` receives question → subject for the shapes whose subject a question does not show
    unambiguously ("Why did the council delay the vote?", "What is Fernleaf?").
    """
    out: list[tuple[str, str]] = []
    if sentence.endswith("?") or len(sentence.split()) < 6:
        return out
    for rx in [] if names else _WHO_LOWER:
        for m in rx.finditer(sentence):
            words = m.group("name").split()
            if any(w.casefold() in STOPWORDS or w.endswith(("ing", "ed", "ly")) or w.casefold() in ROLE_SET
                   or w in NOT_NAME_START or w in TIME_WORDS for w in words):
                continue
            q = f"Who is {' '.join(w[:1].upper() + w[1:] for w in words)}?"  # a role or an age marks a person's name
            if not question_problems(q):
                out.append((q, "who"))
    roles = names and not _ROLE_TOKENS.isdisjoint(_LETTERS.findall(sentence))
    for rx in _WHO if roles else []:  # both patterns need a role word, a whole run of letters
        for m in rx.finditer(sentence):
            name = m.group("name")
            if name.split()[0] in NOT_NAME_START or name.split()[-1] in NOT_NAME_START or _POSSESSOR.search(name):
                continue  # "Nicola Sturgeon's answers": a possessor, not the person asked about
            q = f"Who is {name}?"
            if not question_problems(q):
                out.append((q, "who"))
    if study := _STUDY.search(sentence):  # "A new study by … found that …", "…, according to a survey."
        out.append((f"What did the {(study.group('noun') or study.group('noun2')).casefold()} find?", "study"))
    for m in _SAID_NAME.finditer(sentence) if names else []:
        if m.group("subj").split()[0] not in NOT_NAME_START:
            out.append((f"What did {m.group('subj')} say?", "say"))
    for m in _ORG_APPOS.finditer(sentence) if names else []:
        name = m.group("name")
        if name.split()[0] in NOT_NAME_START or name.split()[-1] in {"of", "for", "and", "&", "de", "the"} or (" " not in name and len(name) < 3):
            continue
        if org_answer(sentence, name) and not question_problems(q := f"What is {name}?"):
            out.append((q, "what"))
            if subjects_out is not None:
                subjects_out[q] = name
    because = (" because " in sentence or " due to " in sentence or " owing to " in sentence or " after " in sentence
               or " over " in sentence)
    answered: set[int] = set()  # clause starts whose (shortest) subject already met its verb
    for start, subj, end in _subjects(sentence):
        rest = sentence[end:]
        if start in answered or not _ANY_VERB.match(rest) or not _subject_ok(subj):
            continue  # one combined match first: most clause starts meet no template (keeps bulk runs fast)
        if start and open_quote(sentence[:start]):
            continue  # "'… Taylor has admitted to owing millions,' the statement said": someone's claim, not a fact
        if (not names and not _DET_SUBJECT.match(subj) and subj.casefold() not in _COMMON_SUBJECTS
                and subj.split()[-1].casefold() not in known):
            continue
        if start == 0 and " " not in subj and not subj.isupper() and not any(c.isupper() for c in subj[1:]) and (subj.casefold() in (body_lower or set()) or subj.casefold() in _COMMON_SUBJECTS
                                               or (proper is not None and subj.casefold() not in proper)):
            subj = subj.casefold()
            if subj not in _COMMON_SUBJECTS and subj not in {"police", "officials"}:
                continue  # "Data previously collected …" → "What did data do?": a bare noun is no one to ask about
        if because and (why := why_question(_subject_text(subj), rest)) and not question_problems(why):
            out.append((why, "why"))  # the most telling question this clause answers
            if subjects_out is not None:
                subjects_out[why] = _subject_text(subj)
            answered.add(start)
            continue
        for rx, template, kind in _VERB_TEMPLATES:
            vm = rx.match(rest)
            if not vm or (rest[vm.end() - 1:vm.end()].isalpha() and rest[vm.end():vm.end() + 1].isalpha()):
                continue  # the verb must be a whole word: "allegedly" is not "alleged", "foundation" not "found"
            if len(rest[vm.end():].split()) < 3:
                continue  # nothing left to answer with
            if kind in {"launch", "promise"} and not _HAS_OBJECT.match(rest, vm.end()):
                answered.add(start)  # "Stadia launches tomorrow", "Google promised more": nothing launched, nothing
                break  # promised, and the verb is no other deed either
            if kind == "find" and rest[vm.end():].startswith(" out "):
                q = template.replace("find?", "find out?").replace("{S}", _subject_text(subj))  # not "What did X find?"
                if not question_problems(q):
                    out.append((q, kind))
                answered.add(start)
                break
            if kind == "happened" and not _EVENT.search(rest, 0, vm.end() + 7):  # "was found guilty": its word after
                continue  # "The final is being played …", "… was promoted": nothing happened *to* the subject
            if kind == "do" and _NOUN_AFTER.match(rest, vm.end()):
                answered.add(start)  # "Ascom registered shares are listed …": the -ed word was an adjective
                break
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
                if first_word in {"has", "have", "had"}:  # "has raised $40m" → "How much has X raised?"
                    q = f"How much {first_word} {{S}} {vm.group(0).split()[1]}?"
                elif first_word == "costs":
                    q = "How much does {S} cost?"  # the price now, not a past cost
                else:
                    q = template.replace("{BE}", first_word).replace("{B}", _BASE.get(first_word, ""))
            elif kind == "will" and (when := when_will(s, rest[vm.end():])):
                q, kind = when, "when"  # "When will Wiggins bid for the hour record?" over "What will Wiggins do?"
                if subjects_out is not None:
                    subjects_out[q] = s
            elif kind == "do" and (act := act_question(s, vm.group(0), rest[vm.end():])):
                q, kind = act  # "What did Jordan close?", "How many goals has Benzema scored?": the verb asked about
                if subjects_out is not None:
                    subjects_out[q] = s
            else:
                q = template
            q = q.replace("{S}", s).replace("{AUX}", vm.group(0).split()[0])  # the verb agrees as in the sentence
            if s.casefold() in {"police", "officials"} and "did" not in q and "does" in q:
                q = q.replace("does", "do")
            if "What does" in q and kind in {"claim", "plan"} and (s.casefold().startswith(("police", "officials"))
                                                                   or (s.endswith("s") and " and " in s)
                                                                   or _PLURAL_SUBJECT.search(s)):
                q = q.replace("What does", "What do")
            if not question_problems(q):
                out.append((q, kind))
            answered.add(start)
            break
    return out


_RESEARCH = "study|survey|poll|report|research|analysis|review|paper|trial|experiment|audit|investigation|inquiry|census"
_STUDY = Gated(re.compile(
    rf"(?:^|(?<=[.;:] )|(?<=, ))(?:(?:A|An|The|This|Their|Its|Our|a|an|the) )?(?:[\w'’-]+ ){{0,3}}?(?i:(?P<noun>{_RESEARCH}))\b"
    r"(?: (?:by|from|of|published|carried out|conducted|released|commissioned|led|funded|in|at|for|on|into)\b"
    r"(?:[^.;,\"“”]|(?<=\d)[,.](?=\d)){0,80}?)?"
    r",? (?:found|finds|showed|shows|revealed|reveals|suggests|suggested|concluded|concludes)\b"
    rf"|, according to (?:(?:a|an|the|new|(?:a|the) new|(?:a|the) recent) )?(?:[\w'’-]+ ){{0,3}}?(?P<noun2>{_RESEARCH})\b[^,;]{{0,60}}\.$"),
    "found", "finds", "show", "reveal", "suggest", "conclude", "according to")

# What happens *to* someone, the only shapes "What happened to X?" asks well about.
_EVENT = re.compile(r"\b(?:died|passed away|killed|injured|hurt|wounded|shot|stabbed|attacked|assaulted|arrested|"
                    r"detained|jailed|imprisoned|freed|released|kidnapped|abducted|rescued|evacuated|hospitali[sz]ed|"
                    r"fired|sacked|suspended|expelled|banned|sentenced|deported|eliminated|dropped|injured|hit|struck|"
                    r"found dead|missing|found guilty|convicted|acquitted|cleared|handcuffed|charged|indicted|"
                    r"stranded|trapped|banned|bitten|mauled|robbed|sentenced)\b")

# Verbs too light to ask about on their own ("What did Nadal keep?" of "kept Spain's hopes alive"): the generic
# "What did X do?" stays for them.
_LIGHT_VERBS = frozenset("""keep kept make made take took taken get got gotten give gave given have had do did done go
went gone come came put set turn turned leave left let see saw seen hold held bring brought run ran become became
begin began begun seem seemed feel felt look looked find found tell told say said ask asked use used want wanted need
needed try tried start started continue continued help helped allow allowed spend spent pay paid reach reached mark
marked""".split())  # noqa: SIM905
_DETERMINED = re.compile(r" (?:the|a|an|its|his|her|their|our|this|that|these|those|some|several|every|each|no|"
                         r"another)\b(?! (?:same|other|fact|way|time|moment|idea)\b)")
_COUNTED = re.compile(r" (?P<n>\d[\d,.]*|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|"
                      r"thirty|forty|fifty|dozens of|hundreds of|thousands of|millions of) (?P<noun>[a-z]{3,}s)\b(?!['’-])")
_NOT_COUNTED = frozenset("""years months weeks days hours minutes seconds times miles metres meters feet inches
kilometres kilometers pounds dollars euros cents percent others ones ways bits lots""".split())  # noqa: SIM905


_WHEN_WILL = re.compile(r"(?P<vp>[a-z][\w'’-]*(?: [\w'’-]+){0,7}?) (?:on|in|at|by|from|until|next|this|later|early|"
                        r"before|after) (?=(?:the )?(?:\d|(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|"
                        r"January|February|March|April|May|June|July|August|September|October|November|December)\b|"
                        r"(?:week|month|year|spring|summer|autumn|fall|winter|weekend)\b|(?:next|this) ))")


def when_will(subject: str, rest: str) -> str | None:
    """ "When will X …?" from "X will <verb phrase> on June 7" (the verb phrase as the sentence has it, up to eight
    words, no comma, no pronoun): the date is the answer. None without a date right after the verb phrase."""
    m = _WHEN_WILL.match(rest)
    if not m:
        return None
    vp = m.group("vp")
    words = vp.split()
    if words[-1] in _OPEN_END or any(w.casefold() in _PRONOUNS for w in words) or words[0] in {"be", "not", "also"}:
        return None
    return f"When will {subject} {vp}?"


def act_question(subject: str, verb_phrase: str, obj: str) -> tuple[str, str] | None:
    """ "What did X <verb>?" from "X <verb>ed the/a/its …": the action asked about by its own verb, and "How many
    <things> did X <verb>?" from "X <verb>ed 15 <things>". None for a light verb ("kept", "made") or a verb not
    followed by its object (a phrasal verb: "called out", "picked up"); then "What did X do?" stays."""
    words = verb_phrase.split()
    verb = words[-1]
    aux = words[0] if words[0] in {"has", "have", "had"} else None
    if verb in _LIGHT_VERBS or verb.endswith("ly"):
        return None
    if aux is None:
        base = _PAST.get(verb)
        if base is None:
            if not verb.endswith("ed"):
                return None
            import simplemma  # "closed" → "close", "banned" → "ban"

            base = simplemma.lemmatize(verb, lang="en")
            if base == verb or len(base) < 3 or not base.isalpha():
                return None
        asked = f"did {subject} {base}"
    else:
        asked = f"{aux} {subject} {verb}"
    if (m := _COUNTED.match(obj)) and m.group("noun") not in _NOT_COUNTED:
        return f"How many {m.group('noun')} {asked}?", "count"
    if _DETERMINED.match(obj):
        head = _OBJECT_HEAD.match(obj)
        if head and head.group(1) in _ABSTRACT:
            return None  # "expressed his interest", "surpassed the 100 appearances mark": the object says nothing alone
        return f"What {asked}?", "act"
    return None


_OBJECT_HEAD = re.compile(r" \w+(?: [\w'’-]+){0,3}? ([a-z]+)(?=[,.;:]| (?:in|of|to|for|on|at|with|from|by|as|after|"
                          r"before|and|that|which|who|over|into|against|since)\b|$)")
_ABSTRACT = frozenset("""interest support concern concerns hope hopes desire view views opinion gratitude sympathy
condolences anger frustration disappointment doubts doubt fears fear confidence belief wish intention delight shock
surprise regret praise admiration points mark scales role part place way time chance opportunity step steps look
attention side best worst hand hands mind heart eye eyes touch lead stage""".split())  # noqa: SIM905


TITLE_WORDS = {"Mr", "Mrs", "Ms", "Miss", "Dr", "Prof", "Sir", "Dame", "Lord", "Lady", "President", "Senator", "Judge",
                "Actress", "Actor", "Singer", "Star", "Model", "Former", "Chancellor", "Minister", "Secretary"}


def question_subject(q: str) -> frozenset[str] | None:
    """The words of the name a question is about (titles and "the" left out), or None."""
    m = re.match(r"^\w+ (?:did|does|do|is|was|were|are|will|has|have) (.+?) (?:say|claim|announce|reveal|warn|admit|deny|find|"
                 r"confirm|urge|promise|launch|agree|charged|accused|convicted|found|sentenced|suing|sued|banned|born|do|"
                 r"plan|pay|worth|done|doing|happen)\b", q)
    if not m:
        m = re.match(r"^(?:Who is|What (?:is|has) happen(?:ed|ing) to|What happened to|What do we know about) (?:the )?(.+?)\?$", q)
    if not m:  # "What did Jordan close?", "How many goals has Benzema scored?"
        m = re.match(r"^(?:What|How many [a-z]+) (?:did|has|have|had) (?:the )?(.+?) [a-z]+\?$", q)
    if not m:
        return None
    words = frozenset(w.casefold() for w in m.group(1).split()
                      if w not in TITLE_WORDS and w.rstrip(".") not in {"Mr", "Mrs", "Ms", "Dr", "the"})
    return words or None
