"""The pipeline as plain functions: load → extract → generate → verify (→ fill) → render."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

from . import extraction as _extract
from . import sources
from .claims import summary_of
from .config import Settings
from .engines import get_engine
from .errors import TakeawaysError
from .grounding import normalise, verify
from .models import QA, Article, Digest, DropKind, Spec, Takeaway
from .rendering import render as _render
from .support import SupportResult, check_claims, check_digest

T = TypeVar("T", Takeaway, QA)

__all__ = ["agenerate", "check", "check_record", "checked", "dry_run", "extract", "generate", "load_article", "render",
           "summarize", "verify_and_fill"]


def extract(html_or_text: str | bytes, url: str | None = None) -> Article:
    """HTML or plain text → Article (headings, paragraphs, metadata, existing FAQ/takeaways blocks)."""
    return _extract.extract(html_or_text, url=url)


def load_article(source: str, settings: Settings) -> Article:
    """Load a URL, path or '-' and extract it, quality gate included (a fetch is retried under retry.py)."""
    from . import retry

    return _extract.extract_page(retry.call(lambda: sources.load(source, settings), settings), settings)


def _spec(settings: Settings) -> Spec:
    return Spec(takeaways=settings.takeaways, questions=settings.questions, language=settings.lang)


def generate(article: Article, settings: Settings) -> Digest:
    """Run the configured engine, verify every item's evidence, and top up from the offline engine."""
    engine = get_engine(settings.resolved_engine())
    return _checked(engine.generate(article, _spec(settings), settings), engine.name, article, settings)


async def agenerate(article: Article, settings: Settings) -> Digest:
    """`generate` for the batch job's event loop: engines with `agenerate` run natively, others in a thread."""
    engine = get_engine(settings.resolved_engine())
    native = getattr(engine, "agenerate", None)
    if native is not None:
        raw = await native(article, _spec(settings), settings)
    else:
        raw = await asyncio.to_thread(engine.generate, article, _spec(settings), settings)
    return _checked(raw, engine.name, article, settings)


def dry_run(article: Article, settings: Settings) -> str:
    """What the LLM engine would send for `article`: rendered prompt(s), token estimate, cost. Sends nothing."""
    from .engines.llm import dry_run as _dry_run

    text = _dry_run(article, _spec(settings), settings)
    if settings.resolved_engine() != "openai":
        text = "# note: the engine is extractive, which sends no request; this is what --engine openai would send\n" + text
    return text


def checked(raw: Digest, article: Article, settings: Settings) -> Digest:
    """Verify an answer of the configured engine against the article, check its support, fill it
    (pure CPU: the batch job runs it in a worker process, so its event loop keeps sending requests)."""
    return _checked(raw, settings.resolved_engine(), article, settings)


def verify_and_fill(raw: Digest, article: Article, settings: Settings) -> Digest:
    """What an LLM answer gets however it came (live, Batch API, imported): verify, then fill."""
    return _checked(raw, "openai", article, settings)


def _checked(raw: Digest, engine_name: str, article: Article, settings: Settings) -> Digest:
    digest = check_digest(verify(raw, article), article, raw)
    digest = digest.model_copy(update={"existing_blocks": article.existing_blocks})
    if settings.fill and engine_name != "extractive":
        digest = fill(digest, article, _spec(settings), settings)
    return digest


