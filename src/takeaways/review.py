"""Review pages: every published item beside its quote in the article, with approve/reject; and
`apply-review`, which publishes a run's outputs without the rejected items.

    takeaways review DIR            DIR/review/index.html + one page per finished article
    takeaways summarize SRC --review FILE.html     the same page for one article
    takeaways apply-review DIR decisions.json      record decisions, re-render without rejected items

Pages are self-contained (inline CSS and JS, no network, work from file://). Article text and
model output are untrusted: Jinja2 escapes everything, data reaches the script only as a JSON
block (never as code or inline event handlers), and a Content-Security-Policy allows only the
page's own script and style (by hash).

Ids: an article is its batch key; its items are `t1`… (takeaways) and `q1`… (FAQ) in digest
order. A decisions file names the run (`run`) and, per article, the digest it was made from
(`digest`, a fingerprint), so decisions never land on other items than the ones reviewed.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import itertools
import json
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from .errors import OutputError, ReviewError
from .fsutil import atomic_write
from .models import QA, Article, Digest, Dropped, Takeaway, Usage
from .rendering import EXTENSIONS, _to_json, builtin_dir
from .support import MIN_SCORE, WEAK_SCORE, check_claim

FORMAT = "takeaways-review/1"
DECISIONS = ("approve", "reject")
REVIEW_DIR = "review"


# -- the data a page shows ---------------------------------------------------------------------
def fingerprint(digest: Digest) -> str:
    """Identity of what a reviewer saw: the items' texts and quotes, in order."""
    items = [[t.text, t.evidence] for t in digest.takeaways] + [[q.question, q.answer, q.evidence] for q in digest.faq]
    return hashlib.sha256(json.dumps(items, ensure_ascii=False).encode("utf-8")).hexdigest()[:16]


def item_ids(digest: Digest) -> list[str]:
    return [f"t{i}" for i in range(1, len(digest.takeaways) + 1)] + [f"q{i}" for i in range(1, len(digest.faq) + 1)]


def _flags(item: Takeaway | QA, kind: str, text: str | None = None) -> list[dict[str, str]]:
    """What a reviewer should look at, each with its reason."""
    flags = []
    if item.match == "fuzzy":
        flags.append({"cls": "fuzzy", "label": f"fuzzy {item.match_score or 0:.0%}",
                      "reason": "the quote is not verbatim: the closest passage is "
                                f"{item.match_score or 0:.0%} alike; check the wording"})
    elif item.match == "normalised":
        flags.append({"cls": "normalised", "label": "normalised",
                      "reason": "the quote matches once case, quote marks, dashes and spacing are ignored"})
    if item.match is not None and item.evidence_span is None:
        flags.append({"cls": "title", "label": "in title", "reason": "the quote is found only in the title"})
    if item.match is None:
        flags.append({"cls": "unlocated", "label": "not located", "reason": "no record of where the quote is"})
    if item.repaired_from:
        flags.append({"cls": "repaired", "label": "repaired",
                      "reason": f"the engine wrote \u201c{item.repaired_from}\u201d, which its quote does not "
                                "support; the support check published the quote instead"})
    if _weak(item):
        flags.append({"cls": "weak", "label": f"support {item.support_score:.2f}",
                      "reason": f"the support check backs this item only in part (score {item.support_score:.2f}; "
                                f"items below {MIN_SCORE:.2f} are not published): {_weak_terms(item, text)}; "
                                "check that it says what the quote says"})
    if item.filled:
        what = f"dropped {'takeaway' if kind == 'takeaway' else 'FAQ item'} {item.replaces}" if item.replaces else \
            "a shortfall (the engine gave fewer items than asked)"
        flags.append({"cls": "filled", "label": "filled", "reason": f"topped up from the extractive engine; replaces {what}"})
    return flags


def _weak(item: Takeaway | QA) -> bool:
    """Published, but the support check backs it only in part (a repaired item is its quote: not weak)."""
    return item.support_score is not None and item.support_score < WEAK_SCORE and item.repaired_from is None


def _weak_terms(item: Takeaway | QA, text: str | None) -> str:
    """What its quote does not back, as the pipeline's check saw it (the same claim, quote and article)."""
    claim = item.text if isinstance(item, Takeaway) else item.answer
    result = check_claim(claim, text, item.evidence_span) if text is not None and item.evidence_span else None
    if result is None or not result.weak:
        return "some of its words are not in its quote"
    return "; ".join(f"{u.term} ({u.reason})" for u in result.weak)


