"""The provider Batch API as a step machine: request files out, answers in, nothing paid twice.

One `Submission` per output directory keeps its state in `DIR/batchapi.db` (SQLite, one
transaction per recorded step) and its files in `DIR/batchapi/`. Work is done in *parts*: one
request file and one job each. A part moves through these steps, each recorded before the
action (→ …ing) and after it, with what the provider answered:

    planned ─► written ─► uploading ─► uploaded (file id) ─► creating ─► created (batch id)
        ─► ended (status, output/error file ids, polled) ─► downloaded ─► collected

Resuming after a kill at any point:

- `planned` (file not fully written): the part is dropped and its requests planned again;
  nothing was sent.
- `uploading` (killed between upload and recording it): the upload is looked up by its file
  name (`files.list(purpose="batch")`, names are unique per run and part) before uploading again.
- `creating` (killed between creating the job and recording it): the job is looked up by its
  metadata `{"takeaways_run": RUN, "takeaways_part": PART}` (`batches.list`) before creating
  another, so no request is submitted, or paid, twice.
- later steps are repeated (retrieve, download, collect are free and idempotent; collecting is
  one transaction).

Conversations are replayed (`engines.batchfile.replay`): the db holds every answer an item got
so far, and the next request is rebuilt from them, so the answer history is the only state an
item has. A finished conversation gives an unverified Digest; the caller verifies, fills,
renders and commits it exactly as a live answer. What did not come back (error-file lines
with 5xx/429/408/409, lines of a job that `expired`, was `cancelled` or `failed`, lines missing
from an output) is sent again in a later part; so is a re-ask after invalid JSON and a retry
after `finish_reason: length` (a follow-up, from the conversation). Each of those spends one of
the item's `max_retries` rounds; an item with none left fails with the reason.

custom_id: the item's key (its content key) for its first request; its n-th further request
(a follow-up, a chunk or a resend) is `KEY~n`, so no custom_id is ever submitted twice and
every result line maps back to exactly one request. A long article's chunks go in the same round
(`KEY`, `KEY~1`, ... in one part): the item is in flight until every one of them has come back;
each request records its tag (`Request.tag`, e.g. "chunk 2/3"), and its answer is stored under
it, so a resend or a re-ask is only for the chunk that needs it. Several lost chunks of one job
spend one of the item's rounds.

Test hook: `TAKEAWAYS_BATCHAPI_CRASH=POINT` raises `Crash` (or, with `POINT:kill`, the process
SIGKILLs itself) at one of `CRASH_POINTS`, so tests can stop a run at every step.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import time
import uuid
import zlib
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import openai

from .. import pricing
from ..client import make_client
from ..config import Settings
from ..engines import batchfile
from ..engines.batchfile import Answer, Ask
from ..errors import LLMError, TakeawaysError
from ..fsutil import atomic_write
from ..models import Article, Digest, Spec, Usage

T = TypeVar("T")
CRASH_ENV = "TAKEAWAYS_BATCHAPI_CRASH"
CRASH_POINTS = ("planned", "written", "uploaded-unrecorded", "uploaded", "created-unrecorded", "created",
                "polled", "downloaded", "collected")
ENDED = ("completed", "expired", "cancelled", "failed")
STEPS = ("planned", "written", "uploading", "uploaded", "creating", "created", "ended", "downloaded", "collected")
LOOKBACK_S = 600.0  # how far before a recorded 'uploading'/'creating' step a lookup scans (clock skew)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS parts (
    part TEXT PRIMARY KEY,
    round INTEGER NOT NULL,
    step TEXT NOT NULL,
    filename TEXT NOT NULL,
    requests INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER NOT NULL DEFAULT 0,
    file_id TEXT,
    batch_id TEXT,
    status TEXT,
    counts TEXT,
    output_file_id TEXT,
    error_file_id TEXT,
    error TEXT,
    step_at REAL NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS requests (
    custom_id TEXT PRIMARY KEY,
    key TEXT NOT NULL,
    part TEXT NOT NULL,
    followup INTEGER NOT NULL DEFAULT 0,
    outcome TEXT,
    tag TEXT
);
CREATE INDEX IF NOT EXISTS requests_part ON requests(part);
CREATE INDEX IF NOT EXISTS requests_key ON requests(key);
CREATE TABLE IF NOT EXISTS convs (
    key TEXT PRIMARY KEY,
    article BLOB NOT NULL,
    inflight TEXT,
    retries INTEGER NOT NULL DEFAULT 0,
    failed TEXT,
    reason TEXT
);
CREATE TABLE IF NOT EXISTS links (
    item TEXT PRIMARY KEY,
    key TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS answers (
    key TEXT NOT NULL,
    idx INTEGER NOT NULL,
    answer TEXT NOT NULL,
    PRIMARY KEY (key, idx)
);
"""


class Crash(BaseException):
    """Raised at a crash point (TAKEAWAYS_BATCHAPI_CRASH): the run stops as if killed there."""


