"""The offline engine: ranking, MMR, compression, question forming, odd input, and a golden article."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any, TypeVar

import pytest

from takeaways.config import Settings
from takeaways.engines.offline import ExtractiveEngine
from takeaways.engines.offline.filters import question_problems
from takeaways.engines.offline.ranking import mmr, select_takeaways, similarity_matrix
from takeaways.engines.offline.templates import heading_question, template_questions
from takeaways.engines.offline.text import Unit, compress, terms
from takeaways.engines.offline.units import units
from takeaways.extraction import extract_text
from takeaways.grounding import verify
from takeaways.models import QA, Article, Block, Spec, Takeaway

FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN = FIXTURES / "extractive-golden.txt"


def run(article: Article, takeaways: int = 5, questions: int = 4, language: str | None = None):
    return ExtractiveEngine().generate(article, Spec(takeaways=takeaways, questions=questions, language=language),
                                       Settings())


def news(*paragraphs: str, title: str | None = None) -> Article:
    return Article(title=title, language="en", blocks=[Block(kind="paragraph", text=p) for p in paragraphs])


# --- heading → question -------------------------------------------------------------------------

@pytest.mark.parametrize(("heading", "question"), [
    ("Why This Matters", "Why does this matter?"),
    ("Why It Matters", "Why does it matter?"),
    ("What We Know About DeepSeek V4", "What do we know about DeepSeek V4?"),
    ("What We Know So Far", "What do we know?"),
    ("What We Don't Know", "What don't we know?"),
    ("The Huawei AI Chip Portfolio", "What is in the Huawei AI chip portfolio?"),
    ("Global AI Implications", "What are the global AI implications?"),
    ("Huawei's Response", "What is Huawei's response?"),
    ("Market Reaction", "What is the market reaction?"),
    ("Concerns About Staffing", "What are the concerns about staffing?"),
    ("The Cost of Delays", "What is the cost of delays?"),
    ("What It Means for Investors", "What does it mean for investors?"),
    ("What Happens Next", "What happens next?"),
    ("What's Next", "What happens next?"),
    ("How It Works", "How does it work?"),
    ("How DeepSeek Works", "How does DeepSeek work?"),
    ("How to Apply", "How do you apply?"),
    ("What to Expect from DeepSeek", "What can you expect from DeepSeek?"),
    ("Looking Ahead", "What lies ahead?"),
    ("Background", "What is the background?"),
    ("The Pros and Cons", "What are the pros and cons?"),
    ("Who Is Liang Wenfeng", "Who is Liang Wenfeng?"),
    ("How will the city measure success?", "How will the city measure success?"),
    ("2. Pricing", "What is the pricing?"),
    ("What Is DeepSeek", "What is DeepSeek?"),
    ("Power and Performance", "What do we know about the power and performance?"),
    ("How Does the Chip Compare", "How does the chip compare?"),
    # A why/how statement turned round (its section must still answer it, see section_answers).
    ("How Huawei Caught Up", "How did Huawei catch up?"),
    ("Why Investors Sold", "Why did investors sell?"),
    ("Why DeepSeek Matters to Huawei", "Why does DeepSeek matter to Huawei?"),
    ("Why Rents Are Rising", "Why are rents rising?"),
])
def test_heading_question_table(heading: str, question: str) -> None:
    names = {"huawei", "deepseek", "liang", "wenfeng"}  # what the article capitalises mid-sentence
    assert heading_question(heading, names) == question
    assert not question_problems(question)


@pytest.mark.parametrize("heading", ["Conclusion", "Summary", "Key Takeaways", "FAQ", "Related Articles",
                                     "Looking Beyond Chips", "In Other News", "Huawei Wins Big", "Share this", "",
                                     "There's Still a Chance", "Testing the Silicon", "GIRLS BASKETBALL",
                                     "Time for Dr. Sherlock",
                                     "HOW TO USE A WATER BATH CANNER", "Popular on IndieWire", "Most Read",
                                     "Trending Now", "You May Also Like", "More from Reuters", "Top Stories"])
def test_headings_without_a_good_question_are_skipped(heading: str) -> None:
    assert heading_question(heading, set()) is None


def test_heading_question_without_context_keeps_capitals_but_lowers_function_words() -> None:
    assert heading_question("Why This Matters") == "Why does this matter?"


# --- question rules and templates ---------------------------------------------------------------

@pytest.mark.parametrize(("question", "ok"), [
    ("What did police say?", True),
    ("What happened?", True),
    ("How much did Acme pay?", True),
    ("Is the plan good?", False),              # yes/no
    ("Did she win?", False),                   # yes/no
    ("What did he say?", False),               # a bare pronoun
    ("What about the plan", False),            # no question mark
    ("The plan?", False),                      # no wh-word
    ("What is (the plan?", False),             # unbalanced
    ("What is the plan ?", False),             # stray space
    ("Why? What?", False),                     # two questions
])
def test_question_problems(question: str, ok: bool) -> None:
    assert (not question_problems(question)) is ok


@pytest.mark.parametrize(("sentence", "expected"), [
    ("Police said the suspect fled the scene in a stolen car.", [("What did police say?", "say")]),
    # An age is no answer to "Who is …?" (the role phrase is; see test_who_is_answered_by_the_role_phrase).
    ("Kristina Karo, 25, claims she was a classmate of the actress.", [("What does Kristina Karo claim?", "claim")]),
    ("The company was founded in 1998 by two students.", [("When was the company founded?", "when")]),
    ("Acme Corp paid $5 million to settle the lawsuit last year.", [("How much did Acme Corp pay?", "much")]),
    ("Jamie Silvonek was charged with homicide and criminal conspiracy.",
     [("What was Jamie Silvonek charged with?", "legal")]),
    ("The council will vote on the plan next week.", [("When will the council vote on the plan?", "when")]),
    ("Researchers found that the drug cut deaths by a third.", [("What did researchers find?", "find")]),
    ("Scientists are working towards building a robot that thinks.", [("What are scientists doing?", "doing")]),
    ("He said it would be fine in the end.", []),                       # pronoun subject: no question
    ("We’ve asked him to share some insights into the business.", []),  # contraction: a pronoun subject
    ("The largest project the city has approved in years was built.", []),  # relative clause in the subject
    ("The plan appears consistent with another announced last year.", []),  # a verb inside the subject
    ("What will happen to the plan now that it failed?", []),          # already a question
    ("The troll even attempted to backtrack by offering Alexis congratulations.", []),  # adverb, not subject
    ("The experience allegedly resulted in him losing the function of his body.",  # "allegedly" is no "alleged"
     [("What did the experience do?", "do")]),
])
def test_template_questions(sentence: str, expected: list[tuple[str, str]]) -> None:
    assert template_questions(sentence) == expected


def test_a_bare_common_noun_opening_the_sentence_is_not_asked_about() -> None:
    s = "Data previously collected by the telescope supported the existence of the plumes."
    assert template_questions(s, body_lower={"data"}) == []  # not "What did data do?"
    assert template_questions("Researchers found that the drug cut deaths by a third.", body_lower={"researchers"}) == [
        ("What did researchers find?", "find")]


def test_a_camel_case_name_opening_the_sentence_keeps_its_capitals() -> None:
    # Only at a sentence start, so never seen capitalised mid-sentence; "DeepSeek" is still a name.
    qs = template_questions("DeepSeek will run its next model on Huawei chips next year.", proper=set())
    assert qs == [("What will DeepSeek do?", "will")]


def test_lower_case_text_keeps_only_determiner_subjects() -> None:
    s = "The oscar nominated actress, 60, revealed she turned down the starring role in the series."
    assert template_questions(s, names=False) == [("What did the oscar nominated actress reveal?", "reveal")]
    assert template_questions("Didier drogba has been awarded a trophy for his charity work.", names=False) == []


# --- compression --------------------------------------------------------------------------------

@pytest.mark.parametrize(("sentence", "shown"), [
    ("LONDON (Reuters) - The bank raised rates on Thursday.", "The bank raised rates on Thursday."),
    ("(CNN)Blues legend B.B. King was hospitalized for dehydration.",
     "Blues legend B.B. King was hospitalized for dehydration."),
    ("WASHINGTON — Lawmakers passed the bill late on Friday night.", "Lawmakers passed the bill late on Friday night."),
    ("But the plan failed after two years of work.", "The plan failed after two years of work."),
    ("The factory will close in March, the company said.", "The factory will close in March."),
    ("The factory will close in March, said John Smith.", "The factory will close in March."),
    ('"We will close in March," the company said.', '"We will close in March," the company said.'),
    ("And.", "And."),
])
def test_compress(sentence: str, shown: str) -> None:
    assert compress(sentence) == shown


# --- ranking and MMR ----------------------------------------------------------------------------

def _unit(i: int, text: str, score: float) -> Unit:
    return Unit(index=i, text=text, start=0, end=len(text), block=0, kind="paragraph", section=None,
                words=len(text.split()), terms=Counter(text.lower().split()), score=score)


def test_mmr_skips_a_near_duplicate_and_keeps_article_order() -> None:
    items = [_unit(0, "a", 1.0), _unit(1, "b", 0.9), _unit(2, "c", 0.5)]
    sim = [[1.0, 0.95, 0.0], [0.95, 1.0, 0.0], [0.0, 0.0, 1.0]]
    chosen = mmr(items, sim, 2)
    assert [u.index for u in chosen] == [0, 2]


def test_mmr_without_redundancy_takes_the_best() -> None:
    items = [_unit(0, "a", 0.2), _unit(1, "b", 0.9), _unit(2, "c", 0.5)]
    sim = [[0.0] * 3 for _ in range(3)]
    assert [u.index for u in mmr(items, sim, 2)] == [1, 2]


def test_ranking_prefers_the_lead_and_the_central_sentence_to_an_aside() -> None:
    article = news(
        "The city council approved a new bike lane network on Tuesday after a long debate.",
        "The weather was mild and a few people brought umbrellas to the hall.",
        "The bike lane network will connect the harbour, the university and three suburbs.",
        "Council members said the bike lane network would cost 86 million dollars over six years.",
        "Critics of the bike lane network worry about parking spaces near the harbour.",
    )
    chosen, items, _, _ = select_takeaways(article, Spec(takeaways=2), english=True)
    assert items[0].score > items[1].score
    assert items[2].score > items[1].score
    assert "umbrellas" not in " ".join(u.text for u in chosen)


def test_a_quotation_fragment_or_a_dangling_pronoun_is_not_a_takeaway_when_avoidable() -> None:
    article = news(
        "The city council approved a new bike lane network on Tuesday after a long debate.",
        "He was elected two years ago on a promise of a safer bike network for the city.",
        'The mayor said: "The network is a turning point. We are in a good position to build the network now."',
        "In it, the council also set targets for fewer injuries and more trips on the bike network.",
        "The bike lane network will connect the harbour, the university and three suburbs.",
        "Council members said the bike lane network would cost 86 million dollars over six years.",
        "Critics of the bike lane network worry about parking spaces near the harbour.",
    )
    chosen, _, _, _ = select_takeaways(article, Spec(takeaways=3), english=True)
    shown = [u.text for u in chosen]
    assert not any(t.startswith(("We are", "He was", "In it")) for t in shown), shown
    assert len(shown) == 3


def test_faq_answers_drop_the_dateline_but_the_evidence_keeps_it() -> None:
    article = news(
        "MADRID (AP) — Rafael Nadal won the decisive singles on Tuesday, and Spain beat Russia 2-1 in the Davis Cup Finals.",
        "Marcel Granollers and Feliciano Lopez won the decisive doubles match late on Tuesday night in Madrid.",
        "The top-ranked Nadal earlier defeated Karen Khachanov to level the series after a loss in the first match.",
        "Spain will play Argentina in the quarterfinals on Thursday, the organisers said in a statement.",
        "Nadal said the crowd in Madrid had carried the team through a very long night of tennis.",
        title="Nadal keeps Spain alive in the Davis Cup Finals")
    digest = run(article, 0, 6)  # no takeaways: the lead is free to answer (an answer does not repeat a takeaway)
    lead = next(qa for qa in digest.faq if qa.evidence.startswith("MADRID (AP) — "))
    assert lead.answer.startswith("Rafael Nadal won the decisive singles")
    verified = verify(digest, article).faq  # kept as they are, now with where each quote was found
    assert unlocated(verified) == digest.faq and all(q.match == "exact" for q in verified)


def test_date_stamps_labels_and_copyright_lines_are_not_takeaways() -> None:
    article = Article(language="pt", blocks=[Block(kind="paragraph", text=p) for p in [
        "Sexta-feira, 22 de outubro de 2010 às 20:13",
        "A prefeitura aprovou ontem a nova rede de ciclovias da cidade depois de um longo debate.",
        "Leia também: Prefeitura anuncia obras no centro",
        "A rede de ciclovias vai ligar o porto, a universidade e três bairros da cidade.",
        "A obra da rede de ciclovias deve custar 86 milhões de reais em seis anos.",
        "Copyright © 2018 Jornal da Cidade. Todos os direitos reservados.",
    ]])
    shown = [t.text for t in run(article, 3, 0).takeaways]
    assert shown == ["A prefeitura aprovou ontem a nova rede de ciclovias da cidade depois de um longo debate.",
                     "A rede de ciclovias vai ligar o porto, a universidade e três bairros da cidade.",
                     "A obra da rede de ciclovias deve custar 86 milhões de reais em seis anos."]


def test_korean_words_and_chinese_japanese_character_pairs() -> None:
    # Korean spaces its words: counting syllables made every sentence "too long" (demoted below the
    # boilerplate) and every pair of sentences alike (single syllables are shared by all of them).
    ko = Article(language="ko", blocks=[Block(kind="paragraph", text="시작은 엘제이의 일방적인 사진 공개로부터 비롯됐다.")])
    assert units(ko, english=False)[0].words == 6
    # Chinese and Japanese: a character is a word, and the terms are character pairs.
    assert terms("北京的秋天", english=False) == Counter({"北京": 1, "京的": 1, "的秋": 1, "秋天": 1})
    assert terms("iPhoneを販売", english=False) == Counter({"iphone": 1, "を販": 1, "販売": 1})


def test_an_answer_that_introduces_a_list_carries_the_list_and_one_before_a_table_is_not_used() -> None:
    B = Block
    article = Article(language="en", title="Huawei chips for DeepSeek", blocks=[
        B(kind="paragraph", text="DeepSeek will run its next model on Huawei chips, according to a report on Monday."),
        B(kind="paragraph", text="The move reduces the company's dependence on chips made with American technology."),
        B(kind="heading", text="What It Means for Investors"),
        B(kind="paragraph", text="The shift has three consequences for investors in the chip sector:"),
        B(kind="list_item", text="Supply chains become less exposed to export controls"),
        B(kind="list_item", text="Prices for AI chips may fall"),
        B(kind="list_item", text="Hardware ecosystems split along political lines"),
        B(kind="heading", text="The Huawei AI Chip Portfolio"),
        B(kind="paragraph", text="Huawei has been building its AI chip capabilities through its Ascend series:"),
        B(kind="table", text="Chip | Use | Ascend 910B | Training | Ascend 910C | Inference"),
        B(kind="paragraph", text="Analysts expect the first products built on the new chips to reach customers next year."),
    ])
    digest = run(article, 2, 6)
    asked = {qa.question: qa for qa in digest.faq}
    assert "What is in the Huawei AI chip portfolio?" not in asked  # its answer would end in a colon
    invest = asked["What does it mean for investors?"]
    assert invest.answer == ("The shift has three consequences for investors in the chip sector: Supply chains become less "
                             "exposed to export controls; Prices for AI chips may fall; Hardware ecosystems split along "
                             "political lines.")
    assert invest.evidence in article.text and invest.evidence.endswith("political lines")
    assert not any(qa.answer.endswith(":") for qa in digest.faq)


def scored_units(article: Article, scores: list[float]) -> tuple[list[Unit], Any]:
    """The article's sentence units with fixed salience scores (the first len(scores)), and their similarities."""
    items = units(article)
    sim, _ = similarity_matrix(items)
    for u, score in zip(items, scores, strict=False):
        u.score = score
    return items, sim


