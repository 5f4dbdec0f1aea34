"""Attack tests: untrusted sitemaps, feeds, lists, redirects and pages (issue #15).

Every test here plays a hostile input against the real code. Nothing leaves the machine: a
refused URL is refused before any packet is sent (the tests assert the loopback server saw no
request), names resolve through a resolver the test controls, and the only server is on 127.0.0.1.
docs/security.md lists each threat with the behaviour and the test that shows it.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from takeaways import netpolicy, sources
from takeaways.cli import cli
from takeaways.config import Settings
from takeaways.errors import FetchError
from takeaways.inputs import expand
from tests.pageserver import PageServer, Route
from tests.site import Site, article_html

FAST = ["-e", "extractive", "--workers", "0", "--retry-wait", "0.01", "--progress", "none"]


def run(args: list[str]) -> Result:
    return CliRunner().invoke(cli, ["batch", *args], catch_exceptions=False)


def results(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]


@pytest.fixture
def site() -> Iterator[Site]:
    with Site() as s:
        yield s


@pytest.fixture
def server() -> Iterator[PageServer]:
    with PageServer() as s:
        yield s


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """A resolver the test controls: names map to address lists; an unknown name does not resolve.

    No test sends a DNS query: `netpolicy.resolve` is the only place names are resolved.
    """
    table: dict[str, list[str]] = {}

    def fake(host: str, port: int) -> list[str]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return table[host]

    monkeypatch.setattr(netpolicy, "resolve", fake)
    return table


# -- the address policy, decided before any connection -----------------------------------------

BLOCKED = [
    ("http://127.0.0.1/", "loopback"),
    ("http://127.1/", "loopback"),
    ("http://2130706433/", "loopback"),  # decimal
    ("http://0x7f000001/", "loopback"),  # hex
    ("http://0x7f.1/", "loopback"),
    ("http://017700000001/", "loopback"),  # octal
    ("http://0177.0.0.1/", "not a valid URL"),  # httpx2 rejects this spelling outright
    ("http://[::1]/", "loopback"),
    ("http://[::ffff:127.0.0.1]/", "loopback"),  # IPv4-mapped IPv6
    ("http://[::ffff:7f00:1]/", "loopback"),
    ("http://[64:ff9b::7f00:1]/", "loopback"),  # NAT64
    ("http://[2002:7f00:1::]/", "loopback"),  # 6to4
    ("http://0/", "unspecified"),
    ("http://0.0.0.0:8080/", "unspecified"),
    ("http://[::]/", "unspecified"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),  # cloud metadata
    ("http://[::ffff:169.254.169.254]/", "link-local"),
    ("http://[fe80::1]/", "link-local"),
    ("http://10.0.0.1/", "private"),
    ("http://172.16.5.4/", "private"),
    ("http://192.168.1.1/", "private"),
    ("http://[fc00::1]/", "private"),
    ("http://100.100.100.200/", "not a public address"),  # carrier-grade NAT (a cloud's metadata address)
    ("http://224.0.0.1/", "multicast"),
    ("http://[ff02::1]/", "multicast"),
    ("http://240.0.0.1/", "reserved"),
    ("http://255.255.255.255/", "reserved"),
]


@pytest.mark.parametrize(("url", "kind"), BLOCKED)
def test_internal_addresses_in_every_spelling_are_refused(url: str, kind: str) -> None:
    with pytest.raises(netpolicy.Refused, match=kind):
        netpolicy.check_url(url)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x", "gopher://127.0.0.1:70/", "data:text/html,hi",
                                 "javascript:alert(1)"])
def test_only_http_and_https_are_fetched(url: str) -> None:
    with pytest.raises(netpolicy.Refused, match="only http:// and https://"):
        netpolicy.check_url(url)


@pytest.mark.parametrize("name", ["metadata.attacker.test", "intranet.attacker.test"])
def test_names_that_resolve_inside_the_network_are_refused(dns: dict[str, list[str]], name: str) -> None:
    dns["metadata.attacker.test"] = ["169.254.169.254"]
    dns["intranet.attacker.test"] = ["93.184.215.14", "10.1.2.3"]  # one private address among public ones is enough
    with pytest.raises(netpolicy.Refused, match=rf"{name} \((169\.254\.169\.254|10\.1\.2\.3)\) is a (link-local|private)"):
        netpolicy.check_url(f"https://{name}/feed.xml")


def test_public_addresses_pass(dns: dict[str, list[str]]) -> None:
    dns["news.example.test"] = ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
    for url in ["https://news.example.test/a", "http://93.184.215.14/", "http://[2606:4700::1111]/"]:
        netpolicy.check_url(url)  # no exception; nothing is connected to


# -- sitemaps, feeds and lists: entries are remote content ------------------------------------


def spellings(port: int) -> list[str]:
    """The loopback server, spelled as a hostile sitemap would."""
    return [f"http://127.0.0.1:{port}/a/1.html", f"http://2130706433:{port}/a/2.html", f"http://0x7f.1:{port}/a/3.html",
            f"http://017700000001:{port}/a/4.html", f"http://[::ffff:127.0.0.1]:{port}/a/5.html",
            f"http://127.1:{port}/a/6.html"]


def hostile_sitemap(site: Site, extra: list[str] | None = None) -> str:
    port = int(site.base.rsplit(":", 1)[1])
    locs = "".join(f"<url><loc>{u}</loc></url>" for u in [*spellings(port), *(extra or [])])
    site.pages["/hostile-sitemap.xml"] = (
        f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>').encode()
    return site.url("/hostile-sitemap.xml")


def test_sitemap_entries_pointing_at_loopback_are_refused_and_never_contacted(site: Site, tmp_path: Path) -> None:
    sitemap = hostile_sitemap(site, ["http://169.254.169.254/latest/meta-data/iam/", "file:///etc/passwd"])
    out = tmp_path / "out"
    res = run([sitemap, "--out", str(out), *FAST])  # the sitemap itself was typed by the user: it is fetched
    assert res.exit_code == 1, res.output
    lines = results(out)
    assert len(lines) == 7  # six spellings and the metadata URL; file:// is not a URL a sitemap may name
    assert {x["status"] for x in lines} == {"failed"}
    assert all("refused" in x["error"] and "--allow-private" in x["error"] for x in lines)
    assert any("link-local" in x["error"] for x in lines) and sum("loopback" in x["error"] for x in lines) == 6
    assert site.hits["/hostile-sitemap.xml"] == 1
    assert not [p for p in site.hits if p.startswith("/a/")]  # not one request reached an article


def test_allow_private_opens_the_policy_for_remote_content(site: Site, tmp_path: Path) -> None:
    sitemap = hostile_sitemap(site)
    out = tmp_path / "out"
    res = run([sitemap, "--out", str(out), "--allow-private", *FAST])
    assert res.exit_code == 0, res.output
    assert [x["status"] for x in results(out)] == ["done"] * 6
    assert sorted(p for p in site.hits if p.startswith("/a/")) == [f"/a/{n}.html" for n in range(1, 7)]


def test_what_the_user_typed_is_trusted(site: Site, tmp_path: Path) -> None:
    lst = tmp_path / "list.txt"
    port = int(site.base.rsplit(":", 1)[1])
    lst.write_text("\n".join(spellings(port)[:2]) + "\n")  # a local list is the user's own
    out = tmp_path / "out"
    assert run([str(lst), site.url("/a/7.html"), "--out", str(out), *FAST]).exit_code == 0
    assert [x["status"] for x in results(out)] == ["done"] * 3


def test_feed_entries_and_child_sitemaps_are_remote_content(site: Site) -> None:
    port = int(site.base.rsplit(":", 1)[1])
    site.pages["/evil.rss"] = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        f"<item><link>http://[::1]:{port}/a/1.html</link></item>"
        "<item><link>http://169.254.169.254/computeMetadata/v1/</link></item></channel></rss>").encode()
    site.pages["/evil-index.xml"] = (
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>http://2130706433:{port}/sitemap.xml</loc></sitemap></sitemapindex>").encode()
    items = list(expand([site.url("/evil.rss"), site.url("/evil-index.xml")], Settings()))
    assert [i.trusted for i in items[:2]] == [False, False]
    assert "refused" in (items[2].error or "") and "loopback" in (items[2].error or "")  # the child sitemap
    assert site.hits["/sitemap.xml"] == 0
    for item in items[:2]:
        with pytest.raises(FetchError, match="refused"):
            sources.fetch(item.url or "", Settings(), trusted=item.trusted)


def test_a_list_fetched_over_http_cannot_name_local_files(site: Site) -> None:
    site.pages["/lists/feed"] = b"/etc/passwd\nfile:///etc/passwd\n../../secret.html\n"
    items = list(expand([site.url("/lists/feed")], Settings()))
    assert len(items) == 3 and all("may only hold URLs" in (i.error or "") for i in items)
    assert not any(i.path for i in items)


# -- redirects: every hop is checked ------------------------------------------------------------


@pytest.mark.parametrize(("location", "why"), [
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://[::1]:{port}/a", "loopback"),  # the same server, another spelling: a new host
    ("http://2130706433:{port}/a", "loopback"),
    ("file:///etc/passwd", "only http:// and https://"),
])
def test_redirects_to_internal_addresses_are_refused(server: PageServer, location: str, why: str) -> None:
    port = int(server.base.rsplit(":", 1)[1])
    server.routes["/go"] = Route(status=302, headers={"Location": location.format(port=port)}, content_type=None)
    server.routes["/a"] = Route(body=article_html(1).encode())
    with pytest.raises(FetchError, match=rf"/go: refused \(redirected to .*\): .*{why}"):
        sources.fetch(server.url("/go"), Settings())
    assert [p for p, _ in server.requests] == ["/go"]


def test_a_redirect_on_the_host_the_user_typed_is_followed(server: PageServer) -> None:
    server.routes["/old"] = Route(status=301, headers={"Location": "/new"}, content_type=None)
    server.routes["/new"] = Route(body=article_html(1).encode())
    assert sources.fetch(server.url("/old"), Settings()).url == server.url("/new")


def test_an_untrusted_url_cannot_redirect_inside_either(dns: dict[str, list[str]], server: PageServer,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A sitemap entry on a 'public' host (127.0.0.1 plays one here) redirects to 127.0.0.2: refused at the hop."""
    port = int(server.base.rsplit(":", 1)[1])
    dns["cdn.example.test"] = ["127.0.0.1"]
    real = netpolicy.blocked_reason
    monkeypatch.setattr(netpolicy, "blocked_reason", lambda ip: None if ip == "127.0.0.1" else real(ip))
    server.routes["/entry"] = Route(status=302, headers={"Location": f"http://127.0.0.2:{port}/a"}, content_type=None)
    with pytest.raises(FetchError, match=r"/entry: refused \(redirected to http://127\.0\.0\.2:\d+/a\): 127\.0\.0\.2 is a loopback"):
        sources.fetch(f"http://cdn.example.test:{port}/entry", Settings(), trusted=False)
    assert [p for p, _ in server.requests] == ["/entry"]


