"""Issue 14's rules for the offline engine, each on a small written example: the position prior by kind
of article, the text's language over <html lang>, headings asked only when their section answers, and
question words that fit their answers."""

from __future__ import annotations

from collections import Counter

import pytest

from takeaways.config import Settings
from takeaways.engines.offline import ExtractiveEngine
from takeaways.engines.offline.filters import answers, question_fits, section_answers
from takeaways.engines.offline.ranking import genre, rank, select_takeaways, similarity_matrix
from takeaways.engines.offline.units import units
from takeaways.extraction import extract_html
from takeaways.models import QA, Article, Block, Spec


def article(*blocks: tuple[str, str], title: str | None = None) -> Article:
    return Article(title=title, language="en", blocks=[Block(kind=k, text=t) for k, t in blocks])


def kind(art: Article) -> str:
    return genre(art, units(art))


def paragraphs(*texts: str, title: str | None = None) -> Article:
    return article(*[("paragraph", t) for t in texts], title=title)


def faq_of(art: Article) -> list[QA]:
    """The offline engine's FAQ for `art` (one takeaway, up to four questions)."""
    return ExtractiveEngine().generate(art, Spec(takeaways=1, questions=4), Settings()).faq


BODY = (
    "The Harbour Bike Library now lends 300 repaired bicycles a month to students and night-shift workers.",
    "Volunteers at the Harbour Bike Library repair the bicycles from parts of abandoned ones that the council collects.",
    "The council pays the Harbour Bike Library 40,000 euros a year, about the cost of removing the abandoned bicycles.",
    "Students and night-shift workers borrow the bicycles for a month and return them to the library for repairs.",
)


# --- the position prior by kind of article ---------------------------------------------------------

def test_a_scene_setting_first_sentence_makes_a_feature_and_a_dateline_keeps_it_news() -> None:
    hook = "It was raining when Mara Quist pushed a bicycle with two flat tyres into the old boathouse."
    assert kind(paragraphs(hook, *BODY)) == "feature"
    wire = "OSLO (Reuters) - It was raining when the harbour bike library opened its doors on Monday."
    assert kind(paragraphs(wire, *BODY)) == "news"
    plain = "The harbour bike library opened in an old boathouse on Monday, the city said."
    assert kind(paragraphs(plain, *BODY)) == "news"


def test_the_writer_or_the_reader_in_the_first_sentence_or_a_short_one_makes_a_feature() -> None:
    anecdote = "Three years ago, over breakfast, my friend Helen handed me a novel about a bicycle library."
    assert kind(paragraphs(anecdote, *BODY)) == "feature"
    reader = "In case you live in Lindvik, chances are the harbour bike library has fixed a bicycle of yours."
    assert kind(paragraphs(reader, *BODY)) == "feature"
    assert kind(paragraphs("The symptoms came on quickly.", *BODY)) == "feature"


def test_numbered_headings_make_a_listicle_and_time_stamps_a_live_blog() -> None:
    listicle = article(("paragraph", "Spring is here and the roads are dry again."),
                       *[b for i, tip in enumerate(["Check the tyres", "Oil the chain", "Test the brakes"], 1)
                         for b in (("heading", f"{i}. {tip}"), ("paragraph", f"{tip} before the first ride of the year."))],
                       title="Three tips for your first ride")
    assert genre(listicle, units(listicle)) == "listicle"
    live = paragraphs("09:05 GMT The ferry has left the harbour.", "09:40 GMT Passengers report calm seas.",
                      "10:15 GMT The ferry has docked at the island.", "The crossing took just over an hour.")
    assert genre(live, units(live)) == "live"
    assert kind(paragraphs(*BODY, title="Ferry strike: live updates")) == "live"


def test_a_feature_lead_counts_less_than_a_news_lead() -> None:
    lead = "Mara Quist fixes bicycles for the Harbour Bike Library in the old boathouse by the water."
    best = {}
    for kind_ in ("news", "feature"):
        items = units(paragraphs(lead, *BODY))
        sim, idf = similarity_matrix(items)
        rank(items, sim, Counter(), idf, kind_)
        best[kind_] = max(items, key=lambda u: u.score).text
    assert best == {"news": lead, "feature": BODY[0]}  # the central sentence, once the lead is no longer trusted
    # and through the engine: a hook opening makes the article a feature
    hook = "It was raining when Mara Quist pushed a bicycle with two flat tyres into the old boathouse by the water."
    chosen, *_ = select_takeaways(paragraphs(hook, *BODY), Spec(takeaways=1, questions=0), True)
    assert chosen[0].text == BODY[0]


def test_in_a_listicle_each_items_first_sentence_outranks_the_preamble() -> None:
    blocks: list[tuple[str, str]] = [("paragraph", "Everyone loves a long ride in spring when the roads are finally dry again.")]
    for i, (head, text) in enumerate([
        ("Check the tyres", "Pump the tyres of the bicycle to the pressure printed on their side before the first ride."),
        ("Oil the chain", "Oil the chain of the bicycle after cleaning it, then wipe the extra oil off the chain."),
        ("Test the brakes", "Test both brakes of the bicycle and replace brake pads that are worn down to the groove."),
    ], 1):
        blocks += [("heading", f"{i}. {head}"), ("paragraph", text), ("paragraph", "It takes a few minutes and no tools.")]
    chosen, *_ = select_takeaways(article(*blocks), Spec(takeaways=3, questions=0), True)
    assert [u.text for u in chosen] == [b[1] for b in blocks if b[1].endswith(("ride.", "chain.", "groove."))]


# --- language ----------------------------------------------------------------------------------------

GERMAN = ("Die Stadt hat am Dienstag beschlossen, dass die Fähre über den Fluss auch nachts fahren soll. "
          "Der Stadtrat stimmte mit großer Mehrheit für den Plan, der im nächsten Frühjahr beginnen wird. "
          "Radfahrer dürfen ihre Räder kostenlos mitnehmen, und die Fahrt dauert etwa zwölf Minuten. "
          "Die Betreiber sagen, dass sie dafür zwei neue Kapitäne einstellen und die Anlegestelle beleuchten werden. "
          "Viele Anwohner hatten sich seit Jahren eine späte Verbindung zwischen den beiden Ufern gewünscht.")
ENGLISH = ("The city decided on Tuesday that the ferry across the river will also run at night from next spring. "
           "The council voted for the plan by a large majority after a short debate in the town hall. "
           "Cyclists may take their bicycles on board for free, and the crossing takes about twelve minutes. "
           "The operators say they will hire two new captains and put lights on the landing stage for it. "
           "Many residents had asked for a late connection between the two banks of the river for years.")


def page(lang: str, text: str) -> str:
    return (f"<html lang='{lang}'><head><title>Ferry</title></head><body><article><h1>Ferry</h1>"
            f"<p>{text}</p></article></body></html>")


