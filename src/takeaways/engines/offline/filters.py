"""Sentence checks and filters: captions and credits, lines that are never a takeaway, well-formed questions."""

from __future__ import annotations

import re
from collections.abc import Iterator

from .text import (
    DATELINE,
    ENDS_SENTENCE,
    LEAD_CONNECTIVE,
    QUOTATION,
    STOPWORDS,
    WORD,
    AnyGate,
    Gated,
    Unit,
    open_quote,
    quote_spans,
    stem,
    unbalanced_quotes,
)

# --- captions and credits ---------------------------------------------------------------------------
# News pages run photo captions into the text: "Scroll down for video Strictly business: Julia covers
# the May issue (pictured) Julia revealed …". A caption is neither a takeaway nor an answer, and a name
# seen only in one is no subject to ask about.
_CAPTION_MARK = Gated(re.compile(
    r"\bScroll down for (?:video|more)\b"
    r"|\((?:pictured|left|right|centre|center|above|below|top|bottom|inset|file(?: photo)?|stock (?:image|photo)|"
    r"second (?:left|right)|far (?:left|right)|front|back|middle)\b[^()]{0,40}\)"
    r"|, (?:pictured|seen|shown)\b(?: (?:here|above|left|right|with|in|at|on|during|as|after|before|campaigning))?"
    r"|\b(?:Pictured|Above|Below|Left|Right|Inset)(?: (?:left|right|centre|center|above|below))?: "
    r"|(?:^|\b)(?:From (?:left|right)|(?:From )?[Ll]eft to right|L-R|Clockwise from (?:top )?(?:left|right)),"
    r"|(?:^|(?<=[a-z0-9)'’] ))(?!(?:Mr|Mrs|Ms|Dr|He|She|They|It|We|I)\b)[A-Z][\w'’-]*(?: [\w'’-]+){0,4}: (?=[A-Z])"),
                      'scroll down for', '(pictured', '(left', '(right', '(centre', '(center', '(above', '(below',
                      '(top', '(bottom', '(inset', '(file', '(stock', '(second', '(far', '(front', '(back', '(middle',
                      ', pictured', ', seen', ', shown', ': ', 'from left', 'from right', 'left to right', 'l-r', 'clockwise')
_LABEL_VERB = re.compile(r"\b(?:said|says|say|added|told|tells|explained|wrote|writes|tweeted|posted|asked|replied|"
                         r"stated|announced|is|are|was|were|has|have|had|will|would|can|could)\b", re.I)
# "With the new Avengers: Age of Ultron …": a prepositional phrase with an article leads a sentence, not a caption.
_LABEL_PHRASE = re.compile(r"(?:With|In|On|At|For|From|After|Before|As|Of|By|To|Under|Over) (?:[\w'’-]+ )*?(?:the|a|an|his|her|their|its|this|that)\b")
# After the last caption a sentence of the text resumes; it opens with a word that is rarely capitalised mid-caption.
_RESUME = re.compile(
    r"(?<=[a-z0-9)'’]) (?=(?:The|A|An|He|She|It|They|We|His|Her|Their|Its|In|On|At|But|And|When|After|As|Ever|This|"
    r"That|These|Those|There|Mr|Mrs|Ms|Dr|According|Speaking|However|Meanwhile|While|Although|Since|If|Last|"
    r"Earlier|Later|During|Before|Despite|Following|Under|Over|With|For|From)\b)")
_CREDIT_LINE = re.compile(r"^(?:Photo|Image|Picture|Video|Credit|Source|Illustration|Graphic)s?(?: credits?| by| courtesy"
                          r"(?: of)?)?\s*[:|/-]", re.I)
_CREDIT = Gated(re.compile(
    r"\((?:AP|AFP|Reuters|Getty|EPA|PA|Shutterstock|Bloomberg)(?: Photo| Images?)?(?:/[^()]{2,40})?\)\s*$"
    r"|\b(?:Getty Images|Shutterstock|AP Photo|AFP via Getty|Photograph: |Image credit|Photo credit|Photo by )", re.I),
    "(ap", "(afp", "(reuters", "(getty", "(epa", "(pa", "(shutterstock", "(bloomberg", "getty", "shutterstock",
    "ap photo", "photograph: ", "image credit", "photo credit", "photo by ")


# A caption glued to the sentence with no stop between: "… listed in stable condition at the hospital He is
# listed …": a lower-case word, then a word that opens sentences and a lower-case word.
_GLUE = re.compile(r"(?<=[a-z0-9)]) (?:Mr|Mrs|Ms|Dr|The|He|She|They|It|We|His|Her|Their|Its|This|These|Those|There) (?=[a-z])"
                   r"|(?<=[a-z]['’\"”]) (?:(?:Mr|Mrs|Ms|Dr)\.? [A-Z][a-z]+|He|She|They|We) (?=[a-z])"  # "… 'all evasion' Mr Brown urged …"
                   r"|(?<=[\w.,!?][’\"”]) (?=[‘\"“][A-Z])"  # "… next week.” “We never …": two quotations run together
                   r"|(?<=[a-z]{2}) (?:In|On|At|After|During|Following|When|While|Despite|Since|Before|But) "
                   r"(?=[A-Z0-9]|(?:the|a|an|his|her|their|its) [a-z])")  # "… making tapes In October last year, …"


