"""Jinja2 rendering of a Digest. The one place that knows the output formats and where templates live."""

from __future__ import annotations

import functools
import json
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import OutputError, TemplateError

if TYPE_CHECKING:  # jinja2 and the models load on first render, so `takeaways --help` stays fast
    import jinja2
    from markupsafe import Markup

    from .models import Article, Digest

FORMATS: dict[str, str] = {
    "md": "md.j2",
    "html": "html.j2",
    "json": "json.j2",
    "jsonld": "jsonld.j2",
    "text": "text.j2",
}
STANDALONE = "page.html.j2"
EXTENSIONS = {"md": "md", "html": "html", "json": "json", "jsonld": "jsonld", "text": "txt"}


def builtin_dir() -> Path:
    """Templates ship inside the wheel (takeaways/templates); in a source checkout they are at the top."""
    packaged = Path(__file__).parent / "templates"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[2] / "templates"


def _search_path(template_dir: Path | None) -> list[Path]:
    base = builtin_dir()
    path = [base / "blocks", base / "prompts"]
    if template_dir is not None:
        if not Path(template_dir).is_dir():
            raise TemplateError(f"--template-dir {template_dir}: not a directory; run `takeaways templates export DIR` to create one")
        path.insert(0, Path(template_dir))
    return path


def _to_json(value: Any, indent: int | None = 2, html_safe: bool = True) -> Markup:
    """JSON for templates. `html_safe` (for <script> and HTML) \\u-escapes <, >, & and ', so text such
    as "</script>" inside an answer cannot end the script element; plain -f json does not need it."""
    from markupsafe import Markup

    text = json.dumps(value, indent=indent, ensure_ascii=False)
    if html_safe:
        text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").replace("'", "\\u0027")
    return Markup(text)


_MD_SPECIAL = re.compile(r"[\\`*\[\]]|(?<![^\W_])_|_(?![^\W_])")


def _md_escape(text: str) -> str:
    """Keep article text from becoming live HTML or Markdown (emphasis, links, code) in Markdown renderers.

    "so much sh** for" must not start bold text, "[here](http://…)" must not become a link; an
    underscore inside a word ("snake_case") is left alone, as CommonMark does not read it as emphasis.
    """
    text = _MD_SPECIAL.sub(lambda m: "\\" + m.group(0), text)
    return text.replace("<", "&lt;").replace(">", "&gt;")


def _autoescape(name: str | None) -> bool:
    return bool(name) and (name.endswith(("html.j2", ".html", "jsonld.j2")))  # type: ignore[union-attr]


def environment(template_dir: Path | None = None) -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(p) for p in _search_path(template_dir)]),
        autoescape=_autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["to_json"] = _to_json
    env.filters["md_escape"] = _md_escape
    env.filters["oneline"] = lambda s: re.sub(r"\s+", " ", str(s)).strip()
    return env


@functools.lru_cache(maxsize=16)
def _shared_environment(template_dir: Path | None) -> jinja2.Environment:
    """One environment per template dir, so each template is compiled once (Jinja2 reloads edited files)."""
    return environment(template_dir)


def get_template(name: str, template_dir: Path | None = None) -> jinja2.Template:
    import jinja2

    try:
        return _shared_environment(Path(template_dir) if template_dir else None).get_template(name)
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(f"template {name} not found; run `takeaways templates list` to see the names") from exc
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"template {exc.filename or name}, line {exc.lineno}: {exc.message}") from exc


def render(digest: Digest, format: str = "md", template_dir: Path | str | None = None, *, standalone: bool = False) -> str:
    """Render a Digest in one of FORMATS; `standalone` wraps html in a full page."""
    import jinja2

    if format not in FORMATS:
        raise TemplateError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    tdir = Path(template_dir) if template_dir else None
    name = STANDALONE if standalone and format == "html" else FORMATS[format]
    data = public_data(digest)
    context = {"digest": data, **data, "faq_page": faq_page(digest)}
    try:
        return get_template(name, tdir).render(context)
    except jinja2.TemplateError as exc:
        raise TemplateError(f"template {name} failed: {exc}; fix the template or remove it from --template-dir") from exc


def public_data(digest: Digest) -> dict[str, Any]:
    """The digest as the block templates see it: `dropped` entries say which item failed which
    check and why, but not the item's text, so no output format can carry an unsupported claim
    (the batch journal keeps the whole entry for review)."""
    data = digest.model_dump(mode="json")
    for entry in data.get("dropped", []):
        entry.pop("item", None)
    return data


ARTICLE_FORMATS = ("text", "json")


def render_article(article: Article, format: str = "text") -> str:
    """What `takeaways extract` shows: the article as the engines see it (text), or everything (json)."""
    if format == "json":
        return article.model_dump_json(indent=2) + "\n"
    if format != "text":
        raise TemplateError(f"unknown format {format!r}; choose one of {', '.join(ARTICLE_FORMATS)}")
    parts = [f"# {article.title}"] if article.title else []
    for b in article.blocks:
        if b.kind == "heading":
            parts.append("#" * min(max(b.level, 2), 6) + " " + b.text)
        elif b.kind == "list_item" and parts and parts[-1].startswith("- "):
            parts[-1] += "\n- " + b.text  # consecutive items form one list
        else:
            parts.append(f"- {b.text}" if b.kind == "list_item" else f"> {b.text}" if b.kind == "quote" else b.text)
    return "\n\n".join(parts) + "\n"


def faq_page(digest: Digest) -> dict[str, Any]:
    """schema.org FAQPage for the digest's FAQ."""
    page: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "FAQPage",
        "mainEntity": [
            {"@type": "Question", "name": qa.question,
             "acceptedAnswer": {"@type": "Answer", "text": qa.answer}}
            for qa in digest.faq
        ],
    }
    if digest.article.language:
        page["inLanguage"] = digest.article.language
    if digest.article.url and digest.article.url.startswith(("http://", "https://")):
        page["url"] = digest.article.url
    return page


def list_templates() -> list[tuple[str, Path]]:
    base = builtin_dir()
    return sorted(((p.name, p) for sub in ("blocks", "prompts") for p in (base / sub).glob("*.j2")), key=lambda x: x[1])


def export_templates(dest: Path, *, force: bool = False) -> list[Path]:
    written = []
    try:
        dest.mkdir(parents=True, exist_ok=True)
        clashes = [name for name, _ in list_templates() if (dest / name).exists()]
        if clashes and not force:
            raise TemplateError(f"{dest} already has {', '.join(clashes)}; pass --force to overwrite")
        for name, path in list_templates():
            shutil.copyfile(path, dest / name)
            written.append(dest / name)
    except OSError as exc:
        raise OutputError(f"cannot write templates to {dest} ({exc.strerror or exc}); "
                          "choose a directory you can write to") from exc
    return written
