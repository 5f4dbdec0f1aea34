"""Extraction: metadata, structure, existing FAQ / Key Takeaways blocks, the quality gate."""

from __future__ import annotations

from pathlib import Path

import pytest

import takeaways
import takeaways.extraction as X  # the module; `takeaways.extract` is the public function
from takeaways.config import Settings
from takeaways.errors import ExtractionError
from takeaways.models import ExistingBlock
from takeaways.sources import load
from tests.helpers import PARAGRAPHS, article_html

FIXTURES = Path(__file__).parent / "fixtures"


def load_fixture(name: str, **settings: object) -> takeaways.Article:
    return X.extract_page(load(str(FIXTURES / name)), Settings(**settings))  # type: ignore[arg-type]


def test_html_fixture_metadata() -> None:
    a = load_fixture("article.html")
    assert (a.url, a.title, a.author, a.date, a.sitename, a.language) == (
        "https://ledger.example/news/riverton-night-ferry", "Riverton Opens Its Night Ferry to Cyclists",
        "Mara Olsen", "2026-03-14", "Harbor Ledger", "en")
    assert a.word_count == X.count_words(a.text) == 284


def test_html_fixture_structure_keeps_headings_lists_and_tables() -> None:
    a = load_fixture("article.html")
    kinds = [(b.kind, b.text[:24]) for b in a.blocks]
    assert ("heading", "Why the ban is ending") in kinds
    assert ("list_item", "Twelve racks on the lowe") in kinds
    assert ("table", "21:10 | Old port | 12") in kinds
    headings = [(b.text, b.level) for b in a.blocks if b.kind == "heading"]
    assert headings == [("Why the ban is ending", 2), ("What changes for other passengers", 2)]
    assert a.blocks[0].text.startswith("The harbour authority of Riverton")  # the H1 is the title, not body


def test_html_fixture_existing_blocks_are_kept_out_of_the_text() -> None:
    a = load_fixture("article.html")
    assert a.existing_blocks == [
        ExistingBlock(kind="faq", heading="FAQ", items=[
            "Q: Do cyclists need a separate ticket? A: No, a normal foot passenger ticket covers the bicycle.",
            "Q: Can cargo bikes travel on the ferry? A: Not yet; the racks only fit standard frames."]),
        ExistingBlock(kind="takeaways", heading="Key Takeaways", items=[
            "Cyclists may ride the Riverton night ferry from May 1",
            "The new vessel has twelve bicycle racks and a rear boarding door",
            "Riders pay the normal foot passenger fare"]),
    ]
    for gone in ("Q: Do cyclists", "Cyclists may ride", "Enjoyed this story", "Copyright", "Home"):
        assert gone not in a.text


def test_text_fixture_like_the_seed_page() -> None:
    a = load_fixture("article.txt")
    assert a.title == "Glasshouse Labs Moves Its Solar Inverters to Home-Grown Chips"
    assert [(e.kind, e.heading, len(e.items)) for e in a.existing_blocks] == [("faq", "FAQ", 2),
                                                                           ("takeaways", "Key Takeaways", 3)]
    assert a.existing_blocks[0].items[1] == "Q: Will old inverters get the new chip? A: No, the controller is only for new models."
    assert [b.text for b in a.blocks if b.kind == "heading"] == ["Why It Matters", "The Controller Roadmap", "What We Know So Far"]
    assert ("table", "Chip | Year | Use | GL-1 | 2026 | Home inverters | GL-2 | 2027 | Commercial rooftops") in [
        (b.kind, b.text) for b in a.blocks]
    assert a.text.endswith("slightly cheaper systems by next summer.")  # promo and related articles are cut
    assert a.word_count == 255


def test_headless_qa_run_at_the_end_is_an_existing_faq() -> None:
    text = "\n".join(PARAGRAPHS * 2 + ["Q: Is the ferry free for riders? A: No, riders pay the foot fare.",
                                      "Q: Are e-bikes allowed? A: Yes, with the battery attached."])
    a = takeaways.extract(text)
    assert [(e.kind, e.heading, len(e.items)) for e in a.existing_blocks] == [("faq", "", 2)]
    assert "Q:" not in a.text


def test_an_interview_in_qa_form_is_the_article() -> None:
    qa = [f"<p>Q: What is question number {i} about?</p><p>A: It is about part {i} of the long ferry story, told "
          f"by the captain in some detail for the readers.</p>" for i in range(8)]
    html = article_html(paragraphs=[PARAGRAPHS[0]]).replace("</article>", "".join(qa) + "<p>Thanks, captain!</p></article>")
    a = takeaways.extract(html)
    assert a.existing_blocks == []
    assert "Q: What is question number 7 about?" in a.text


def test_tldr_prose_is_article_but_a_tldr_list_is_a_block() -> None:
    prose = article_html().replace("<h1>", "<h2>TL;DR</h2><p>The night ferry takes bikes from May.</p><h1>")
    assert takeaways.extract(prose).existing_blocks == []
    listed = article_html().replace("</article>", "<h2>TL;DR</h2><ul><li>Bikes from May</li><li>Same fare</li></ul></article>")
    assert takeaways.extract(listed).existing_blocks == [
        ExistingBlock(kind="takeaways", heading="TL;DR", items=["Bikes from May", "Same fare"])]