def test_an_faq_answer_prefers_a_sentence_that_is_not_already_a_takeaway() -> None:
    from takeaways.engines.offline.faq import faq

    article = news(
        "NASA found water vapour above the surface of Europa, the agency said in a statement on Monday.",
        "The ocean under the ice is salty and deep, and it may be warm enough for simple forms of life.",
        "NASA found that the ice shell of Europa is many kilometres thick in most places on the surface.",
        "The journey there is long, and the radiation near the giant planet is intense for NASA probes.",
        title="NASA finds water on Europa")
    items, sim = scored_units(article, [1.0, 0.7, 0.6, 0.5])
    out = faq(article, Spec(takeaways=1, questions=1), items, sim, [items[0]], True)  # items[0] is the takeaway
    assert [(qa.question, qa.answer) for qa in out] == [
        ("What did NASA find?", "NASA found that the ice shell of Europa is many kilometres thick in most places on the surface.")]


def test_an_faq_answer_avoids_a_sentence_opening_with_a_dangling_pronoun() -> None:
    from takeaways.engines.offline.faq import faq

    article = news(
        "In it, NASA found water vapour above the surface of Europa, a moon many people find exciting.",
        "The ocean under the ice is salty and deep, and it may be warm enough for simple forms of life.",
        "NASA found that the ice shell of Europa is many kilometres thick in most places on the surface.",
        "The journey there is long, and the radiation near the giant planet is intense for NASA probes.",
        title="NASA finds water on Europa")
    items, sim = scored_units(article, [0.8, 0.7, 0.6, 0.5])
    out = faq(article, Spec(takeaways=0, questions=1), items, sim, [], True)
    assert [qa.answer for qa in out] == ["NASA found that the ice shell of Europa is many kilometres thick in most places on the surface."]


