"""Expand batch INPUT arguments into a lazy stream of work items.

An input is a URL, a file, a directory or '-' (stdin). Files and fetched URLs are sniffed:
sitemaps (and sitemap indexes, .gz too) go through trafilatura's sitemap parser, RSS/Atom feeds
through feedparser, WARC files (.warc, .warc.gz) give their HTML `response` records, JSONL lines are `{"url"}`, `{"url", "html"}` or `{"text"}`, a text file
whose lines are all URLs or paths is a list (each line expanded again), anything else is one
article. Nothing is held in memory beyond the current input: the caller de-duplicates by
`Item.key` (the batch state db does it with a primary key).
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import sys
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO, TextIO
from urllib.parse import urlsplit

import feedparser
import httpx2
from lxml import etree

from . import netpolicy, sources, xmlsafe
from .batch.keys import normalise_url, path_key, text_key, url_key
from .config import Settings
from .errors import SourceError
from .models import Page
from .sources import HTML_SUFFIXES, HTML_TYPES, decode, http_client, is_url

ARTICLE_SUFFIXES = {".html", ".htm", ".txt", ".md"}  # what a directory input picks up
MAX_DEPTH = 5  # lists of sitemaps of sitemaps …
_SITEMAP = re.compile(rb"<(?:[\w.-]+:)?(?:urlset|sitemapindex)\b")
_FEED = re.compile(rb"<(?:rss|feed|rdf:RDF)\b")
_HTML = re.compile(rb"<(?:!doctype\s+html|html|head|body)\b", re.I)
_PATHLIKE = re.compile(r"\S*[/\\]\S*|\S+\.(html?|txt|md|xml|gz|jsonl|rss|atom)", re.I)  # a list line that names a file
_INLINE_COMMENT = re.compile(r"\s+#.*$")  # `URL  # note` in a list
_FEEDISH_URL = re.compile(r"(\.xml(\.gz)?|\.rss|\.atom|\.gz|/feeds?/?|/rss/?|/atom/?|sitemap[^/]*)$", re.I)


@dataclass(frozen=True)
class Item:
    """One article to process. `key` identifies it across runs (normalised URL, absolute path or text hash).

    `url`/`path` say where to load it from; `html`/`text` carry inline content from JSONL.
    """

    key: str
    source: str
    url: str | None = None
    path: str | None = None
    html: str | None = None
    text: str | None = None
    error: str | None = None  # the input itself could not be read (a sitemap that 404s, a bad JSONL line)
    trusted: bool = True  # False when a fetched document (remote sitemap, feed, list) named it: the fetch policy applies


def _guarded(where: str, items: Iterator[Item], context: str | None = None) -> Iterator[Item]:
    """The items of one input; when reading it fails, one item carrying the error, and on with the next input."""
    try:
        yield from items
    except SourceError as exc:
        yield Item(key=f"input:{where}", source=where, error=f"{context}: {exc}" if context else str(exc))


def url_item(url: str, html: str | None = None, *, trusted: bool = True) -> Item:
    return Item(key=url_key(url), source=url.strip(), url=url.strip(), html=html, trusted=trusted)


def path_item(path: Path) -> Item:
    resolved = path.resolve()
    return Item(key=path_key(resolved), source=str(path), path=str(resolved))


def expand(inputs: list[str], settings: Settings, *, stdin: BinaryIO | None = None,
           client: httpx2.Client | None = None) -> Iterator[Item]:
    """Yield the work items of every INPUT, lazily, in order.

    An input that cannot be read yields one Item whose `error` says why (see `_guarded`).
    """
    own = client is None
    client = client or http_client(settings)
    try:
        for source in inputs:
            if source == "-":
                stream = stdin or sys.stdin.buffer
                yield from _capped("standard input", _expand_lines(io.TextIOWrapper(stream, encoding="utf-8", errors="replace"),
                                                                   "standard input", Path.cwd(), settings, client, depth=1),
                                   settings.max_urls)
            else:
                yield from _capped(source, _guarded(source, _expand_one(source, settings, client, depth=0, base=Path.cwd())),
                                   settings.max_urls)
    finally:
        if own:
            client.close()


_budget = threading.local()  # documents (sitemaps, feeds, lists) one input may still fetch; set by _capped


def _capped(source: str, items: Iterator[Item], limit: int) -> Iterator[Item]:
    """At most `limit` work items from one input, and at most `limit` documents fetched for it (an index of
    a million empty sitemaps yields nothing, but must not be fetched a million times); past either, one
    failed item says so and nothing more is read."""
    _budget.left = limit
    try:
        for n, item in enumerate(items):
            if n >= limit:
                yield Item(key=f"input:{source}:over-max-urls", source=source,
                           error=f"{source}: more than {limit:,} URLs in one input; the rest were not read; pass --max-urls to raise the cap")
                return
            yield item
    finally:
        _budget.left = None


def _spend_fetch(url: str, *, spend: bool = True) -> None:
    """Take one fetch from this input's budget (or only check there is one left); SourceError when spent."""
    left = getattr(_budget, "left", None)
    if left is None:
        return
    if left <= 0:
        raise SourceError(f"{url}: not fetched: one input may fetch at most --max-urls sitemaps, feeds and lists; pass --max-urls to raise the cap")
    if spend:
        _budget.left = left - 1


