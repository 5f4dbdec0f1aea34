"""Expanding batch INPUTs: lists, directories, sitemaps, feeds, JSONL, stdin; URL normalisation."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

from takeaways.config import Settings
from takeaways.inputs import expand, normalise_url
from tests.site import Site, article_html
from tests.warcs import write_warc


def keys(sources: list[str], settings: Settings | None = None, **kw: object) -> list[str]:
    return [item.key for item in expand(sources, settings or Settings(), **kw)]  # type: ignore[arg-type]


# The test site is on 127.0.0.1: child sitemaps an index names there are remote content pointing at a
# loopback address, which the fetch policy refuses unless --allow-private (tests/test_attacks.py).
INTRANET = Settings(allow_private=True)


def test_normalise_url_drops_fragment_tracking_default_port_and_case() -> None:
    assert normalise_url("HTTP://Example.COM:80/a/b.html?utm_source=x&id=3#top") == "http://example.com/a/b.html?id=3"
    assert normalise_url("https://example.com") == "https://example.com/"
    assert normalise_url("https://example.com/x/") == normalise_url("https://example.com/x")


def test_directory_is_recursive_sorted_and_skips_other_files(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / ".hidden").mkdir()
    for name in ["b.html", "a.htm", "sub/c.md", "sub/d.txt", "e.pdf", ".hidden/f.html", "g.json"]:
        (tmp_path / name).write_text("x")
    got = [Path(k.removeprefix("file:")).relative_to(tmp_path.resolve()).as_posix() for k in keys([str(tmp_path)])]
    assert got == ["a.htm", "b.html", "sub/c.md", "sub/d.txt"]


def test_list_file_with_comments_urls_and_relative_paths(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text(article_html(1))
    lst = tmp_path / "list.txt"
    lst.write_text("# my list\nhttps://example.com/a.html\n\n   page.html  \nhttps://example.com/b.html # not a comment\n")
    assert keys([str(lst)]) == ["url:https://example.com/a.html", f"file:{(tmp_path / 'page.html').resolve()}",
                                "url:https://example.com/b.html"]


def test_a_text_article_is_one_item_not_a_list(tmp_path: Path) -> None:
    art = tmp_path / "story.txt"
    art.write_text("A title\n\nSome sentence about things that happened today in the city.\n")
    assert keys([str(art)]) == [f"file:{art.resolve()}"]


def test_jsonl_url_html_and_text_lines(tmp_path: Path) -> None:
    f = tmp_path / "items.jsonl"
    f.write_text("\n".join(json.dumps(x) for x in [
        {"url": "https://example.com/1"}, {"url": "https://example.com/2", "html": "<p>hi</p>"}, {"text": "Plain text."},
    ]) + "\n")
    items = list(expand([str(f)], Settings()))
    assert [i.key for i in items][:2] == ["url:https://example.com/1", "url:https://example.com/2"]
    assert items[1].html == "<p>hi</p>" and items[2].text == "Plain text." and items[2].key.startswith("text:")


def test_unreadable_inputs_become_items_that_carry_the_error(tmp_path: Path) -> None:
    f = tmp_path / "items.jsonl"
    f.write_text('{"nothing": 1}\n{"url": "https://example.com/1"}\n')
    lst = tmp_path / "list.txt"
    lst.write_text("https://example.com/2\nmissing.html\n")
    with Site() as site:
        items = list(expand([str(f), str(lst), site.url("/gone/sitemap.xml"), site.url("/sitemap.xml")], Settings()))
        assert [i.key for i in items] == [
            f"input:{f}:1", "url:https://example.com/1", "url:https://example.com/2", "input:missing.html",
            f"input:{site.url('/gone/sitemap.xml')}", f"url:{site.url('/a/1.html')}", f"url:{site.url('/a/2.html')}"]
    assert 'items.jsonl:1: needs a "url"' in (items[0].error or "")
    assert "list.txt, line 2: " in (items[3].error or "") and "no such file" in (items[3].error or "")
    assert "HTTP 404" in (items[4].error or "")


def test_stdin_list() -> None:
    stdin = io.BytesIO(b"https://example.com/x\n# c\nhttps://example.com/y\n")
    assert keys(["-"], stdin=stdin) == ["url:https://example.com/x", "url:https://example.com/y"]


def test_sitemap_file_gz_file_and_feed_file(tmp_path: Path) -> None:
    with Site() as site:
        (tmp_path / "s.xml").write_bytes(site.sitemap(["/a/1.html", "/a/2.html"]))
        (tmp_path / "s.xml.gz").write_bytes(gzip.compress(site.sitemap(["/a/3.html"])))
        (tmp_path / "f.xml").write_bytes(b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
                                         b"<item><link>https://example.com/story</link></item></channel></rss>")
        got = keys([str(tmp_path / "s.xml"), str(tmp_path / "s.xml.gz"), str(tmp_path / "f.xml")])
        assert got == [f"url:{site.url('/a/1.html')}", f"url:{site.url('/a/2.html')}", f"url:{site.url('/a/3.html')}",
                       "url:https://example.com/story"]


def test_remote_sitemap_index_with_gz_child_and_feeds() -> None:
    with Site() as site:
        got = keys([site.url("/sitemap-index.xml"), site.url("/feed.rss"), site.url("/feed.atom"), site.url("/a/9.html")],
                   INTRANET)
        want = ["/a/1.html", "/a/2.html", "/a/3.html", "/a/1.html", "/a/4.html", "/a/5.html", "/a/6.html", "/a/7.html",
                "/a/9.html"]
        assert got == [f"url:{site.url(p)}" for p in want]  # duplicates are dropped later, by the state db
        assert site.hits["/a/9.html"] == 0  # article URLs are not fetched while expanding


def test_missing_path_and_bad_scheme() -> None:
    items = list(expand(["/nonexistent/file.txt", "ftp://example.com/x"], Settings()))
    assert "no such file" in (items[0].error or "") and "unsupported URL scheme" in (items[1].error or "")


def test_a_list_from_the_web_may_not_name_local_files(tmp_path: Path) -> None:
    (tmp_path / "secret.html").write_text(article_html(1))
    with Site() as site:
        site.pages["/list/rss"] = f"{site.url('/a/1.html')}\n{tmp_path / 'secret.html'}\n".encode()
        items = list(expand([site.url("/list/rss")], Settings()))
    assert items[0].key == f"url:{site.url('/a/1.html')}"
    assert items[1].key.startswith("input:") and "may only hold URLs" in (items[1].error or "")


def test_a_sitemap_index_listing_itself_is_read_once() -> None:
    with Site() as site:
        me = site.url("/loop-sitemap.xml")
        site.pages["/loop-sitemap.xml"] = (
            '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<sitemap><loc>{me}</loc></sitemap><sitemap><loc>{site.url('/sitemap.xml')}</loc></sitemap>"
            "</sitemapindex>").encode()
        assert keys([me], INTRANET) == [f"url:{site.url('/a/1.html')}", f"url:{site.url('/a/2.html')}"]
        assert site.hits["/loop-sitemap.xml"] == 1


def test_warc_file_gives_its_html_responses_with_the_target_uri(tmp_path: Path) -> None:
    latin = article_html(2).replace("library", "biblioth\u00e8que").encode("latin-1")
    warc = write_warc(tmp_path / "crawl.warc.gz", [
        ("https://example.org/news/1", "200 OK", article_html(1).encode(), "text/html; charset=utf-8"),
        ("https://example.org/logo.png", "200 OK", b"\x89PNG....", "image/png"),
        ("https://example.org/old", "301 Moved Permanently", b"", "text/html"),
        ("https://example.org/news/2", "200 OK", latin, "text/html; charset=iso-8859-1"),
        ("https://example.org/big", "200 OK", b"<html>" + b"x" * 5000, "text/html"),
    ])
    items = list(expand([str(warc)], Settings(max_bytes=4000)))
    assert [i.key for i in items] == ["url:https://example.org/news/1", "url:https://example.org/news/2",
                                      "url:https://example.org/big"]
    assert items[0].source == "https://example.org/news/1" and items[0].html == article_html(1)
    assert "biblioth\u00e8que" in (items[1].html or "")  # decoded with the record's charset
    assert items[2].html is None and "over the 0.004 MB limit" in (items[2].error or "")
    plain = write_warc(tmp_path / "crawl.warc", [("https://example.org/n", "200 OK", b"<html>hi</html>", "text/html")],
                       gzip=False)
    assert keys([str(plain)]) == ["url:https://example.org/n"]
