"""The journal: the only code that writes a batch's state — state.db, results.jsonl, the per-article
files and the user-wide result cache. It never talks to the network.

    journal.pending(items)      record this run's inputs (de-duplicated by key), yield the pending ones
    journal.lookup(item, art)   before an LLM call: a duplicate of another item's text, or a cache hit?
    journal.commit(item, out)   record one outcome, exactly once (a second outcome for a key is ignored)

Per committed item, in this order: output files (atomic), one line appended to results.jsonl,
then one state-db transaction that marks the item finished *and* records the new committed
length of results.jsonl. Opening the journal truncates results.jsonl to that length, so a
`kill -9` at any moment neither loses a finished item nor duplicates one.

Thread-safe: every method holds one lock (an executor may call `lookup` from another thread).
"""

from __future__ import annotations

import gzip
import json
import os
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from ..config import Settings
from ..errors import TakeawaysError
from ..fsutil import atomic_write
from ..inputs import Item
from ..models import Article, Digest, Usage
from .keys import cache_key, content_hash, output_stem, prompt_hash
from .options import RESULTS, STATE_DIR, BatchOptions
from .state import PENDING, ResultCache, State, read_statuses
from .work import DONE, FAILED, SKIPPED, Outcome, WorkItem

__all__ = ["DONE", "FAILED", "PENDING", "SKIPPED", "Journal", "read_statuses"]