def _item(item: Takeaway | QA, id_: str, text: str | None = None) -> dict[str, Any]:
    kind = "takeaway" if isinstance(item, Takeaway) else "faq"
    data = {"id": id_, "kind": kind, "evidence": item.evidence, "origin": item.origin, "match": item.match,
            "score": item.match_score, "span": list(item.evidence_span) if item.evidence_span else None,
            "support": item.support_score, "flags": _flags(item, kind, text)}
    if isinstance(item, Takeaway):
        data.update(text=item.text)
    else:
        data.update(question=item.question, answer=item.answer, text=item.question)
    return data


def _dropped(entry: Dropped, n: int) -> dict[str, Any]:
    item = entry.item
    text = item.text if isinstance(item, Takeaway) else f"{item.question} — {item.answer}"
    details = entry.details
    if entry.check == "support":  # the terms the evidence does not back, each with why, and the best evidence
        terms = details.get("unsupported", [])
        hard = [u for u in terms if u.get("kind") != "word"] or terms
        details = {"unsupported": "; ".join(f"{u['term']} ({u['reason']})" for u in hard) or "none listed",
                   "score": details.get("score"), "best evidence": details.get("evidence") or "none"}
    return {"id": f"d{n}", "kind": entry.kind, "index": entry.index, "text": text, "evidence": item.evidence,
            "origin": item.origin, "check": entry.check, "reason": entry.reason, "details": details}


def _blocks(article: Article, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The article's blocks cut at every span boundary; each piece lists the items that quote it."""
    spans = [(it["span"][0], it["span"][1], it["id"]) for it in items if it["span"] and it["span"][0] < it["span"][1]]
    out, pos = [], 0
    for b in article.blocks:
        start, end = pos, pos + len(b.text)
        inside = [(max(s, start), min(e, end), i) for s, e, i in spans if s < end and e > start]
        cuts = sorted({start, end, *(c for s, e, _ in inside for c in (s, e))})
        segments = [{"text": article.text[a:z], "ids": " ".join(i for s, e, i in inside if s <= a and z <= e)}
                    for a, z in itertools.pairwise(cuts)]
        out.append({"kind": b.kind, "level": b.level, "segments": segments})
        pos = end + 1
    return out


@dataclass
class Entry:
    """One article of a run, as the journal recorded it (its last results.jsonl line)."""

    key: str
    source: str
    status: str
    stem: str
    digest: Digest | None = None
    article: Article | None = None
    error: str | None = None
    reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    files: list[str] = field(default_factory=list)
    review: dict[str, Any] | None = None
    history: list[dict[str, Any]] = field(default_factory=list)  # every results line of this key, oldest first

    @property
    def counts(self) -> dict[str, int]:
        d = self.digest
        if d is None:
            return {"kept": 0, "dropped": 0, "filled": 0, "fuzzy": 0, "repaired": 0, "weak": 0}
        items: list[Takeaway | QA] = [*d.takeaways, *d.faq]
        return {"kept": len(items), "dropped": len(d.dropped), "filled": sum(i.filled for i in items),
                "fuzzy": sum(i.match == "fuzzy" for i in items),
                "repaired": sum(i.repaired_from is not None for i in items), "weak": sum(_weak(i) for i in items)}

    @property
    def attention(self) -> list[str]:
        """Why an editor should look at this article first (empty: nothing unusual)."""
        if self.status != "done":
            return [self.status]
        c, why = self.counts, []
        if c["dropped"]:
            why.append(f"{c['dropped']} dropped")
        if c["filled"]:
            why.append(f"{c['filled']} filled")
        if c["fuzzy"]:
            why.append(f"{c['fuzzy']} fuzzy")
        if c["repaired"]:
            why.append(f"{c['repaired']} repaired")
        if c["weak"]:
            why.append(f"{c['weak']} weakly supported")
        if self.article is None:
            why.append("no article text")
        return why


def page_context(digest: Digest, article: Article | None, *, run: str, key: str, source: str,
                 index: str | None = None, status: str = "done") -> dict[str, Any]:
    text = article.text if article is not None else None
    items = [_item(t, f"t{n}", text) for n, t in enumerate(digest.takeaways, 1)] + \
            [_item(q, f"q{n}", text) for n, q in enumerate(digest.faq, 1)]
    return {
        "page": "article", "run": run, "key": key, "source": source, "status": status, "index": index,
        "title": digest.article.title or source, "meta": digest.article.model_dump(mode="json"),
        "engine": digest.engine, "model": digest.model, "usage": digest.usage.model_dump(mode="json"),
        "takeaways": [i for i in items if i["kind"] == "takeaway"], "faq": [i for i in items if i["kind"] == "faq"],
        "dropped": [_dropped(d, n) for n, d in enumerate(digest.dropped, 1)],
        "warnings": [w for w in digest.warnings if not w.startswith("dropped ")],
        "blocks": _blocks(article, items) if article is not None else None,
        "data": {"page": "article", "run": run, "key": key, "digest": fingerprint(digest),
                 "items": [{"id": i["id"], "text": i["text"]} for i in items]},
    }


# -- rendering ---------------------------------------------------------------------------------
def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(builtin_dir() / "review")), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["to_json"] = _to_json
    return env