def test_the_text_wins_over_html_lang_when_they_disagree() -> None:
    assert extract_html(page("en", GERMAN)).language == "de"
    assert extract_html(page("de", ENGLISH)).language == "en"
    assert extract_html(page("en", ENGLISH)).language == "en"
    digest = ExtractiveEngine().generate(extract_html(page("en", GERMAN)), Spec(), Settings())
    assert any("'de' is not English" in w for w in digest.warnings)
    assert not any(q.question.startswith(("What did", "Who is")) for q in digest.faq)  # no English templates


# --- headings as questions, and question words -------------------------------------------------------

def test_a_heading_becomes_a_question_only_when_its_section_answers_it() -> None:
    assert section_answers("What is the funding plan?", "The plan is paid for by a ferry ticket levy of 50 cents.")
    assert not section_answers("What are the instructions?", "There is a lot to sort through here, as always.")
    assert section_answers("Why does it matter?", "Anything at all.")  # nothing to check beyond the question word
    assert section_answers("What did the investigation find?", "Investigators found a cracked hull plate.")

    def faq_for(section: str) -> list[str]:
        art = article(("paragraph", "The night ferry across the river starts running next spring, the council said."),
                      ("heading", "The Funding Plan"), ("paragraph", section), ("paragraph", "More details follow next week."))
        return [q.question for q in faq_of(art)]

    assert "What is the funding plan?" in faq_for("The funding plan adds a levy of 50 cents to every ferry ticket sold.")
    assert "What is the funding plan?" not in faq_for("Residents on both banks of the river have waited for years now.")
    # A lead that does not name what the heading names leaves the heading unasked (it used to be asked on a fact).
    assert "What is the funding plan?" not in faq_for("The council set three targets for the first year of the service.")


def test_the_question_word_must_fit_the_answer() -> None:
    assert question_fits("Why was the ferry stopped?", "The ferry was stopped because a storm was coming.")
    assert not question_fits("Why was the ferry stopped?", "The ferry was stopped on the river by the police.")
    assert question_fits("When was the bridge built?", "The bridge was built in 1932.")
    assert not question_fits("When was the bridge built?", "The bridge was built by a Danish firm.")
    assert question_fits("How many people use the ferry?", "About twelve hundred people use the ferry.")
    assert not question_fits("How many people use the ferry?", "Many people use the ferry every day.")
    assert question_fits("What happens next?", "The council will vote on the plan in May.")
    assert not question_fits("What happens next?", "The council voted on the plan in May.")
    assert question_fits("What did the council decide?", "The council decided to run the ferry.")  # no constraint
    assert not answers("Why was the ferry stopped?", "The ferry was stopped on the river by the police.", "asked")


# --- more questions where the article supports them --------------------------------------------------

def test_why_questions_come_from_a_reason_clause_and_only_from_a_verb_that_turns_round() -> None:
    from takeaways.engines.offline.templates import template_questions

    def whys(sentence: str) -> list[str]:
        return [q for q, kind in template_questions(sentence) if kind == "why"]

    assert whys("The council delayed the vote because residents objected to the new route.") == [
        "Why did the council delay the vote?"]
    assert whys("The coastal road was closed because of flooding on Tuesday night, officials said.") == [
        "Why was the coastal road closed?"]
    assert whys("Mayor Ines Duarte has resigned because of the scandal over the ferry contract.") == [
        "Why has Mayor Ines Duarte resigned?"]
    assert whys("The club travelled to the match because the bus broke down.") == []  # "-lled": spelling unsure
    assert whys("The council said the vote was delayed because of the storm.") == []  # speech, not the reason
    assert whys("The team lost its captain because of an injury.") == []  # "its": a pronoun in the question
    assert whys("The council wants a new route because the old one floods.") == []  # the present tense


def test_what_is_an_organisation_is_answered_by_the_appositive_and_never_asked_of_a_person() -> None:
    from takeaways.engines.offline.templates import org_answer, template_questions

    s = "Fernleaf, a Dublin-based charity that repairs bicycles, said it would open a second workshop."
    assert ("What is Fernleaf?", "what") in template_questions(s)
    assert org_answer(s, "Fernleaf") == "Fernleaf is a Dublin-based charity that repairs bicycles."
    person = "Dr. Lena Ostrova, a member of the group that wrote the letter, said the risk was real."
    assert not any(kind == "what" for _, kind in template_questions(person))


def test_an_article_with_a_reason_and_an_organisation_gets_those_questions() -> None:
    text = [
        "Fernleaf, a Dublin-based charity that repairs bicycles, will open a second workshop in Cork next year.",
        "Fernleaf delayed the opening because the landlord of the Cork building asked for a longer lease.",
        "Fernleaf repairs about 2,000 bicycles a year and gives them to refugees and students in Dublin.",
        "Volunteers at Fernleaf learn to fix brakes, gears and wheels in evening classes run by the charity.",
    ]
    digest = ExtractiveEngine().generate(paragraphs(*text, title="Fernleaf charity to open Cork workshop"),
                                         Spec(takeaways=2, questions=4), Settings())
    qa = {q.question: q.answer for q in digest.faq}
    assert qa.get("What is Fernleaf?") == "Fernleaf is a Dublin-based charity that repairs bicycles."
    assert qa.get("Why did Fernleaf delay the opening?") == text[1]


def test_a_credit_line_is_never_an_answer() -> None:
    text = [
        "The harbour ferry will run at night from May, the Lindholm city council announced on Tuesday.",
        "Tom Berger, the ferry operator's director, said two new captains would be hired for the night service.",
        "Tom Berger contributed to this report from the harbour office in Lindholm on Tuesday evening.",
        "The night ferry will cost the city 200,000 euros a year, paid from its transport budget.",
    ]
    digest = ExtractiveEngine().generate(paragraphs(*text), Spec(takeaways=2, questions=4), Settings())
    assert not any("contributed to this report" in q.answer for q in digest.faq)


def test_a_pronoun_behind_a_long_opening_phrase_or_a_verb_without_its_object_is_no_takeaway() -> None:
    from takeaways.engines.offline.filters import takeaway_problem

    def problem(text: str) -> str | None:
        return takeaway_problem(units(paragraphs(text))[0])

    assert problem("In the summer of 1924, they stretched from Wyoming to Ohio across the plains.") == "a dangling reference"
    assert problem("In addition to its order of 30 jets on Wednesday, it announced an order of 50 more.") == (
        "a dangling reference")
    assert problem("The band will do it with singer Mara Quist on the summer tour.") == "a dangling reference"
    assert problem("In the summer of 1924, the arrows stretched from Wyoming to Ohio across the plains.") is None
    assert problem("In the summer of 1924, it was the longest air route in the world.") is None  # "it" as a dummy


