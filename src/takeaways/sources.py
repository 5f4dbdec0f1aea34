"""Load one source (URL, file, stdin) into a Page, and decode its bytes to text."""

from __future__ import annotations

import errno
import os
import re
import stat
import sys
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Literal

import httpx2
from charset_normalizer import from_bytes

from . import __version__, netpolicy
from .config import USER_AGENT, Settings
from .errors import FetchError, SourceError
from .models import Page

HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text"}
HTML_TYPES = {"text/html", "application/xhtml+xml"}
TEXT_TYPES = {"text/plain", "text/markdown"}

# Magic numbers of formats people point us at by mistake.
_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"%PDF": "a PDF document",
    b"GIF8": "a GIF image",
    b"\xff\xd8\xff": "a JPEG image",
    b"PK\x03\x04": "a ZIP archive (or an Office document)",
    b"\x1f\x8b": "a gzip archive",
    b"RIFF": "a RIFF media file",
}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.I)
_HTML_SNIFF = re.compile(rb"<(!doctype\s+html|html|head|body|article|div|p|meta|title)\b", re.I)


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def load(source: str, settings: Settings | None = None, *, stdin: BinaryIO | None = None) -> Page:
    """Load a URL, a file path or '-' (stdin) into a Page. Raises SourceError/FetchError."""
    settings = settings or Settings()
    if source == "-":
        return _load_stdin(stdin or sys.stdin.buffer, settings)
    if is_url(source):
        return fetch(source, settings)
    if re.match(r"^[a-z][a-z0-9+.-]*://", source, re.I):
        raise SourceError(f"{source}: unsupported URL scheme; use http:// or https://, a file path, or '-' for stdin")
    return _load_file(Path(source), settings)