def test_a_product_box_with_a_web_address_is_neither_takeaway_nor_answer() -> None:
    article = news(
        "Tested by: John Milbank RRP: £23.99 More info: www.clymer.co.uk",
        "The manual covers every service job on the bike, from oil changes to a full engine rebuild.",
        "Each job is shown step by step with clear photographs and a list of the tools it needs.",
        "Owners who do their own servicing will find the wiring diagrams at the back especially useful.",
    )
    digest = run(article, 2, 4)
    assert not any("www." in item.evidence for item in [*digest.takeaways, *digest.faq])


def test_title_overlap_lifts_a_sentence() -> None:
    body = ["Officials met on Monday to discuss several matters for the coming year.",
            "The budget for schools will rise by ten per cent next year.",
            "Road repairs will continue through the winter in the north of the city."]
    plain = select_takeaways(news(*body), Spec(takeaways=1), True)[1]
    titled = select_takeaways(news(*body, title="Road repairs continue through winter"), Spec(takeaways=1), True)[1]
    assert titled[2].score > plain[2].score


# --- the engine ---------------------------------------------------------------------------------

T = TypeVar("T", Takeaway, QA)


def unlocated(items: list[T]) -> list[T]:
    """The items without what verification adds (where each quote was found)."""
    return [i.model_copy(update={"evidence_span": None, "match": None, "match_score": None}) for i in items]