def checkpoint(point: str) -> None:
    want = os.environ.get(CRASH_ENV)
    if not want:
        return
    name, _, how = want.partition(":")
    if name == point:
        if how == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        raise Crash(point)


@dataclass
class Finished:
    """One item whose conversation is over: an unverified Digest, or the error it failed with."""

    key: str
    digest: Digest | None = None
    error: TakeawaysError | None = None
    usage: Usage = field(default_factory=Usage)


@dataclass(frozen=True)
class JobInfo:
    part: str
    round: int
    step: str
    requests: int
    file_id: str | None
    batch_id: str | None
    status: str | None
    counts: dict[str, int]
    created: float
    error: str | None


def custom_id(key: str, n: int) -> str:
    """The custom_id of an item's request number `n` (0 = the first)."""
    return key if n == 0 else f"{key}~{n}"


def history_usage(answers: Sequence[Answer], settings: Settings) -> Usage:
    """What the answers cost at the batch price (error lines are not billed)."""
    total = Usage()
    for a in answers:
        if a.completion is None:
            continue
        u = a.completion.get("usage") or {}
        pt, ct = int(u.get("prompt_tokens") or 0), int(u.get("completion_tokens") or 0)
        total = total.add(Usage(requests=1, prompt_tokens=pt, completion_tokens=ct,
                                cost_usd=pricing.cost(settings.model, pt, ct, settings.price_file, batch=True)))
    return total