def test_faq_with_question_headings() -> None:
    faq = ("<h2>Frequently Asked Questions</h2><h3>Do riders pay more?</h3><p>No, the fare is the same.</p>"
           "<h3>When does it start?</h3><p>On the first of May.</p>")
    a = takeaways.extract(article_html().replace("</article>", faq + "</article>"))
    assert a.existing_blocks == [ExistingBlock(kind="faq", heading="Frequently Asked Questions", items=[
        "Do riders pay more?", "No, the fare is the same.", "When does it start?", "On the first of May."])]


def test_loose_text_tails_and_line_breaks_are_kept() -> None:
    """trafilatura leaves some text as the tail of an element; <br> must not glue words."""
    html = article_html(paragraphs=[*PARAGRAPHS, '"Bikes belong on boats," she said.<br>Then she left.'])
    html = html.replace("</article>", '<p>Last words.</p>"A quote outside any paragraph," he added.</article>')
    text = takeaways.extract(html).text
    assert '"Bikes belong on boats," she said. Then she left.' in text
    assert '"A quote outside any paragraph," he added.' in text


def test_hover_cards_inside_a_paragraph_are_left_out_but_the_name_stays() -> None:
    card = ('<span class="rollover-people"><a class="rollover-people-link" href="/people/kristi-noem">Kristi Noem</a>'
            '<span class="rollover-people-block"><span class="rollover-block"><a class="name" href="/p">Kristi Lynn '
            'Noem</a><a href="/n/1">South Dakota governor doubles down on campaign</a> <a href="/n/2">MORE</a>'
            '</span></span></span>')
    first = "South Dakota Gov. " + card + " (R) is defending the state's launch of an anti-drug campaign on Monday."
    text = takeaways.extract(article_html(paragraphs=[first, *PARAGRAPHS])).text
    assert "South Dakota Gov. Kristi Noem (R) is defending the state's launch" in text
    assert "doubles down" not in text and "MORE" not in text
    plain = article_html(paragraphs=['The <span class="tooltip">GDP</span> grew by two per cent.', *PARAGRAPHS])
    assert "The GDP grew by two per cent." in takeaways.extract(plain).text  # a lone tooltip is the word itself


def test_nested_lists_are_not_duplicated() -> None:
    nested = "<ul><li>Racks<ul><li>Twelve of them</li></ul></li><li>Ramp</li></ul>"
    a = takeaways.extract(article_html().replace("</article>", nested + "</article>"))
    assert [b.text for b in a.blocks if b.kind == "list_item"] == ["Racks", "Twelve of them", "Ramp"]


def test_public_extract_accepts_html_text_and_bytes() -> None:
    assert takeaways.extract(article_html(), url="https://x.example/a").url == "https://x.example/a"
    assert takeaways.extract(article_html().encode("utf-8")).title == "Riverton opens its night ferry to cyclists"
    plain = takeaways.extract("Ferry news\n" + "\n".join(PARAGRAPHS))
    assert plain.title == "Ferry news" and plain.blocks[0].text == PARAGRAPHS[0]


# --- quality gate --------------------------------------------------------------------------


def test_too_short_names_the_source_and_the_count(tmp_path: Path) -> None:
    path = tmp_path / "short.html"
    path.write_text(article_html(paragraphs=PARAGRAPHS[:2]))
    with pytest.raises(ExtractionError) as info:
        X.extract_page(load(str(path)), Settings())
    assert str(info.value) == (f"{path}: only 63 words of article text (minimum 120); this does not look like an "
                               "article; pass --min-words to accept shorter texts")
    assert X.extract_page(load(str(path)), Settings(min_words=60)).word_count == 63


def test_html_with_no_article() -> None:
    with pytest.raises(ExtractionError, match=r"no-article\.html: only 6 words of article text \(minimum 120\)"):
        load_fixture("no-article.html")


def test_cookie_wall_is_refused_with_the_reason() -> None:
    with pytest.raises(ExtractionError, match=r"consent\.html: the page is mostly a cookie/consent banner, not an article"):
        load_fixture("consent.html", min_words=0)


@pytest.mark.parametrize("reason,wall", [
    ("a paywall or subscription prompt", ["Subscribe now to continue reading.", "Already a subscriber? Sign in to continue.",
                                          "This article is for paid subscribers only. Start your free trial today."]),
    ("a captcha or bot check", ["Checking your browser before accessing the site.",
                                "Please verify you are a human by completing the captcha below.", "Ray ID: 8c1f2a"]),
])
def test_walls_are_refused_with_the_reason(reason: str, wall: list[str]) -> None:
    with pytest.raises(ExtractionError, match=f"p.html: the page is mostly {reason}, not an article"):
        X.check_quality(takeaways.extract(article_html(paragraphs=wall)), "p.html", 0)


def test_an_article_about_cookies_is_not_a_cookie_wall() -> None:
    recipe = [f"Step {i}: the cookies need butter, sugar and patience; bake the cookies until golden, then let "
              f"the cookies cool on a rack for {i + 5} minutes before you serve them." for i in range(6)]
    article = takeaways.extract(article_html("Butter cookies", recipe))
    assert X.wall_reason(article) is None
    X.check_quality(article, "r.html", 120)  # passes the gate: no ExtractionError