def _expand_one(source: str, settings: Settings, client: httpx2.Client, *, depth: int, base: Path,
                trusted: bool = True) -> Iterator[Item]:
    """`trusted` is False for a line of a list fetched from the web: the fetch policy applies to it."""
    if depth > MAX_DEPTH:
        raise SourceError(f"{source}: lists/sitemaps nested more than {MAX_DEPTH} deep; flatten the input")
    if is_url(source):
        if _FEEDISH_URL.search(urlsplit(source).path):
            yield from _expand_remote(source, settings, client, depth=depth, trusted=trusted)
        else:
            yield url_item(source, trusted=trusted)
        return
    if not trusted:
        raise SourceError(f"{source}: not an http(s) URL; remote content may not name local files")
    if re.match(r"^[a-z][a-z0-9+.-]*://", source, re.I):
        raise SourceError(f"{source}: unsupported URL scheme; use http:// or https://, a file path, or '-' for stdin")
    path = Path(source).expanduser()
    if not path.is_absolute():
        path = base / path
    if path.is_dir():
        yield from _expand_dir(path)
    elif path.exists() or path.is_symlink():
        sources.check_file(path)  # a FIFO, a device, a symlink loop: a clear error, never a read that blocks or never ends
        yield from _expand_file(path, settings, client, depth=depth)
    else:
        raise SourceError(f"{source}: no such file or directory; check the path (URLs must start with http:// or https://)")