def test_a_dateline_with_a_country_of_several_words_is_not_shown() -> None:
    from takeaways.engines.offline.text import compress

    assert compress("DUBAI, United Arab Emirates — Emirates Airline finalized a deal for 30 Boeing jets on Wednesday.") == (
        "Emirates Airline finalized a deal for 30 Boeing jets on Wednesday.")
    assert compress("LONDON (Reuters) - The pound rose against the dollar on Friday.") == "The pound rose against the dollar on Friday."


def test_a_run_on_of_two_sentences_without_a_stop_is_no_answer() -> None:
    from takeaways.engines.offline.filters import glued

    run_on = ("The ferry was stopped at the harbour on Monday evening The captain said the engine had failed "
              "twice during the crossing.")
    assert glued(run_on)
    assert not answers("What happened to the ferry?", run_on, "happened")
    assert not glued("The ferry stopped because the captain said the engine had failed twice.")
    assert not glued("In The Times, the ferry company said the engine had failed twice.")  # a capital inside a name


def test_a_closing_quote_glued_to_the_next_sentence_is_a_run_on() -> None:
    from takeaways.engines.offline.filters import glued

    assert glued("The mayor said the budget plans were 'pure fiction' Mr Hale urged voters to reject them.")
    assert not glued("The mayor called the budget 'pure fiction', Mr Hale said on Monday.")
    assert not glued("The band closed the night with “Rockin’ It All Night” to a full hall.")


# --- FAQ: questions that name what they ask about ---------------------------------------------------

def test_what_did_x_do_asks_by_the_verb_when_its_object_follows() -> None:
    from takeaways.engines.offline.templates import template_questions

    assert template_questions("Veltra closed its last two factories in the north after the strike.") == [
        ("What did Veltra close?", "act")]
    assert template_questions("Ostrova has scored 12 goals in her first season at the club.") == [
        ("How many goals has Ostrova scored?", "count")]
    # A light verb or a verb with a particle says nothing by itself: the generic question stays.
    assert template_questions("Ostrova kept the team's hopes alive with a late header.") == [("What did Ostrova do?", "do")]
    assert template_questions("Ostrova picked up an injury in training on Friday morning.") == [("What did Ostrova do?", "do")]
    # A count of years or times is no count of things done.
    assert template_questions("Ostrova played 12 years for the club before she retired.") == [("What did Ostrova do?", "do")]


def test_what_happened_to_x_is_asked_only_of_something_that_happened_to_them() -> None:
    from takeaways.engines.offline.templates import template_questions

    assert template_questions("Tomas Reyes was injured in a crash on the ring road on Sunday.") == [
        ("What happened to Tomas Reyes?", "happened")]
    assert template_questions("The Harbour Cup final is being played in a new stadium this year.") == []
    assert template_questions("Tomas Reyes has been promoted from deputy to head of the agency.") == []


def test_a_speech_question_names_what_was_spoken_about() -> None:
    from takeaways.engines.offline.subjects import speech_topic

    title = {"rent", "tenant", "strike"}
    lead = {"rent", "tenant", "strike", "landlord", "council", "flat"}
    names = ["Ana Ruiz", "Marek Holt", "Lena Holt", "the Tenants Union"]
    speaker = frozenset({"ana", "ruiz"})
    # A thing the title names, in the words spoken.
    assert speech_topic("Ruiz said the rent had doubled in four years.", speaker, names, title, lead) == "the rent"
    # Else another of the article's subjects, spoken of.
    assert speech_topic("Ruiz said Marek Holt had ignored every letter.", speaker, names, {"x"}, {"x"}) == "Marek Holt"
    # Not a surname shared with someone else, not a name used as a modifier, not the one spoken to.
    assert speech_topic("Ruiz said Lena Holt had ignored every letter.", speaker, ["Marek Holt"], {"x"}, {"x"}) is None
    assert speech_topic("Ruiz said the Tenants Union office was shut.", speaker, names, {"x"}, {"x"}) is None
    assert speech_topic("Ruiz told the Tenants Union she would not pay.", speaker, names, {"x"}, {"x"}) is None
    # A quotation before "said X": what was spoken is the quotation, not the speaker's description.
    assert speech_topic("'We will not pay,' said Ruiz, a tenant of Marek Holt.", speaker, names, {"x"}, {"x"}) is None
    # A bare singular after a preposition is no thing spoken of ("running for president").
    assert speech_topic("Ruiz said she was running for council because nobody else would.", speaker, names, {"council"},
                        {"council"}) is None


def test_the_engine_asks_what_a_speaker_said_about_the_topic() -> None:
    art = paragraphs(
        "Tenants in the Oakfield towers began a rent strike on Monday, withholding payments from the landlord Marek Holt.",
        "Ana Ruiz, who leads the tenants group, said the rent had doubled in four years while repairs stopped.",
        "Marek Holt said in a statement that the increases followed the rules set by the city housing office.",
        "Ana Ruiz said Marek Holt had ignored every letter the tenants sent about broken lifts and damp walls.",
        "The city housing office will review the Oakfield rents next month, a spokeswoman for the office said.",
        title="Oakfield tenants start a rent strike")
    faq = [q.question for q in ExtractiveEngine().generate(art, Spec(takeaways=2, questions=4), Settings()).faq]
    assert "What did Ana Ruiz say about the rent?" in faq or "What did Ana Ruiz say about Marek Holt?" in faq
    assert "What did Ana Ruiz say?" not in faq


def test_a_bare_topic_heading_is_asked_only_as_its_lead_treats_it() -> None:
    from takeaways.engines.offline.templates import heading_question_for

    # A review's section that judges what it names: "What is … like?".
    assert heading_question_for("The Keyboard", "The keyboard is comfortable, with deep travel and a crisp click.",
                                set()) == "What is the keyboard like?"
    # A lead that only muses about the topic, or never names it: no question.
    assert heading_question_for("The Keyboard", "Keyboards are highly subjective, and tastes differ.", set()) is None
    assert heading_question_for("Thermals", "Under load the fans spin up within seconds.", set()) is None
    # A lead that defines it (an acronym keeps the article the lead gives it).
    assert heading_question_for("GPU", "The GPU is a custom chip designed in-house.", {"gpu"}) == "What is the GPU?"
    assert heading_question_for("The Funding Plan", "The funding plan adds a levy to every ticket.", set()) == (
        "What is the funding plan?")
    # The rule table's questions are not topics: asked as they are.
    assert heading_question_for("What Happens Next", "The board will vote in May.", set()) == "What happens next?"