# "… on a policeman Sheriff Derek O'Carroll spared …": a lower-case word, a title and a name, then a verb in the past,
# with no stop before the title (the word before is none that leads into a name: "said", "by", "to", …).
_GLUED_TITLE = re.compile(r"(?<=[a-z]{3}) (?:Mr|Mrs|Ms|Dr|Sheriff|Judge|Former|Chief|Prosecutor|Detective|Officer)\.?"
                          r"(?: [A-Z][\w'’.-]+){1,6} (?!said\b|told\b|added\b)[a-z]{3,}ed\b")
_LEADS_TO_NAME = frozenset("""said says told added by to from with and or of for at as when after before like than
including under against between where while whom that which who is was""".split())  # noqa: SIM905


def glued(text: str) -> bool:
    """Two sentences (or a caption and a sentence) run together without a stop, four words or more in.
    Kept for ranking and takeaways (the CNN/DailyMail highlights often restate the caption, so cutting it
    costs ROUGE), but such a run-on is no answer."""
    if any(len(WORD.findall(text, 0, m.start())) >= 4 for m in _GLUE.finditer(text)):
        return True
    for m in _GLUED_TITLE.finditer(text):
        before = text[:m.start()].rsplit(" ", 1)[-1]
        if before.casefold() not in _LEADS_TO_NAME and len(WORD.findall(text, 0, m.start())) >= 4:
            return True
    return False


# Where a caption without a stop runs into the sentence after it: a word that ends a phrase (lower case, a
# figure, a closing quote or bracket), then a word that opens sentences and is rarely capitalised inside one,
# then a lower-case word ("… could sell for less In a study published today, …", "… the massive heist This
# FBI sketch shows …"). The pronouns and articles also count after a capitalised word ("… Nigel Farage The
# study found …"): "The" with a lower-case word after it does not sit inside a name.
# A capitalised word between two others, then a lower-case one: where a seam may be (one cheap pattern; the word
# and what comes before it are checked in Python).
_SEAM = re.compile(r"(?<=[\w%)'’\"”]) +([A-Z][a-z]*(?:['’]s)?)(?= +([a-zA-Z]))")  # the words may overlap
_SEAM_BEFORE_NAME = frozenset("This These Those".split())  # noqa: SIM905 - "… heist This FBI sketch shows …"
_SEAM_AFTER_ANY = frozenset("The This These Those They He She It We His Her Their Its".split())  # noqa: SIM905
_SEAM_AFTER_LOWER = frozenset("""A An There It's It’s In On At As After When While But Like If According Speaking However
Meanwhile Although Since During Before Despite Following With For From Last Earlier Later Now Some Many Most Other Others
One Each Both Asked Losing Having Being Head Former Police Officers Scientists Researchers Experts Fans Supporters
Residents Officials Doctors Critics Witnesses Footage Video""".split())  # noqa: SIM905 - a word list reads better as text
_STOP_BEFORE = re.compile(r"[.!?]['\"’”]?\s*$")
# A sentence opening with a participle: "… to break free Moving its legs, the fly …" (not a place: "in Beijing the").
_GERUND_SEAM = re.compile(r"(?!(?:Beijing|Nanjing|Chongqing|Kunming|Reading|Wyoming|Sterling|Stirling|Ealing|Woking|Epping|"
                          r"Dorking|Worthing|Kettering|Ewing|Fleming|Harding|Kipling|Browning|Darling|King|Spring|Viking|"
                          r"Wedding|Building|Thing|Sing)\b)[A-Z][a-z]{2,}ing (?:its|his|her|their|the|a|an|to|up|out|off|on|"
                          r"into|through|back|down|over)\b")
GLUE_TAIL_WORDS = 8  # the sentence after a glued caption: at least this long, and it ends with a stop


def glue_cut(text: str) -> int:
    """Where the sentence proper starts in a unit that opens with a caption (or captions) glued to it without
    a stop: the last such seam with a whole sentence after it (GLUE_TAIL_WORDS words or more, ending with a
    stop) and four words or more of caption before it; 0 when there is none. The caption part is not shown
    but still counts for ranking (the CNN/DailyMail highlights often restate it)."""
    if len(text) < 60 or not ENDS_SENTENCE.search(text):
        return 0
    cut = 0
    for at in sorted(_seams(text)):
        if len(WORD.findall(text, 0, at)) < 4 or _STOP_BEFORE.search(text, 0, at):
            continue  # a stop before the seam: two sentences the splitter kept together, not a caption
        tail = text[at:]
        if len(WORD.findall(tail)) < GLUE_TAIL_WORDS or unbalanced_quotes(tail):
            break  # later seams leave even less
        cut = at
    return cut


