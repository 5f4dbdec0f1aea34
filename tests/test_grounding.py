"""grounding.verify: the one evidence check every engine's output goes through."""

from __future__ import annotations

import json

from takeaways.extraction import extract_text
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


def _one(quote: str) -> Takeaway:
    out = verify(digest([Takeaway(text="A point.", evidence=quote, origin="llm")]), ARTICLE)
    assert len(out.takeaways) == 1, out.warnings
    return out.takeaways[0]


def test_an_exact_quote_records_its_span_in_article_text() -> None:
    quote = "lease the old coal pier to Tidewater Storage"
    t = _one(quote)
    assert (t.match, t.match_score) == ("exact", 1.0)
    assert t.evidence_span == (ARTICLE.text.index(quote), ARTICLE.text.index(quote) + len(quote))
    assert ARTICLE.text[slice(*t.evidence_span)] == quote


def test_a_normalised_quote_maps_back_to_the_original_characters() -> None:
    # straight quotes for curly ones, a hyphen for the em dash, doubled spaces, other case
    t = _one('MAYOR Elena Vasquez called the vote  "the end of one chapter"')
    assert (t.match, t.match_score) == ("normalised", 1.0)
    assert t.evidence_span is not None
    assert ARTICLE.text[slice(*t.evidence_span)] == "Mayor Elena Vasquez called the vote “the end of one chapter"
    t = _one("about 480 megawatt-hours - enough for 90,000\n homes")
    assert t.match == "normalised" and t.evidence_span is not None
    assert ARTICLE.text[slice(*t.evidence_span)] == "about 480 megawatt-hours — enough for 90,000 homes"


def test_a_span_survives_characters_that_normalise_to_several() -> None:
    # "ﬁ" (one char) normalises to "fi", "…" to "...", a soft hyphen to nothing: offsets stay original
    article = extract_text("Title\nThe ﬁnal\u00adreport … arrived late on a rainy Friday in March.\n")
    out = verify(Digest(article=article.meta, engine="t", takeaways=[
        Takeaway(text="x y", evidence="the finalreport ... arrived late on a rainy Friday")]), article)
    t = out.takeaways[0]
    assert t.match == "normalised" and t.evidence_span is not None
    assert article.text[slice(*t.evidence_span)] == "The ﬁnal\u00adreport … arrived late on a rainy Friday"


def test_a_fuzzy_quote_records_its_window_and_score() -> None:
    t = _one("The council voted 7-2 on Tuesday to lease the old coal pier to Tidewater Storages.")
    assert t.match == "fuzzy" and t.match_score is not None and 0.9 <= t.match_score < 1.0
    assert t.evidence_span is not None
    assert ARTICLE.text[slice(*t.evidence_span)].startswith("The council voted 7-2 on Tuesday")
    assert ARTICLE.text[slice(*t.evidence_span)].endswith("Tidewater Storage.")


def test_a_quote_found_only_in_the_title_has_no_span() -> None:
    t = _one("Harbor Council Backs the Battery Plan")
    assert t.match is not None and t.evidence_span is None


def test_ellipsis_quote_spans_from_first_to_last_part() -> None:
    t = _one("The council voted 7-2 ... to Tidewater Storage")
    assert t.evidence_span is not None
    assert ARTICLE.text[slice(*t.evidence_span)] == (
        "The council voted 7-2 on Tuesday to lease the old coal pier to Tidewater Storage")


def test_dropped_items_are_kept_with_the_check_and_reason_and_warnings_derive_from_them() -> None:
    evidence = "The council voted 7-2 on Tuesday"
    invented = Takeaway(text="Prices will fall by half.", evidence="Prices will fall by half next year.", origin="llm")
    out = verify(digest([Takeaway(text="The vote was 7-2.", evidence=evidence), invented,
                         Takeaway(text="the vote was 7-2", evidence=evidence)],
                        [QA(question="What Changes", answer="x", evidence=evidence),
                         QA(question="  ?", answer="x", evidence=evidence)]), ARTICLE)
    got = [(d.kind, d.index, d.check, d.details) for d in out.dropped]
    assert got == [("takeaway", 2, "evidence", {}), ("takeaway", 3, "duplicate", {"repeats": 1}),
                   ("faq", 1, "question_mark", {}), ("faq", 2, "empty", {})]
    assert out.dropped[0].item == invented
    assert out.warnings == [d.warning for d in out.dropped]
    assert out.warnings[0] == "dropped takeaway 2 (llm): its evidence quote is not in the article"
    # JSON round trip keeps the entries (the batch journal stores the digest as JSON)
    assert Digest.model_validate_json(out.model_dump_json()) == out


def test_block_formats_never_carry_a_dropped_items_text() -> None:
    from takeaways.rendering import FORMATS, render

    out = verify(digest([Takeaway(text="Cheese moon.", evidence="The moon is green cheese, said nobody.",
                                  origin="llm")]), ARTICLE)
    assert out.dropped
    for fmt in FORMATS:
        text = render(out, fmt)
        assert "cheese" not in text.lower(), fmt
    data = json.loads(render(out, "json"))
    assert data["dropped"] == [{"kind": "takeaway", "index": 1, "check": "evidence",
                                "reason": "its evidence quote is not in the article", "details": {}}]
