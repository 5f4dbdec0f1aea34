"""grounding.verify: the one evidence check every engine's output goes through."""

from __future__ import annotations

from takeaways.extract import extract_text
from takeaways.grounding import find_evidence, haystack_of, verify
from takeaways.models import QA, Digest, Takeaway

ARTICLE = extract_text(
    "Harbor Council Backs the Battery Plan\n"
    "The council voted 7-2 on Tuesday to lease the old coal pier to Tidewater Storage.\n"
    "Mayor Elena Vasquez called the vote “the end of one chapter” for the waterfront.\n"
    "The battery will store about 480 megawatt-hours — enough for 90,000 homes during the evening peak.\n"
)
HAY = haystack_of(ARTICLE)


def digest(takeaways: list[Takeaway] = [], faq: list[QA] = []) -> Digest:  # noqa: B006 - never mutated
    return Digest(article=ARTICLE.meta, takeaways=takeaways, faq=faq, engine="test")


def test_quote_marks_dashes_case_and_spacing_do_not_count() -> None:
    assert find_evidence('mayor elena vasquez called the vote "the end of one chapter"', HAY)
    assert find_evidence("about 480 megawatt-hours - enough for 90,000  homes", HAY)


def test_one_changed_word_is_tolerated_but_a_paraphrase_is_not() -> None:
    assert find_evidence("The council voted 7-2 on Tuesday to lease the old coal pier to Tidewater Storages.", HAY)
    assert not find_evidence("Councillors approved renting the former coal jetty to a storage firm.", HAY)


def test_ellipsis_quotes_match_only_in_article_order() -> None:
    assert find_evidence("The council voted 7-2 ... to Tidewater Storage", HAY)
    assert not find_evidence("to Tidewater Storage ... The council voted 7-2", HAY)


def test_invented_evidence_is_dropped_and_named_without_its_text() -> None:
    out = verify(digest([Takeaway(text="Prices will fall by half.", evidence="Prices will fall by half next year.",
                                  origin="llm")]), ARTICLE)
    assert out.takeaways == []
    assert out.warnings == ["dropped takeaway 1 (llm): its evidence quote is not in the article"]
    assert "Prices" not in " ".join(out.warnings)


def test_an_item_that_is_itself_a_quote_is_grounded_by_its_own_text() -> None:
    quote = "The council voted 7-2 on Tuesday to lease the old coal pier to Tidewater Storage."
    out = verify(digest([Takeaway(text=quote, evidence="https://example.com/made-up", origin="llm")],
                        [QA(question="How much can the battery store?", evidence="…",
                            answer="The battery will store about 480 megawatt-hours", origin="llm")]), ARTICLE)
    assert [t.evidence for t in out.takeaways] == [quote]
    assert [q.evidence for q in out.faq] == ["The battery will store about 480 megawatt-hours"]
    assert out.warnings == []


def test_a_question_must_end_with_a_question_mark() -> None:
    evidence = "The council voted 7-2 on Tuesday"
    out = verify(digest(faq=[QA(question="What Changes in February", answer="x y z", evidence=evidence),
                             QA(question="投票の結果は？", answer="7-2", evidence=evidence)]), ARTICLE)
    assert [q.question for q in out.faq] == ["投票の結果は？"]
    assert out.warnings == ["dropped FAQ item 1 (extractive): the question does not end with a question mark"]


def test_repeated_questions_and_takeaways_are_dropped() -> None:
    evidence = "The council voted 7-2 on Tuesday"
    out = verify(digest([Takeaway(text="The vote was 7-2.", evidence=evidence)] * 2,
                        [QA(question="Who voted?", answer="The council.", evidence=evidence),
                         QA(question="who voted", answer="The council.", evidence=evidence)]), ARTICLE)
    assert len(out.takeaways) == 1 and len(out.faq) == 1
    assert len(out.warnings) == 2