def _seams(text: str) -> Iterator[int]:
    """Where a sentence may start after a caption without a stop: before a word that opens sentences (see _SEAM).
    Not before a quotation ("… snatch victory 'The performance …"): the caption before it is often the point."""
    for m in _SEAM.finditer(text):
        word, before = m.group(1), text[m.start() - 1]
        if word not in _SEAM_AFTER_ANY and (word not in _SEAM_AFTER_LOWER or before.isupper()) and not (
                _GERUND_SEAM.match(text, m.start(1)) and not before.isupper()):
            continue
        if m.group(2).isupper() and (word not in _SEAM_BEFORE_NAME or before.isupper()):
            continue  # "… told The Times …", "… met He Jiankui …": a capital after it is a name
        yield m.start(1)


def caption_cut(text: str) -> int | None:
    """Where the sentence proper starts in a unit with photo captions run into it: 0 when there are none,
    None when the whole unit is caption or credit (or no sentence can be told from the caption text)."""
    if _CREDIT_LINE.match(text) or _CREDIT.search(text):
        return None
    last = -1
    for m in _CAPTION_MARK.finditer(text):
        if m.group(0).endswith(": ") and (_LABEL_VERB.search(m.group(0)) or text[m.end():m.end() + 1] in "\"'“‘"
                                          or _LABEL_PHRASE.match(m.group(0))):
            continue  # "Mr Wang said: 'Big kites …'", "The plan is simple: …": a colon in a sentence
        if m.group(0).endswith(": ") and any(a < m.start() < b for a, b in quote_spans(text)):
            continue  # the documentary "Going Clear: Scientology and …": a title in quotation marks
        last = m.end()
    if last < 0:
        return 0
    for r in _RESUME.finditer(text, last):
        tail = text[r.end():]
        if len(WORD.findall(tail)) >= 8 and ENDS_SENTENCE.search(tail):
            return r.end()
        break
    return None


PROMO = AnyGate(
    Gated(re.compile(r"(?:^|\W)@\w{3,}|https?://|\bwww\.\w|\b(?:subscribe|sign up|newsletter|follow (?:us|@)|click here|"
                     r"read more|share this|all rights reserved|copyright)\b|[©ⓒ]|무단\s?전재|無断転載|版权所有", re.I),
          '@', 'http', 'www.', 'subscribe', 'sign up', 'newsletter', 'follow us', 'click here', 'read more', 'share this',
          'all rights reserved', 'copyright', '©', 'ⓒ', '무단', '無断転載', '版权所有'),
    # the page selling itself: "Get the magazine delivered through your letterbox every month", "12 issues for
    # £11.99", "Start your day with …", "Welcome to the new …", "… in your inbox"
    Gated(re.compile(r"\bdelivered (?:to|through|straight to) your (?:door|doorstep|letterbox|letter box|inbox|home)\b"
                     r"|\b\d+ (?:issues|editions) for\b|\bcover price\b|\b(?:to|in) your inbox\b"
                     r"|^(?:Start|Begin) your (?:day|morning|week)\b|^Welcome to (?:the|our) (?:new|latest|all-new)\b"
                     r"|\bdon['’]t miss (?:out|a thing|an issue)\b|\balready a (?:subscriber|member)\b"
                     r"|\b(?:order|buy|get|grab) (?:your|a) copy\b", re.I),
          'delivered', 'issues for', 'editions for', 'cover price', 'inbox', 'start your', 'begin your', 'welcome to',
          't miss', 'already a', ' copy'),
    # "Follow NBC Latino on Facebook, Twitter and Instagram.", "… on our weekly politics podcast"
    Gated(re.compile(r"\bfollow [\w&.'’ -]{2,40} on (?:Facebook|Twitter|Instagram|TikTok|YouTube|LinkedIn|Threads)\b",
                     re.I), 'follow '),
    Gated(re.compile(r"\bour (?:[\w-]+ ){0,3}(?:podcast|newsletter|app|channel)\b", re.I),
          'podcast', 'newsletter', 'app', 'channel'),
    # the same in the languages the pages come in most: "Coloque nos seus favoritos", "Nesta página você terá
    # sempre …", "Suscríbete", "Folgen Sie uns", "Abonnez-vous", "Iscriviti"
    Gated(re.compile(r"\b(?:nesta página|n?os seus favoritos|inscreva-se|assine (?:já|a nossa)|siga-nos|suscr[ií]bete|"
                     r"s[ií]guenos|en esta página|abonnieren|folgen sie uns|abonnez-vous|suivez-nous|sur cette page|"
                     r"iscriviti|seguici|in questa pagina|clique (?:no link|aqui|nos links)|haga clic|haz clic|cliquez|"
                     r"klicken sie|clicca qui)\b", re.I),
          'página', 'favoritos', 'inscreva', 'assine', 'siga-nos', 'suscr', 'sígue', 'sigue', 'abonn', 'folgen sie',
          'suivez', 'cette page', 'iscriviti', 'seguici', 'questa pagina', 'clique', 'clic', 'cliquez', 'klicken',
          'clicca'),
)