def human_size(n: int) -> str:
    """10_000_000 -> '10 MB', 52_428_800 -> '52.4 MB', 1500 -> '1.5 kB', 10 -> '10 bytes'."""
    for unit, size in (("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{round(n / size, 1):g} {unit}"
    return f"{n} bytes"


def _too_big(what: str, size: int, settings: Settings) -> SourceError:
    return SourceError(
        f"{what} is {human_size(size)}, over the {human_size(settings.max_bytes)} limit; "
        "pass --max-bytes to raise it"
    )


def _check_binary(what: str, data: bytes) -> None:
    for magic, kind in _MAGIC.items():
        if data.startswith(magic):
            raise SourceError(f"{what} is {kind}, not a web page or text; takeaways reads HTML, XHTML and plain text")
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SourceError(f"{what} looks like binary data, not a web page or text; takeaways reads HTML, XHTML and plain text")


def sniff_kind(data: bytes) -> Literal["html", "text"]:
    """'html' or 'text' for content that came without a file suffix or content type."""
    head = data[:4096].removeprefix(b"\xef\xbb\xbf").lstrip()
    return "html" if head.startswith(b"<") or _HTML_SNIFF.search(head) else "text"


def check_file(path: Path) -> os.stat_result:
    """The stat of a regular file; SourceError saying what it is otherwise (missing, a loop, a FIFO, a device)."""
    try:
        st = path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SourceError(f"{path}: a symbolic link loop; point it at a real file") from None
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            raise SourceError(f"{path}: no such file; check the path (URLs must start with http:// or https://)") from None
        raise SourceError(f"{path}: cannot read ({exc.strerror}); check the path and its permissions") from None
    if stat.S_ISDIR(st.st_mode):
        raise SourceError(f"{path} is a directory; pass a file, or run `takeaways batch {path} --out DIR` for every page in it")
    if not stat.S_ISREG(st.st_mode):
        kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(st.st_mode) else "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
                else "a socket" if stat.S_ISSOCK(st.st_mode) else "not a regular file")
        raise SourceError(f"{path} is {kind}, not a regular file; to read a stream, pipe it in as '-' (cat {path} | takeaways summarize -)")
    return st


def read_file(path: Path, limit: int) -> bytes:
    """A regular file's bytes, at most `limit` (SourceError past it): a file that grows while read cannot run away."""
    st = check_file(path)
    if st.st_size > limit:
        raise SourceError(f"{path} is {human_size(st.st_size)}, over the {human_size(limit)} limit; pass --max-bytes to raise it")
    try:
        # O_NONBLOCK: should the path turn into a FIFO between the check and the open, open() does not wait for a writer
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise SourceError(f"{path} is not a regular file any more; pass a file")
            data = fh.read(limit + 1)
    except OSError as exc:
        raise SourceError(f"{path}: cannot read ({exc.strerror}); check its permissions") from exc
    if len(data) > limit:
        raise SourceError(f"{path} is over the {human_size(limit)} limit; pass --max-bytes to raise it")
    return data


def _load_file(path: Path, settings: Settings) -> Page:
    data = read_file(path, settings.max_bytes)
    if not data.strip():
        raise SourceError(f"{path} is empty; pass a file with an article in it")
    _check_binary(str(path), data)
    suffix = path.suffix.lower()
    kind: Literal["html", "text"] = "html" if suffix in HTML_SUFFIXES else "text" if suffix in TEXT_SUFFIXES else sniff_kind(data)
    return Page(source=str(path), url=None, content=data, content_type=kind)


def _load_stdin(stream: BinaryIO, settings: Settings) -> Page:
    data = stream.read(settings.max_bytes + 1)
    if len(data) > settings.max_bytes:
        raise SourceError(f"standard input is over the {human_size(settings.max_bytes)} limit; pass --max-bytes to raise it")
    if not data.strip():
        raise SourceError("standard input is empty; pipe an article in, e.g. `curl -s URL | takeaways summarize -`")
    _check_binary("standard input", data)
    return Page(source="-", content=data, content_type=sniff_kind(data))


def http_client(settings: Settings) -> httpx2.Client:
    """The one place that configures HTTP fetching: timeouts, User-Agent, the fetch policy (netpolicy).

    Redirects are followed by `open_url`, one checked hop at a time, not by the client.
    """
    return httpx2.Client(
        timeout=httpx2.Timeout(settings.read_timeout, connect=settings.connect_timeout),
        follow_redirects=False,
        max_redirects=settings.max_redirects,
        transport=netpolicy.PolicyTransport(settings.allow_private),
        headers={
            "User-Agent": USER_AGENT.format(version=__version__),
            "Accept": "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.1",
            "Accept-Encoding": "gzip, deflate",
        },
    )


@contextmanager
def open_url(url: str, settings: Settings, client: httpx2.Client | None = None, *,
             trusted: bool = True) -> Iterator[httpx2.Response]:
    """The one HTTP GET: the final response of `url`, streaming, after checked redirects, under the time cap.

    `trusted` is True for what the user typed: its host may be private, and so may a redirect that
    stays on that host. Every other hop, and every hop of an untrusted URL (a sitemap or feed
    entry), must pass `netpolicy.check_url` (unless --allow-private), before it is sent and again
    at connect time. Read the body with `read_body`, inside the `with` block (the time cap holds).
    Raises FetchError/SourceError with the URL and what to do.
    """
    own = client is None
    client = client or http_client(settings)
    trusted_host = _host(url) if trusted else None
    try:
        with netpolicy.time_limit(settings.max_fetch_time):
            request = client.build_request("GET", url)
            for _hop in range(settings.max_redirects + 1):
                hop_trusted = settings.allow_private or (trusted_host is not None and request.url.host == trusted_host)
                if not hop_trusted:
                    netpolicy.check_url(request.url)
                request.extensions = {**request.extensions, netpolicy.TRUSTED: hop_trusted}
                resp = client.send(request, stream=True)
                if resp.next_request is None:
                    try:
                        yield resp
                    finally:
                        resp.close()
                    return
                resp.close()
                request = resp.next_request
            raise FetchError(f"{url}: more than {settings.max_redirects} redirects (a redirect loop?); check the URL")
    except netpolicy.Refused as exc:
        hint = "" if settings.allow_private else "; pass --allow-private to fetch addresses inside your network"
        where = "" if str(request.url) == url else f" (redirected to {str(request.url)[:200]})"
        raise FetchError(f"{url}: refused{where}: {exc.reason}{hint if 'address' in exc.reason else ''}") from None
    except netpolicy.Overtime as exc:
        raise FetchError(f"{url}: the download took longer than {exc.limit:g} s; raise --max-fetch-time if the server is just slow") from None
    except httpx2.InvalidURL as exc:
        raise FetchError(f"{url}: not a valid URL ({exc}); check it") from exc
    except httpx2.ConnectTimeout as exc:
        raise FetchError(f"{url}: no connection within {settings.connect_timeout:g} s; check the URL or raise --connect-timeout", transient=True) from exc
    except httpx2.TimeoutException as exc:
        raise FetchError(f"{url}: the server did not answer within {settings.read_timeout:g} s; try again later or raise --read-timeout", transient=True) from exc
    except httpx2.ConnectError as exc:
        raise FetchError(f"{url}: cannot connect ({_reason(exc)}); check the URL and that the server is up", transient=True) from exc
    except httpx2.RemoteProtocolError as exc:
        raise FetchError(f"{url}: the server broke the HTTP protocol ({_reason(exc)}); check the URL") from exc
    except httpx2.HTTPError as exc:
        raise FetchError(f"{url}: download failed ({_reason(exc)}); try again later", transient=True) from exc
    finally:
        if own:
            client.close()


def _host(url: str) -> str | None:
    try:
        return httpx2.URL(url).host or None
    except httpx2.InvalidURL:
        return None


def read_body(url: str, resp: httpx2.Response, limit: int) -> bytes:
    """The body, decompressed (Content-Encoding) in bounded pieces: SourceError once it passes `limit` bytes."""
    coding = resp.headers.get("content-encoding", "")
    try:
        data = netpolicy.read_capped(netpolicy.decoded(resp.iter_raw(), coding), limit)
    except ValueError as exc:
        raise FetchError(f"{url}: {exc}; takeaways reads identity, gzip and deflate") from exc
    except zlib.error as exc:
        raise FetchError(f"{url}: broken compressed data ({exc})") from exc
    if data is None:
        once = f" once decompressed ({coding})" if coding.strip().lower() not in ("", "identity") else ""
        raise SourceError(f"{url} is over the {human_size(limit)} limit{once}; pass --max-bytes to raise it")
    return data


def fetch(url: str, settings: Settings, client: httpx2.Client | None = None, *, trusted: bool = True) -> Page:
    """GET a page with timeouts, the fetch policy, a size cap and content-type checks."""
    with open_url(url, settings, client, trusted=trusted) as resp:
        return _read_response(url, resp, settings)


def fetch_bytes(url: str, settings: Settings, client: httpx2.Client | None = None, *, trusted: bool = True,
                limit: int | None = None) -> bytes:
    """GET a sitemap, feed or list (any content type): the decompressed body, at most `limit` bytes."""
    limit = limit or settings.max_bytes
    with open_url(url, settings, client, trusted=trusted) as resp:
        if resp.status_code >= 400:
            from .retry import retry_after_header, transient_status

            transient = transient_status(resp.status_code)
            err = FetchError(f"{url}: HTTP {resp.status_code} {resp.reason_phrase}; check the URL", transient=transient)
            err.retry_after = retry_after_header(resp.headers) if transient else None  # type: ignore[attr-defined]
            raise err
        declared = resp.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit and not resp.headers.get("content-encoding"):
            raise _too_big(url, int(declared), settings.with_(max_bytes=limit))
        return read_body(url, resp, limit)


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    if "refused" in text.lower():
        return "connection refused"
    return text.splitlines()[0][:200]


def _read_response(url: str, resp: httpx2.Response, settings: Settings) -> Page:
    if resp.status_code >= 400:
        from .retry import retry_after_header, transient_status

        transient = transient_status(resp.status_code)
        hint = "try again later" if transient else "check the URL"
        err = FetchError(f"{url}: HTTP {resp.status_code} {resp.reason_phrase}; {hint}", transient=transient)
        err.retry_after = retry_after_header(resp.headers) if transient else None  # type: ignore[attr-defined]
        raise err
    ctype, _, params = resp.headers.get("content-type", "").partition(";")
    ctype = ctype.strip().lower()
    if ctype and ctype not in HTML_TYPES | TEXT_TYPES:
        raise FetchError(f"{url}: content type {ctype} is not supported; takeaways reads HTML, XHTML and plain text pages")
    declared = resp.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > settings.max_bytes and not resp.headers.get("content-encoding"):
        raise _too_big(url, int(declared), settings)
    data = read_body(url, resp, settings.max_bytes)
    if not data.strip():
        raise FetchError(f"{url}: the server sent an empty page")
    _check_binary(url, data)
    m = re.search(r"charset\s*=\s*[\"']?([\w.:-]+)", params, re.I)
    kind: Literal["html", "text"] = "text" if ctype in TEXT_TYPES else "html" if ctype else sniff_kind(data)
    return Page(source=url, url=str(resp.url), content=data, content_type=kind,
                encoding=m.group(1) if m else None)


def decode(page: Page) -> str:
    """Bytes → str: BOM, then the HTTP header charset, then a meta/XML declaration, then detection."""
    data = page.content
    for bom, enc in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            return data.decode(enc, errors="replace")
    candidates = [page.encoding]
    if page.content_type == "html":
        head = data[:4096]
        for rx in (_META_CHARSET, _XML_ENCODING):
            m = rx.search(head)
            if m:
                candidates.append(m.group(1).decode("ascii", "ignore"))
    for enc in filter(None, candidates):
        try:
            return data.decode(_normalise_encoding(enc))
        except (LookupError, UnicodeDecodeError):
            continue
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # A page that is UTF-8 but for a few broken bytes (a pasted ad, a truncated character) keeps
    # UTF-8; guessing another encoding would garble every other non-ASCII character instead.
    text = data.decode("utf-8", errors="replace")
    if text.count("\ufffd") <= max(3, len(text) // 1000):
        return text
    return data.decode(detect_encoding(data), errors="replace")


def detect_encoding(data: bytes) -> str:
    """Guess an undeclared encoding with charset-normalizer, more robustly for short Western texts.

    Its first pick for a few paragraphs of Latin-1 French is often cp1257 or cp1250 (après ->
    aprčs), with windows-1252 a hair behind on "chaos" but ahead on language coherence. So: among
    the candidates nearly as clean as the best, take the most coherent; on a tie, windows-1252,
    which is what browsers assume for undeclared Western pages.
    """
    results = list(from_bytes(data[:200_000]))
    if not results:
        return "cp1252"
    least_chaos = min(m.chaos for m in results)
    near = [m for m in results if m.chaos <= least_chaos + 0.05]
    return max(near, key=lambda m: (round(m.coherence, 2), m.encoding == "cp1252")).encoding


def _normalise_encoding(enc: str) -> str:
    enc = enc.strip().lower()
    # Browsers treat these labels as their supersets (WHATWG Encoding Standard).
    return {"iso-8859-1": "cp1252", "latin-1": "cp1252", "latin1": "cp1252", "ascii": "cp1252",
            "us-ascii": "cp1252", "shift_jis": "cp932", "sjis": "cp932", "x-sjis": "cp932",
            "gb2312": "gb18030", "gbk": "gb18030"}.get(enc, enc)
