"""A tiny web server on 127.0.0.1 for loading tests: each path answers as scripted.

    with PageServer() as srv:
        srv.routes["/a"] = Route(body=b"<html>...</html>")
        srv.routes["/loop"] = Route(status=302, headers={"Location": "/loop"})
        fetch(srv.url("/a"), settings)
        srv.requests  # [(path, headers), ...]
"""

from __future__ import annotations

import gzip
import time
from dataclasses import dataclass, field

from tests.loopback import Handler, LoopbackServer


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str | None = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the headers are sent
    gzip: bool = False


class PageServer(LoopbackServer):
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        super().__init__()

    def url(self, path: str) -> str:
        return self.base + path

    def handle(self, handler: Handler) -> None:
        self.requests.append((handler.path, dict(handler.headers)))
        route = self.routes.get(handler.path) or Route(status=404, body=b"<h1>Not found</h1>")
        if route.delay:
            time.sleep(route.delay)
        headers = {"Content-Encoding": "gzip", **route.headers} if route.gzip else route.headers
        handler.reply(route.status, gzip.compress(route.body) if route.gzip else route.body,
                      route.content_type, headers)