def test_evidence_is_verbatim_and_survives_verification() -> None:
    article = extract_text(GOLDEN.read_text(encoding="utf-8"))
    digest = run(article, 5, 6)
    assert len(digest.takeaways) >= 3 and len(digest.faq) == len(GOLDEN_FAQ)  # past the third, only strong takeaways
    for item in [*digest.takeaways, *digest.faq]:
        assert item.evidence in article.text
        assert item.origin == "extractive"
    verified = verify(digest, article)
    assert unlocated(verified.takeaways) == digest.takeaways and unlocated(verified.faq) == digest.faq
    for item in [*verified.takeaways, *verified.faq]:  # verbatim, so found exactly where it is
        assert item.match == "exact" and item.evidence_span is not None
        assert article.text[slice(*item.evidence_span)] == item.evidence
    starts = [article.text.index(t.evidence) for t in digest.takeaways]
    assert starts == sorted(starts)  # takeaways in article order


def test_questions_are_distinct_well_formed_and_not_takeaways() -> None:
    article = extract_text(GOLDEN.read_text(encoding="utf-8"))
    digest = run(article, 5, 6)
    questions = [q.question for q in digest.faq]
    assert len(set(q.casefold() for q in questions)) == len(questions)
    assert all(not question_problems(q) for q in questions)
    assert not set(questions) & {t.text for t in digest.takeaways}
    assert len({q.evidence for q in digest.faq}) == len(questions)