# -- connect time: DNS rebinding --------------------------------------------------------------


def test_dns_rebinding_is_caught_at_connect_time(dns: dict[str, list[str]], server: PageServer,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The name is public when the URL is checked and loopback when the socket connects: refused then."""
    port = int(server.base.rsplit(":", 1)[1])
    server.routes["/a"] = Route(body=article_html(1).encode())
    answers = iter([["93.184.215.14"], ["127.0.0.1"]])
    monkeypatch.setattr(netpolicy, "resolve", lambda host, port: next(answers))
    with pytest.raises(FetchError, match=r"refused: rebind\.attacker\.test \(127\.0\.0\.1\) is a loopback address"):
        sources.fetch(f"http://rebind.attacker.test:{port}/a", Settings(), trusted=False)
    assert server.requests == []


def test_the_socket_connects_to_the_checked_address_with_the_host_header_kept(
        server: PageServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The guarded connection resolves once, checks, and connects to that address: the name itself never resolves again."""
    port = int(server.base.rsplit(":", 1)[1])
    server.routes["/a"] = Route(body=article_html(1).encode())
    calls: list[str] = []

    def resolve(host: str, p: int) -> list[str]:
        calls.append(host)
        return ["127.0.0.1"]

    monkeypatch.setattr(netpolicy, "resolve", resolve)
    real = netpolicy.blocked_reason
    monkeypatch.setattr(netpolicy, "blocked_reason", lambda ip: None if ip == "127.0.0.1" else real(ip))  # as if public
    page = sources.fetch(f"http://site.example.test:{port}/a", Settings(), trusted=False)
    assert page.content.startswith(b"<!doctype html>")
    assert calls == ["site.example.test", "site.example.test"]  # the URL check, then the connect-time check
    assert server.requests[0][1]["Host"] == f"site.example.test:{port}"