DANGLING = re.compile(
    r"^(?:(?:He|She|They|It|We|His|Her|Their|Its|Him|Them)\b(?![’'-]s? own)"
    r"|(?:That|This|These|Those)(?:['’]s\b| (?:is|was|are|were|means|meant|comes|came|includes|included|"
    r"will|would|has|had|could|may|might)\b)"
    r"|(?:In|On|With|By|For|After|Before|From|Of) (?:it|this|that|them|him|these|those)\b"
    r"|(?:In|On|With|By|For|After|Before|From|Of) her\b(?![^,]*, [A-Z]))")  # "In her lawsuit, Karo states …" names her


# Sentences that are never a takeaway, whatever their score.
_DISCLOSURE = Gated(re.compile(
    r"^(?:Disclosure|Disclaimer|Editor['’]?s note|Correction|Clarification)\b"
    r"|\b(?:may (?:earn|receive) (?:a )?(?:small )?(?:commission|compensation)|affiliate (?:links?|commission)|"
    r"paid (?:subscriber|partnership)|sponsored (?:by|content)|(?:contributed|contributing) to this (?:report|story)|"
    r"(?:Reporting|Writing|Editing|Additional reporting) by\b|All times (?:are )?local|owns shares (?:of|in)|"
    r"(?:has|have) no (?:position|positions|financial interest) in|This (?:article|story|post|piece) (?:was|has been|"
    r"originally|first|is part)\b|terms of (?:use|service)|privacy policy|(?:accept|use) (?:of )?cookies|"
    r"is available (?:to stream|now) on|(?:download|get) (?:the|our) (?:free )?app"
    # the author's or the column's bio: "Dear Abby is written by …", "… can be reached at …"
    r"|^[A-Z][\w.'’ -]{1,40} (?:is|are) written by\b|\bcan be reached at\b|\b(?:email|write to) (?:him|her|the author)\b)",
    re.I),
                    'disclosure', 'disclaimer', 'editor', 'correction', 'clarification', 'may earn', 'may receive', 'affiliate', 'paid ', 'sponsored', ' to this ', 'reporting by', 'writing by', 'editing by', 'all times', 'owns shares', 'no position', 'no financial interest', 'this article', 'this story', 'this post', 'this piece', 'terms of', 'privacy policy', 'cookies', 'is available', 'the app', 'our app', 'free app',
                    'written by', 'reached at', 'email', 'write to')
NO_COMMENT = Gated(re.compile(r"\b(?:declined|refused) to (?:comment|elaborate)|did(?: not|n['’]t) (?:immediately )?(?:respond|reply|return)"
                         r"|could not (?:immediately )?be reached|(?:had|has|have) no (?:immediate )?comment\b", re.I),
                   'declined to', 'refused to', 'did not', 'didn', 'could not', 'no comment', 'no immediate comment')
_YOU = Gated(re.compile(r"\b(?:you|your|you['’](?:re|ve|d|ll))\b", re.I),
             'you')
_QUOTES = Gated(QUOTATION, '"', "“", "'", "‘")
_ASIDE = re.compile(r"^(?:Yes|No|Sure|Well|OK|Okay|Oh|Yeah|Yup|Yep|Nope|Wow|Alas|Sadly|Honestly|Seriously)\b[,!.]")
# The writer in the first person outside quotation marks ("Three years ago my friend Helen handed me a novel",
# "Words cannot describe how much I love …", "To approximate the value, we turned to …"): an aside unless it
# carries a figure ("I" in an anecdote names people freely) or, for "we", a figure or a name ("US" is no "us").
_FIRST_PERSON_ANY = re.compile(r"\b(?:I|I['’](?:m|ve|d|ll)|[Mm]e|[Mm]y|[Mm]yself|[Mm]ine|[Ww]e|[Ww]e['’](?:re|ve|d|ll)|[Oo]ur|us)\b")
_SINGULAR = re.compile(r"\b(?:I|I['’](?:m|ve|d|ll)|[Mm]e|[Mm]y|[Mm]yself|[Mm]ine)\b")
_FIGURE = re.compile(r"\d")
# The reader addressed about the article itself: "In case you are living in …", "Now you know …", "Yup, you read it right".
_READER = Gated(re.compile(r"^(?:In case|Now|So|As) you\b|^(?:Take a (?:minute|moment|look)|Imagine|Consider|Just think|"
                           r"Think (?:about|of|where|what|how)|Check out|Don['’]t (?:forget|miss))\b|\b(?:chances are(?:,)? you|you (?:read|heard) (?:it|that) right|"
                           r"as you (?:may|might|probably|already) (?:know|have heard)|you (?:may|might) (?:be wondering|"
                           r"have (?:heard|noticed|seen))|you(?:['’]ll| will) (?:love|want to (?:read|see|know)))\b", re.I),
                'you', 'take a', 'imagine', 'consider', 'think', 'check out', 'forget', 'miss')
