"""results.parquet: the batch results as one table, for pandas, DuckDB, Spark and friends.

Written at the end of a run from results.jsonl (the journal's committed log), so it always
describes the whole output directory, earlier runs and resumed runs included: one row per
article (the last committed line of each key wins, e.g. a failure retried with --retry-failed),
in commit order. Nested columns keep the evidence next to each item, with its support check
(`support_score` from 0 to 1, and `repaired_from`, the engine's own text when the item was
repaired to its quote; see docs/support.md); only standard Arrow/Parquet types are used (strings,
int64, double, bool, lists of structs), which every reader understands. Needs pyarrow: `pip install 'takeaways[parquet]'`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import ConfigError

PARQUET = "results.parquet"
ROW_GROUP = 2_000


def _pa() -> Any:
    try:
        import pyarrow as pa
        import pyarrow.parquet  # the writer, not just the arrays
    except ImportError as exc:
        raise ConfigError("--format parquet needs pyarrow: pip install 'takeaways[parquet]'") from exc
    return pa


def require() -> None:
    """Raise the ConfigError that says how to install pyarrow when it is missing."""
    _pa()


def schema() -> Any:
    pa = _pa()
    evidence = [("evidence", pa.string()), ("evidence_start", pa.int64()), ("evidence_end", pa.int64()),
                ("match", pa.string()), ("match_score", pa.float64()), ("origin", pa.string()),
                ("support_score", pa.float64()), ("repaired_from", pa.string())]
    return pa.schema([
        ("source", pa.string()), ("key", pa.string()), ("status", pa.string()),
        ("url", pa.string()), ("title", pa.string()), ("language", pa.string()), ("author", pa.string()),
        ("date", pa.string()), ("sitename", pa.string()), ("word_count", pa.int64()),
        ("engine", pa.string()), ("model", pa.string()), ("cached", pa.bool_()),
        ("takeaways", pa.list_(pa.struct([("text", pa.string()), *evidence]))),
        ("faq", pa.list_(pa.struct([("question", pa.string()), ("answer", pa.string()), *evidence]))),
        ("warnings", pa.list_(pa.string())), ("files", pa.list_(pa.string())),
        ("usage", pa.struct([("requests", pa.int64()), ("prompt_tokens", pa.int64()),
                             ("completion_tokens", pa.int64()), ("cost_usd", pa.float64())])),
        ("error", pa.string()), ("reason", pa.string()),
    ])


def _item(entry: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    span = entry.get("evidence_span") or (None, None)
    row = {f: entry.get(f) for f in fields}
    row.update(evidence=entry.get("evidence"), evidence_start=span[0], evidence_end=span[1], match=entry.get("match"),
               match_score=entry.get("match_score"), origin=entry.get("origin"),
               support_score=entry.get("support_score"), repaired_from=entry.get("repaired_from"))
    return row


def row_of(record: dict[str, Any]) -> dict[str, Any]:
    """One results.jsonl record → one table row."""
    digest = record.get("digest") or {}
    meta = digest.get("article") or {}
    usage = record.get("usage") or {}
    return {
        "source": record.get("source"), "key": record.get("key"), "status": record.get("status"),
        "url": meta.get("url"), "title": meta.get("title"), "language": meta.get("language"),
        "author": meta.get("author"), "date": meta.get("date"), "sitename": meta.get("sitename"),
        "word_count": meta.get("word_count"), "engine": digest.get("engine"), "model": digest.get("model"),
        "cached": bool(record.get("cached", False)),
        "takeaways": [_item(t, ("text",)) for t in digest.get("takeaways", [])],
        "faq": [_item(q, ("question", "answer")) for q in digest.get("faq", [])],
        "warnings": list(digest.get("warnings", [])), "files": list(record.get("files", [])),
        "usage": {k: usage.get(k, 0) for k in ("requests", "prompt_tokens", "completion_tokens", "cost_usd")},
        "error": record.get("error"), "reason": record.get("reason"),
    }


def write(out: Path, results: Path | None = None) -> Path:
    """Write OUT/results.parquet from OUT/results.jsonl (atomically); returns its path."""
    pa = _pa()
    import pyarrow.parquet as pq

    results = results or out / "results.jsonl"
    dest = out / PARQUET
    tmp = out / f".{PARQUET}.{os.getpid()}.tmp"
    sch = schema()
    try:
        with pq.ParquetWriter(tmp, sch, compression="zstd") as writer:
            batch: list[dict[str, Any]] = []
            for record in _final_records(results):
                batch.append(row_of(record))
                if len(batch) >= ROW_GROUP:
                    writer.write_table(pa.Table.from_pylist(batch, schema=sch))
                    batch = []
            if batch:
                writer.write_table(pa.Table.from_pylist(batch, schema=sch))
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def _final_records(results: Path) -> Iterator[dict[str, Any]]:
    """The last committed record of each key, in the order of those lines (commit order).

    Two passes over the file keep only key → line number in memory, never the records.
    """
    if not results.exists():
        return
    last: dict[str, int] = {}
    with results.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            last[json.loads(line)["key"]] = n
    final = set(last.values())
    del last
    with results.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            if n in final:
                yield json.loads(line)