def test_who_is_keeps_a_names_capitals_and_stops_at_a_word_before_the_name() -> None:
    from takeaways.engines.offline.templates import who_answer

    assert who_answer("Harbour City winger Jonas Berg has been ruled out for a month.", "Jonas Berg") == (
        "Jonas Berg is the Harbour City winger.")
    assert who_answer("In a new tutorial YouTube star Mira Sol shows her make-up steps.", "Mira Sol") == (
        "Mira Sol is the YouTube star.")
    assert who_answer("The bill was backed by former federal MP Ruth Vance on Monday.", "Ruth Vance") == (
        "Ruth Vance is the former federal MP.")
    assert who_answer("Council leader Maria Holt said the plan was sound.", "Maria Holt") == "Maria Holt is a council leader."


def test_a_template_answer_leaning_on_an_earlier_sentence_is_not_used() -> None:
    art = paragraphs(
        "The singer Dana Vey is being sued by a former classmate over a stolen guitar, court papers show.",
        "Dana Vey denies the claim and says she has never owned a red guitar in her whole life.",
        "She alleges that when the guitar vanished, Dana Vey confessed to the theft in front of the class.",
        "Dana Vey moved to the city in 2001 and has released four albums since then.",
        title="Dana Vey sued over a stolen guitar")
    qas = faq_of(art)
    assert qas and not any(qa.answer.startswith("She ") for qa in qas)


def test_a_generic_question_only_fills_a_short_faq() -> None:
    short = paragraphs(
        "Lina Park opened a bakery on the old market square in Veltra on Saturday morning.",
        "Lina Park baked bread for the opening from four in the morning with two helpers.",
        "Lina Park said the shop would stay open late on Fridays for the night market crowd.",
        "Customers queued around the square before the doors opened at eight o'clock.",
        title="Lina Park opens a bakery in Veltra")
    qs = [q.question for q in ExtractiveEngine().generate(short, Spec(takeaways=1, questions=4), Settings()).faq]
    generic = [q for q in qs if q in {"What did Lina Park do?", "What did Lina Park say?"}]
    assert len(generic) <= 1


def test_a_study_the_article_reports_is_asked_what_it_found() -> None:
    from takeaways.engines.offline.templates import template_questions

    assert ("What did the survey find?", "study") in template_questions(
        "Most tenants in the city pay more than a third of their income in rent, according to a survey.")
    assert ("What did the research find?", "study") in template_questions(
        "Research carried out by the Harbour Institute found that ferry use fell by a quarter.")
    assert not any(k == "study" for _, k in template_questions("The Report was long, and readers found nothing new in it."))

    art = paragraphs(
        "Ferry use in Veltra fell by a quarter last year, according to a study by the Harbour Institute.",
        "The study counted passengers on all six routes across the bay between January and December.",
        "Fares rose twice during the year, and two of the routes lost their evening crossings.",
        title="Veltra ferry use falls by a quarter, study says")
    faq = ExtractiveEngine().generate(art, Spec(takeaways=1, questions=3), Settings()).faq
    assert [q.question for q in faq] == ["What did the study find?"]
    # A study mentioned in passing, in an article about something else, is not asked about.
    aside = paragraphs(
        "The Veltra ferry will stop running at night from June, the harbour board said on Monday.",
        "The board blamed the cost of fuel and a shortage of crews for the evening crossings.",
        "Passenger numbers have been falling for years, according to a study, and fares rose twice.",
        title="Veltra ferry to stop night crossings")
    assert "What did the study find?" not in [q.question for q in ExtractiveEngine().generate(
        aside, Spec(takeaways=1, questions=3), Settings()).faq]


def test_found_out_is_asked_as_found_out_and_urged_to_as_an_urging() -> None:
    from takeaways.engines.offline.subjects import about_subject
    from takeaways.engines.offline.templates import template_questions

    assert template_questions("Dana Vey found out about the plan in March and told the board at once.") == [
        ("What did Dana Vey find out?", "find")]
    assert about_subject("What did Hale urge?", "urge", "Hale urged drivers to slow down near the school.",
                         [frozenset({"hale"})], set())


def test_a_question_that_points_back_or_has_no_verb_is_not_asked() -> None:
    from takeaways.engines.offline.faq import asks_on_its_own

    assert not asks_on_its_own("What makes that pain go away?")
    assert not asks_on_its_own("For whom this game?")
    assert asks_on_its_own("Why does this matter?")
    assert asks_on_its_own("How is the disease spread?")


def test_miss_is_a_title_so_the_surname_counts_for_the_full_name() -> None:
    from takeaways.engines.offline.subjects import real_subjects
    from takeaways.engines.offline.units import units

    items = units(paragraphs("The charity was praised by actress Dana Vey on Monday evening.",
                             "Miss Vey, 47, said the charity had changed her life when she was young."))
    assert frozenset({"dana", "vey"}) in real_subjects(items, set(), {"vey"})


def test_a_speech_topic_is_the_clauses_own_and_a_place_is_no_surname() -> None:
    from takeaways.engines.offline.subjects import speech_topic

    speaker = frozenset({"ruiz"})
    lead = {"rent", "lift", "tenant"}
    counts = Counter({"rent": 5, "lift": 4, "tenant": 6})
    # A word of the lead at the tail of a long clause is not what was spoken about.
    assert speech_topic("Ruiz said the owners had ignored letters, calls, visits and petitions for years before "
                        "anyone looked at the lifts.", speaker, [], set(), lead, counts) is None
    assert speech_topic("Ruiz said the lifts had been broken since May.", speaker, [], set(), lead, counts) == "the lifts"
    # A word the article names once is no topic, even in the lead.
    assert speech_topic("Ruiz said the lifts had been broken since May.", speaker, [], set(), lead,
                        Counter({"lift": 1})) is None
    # "New Delhi" is a place: "Delhi" alone does not name it.
    assert speech_topic("Ruiz said the farms upwind of Delhi burn stubble.", speaker, ["New Delhi"], set(), set()) is None


def test_two_questions_answered_by_the_same_facts_are_one_too_many() -> None:
    art = paragraphs(
        "Police identified three suspects in the museum theft: Carl Mora, Rob Dent and Rob Vance, court papers show.",
        "The FBI identified three persons of interest in the museum theft: Carl Mora, Rob Dent and Rob Vance.",
        "The paintings taken from the museum in 1990 have never been found, and the reward is $10 million.",
        title="FBI names three suspects in museum theft")
    qs = [q.question for q in faq_of(art)]
    assert len([q for q in qs if q.startswith("How many")]) <= 1


def test_unveiled_is_asked_as_unveiled() -> None:
    from takeaways.engines.offline.templates import template_questions

    assert template_questions("Harbour Motors unveiled its first electric van at the show in Veltra.") == [
        ("What did Harbour Motors unveil?", "launch")]