def test_deterministic() -> None:
    text = GOLDEN.read_text(encoding="utf-8")
    a = run(extract_text(text), 5, 6).model_dump()
    b = run(extract_text(text), 5, 6).model_dump()
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def test_counts_follow_the_spec() -> None:
    article = extract_text(GOLDEN.read_text(encoding="utf-8"))
    assert len(run(article, 2, 1).takeaways) == 2
    digest = run(article, 0, 0)
    assert digest.takeaways == [] and digest.faq == []


@pytest.mark.parametrize("article", [
    Article(),
    Article(blocks=[Block(kind="heading", text="Only a heading")]),
    Article(blocks=[Block(kind="heading", text="Why This Matters"), Block(kind="heading", text="Background")]),
    Article(blocks=[Block(kind="list_item", text=f"Item number {i} of the list") for i in range(6)]),
    Article(blocks=[Block(kind="paragraph", text="One paragraph with a single sentence and no full stop")]),
    Article(blocks=[Block(kind="table", text="a | b | c")]),
    Article(blocks=[Block(kind="paragraph", text="?"), Block(kind="paragraph", text="...")]),
    Article(language="zh", blocks=[Block(kind="paragraph", text="今天天气很好。我们去公园！你呢？北京的秋天很美。")]),
    Article(language="ja", blocks=[Block(kind="heading", text="概要"),
                                   Block(kind="paragraph", text="東京は晴れです。明日は雨でしょう。")]),
])
def test_odd_input_never_raises(article: Article) -> None:
    digest = run(article, 5, 4)
    for item in [*digest.takeaways, *digest.faq]:
        assert item.evidence in article.text
    assert digest.engine == "extractive"


