"""Where fetched URLs may point, how long one fetch may take, and how much a body may inflate to.

A batch job reads URLs that strangers wrote (sitemap and feed entries, lists fetched over HTTP,
redirects). Those may only be http(s) and may not reach inside the network: an address that is
loopback, private, link-local (169.254.169.254, the cloud metadata service), multicast, reserved
or otherwise not public is refused, in whatever spelling the URL uses (`2130706433`, `0x7f.1`,
`017700000001`, `[::ffff:127.0.0.1]`, `[::1]`, a name that resolves there). The check runs twice:
on the URL before the request (a clear error, no packet sent) and on the address the socket is
about to connect to (so a name that resolves to a public address first and a private one next,
DNS rebinding, is caught at connect time; the socket connects to the very address checked, and
TLS still sends the original host name as SNI).

What the user typed is trusted (a user may fetch http://127.0.0.1:8000/ on purpose), and so are
redirects that stay on the host the user typed; `--allow-private` (Settings.allow_private) opens
the policy for remote content too.

`time_limit()` bounds the wall-clock time of one fetch across connect, TLS, every redirect hop
and every read, so a server that drips a byte a second cannot hold a worker for hours.
`inflate()` decompresses in bounded pieces, so a compression bomb stops at the size cap.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
import ssl
import time
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import httpcore2
import httpx2
from httpcore2._backends.sync import SyncBackend

TRUSTED = "takeaways.trusted"  # request extension: True when the policy does not apply to this hop
SCHEMES = ("http", "https")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_PIECE = 64 * 1024  # bytes of decompressed output produced at a time


class Refused(Exception):
    """A URL or address the policy does not allow; `reason` says why (without the URL)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Overtime(Exception):
    """The fetch ran past its total-time limit (`limit` seconds)."""

    def __init__(self, limit: float) -> None:
        super().__init__(f"took longer than {limit:g} s")
        self.limit = limit


# -- addresses ----------------------------------------------------------------------------------


