"""Support check on FRANK dev: FRANK's measure, false alarms and catches, and claims per second.

    python bench/support.py --data ../shared/data

For every summary, score = the lowest claim score of `takeaways.support.check_claim`, flagged =
any claim unsupported. Per dataset (CNN/DM, XSum) it prints the partial Pearson and Spearman
correlation with the human `factuality`, controlling for the summarising system (both regressed
on a one-hot of `model`, the residuals correlated), for our score and for FRANK's published
baselines on the same summaries; the share of fully factual summaries flagged (false alarms) and
of summaries with an entity (EntE) or circumstance (CircE) error flagged (catches). Speed: claims
per CPU second on one core (process time, so other load on the machine counts less), and as a ratio against grounding alone (`grounding.find_evidence` of each
claim) measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from takeaways.grounding import find_evidence, normalise
from takeaways.support import check_claim


def _residuals(y: np.ndarray, groups: list[str]) -> np.ndarray:
    names = sorted(set(groups))
    x = np.array([[1.0 if g == n else 0.0 for n in names] for g in groups])
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    return np.asarray(y - x @ beta)


def _rank(a: np.ndarray) -> np.ndarray:
    order = a.argsort(kind="mergesort")
    ranks = np.empty(len(a))
    ranks[order] = np.arange(len(a))
    # average ties
    _, inv, counts = np.unique(a, return_inverse=True, return_counts=True)
    sums = np.bincount(inv, weights=ranks)
    return np.asarray((sums / counts)[inv])


def partial(x: list[float], y: list[float], groups: list[str], spearman: bool = False) -> float:
    xa, ya = np.array(x, dtype=float), np.array(y, dtype=float)
    if spearman:
        xa, ya = _rank(xa), _rank(ya)
    rx, ry = _residuals(xa, groups), _residuals(ya, groups)
    if rx.std() == 0 or ry.std() == 0:
        return float("nan")
    return float(np.corrcoef(rx, ry)[0, 1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="../shared/data", help="folder holding frank-dev.jsonl")
    args = ap.parse_args(argv)
    path = Path(args.data) / "frank-dev.jsonl"
    if not path.exists():
        print(f"Error: {path} not found (pass --data)", file=sys.stderr)
        return 2
    articles = [json.loads(line) for line in path.open(encoding="utf-8")]

    t0 = time.process_time()
    check_claim("Dictionaries load once.", "The stemmer and the lemma dictionaries load once per process.")
    startup = time.process_time() - t0
    rows: dict[str, list[dict[str, Any]]] = {}
    n_claims = 0
    t_support = 0.0
    t_ground = 0.0
    for art in articles:
        text = art["article"]
        hay = normalise(text)
        for s in art["summaries"]:
            claims = [c for c in s["claims"] if c.strip()] or [""]
            t0 = time.process_time()
            results = [check_claim(c, text) for c in claims]
            t1 = time.process_time()
            for c in claims:
                find_evidence(c, hay)
            t2 = time.process_time()
            t_support += t1 - t0
            t_ground += t2 - t1
            n_claims += len(claims)
            errs = s["errors"]
            rows.setdefault(art["dataset"], []).append({
                "model": s["model"], "factuality": s["factuality"],
                "score": min(r.score for r in results),
                "flagged": not all(r.supported for r in results),
                "ent_circ": errs.get("EntE", 1.0) < 1.0 or errs.get("CircE", 1.0) < 1.0,
                "baselines": s.get("baselines", {}),
            })

    for dataset, rs in rows.items():
        groups = [r["model"] for r in rs]
        fact = [r["factuality"] for r in rs]
        print(f"\n{dataset}: {len(rs)} summaries")
        print(f"  {'measure':<18} {'pearson':>8} {'spearman':>9}")
        series = {"support (ours)": [r["score"] for r in rs]}  # then FRANK's baselines on the same summaries
        names = sorted({k for r in rs for k in r["baselines"]})
        for name, xs in series.items():
            print(f"  {name:<18} {partial(xs, fact, groups):8.3f} {partial(xs, fact, groups, True):9.3f}")
        for name in names:  # a baseline missing on some summaries is measured on the rest (n says how many)
            sub = [r for r in rs if r["baselines"].get(name) is not None]
            xs, fs, gs = [float(r["baselines"][name]) for r in sub], [r["factuality"] for r in sub], [r["model"] for r in sub]
            n = f"  (n={len(sub)})" if len(sub) < len(rs) else ""
            print(f"  {name:<18} {partial(xs, fs, gs):8.3f} {partial(xs, fs, gs, True):9.3f}{n}")
        factual = [r for r in rs if r["factuality"] >= 1.0]
        wrong = [r for r in rs if r["ent_circ"]]
        fa = sum(r["flagged"] for r in factual) / max(1, len(factual))
        ca = sum(r["flagged"] for r in wrong) / max(1, len(wrong))
        print(f"  false alarms {fa:.1%} of {len(factual)} fully factual; "
              f"catches {ca:.1%} of {len(wrong)} with EntE/CircE")
    cps = n_claims / t_support
    gps = n_claims / t_ground
    print(f"\nspeed: {n_claims} claims, support {cps:.0f} claims/s, grounding alone {gps:.0f} claims/s, "
          f"ratio support/grounding {cps / gps:.2f} (CPU seconds of this process, one core; each article new to both; "
          f"plus {startup:.1f}s once per process to load the lemma dictionary)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
