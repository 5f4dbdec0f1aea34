"""The per-item stages every executor runs: the same plain functions as the single-article command.

    load_page(item)  → Page      (inline JSONL content, a fetched URL or a file)
    extract_page     → Article   (takeaways.extract)
    generate(...)    → Digest    (api.agenerate / api.generate: engine, verification, fill)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..config import Settings
from ..models import Page
from .work import WorkItem

if TYPE_CHECKING:
    import httpx2


def load_page(item: WorkItem, settings: Settings | None = None, client: httpx2.Client | None = None) -> Page:
    """WorkItem → Page: inline JSONL content, a fetched URL or a file."""
    from .. import sources

    settings = settings or item.options
    if item.text is not None:
        return Page(source=item.source, url=item.url, content=item.text.encode("utf-8"), content_type="text")
    if item.html is not None:
        return Page(source=item.source, url=item.url, content=item.html.encode("utf-8"), content_type="html",
                    encoding="utf-8")
    if item.url is not None:
        return sources.fetch(item.url, settings, client, trusted=item.trusted)
    return sources.load(item.path or item.source, settings)


def is_transient(exc: BaseException) -> bool:
    return bool(getattr(exc, "transient", False))