def blocked_reason(ip: str) -> str | None:
    """Why an IP address may not be fetched from remote content, or None when it is public."""
    addr = ipaddress.ip_address(ip.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(addr, ipaddress.IPv6Address):
        embedded = addr.ipv4_mapped or addr.sixtofour or (addr.teredo[1] if addr.teredo else None)
        if embedded is None and addr in _NAT64:
            embedded = ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
        if embedded is not None and (why := blocked_reason(str(embedded))) is not None:
            return f"{why} (embedded in {addr})"
    if addr.is_loopback:
        return "a loopback address"
    if addr.is_link_local:
        return "a link-local address (where cloud metadata services live)"
    if addr.is_multicast:
        return "a multicast address"
    if addr.is_unspecified:
        return "the unspecified address"
    if addr.is_reserved:
        return "a reserved address"
    if addr.is_private:
        return "a private address"
    if not addr.is_global:
        return "not a public address"
    return None


def numeric_host(host: str) -> str | None:
    """The IP address a numeric host spells, in any form the C library accepts (127.1, 0x7f.1, 2130706433, 0177.0.0.1), else None."""
    host = host.strip("[]")
    try:
        return str(ipaddress.ip_address(host.split("%", 1)[0]))
    except ValueError:
        pass
    try:
        return socket.inet_ntoa(socket.inet_aton(host))  # the legacy IPv4 spellings getaddrinfo also accepts
    except OSError:
        return None


def resolve(host: str, port: int) -> list[str]:
    """The addresses a host name resolves to (tests replace this with a resolver they control)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def addresses(host: str, port: int) -> list[str]:
    ip = numeric_host(host)
    return [ip] if ip is not None else resolve(host, port)


def allowed_addresses(host: str, port: int) -> list[str]:
    """The public addresses of `host`; Refused when it has none (socket.gaierror when it does not resolve)."""
    addrs = addresses(host, port)
    allowed = [a for a in addrs if blocked_reason(a) is None]
    if not allowed:
        shown = host if numeric_host(host) == addrs[0] else f"{host} ({addrs[0]})" if addrs else host
        raise Refused(f"{shown} is {blocked_reason(addrs[0]) if addrs else 'not resolvable'}")
    return allowed


def check_url(url: str | httpx2.URL) -> None:
    """Refused unless `url` is http(s) and its host resolves to public addresses only.

    A name that does not resolve passes here; the connection then fails with its own clear error.
    """
    try:
        u = url if isinstance(url, httpx2.URL) else httpx2.URL(url)
    except httpx2.InvalidURL as exc:
        raise Refused(f"not a valid URL ({exc})") from None
    if u.scheme not in SCHEMES:
        raise Refused(f"{u.scheme or 'no'} scheme; only http:// and https:// URLs are fetched")
    if not u.host:
        raise Refused("no host in the URL")
    try:
        addrs = addresses(u.host, u.port or (443 if u.scheme == "https" else 80))
    except (socket.gaierror, UnicodeError):
        return
    for a in addrs:
        if (why := blocked_reason(a)) is not None:
            shown = u.host if numeric_host(u.host) == a else f"{u.host} ({a})"
            raise Refused(f"{shown} is {why}")


# -- the time limit -----------------------------------------------------------------------------

_DEADLINE: ContextVar[tuple[float, float] | None] = ContextVar("takeaways_fetch_deadline", default=None)


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Every connect, TLS handshake, read and write inside this block shares one deadline."""
    token = _DEADLINE.set((time.monotonic() + seconds, seconds))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def _bounded(timeout: float | None) -> tuple[float | None, bool]:
    """(timeout to use, whether the deadline shortened it); Overtime when the deadline has passed."""
    dl = _DEADLINE.get()
    if dl is None:
        return timeout, False
    left = dl[0] - time.monotonic()
    if left <= 0:
        raise Overtime(dl[1])
    if timeout is None or left < timeout:
        return left, True
    return timeout, False


def _overtime_or(exc: Exception) -> Exception:
    dl = _DEADLINE.get()
    return Overtime(dl[1]) if dl is not None and time.monotonic() >= dl[0] - 0.01 else exc


class _Stream(httpcore2.NetworkStream):
    """A socket stream whose every operation also respects the fetch deadline."""

    def __init__(self, inner: httpcore2.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        t, short = _bounded(timeout)
        try:
            return self._inner.read(max_bytes, t)
        except httpcore2.ReadTimeout as exc:
            raise (_overtime_or(exc) if short else exc) from None

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        t, short = _bounded(timeout)
        try:
            self._inner.write(buffer, t)
        except httpcore2.WriteTimeout as exc:
            raise (_overtime_or(exc) if short else exc) from None

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore2.NetworkStream:
        t, _ = _bounded(timeout)
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, t))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class Backend(httpcore2.NetworkBackend):
    """Connects under the deadline; with `guard`, only to public addresses, checked right before connecting."""

    def __init__(self, guard: bool) -> None:
        self.guard = guard
        self._inner = SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore2.NetworkStream:
        targets = [host]
        if self.guard:
            try:
                targets = allowed_addresses(host, port)
            except socket.gaierror as exc:
                raise httpcore2.ConnectError(f"cannot resolve {host} ({exc.strerror})") from None
        last: Exception | None = None
        for target in targets:  # the checked address itself: nothing resolves the name again
            t, short = _bounded(timeout)
            try:
                return _Stream(self._inner.connect_tcp(target, port, t, local_address, socket_options))
            except httpcore2.ConnectTimeout as exc:
                last = _overtime_or(exc) if short else exc
            except httpcore2.ConnectError as exc:
                last = exc
        assert last is not None
        raise last

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None) -> httpcore2.NetworkStream:
        raise Refused("unix sockets are not fetched")  # pragma: no cover - no URL names one

    def sleep(self, seconds: float) -> None:  # pragma: no cover - used by httpcore's own retries only
        time.sleep(seconds)


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One verifying TLS context for every fetch client (loading the CA bundle takes a while; it never changes)."""
    return httpx2.create_ssl_context()


def _transport(guard: bool) -> httpx2.HTTPTransport:
    transport = httpx2.HTTPTransport(verify=_ssl_context(), trust_env=False)
    pool = transport._pool
    # The pool hands its backend to every connection it opens; replace it before the first one.
    if not isinstance(pool, httpcore2.ConnectionPool) or not hasattr(pool, "_network_backend"):  # pragma: no cover
        raise RuntimeError("httpx2's transport changed shape; the fetch policy cannot be installed")
    pool._network_backend = Backend(guard)
    return transport


class PolicyTransport(httpx2.BaseTransport):
    """Two connection pools: one for trusted hops, one whose every connection is address-checked.

    Kept apart so a connection opened for a trusted URL is never reused for an untrusted one.
    """

    def __init__(self, allow_private: bool) -> None:
        self.open = _transport(guard=False)
        self.guarded = self.open if allow_private else _transport(guard=True)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        if request.url.scheme not in SCHEMES:
            raise Refused(f"{request.url.scheme} scheme; only http:// and https:// URLs are fetched")
        pool = self.open if request.extensions.get(TRUSTED) else self.guarded
        return pool.handle_request(request)

    def close(self) -> None:
        self.open.close()
        if self.guarded is not self.open:
            self.guarded.close()


# -- decompression ------------------------------------------------------------------------------


def _inflate_zlib(chunks: Iterable[bytes], wbits: int | None) -> Iterator[bytes]:
    """zlib/gzip/raw deflate in pieces of at most _PIECE bytes (None: zlib or raw deflate, sniffed).

    Concatenated gzip members are all decoded; anything after the end of the stream is ignored,
    and a truncated stream keeps what was decoded so far (as browsers do).
    """
    d: Any = None
    done = False
    for chunk in chunks:
        buf = chunk
        while buf and not done:
            if d is None:
                if wbits is None:  # "deflate" means zlib-wrapped, but some servers send raw deflate
                    wbits = 15 if len(buf) >= 2 and buf[0] & 0x0F == 8 and (buf[0] << 8 | buf[1]) % 31 == 0 else -15
                d = zlib.decompressobj(wbits)
            out = d.decompress(buf, _PIECE)
            if out:
                yield out
            if d.eof:
                buf = d.unused_data
                if wbits == 31 and buf.startswith(b"\x1f\x8b"):
                    d = None  # the next gzip member
                else:
                    done = True
                continue
            buf = d.unconsumed_tail
            while not buf and len(out) == _PIECE and not d.eof:  # output still pending inside zlib
                out = d.decompress(b"", _PIECE)
                if out:
                    yield out


def inflate(chunks: Iterable[bytes], encoding: str) -> Iterator[bytes]:
    """Decode one content coding lazily; ValueError for a coding this client cannot decode."""
    enc = encoding.strip().lower()
    if enc in ("", "identity"):
        return iter(chunks)
    if enc in ("gzip", "x-gzip"):
        return _inflate_zlib(chunks, 31)
    if enc == "deflate":
        return _inflate_zlib(chunks, None)
    raise ValueError(f"content encoding {encoding!r} is not supported")


def decoded(chunks: Iterable[bytes], content_encoding: str) -> Iterator[bytes]:
    """Undo every coding of a Content-Encoding header (`gzip, deflate` is decoded right to left)."""
    out: Iterable[bytes] = chunks
    for enc in reversed([e for e in content_encoding.split(",") if e.strip()]):
        out = inflate(out, enc)
    return iter(out)


def read_capped(chunks: Iterable[bytes], limit: int) -> bytes | None:
    """Join decoded chunks, or None as soon as they pass `limit` bytes (nothing past it is decoded)."""
    parts: list[bytes] = []
    total = 0
    for piece in chunks:
        total += len(piece)
        if total > limit:
            return None
        parts.append(piece)
    return b"".join(parts)


def gunzip_capped(data: bytes, limit: int) -> bytes | None:
    """A .gz body decompressed, or None when it inflates past `limit` bytes. zlib.error when broken."""
    return read_capped(_inflate_zlib([data], 31), limit)


__all__ = ["TRUSTED", "Overtime", "PolicyTransport", "Refused", "blocked_reason", "check_url", "decoded",
           "gunzip_capped", "read_capped", "time_limit"]