def test_other_languages_fall_back_and_say_so() -> None:
    article = Article(language="de", blocks=[
        Block(kind="paragraph", text="Der Stadtrat hat am Dienstag ein neues Radwegenetz beschlossen. "
                                     "Das Netz soll 86 Millionen Euro kosten."),
        Block(kind="heading", text="Wie geht es weiter?"),
        Block(kind="paragraph", text="Die Planung beginnt im Februar. Anwohner können acht Wochen lang Stellung nehmen."),
    ])
    digest = run(article, 2, 3)
    assert any("not English" in w for w in digest.warnings)
    assert len(digest.takeaways) == 2
    assert [q.question for q in digest.faq] == ["Wie geht es weiter?"]
    assert digest.faq[0].evidence.startswith("Die Planung beginnt im Februar.")


def test_the_article_asks_and_answers() -> None:
    article = news(
        "The city approved a bike network on Tuesday after years of debate among residents.",
        "Why did it take so long? Funding was the main obstacle for nearly a decade. "
        "A state grant finally closed the gap last year.",
        "Construction starts in April and the first route opens next year.",
    )
    digest = run(article, 2, 4)
    asked = [q for q in digest.faq if q.question == "Why did it take so long?"]
    assert asked and asked[0].answer.startswith("Funding was the main obstacle")


# --- golden --------------------------------------------------------------------------------------

# Generated once, then read and kept because they read well; a change here is a change in quality.
GOLDEN_TAKEAWAYS = [
    "The Lindenfield city council voted 7-2 on Tuesday to build a 42-kilometre network of protected bike lanes, "
    "the largest transport project the city has approved in two decades.",  # dateline "LINDENFIELD (Courier) -" dropped
    "The plan, which will cost an estimated $86 million over six years, links the old harbour district with the "
    "university campus and the three largest suburbs.",
    "Supporters say it will cut car trips in the city centre by a fifth by 2032.",
    "Lindenfield has one of the highest cyclist injury rates among mid-sized cities in the region.",
]  # four of the five asked for: the others score less than TAIL_FLOOR of the lead
GOLDEN_FAQ = [
    ("Why does this matter?",
     "Lindenfield has one of the highest cyclist injury rates among mid-sized cities in the region."),
    ("What do we know about the funding?",
     "The council will pay for the first phase from its transport reserve. Dr. Samuel Okafor, the city's chief "
     "financial officer, said the remaining $51 million would come from a state infrastructure grant and a small "
     "increase in parking fees."),
    ("How will the city measure success?",
     "The council set three targets: fewer cyclist injuries, more trips by bike and no loss of business along the routes."),
    ("What happens next?",
     "The transport department will publish detailed designs for the riverside corridor in February. Residents will "
     "have eight weeks to comment before the final designs go back to the council for approval."),
]  # "The Riverside Route Plan" is not asked (its lead never names the plan), nor the generic "What did Kovacs say?"


def test_golden_article() -> None:
    article = extract_text(GOLDEN.read_text(encoding="utf-8"))
    digest = run(article, 5, 6)
    assert [t.text for t in digest.takeaways] == GOLDEN_TAKEAWAYS
    assert [(q.question, q.answer) for q in digest.faq] == GOLDEN_FAQ
    assert digest.takeaways[0].evidence.startswith("LINDENFIELD (Courier) - The Lindenfield city council")
    assert digest.warnings == ["extractive engine: only 4 FAQ item(s) could be formed from the article"]


def test_a_requested_language_other_than_the_articles_is_reported_not_translated() -> None:
    article = extract_text(GOLDEN.read_text(encoding="utf-8"))
    digest = run(article, 2, 2, language="fr")
    assert any("cannot translate" in w for w in digest.warnings)
    assert [t.text for t in digest.takeaways] == [t.text for t in run(article, 2, 2).takeaways]


def test_random_text_never_raises() -> None:
    import random

    rng = random.Random(7)
    alphabet = [*"abc XYZ.,;:!?\"'()-–—…\n0123456789$%’“”", "Mr. ", "U.S. ", "said ", "The ", "## ", "- "]
    for _ in range(200):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 300)))
        article = extract_text(text)
        digest = run(article, 5, 5)
        for item in [*digest.takeaways, *digest.faq]:
            assert item.evidence in article.text


def test_a_very_long_page_is_ranked_on_its_first_sentences() -> None:
    topics = ["bridges", "schools", "parks", "taxes", "housing", "buses", "libraries", "water", "police", "hospitals",
              "roads", "museums", "markets", "harbours", "trams", "bins", "lights", "pools", "trees", "bikes"]
    paragraphs = [f"The council discussed {topics[i % 20]} and {topics[(i * 7 + 3) % 20]} with {topics[(i * 3 + 1) % 20]} "
                  f"experts during session {i}." for i in range(900)]
    article = news(*paragraphs)
    digest = run(article, 3, 2)
    assert len(digest.takeaways) == 3
    assert all(t.evidence in article.text for t in digest.takeaways)