class Journal:
    """One batch output directory, held under an exclusive lock from `open()` to `close()`."""

    def __init__(self, options: BatchOptions, settings: Settings, *, use_cache: bool) -> None:
        self.opts = options
        self.settings = settings
        self.out = options.out
        self._lock = threading.RLock()
        self.out.mkdir(parents=True, exist_ok=True)
        self._dirlock = _lock(self.out / STATE_DIR / "lock")
        try:
            for stale in self.out.glob(".*.tmp"):  # temp files of writes a killed run never renamed
                stale.unlink(missing_ok=True)
            self.state = State(self.out / STATE_DIR / "state.db")
            self.cache = ResultCache(options.resolved_cache_dir() / "results.db") if use_cache else None
        except BaseException:
            self._dirlock.close()
            raise
        self.prompts = prompt_hash(settings.template_dir)
        self.total = 0  # items this run lists
        self.duplicates = 0  # inputs dropped as the same key as an earlier one
        self.finished_now = 0
        self.tokens = 0
        self.cost = 0.0
        self.counts: dict[str, int] = {}
        self._results: IO[bytes] | None = None
        self._closing = False

    def close(self) -> None:
        self._closing = True  # an input expansion still running in another thread stops at its next item
        with self._lock:
            if self._results is not None:
                self._results.close()
            if self.cache is not None:
                self.cache.close()
            self.state.close()
            self._dirlock.close()

    # -- inputs -----------------------------------------------------------------------------
    def pending(self, items: Iterable[Item]) -> Iterator[WorkItem]:
        """Record this run's inputs as they come (a key listed twice counts once) and yield the ones
        still to do, in input order, while the rest are still being expanded: the first item can be
        fetched (and sent to the LLM) before a big sitemap is read to its end.

        Items are recorded in short transactions (at most ~20 ms or 256 items), each committed
        before its pending items are yielded, so commits can run in between.
        """
        self._open()
        source = iter(items)
        exhausted = False
        yielded = False
        while not exhausted and not self._closing:
            batch: list[Item] = []
            with self._lock:
                started = time.monotonic()
                try:
                    for item in source:
                        if self._closing or (self.opts.limit is not None and self.total >= self.opts.limit):
                            exhausted = True
                            break
                        status = self.state.add(item, retry_failed=self.opts.retry_failed)
                        if status is None:
                            self.duplicates += 1
                            continue
                        self.total += 1
                        self.counts[status] = self.counts.get(status, 0) + 1
                        if status == PENDING:
                            batch.append(item)
                        elapsed = time.monotonic() - started
                        if (batch and (not yielded or len(batch) >= 256 or elapsed > 0.02)) or elapsed > 0.2:
                            break  # the very first pending item goes out at once
                    else:
                        exhausted = True
                finally:
                    self.state.flush()
            for item in batch:
                yielded = True
                yield WorkItem.of(item, self.settings)

    def add(self, items: Iterable[Item]) -> None:
        """Record this run's inputs without yielding them (see `pending`)."""
        for _ in self.pending(items):
            pass

    def _open(self) -> None:
        with self._lock:
            if self._results is None:
                self._repair_results()
                self.counts = {PENDING: 0, DONE: 0, FAILED: 0, SKIPPED: 0}
                self._results = open(self.out / RESULTS, "ab")  # noqa: SIM115 - closed in close()

    def _repair_results(self) -> None:
        """Cut results.jsonl back to its committed length (drops a torn or uncommitted tail)."""
        path = self.out / RESULTS
        committed = self.state.results_size
        size = path.stat().st_size if path.exists() else 0
        if size > committed:
            os.truncate(path, committed)
        elif size < committed:  # someone shortened it: keep what is there, up to its last full line
            data = path.read_bytes() if path.exists() else b""
            keep = data.rfind(b"\n") + 1
            if path.exists():
                os.truncate(path, keep)
            self.state.set_meta("results_size", str(keep))

    # -- the gate before an LLM call --------------------------------------------------------
    def lookup(self, item: WorkItem, article: Article) -> Outcome | None:
        """The outcome an item gets without an LLM call, or None when it needs one.

        Skipped when another live item has the same text (the first to ask claims it); done from
        the result cache when the same text was summarised with the same settings before.
        """
        chash = content_hash(article)
        with self._lock:
            if (other := self.state.claim_content(item.key, chash)) is not None:
                return Outcome(item.key, SKIPPED, error=f"same text as {other}", reason="duplicate content",
                               content_hash=chash)
            if self.cache is not None and (hit := self.cache.get(cache_key(article, item.options, self.prompts))):
                cached = Digest.model_validate_json(hit).model_copy(update={"article": article.meta, "usage": Usage()})
                return Outcome(item.key, DONE, digest=cached, article=article, content_hash=chash, cached=True)
        return None

    # -- commit -----------------------------------------------------------------------------
    def commit(self, item: WorkItem, outcome: Outcome) -> bool:
        """Record `outcome` (files, results line, state). False (and nothing written) when the key
        is not pending in this run: already committed, or not this run's item."""
        if self._results is None:
            raise RuntimeError("Journal.commit before Journal.pending")
        with self._lock:
            if outcome.key != item.key or self.state.status(item.key) != PENDING:
                return False
            digest = outcome.digest if outcome.status == DONE else None
            if outcome.status == DONE and digest is None:
                raise ValueError(f"{item.source}: a done outcome needs a digest")
            if outcome.content_hash is None and outcome.article is not None:
                outcome = outcome.with_(content_hash=content_hash(outcome.article))
            files: list[str] = []
            if digest is not None:
                from ..rendering import EXTENSIONS, render  # not api.render: that would import the extraction stack

                stem = output_stem(item.key, item.url, item.path, item.text or item.html)
                for fmt in self.opts.formats:
                    atomic_write(self.out / f"{stem}.{EXTENSIONS[fmt]}", render(digest, fmt, item.options.template_dir),
                                 durable=False)  # one fsync per file stalled the run on a busy disk
                    files.append(f"{stem}.{EXTENSIONS[fmt]}")
                if outcome.article is not None:  # kept so that a review never fetches the page again
                    article_file = f"{ARTICLES_DIR}/{stem}.json.gz"
                    atomic_write(self.out / article_file, article_bytes(outcome.article), durable=False)
                if self.cache is not None and not outcome.cached and outcome.article is not None:
                    self.cache.put(cache_key(outcome.article, item.options, self.prompts), digest.model_dump_json())
            record: dict[str, Any] = {"source": item.source, "key": item.key, "status": outcome.status}
            if digest is not None:
                record.update(files=files, cached=outcome.cached, digest=digest.model_dump(mode="json"))
                if outcome.article is not None:
                    record["article"] = article_file
            else:
                record.update(error=outcome.error, reason=outcome.reason)
            record["usage"] = outcome.usage.model_dump(mode="json")
            if outcome.worker is not None:
                record["worker"] = outcome.worker
            line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
            fd = self._results.fileno()
            offset = self.state.results_size
            view = memoryview(line)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            self.state.finish(item.key, outcome, offset + len(line))
            self.counts[PENDING] -= 1
            self.counts[outcome.status] += 1
            self.finished_now += 1
            self.tokens += outcome.usage.total_tokens
            self.cost += outcome.usage.cost_usd
            return True


ARTICLES_DIR = f"{STATE_DIR}/articles"


def article_bytes(article: Article) -> bytes:
    """The extracted article (metadata and blocks; its text follows from them), gzipped JSON."""
    return gzip.compress(article.model_dump_json(exclude={"text"}).encode("utf-8"), mtime=0)


def read_article(out: Path, name: str) -> Article:
    """The article a results.jsonl record names (its `article` field), as the journal kept it."""
    return Article.model_validate_json(gzip.decompress((out / name).read_bytes()))


def _lock(path: Path) -> Any:
    """Hold an exclusive lock on the output dir for the whole run (released by the OS if we die)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fh = path.open("a")
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no lock
        return fh
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        fh.close()
        raise TakeawaysError(f"another batch run is using {path.parent.parent}; wait for it or use another --out") from exc
    return fh