# What points at the page rather than saying something: "Here, the site recounts ten of his finest moments",
# "Here's the most recent data …", "The plot above is based on …", "(see the chart below)".
_POINTER = Gated(re.compile(
    r"^Here(?:['’]s\b| (?:is|are)\b|,)"
    r"|\b(?:plot|graph|chart|map|table|list|gallery|infographic|graphic|video|clip|see|watch|click)\s(?:above|below)\b"
    r"|\b(?:see|watch|click) here\b|^(?:The )?following (?:chart|graph|table|map|list|graphic|video)\b", re.I),
    'here', 'above', 'below', 'following')
# A sentence that only introduces what follows ("… each path having one berth:").
_INTRODUCES = re.compile(r":\s*$")
# A leading line of capitals glued to the sentence: "BALL OF THE CENTURY Benaud was on hand …" (a list item's
# heading); a capitalised opening word ("A HUNTER who …") or a short initialism ("NASA Administrator …") is not one.
CAPS_LABEL = re.compile(r"(?=(?:[^a-z]*[A-Z]){10})[A-Z0-9][A-Z0-9'’&.-]*(?: [A-Z0-9][A-Z0-9'’&.-]*)+ (?=[A-Z][a-z])")
# "Prof. Carlos: Estou aqui …", "Q: …": a line of an interview transcript, not a statement of the article.
SPEAKER_LABEL = re.compile(r"^(?:[A-Z][\w.'’-]*(?: [A-Z][\w.'’-]*){0,2}|Q|A):\s")
_FIRST_PERSON = re.compile(r"^(?:I|I['’](?:m|ve|d|ll)|My|Me|Let me|Let['’]s|Let us)\b")
# A subject whose referent is in an earlier sentence: "Those gains were …", "All of that …", "The move comes …".
_DANGLING_SUBJECT = re.compile(
    r"^(?:(?:That|This|These|Those|Such) (?!(?:week|year|month|morning|afternoon|evening|weekend|season|time|summer|"
    r"winter|spring|autumn|fall)\b)(?:[\w'’-]+ ){0,2}?(?:(?:is|was|are|were|has|have|had|does|did|will|would|could|can|"
    r"may|might)(?:n['’]t)?|wo(?:n['’]t)|means?|meant|shows?|showed|suggests?|comes?|came|follows?|followed|includes?|"
    r"included)\b"
    r"|That (?:his|her|their|its|the|a|an)\b"  # "That her party want …": a that-clause without its sentence
    r"|All (?:of )?(?:that|this|these|those|it)\b|(?:Both|Neither|None|Each|Some|Many|Most) of (?:them|these|those)\b"
    r"|The (?:move|decision|report|findings?|announcement|change|incident|comments?|remarks?|news|latest|development)"
    r" (?:is|was|comes?|came|follows?|followed|marks?|marked)\b)")


_FIGURE_OR_NAME = re.compile(r"\d|(?<=[\w,;] )[A-Z][a-z]")
_OPENING_PHRASE = re.compile(r"^[A-Z][\w'’-]*(?: [\w'’-]+){0,2}, (?=[a-z])")
# "Or so says the actress …", "Which is not to say …": the second half of the sentence before.
# The first quote mark closes a quotation opened in an earlier sentence: "£64 a ticket' The cheapest tickets …"
# (a plural possessive, "the players' union", is no quote mark).
_CLOSES_FIRST = re.compile(r"^[^'‘’\"“”]{1,200}?(?<=[\w.,!?])(?<![sS])['’](?=\s|$)")
_OR_SO = re.compile(r"^(?:Or|Which|Whereas|Nor)\b")
# A pronoun subject right after an opening participle phrase that names no one ("Rebranded to resemble a
# fact-checking account, it posted …", "Launched last year, they …"); "Speaking to Holt, she …" names someone
# (who may be the referent), and "When police arrived, they …" has its own subject.
_PRONOUN_AFTER_PHRASE = re.compile(r"^[A-Z](?:[a-z]{2,}(?:ed|ing)|[a-z]{3,}en)\b[^,;:\"“”]{0,80}?, (?:(?:he|she|they)\b(?![’'-]s? own)|"
                                   r"it (?:said|says|announced|added|reported|revealed|confirmed|noted|warned|posted|"
                                   r"tweeted|claimed)\b)")
