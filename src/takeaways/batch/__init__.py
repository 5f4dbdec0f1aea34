"""The batch job, as a package (see docs/batch.md):

    options    BatchOptions: one frozen object for a run
    keys       item keys, content hashes, cache keys, output names
    work       WorkItem and Outcome: the values that cross the executor seam
    journal    the only writer of state.db, results.jsonl, the output files and the result cache
    executors  the seam and its implementations (local asyncio; batch-api; ray)
    budget     the run-wide --max-cost budget (reserve an estimate, settle the cost), kept alike by each executor
    stages     the per-item stage functions every executor runs
    progress   the bar / the periodic lines
    report     report.json, the summary, the exit code
    runner     inputs → journal → executor → journal → report

Names are loaded on first use, so `import takeaways.batch.keys` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

_NAMES = {
    "BatchOptions": "options", "STATE_DIR": "options", "RESULTS": "options", "REPORT": "options",
    "run": "runner", "dry_run": "runner", "summary": "report", "exit_code": "report",
    "WorkItem": "work", "Outcome": "work", "reason_of": "work",
    "content_hash": "keys", "cache_key": "keys", "prompt_hash": "keys", "slug": "keys", "output_stem": "keys",
    "load_page": "stages", "is_transient": "stages", "Journal": "journal", "_lock": "journal",
}

__all__ = sorted(n for n in _NAMES if not n.startswith("_"))


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        return getattr(importlib.import_module(f"{__name__}.{_NAMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