_ENV: jinja2.Environment | None = None


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


@functools.lru_cache(maxsize=1)
def _assets() -> tuple[Markup, Markup, str]:
    """The inline CSS and JS, and the CSP that allows exactly them."""
    base = builtin_dir() / "review"
    css, js = (base / "review.css").read_text(encoding="utf-8"), (base / "review.js").read_text(encoding="utf-8")
    csp = (f"default-src 'none'; script-src {_csp_hash(js)}; style-src {_csp_hash(css)}; img-src data:; "
           "base-uri 'none'; form-action 'none'")
    return Markup(css), Markup(js), csp


def _render(template: str, context: dict[str, Any]) -> str:
    global _ENV
    _ENV = _ENV or _env()
    css, js, csp = _assets()
    return _ENV.get_template(template).render(**context, css=css, js=js, csp=csp)


def article_page(digest: Digest, article: Article | None, **kw: Any) -> str:
    """The review page of one article (see page_context for the keywords)."""
    return _render("article.html.j2", page_context(digest, article, **kw))


def write_single(digest: Digest, article: Article, path: Path, source: str) -> Path:
    """`summarize --review FILE.html`: the page for one article, not part of a run."""
    run = "single-" + fingerprint(digest)
    atomic_write(path, article_page(digest, article, run=run, key=source, source=source))
    return path


# -- a batch run -------------------------------------------------------------------------------
def _state_db(out: Path) -> Path:
    from .batch.options import STATE_DIR

    return out / STATE_DIR / "state.db"


def load_run(out: Path) -> list[Entry]:
    """Every article of the run in DIR, in input order, from results.jsonl (its last line per key wins)."""
    from .batch.journal import read_article
    from .batch.options import RESULTS

    path = out / RESULTS
    if not path.is_file():
        raise ReviewError(f"{out}: no {RESULTS}; give the --out directory of a `takeaways batch` run")
    by_key: dict[str, list[dict[str, Any]]] = {}
    try:
        with path.open(encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if not line.endswith("\n"):
                    break  # a torn last line (a run was killed): the journal cuts it off on the next run
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ReviewError(f"{path}, line {n}: not JSON ({exc.msg}); the file was edited by hand?") from exc
                by_key.setdefault(record["key"], []).append(record)
    except OSError as exc:
        raise ReviewError(f"cannot read {path} ({exc.strerror or exc})") from exc
    entries = []
    for key, history in by_key.items():
        rec = history[-1]
        digest = Digest.model_validate(rec["digest"]) if rec.get("digest") else None
        files = list(rec.get("files") or [])
        stem = files[0].rsplit(".", 1)[0] if files else "item-" + hashlib.sha256(key.encode()).hexdigest()[:12]
        article = None
        if rec.get("article") and digest is not None:
            try:
                article = read_article(out, rec["article"])
            except (OSError, ValueError):
                article = None  # shown as "no article text"; the items are still reviewable
        entries.append(Entry(key=key, source=rec.get("source", key), status=rec.get("status", "?"), stem=stem,
                             digest=digest, article=article, error=rec.get("error"), reason=rec.get("reason"),
                             usage=Usage.model_validate(rec.get("usage") or {}), files=files,
                             review=rec.get("review"), history=history))
    return entries


def run_id(out: Path, *, create: bool) -> str | None:
    """The run's review id (made once, kept in the state db), which every decisions file names."""
    import uuid

    from .batch.state import State

    db = _state_db(out)
    if not db.is_file():
        if create:
            raise ReviewError(f"{out}: no batch state ({db}); give the --out directory of a `takeaways batch` run")
        return None
    state = State(db, new_run=False)
    try:
        value = state.get_meta("review_run_id", "")
        if not value and create:
            value = uuid.uuid4().hex
            state.set_meta("review_run_id", value)
        return value or None
    finally:
        state.close()


def _row(e: Entry, page: str | None) -> dict[str, Any]:
    return {"key": e.key, "source": e.source, "status": e.status, "page": page,
            "title": (e.digest.article.title if e.digest else None) or e.source,
            "counts": e.counts, "cost": e.usage.cost_usd, "attention": e.attention,
            "error": e.error or e.reason, "review": (e.review or {}).get("decision"),
            "digest": fingerprint(e.digest) if e.digest else None}


def write_run(out: Path) -> Path:
    """`takeaways review DIR`: DIR/review/index.html and one page per finished article. Returns the index."""
    entries = load_run(out)
    run = run_id(out, create=True)
    assert run is not None
    dest = out / REVIEW_DIR
    rows: list[dict[str, Any]] = []
    writes = []
    # Rendering is CPU-bound (here); writing is fsync-bound, so the writes overlap in threads.
    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="review-write") as pool:
        for e in entries:
            page = None
            if e.digest is not None:
                page = f"{e.stem}.html"
                html = article_page(e.digest, e.article, run=run, key=e.key, source=e.source, index="index.html",
                                    status=e.status)
                writes.append(pool.submit(atomic_write, dest / page, html))
            rows.append(_row(e, page))
        for w in writes:
            w.result()  # an OutputError surfaces here
    statuses = sorted({e.status for e in entries})
    context = {"page": "index", "run": run, "out": str(out), "rows": rows, "statuses": statuses,
               "total_cost": round(sum(e.usage.cost_usd for e in entries), 6),
               "data": {"page": "index", "run": run,
                        "articles": {r["key"]: r["digest"] for r in rows if r["digest"]}}}
    index = dest / "index.html"
    atomic_write(index, _render("index.html.j2", context))
    return index


