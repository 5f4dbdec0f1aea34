"""Loading: files, stdin and URLs (from a server on 127.0.0.1), including every kind of bad input."""

from __future__ import annotations

import contextlib
import io
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from takeaways.config import Settings
from takeaways.errors import ExtractionError, FetchError, SourceError
from takeaways.extraction import extract_page
from takeaways.sources import decode, load
from tests.helpers import article_html
from tests.pageserver import PageServer, Route

FIXTURES = Path(__file__).parent / "fixtures"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"


@pytest.fixture
def server() -> Iterator[PageServer]:
    with PageServer() as srv:
        yield srv


# --- files ---------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix,kind", [(".html", "html"), (".htm", "html"), (".xhtml", "html"),
                                         (".txt", "text"), (".md", "text")])
def test_file_kind_follows_the_suffix(tmp_path: Path, suffix: str, kind: str) -> None:
    path = tmp_path / f"page{suffix}"
    path.write_text("<p>looks like markup but the suffix decides</p>" if kind == "text" else article_html())
    page = load(str(path))
    assert (page.content_type, page.source, page.url) == (kind, str(path), None)


def test_text_file_first_short_line_is_the_title(tmp_path: Path) -> None:
    path = tmp_path / "note.md"
    path.write_text("# Night ferry opens to cyclists\n\n" + "The ferry now takes bicycles on every crossing. " * 30)
    article = extract_page(load(str(path)))
    assert article.title == "Night ferry opens to cyclists"
    assert article.text.startswith("The ferry now takes bicycles")


def test_missing_file() -> None:
    with pytest.raises(SourceError, match=r"^nope\.html: no such file; check the path"):
        load("nope.html")


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=rf"^{tmp_path} is a directory; pass a file"):
        load(str(tmp_path))


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.html"
    path.write_bytes(b"  \n")
    with pytest.raises(SourceError, match=r"empty\.html is empty; pass a file with an article in it$"):
        load(str(path))


def test_png_file(tmp_path: Path) -> None:
    path = tmp_path / "picture.html"  # the suffix lies; the bytes do not
    path.write_bytes(PNG)
    with pytest.raises(SourceError, match=r"picture\.html is a PNG image, not a web page or text"):
        load(str(path))


def test_binary_file_without_magic(tmp_path: Path) -> None:
    path = tmp_path / "blob.txt"
    path.write_bytes(b"abc\x00\x01\x02" * 100)
    with pytest.raises(SourceError, match=r"looks like binary data"):
        load(str(path))


def test_50_mb_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.html"
    with path.open("wb") as fh:  # sparse: 50 MB on paper, nothing on disk
        fh.truncate(50_000_000)
    with pytest.raises(SourceError, match=r"huge\.html is 50 MB, over the 10 MB limit; pass --max-bytes to raise it"):
        load(str(path))


