"""Rendering: every format, exact Markdown/text, escaping of hostile article text, template overrides."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from takeaways import QA, ArticleMeta, Digest, ExistingBlock, Takeaway, render
from takeaways.errors import TemplateError
from takeaways.rendering import FORMATS

HOSTILE = "<script>alert(1)</script>"


def digest(**changes: object) -> Digest:
    base = Digest(
        article=ArticleMeta(url="https://ledger.example/a?x=1&y=2", title="Night ferry", author="Mara Olsen",
                            date="2026-03-14", sitename="Harbor Ledger", language="en", word_count=284),
        takeaways=[Takeaway(text="Cyclists may board from May.", evidence="from the first of May"),
                   Takeaway(text="Riders pay the foot fare.", evidence="same fare as foot passengers")],
        faq=[QA(question="When does it start?", answer="On the first of May.", evidence="from the first of May"),
             QA(question="What does it cost?", answer="The foot passenger fare.", evidence="same fare")],
        engine="extractive",
        existing_blocks=[ExistingBlock(kind="faq", heading="FAQ", items=["Q: a? A: b."])],
    )
    return base.model_copy(update=changes)


def hostile_digest() -> Digest:
    return digest(takeaways=[Takeaway(text=f"Site says {HOSTILE} & more", evidence="x")],
                  faq=[QA(question="What ends a script?", answer=f"The tag </script>{HOSTILE}", evidence="x")])


def test_markdown_exact() -> None:
    assert render(digest()) == (
        "## Key Takeaways\n\n"
        "- Cyclists may board from May.\n"
        "- Riders pay the foot fare.\n\n"
        "## FAQ\n\n"
        "**Q: When does it start?**\n"
        "A: On the first of May.\n\n"
        "**Q: What does it cost?**\n"
        "A: The foot passenger fare.\n")


def test_text_exact() -> None:
    assert render(digest(), "text") == (
        "Key Takeaways\n"
        "- Cyclists may board from May.\n"
        "- Riders pay the foot fare.\n\n"
        "FAQ\n"
        "Q: When does it start? A: On the first of May.\n"
        "Q: What does it cost? A: The foot passenger fare.\n")


def test_markdown_with_only_one_block() -> None:
    assert render(digest(faq=[])) == "## Key Takeaways\n\n- Cyclists may board from May.\n- Riders pay the foot fare.\n"
    assert render(digest(takeaways=[]), "text").startswith("FAQ\nQ: When does it start?")


def test_json_has_the_documented_shape() -> None:
    data = json.loads(render(digest(), "json"))
    assert set(data) >= {"article", "takeaways", "faq", "engine", "model", "usage", "warnings", "existing_blocks",
                         "dropped"}
    assert set(data["article"]) >= {"url", "title", "author", "date", "sitename", "language", "word_count"}
    assert data["takeaways"][0] == {"text": "Cyclists may board from May.", "evidence": "from the first of May",
                                    "origin": "extractive", "evidence_span": None, "match": None,
                                    "match_score": None, "filled": False, "replaces": None,
                                    "support_score": None, "repaired_from": None}
    assert set(data["faq"][0]) >= {"question", "answer", "evidence", "evidence_span", "match", "match_score"}
    assert data["existing_blocks"] == [{"kind": "faq", "heading": "FAQ", "items": ["Q: a? A: b."]}]
    assert data["article"]["url"] == "https://ledger.example/a?x=1&y=2"  # plain JSON, not HTML-escaped


def test_jsonld_is_a_schema_org_faq_page() -> None:
    out = render(digest(), "jsonld")
    assert out.startswith('<script type="application/ld+json">\n') and out.endswith("</script>\n")
    data = json.loads(out.split("\n", 1)[1].rsplit("</script>", 1)[0])
    assert data["@context"] == "https://schema.org" and data["@type"] == "FAQPage"
    assert data["inLanguage"] == "en"
    assert data["mainEntity"][0] == {"@type": "Question", "name": "When does it start?",
                                     "acceptedAnswer": {"@type": "Answer", "text": "On the first of May."}}
    assert len(data["mainEntity"]) == 2


def test_html_fragment_is_escaped_and_carries_jsonld() -> None:
    out = render(hostile_digest(), "html")
    assert out.startswith('<section class="takeaways-digest" lang="en">')
    assert "<li>Site says &lt;script&gt;alert(1)&lt;/script&gt; &amp; more</li>" in out
    assert "<dd>The tag &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;</dd>" in out
    # exactly one script element opens and exactly one closes: the JSON-LD one
    assert out.count("<script") == 1 and out.count("</script>") == 1
    payload = re.search(r'<script type="application/ld\+json">(.*?)</script>', out, re.S)
    assert payload and json.loads(payload.group(1))["mainEntity"][0]["acceptedAnswer"]["text"] == f"The tag </script>{HOSTILE}"


def test_jsonld_cannot_be_broken_out_of() -> None:
    out = render(hostile_digest(), "jsonld")
    assert out.count("</script>") == 1 and out.count("<script") == 1
    assert "\\u003c/script\\u003e" in out


def test_markdown_does_not_pass_raw_html_through() -> None:
    out = render(hostile_digest(), "md")
    assert "<script>" not in out and "&lt;script&gt;alert(1)&lt;/script&gt;" in out


def test_standalone_html_page() -> None:
    out = render(digest(), "html", standalone=True)
    assert out.startswith("<!doctype html>\n<html lang=\"en\">")
    assert "<style>" in out and "<title>Night ferry</title>" in out
    assert '<a href="https://ledger.example/a?x=1&amp;y=2">Harbor Ledger</a>' in out
    assert '<section class="takeaways-digest"' in out and out.rstrip().endswith("</html>")


def test_standalone_page_does_not_link_non_http_urls() -> None:
    bad = digest(article=ArticleMeta(url="javascript:alert(1)", title="x"))
    assert "javascript:" not in render(bad, "html", standalone=True)


def test_template_dir_overrides_by_file_name(tmp_path: Path) -> None:
    (tmp_path / "md.j2").write_text("{% for t in takeaways %}* {{ t.text }}\n{% endfor %}")
    assert render(digest(), "md", template_dir=tmp_path) == "* Cyclists may board from May.\n* Riders pay the foot fare.\n"
    assert render(digest(), "text", template_dir=tmp_path).startswith("Key Takeaways\n")  # others stay built-in
    (tmp_path / "html.j2").write_text("<p>{{ takeaways[0].text }}{{ '<b>' }}</p>")
    assert render(digest(), "html", template_dir=tmp_path) == "<p>Cyclists may board from May.&lt;b&gt;</p>"  # autoescaped
    assert "<p>Cyclists may board" in render(digest(), "html", template_dir=tmp_path, standalone=True)


def test_template_errors_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="not a directory"):
        render(digest(), "md", template_dir=tmp_path / "missing")
    (tmp_path / "md.j2").write_text("{% for %}")
    with pytest.raises(TemplateError, match=r"md\.j2, line 1"):
        render(digest(), "md", template_dir=tmp_path)
    (tmp_path / "text.j2").write_text("{{ no_such_variable }}")
    with pytest.raises(TemplateError, match=r"template text\.j2 failed: 'no_such_variable' is undefined"):
        render(digest(), "text", template_dir=tmp_path)
    with pytest.raises(TemplateError, match="unknown format 'pdf'; choose one of md, html, json, jsonld, text"):
        render(digest(), "pdf")


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_format_renders_an_empty_digest(fmt: str) -> None:
    out = render(digest(takeaways=[], faq=[]), fmt)
    assert "Cyclists" not in out and "When does it start?" not in out  # no item of the full digest
    if fmt == "json":
        data = json.loads(out)
        assert data["takeaways"] == [] and data["faq"] == [] and data["article"]["title"] == "Night ferry"
    elif fmt in ("md", "text", "jsonld"):
        assert out == ""  # nothing to publish (and a FAQPage without questions is invalid for search engines)
    else:
        assert out.strip() and out.endswith("\n")


def test_markdown_escapes_emphasis_links_and_code_from_the_article() -> None:
    d = digest(takeaways=[Takeaway(text="She got so much sh** for it, see [this](http://evil.example) and `rm` _now_",
                                   evidence="x"),
                          Takeaway(text="A snake_case name stays as it is.", evidence="x")], faq=[])
    out = render(d)
    assert "- She got so much sh\\*\\* for it, see \\[this\\](http://evil.example) and \\`rm\\` \\_now\\_\n" in out
    assert "- A snake_case name stays as it is.\n" in out