# -- apply-review ------------------------------------------------------------------------------
@dataclass
class _Plan:
    entry: Entry
    reviewed: Digest  # the version the reviewer saw
    decision: str | None
    items: dict[str, str]


def _read_decisions(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ReviewError(f"cannot read {path} ({exc.strerror or exc})") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ReviewError(f"{path}: not a JSON file; export it with the review page's \"Export decisions\" button") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("articles"), dict):
        raise ReviewError(f"{path}: not a decisions file (expected \"format\": \"{FORMAT}\" and \"articles\"); "
                          "export it with the review page's \"Export decisions\" button")
    return data


def _plan(out: Path, data: dict[str, Any], source: Path) -> list[_Plan]:
    run = run_id(out, create=False)
    if run is None:
        raise ReviewError(f"{out}: no review pages were written for this run; run `takeaways review {out}` first")
    if data.get("run") != run:
        raise ReviewError(f"{source} was exported from the review of another run (run {data.get('run')!r}, "
                          f"{out} is run {run!r}); nothing changed")
    entries = {e.key: e for e in load_run(out)}
    plans, problems = [], []
    for key, dec in data["articles"].items():
        entry = entries.get(key)
        if entry is None or entry.digest is None:
            problems.append(f"unknown article {key!r}" if entry is None else f"{key!r} has no digest ({entry.status})")
            continue
        if not isinstance(dec, dict):
            problems.append(f"{key!r}: expected an object with digest, decision, items")
            continue
        reviewed = next((Digest.model_validate(r["digest"]) for r in reversed(entry.history)
                         if r.get("digest") and fingerprint(Digest.model_validate(r["digest"])) == dec.get("digest")),
                        None)
        if reviewed is None:
            problems.append(f"{key!r}: the decisions are for another version of this article's items "
                            f"(digest {dec.get('digest')!r}); write the review pages again and review it anew")
            continue
        decision = dec.get("decision")
        items = dec.get("items") or {}
        if decision not in (None, *DECISIONS) or not isinstance(items, dict):
            problems.append(f"{key!r}: decision must be approve, reject or null, items an object")
            continue
        known = set(item_ids(reviewed))
        bad = sorted(i for i in items if i not in known)
        bad_values = sorted(i for i, v in items.items() if v not in (None, *DECISIONS))
        if bad or bad_values:
            problems.append(f"{key!r}: unknown item id(s) {', '.join(bad)}" if bad else
                            f"{key!r}: item decision(s) must be approve or reject: {', '.join(bad_values)}")
            continue
        plans.append(_Plan(entry, reviewed, decision, {i: v for i, v in items.items() if v is not None}))
    if problems:
        raise ReviewError(f"{source}: " + "; ".join(problems) + "; nothing changed")
    return plans