def test_who_is_takes_the_fullest_role_phrase_and_stops_between_two_peoples_roles() -> None:
    from takeaways.engines.offline.templates import who_answer

    assert who_answer("The lamp was made according to chief designer Tom Reyes, the founder and and head of Lumo Labs.",
                      "Tom Reyes") == "Tom Reyes is the founder and head of Lumo Labs."
    assert who_answer("Leishman withdrew to be with his wife Masters chairman Tom Reyes spoke later.", "Tom Reyes") == (
        "Tom Reyes is the Masters chairman.")
    art = paragraphs(
        "The lamp at the fair was built by designer Tom Reyes, a studio owner, in his first year at the fair.",
        "Tom Reyes, the founder and head of Lumo Labs, said the lamp took two years to make from recycled glass.",
        "Tom Reyes plans to sell the lamp in shops across Europe from the spring, at about 300 euros each.",
        title="Tom Reyes lamp wins prize at the design fair")
    qas = faq_of(art)
    assert [qa.answer for qa in qas if qa.question == "Who is Tom Reyes?"] == [
        "Tom Reyes is the founder and head of Lumo Labs."]


def test_a_description_says_nothing_without_a_topic() -> None:
    art = paragraphs(
        "A young woman was rescued from the river in Veltra on Sunday after clinging to a branch for an hour.",
        "The young woman said she had slipped on the wet stones while walking her dog along the bank.",
        "Firefighters reached her with a boat and took her to hospital, where she was treated for cold.",
        title="Woman rescued from the river in Veltra")
    qs = [q.question for q in faq_of(art)]
    assert "What did the young woman say?" not in qs


def test_two_quotations_run_together_are_a_run_on() -> None:
    from takeaways.engines.offline.filters import glued

    assert glued("She said she would leave the town by the end of next week.” “We never wanted this,” she added.")
    assert not glued("He called the plan “a disgrace” and left the room before the vote.")


def test_a_heading_whose_lead_opens_with_a_pronoun_is_not_asked() -> None:
    art = article(("paragraph", "The Veltra council approved a night ferry across the bay on Tuesday evening."),
                  ("paragraph", "The ferry will run every hour from ten at night until five in the morning."),
                  ("heading", "Why It Matters"),
                  ("paragraph", "It is the first night service on the bay since the old bridge closed in 1998."),
                  title="Veltra approves a night ferry")
    qs = [q.question for q in faq_of(art)]
    assert "Why does it matter?" not in qs


def test_who_is_reads_a_role_not_what_stands_around_it() -> None:
    from takeaways.engines.offline.templates import who_answer

    proper, common = {"belgium", "harbour", "real"}, {"manager", "school", "teacher", "real"}
    assert who_answer("Belgium manager Marc Wilmots said the team was tired.", "Marc Wilmots", proper, common) == (
        "Marc Wilmots is the Belgium manager.")
    assert who_answer("High school teacher Ana Lind led the march.", "Ana Lind", proper | {"high"}, common) == (
        "Ana Lind is a high school teacher.")
    assert who_answer("Real Madrid striker Tom Berg is out.", "Tom Berg", proper | {"madrid"}, common) == (
        "Tom Berg is the Real Madrid striker.")
    assert who_answer("Crowds mourned the murder of soldier Tom Berg in 2013.", "Tom Berg") == "Tom Berg is a soldier."
    assert who_answer("We will see at the next match. ' Harbour manager Tom Berg said.", "Tom Berg") == (
        "Tom Berg is the Harbour manager.")
    assert who_answer("He was there with his wife Ana Lind on Monday.", "Ana Lind") is None  # whose wife?
    assert who_answer("He was there with Tom Berg's wife Ana Lind on Monday.", "Ana Lind") == "Ana Lind is Tom Berg's wife."


def test_a_template_inside_someone_elses_quotation_is_not_a_fact() -> None:
    from takeaways.engines.offline.templates import template_questions

    qs = template_questions('"The truth is, Dana Vey has admitted to owing us money," the label said in a statement.')
    assert not any(kind == "admit" for _, kind in qs)


def test_a_plural_subject_takes_a_plural_verb_and_launch_needs_what_was_launched() -> None:
    from takeaways.engines.offline.templates import template_questions

    assert template_questions("The Harbour Lakers plan to rest their captain for the next two games.") == [
        ("What do the Harbour Lakers plan to do?", "plan")]
    assert template_questions("Prosecutors alleged that the pair had stolen from the charity for years.") == [
        ("What do prosecutors claim?", "claim")]
    assert template_questions("Lumo Play launches tomorrow and early reviews are mixed.") == []
    assert template_questions("Lumo promised more, and for whatever reason it has not delivered yet.") == []


def test_the_articles_own_question_must_be_answered_by_what_follows() -> None:
    from takeaways.engines.offline.faq import asked_terms_answered

    assert not asked_terms_answered("What are the world's safest airlines?", "Remember that award tickets are not free.")
    assert asked_terms_answered("How is the plague spread?", "Plague is carried by fleas on small mammals.")
    assert not asked_terms_answered("What will it take?", "The answer cannot be the army.")


def test_a_listicles_advice_heading_is_no_thing_to_define() -> None:
    from takeaways.engines.offline.templates import heading_question_for

    assert heading_question_for("Practice Mindfulness", "Mindfulness is a practice of paying attention.", set()) is None
    assert heading_question_for("Eat More Fiber", "Fiber is a part of plant foods that slows digestion.", set()) is None


def test_a_generic_question_needs_its_subject_in_the_answers_first_words() -> None:
    art = paragraphs(
        "Delta Air Lines came second with 5.6 million seats; United Airlines ranked third with 5 million seats.",
        "United Airlines said it would add more award seats on its routes to Asia and Europe next year.",
        "Award seats are the seats an airline sells for miles instead of money, and they are often scarce.",
        title="Which airline gives the most award seats")
    qs = [q.question for q in faq_of(art)]
    assert "What did United Airlines do?" not in qs


# --- Key Takeaways: what is never shown, and how many ---------------------------------------------

def problem_of(text: str, i: int) -> str | None:
    from takeaways.engines.offline.filters import takeaway_problem

    return takeaway_problem(units(paragraphs(text))[i])


def problem(text: str) -> str | None:
    from takeaways.engines.offline.filters import takeaway_problem

    [u] = [u for u in units(paragraphs(text)) if not u.caption]
    return takeaway_problem(u)


