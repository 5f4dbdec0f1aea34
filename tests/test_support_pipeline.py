"""The support check in the pipeline: an item whose text changes a number or a name while quoting
the article correctly is never published as it came (repaired with its quote, or dropped and filled)."""

from __future__ import annotations

import json
from typing import Any

from takeaways import api, review
from takeaways.rendering import FORMATS
from tests.fakellm import FakeLLM, Reply, grounded
from tests.test_llm import make_article, settings_for

# The fake article's sentences (tests/test_llm.py PARAS), as the fake LLM quotes them.
FARES = "Bus fares will fall by twenty percent for students and pensioners starting in March."
TRAMS = "The budget also funds three new tram lines that connect the northern suburbs."
MAYOR = "The mayor said the plan would be paid for by a modest increase in parking fees."


def _changed(req: dict[str, Any]) -> Reply:
    data = grounded(req)
    data["takeaways"] = [
        # a changed number, the quote true: the quote reads well, so the item is repaired with it
        {"text": "Bus fares will fall by forty percent for students and pensioners.", "evidence": FARES},
        # a faithful paraphrase: kept as it is
        {"text": "Three new tram lines will connect the northern suburbs.", "evidence": TRAMS},
        # a changed name and a quote too short to stand as a takeaway: dropped, filled
        {"text": "The governor will pay for the plan with higher parking fees.", "evidence": "paid for by a modest increase"},
    ]
    data["faq"][0] = {"question": "How many tram lines are funded?", "answer": "Five new tram lines.", "evidence": TRAMS}
    return Reply(content=json.dumps(data))


def test_changed_number_or_name_is_never_published_as_it_came(fake_llm: FakeLLM) -> None:
    fake_llm.script.append(_changed)
    digest = api.generate(make_article(), settings_for(fake_llm, takeaways=3))
    texts = [t.text for t in digest.takeaways]
    assert FARES in texts and "forty" not in " ".join(texts)
    repaired = [t for t in digest.takeaways if t.repaired_from]
    assert [(t.text, t.repaired_from) for t in repaired] == [
        (FARES, "Bus fares will fall by forty percent for students and pensioners.")]
    assert "Three new tram lines will connect the northern suburbs." in texts
    assert "repaired takeaway 1 (llm): its text says what its quote does not (numbers); it now reads as its quote" \
        in digest.warnings
    # the changed name: dropped with the terms and why, and filled from the extractive engine
    [drop] = [d for d in digest.dropped if d.kind == "takeaway"]
    assert (drop.index, drop.check) == (3, "support")
    assert any(u["term"] == "governor" for u in drop.details["unsupported"])
    assert [t.replaces for t in digest.takeaways if t.filled] == [3]
    assert all(t.support_score is not None for t in digest.takeaways)  # top-ups are checked too
    # the FAQ answer with a wrong figure: repaired with its quote
    assert digest.faq[0].answer == TRAMS and digest.faq[0].repaired_from == "Five new tram lines."
    for fmt in FORMATS:
        if fmt == "json":
            continue  # the whole record, dropped and repaired_from included, for review
        out = api.render(digest, fmt)
        assert "forty" not in out and "governor" not in out and "Five new" not in out, fmt


def test_supported_items_keep_their_text_and_say_their_score(fake_llm: FakeLLM) -> None:
    digest = api.generate(make_article(), settings_for(fake_llm))  # the default: items are their quotes
    assert not [d for d in digest.dropped if d.check == "support"]
    assert all(t.support_score == 1.0 and t.repaired_from is None for t in digest.takeaways)


def test_an_item_whose_own_quote_falls_short_takes_the_window_that_supports_it(fake_llm: FakeLLM) -> None:
    def reply(req: dict[str, Any]) -> Reply:
        data = grounded(req)
        data["takeaways"] = [{"text": "The plan will be paid for by a modest increase in parking fees, said the mayor.",
                              "evidence": "Bus fares will fall by twenty percent"}]
        return Reply(content=json.dumps(data))
    fake_llm.script.append(reply)
    digest = api.generate(make_article(), settings_for(fake_llm, takeaways=1))
    [t] = digest.takeaways
    assert t.text.startswith("The plan will be paid") and t.evidence == MAYOR
    assert t.evidence_span is not None and make_article().text[t.evidence_span[0]:t.evidence_span[1]] == MAYOR


def test_extractive_items_pass_as_they_are() -> None:
    digest = api.summarize(make_article(), engine="extractive")
    assert digest.takeaways and not [d for d in digest.dropped if d.check == "support"]
    assert all(t.repaired_from is None for t in digest.takeaways)


def test_the_review_page_lists_the_unsupported_terms_of_a_dropped_item(fake_llm: FakeLLM) -> None:
    fake_llm.script.append(_changed)
    article = make_article()
    digest = api.generate(article, settings_for(fake_llm, takeaways=3))
    html = review.article_page(digest, article, run="r1", key="k", source="src")
    assert "governor (not in the article)" in html  # each term with why, not a raw dict
    assert "best evidence: " + MAYOR in html
    assert "repaired" in html
