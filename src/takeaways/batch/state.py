"""SQLite: the batch state db (one per output dir) and the result cache (one per user). The only SQL.

Only `journal.py` uses this module: it is the journal's storage, not an API of its own.

State: one row per work item (status pending|done|failed|skipped, attempts, error, content hash,
usage) and a `meta` table. `results_size` in `meta` is the committed length of results.jsonl:
a line appended to results.jsonl counts only once the same transaction that marks its item
finished has committed, so after a crash the runner truncates the file back to that length and
nothing is lost or duplicated.
"""

from __future__ import annotations

import json
import sqlite3
import time
import zlib
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..inputs import Item
from .work import DONE, FAILED, SKIPPED, Outcome

PENDING = "pending"
__all__ = ["DONE", "FAILED", "PENDING", "SKIPPED", "ResultCache", "State", "read_statuses"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    key TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    payload BLOB NOT NULL,
    run INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    reason TEXT,
    content_hash TEXT,
    finished_run INTEGER,
    cached INTEGER NOT NULL DEFAULT 0,
    requests INTEGER NOT NULL DEFAULT 0,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL NOT NULL DEFAULT 0,
    updated REAL
);
CREATE INDEX IF NOT EXISTS items_run_status ON items(run, status);
CREATE INDEX IF NOT EXISTS items_content ON items(content_hash);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS reviews (key TEXT PRIMARY KEY, decision TEXT, items TEXT NOT NULL, reviewed REAL);
"""


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    # The journal serialises every use with its own lock; an executor's gate may call it from another thread.
    conn = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a killed process loses no committed txn
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


class State:
    """The batch state db at DIR/.takeaways/state.db. Not thread-safe: use it from one thread."""

    def __init__(self, path: Path, *, new_run: bool = True) -> None:
        """`new_run=False` (review, apply-review): open the db of the last run without starting one."""
        self.path = path
        self.conn = _connect(path)
        self.conn.executescript(_SCHEMA)
        self.run = int(self.get_meta("runs", "0")) + (1 if new_run else 0)
        if new_run:
            self.set_meta("runs", str(self.run))
        self._pending_inserts = 0

    def close(self) -> None:
        self.conn.close()

    # meta -----------------------------------------------------------------
    def get_meta(self, name: str, default: str) -> str:
        row = self.conn.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return row[0] if row else default

    def set_meta(self, name: str, value: str) -> None:
        self.conn.execute("INSERT INTO meta(name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                          (name, value))

    @property
    def results_size(self) -> int:
        return int(self.get_meta("results_size", "0"))

    # enqueue --------------------------------------------------------------
    def add(self, item: Item, *, retry_failed: bool = False) -> str | None:
        """Record `item` as part of this run; its status (pending for a new one, or what an earlier
        run left: done, failed, skipped; failed becomes pending with `retry_failed`). None when this
        run already listed it (a duplicate input)."""
        if not self.conn.in_transaction:  # a duplicate adds nothing but may be the first of a transaction
            self.conn.execute("BEGIN")
        row = self.conn.execute("SELECT run, status FROM items WHERE key = ?", (item.key,)).fetchone()
        if row is not None and row[0] == self.run:
            return None
        status: str = PENDING
        if row is None:
            payload = zlib.compress(json.dumps(asdict(item)).encode())
            self.conn.execute("INSERT INTO items(key, source, payload, run) VALUES (?, ?, ?, ?)",
                              (item.key, item.source, payload, self.run))
        elif retry_failed and row[1] == FAILED:
            self.conn.execute("UPDATE items SET run = ?, status = 'pending', error = NULL, reason = NULL WHERE key = ?",
                              (self.run, item.key))
        else:
            status = str(row[1])
            self.conn.execute("UPDATE items SET run = ? WHERE key = ?", (self.run, item.key))
        self._pending_inserts += 1
        if self._pending_inserts >= 500:
            self.flush()
        return status

    def flush(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("COMMIT")
        self._pending_inserts = 0

    def pending(self, page: int = 256) -> Iterator[tuple[Item, int]]:
        """This run's pending items in input order, as (item, attempts so far), read page by page."""
        last = 0
        while True:
            rows = self.conn.execute(
                "SELECT rowid, payload, attempts FROM items WHERE run = ? AND status = 'pending' AND rowid > ? "
                "ORDER BY rowid LIMIT ?", (self.run, last, page)).fetchall()
            if not rows:
                return
            for rowid, payload, attempts in rows:
                last = rowid
                yield Item(**json.loads(zlib.decompress(payload))), attempts

    # per item -------------------------------------------------------------
    def claim_content(self, key: str, content_hash: str) -> str | None:
        """Record the item's content hash; return the source of another live item with the same content."""
        row = self.conn.execute(
            "SELECT source FROM items WHERE content_hash = ? AND key != ? AND status IN ('pending', 'done') LIMIT 1",
            (content_hash, key)).fetchone()
        if row:
            return str(row[0])
        self.conn.execute("UPDATE items SET content_hash = ? WHERE key = ?", (content_hash, key))
        return None

    def status(self, key: str) -> str | None:
        """This run's status of `key`; None when this run does not list it."""
        row = self.conn.execute("SELECT status FROM items WHERE key = ? AND run = ?", (key, self.run)).fetchone()
        return str(row[0]) if row else None

    def finish(self, key: str, outcome: Outcome, results_size: int) -> None:
        """Record the outcome and the new committed length of results.jsonl in one transaction."""
        u = outcome.usage
        with self.conn:
            self.conn.execute("BEGIN")
            self.conn.execute(
                "UPDATE items SET status = ?, error = ?, reason = ?, content_hash = COALESCE(?, content_hash), "
                "finished_run = ?, cached = ?, requests = ?, prompt_tokens = ?, completion_tokens = ?, cost_usd = ?, "
                "attempts = attempts + ?, updated = ? WHERE key = ?",
                (outcome.status, outcome.error, outcome.reason, outcome.content_hash, self.run, int(outcome.cached),
                 u.requests, u.prompt_tokens, u.completion_tokens, u.cost_usd, outcome.attempts, time.time(), key))
            self.set_meta("results_size", str(results_size))

    # review (apply-review) ------------------------------------------------
    def record_reviews(self, reviews: list[tuple[str, str | None, dict[str, str]]], results_size: int) -> None:
        """Record review decisions (key, article decision, item decisions) and the new committed
        length of results.jsonl (the lines apply-review appended) in one transaction."""
        with self.conn:
            self.conn.execute("BEGIN")
            self.conn.executemany(
                "INSERT INTO reviews(key, decision, items, reviewed) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE "
                "SET decision = excluded.decision, items = excluded.items, reviewed = excluded.reviewed",
                [(key, decision, json.dumps(items, sort_keys=True), time.time()) for key, decision, items in reviews])
            self.set_meta("results_size", str(results_size))

    def reviews(self) -> dict[str, tuple[str | None, dict[str, str]]]:
        """key → (article decision, item decisions) of every reviewed item."""
        return {key: (decision, json.loads(items))
                for key, decision, items in self.conn.execute("SELECT key, decision, items FROM reviews ORDER BY key")}

    # report ---------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        rows = self.conn.execute("SELECT status, COUNT(*) FROM items WHERE run = ? GROUP BY status", (self.run,))
        counts = {PENDING: 0, DONE: 0, FAILED: 0, SKIPPED: 0}
        counts.update({s: n for s, n in rows})
        return counts

    def totals(self) -> dict[str, Any]:
        """Usage of the items finished in this run, and how many came from the cache."""
        row = self.conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(cached), 0), COALESCE(SUM(requests), 0), COALESCE(SUM(prompt_tokens), 0), "
            "COALESCE(SUM(completion_tokens), 0), COALESCE(SUM(cost_usd), 0) FROM items WHERE finished_run = ? AND run = ?",
            (self.run, self.run)).fetchone()
        return {"finished": row[0], "cached": row[1], "requests": row[2], "prompt_tokens": row[3],
                "completion_tokens": row[4], "cost_usd": round(row[5], 6)}

    def reasons(self, status: str, examples: int = 3) -> list[dict[str, Any]]:
        """This run's failed (or skipped) items grouped by reason, most frequent first, with a few sources."""
        groups = self.conn.execute(
            "SELECT reason, COUNT(*) AS n FROM items WHERE run = ? AND status = ? GROUP BY reason ORDER BY n DESC, reason",
            (self.run, status)).fetchall()
        out = []
        for reason, n in groups:
            srcs = [r[0] for r in self.conn.execute(
                "SELECT source FROM items WHERE run = ? AND status = ? AND reason IS ? ORDER BY rowid LIMIT ?",
                (self.run, status, reason, examples))]
            out.append({"reason": reason, "count": n, "examples": srcs})
        return out


def read_statuses(path: Path) -> dict[str, str]:
    """key → status of an existing state db, read-only (for --dry-run); empty when there is none."""
    if not path.exists():
        return {}
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return dict(conn.execute("SELECT key, status FROM items").fetchall())
    finally:
        conn.close()


class ResultCache:
    """Digest JSON keyed by a hash of article text + engine + model + prompts + options; shared across runs."""

    def __init__(self, path: Path) -> None:
        self.conn = _connect(path)
        self.conn.execute("CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, digest TEXT NOT NULL, created REAL)")

    def get(self, key: str) -> str | None:
        row = self.conn.execute("SELECT digest FROM results WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def put(self, key: str, digest_json: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO results(key, digest, created) VALUES (?, ?, ?)",
                          (key, digest_json, time.time()))

    def close(self) -> None:
        self.conn.close()