def test_a_caption_glued_to_a_sentence_without_a_stop_is_cut_and_the_sentence_kept() -> None:
    from takeaways.engines.offline.filters import glue_cut

    caption = "Homes near the new station sold for 12 per cent more than the rest of the town"
    sentence = "In a survey published today, the Harbour Bank compared house prices in every district of the city."
    glued = f"{caption} {sentence}"
    assert glued[glue_cut(glued):] == sentence
    named = "Pictured is council leader Maria Holt The study found that three districts gained most from the new line."
    assert named[glue_cut(named):].startswith("The study found")
    # no seam: a capitalised word inside a name, a stop before the capital, or too little sentence after it
    assert glue_cut("The mayor told The Courier that the lanes would open in May and cost less than planned.") == 0
    sketch = "A guard stands outside the room that was robbed on the night of the heist This FBI sketch shows the two men who took the paintings."
    assert sketch[glue_cut(sketch):] == "This FBI sketch shows the two men who took the paintings."
    assert glue_cut("The council thanked volunteers who met He Lin and her team at the harbour on Monday night.") == 0
    two = ("Mayor Holt cuts the ribbon at the harbour against rivals Lindvik Losing the ferry, even for one week, "
           "is a blow to the island at the busiest time of the year.")  # a name just before the seam
    assert two[glue_cut(two):].startswith("Losing the ferry")
    fly = ("The fly squirms in its attempts to break free Moving its legs, the fly at first tries to walk away "
           "from the frozen steak.")
    assert fly[glue_cut(fly):].startswith("Moving its legs")
    assert glue_cut("The mayor flew to Beijing on Monday and met the city council to talk about the ferry.") == 0
    assert glue_cut("The lanes open in May. The council said it had found the money for the whole network.") == 0
    assert glue_cut("Homes near the new station sold for more The bank said so.") == 0
    [head, tail] = units(paragraphs(glued))
    assert head.caption and not tail.caption and tail.text == sentence
    digest = ExtractiveEngine().generate(paragraphs(glued, *BODY), Spec(takeaways=5, questions=0), Settings())
    shown = [t.text for t in digest.takeaways]
    assert caption not in " ".join(shown) and sentence in shown
    assert all(t.evidence in paragraphs(glued, *BODY).text for t in digest.takeaways)


def test_a_heading_in_capitals_glued_to_a_sentence_is_cut() -> None:
    [u] = units(paragraphs("BALL OF THE CENTURY Benaud talked viewers through the famous delivery in 1993."))
    assert u.text == "Benaud talked viewers through the famous delivery in 1993."
    for kept in ("A HUNTER who ate a wild rabbit in the hills has been taken to hospital with the plague.",
                 "NASA Administrator Jim Bridenstine said the mission would launch in 2024."):
        assert units(paragraphs(kept))[0].text == kept


def test_a_sentence_inside_a_longer_quotation_is_no_takeaway() -> None:
    from takeaways.engines.offline.text import quote_spans

    # paragraphs joined in one block: each reopens the quotation without closing the one before
    text = ("Holt said: ‘I cannot say yes until I know what the role is. ‘As a player I did what was asked of me. "
            "The city deserves a plan that works for everyone who lives here. ‘I just want the best for Lindvik.’ "
            "The council will vote on the plan in March.")
    flags = {u.text: u.in_quote for u in units(paragraphs(text))}
    assert flags["The city deserves a plan that works for everyone who lives here."]
    assert flags["‘As a player I did what was asked of me."]  # opens a quotation that goes on after it
    assert not flags["Holt said: ‘I cannot say yes until I know what the role is."]
    assert not flags["The council will vote on the plan in March."]
    tweet = ("Governor Ines Kova tweeted: “Meth is here. Twitter can make a joke of it, but meth is a serious problem "
             "in the state. We will get it out.”")
    assert problem_of(tweet, 1) == "part of a quotation"
    # apostrophes inside or after a word neither open nor close; a corpus's spaced closing mark ('very tall ') closes
    text = "The players' union isn't happy that the mayor called the plan 'a disaster' on Tuesday."
    assert [text[a:b] for a, b in quote_spans(text)] == ["'a disaster'"]
    spaced = "The man is described as 'very tall ' by police. He wore an orange sweatshirt and a large mask."
    assert not any(u.in_quote for u in units(paragraphs(spaced)))


@pytest.mark.parametrize(("sentence", "reason"), [
    ("Soon, I would become one of them.", "a first-person aside"),
    ("Three years ago, over breakfast, my friend handed me a novel about a quest.", "a first-person aside"),
    ("To approximate the value of the drugs, we turned to other data sources.", "a first-person aside"),
    ("Words cannot describe how much I love this little car.", "a first-person aside"),
    ("In case you live in Lindvik, chances are you have an app for the air quality index.", "an aside to the reader"),
    ("Here, the Courier recounts ten of his finest moments from the commentary box.", "points at the page"),
    ("Here's the most recent data on seizures from the border agency.", "points at the page"),
    ("The chart below shows how house prices have changed since 2010.", "points at the page"),
    ("As it stands, the teams below will play a semifinal for one spot in each path:", "introduces a list"),
    ("Or so says the actress, who made the comments in an interview with the magazine.", "a dangling reference"),
    ("This isn't the first time she has changed her look for a video.", "a dangling reference"),
    ("Get Harbour Cycling Monthly delivered through your letterbox every month.", "boilerplate"),
    ("Twelve readers won a prize: 12 issues for £11.99 with free delivery.", "boilerplate"),
    ("Start your day with the Morning Bell, our guide to the markets.", "boilerplate"),
    ("Welcome to the new Harbour Courier, with more local news than ever.", "boilerplate"),
    ("So now you know that there really is an oxygen bar in Lindvik.", "an aside to the reader"),
    ("Over breakfast my friend Helen handed me a novel about a long quest.", "a first-person aside"),  # a name, no fact
    ("In 2019 I rode 3,000 kilometres on the new lanes without a single puncture.", None),  # a figure: a fact
    ("Content, not so much.", "a fragment"),
    ("Dear Abby is written by Abigail Van Buren and was founded by her mother.", "boilerplate"),
    ("Mara Quist can be reached at the Courier's harbour office.", "boilerplate"),
    ("Which is not to say that the ferry was ever safe to sail at night.", "a dangling reference"),
    ("Rebranded to look like a neutral account, it posted tweets supporting the mayor.", "a dangling reference"),
    ("When police arrived at the harbour on Monday, they found the ferry empty.", None),  # its own subject
    ("In her lawsuit, Karo says the ferry company broke its promise to the town.", None),  # "her" is Karo
    ("E MOBILIDADE PLANO DIRETOR PROTOCOLO PROCON AGENDAMENTO PESQUISAS", "not a sentence"),
    ("stock car 2018, stock car brasil, stock car cascavel, stock car interlagos, stock car velopark", "not a sentence"),
    ("Palm Bay 18 22 13 17 — 70", "not a sentence"),
    ("Harbour guards pictured with the mayor at the ferry rally in Lindvik earlier this month.", "a photo caption"),
    ("All eight guards were pictured with the mayor at the ferry rally in Lindvik.", None),  # a verb: a sentence
    ("Like her earlier mishap at the harbour, her ferry trip ended with a public apology.", "a dangling reference"),
    ("Follow Harbour Courier Sport on Facebook, Twitter and Instagram.", "boilerplate"),
    ("Catch up on the ferry strike with Courier reporters on our weekly politics podcast, Harbour Talk.", "boilerplate"),
    ("The following chart summarizes the value of the ferry fares in 2019.", "points at the page"),
    ("The mayor's office didn't immediately respond to a request for comment.", "no comment"),
    ("Finally he comes to a stop at the harbour wall and climbs out of the boat.", "a dangling reference"),
    ("At least they returned a record profit of £18.7million for the harbour club last week.", "a dangling reference"),
    ("£64 a ticket' The cheapest tickets for the ferry were £64, the highest on the coast.", "part of a quotation"),
    ("The players' union said the ferry fares were the highest on the coast this year.", None),
    ("Take a minute to think where the town would be without its night ferry.", "an aside to the reader"),
    ("Coloque nos seus favoritos e venha sempre conferir a classificação!", "boilerplate"),
    ("Clique no link para ver o calendário completo da temporada de 2019", "boilerplate"),
    ("The US Navy said the two ships would sail to the harbour in May.", None),  # "US" is no "us"
    ("The Harbour Bike Library lends 300 repaired bicycles a month to students.", None),
])
def test_lines_that_are_never_takeaways(sentence: str, reason: str | None) -> None:
    assert problem(sentence) == reason