@pytest.mark.parametrize(("heading", "question"), [
    ("How Will The City Measure Success?", "How will the city measure success?"),
    ("Is DeepSeek Safe?", None),  # the author's question, but yes/no
])
def test_heading_questions_of_the_author(heading: str, question: str | None) -> None:
    assert heading_question(heading, {"deepseek"}) == question


# --- issue 14: rules an editor asked for ----------------------------------------------------------

@pytest.mark.parametrize(("sentence", "name", "answer"), [
    ('"We found water," lead researcher and space agency scientist Lucas Pagan said in a statement.', "Lucas Pagan",
     "Lucas Pagan is a lead researcher and space agency scientist."),
    ("Joshua Ampt, a professor of engineering at the state university, explained how air moves.", "Joshua Ampt",
     "Joshua Ampt is a professor of engineering at the state university."),
    ("Actress Julia Dreyer has revealed where her new hairstyle came from.", "Julia Dreyer",
     "Julia Dreyer is an actress."),
    ("Julia Dreyer has revealed where her new hairstyle came from.", "Julia Dreyer", None),  # no role: no answer
])
def test_who_is_answered_by_the_role_phrase(sentence: str, name: str, answer: str | None) -> None:
    from takeaways.engines.offline.templates import who_answer

    assert who_answer(sentence, name) == answer


@pytest.mark.parametrize(("text", "cut"), [
    ("Scroll down for video Happy day: The couple at the harbour on Sunday The council said the new lanes "
     "would open next spring.", "The council said the new lanes would open next spring."),
    ("Proud: Mayor Ines Kova (pictured) at the opening", None),
    ("From left, Anna Berg, Tom Lind and Eva Holm attend the launch in 2013", None),
    ("Photo: Harbour Courier", None),
    ("The council set three targets: fewer injuries, more trips and no lost business.", ""),
    ("Mr Wang said: 'Big kites are usually built from this kevlar rope to stop them snapping.'", ""),
    ("With the new Avengers: Age of Ultron film out this week, the actor posted a photo.", ""),
])
def test_caption_runs_are_cut_or_dropped(text: str, cut: str | None) -> None:
    from takeaways.engines.offline.filters import caption_cut

    at = caption_cut(text)
    assert (None if at is None else text[at:]) == (None if cut is None else (cut or text))


@pytest.mark.parametrize(("sentence", "problem"), [
    ("Those gains were wiped out within a week of trading on the exchange.", "a dangling reference"),
    ("All of that changed when the harbour bridge closed for repairs.", "a dangling reference"),
    ("The move comes after months of talks between the two companies.", "a dangling reference"),
    ("That her party wants chaos at Westminster to force another referendum.", "a dangling reference"),
    ("Disclosure: the author owns shares of the company mentioned here.", "boilerplate"),
    ("Sign up for our newsletter to get the latest stories every morning.", "boilerplate"),
    ("Will the council approve the plan before the summer break?", "a question"),
    ("I have to say I was not expecting any of this when I arrived.", "a first-person aside"),
    ("A spokesperson for the council declined to comment.", "no comment"),
    ("Of all the people to be caught on camera, you would think a reporter would know better.", "an aside to the reader"),
    ("Now you know that there really is a bar that sells fresh air.", "an aside to the reader"),
    ("This week the council approved 42 kilometres of protected bike lanes.", None),
    ("The council approved 42 kilometres of protected bike lanes on Tuesday.", None),
])
def test_sentences_that_are_never_takeaways(sentence: str, problem: str | None) -> None:
    from takeaways.engines.offline.filters import takeaway_problem

    [u] = units(news(sentence))
    assert takeaway_problem(u) == problem


def test_no_catch_all_questions_and_no_questions_about_a_name_seen_once() -> None:
    article = news(
        "The Lindvik city council voted on Tuesday to build a network of protected bike lanes across the city.",
        "The plan will cost an estimated $86 million over six years and links the harbour with the university.",
        "Council leader Maria Holt said the vote was a turning point for the city and its cyclists.",
        "Holt said the first lanes would open next spring, after a short public consultation.",
        "A cyclist, Peter Quinn, was injured on the harbour road last year, according to police records.",
        title="Lindvik council backs bike lanes")
    questions = [qa.question for qa in run(article, 2, 4).faq]
    assert not any(q.startswith(("What happened", "Who is involved", "What do we know about", "How much money"))
                   for q in questions)
    assert not any("Quinn" in q for q in questions)  # named once, not what the article is about
    assert any("Holt" in q for q in questions)