def fill(digest: Digest, article: Article, spec: Spec, settings: Settings) -> Digest:
    """Top up missing items from the offline engine (marked origin='extractive')."""
    missing_t = spec.takeaways - len(digest.takeaways)
    missing_q = spec.questions - len(digest.faq)
    if missing_t <= 0 and missing_q <= 0:
        return digest
    # Twice the count: candidates that overlap a kept item are skipped, and the rest must still suffice.
    spare = spec.model_copy(update={"takeaways": min(2 * spec.takeaways, 50), "questions": min(2 * spec.questions, 50)})
    raw = get_engine("extractive").generate(article, spare, settings)
    offline = check_digest(verify(raw, article), article, raw)
    # A top-up must not restate what is already there: its quote may not overlap a kept item's quote.
    kept = [normalise(t.evidence) for t in digest.takeaways] + [normalise(q.evidence) for q in digest.faq]
    seen_q = {normalise(q.question) for q in digest.faq}

    def new(evidence: str) -> bool:
        e = normalise(evidence)
        return not any(e in k or k in e for k in kept)

    extra_t = _filled(digest, "takeaway", [t for t in offline.takeaways if new(t.evidence)][: max(missing_t, 0)])
    extra_q = _filled(digest, "faq", [q for q in offline.faq
                                      if normalise(q.question) not in seen_q and new(q.evidence)][: max(missing_q, 0)])
    warnings = list(digest.warnings)
    if extra_t or extra_q:
        warnings.append(f"filled {len(extra_t)} takeaway(s) and {len(extra_q)} FAQ item(s) from the extractive engine")
    return digest.model_copy(update={"takeaways": digest.takeaways + extra_t, "faq": digest.faq + extra_q,
                                     "warnings": warnings})


def _filled(digest: Digest, kind: DropKind, extra: list[T]) -> list[T]:
    """Mark top-ups as filled; each stands in for the next dropped item of its kind not yet replaced."""
    kept = digest.takeaways if kind == "takeaway" else digest.faq
    taken = {i.replaces for i in kept if i.filled}
    open_ = [d.index for d in digest.dropped if d.kind == kind and d.index not in taken]
    return [item.model_copy(update={"filled": True, "replaces": open_[n] if n < len(open_) else None})
            for n, item in enumerate(extra)]


def summarize(source: str | Path | Article, *, engine: str = "auto", takeaways: int = 5, questions: int = 4,
              **options: Any) -> Digest:
    """A URL, a path or an Article → verified Digest. `options` are Settings fields (model, api_key, …)."""
    settings = Settings.from_env(engine=engine, takeaways=takeaways, questions=questions, **options)
    article = source if isinstance(source, Article) else load_article(str(source), settings)
    return generate(article, settings)


def render(digest: Digest, format: str = "md", template_dir: str | Path | None = None, *,
           standalone: bool = False) -> str:
    """Digest → text in md, html, json, jsonld or text, through the (overridable) Jinja2 templates."""
    return _render(digest, format, template_dir, standalone=standalone)


def check(claims: str | Iterable[str], article: str | Article) -> list[SupportResult]:
    """Check each claim (or one claim) against an article (its text, or an Article): does the article
    say it? Each Verdict has `supported`, `score` (0-1), the best `evidence` quote with its
    `evidence_span` into the text, the `unsupported` terms (what makes it unsupported; empty when
    supported) and the `weak` terms (they only lower the score), with reasons. Offline and fast."""
    text = article.text if isinstance(article, Article) else article
    items = [claims] if isinstance(claims, str) else list(claims)
    return check_claims(items, text)


def check_record(line: str, settings: Settings, number: int | None = None) -> dict[str, Any]:
    """One `takeaways check --jsonl` line: {"id", "article": TEXT or "source": PATH_OR_URL, "claims": [...]}
    → {"id", "score", "supported", "claims": [...]}, or {"id", "line", "error"} for a line that cannot be checked."""
    result = _check_record(line, settings)
    if "error" in result and number is not None:
        result = {"id": result["id"], "line": number, "error": result["error"]}
    return result


def _check_record(line: str, settings: Settings) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return {"id": None, "error": f"not JSON ({exc.msg})"}
    if not isinstance(record, dict):
        return {"id": None, "error": "a line must be a JSON object"}
    rid = record.get("id")
    claims = record.get("claims")
    if not isinstance(claims, list) or not all(isinstance(c, str) for c in claims):
        return {"id": rid, "error": '"claims" must be a list of strings'}
    text = record.get("article")
    if text is None and isinstance(record.get("source"), str):
        try:
            text = load_article(record["source"], settings).text
        except TakeawaysError as exc:
            return {"id": rid, "error": str(exc)}
    if not isinstance(text, str):
        return {"id": rid, "error": 'give the article text as "article" or a path or URL as "source"'}
    return {"id": rid, **summary_of(check(claims, text))}
