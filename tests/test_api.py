"""The Python API: extract(), summarize() from a path, a URL or an Article, render()."""

from __future__ import annotations

from pathlib import Path

import pytest

import takeaways
from takeaways.errors import ConfigError, ExtractionError, SourceError
from tests.pageserver import PageServer, Route

FIXTURES = Path(__file__).parent / "fixtures"


def test_public_names() -> None:
    for name in ("extract", "summarize", "render", "Article", "Digest", "TakeawaysError", "__version__"):
        assert name in takeaways.__all__ and hasattr(takeaways, name)


def test_summarize_a_path_then_render() -> None:
    digest = takeaways.summarize(FIXTURES / "article.html", engine="extractive", takeaways=3, questions=2)
    assert digest.engine == "extractive" and digest.article.title == "Riverton Opens Its Night Ferry to Cyclists"
    assert 0 < len(digest.takeaways) <= 3 and len(digest.faq) <= 2
    assert [b.kind for b in digest.existing_blocks] == ["faq", "takeaways"]
    md = takeaways.render(digest)
    assert md.startswith("## Key Takeaways\n\n- ")
    assert takeaways.render(digest, format="html").startswith('<section class="takeaways-digest"')


def test_summarize_an_article_and_a_string_path() -> None:
    article = takeaways.extract((FIXTURES / "article.html").read_text(), url="https://ledger.example/x")
    digest = takeaways.summarize(article, engine="extractive")
    assert digest.article.url == "https://ledger.example/x"
    assert takeaways.summarize(str(FIXTURES / "article.txt"), engine="extractive").article.word_count == 255


def test_summarize_a_url() -> None:
    with PageServer() as srv:
        srv.routes["/a"] = Route(body=(FIXTURES / "article.html").read_bytes())
        digest = takeaways.summarize(srv.url("/a"), engine="extractive")
    assert digest.article.url == srv.url("/a")  # the URL we fetched wins over the page's canonical link
    assert digest.takeaways


def test_summarize_options_are_settings() -> None:
    with pytest.raises(ExtractionError, match="minimum 10000"):
        takeaways.summarize(FIXTURES / "article.html", engine="extractive", min_words=10000)
    with pytest.raises(ConfigError, match="unknown option"):
        takeaways.summarize(FIXTURES / "article.html", engine="extractive", no_such_option=1)
    with pytest.raises(SourceError):
        takeaways.summarize(FIXTURES / "missing.html", engine="extractive")