def test_past_the_third_a_takeaway_must_score_near_the_best() -> None:
    from takeaways.engines.offline.ranking import strong
    from takeaways.engines.offline.text import Unit

    def u(i: int, score: float) -> Unit:
        return Unit(index=i, text=f"s{i}", start=i, end=i + 1, block=0, kind="paragraph", section=None, words=9,
                    score=score)

    picks = [u(0, 1.0), u(1, 0.3), u(2, 0.6), u(3, 0.5), u(4, 0.2)]
    assert [x.index for x in strong(picks, 3, 0.4)] == [0, 2, 3]  # the three best; 0.3 and 0.2 fall short
    assert [x.index for x in strong(picks, 3, 0.25)] == [0, 1, 2, 3]
    assert strong(picks[:2], 3, 0.4) == picks[:2]


def test_a_page_of_promos_and_asides_gets_no_takeaway_and_says_why() -> None:
    page = paragraphs("Sign up for our newsletter to get the best stories every morning.",
                      "Get Harbour Cycling Monthly delivered through your letterbox every month.",
                      "Words cannot describe how much I love this magazine.",
                      "Follow us on social media for daily updates and offers.")
    digest = ExtractiveEngine().generate(page, Spec(takeaways=5, questions=0), Settings())
    assert digest.takeaways == []
    assert any("only 0 takeaway(s)" in w for w in digest.warnings)
def test_why_from_a_consequence_and_its_cause_and_when_from_a_dated_plan() -> None:
    from takeaways.engines.offline.templates import template_questions

    assert template_questions("Dana Vey has been suspended from her job after a rant at a parking attendant.") == [
        ("Why has Dana Vey been suspended?", "why")]
    assert template_questions("The council was criticised over the cost of the new bridge.") == [
        ("Why was the council criticised?", "why")]
    # "after" with a time, or after a verb that is no consequence, gives no reason.
    assert not any(k == "why" for _, k in template_questions("Tom Berg was arrested after a while in the bar."))
    assert not any(k == "why" for _, k in template_questions("Tom Berg scored after the break to win the game."))
    assert template_questions("Tom Berg will bid for the hour record on June 7 at the velodrome.") == [
        ("When will Tom Berg bid for the hour record?", "when")]
    assert template_questions("The council will vote on the plan next week.") == [
        ("When will the council vote on the plan?", "when")]
    assert template_questions("Tom Berg will help him with the move in May.") == [("What will Tom Berg do?", "will")]


def test_a_subject_is_matched_by_how_its_name_ends_and_a_writers_scene_is_not_asked() -> None:
    from takeaways.engines.offline.subjects import about_subject

    subjects = [frozenset({"sam", "brownback"})]
    assert about_subject("What did Brownback sign?", "act", "Brownback signed the bill.", subjects, set())
    assert about_subject("What did Sam Brownback sign?", "act", "Sam Brownback signed the bill.", subjects, set())
    assert not about_subject("What did CNN's Sam Stringer do?", "do", "CNN's Sam Stringer contributed.", subjects, set())
    art = paragraphs(
        "Ana Lind placed the old paperback in my hands and told me I would love the book by Tom Berg.",
        "Tom Berg wrote eleven novels before he died, and Ana Lind has read every one of them twice.",
        "Ana Lind now runs a small press that reprints the novels of Tom Berg for new readers.",
        title="The forgotten novels of Tom Berg")
    qs = [q.question for q in faq_of(art)]
    assert "What did Ana Lind place?" not in qs


def test_an_ed_word_before_its_noun_and_a_verb_is_no_deed_and_a_located_topic_is_asked_where() -> None:
    from takeaways.engines.offline.templates import heading_question_for, template_questions

    assert template_questions("Lumo registered shares (LUM) are listed on the Veltra exchange.") == []
    assert template_questions("Tom Berg scored two goals and was named man of the match.") == [
        ("How many goals did Tom Berg score?", "count")]
    assert heading_question_for("The Harbour Camp", "The Harbour camp, known as the Berm, is located in the desert.",
                                {"harbour"}) == "Where is the Harbour camp?"


def test_who_was_told_is_not_what_was_said() -> None:
    from takeaways.engines.offline.subjects import speech_topic

    assert speech_topic("Ford told some of his friends that his mother had left.", frozenset({"ford"}), [],
                        {"friend"}, set()) is None
    assert speech_topic("Ford told reporters the rent had doubled.", frozenset({"ford"}), [], {"rent", "reporter"},
                        set()) == "the rent"


def test_a_caption_run_into_a_sentence_at_a_capitalised_preposition_is_a_run_on() -> None:
    from takeaways.engines.offline.filters import glued

    assert glued("Berg knew the victim from school and knew about the tapes In October last year, Berg sent a link.")
    assert not glued("In October last year, Berg sent the victim a link to the video.")


def test_at_most_one_answer_repeats_a_takeaway() -> None:
    from takeaways.engines.offline.faq import faq

    art = paragraphs(
        "Ana Lind has admitted that the harbour plan will cost twice what the council was told last spring.",
        "Tom Berg has denied that he hid the cost of the harbour plan from the council for a whole year.",
        "The meeting about the harbour plan is open to the public, and tickets are free.",
        "Ana Lind and Tom Berg are expected to speak at the meeting, as are both of their lawyers.",
        title="Ana Lind and Tom Berg on the harbour plan")
    items = units(art)
    sim, _ = similarity_matrix(items)
    for u, score in zip(items, [1.0, 0.9, 0.5, 0.4], strict=True):
        u.score = score
    out = faq(art, Spec(takeaways=2, questions=4), items, sim, items[:2], True)  # both sentences are takeaways
    shown = {items[0].text, items[1].text}
    assert sum(qa.answer in shown for qa in out) <= 1