class Submission:
    """The Batch API state of one output directory. Use from one thread; one process at a time
    (the batch runner holds the directory lock)."""

    def __init__(self, state_dir: Path, settings: Settings, spec: Spec, *, client: openai.OpenAI | None = None,
                 max_requests: int = batchfile.MAX_REQUESTS, max_bytes: int = batchfile.MAX_BYTES,
                 max_retries: int | None = None, max_cost: float | None = None,
                 endpoint: str = batchfile.ENDPOINT) -> None:
        self.dir = state_dir
        self.endpoint = endpoint  # each line's url and the job's endpoint
        self.max_cost = max_cost  # USD this Submission may commit to in new requests (at most, batch price)
        self.committed = 0.0
        self.budget_reached = False
        self.files_dir = state_dir / "batchapi"
        self.settings = settings
        self.spec = spec
        self._client = client
        self.max_requests = max_requests
        self.max_bytes = max_bytes
        self.max_retries = settings.max_retries if max_retries is None else max_retries
        self.problems: list[str] = []  # result lines that matched no request, malformed lines
        self._emitted: set[str] = set()
        state_dir.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(state_dir / "batchapi.db", isolation_level=None, timeout=30)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(_SCHEMA)
        if "tag" not in {r[1] for r in self.conn.execute("PRAGMA table_info(requests)")}:  # a state from before tags
            self.conn.execute("ALTER TABLE requests ADD COLUMN tag TEXT")
        run = self._meta("run")
        if run is None:
            run = uuid.uuid4().hex[:12]
            self.conn.execute("INSERT INTO meta(name, value) VALUES ('run', ?)", (run,))
        self.run_id = run

    # ------------------------------------------------------------ plumbing

    @property
    def client(self) -> openai.OpenAI:
        if self._client is None:
            self._client = make_client(self.settings)
        return self._client

    def close(self) -> None:
        self.conn.close()

    def _content(self, file_id: str) -> bytes:
        return self.client.files.content(file_id).content

    def _retrying(self, fn: Callable[[], T]) -> T:
        """An idempotent API call (upload, retrieve, download) under the one retry policy; a
        create is never retried blindly (see `_create`)."""
        from .. import retry

        return retry.call(fn, self.settings)

    def _meta(self, name: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    @contextmanager
    def _txn(self) -> Iterator[sqlite3.Connection]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def _set(self, part: str, step: str, **cols: Any) -> None:
        """Record a step of a part (one transaction)."""
        names = ", ".join(f"{k} = ?" for k in cols)
        with self._txn() as c:
            c.execute(f"UPDATE parts SET step = ?, step_at = ?{', ' + names if cols else ''} WHERE part = ?",
                      (step, time.time(), *cols.values(), part))

    def _path(self, filename: str) -> Path:
        return self.files_dir / filename

    # ------------------------------------------------------------ the public steps

    def add(self, articles: Iterable[tuple[str, Article]]) -> None:
        """Record items (key, article) to summarise. The article is kept, so a later run rebuilds
        every request from exactly what was sent, without loading the source again."""
        with self._txn() as c:
            for key, article in articles:
                if c.execute("SELECT 1 FROM convs WHERE key = ?", (key,)).fetchone() is None:
                    c.execute("INSERT INTO convs(key, article) VALUES (?, ?)",
                              (key, zlib.compress(article.model_dump_json().encode())))

    def known(self, key: str) -> bool:
        return self.conn.execute("SELECT 1 FROM convs WHERE key = ?", (key,)).fetchone() is not None

    def link(self, item: str, key: str) -> None:
        """Remember that input `item` (a journal key) is conversation `key`, so a later run need
        not load and extract it again."""
        self.conn.execute("INSERT OR REPLACE INTO links(item, key) VALUES (?, ?)", (item, key))

    def linked(self, item: str) -> str | None:
        row = self.conn.execute("SELECT l.key FROM links l JOIN convs c ON c.key = l.key WHERE l.item = ?",
                                (item,)).fetchone()
        return None if row is None else str(row[0])

    def article(self, key: str) -> Article:
        row = self.conn.execute("SELECT article FROM convs WHERE key = ?", (key,)).fetchone()
        return Article.model_validate_json(zlib.decompress(row[0]))

    def step(self, keys: Collection[str], *, submit: bool = True) -> Iterator[Finished]:
        """One pass: finish interrupted steps, poll every job once and collect the ended ones,
        then go through the items `keys` (added before) that have nothing in flight: yield those
        whose conversation is over (each key once per Submission), and send the next request of
        the others in new parts (unless `submit` is False)."""
        self._follow_endpoint()
        for part, step in self.conn.execute(
                "SELECT part, step FROM parts WHERE step NOT IN ('collected', 'exported') ORDER BY part").fetchall():
            self._resume(part, step)
        writer = _PartWriter(self) if submit else None
        try:
            for item in self._advance(keys):
                if isinstance(item, Finished):
                    yield item
                elif writer is not None and (failure := writer.add(*item)) is not None:
                    yield failure
            if writer is not None:
                writer.close()
        finally:
            if writer is not None:
                writer.abort()

    def retry_failed(self, keys: Collection[str]) -> int:
        """Start the failed conversations among `keys` afresh (--retry-failed)."""
        with self._txn() as c:
            failed = [k for k in keys if k not in self._emitted and
                      (row := c.execute("SELECT failed FROM convs WHERE key = ?", (k,)).fetchone()) is not None
                      and row[0] is not None]
            c.executemany("DELETE FROM answers WHERE key = ?", [(k,) for k in failed])
            c.executemany("UPDATE convs SET failed = NULL, reason = NULL, retries = 0 WHERE key = ?",
                          [(k,) for k in failed])
        return len(failed)

    def open_keys(self, keys: Iterable[str]) -> list[str]:
        """Of `keys`, those whose conversation has not ended in this Submission."""
        return [k for k in keys if k not in self._emitted]

    def waiting(self, keys: Iterable[str]) -> int:
        """Of `keys`, how many have a request out (in a job or an export)."""
        return sum(1 for k in keys if (row := self.conn.execute("SELECT inflight FROM convs WHERE key = ?", (k,))
                                       .fetchone()) is not None and row[0] is not None)

    def _afford(self, ask: Ask) -> bool:
        """Reserve the request's most it can cost (prompt + max_tokens at the batch price) under --max-cost."""
        if self.max_cost is None:
            return True
        from ..engines.llm import messages_tokens

        mode = "json_schema" if ask.body.get("response_format") else None
        pt = messages_tokens(ask.body["messages"], self.settings.model, mode)
        most = pricing.cost(self.settings.model, pt, ask.max_tokens, self.settings.price_file, batch=True)
        if self.committed + most > self.max_cost:
            self.budget_reached = True
            return False
        self.committed += most
        return True

    def in_flight(self) -> int:
        """Requests sent and not yet collected."""
        return int(self.conn.execute("SELECT COUNT(*) FROM convs WHERE inflight IS NOT NULL").fetchone()[0])

    def jobs(self) -> list[JobInfo]:
        rows = self.conn.execute("SELECT part, round, step, requests, file_id, batch_id, status, counts, created, error "
                                 "FROM parts ORDER BY part").fetchall()
        return [JobInfo(r[0], r[1], r[2], r[3], r[4], r[5], r[6], json.loads(r[7]) if r[7] else {}, r[8], r[9])
                for r in rows]

    def refresh(self) -> list[JobInfo]:
        """The recorded jobs, those not ended as the provider sees them now (read only: a run
        may be going on; it records what it polls itself)."""
        jobs = []
        for j in self.jobs():
            if j.step == "created" and j.batch_id is not None:
                try:
                    job = self._retrying(partial(self.client.batches.retrieve, j.batch_id))
                except openai.OpenAIError as exc:
                    raise _api_error(f"retrieve job {j.batch_id}", exc) from exc
                counts = job.request_counts.model_dump() if job.request_counts is not None else j.counts
                j = replace(j, status=job.status, counts=counts)
            jobs.append(j)
        return jobs

    def cancel(self) -> list[str]:
        """Ask the provider to cancel every job not collected yet; returns their batch ids. What
        they answered before the cancel is collected by the next run; the rest is sent again."""
        ids = []
        for (batch_id,) in self.conn.execute(
                "SELECT batch_id FROM parts WHERE step = 'created' AND batch_id IS NOT NULL").fetchall():
            try:
                self.client.batches.cancel(batch_id)
            except openai.OpenAIError as exc:
                raise _api_error(f"cancel {batch_id}", exc) from exc
            ids.append(str(batch_id))
        return ids

    # ------------------------------------------------------------ resuming a part

    def _resume(self, part: str, step: str) -> None:
        if step == "planned":
            self._abandon(part)
            return
        if step == "written":
            if not self._path(self._filename(part)).exists():
                self._abandon(part)
                return
            step = self._upload(part)
        if step == "uploading":
            step = self._upload(part, lookup=True)
        if step == "uploaded":
            step = self._create(part)
        if step == "creating":
            step = self._create(part, lookup=True)
        if step == "created":
            step = self._poll(part)
        if step == "ended":
            step = self._download(part)
        if step == "downloaded":
            self._collect(part)

    def _follow_endpoint(self) -> None:
        """--batch-endpoint changed since the last run (e.g. a first try at Azure with the default):
        a part written for the old one and not yet a job carries the old url in every line, so it
        is written again (nothing was sent for it; an upload is only left behind, unused)."""
        if (self._meta("endpoint") or batchfile.ENDPOINT) != self.endpoint:
            for part, step, since in self.conn.execute(
                    "SELECT part, step, step_at FROM parts WHERE step IN ('written', 'uploading', 'uploaded', "
                    "'creating')").fetchall():
                if step == "creating" and (found := self._find_job(part, float(since))) is not None:
                    self._set(part, "created", batch_id=found.id, status=found.status)
                else:
                    self._abandon(part)
        self.conn.execute("INSERT INTO meta(name, value) VALUES ('endpoint', ?) "
                          "ON CONFLICT(name) DO UPDATE SET value = excluded.value", (self.endpoint,))

    def _filename(self, part: str) -> str:
        return str(self.conn.execute("SELECT filename FROM parts WHERE part = ?", (part,)).fetchone()[0])

    def _abandon(self, part: str) -> None:
        """A part that never left this machine: forget it, its requests are planned again."""
        with self._txn() as c:
            filename = c.execute("SELECT filename FROM parts WHERE part = ?", (part,)).fetchone()[0]
            self._withdraw(c, part)
            c.execute("DELETE FROM parts WHERE part = ?", (part,))
        path = self._path(filename)
        path.with_name(f".{path.name}.part").unlink(missing_ok=True)
        if not Path(filename).is_absolute():  # an exported file is the user's
            path.unlink(missing_ok=True)

    def _withdraw(self, c: sqlite3.Connection, part: str) -> int:
        """Take back the part's unanswered requests (their items get planned again)."""
        rows = c.execute("SELECT custom_id, key, followup FROM requests WHERE part = ? AND outcome IS NULL",
                         (part,)).fetchall()
        c.execute("DELETE FROM requests WHERE part = ? AND outcome IS NULL", (part,))
        followups: dict[str, int] = {}
        for _cid, key, followup in rows:
            followups[key] = max(followups.get(key, 0), followup)
        for key, followup in followups.items():
            if followup and c.execute("SELECT 1 FROM requests WHERE key = ? AND outcome IS NULL AND followup = 1 LIMIT 1",
                                      (key,)).fetchone() is None:  # no other follow-up of its round still out
                c.execute("UPDATE convs SET retries = retries - 1 WHERE key = ?", (key,))
            self._settle(c, key)
        return len(rows)

    @staticmethod
    def _settle(c: sqlite3.Connection, key: str) -> None:
        """The item has nothing in flight once none of its requests waits for an answer."""
        if c.execute("SELECT 1 FROM requests WHERE key = ? AND outcome IS NULL LIMIT 1", (key,)).fetchone() is None:
            c.execute("UPDATE convs SET inflight = NULL WHERE key = ?", (key,))

    def _upload(self, part: str, *, lookup: bool = False) -> str:
        filename = self._filename(part)
        path = self._path(filename)
        if lookup:
            since = float(self.conn.execute("SELECT step_at FROM parts WHERE part = ?", (part,)).fetchone()[0])
            found = self._find_upload(filename, since)
            if found is not None:
                self._set(part, "uploaded", file_id=found)
                return "uploaded"
        if not path.exists():  # uploading, and the file is gone: nothing can have been created from it yet
            self._abandon(part)
            return "abandoned"
        self._set(part, "uploading")
        try:
            uploaded = self._retrying(lambda: self.client.files.create(file=(filename, path.read_bytes()), purpose="batch"))
        except openai.OpenAIError as exc:
            raise _api_error(f"upload {filename}", exc) from exc
        checkpoint("uploaded-unrecorded")
        self._set(part, "uploaded", file_id=uploaded.id)
        checkpoint("uploaded")
        return "uploaded"

    def _find_upload(self, filename: str, since: float) -> str | None:
        try:
            for f in self.client.files.list(purpose="batch", order="desc"):
                if f.filename == filename:
                    return str(f.id)
                if f.created_at < since - LOOKBACK_S:
                    break
        except openai.NotFoundError:
            return None  # the provider cannot list files: uploading again costs nothing
        except openai.OpenAIError as exc:
            raise _api_error("list files", exc) from exc
        return None

    def _metadata(self, part: str) -> dict[str, str]:
        return {"takeaways_run": self.run_id, "takeaways_part": part}

    def _create(self, part: str, *, lookup: bool = False) -> str:
        file_id, since = self.conn.execute("SELECT file_id, step_at FROM parts WHERE part = ?", (part,)).fetchone()
        if lookup:
            found = self._find_job(part, float(since))
            if found is not None:
                self._set(part, "created", batch_id=found.id, status=found.status)
                return "created"
        self._set(part, "creating")
        try:
            # Never retried blindly: a create whose answer was lost (timeout, 5xx after the fact)
            # may have made the job, and a second create would pay for every request twice.
            job = self.client.with_options(max_retries=0).batches.create(
                input_file_id=file_id, endpoint=self.endpoint,  # type: ignore[arg-type]
                completion_window="24h", metadata=self._metadata(part))
        except openai.OpenAIError as exc:
            found = self._find_job(part, float(since))
            if found is None:
                raise _api_error(f"create the job for {self._filename(part)}", exc) from exc
            job = found
        checkpoint("created-unrecorded")
        self._set(part, "created", batch_id=job.id, status=job.status)
        checkpoint("created")
        self._path(self._filename(part)).unlink(missing_ok=True)  # the provider has it now
        return "created"

    def _find_job(self, part: str, since: float) -> Any:
        want = self._metadata(part)
        try:
            for job in self.client.batches.list(limit=100):
                meta = job.metadata or {}
                if all(meta.get(k) == v for k, v in want.items()):
                    return job
                if job.created_at < since - LOOKBACK_S:
                    break
        except openai.OpenAIError as exc:
            raise _api_error(f"look for the job of part {part} (a run stopped while creating it; it is not "
                             "created again before it is known not to exist)", exc) from exc
        return None

    def _poll(self, part: str) -> str:
        batch_id = self.conn.execute("SELECT batch_id FROM parts WHERE part = ?", (part,)).fetchone()[0]
        try:
            job = self._retrying(lambda: self.client.batches.retrieve(batch_id))
        except openai.OpenAIError as exc:
            raise _api_error(f"retrieve job {batch_id}", exc) from exc
        counts = job.request_counts.model_dump() if job.request_counts is not None else {}
        if job.status not in ENDED:
            self._set(part, "created", status=job.status, counts=json.dumps(counts))
            checkpoint("polled")
            return "created"
        error = None
        if job.errors is not None and job.errors.data:
            error = "; ".join(f"{e.code}: {e.message}" for e in job.errors.data)[:500]
        self._set(part, "ended", status=job.status, counts=json.dumps(counts), output_file_id=job.output_file_id,
                  error_file_id=job.error_file_id, error=error)
        return "ended"

    def _download(self, part: str) -> str:
        out_id, err_id = self.conn.execute("SELECT output_file_id, error_file_id FROM parts WHERE part = ?",
                                           (part,)).fetchone()
        for file_id, suffix in ((out_id, "output"), (err_id, "errors")):
            if file_id:
                try:
                    data = self._retrying(partial(self._content, file_id))
                except openai.OpenAIError as exc:
                    raise _api_error(f"download {file_id}", exc) from exc
                atomic_write(self._path(f"{part}.{suffix}.jsonl"), data)
        self._set(part, "downloaded")
        checkpoint("downloaded")
        return "downloaded"

    def _collect(self, part: str) -> None:
        """The part's answers into the conversations, in one transaction."""
        status, error = self.conn.execute("SELECT status, error FROM parts WHERE part = ?", (part,)).fetchone()
        texts = [p.read_text(encoding="utf-8") for p in (self._path(f"{part}.output.jsonl"), self._path(f"{part}.errors.jsonl"))
                 if p.exists()]
        results = batchfile.parse_results(texts)
        self.problems += [f"{part}: {p}" for p in results.problems]
        missing = f"not answered: the job {status}" + (f" ({error})" if error else "")
        with self._txn() as c:
            rows = c.execute("SELECT custom_id, key FROM requests WHERE part = ?", (part,)).fetchall()
            known = {cid for cid, _ in rows}
            self.problems += [f"{part}: unknown custom_id {cid}" for cid in results.answers if cid not in known]
            lost: set[str] = set()
            for cid, key in rows:
                self._take(c, cid, key, results.answers.get(cid), missing, lost)
            c.execute("UPDATE parts SET step = 'collected', step_at = ? WHERE part = ?", (time.time(), part))
        checkpoint("collected")
        for suffix in ("output", "errors"):  # the answers are in the db now
            self._path(f"{part}.{suffix}.jsonl").unlink(missing_ok=True)

    def _take(self, c: sqlite3.Connection, cid: str, key: str, answer: Answer | None, missing: str,
              lost: set[str] | None = None) -> None:
        """One request's answer (None: it did not come back) into its conversation, under the
        request's tag. `lost`: the items that already spent a round on a lost request of this part
        (several chunks of one item lost in one job cost it one round)."""
        row = c.execute("SELECT r.tag, c.inflight FROM requests r JOIN convs c ON c.key = r.key "
                        "WHERE r.custom_id = ? AND r.outcome IS NULL", (cid,)).fetchone()
        if row is None or row[1] is None:
            return  # answered already, or started afresh (--retry-failed) since this was sent
        tag = row[0]
        if answer is None or answer.transient:
            reason = missing if answer is None else answer.reason()
            c.execute("UPDATE requests SET outcome = 'transient' WHERE custom_id = ?", (cid,))
            spent = 0 if lost is not None and key in lost else 1
            if lost is not None:
                lost.add(key)
            c.execute("UPDATE convs SET retries = retries + ?, reason = ? WHERE key = ?", (spent, reason, key))
            self._settle(c, key)
            return
        idx = c.execute("SELECT COALESCE(MAX(idx) + 1, 0) FROM answers WHERE key = ?", (key,)).fetchone()[0]
        c.execute("INSERT INTO answers(key, idx, answer) VALUES (?, ?, ?)", (key, idx, replace(answer, tag=tag).to_json()))
        c.execute("UPDATE requests SET outcome = 'answer' WHERE custom_id = ?", (cid,))
        self._settle(c, key)

    # ------------------------------------------------------------ export / import (run elsewhere, e.g. vLLM)

    def export(self, keys: Collection[str], path: Path) -> tuple[int, list[Finished]]:
        """Write the next request of every item among `keys` to `path` (one file, nothing sent).
        Requests of an earlier export that were never imported go in again (same custom_ids).
        Returns how many requests were written, and the items that finished without one."""
        with self._txn() as c:
            for (part,) in c.execute("SELECT part FROM parts WHERE step = 'exported'").fetchall():
                self._withdraw(c, part)
                c.execute("UPDATE parts SET step = 'collected' WHERE part = ?", (part,))
        writer = _PartWriter(self, export=path.resolve())
        finished: list[Finished] = []
        try:
            for item in self._advance(keys):
                if isinstance(item, Finished):
                    finished.append(item)
                else:
                    writer.add(*item)
            writer.close()
        finally:
            writer.abort()
        if not writer.parts:
            atomic_write(path, b"")
        return self._count(writer.parts), finished

    def _count(self, parts: list[str]) -> int:
        return sum(int(self.conn.execute("SELECT requests FROM parts WHERE part = ?", (p,)).fetchone()[0]) for p in parts)

    def import_results(self, path: Path) -> tuple[int, list[str]]:
        """Answers for exported requests, from a file in the Batch API output format (what `vllm
        run-batch -o` writes). Returns how many matched, and the problems (unknown or malformed
        lines); requests with no line stay exported (import another file, or export again)."""
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TakeawaysError(f"--import-results {path}: cannot read it ({exc})") from exc
        results = batchfile.parse_results([text])
        problems = [f"{path.name} {p}" for p in results.problems]
        matched = 0
        with self._txn() as c:
            exported = {r[0] for r in c.execute("SELECT part FROM parts WHERE step = 'exported'")}
            for cid, answer in results.answers.items():
                row = c.execute("SELECT key, part, outcome FROM requests WHERE custom_id = ?", (cid,)).fetchone()
                if row is None or row[1] not in exported:
                    problems.append(f"{path.name}: custom_id {cid} matches no exported request"
                                    + (" (already imported)" if row is not None and row[2] else ""))
                    continue
                if row[2] is not None:
                    problems.append(f"{path.name}: custom_id {cid} was already imported; kept the first")
                    continue
                self._take(c, cid, row[0], answer, "")
                matched += 1
            for part in exported:
                left = c.execute("SELECT COUNT(*) FROM requests WHERE part = ? AND outcome IS NULL", (part,)).fetchone()[0]
                if left == 0:
                    c.execute("UPDATE parts SET step = 'collected', step_at = ? WHERE part = ?", (time.time(), part))
        self.problems += problems
        return matched, problems

    # ------------------------------------------------------------ conversations

    def _history(self, key: str) -> list[Answer]:
        return [Answer.from_json(r[0]) for r in
                self.conn.execute("SELECT answer FROM answers WHERE key = ? ORDER BY idx", (key,))]

    def _advance(self, keys: Collection[str]) -> Iterator[Finished | tuple[str, list[Ask]]]:
        """Items with nothing in flight: finished, failed, or (key, the next requests to send: all
        the chunks of a long article at once)."""
        rows = self.conn.execute("SELECT key, retries, failed, reason FROM convs WHERE inflight IS NULL").fetchall()
        for key, retries, failed, reason in rows:
            if key not in keys or key in self._emitted:
                continue
            history = self._history(key)
            done: Finished | None = None
            if failed is not None:
                done = Finished(key, error=LLMError(failed), usage=history_usage(history, self.settings))
            elif retries > self.max_retries:
                message = f"{reason}; gave up after {retries} round(s) (--max-retries {self.max_retries})"
                self._fail(key, message)
                done = Finished(key, error=LLMError(message), usage=history_usage(history, self.settings))
            else:
                try:
                    result = batchfile.replay_all(self.article(key), self.spec, self.settings, history)
                except TakeawaysError as exc:
                    self._fail(key, str(exc))
                    done = Finished(key, error=exc, usage=getattr(exc, "usage", None) or Usage())
                else:
                    if isinstance(result, Digest):
                        done = Finished(key, digest=result, usage=result.usage)
                    elif (followup := next((a for a in result if a.followup), None)) and retries >= self.max_retries:
                        what = ("a longer retry after a cut-off answer" if _cut_off(_answer_before(history, followup))
                                else "a re-ask after invalid output")
                        message = f"needed {what}, but its {self.max_retries} retry round(s) are used (--max-retries)"
                        self._fail(key, message)
                        done = Finished(key, error=LLMError(message), usage=history_usage(history, self.settings))
                    else:
                        yield key, result
                        continue
            self._emitted.add(key)
            yield done

    def _fail(self, key: str, message: str) -> None:
        with self._txn() as c:
            c.execute("UPDATE convs SET failed = ? WHERE key = ?", (message, key))


class _PartWriter:
    """Streams requests into part files (cut at max_requests / max_bytes); each full part is
    recorded, uploaded and its job created before the next one starts. With `export`, one file
    at that path, recorded as an `exported` part and not sent."""

    def __init__(self, sub: Submission, *, export: Path | None = None) -> None:
        self.sub = sub
        self.export = export
        self.round = int(sub._meta("rounds") or "0") + 1
        self.part: str | None = None
        self.path: Path | None = None
        self.fh: BinaryIO | None = None
        self.rows: list[tuple[str, str, int, str]] = []  # custom_id, key, followup, tag
        self.charged: set[str] = set()  # items whose follow-ups already spent this round
        self.size = 0
        self.parts: list[str] = []

    def add(self, key: str, asks: Sequence[Ask]) -> Finished | None:
        """Queue an item's requests, all in this round (those over --max-cost wait for the next
        run); a Finished failure when no file could carry one of them."""
        sub = self.sub
        n = sub.conn.execute("SELECT COUNT(*) FROM requests WHERE key = ?", (key,)).fetchone()[0]
        n += sum(1 for row in self.rows if row[1] == key)  # a part holds requests of the item already
        lines = [batchfile.request_line(custom_id(key, n + i), ask.body, sub.endpoint) for i, ask in enumerate(asks)]
        if self.export is None and (big := max(len(line) for line in lines)) > sub.max_bytes:
            message = (f"its request is {big} bytes, over --batch-max-bytes {sub.max_bytes}; raise "
                       "--batch-max-bytes or lower --max-input-tokens")
            sub._fail(key, message)
            sub._emitted.add(key)
            return Finished(key, error=LLMError(message))
        for i, (ask, line) in enumerate(zip(asks, lines, strict=True)):
            if self.export is None and not sub._afford(ask):
                continue
            full = self.export is None and (len(self.rows) >= sub.max_requests or self.size + len(line) > sub.max_bytes)
            if self.fh is not None and full:
                self._finish_part()
            if self.fh is None:
                self._open_part()
            assert self.fh is not None
            self.fh.write(line)
            self.size += len(line)
            self.rows.append((custom_id(key, n + i), key, int(ask.followup), ask.tag))
            if len(self.rows) == 1:
                checkpoint("planned")
        return None

    def _open_part(self) -> None:
        sub = self.sub
        with sub._txn() as c:
            number = int(sub._meta("parts") or "0") + 1
            c.execute("INSERT INTO meta(name, value) VALUES ('parts', ?) "
                      "ON CONFLICT(name) DO UPDATE SET value = excluded.value", (str(number),))
            c.execute("INSERT INTO meta(name, value) VALUES ('rounds', ?) "
                      "ON CONFLICT(name) DO UPDATE SET value = excluded.value", (str(self.round),))
            self.part = f"p{number:05d}"
            filename = str(self.export) if self.export is not None else f"takeaways-{sub.run_id}-{self.part}.jsonl"
            now = time.time()
            c.execute("INSERT INTO parts(part, round, step, filename, step_at, created) "
                      "VALUES (?, ?, 'planned', ?, ?, ?)", (self.part, self.round, filename, now, now))
        final = self.export if self.export is not None else sub._path(filename)
        final.parent.mkdir(parents=True, exist_ok=True)
        self.path = final.with_name(f".{final.name}.part")
        self.fh = self.path.open("wb")
        self.rows, self.size = [], 0

    def _finish_part(self) -> None:
        sub = self.sub
        assert self.fh is not None and self.path is not None and self.part is not None
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()
        self.fh = None
        final = self.path.with_name(self.path.name[1:].removesuffix(".part"))
        os.replace(self.path, final)
        step = "exported" if self.export is not None else "written"
        with sub._txn() as c:
            c.executemany("INSERT INTO requests(custom_id, key, part, followup, tag) VALUES (?, ?, ?, ?, ?)",
                          [(cid, key, self.part, followup, tag) for cid, key, followup, tag in self.rows])
            spent: dict[str, tuple[str, int]] = {}  # per item: its last custom_id, and one round if any is a follow-up
            for cid, key, followup, _tag in self.rows:
                spent[key] = (cid, max(spent.get(key, ("", 0))[1], followup))
            for key, (_cid, followup) in spent.items():
                if followup and key in self.charged:  # its round is paid in an earlier part of this round
                    spent[key] = (_cid, 0)
                elif followup:
                    self.charged.add(key)
            c.executemany("UPDATE convs SET inflight = ?, retries = retries + ? WHERE key = ?",
                          [(cid, followup, key) for key, (cid, followup) in spent.items()])
            c.execute("UPDATE parts SET step = ?, step_at = ?, requests = ?, bytes = ? WHERE part = ?",
                      (step, time.time(), len(self.rows), self.size, self.part))
        self.parts.append(self.part)
        part, self.part = self.part, None
        if self.export is None:
            checkpoint("written")
            if sub._upload(part) == "uploaded":
                sub._create(part)

    def close(self) -> None:
        if self.fh is not None:
            self._finish_part()

    def abort(self) -> None:
        """A part left half written (an error, or the consumer stopped early): dropped now."""
        if self.fh is not None and self.part is not None:
            self.fh.close()
            self.fh = None
            self.sub._abandon(self.part)


def _answer_before(history: Sequence[Answer], followup: Ask) -> Answer:
    """The answer a follow-up follows: that of the same request's previous attempt."""
    purpose, _, attempt = followup.tag.rpartition(" +")
    before = purpose if attempt == "1" else f"{purpose} +{int(attempt or 1) - 1}"
    return next((a for a in reversed(history) if a.tag == before), history[-1])


def _cut_off(answer: Answer) -> bool:
    choices = (answer.completion or {}).get("choices") or [{}]
    return bool(choices[0].get("finish_reason") == "length")


def _api_error(what: str, exc: openai.OpenAIError) -> TakeawaysError:
    detail = getattr(exc, "message", None) or str(exc)
    status = getattr(exc, "status_code", None)
    transient = status is None or status >= 500 or status == 429
    hint = ""
    if status in (400, 404, 422) and re.search(r"\bendpoint\b|\burl\b", detail, re.I):
        hint = "; the provider refuses the endpoint: set --batch-endpoint to the one it wants (Azure OpenAI: /chat/completions)"
    then = "run the same command again to continue" if transient else "fix that and run the same command again"
    return LLMError(f"Batch API: could not {what}: {f'HTTP {status}: ' if status else ''}{detail}{hint}; "
                    f"the state is saved, {then}", transient=transient)




@dataclass
class Estimate:
    """What a Batch API run would send (first round) and cost at most, before anything is sent."""

    items: int = 0
    requests: int = 0  # every planned request (chunks and merges included), no retries
    first_round: int = 0  # requests in the first round's files
    files: int = 0
    bytes: int = 0
    prompt_tokens: int = 0
    max_output_tokens: int = 0
    cost_usd: float = 0.0  # at the batch price, every request at its full output length
    live_cost_usd: float = 0.0  # the same requests sent live

    def to_json(self) -> dict[str, Any]:
        return {k: round(v, 6) if isinstance(v, float) else v for k, v in self.__dict__.items()}


def estimate(articles: Iterable[Article], settings: Settings, spec: Spec, *, max_requests: int = batchfile.MAX_REQUESTS,
             max_bytes: int = batchfile.MAX_BYTES) -> Estimate:
    """Requests, files, tokens and the cost at the batch price (vs live) for `articles`. Sends nothing."""
    from ..engines import llm

    est = Estimate()
    in_file = size = 0
    for article in articles:
        plan = llm.plan(article, spec, settings)
        est.items += 1
        est.requests += len(plan.users) + int(plan.merge)
        est.prompt_tokens += plan.prompt_tokens
        est.max_output_tokens += plan.max_output_tokens
        est.cost_usd += pricing.cost(settings.model, plan.prompt_tokens, plan.max_output_tokens, settings.price_file,
                                     batch=True)
        est.live_cost_usd += plan.cost_usd
        asks = batchfile.replay_all(article, spec, settings, [])
        if isinstance(asks, Digest):  # pragma: no cover - a conversation always starts with a request
            continue
        for ask in asks:  # a long article: all its chunks are in the first round
            line = len(batchfile.request_line(custom_id("k" * 64, 0), ask.body))
            est.first_round += 1
            est.bytes += line
            if est.files == 0 or in_file >= max_requests or size + line > max_bytes:
                est.files += 1
                in_file = size = 0
            in_file += 1
            size += line
    return est


__all__ = ["CRASH_ENV", "CRASH_POINTS", "Crash", "Estimate", "Finished", "JobInfo", "Submission", "checkpoint",
           "custom_id", "estimate", "history_usage"]
