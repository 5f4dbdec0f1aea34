"""A small web site on 127.0.0.1 for batch tests and the benchmark.

    with Site() as site:
        site.url("/a/1.html")            # an article (distinct text per number)
        site.url("/slow/3.html")         # the same kind of article, after `site.delay` seconds
        site.url("/missing.html")        # 404
        site.url("/nav.html")            # a page with no article (too short)
        site.url("/flaky/2.html")        # 503 the first `site.flaky_failures` times, then an article
        site.url("/dup/1.html")          # the same text as /a/1.html under another URL
        site.url("/sitemap.xml"), site.url("/sitemap-index.xml"), site.url("/feed.rss"), site.url("/feed.atom")
        site.pages["/custom.html"] = b"<html>…"   # anything else, served as text/html

`site.hits[path]` counts requests.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections import Counter

from tests.loopback import Handler, LoopbackServer

TOPICS = ["harbour", "railway", "library", "orchard", "observatory", "bakery", "bridge", "museum", "vineyard",
          "glacier", "market", "stadium", "theatre", "forest", "canal", "factory", "airport", "school"]


def article_html(n: int, title: str | None = None) -> str:
    """A plausible article of ~300 words whose text differs for every n."""
    topic = f"{TOPICS[n % len(TOPICS)]} {n}"
    paras = []
    for p in range(4):
        sents = [f"The {topic} project reached milestone {p * 10 + s} after the council voted on plan {n}-{p}-{s} "
                 f"with a clear majority of members." for s in range(7)]
        paras.append("<p>" + " ".join(sents) + "</p>")
    title = title or f"News about the {topic}"
    return (f"<!doctype html><html lang='en'><head><title>{title}</title></head><body><nav>Home | News</nav>"
            f"<article><h1>{title}</h1>{paras[0]}{paras[1]}<h2>What happens next</h2>{paras[2]}{paras[3]}</article>"
            f"<footer>Copyright</footer></body></html>")


class Site(LoopbackServer):
    def __init__(self, delay: float = 0.3, flaky_failures: int = 1) -> None:
        self.delay = delay
        self.flaky_failures = flaky_failures
        self.hits: Counter[str] = Counter()
        self.pages: dict[str, bytes] = {}
        self._lock = threading.Lock()
        super().__init__()

    def url(self, path: str) -> str:
        return self.base + path

    def sitemap(self, paths: list[str]) -> bytes:
        locs = "".join(f"<url><loc>{self.url(p)}</loc></url>" for p in paths)
        return (f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f"{locs}</urlset>").encode()

    def _route(self, path: str) -> tuple[int, str, bytes, float]:
        """(status, content type, body, delay) for a path."""
        html = "text/html; charset=utf-8"
        xml = "application/xml"
        if path in self.pages:
            return 200, html, self.pages[path], 0.0
        parts = path.strip("/").split("/")
        if len(parts) == 2 and parts[1].endswith(".html") and parts[1][:-5].isdigit():
            kind, n = parts[0], int(parts[1][:-5])
            if kind == "a":
                return 200, html, article_html(n).encode(), 0.0
            if kind == "dup":
                return 200, html, article_html(n).encode(), 0.0
            if kind == "slow":
                return 200, html, article_html(1000 + n).encode(), self.delay
            if kind == "flaky":
                if self.hits[path] <= self.flaky_failures:
                    return 503, "text/plain", b"busy", 0.0
                return 200, html, article_html(2000 + n).encode(), 0.0
        if path == "/nav.html":
            return 200, html, b"<html><body><nav><a href='/'>Home</a> <a href='/x'>More</a></nav></body></html>", 0.0
        if path == "/sitemap.xml":
            return 200, xml, self.sitemap(["/a/1.html", "/a/2.html"]), 0.0
        if path == "/sitemap2.xml.gz":
            return 200, "application/gzip", gzip.compress(self.sitemap(["/a/3.html", "/a/1.html#top"])), 0.0
        if path == "/sitemap-index.xml":
            body = ('<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                    f"<sitemap><loc>{self.url('/sitemap.xml')}</loc></sitemap>"
                    f"<sitemap><loc>{self.url('/sitemap2.xml.gz')}</loc></sitemap></sitemapindex>")
            return 200, xml, body.encode(), 0.0
        if path == "/feed.rss":
            items = "".join(f"<item><title>Story {n}</title><link>{self.url(f'/a/{n}.html')}</link></item>" for n in (4, 5))
            return 200, "application/rss+xml", f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{items}</channel></rss>'.encode(), 0.0
        if path == "/feed.atom":
            entries = "".join(f"<entry><title>S{n}</title><id>urn:{n}</id><link href='{self.url(f'/a/{n}.html')}'/></entry>" for n in (6, 7))
            return 200, "application/atom+xml", f'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>{entries}</feed>'.encode(), 0.0
        return 404, "text/html", b"<html><body>Not found</body></html>", 0.0

    def handle(self, handler: Handler) -> None:
        path = handler.path.split("?")[0]
        with self._lock:
            self.hits[path] += 1
        status, ctype, body, delay = self._route(path)
        if delay:
            time.sleep(delay)
        handler.reply(status, body, ctype)