def test_the_same_figures_in_other_words_are_a_near_duplicate() -> None:
    from collections import Counter

    from takeaways.engines.offline.ranking import mmr
    from takeaways.engines.offline.text import Unit, terms

    texts = ["Mara Quist has died at the age of 84 after a long battle with cancer, her family said on Monday.",
             "Mara Quist, the harbour's first ferry captain, has died at 84 after a battle with cancer.",
             "Quist steered the night ferry across the bay for thirty years and trained 200 captains."]
    items = [Unit(index=i, text=t, start=0, end=len(t), block=0, kind="paragraph", section=None, words=len(t.split()),
                  terms=Counter(terms(t, True)), score=1.0 - i / 10) for i, t in enumerate(texts)]
    sim = [[0.0] * 3 for _ in range(3)]  # no similarity: only the shared figure and terms tell them apart
    assert [u.index for u in mmr(items, sim, 3)] == [0, 2]
    texts = ["The software extracts the relevant colour information from images of paintings found online.",
             "Then, the software extract the relevant colour information from them, and plots it nicely.",
             "The 1800s were dominated by orange, and blue gained ground after 1950, the graphs show."]
    items = [Unit(index=i, text=t, start=0, end=len(t), block=0, kind="paragraph", section=None, words=len(t.split()),
                  terms=Counter(terms(t, True)), score=1.0 - i / 10) for i, t in enumerate(texts)]
    assert [u.index for u in mmr(items, sim, 3)] == [0, 2]  # the same five words: the second restates the first


def test_a_scene_setting_first_sentence_is_no_takeaway_but_a_reporting_one_is() -> None:
    scene = "With summer around the corner, icy treats are back on the menu."
    shown = [t.text for t in ExtractiveEngine().generate(paragraphs(scene, *BODY), Spec(takeaways=3, questions=0),
                                                         Settings()).takeaways]
    assert scene not in shown and BODY[0] in shown
    lead = "The Harbour Bike Library opened on Monday with 300 bicycles."  # a name and a figure: it reports
    shown = [t.text for t in ExtractiveEngine().generate(paragraphs(lead, *BODY[1:]), Spec(takeaways=3, questions=0),
                                                         Settings()).takeaways]
    assert lead in shown


def test_a_question_in_japanese_and_a_bracketed_byline() -> None:
    ja = Article(language="ja", blocks=[Block(kind="paragraph", text="ではなぜ、商標権侵害になるのでしょうか。")])
    from takeaways.engines.offline.filters import takeaway_problem

    assert takeaway_problem(units(ja, english=False)[0]) == "a question"
    ko = Article(language="ko", blocks=[Block(kind="paragraph", text="[엔터미디어=정덕현의 이슈공감] 시작은 사진 공개로부터 비롯됐다.")])
    assert units(ko, english=False)[0].text == "시작은 사진 공개로부터 비롯됐다."
    assert units(paragraphs('"[The plan] is dead," the mayor said on Monday.'))[0].text.startswith('"[The plan]')


def test_an_abstract_object_says_nothing_alone_and_an_unnamed_him_is_no_answer() -> None:
    from takeaways.engines.offline.templates import template_questions

    assert template_questions("Tom Berg has expressed his interest in becoming the new director.") == [
        ("What has Tom Berg done?", "do")]
    assert template_questions("Tom Berg has passed the 100 appearances mark for the club.") == [
        ("What has Tom Berg done?", "do")]
    art = paragraphs(
        "The Harbour Lakers beat the Veltra Kings 112-107 on Sunday night in front of a full arena.",
        "The Harbour Lakers plan to re-evaluate him within the next 24 hours, the coach said.",
        "The Harbour Lakers play the Veltra Kings again on Friday in the second game of the series.",
        title="Harbour Lakers hold off Veltra Kings")
    qs = [q.question for q in faq_of(art)]
    assert "What do the Harbour Lakers plan to do?" not in qs


def test_a_name_the_first_sentences_never_introduced_opens_no_takeaway() -> None:
    text = [
        "The Harbour Bike Library, run by mechanic Tom Berg, now lends 300 repaired bicycles a month to students.",
        "Volunteers at the library repair the bicycles from parts of abandoned ones that the council collects.",
        "The council pays the library 40,000 euros a year, about the cost of removing the abandoned bicycles.",
        "Berg said the library would open a second workshop in the old ferry terminal next spring.",
        "Elise found the workshop's first tools in a skip behind the terminal, according to the volunteers.",
        "In 1997, Elise wrote, the terminal was sold to the council for 300,000 euros and closed to ferries.",
        "Students borrow the bicycles for a month and bring them back to the library for repairs.",
        "The library thanked the volunteer Elise Marr and the council for the workshop in the terminal.",
    ]
    from takeaways.engines.offline.ranking import _Strangers

    stranger = _Strangers(paragraphs(*text), units(paragraphs(*text)))
    assert stranger("Elise") and not stranger("Berg")  # Tom Berg is named in the lead
    assert not stranger("Students")  # a common word ("students" in the lead)
    shown = [t.text for t in ExtractiveEngine().generate(paragraphs(*text), Spec(takeaways=5, questions=0),
                                                         Settings()).takeaways]
    assert not any(t.startswith(("Elise", "In 1997, Elise")) for t in shown)  # who is Elise?
    assert any(t.startswith("Berg said") for t in shown)
    league = paragraphs("Wales beat Hungary 2-0 to earn the last spot at the tournament on Tuesday night.",
                        "Spain and Italy had already qualified for the finals with two games to spare.",
                        "The playoffs in March will decide the last four places at the tournament.",
                        "Slovakia are the surprise leaders of their group after a win over Spain in October.")
    assert not _Strangers(league, units(league))("Slovakia")  # a place, never next to another capitalised word


def test_a_colon_inside_a_quoted_title_is_no_caption_label_and_a_capitalised_role_opens_a_sentence() -> None:
    from takeaways.engines.offline.filters import caption_cut, glue_cut

    lead = 'Buzz has surrounded the new documentary "Going Clear: The Harbour and Its Ferry," but the mayor is no fan.'
    assert caption_cut(lead) == 0
    head = ("The coach looks on as his team struggle in the derby Head coach Mara Quist said before the game she had "
            "a plan to lift the players.")
    assert head[glue_cut(head):].startswith("Head coach")
