"""A loopback HTTP proxy that forwards to an upstream server and records every exchange.

Used to count what really went over the wire to a real LLM server (requests, response_format
modes, status codes) without trusting the client's own bookkeeping.
"""

from __future__ import annotations

import http.client
import json
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from tests.loopback import Handler, LoopbackServer


@dataclass
class Exchange:
    method: str
    path: str
    body: dict[str, Any]
    status: int


class RecordingProxy(LoopbackServer):
    def __init__(self, upstream: str, timeout: float = 900.0) -> None:
        parts = urlsplit(upstream)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.timeout = timeout
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()
        super().__init__()

    @property
    def url(self) -> str:
        return f"{self.base}/v1"

    def chat_requests(self) -> list[Exchange]:
        return [e for e in self.exchanges if e.path.endswith("/chat/completions")]

    def handle(self, handler: Handler) -> None:
        raw = handler.body()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in {"host", "connection"}}
        conn.request(handler.command, handler.path, body=raw or None, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {}
        with self._lock:
            self.exchanges.append(Exchange(handler.command, handler.path, body, resp.status))
        passed = {k: v for k, v in resp.getheaders()
                  if k.lower() not in {"transfer-encoding", "connection", "content-length", "content-type"}}
        handler.reply(resp.status, data, resp.getheader("Content-Type"), passed)