def _expand_dir(root: Path) -> Iterator[Item]:
    """Every .html/.htm/.txt/.md file below `root`, in a stable (sorted) order, hidden dirs skipped."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if Path(name).suffix.lower() in ARTICLE_SUFFIXES and not name.startswith("."):
                yield path_item(Path(dirpath) / name)


def _read_head(path: Path, n: int = 4096) -> bytes:
    with path.open("rb") as fh:
        head = fh.read(n)
    if head.startswith(b"\x1f\x8b"):
        with gzip.open(path, "rb") as gz:
            head = gz.read(n)
    return head


def _expand_file(path: Path, settings: Settings, client: httpx2.Client, *, depth: int) -> Iterator[Item]:
    try:
        head = _read_head(path)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise SourceError(f"{path}: cannot read ({exc}); check the file") from exc
    suffix = path.suffix.lower()
    stripped = head.lstrip()
    if head.startswith(b"WARC/"):
        yield from expand_warc(path, settings)
    elif _SITEMAP.search(head) or _FEED.search(head):
        yield from _expand_xml(_read_all(path, settings), str(path), settings, client, depth=depth)
    elif suffix in {".jsonl", ".ndjson"} or (stripped.startswith(b"{") and suffix not in ARTICLE_SUFFIXES):
        yield from _expand_jsonl(path, settings.max_bytes)
    elif suffix in HTML_SUFFIXES or _HTML.search(head):
        yield path_item(path)
    elif _is_list(path):
        with path.open(encoding="utf-8", errors="replace") as fh:
            yield from _expand_lines(fh, str(path), path.parent, settings, client, depth=depth + 1)
    else:
        yield path_item(path)


def expand_warc(path: Path, settings: Settings) -> Iterator[Item]:
    """The HTML `response` records of a WARC file (gzipped or not), as items with inline HTML.

    The record's WARC-Target-URI is the source (and the key, like a fetched URL); only successful
    (2xx) HTML/XHTML answers count: redirects, errors, robots.txt, images and request/metadata
    records are left out, as a crawler's own view of the page would. A record over --max-bytes
    becomes one failed item saying so.
    """
    from warcio.archiveiterator import ArchiveIterator  # only WARC inputs pay for the import
    from warcio.exceptions import ArchiveLoadFailed

    try:
        with path.open("rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type != "response" or record.http_headers is None:
                    continue
                uri = record.rec_headers.get_header("WARC-Target-URI") or ""
                status = record.http_headers.get_statuscode() or ""
                ctype, _, params = (record.http_headers.get_header("Content-Type") or "").partition(";")
                if not is_url(uri) or not status.startswith("2") or ctype.strip().lower() not in HTML_TYPES:
                    continue
                data = record.content_stream().read(settings.max_bytes + 1)
                if len(data) > settings.max_bytes:
                    yield Item(key=url_key(uri), source=uri, url=uri,
                               error=f"{uri} (in {path.name}) is over the {settings.max_bytes / 1e6:g} MB limit; pass --max-bytes to raise it")
                    continue
                m = re.search(r"charset\s*=\s*[\"']?([\w.:-]+)", params, re.I)
                html = decode(Page(source=uri, url=uri, content=data, content_type="html", encoding=m.group(1) if m else None))
                yield url_item(uri, html)
    except (ArchiveLoadFailed, OSError, EOFError) as exc:
        raise SourceError(f"{path}: not a readable WARC file ({exc}); check the file") from exc


def _read_all(path: Path, settings: Settings) -> bytes:
    with path.open("rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    limit = settings.max_bytes * 5
    with (gzip.open(path, "rb") if gz else path.open("rb")) as fh:
        data: bytes = fh.read(limit + 1)
    if len(data) > limit:
        raise SourceError(f"{path}: over {limit / 1e6:g} MB; split it or pass --max-bytes")
    return data


def bounded_lines(fh: io.TextIOBase | TextIO, limit: int) -> Iterator[str | None]:
    """The lines of a text stream, None for one longer than `limit` characters (skipped piece by piece, never held whole)."""
    while True:
        line = fh.readline(limit + 1)
        if not line:
            return
        if len(line) > limit:
            while line and not line.endswith("\n"):
                line = fh.readline(1 << 16)
            yield None
        else:
            yield line


def _is_list(path: Path) -> bool:
    """A text file is a list when each of its first lines (comments and blanks aside) is a URL or looks like a path."""
    seen = 0
    with path.open(encoding="utf-8", errors="replace") as fh:
        for raw in bounded_lines(fh, 1 << 16):
            if raw is None:
                return False
            line = _INLINE_COMMENT.sub("", raw).strip()
            if not line or line.startswith("#"):
                continue
            if not (is_url(line) or _PATHLIKE.fullmatch(line)):
                return False
            seen += 1
            if seen >= 50:
                break
    return seen > 0


def _expand_lines(lines: Iterator[str | None] | Iterator[str] | io.TextIOBase, what: str, base: Path, settings: Settings,
                  client: httpx2.Client, *, depth: int, urls_only: bool = False) -> Iterator[Item]:
    """Lines of a list; `urls_only` for a list that came from the web (it must not name local files)."""
    if isinstance(lines, io.TextIOBase):
        lines = bounded_lines(lines, settings.max_bytes)
    for n, raw in enumerate(lines, 1):
        if raw is None:
            yield Item(key=f"input:{what}:{n}", source=f"{what}, line {n}",
                       error=f"{what}, line {n}: over the {settings.max_bytes / 1e6:g} MB limit; pass --max-bytes to raise it")
            continue
        line = raw.strip()
        if not line.startswith("{"):
            line = _INLINE_COMMENT.sub("", line).strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("{"):
            yield from _guarded(f"{what}:{n}", _jsonl_items(line, f"{what}:{n}", trusted=not urls_only))
            continue
        if urls_only and not is_url(line):
            yield Item(key=f"input:{what}:{n}", source=f"{what}, line {n}",
                       error=f"{what}, line {n}: {line[:80]!r} is not an http(s) URL; a list fetched from the web may only hold URLs")
            continue
        yield from _guarded(line, _expand_one(line, settings, client, depth=depth, base=base, trusted=not urls_only),
                            f"{what}, line {n}")


def _expand_jsonl(path: Path, limit: int) -> Iterator[Item]:
    with path.open(encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(bounded_lines(fh, limit), 1):
            if line is None:
                yield Item(key=f"input:{path}:{n}", source=f"{path}:{n}",
                           error=f"{path}:{n}: a line over the {limit / 1e6:g} MB limit; pass --max-bytes to raise it")
            elif line.strip():
                yield from _guarded(f"{path}:{n}", _jsonl_items(line, f"{path}:{n}"))


def _jsonl_items(line: str, where: str, *, trusted: bool = True) -> Iterator[Item]:
    item = _jsonl_item(line, where)
    yield item if trusted else replace(item, trusted=False)


def _jsonl_item(line: str, where: str) -> Item:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise SourceError(f"{where}: not valid JSON ({exc.msg}); each line must be an object with url, html or text") from exc
    if not isinstance(obj, dict):
        raise SourceError(f"{where}: expected a JSON object with url, html or text")
    url, html, text = obj.get("url"), obj.get("html"), obj.get("text")
    if isinstance(url, str) and is_url(url):
        return url_item(url, html if isinstance(html, str) else None) if not isinstance(text, str) else \
            Item(key=url_key(url), source=url, url=url, text=text)
    if isinstance(text, str) and text.strip():
        return Item(key=text_key(text), source=f"{where} (text)", text=text)
    if isinstance(html, str) and html.strip():
        return Item(key=text_key(html), source=f"{where} (html)", html=html)
    raise SourceError(f"{where}: needs a \"url\" (http/https), \"html\" or \"text\" field")


def fetch_bytes(url: str, settings: Settings, client: httpx2.Client, *, trusted: bool = True) -> bytes:
    """GET a sitemap or feed (any content type), with the size cap; gzip bodies are decompressed.

    Transient failures (timeouts, 429, 5xx) are retried under retry.py (1 + --max-retries attempts)."""
    from . import retry

    return retry.call(lambda: _fetch_bytes(url, settings, client, trusted=trusted), settings)


def _fetch_bytes(url: str, settings: Settings, client: httpx2.Client, *, trusted: bool = True) -> bytes:
    limit = settings.max_bytes * 5
    data = sources.fetch_bytes(url, settings, client, trusted=trusted, limit=limit)
    if data.startswith(b"\x1f\x8b"):
        try:
            inflated = netpolicy.gunzip_capped(data, limit)
        except zlib.error as exc:
            raise SourceError(f"{url}: broken gzip data ({exc})") from exc
        if inflated is None:
            raise SourceError(f"{url}: over {limit / 1e6:g} MB after decompression; pass --max-bytes to raise it")
        data = inflated
    return data


def _expand_remote(url: str, settings: Settings, client: httpx2.Client, *, depth: int,
                   seen: set[str] | None = None, trusted: bool = True) -> Iterator[Item]:
    """A sitemap, feed or list fetched over HTTP: what it names is remote content (untrusted)."""
    _spend_fetch(url)
    data = fetch_bytes(url, settings, client, trusted=trusted)
    head = data[:4096]
    if _SITEMAP.search(head) or _FEED.search(head):
        yield from _expand_xml(data, url, settings, client, depth=depth, seen=(seen or set()) | {normalise_url(url)},
                               remote=True)
    elif _HTML.search(head):
        yield url_item(url, None, trusted=trusted)  # an article whose URL merely looked like a feed; loaded again later
    else:
        yield from _expand_lines(iter(data.decode("utf-8", "replace").splitlines()), url, Path.cwd(), settings,
                                 client, depth=depth + 1, urls_only=True)


def _expand_xml(data: bytes, where: str, settings: Settings, client: httpx2.Client, *, depth: int,
                seen: set[str] | None = None, remote: bool = False) -> Iterator[Item]:
    """Pages of a sitemap (following a sitemap index, never to a sitemap already on the way) or a feed.

    `remote`: the document came over HTTP, so the URLs in it are untrusted (the fetch policy applies).
    """
    head = data[:4096]
    if _SITEMAP.search(head):
        pages, children = sitemap_links(data, where)
        for link in pages:
            yield url_item(link, trusted=not remote)
        seen = seen or set()
        for child in children:
            if normalise_url(child) in seen:
                continue  # an index that lists itself or an ancestor
            if depth + 1 > MAX_DEPTH:
                raise SourceError(f"{child}: sitemaps nested more than {MAX_DEPTH} deep")
            _spend_fetch(child, spend=False)  # out of budget: this whole index stops here, with one error
            yield from _guarded(child, _expand_remote(child, settings, client, depth=depth + 1, seen=seen,
                                                      trusted=not remote), f"sitemap in {where}")
    else:
        for link in feed_links(data, where):
            yield url_item(link, trusted=not remote)


def sitemap_links(data: bytes, where: str) -> tuple[list[str], list[str]]:
    """(page URLs, child sitemap URLs) of a sitemap or sitemap index.

    lxml's iterparse rather than trafilatura's SitemapObject: that one drops links on IP-address
    or other-domain hosts and tells child sitemaps from pages by an `.xml` suffix only; here a
    `<loc>` inside `<sitemap>` is a sitemap and one inside `<url>` is a page, as the protocol says.
    """
    xmlsafe.check(data, where)
    pages: list[str] = []
    children: list[str] = []
    try:
        for _, el in etree.iterparse(io.BytesIO(data), events=("end",), tag=("{*}loc", "loc"), recover=True,
                                     resolve_entities=False, no_network=True, huge_tree=False):
            parent = el.getparent()
            link = (el.text or "").strip()
            if link and parent is not None and is_url(link):
                kind = etree.QName(parent).localname
                (children if kind == "sitemap" else pages).append(link)
            el.clear()
    except etree.XMLSyntaxError as exc:
        raise SourceError(f"{where}: not a readable sitemap ({exc}); check the file or URL") from exc
    return pages, children


def feed_links(data: bytes, where: str) -> list[str]:
    """Entry links of an RSS/Atom feed, through feedparser (given bytes: it never opens a file or URL itself)."""
    xmlsafe.check(data, where)
    parsed = feedparser.parse(io.BytesIO(data))
    if parsed.bozo and not parsed.entries:
        raise SourceError(f"{where}: not a readable RSS/Atom feed ({parsed.get('bozo_exception')})")
    links = []
    for entry in parsed.entries:
        link = entry.get("link")
        if isinstance(link, str) and is_url(link):
            links.append(link)
    return links
