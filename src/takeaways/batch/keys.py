"""Keys: how an item, an article's text and a cached result are named. The one place for them.

- item keys (`url:<normalised URL>`, `file:<absolute path>`, `text:<hash>`) identify an input
  across runs (the journal's primary key);
- `content_hash` finds the same text under two URLs;
- `cache_key` names a result in the user-wide result cache;
- `output_stem` names an item's output files (stable across runs).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from ..config import Settings
    from ..models import Article


def normalise_url(url: str) -> str:
    """Lower-case scheme/host, default port, dot segments, tracking parameters and fragment removed."""
    from courlan import normalize_url

    try:
        norm = normalize_url(url.strip(), trailing_slash=False)
    except ValueError:
        norm = url.strip()
    parts = urlsplit(norm)
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def url_key(url: str) -> str:
    return "url:" + normalise_url(url)


def path_key(resolved: Path) -> str:
    return f"file:{resolved}"


def text_key(text: str) -> str:
    """Inline content (a JSONL `text` or `html` field): keyed by a hash of exactly that content."""
    return "text:" + hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:32]


def content_hash(article: Article) -> str:
    """Same text (whitespace and case aside) → same hash: how duplicate content is found."""
    norm = re.sub(r"\s+", " ", article.text).strip().casefold()
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()


def prompt_hash(template_dir: Path | None) -> str:
    """Hash of the prompt templates in effect (built-in, overridden by --template-dir): editing one invalidates the cache."""
    from ..rendering import builtin_dir

    h = hashlib.sha256()
    builtin = builtin_dir() / "prompts"
    names = sorted(p.name for p in builtin.glob("*")) if builtin.is_dir() else []
    for name in names:
        path = template_dir / name if template_dir and (template_dir / name).is_file() else builtin / name
        h.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def cache_key(article: Article, settings: Settings, prompts: str) -> str:
    """Article text + engine + model + prompt/version + generation options → the result-cache key."""
    from .. import __version__

    engine = settings.resolved_engine()
    parts = {
        "text": article.text, "title": article.title, "language": article.language,
        "engine": engine, "model": settings.model if engine != "extractive" else None,
        "prompts": prompts, "version": __version__,
        "options": {"takeaways": settings.takeaways, "questions": settings.questions, "lang": settings.lang,
                    "fill": settings.fill, "max_input_tokens": settings.max_input_tokens,
                    "max_output_tokens": settings.max_output_tokens, "seed": settings.seed},
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode("utf-8")).hexdigest()


def slug(text: str, limit: int = 60) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:limit].strip("-") or "article"


def output_stem(key: str, url: str | None, path: str | None, text: str | None) -> str:
    """`<slug>-<shorthash>`: stable for an item across runs, so a redone item overwrites its own files."""
    if url:
        try:
            parts = urlsplit(url)
            segs = [s for s in parts.path.split("/") if s]
            base = re.sub(r"\.(s?html?|php|aspx?)$", "", segs[-1], flags=re.I) if segs else parts.hostname or "page"
        except ValueError:  # "http://[": not a URL anything could fetch, but a name is still owed
            base = "page"
    elif path:
        base = Path(path).stem
    else:
        base = " ".join(text.split()[:8]) if text else "article"
    return f"{slug(base)}-{hashlib.sha256(key.encode()).hexdigest()[:8]}"