def published(digest: Digest, items: dict[str, str]) -> Digest:
    """The digest without the rejected items; each rejected one becomes a `dropped` entry (check "review")."""
    def keep(seq: Iterable[Any], prefix: str, kind: str) -> tuple[list[Any], list[Dropped]]:
        kept, gone = [], []
        for n, item in enumerate(seq, 1):
            if items.get(f"{prefix}{n}") == "reject":
                gone.append(Dropped(kind=kind, index=n, item=item, check="review",  # type: ignore[arg-type]
                                    reason="rejected in review"))
            else:
                kept.append(item)
        return kept, gone

    takeaways, gone_t = keep(digest.takeaways, "t", "takeaway")
    faq, gone_q = keep(digest.faq, "q", "faq")
    gone = gone_t + gone_q
    return digest.model_copy(update={"takeaways": takeaways, "faq": faq, "dropped": [*digest.dropped, *gone],
                                     "warnings": [*digest.warnings, *(d.warning for d in gone)]})


def review_summary(reviews: dict[str, tuple[str | None, dict[str, str]]]) -> dict[str, Any]:
    """What report.json says of the review: which articles were approved or rejected."""
    return {"reviewed": len(reviews),
            "approved": sorted(k for k, (d, _) in reviews.items() if d == "approve"),
            "rejected": sorted(k for k, (d, _) in reviews.items() if d == "reject"),
            "undecided": sorted(k for k, (d, _) in reviews.items() if d is None),
            "rejected_items": sum(v == "reject" for _, items in reviews.values() for v in items.values())}


def apply(out: Path, decisions: Path, template_dir: Path | None = None) -> dict[str, Any]:
    """`takeaways apply-review DIR decisions.json`: check everything first, then re-render each
    reviewed article's files without its rejected items, append its reviewed record to
    results.jsonl, and record the decisions in the state db and report.json. No LLM call."""
    from .api import render
    from .batch.journal import _lock
    from .batch.options import REPORT, RESULTS, STATE_DIR
    from .batch.state import State

    data = _read_decisions(decisions)
    lock = _lock(out / STATE_DIR / "lock")  # not while a batch run writes this directory
    try:
        plans = _plan(out, data, decisions)
        fmt_of = {ext: fmt for fmt, ext in EXTENSIONS.items()}
        rendered: list[tuple[Path, str]] = []
        lines: list[bytes] = []
        for p in plans:
            digest = published(p.reviewed, p.items)
            for name in p.entry.files:
                fmt = fmt_of.get(name.rsplit(".", 1)[-1])
                if fmt is not None:
                    rendered.append((out / name, render(digest, fmt, template_dir)))
            approved = [i for i, v in p.items.items() if v == "approve"]
            rejected = [i for i, v in p.items.items() if v == "reject"]
            record = {**p.entry.history[-1], "digest": digest.model_dump(mode="json"),
                      "review": {"decision": p.decision, "approved_items": approved, "rejected_items": rejected,
                                 "reviewed_digest": fingerprint(p.reviewed), "run": data["run"],
                                 "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}}
            lines.append((json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"))
        for path, text in rendered:  # the journal's order: files, results lines, then the state db
            atomic_write(path, text)
        state = State(_state_db(out), new_run=False)
        try:
            size = state.results_size
            with (out / RESULTS).open("r+b") as fh:
                fh.truncate(size)  # an uncommitted tail is not part of the record
                fh.seek(size)
                for line in lines:
                    fh.write(line)
                fh.flush()
                new_size = fh.tell()
            state.record_reviews([(p.entry.key, p.decision, p.items) for p in plans], new_size)
            reviews = state.reviews()
        finally:
            state.close()
        summary = review_summary(reviews)
        report_path = out / REPORT
        try:
            report = json.loads(report_path.read_text(encoding="utf-8")) if report_path.exists() else {}
        except (OSError, json.JSONDecodeError):
            report = {}
        report["review"] = summary
        atomic_write(report_path, json.dumps(report, indent=2) + "\n")
        return {**summary, "applied": len(plans), "files": [str(p) for p, _ in rendered]}
    except OSError as exc:
        raise OutputError(f"cannot update {out} ({exc.strerror or exc})") from exc
    finally:
        lock.close()
