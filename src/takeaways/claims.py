"""Claims from anywhere, for `takeaways check`: reading them and reporting the support verdicts.

The check itself is support.py; this module only parses claim lists and turns verdicts into the
records and text the CLI and the API hand out.
"""

from __future__ import annotations

import json
from typing import Any

from .support import SupportResult

__all__ = ["format_results", "parse_claims", "summary_of"]


def parse_claims(text: str) -> list[str]:
    """Claims written as a JSON list of strings, or one claim per line (blank lines skipped).

    Raises ValueError with the reason when a JSON list holds anything but strings."""
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError:
            data = None  # a line that merely starts with "[": read as lines
        if data is not None:
            if not isinstance(data, list) or not all(isinstance(c, str) for c in data):
                raise ValueError("a JSON list of claims must hold strings only")
            return [c.strip() for c in data if c.strip()]
    return [line.strip() for line in text.splitlines() if line.strip()]


def summary_of(results: list[SupportResult]) -> dict[str, Any]:
    """One article's verdicts as one record: the lowest claim score, whether every claim is supported,
    and each claim's verdict ({"claim", "supported", "score", "evidence", "evidence_span", "unsupported",
    "weak"})."""
    return {"score": min((r.score for r in results), default=1.0),
            "supported": all(r.supported for r in results),
            "claims": [r.to_dict() for r in results]}


def format_results(results: list[SupportResult], fmt: str = "md") -> str:
    """For people (md: each claim, its verdict and score, its quote with the span, what makes it
    unsupported and why, then the weak terms that only lower its score) or as JSON (the `summary_of`
    record)."""
    if fmt == "json":
        return json.dumps(summary_of(results), ensure_ascii=False, indent=2) + "\n"
    lines: list[str] = []
    for n, r in enumerate(results, 1):
        verdict = "supported" if r.supported else "NOT SUPPORTED"
        lines.append(f"{n}. **{verdict}** ({r.score:.2f}): {r.claim}")
        if r.evidence:
            where = f" [{r.evidence_span[0]}:{r.evidence_span[1]}]" if r.evidence_span else ""
            lines.append(f"   > {' '.join(r.evidence.split())}{where}")
        lines.extend(f"   - {u.kind} `{u.term}`: {u.reason}" for u in r.unsupported)
        lines.extend(f"   - weak {u.kind} `{u.term}`: {u.reason}" for u in r.weak)
        lines.append("")
    bad = sum(not r.supported for r in results)
    lines.append(f"{len(results) - bad} of {len(results)} claim(s) supported.")
    return "\n".join(lines) + "\n"