def test_max_bytes_is_configurable(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(article_html())
    with pytest.raises(SourceError, match=r"page\.html is 984 bytes, over the 100 bytes limit; pass --max-bytes to raise it$"):
        load(str(path), Settings(max_bytes=100))


def test_stdin_sniffs_html_and_text() -> None:
    assert load("-", stdin=io.BytesIO(article_html().encode())).content_type == "html"
    assert load("-", stdin=io.BytesIO(b"\xef\xbb\xbf<!doctype html><p>x</p>")).content_type == "html"
    assert load("-", stdin=io.BytesIO(b"Just a note.\nWith two lines.")).content_type == "text"


def test_stdin_empty_and_too_big() -> None:
    with pytest.raises(SourceError, match="standard input is empty"):
        load("-", stdin=io.BytesIO(b""))
    with pytest.raises(SourceError, match="standard input is over the 10 bytes limit"):
        load("-", Settings(max_bytes=10), stdin=io.BytesIO(b"x" * 11))


def test_unsupported_scheme() -> None:
    with pytest.raises(SourceError, match="unsupported URL scheme"):
        load("ftp://example.org/a.html")


# --- encodings -----------------------------------------------------------------------------

FRENCH = [f"Épisode {i} : le café de la gare a rouvert après des travaux d'été très longs, à la joie des "
          f"habitués du quartier qui attendaient ce moment depuis {i + 2} mois déjà." for i in range(8)]
JAPANESE = [f"第{i}報：東京の新しい図書館は、夜十時まで開館することになりました。市は利用者の増加を見込んでいます。" * 2  # noqa: RUF001
            for i in range(4)]


def _file(tmp_path: Path, html: str, encoding: str) -> str:
    path = tmp_path / "page.html"
    path.write_bytes(html.encode(encoding))
    return str(path)


def test_latin1_declared_in_meta(tmp_path: Path) -> None:
    html = article_html("Café de la gare", FRENCH, head='<meta charset="iso-8859-1">', lang="fr")
    article = extract_page(load(_file(tmp_path, html, "latin-1")))
    assert article.title == "Café de la gare"
    assert "après des travaux d'été très longs" in article.text


def test_latin1_undeclared_is_detected(tmp_path: Path) -> None:
    html = article_html("Café de la gare", FRENCH, head="", lang="fr")
    article = extract_page(load(_file(tmp_path, html, "latin-1")))
    assert "après des travaux d'été très longs" in article.text


def test_shift_jis_declared_in_meta(tmp_path: Path) -> None:
    head = '<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">'
    html = article_html("新しい図書館", JAPANESE, head=head, lang="ja")
    article = extract_page(load(_file(tmp_path, html, "shift_jis")))
    assert article.title == "新しい図書館"
    assert "夜十時まで開館することになりました" in article.text
    assert article.language == "ja"
    assert article.word_count > 120  # CJK characters count as words


def test_http_charset_beats_meta(server: PageServer) -> None:
    html = article_html("Café de la gare", FRENCH, head='<meta charset="utf-8">', lang="fr")
    server.routes["/fr"] = Route(body=html.encode("latin-1"), content_type="text/html; charset=ISO-8859-1")
    page = load(server.url("/fr"))
    assert page.encoding == "ISO-8859-1"
    assert "après des travaux" in decode(page)


# --- URLs ----------------------------------------------------------------------------------


def test_fetch_sends_a_user_agent_and_handles_gzip(server: PageServer) -> None:
    server.routes["/a"] = Route(body=article_html().encode(), gzip=True)
    page = load(server.url("/a"))
    assert page.content_type == "html" and page.url == server.url("/a")
    assert b"night ferry" in page.content
    headers = {k.lower(): v for k, v in server.requests[0][1].items()}
    assert headers["user-agent"].startswith("Mozilla/5.0 (compatible; takeaways/")
    assert "gzip" in headers["accept-encoding"]


def test_text_plain_url_is_text(server: PageServer) -> None:
    server.routes["/t"] = Route(body=b"A note\n" + b"Plain words here. " * 50, content_type="text/plain")
    assert load(server.url("/t")).content_type == "text"


def test_redirects_are_followed_to_the_final_url(server: PageServer) -> None:
    server.routes["/old"] = Route(status=301, headers={"Location": "/new"}, content_type=None)
    server.routes["/new"] = Route(body=article_html().encode())
    assert load(server.url("/old")).url == server.url("/new")


def test_redirect_loop(server: PageServer) -> None:
    server.routes["/loop"] = Route(status=302, headers={"Location": "/loop"}, content_type=None)
    with pytest.raises(FetchError, match=r"/loop: more than 10 redirects \(a redirect loop\?\); check the URL$"):
        load(server.url("/loop"))
    assert len(server.requests) == 11  # the first request and ten redirects


def test_404(server: PageServer) -> None:
    with pytest.raises(FetchError, match=r"/missing: HTTP 404 Not Found; check the URL$") as info:
        load(server.url("/missing"))
    assert info.value.transient is False


def test_500(server: PageServer) -> None:
    server.routes["/boom"] = Route(status=500, body=b"oops")
    with pytest.raises(FetchError, match=r"/boom: HTTP 500 Internal Server Error; try again later$") as info:
        load(server.url("/boom"))
    assert info.value.transient is True


def test_connection_refused() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(FetchError, match=r"cannot connect \(connection refused\); check the URL and that the server is up"):
        load(f"http://127.0.0.1:{port}/")


def test_read_timeout(server: PageServer) -> None:
    server.routes["/slow"] = Route(body=article_html().encode(), delay=2.0)
    with pytest.raises(FetchError, match=r"/slow: the server did not answer within 0\.3 s; try again later or raise --read-timeout"):
        load(server.url("/slow"), Settings(read_timeout=0.3))


def test_pdf_content_type(server: PageServer) -> None:
    server.routes["/paper"] = Route(body=b"%PDF-1.7 ...", content_type="application/pdf")
    with pytest.raises(FetchError, match=r"/paper: content type application/pdf is not supported; takeaways reads HTML"):
        load(server.url("/paper"))


def test_size_cap_on_urls(server: PageServer) -> None:
    server.routes["/big"] = Route(body=b"<html><body>" + b"<p>word</p>" * 2000 + b"</body></html>")
    with pytest.raises(SourceError, match=r"/big is 22 kB, over the 1 kB limit; pass --max-bytes to raise it$"):
        load(server.url("/big"), Settings(max_bytes=1000))
    # a server that sends no Content-Length (gzip here) is cut off while streaming
    server.routes["/bigz"] = Route(body=b"<html><body>" + b"<p>word</p>" * 2000 + b"</body></html>", gzip=True)
    with pytest.raises(SourceError, match=r"/bigz is over the 1 kB limit once decompressed \(gzip\); pass --max-bytes to raise it$"):
        load(server.url("/bigz"), Settings(max_bytes=1000))


def test_empty_page_from_url(server: PageServer) -> None:
    server.routes["/empty"] = Route(body=b"")
    with pytest.raises(FetchError, match="the server sent an empty page"):
        load(server.url("/empty"))


def test_url_page_with_no_article(server: PageServer) -> None:
    nav = "".join(f"<li><a href='/s/{i}'>Section {i}</a></li>" for i in range(30))
    server.routes["/index"] = Route(body=f"<html><body><ul>{nav}</ul></body></html>".encode())
    with pytest.raises(ExtractionError, match=r"/index: (no article text found|only \d+ words)"):
        extract_page(load(server.url("/index")))


def test_loading_defaults() -> None:
    from takeaways.sources import http_client

    s = Settings()
    assert (s.connect_timeout, s.read_timeout, s.max_bytes, s.max_redirects) == (10.0, 30.0, 10_000_000, 10)
    with http_client(s) as client:
        assert (client.timeout.connect, client.timeout.read) == (10.0, 30.0)
        assert client.max_redirects == 10 and not client.follow_redirects  # sources.open_url follows them, hop by hop


@pytest.mark.skipif(sys.platform != "linux", reason="relies on Linux dropping SYNs when the backlog is full")
def test_connect_timeout() -> None:
    """A listening socket whose accept backlog is full drops new SYNs: the connect hangs."""
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(0)
        port = srv.getsockname()[1]
        fillers = []
        for _ in range(4):
            c = socket.socket()
            c.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                c.connect(("127.0.0.1", port))
            fillers.append(c)
        try:
            with pytest.raises(FetchError, match=r"no connection within 0\.3 s; check the URL or raise --connect-timeout$"):
                load(f"http://127.0.0.1:{port}/", Settings(connect_timeout=0.3, read_timeout=5))
        finally:
            for c in fillers:
                c.close()


def test_utf8_with_a_stray_bad_byte_stays_utf8(tmp_path: Path) -> None:
    html = article_html("Café de la gare", FRENCH, lang="fr").encode("utf-8").replace(b"</article>", b"\xff</article>")
    path = tmp_path / "page.html"
    path.write_bytes(html)
    article = extract_page(load(str(path)))
    assert article.title == "Café de la gare" and "après des travaux d'été" in article.text