def test_a_verb_that_is_not_speech_gives_no_speech_question() -> None:
    from takeaways.engines.offline.subjects import about_subject

    subjects = [frozenset({"rowe"})]
    assert not about_subject("What did Rowe say?", "say", "Rowe added a second goal in the last minute of the game.",
                             subjects, {"rowe"})
    assert about_subject("What did Rowe say?", "say", "Rowe added that the team had played its best game.",
                         subjects, {"rowe"})
    assert about_subject("What did Rowe say?", "say", "Rowe said the team had played its best game of the season.",
                         subjects, {"rowe"})


def test_an_answer_does_not_repeat_a_takeaway_when_another_exists() -> None:
    article = news(
        "Council leader Maria Holt said the bike network would be finished within six years of the vote.",
        "The council voted 7-2 on Tuesday to build the network, the largest project it has approved in decades.",
        "Holt said the first lanes would open next spring, after a short public consultation with residents.",
        "The plan will cost an estimated $86 million and links the harbour with the university and suburbs.",
        title="Holt wins vote on Lindvik bike lanes")
    digest = run(article, 2, 4)
    shown = [t.text for t in digest.takeaways]
    # "Who is Maria Holt?" → "the council leader" tells too little to be asked (a bare role at no named body)
    assert len(digest.faq) >= 1 and not any(t in qa.answer for t in shown for qa in digest.faq)


def test_who_answer_stops_at_a_verb_before_the_role() -> None:
    from takeaways.engines.offline.templates import who_answer

    assert who_answer("Anna Berg, 21, was killed in the fight and suspect Tom Berg, 28, was shot in the arm.",
                      "Tom Berg") == "Tom Berg is a suspect."


def test_a_bare_quotation_is_no_takeaway() -> None:
    from takeaways.engines.offline.filters import takeaway_problem

    [u] = units(news('Finally, "Lose some weight, my friend."'))
    assert takeaway_problem(u) == "a bare quotation"
    [u] = units(news('The mayor called the plan "a turning point for the whole city" on Tuesday night.'))
    assert takeaway_problem(u) is None


def test_a_dangling_subject_behind_a_connective_is_no_takeaway() -> None:
    from takeaways.engines.offline.filters import takeaway_problem

    [u] = units(news("But she added it was another matter whether the vote would bring a second referendum."))
    assert takeaway_problem(u) == "a dangling reference"


@pytest.mark.parametrize("sentence", ["Instead, they are now exploring the impact of the regime on everyday life.",
                                      "Better yet, they say they are focused on the financial health of customers."])
def test_a_dangling_subject_behind_an_opening_phrase_is_no_takeaway(sentence: str) -> None:
    from takeaways.engines.offline.filters import takeaway_problem

    [u] = units(news(sentence))
    assert takeaway_problem(u) == "a dangling reference"


@pytest.mark.parametrize(("sentence", "problem"), [
    ("Yes, the exclamation mark is part of the name of the bank.", "a first-person aside"),
])
def test_asides_and_transcript_lines_are_no_takeaways(sentence: str, problem: str) -> None:
    from takeaways.engines.offline.filters import takeaway_problem

    [u] = units(news(sentence))
    assert takeaway_problem(u) == problem


def test_lines_of_a_transcript_are_no_takeaways() -> None:
    article = news("Prof. Carla: Today we are here with the whole group from the music school.",
                   "Prof. Carla: They will play three songs for the children who follow the blog.",
                   "The group has played music games with children at the university for ten years.",
                   "Its members are teachers and students of the school of fine arts in the city.")
    assert all(not t.text.startswith("Prof. Carla:") for t in run(article, 2, 0).takeaways)


def test_offline_package_imports_form_no_cycle_and_share_no_private_names() -> None:
    """One module per job: each imports only modules before it, and only their public names."""
    import ast

    import takeaways.engines.offline as pkg

    root = Path(pkg.__file__).parent
    graph: dict[str, set[str]] = {}
    for f in sorted(root.glob("*.py")):
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                graph.setdefault(f.stem, set()).add(node.module or "__init__")
                assert not [a.name for a in node.names if a.name.startswith("_")], f"{f.name} imports a private name"
    assert {"text", "filters", "ranking", "templates", "faq"} <= set(graph) | {"text"}
    done: set[str] = set()

    def visit(mod: str, path: tuple[str, ...]) -> None:
        assert mod not in path, f"import cycle: {' -> '.join((*path, mod))}"
        if mod not in done:
            for dep in graph.get(mod, ()):
                visit(dep, (*path, mod))
            done.add(mod)

    for mod in graph:
        visit(mod, ())
