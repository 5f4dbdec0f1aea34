"""Write WARC files in tests, the way a crawler (wget --warc-file, Common Crawl) does, with warcio."""

from __future__ import annotations

import io
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter


def write_warc(path: Path, records: list[tuple[str, str, bytes, str]], *, gzip: bool = True) -> Path:
    """records: (target URI, HTTP status line e.g. "200 OK", body, content type); each also gets a request record.

    `length` is given so warcio does not buffer the payload in a temp file it never closes.
    """
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=gzip)
        for uri, status, body, ctype in records:
            req = StatusAndHeaders(f"GET {uri} HTTP/1.1", [("Host", "example.org")], is_http_request=True)
            writer.write_record(writer.create_warc_record(uri, "request", payload=io.BytesIO(b""), length=0, http_headers=req))
            headers = StatusAndHeaders(status, [("Content-Type", ctype), ("Content-Length", str(len(body)))],
                                       protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(uri, "response", payload=io.BytesIO(body), length=len(body),
                                                          http_headers=headers))
    return path
