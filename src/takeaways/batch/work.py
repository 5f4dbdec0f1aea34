"""The values that cross the executor seam: a work item goes in, an outcome comes out.

Both are plain frozen dataclasses of picklable values (str, bool, the frozen `Settings`, pydantic
models), so they can cross a process, a Ray object store or a network boundary unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Final, Literal

from ..config import Settings
from ..inputs import Item
from ..models import Article, Digest, Usage

Status = Literal["done", "skipped", "failed"]
DONE: Final = "done"
SKIPPED: Final = "skipped"
FAILED: Final = "failed"


@dataclass(frozen=True)
class WorkItem:
    """One article to process.

    `key` identifies it across runs (the journal's primary key); `source` is what the user gave
    (a URL, a path, "list.txt:3 (text)"). `url`/`path` say where to load it from, `html`/`text`
    carry inline content, `error` says the input itself could not be read. `trusted` is False for
    items that came from a fetched document (a remote sitemap, feed or list) rather than from the
    user's own arguments and files. `options` are the settings to load, extract and generate with.
    """

    key: str
    source: str
    options: Settings
    url: str | None = None
    path: str | None = None
    html: str | None = None
    text: str | None = None
    error: str | None = None
    trusted: bool = True

    @classmethod
    def of(cls, item: Item, options: Settings) -> WorkItem:
        return cls(key=item.key, source=item.source, options=options, url=item.url, path=item.path,
                   html=item.html, text=item.text, error=item.error, trusted=getattr(item, "trusted", True))

    def input(self) -> Item:
        """Back to the input record (what `sources`/`inputs` know how to load)."""
        return Item(key=self.key, source=self.source, url=self.url, path=self.path, html=self.html, text=self.text,
                    error=self.error, trusted=self.trusted)


@dataclass(frozen=True)
class Outcome:
    """How one item finished: done (with a digest), skipped (not an article, duplicate) or failed.

    `error` is the full message, `reason` a short groupable one (the report groups by it).
    `usage` is what the item cost, failed attempts included. `article` is the extracted article
    (the journal keys the result cache by its text). `worker` names who did the work (a host:pid,
    a Ray node, a provider batch id) for the record.
    """

    key: str
    status: Status
    digest: Digest | None = None
    article: Article | None = None
    error: str | None = None
    reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    content_hash: str | None = None
    cached: bool = False
    attempts: int = 0
    worker: str | None = None

    def with_(self, **changes: Any) -> Outcome:
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict (for an executor whose boundary only carries JSON)."""
        return {"key": self.key, "status": self.status,
                "digest": self.digest.model_dump(mode="json") if self.digest is not None else None,
                "article": self.article.model_dump(mode="json") if self.article is not None else None,
                "error": self.error, "reason": self.reason, "usage": self.usage.model_dump(mode="json"),
                "content_hash": self.content_hash, "cached": self.cached, "attempts": self.attempts,
                "worker": self.worker}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Outcome:
        return cls(key=data["key"], status=data["status"],
                   digest=Digest.model_validate(data["digest"]) if data.get("digest") is not None else None,
                   article=Article.model_validate(data["article"]) if data.get("article") is not None else None,
                   error=data.get("error"), reason=data.get("reason"),
                   usage=Usage.model_validate(data.get("usage") or {}), content_hash=data.get("content_hash"),
                   cached=bool(data.get("cached")), attempts=int(data.get("attempts") or 0), worker=data.get("worker"))


def reason_of(exc: BaseException, source: str) -> str:
    """A short, groupable reason: the message without the source and the how-to-fix hint, numbers blurred."""
    import re

    msg = str(exc)
    for prefix in (f"{source}: ", f"{source} "):
        if msg.startswith(prefix):
            msg = msg[len(prefix):]
    msg = re.sub(r"^https?://\S+?(:\s|\s)", "", msg).split(";")[0].strip()
    # numbers blurred, except an HTTP status ("HTTP 503", "failed with 500", "(429: …")
    msg = re.sub(r"(?<!HTTP )(?<!with )(?<!\()\b\d+(\.\d+)?\b", "N", msg)
    return f"{type(exc).__name__}: {msg}"[:200]


def failed(item: WorkItem, exc: BaseException, *, attempts: int = 0, worker: str | None = None) -> Outcome:
    """The outcome of an item that raised: skipped for 'not an article', failed otherwise (with what it cost)."""
    from ..errors import ExtractionError, TakeawaysError, scrub

    usage = getattr(exc, "usage", None) or Usage()
    if isinstance(exc, ExtractionError):
        return Outcome(item.key, SKIPPED, error=str(exc), reason=reason_of(exc, item.source), usage=usage,
                       attempts=attempts, worker=worker)
    if isinstance(exc, TakeawaysError):
        return Outcome(item.key, FAILED, error=str(exc), reason=reason_of(exc, item.source), usage=usage,
                       attempts=attempts, worker=worker)
    # Not one of ours, so not scrubbed when it was made: a library's message may quote a header or a URL with the key.
    return Outcome(item.key, FAILED, error=scrub(f"unexpected {type(exc).__name__}: {exc} (a bug; please report it)"),
                   reason=f"unexpected {type(exc).__name__}", usage=usage, attempts=attempts, worker=worker)