_NAME_INSIDE = re.compile(r"(?<=[\w,;] )[A-Z]")
# Lines that are not sentences: a menu in capitals ("E MOBILIDADE PLANO DIRETOR PROTOCOLO …"), a list of
# tags ("stock car brasil, stock car cascavel, …"), a date or a score without a stop ("Monday, 22 January 2018 at 0:13").
_WH_PHRASE = re.compile(r"^(In|For|From|With|To|At|On|By|Of|Under|After|Before) (what|which|whom|how)\b")
_STRAY_PUNCTUATION = re.compile(r"\s[,;:]|[,;:]\?|\s\?|\s{2}")
# A pronoun subject behind a longer opening phrase ("In the summer of 1924, they stretched …", "In addition
# to its order, it announced …"), and a verb whose object is elsewhere ("The band will do it with …").
_OPENERS = (r"(?:In|On|At|By|During|After|Before|Since|Following|Last|This|Earlier|Later|In addition to|Along with|"
            r"Besides|Like|Unlike|Despite)")
_LONG_OPENER = re.compile(rf"^{_OPENERS} [^,;:\"“”]{{2,70}}, (?:(?:he|she|they|we)\b(?![’'-]s? own)|it (?:said|says|announced|"
                          r"added|reported|revealed|confirmed|noted|warned)\b|(?:his|her|their) (?!own\b)[a-z])")
# A photo caption that ends with a stop: a noun phrase, then "pictured"/"seen" and where, no verb of its own
# ("Nauru guards pictured with Pauline Hanson at the rally in Brisbane."); "… were pictured …" is a sentence.
_PICTURED = re.compile(r"^(?:(?!\b(?:is|are|was|were|be|been|being|has|have|had|will|would|can|could|said|says)\b)[^,;:])"
                       r"{3,80}?\b(?:pictured|seen|shown|photographed)\b (?:with|at|in|on|during|outside|inside|leaving|"
                       r"arriving|after|before|as|while|left|right|here|above|below)\b")
# A pronoun subject behind a short adverb without a comma: "Finally he comes to a stop", "At least they returned
# a profit". (Behind a time, "Last year she was named …", it is most often the article's subject: kept.)
_SHORT_OPENER = re.compile(r"^(?:Finally|Eventually|Then|Now|Soon|Later|Still|Instead|Indeed|Perhaps|Even|Only|Also|"
                           r"At least|At first|At last|In return|In turn|For a (?:short )?(?:moment|while|time))"
                           r" (?:he|she|they|his|her|their)\b(?![’'-]s? own)")
_DO_IT = re.compile(r"\b(?:will|would|to|can|could|did|does) do (?:it|so|this|that)\b")


def boilerplate(text: str) -> bool:
    """A promo, a disclosure or a credit line ("… contributed to this report"): never shown, never an answer."""
    return bool(PROMO.search(text) or _DISCLOSURE.search(text))


def not_a_sentence(text: str) -> bool:
    """A menu in capitals, a list of tags, or a date or score line: five words or more, mostly capitals;
    no stop and four commas between short items; no stop and two figures in five words."""
    if sum(map(str.islower, text[:40])) < 12:  # ordinary text has more lower-case letters than that at its start
        upper, lower = sum(map(str.isupper, text)), sum(map(str.islower, text))
        if upper + lower >= 20 and upper >= 0.7 * (upper + lower) and len(text.split()) >= 5:
            return True
    if ENDS_SENTENCE.search(text):
        return False
    parts = text.split(",")
    if len(parts) >= 5 and sum(len(p.split()) for p in parts) <= 4 * len(parts):
        return True
    tokens = WORD.findall(text)
    return bool(tokens) and sum(t.isdigit() for t in tokens) * 5 >= 2 * len(tokens)


# A Japanese or Chinese question that ends with a full stop: "…でしょうか。", "…ですか。", "…吗。"
_CJK_QUESTION = re.compile(r"(?:でしょうか|ですか|ますか|のか|吗|呢)[。．]?\s*$")
# A bracketed byline or section tag opening the sentence: "[엔터미디어=정덕현의 이슈공감] …", "【新华社】…"
# (a tag with "=", "|" or "/" inside, or in 【】: "[The plan] is dead," with an editor's insertion, is no tag).
BRACKET_TAG = re.compile(r"\s*(?:\[[^\]=|/]{0,30}[=|/][^\]]{1,30}\]|【[^】]{1,30}】)\s*(?=\S)")


HOOK_WORDS = 15  # a first sentence shorter than this with no name and no figure sets a scene, it reports nothing


def hook(u: Unit) -> bool:
    """A first sentence that only sets the scene: short, with no name and no figure ("With summer around the
    corner, icy treats are back on the menu."). A lead that reports names someone or counts something."""
    return u.words < HOOK_WORDS and not _FIGURE_OR_NAME.search(u.text)


# The words (as `WORD` splits them: "I'm" is "I", "m") that `_FIRST_PERSON_ANY` looks for: a sentence without any
# of them needs no regex.
FIRST_PERSON_WORDS = frozenset("I me Me my My myself Myself mine Mine we We our Our us".split())  # noqa: SIM905


def first_person(text: str) -> bool:
    """The writer speaks as "I", "me", "we", "our" … outside quotation marks."""
    if not _FIRST_PERSON_ANY.search(text):
        return False
    return bool(_FIRST_PERSON_ANY.search(_QUOTES.sub(" ", text)))


def takeaway_problem(u: Unit) -> str | None:
    """Why a sentence can never be a takeaway (None when it can)."""
    t = u.text
    if t.rstrip("\"'’”»)」』）").endswith(("?", "？")) or _CJK_QUESTION.search(t):
        return "a question"
    if boilerplate(t):
        return "boilerplate"
    if NO_COMMENT.search(t) and u.words < 20:
        return "no comment"
    if _POINTER.search(t):
        return "points at the page"
    if _PICTURED.match(t):
        return "a photo caption"
    if _INTRODUCES.search(t):
        return "introduces a list"
    if u.in_quote:
        return "part of a quotation"
    bare = LEAD_CONNECTIVE.sub("", DATELINE.sub("", t, count=1), count=1)  # "But she added …" is shown as "She added …"
    bare = _OPENING_PHRASE.sub("", bare)  # "Instead, they …", "In 2019, he …"
    bare = bare[:1].upper() + bare[1:]
    unquoted = _QUOTES.sub(" ", t) if "'" in t or '"' in t or "“" in t or "‘" in t else t
    if (_FIRST_PERSON.match(t) or _FIRST_PERSON.match(bare) or _ASIDE.match(t)
            or (u.first and _SINGULAR.search(unquoted) and not _FIGURE.search(unquoted))
            or (u.first and _FIRST_PERSON_ANY.search(unquoted) and not _FIGURE_OR_NAME.search(unquoted))):
        return "a first-person aside"
    if (_READER.search(unquoted) or _READER.search(bare)
            or (_YOU.search(unquoted) and not _FIGURE_OR_NAME.search(t))):
        return "an aside to the reader"  # "Now you know …", "you would think a reporter would know better"
    if (DANGLING.match(bare) or _DANGLING_SUBJECT.match(bare) or _LONG_OPENER.match(t) or _DO_IT.search(t)
            or _OR_SO.match(t) or _SHORT_OPENER.match(bare)
            or ((m := _PRONOUN_AFTER_PHRASE.match(t)) and not _NAME_INSIDE.search(t, 0, m.end()))):
        return "a dangling reference"
    if not_a_sentence(t):
        return "not a sentence"
    if unbalanced_quotes(t) or (t[:1] in "'‘" and open_quote(t)) or _CLOSES_FIRST.match(t):
        return "part of a quotation"
    if _QUOTES.search(t) and len(WORD.findall(_QUOTES.sub(" ", t))) < 4:
        return "a bare quotation"  # 'Finally, "Lose some weight, baby girl."': no speaker, no context
    if u.words <= 6 and not _FIGURE_OR_NAME.search(t):
        return "a fragment"  # "Content, not so much.", "Crazy.": no fact to take away
    return None


WH = ("What", "Who", "When", "Where", "Why", "How", "Which", "Whose", "Whom")
_YES_NO = re.compile(r"^(is|are|was|were|do|does|did|can|could|will|would|should|shall|has|have|had|may|might|must"
                     r"|isn't|aren't|wasn't|don't|doesn't|didn't|can't|won't)\b", re.I)
_PRONOUN_SUBJECT = re.compile(r"\b(?:did|does|do|is|was|were|are|has|have|will) (?:he|she|they|him|her|them|this one)\b"
                              r"|\b(?:he|she|him|her|they|them|his|their)\b", re.I)
MAX_Q_WORDS = 22


def question_problems(q: str, english: bool = True) -> list[str]:
    """What is wrong with a question; [] when it is well formed."""
    problems = []
    if not q.endswith("?"):
        problems.append("does not end with '?'")
    if q.count("?") != 1:
        problems.append("more than one '?'")
    words = q.split()
    if english:
        if not words or (words[0].rstrip(",") not in WH and not _WH_PHRASE.match(q)):
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
    if _STRAY_PUNCTUATION.search(q):
        problems.append("stray punctuation or spaces")
    return problems


def answers(q: str, answer: str, kind: str, english: bool = True) -> bool:
    """An answer a reader can use: a whole sentence (a caption or a label ends without a stop) whose
    content fits the question word (`question_fits`). A heading's section must also be about the heading
    (`section_answers`); template questions are formed from their answer, so it holds their key terms."""
    if not english:
        return True
    if not _ENDS.search(answer) or not question_fits(q, answer) or glued(answer):
        return False
    return kind != "heading" or section_answers(q, answer)


_MONTH = (r"Jan(?:uary|\.)?|Feb(?:ruary|\.)?|March|Mar\.|April|Apr\.|May|June|July|Aug(?:ust|\.)?|Sept?(?:ember|\.)?|"
          r"Oct(?:ober|\.)?|Nov(?:ember|\.)?|Dec(?:ember|\.)?")
_DATE = re.compile(rf"\b(?:1[5-9]\d\d|20\d\d)s?\b|\b(?:{_MONTH})\b|\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b"
                   r"|\b(?:yesterday|today|tomorrow|tonight|overnight|ago|recently|currently|soon|now)\b"
                   r"|\b(?:last|next|this|earlier this|later this|every|each|that) (?:week|weekend|month|year|season|summer|"
                   r"winter|spring|autumn|fall|morning|afternoon|evening|night|decade|century)\b"
                   r"|\b\d{1,2}(?::\d\d)?\s?(?:am|pm|a\.m\.|p\.m\.)|\b(?:since|until|by|before|after|during|in|from) (?:the )?"
                   r"(?:\d|early|late|mid|end|start|beginning|summer|winter|spring|autumn|fall|war|past|future|coming)", re.I)
_NUMBER_WORDS = (r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|"
                 r"hundred|hundreds|thousand|thousands|million|millions|billion|billions|dozen|dozens|half|a third|a quarter")
_NUMBER = re.compile(rf"\d|\b(?:{_NUMBER_WORDS})\b", re.I)
_REASON = re.compile(r"\b(?:because|since|as a result|due to|owing to|thanks to|so that|in order to|so as to|after|over|"
                     r"for|amid|following|caused?|causing|led to|leads? to|blamed|reasons?|why|means?|meant|so|"
                     r"to (?:help|make|keep|protect|avoid|prevent|allow|ensure|give|get|reduce|cut|boost|stop|save|meet|"
                     r"improve|support|fund|pay|raise|win|build|create|find|end|replace))\b", re.I)
_PLACE = re.compile(r"\b(?:in|at|near|from|to|into|outside|inside|across|around|on) (?:the )?[A-Z]|\b(?:where|here|there|"
                    r"home|abroad|online|nearby|locally|nationwide|worldwide)\b")
_FUTURE = re.compile(r"\b(?:will|would|could|may|might|plans? to|planned|planning|expects?|expected|intends?|aims?|hopes?|"
                     r"next|later|upcoming|soon|future|set to|going to|due to|scheduled|coming|yet to|Will)\b")  # "May" is a month
_ASKS = [  # (question opening, what the answer must hold)
    (re.compile(r"^Why\b(?!.* matter\?$)"), _REASON),  # "Why does it matter?" is answered by what is at stake
    (re.compile(r"^When\b"), _DATE),
    (re.compile(r"^How (?:many|much|long|old|far|big|often|fast)\b"), _NUMBER),
    (re.compile(r"^Where\b"), _PLACE),
    (re.compile(r"^What (?:happens|comes|is|'s) next\b|^What lies ahead\b|^What (?:will|could|might) happen\b"), _FUTURE),
]


def question_fits(q: str, answer: str) -> bool:
    """The answer holds what the question word asks for: why → a reason, when → a time, how many/much →
    a figure, where → a place, what next → the future. Other questions pass."""
    for opening, needs in _ASKS:
        if opening.search(q):
            return bool(needs.search(answer))
    return True


# Question words that say what is asked, not what about: a heading's section need not repeat them.
_ASKING = frozenset("""what why how when where who which whose whom is are was were do does did can could will would
should has have had it this that there we you know knew known mean means matter matters happen happens next lie
lies ahead expect background bigger big picture pro con advantage disadvantage work works thing""".split())  # noqa: SIM905


def section_answers(q: str, answer: str) -> bool:
    """A heading turned question is answered by its section's lead when the lead is about what the heading
    names ("What is the funding plan?" → a sentence about funding or the plan), or at least states a fact
    (a figure or a name) without leaning on what came before ("He may not have …", "This was …")."""
    asked = {w for w in _CONTENT_WORD.findall(q.casefold()) if w not in _ASKING and w not in STOPWORDS}
    if not asked:
        return True  # "Why does it matter?", "What happens next?": the question word is the whole question
    said = {stem(w) for w in _CONTENT_WORD.findall(answer.casefold())}
    # Word forms the light stemmer leaves apart ("investigation", "investigators") share their first letters.
    if any(s in said or (len(s) >= 5 and any(x.startswith(s[:5]) for x in said)) for s in map(stem, asked)):
        return True
    return (not (DANGLING.match(answer) or _DANGLING_SUBJECT.match(answer))
            and bool(_FIGURE_OR_NAME.search(answer) or _NUMBER.search(answer)))


_CONTENT_WORD = re.compile(r"[^\W\d_]{2,}")


_ENDS = re.compile(r"[.!?…]['\"’”)\]]*\s*$")
