"""The click CLI: parse options, call one library function, print. No logic lives here."""

from __future__ import annotations

import atexit
import gc
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from . import __version__
from .batch.executors import names as executor_names
from .config import DEFAULT_MODEL, Settings
from .errors import TakeawaysError
from .fsutil import atomic_write
from .rendering import ARTICLE_FORMATS, FORMATS

F = Callable[..., Any]

# At exit, move every object out of the cycle collector's reach, so interpreter shutdown does not
# walk the whole heap (the openai package's thousands of model classes alone cost ~0.5 s there).
# Everything is closed explicitly before; the OS reclaims the rest.
atexit.register(gc.freeze)


class Group(click.Group):
    """Turns TakeawaysError into `Error: …` on stderr and exit 1, and Ctrl-C into exit 130."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TakeawaysError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(130)



def _stack(*decorators: F) -> Callable[[F], F]:
    def apply(fn: F) -> F:
        for d in reversed(decorators):
            fn = d(fn)
        return fn
    return apply


load_options = _stack(
    click.option("--max-bytes", type=click.IntRange(1), default=10_000_000, show_default=True, help="Refuse pages larger than this."),
    click.option("--connect-timeout", type=click.FloatRange(0.1), default=10.0, show_default=True, help="Seconds to wait for a connection."),
    click.option("--read-timeout", type=click.FloatRange(0.1), default=30.0, show_default=True, help="Seconds to wait for the server to answer."),
    click.option("--max-fetch-time", type=click.FloatRange(1), default=120.0, show_default=True,
                 help="Seconds one download may take in all (redirects and a slow server included)."),
    click.option("--allow-private", is_flag=True, default=None,
                 help="Let URLs found in sitemaps, feeds, fetched lists and redirects reach private, loopback and link-local addresses."),
    click.option("--min-words", type=click.IntRange(0), default=120, show_default=True, help="Refuse articles shorter than this."),
)

generate_options = _stack(
    click.option("--takeaways", "-t", type=click.IntRange(0, 50), default=5, show_default=True, help="Key Takeaways to give at most (the offline engine stops early when the rest are weak)."),
    click.option("--questions", "-q", type=click.IntRange(0, 50), default=4, show_default=True, help="Number of FAQ questions."),
    click.option("--engine", "-e", type=click.Choice(["auto", "extractive", "openai"]), default="auto", show_default=True,
                 envvar="TAKEAWAYS_ENGINE", help="auto = openai when an API key or base URL is set, else extractive."),
    click.option("--lang", help="Output language (default: the article's language)."),
    click.option("--no-fill", "fill", flag_value=False, default=True, help="Do not top up dropped LLM items from the extractive engine."),
)

llm_options = _stack(
    click.option("--api-key", envvar="OPENAI_API_KEY", help="API key [env: OPENAI_API_KEY]."),
    click.option("--base-url", envvar="OPENAI_BASE_URL", help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1 [env: OPENAI_BASE_URL]."),
    click.option("--model", "-m", envvar="TAKEAWAYS_MODEL", default=DEFAULT_MODEL, show_default=True, help="Model name [env: TAKEAWAYS_MODEL]."),
    click.option("--timeout", type=click.FloatRange(1),
                 help="Seconds per LLM request [default: 60; 600 when --base-url is a loopback or private address, "
                      "since a local model on a CPU can take minutes and a timed-out request keeps it busy]."),
    click.option("--max-retries", type=click.IntRange(0, 10), default=2, show_default=True, help="Retries for 429/5xx/timeouts."),
    click.option("--max-input-tokens", type=click.IntRange(500), default=12_000, show_default=True, help="Longer articles are chunked."),
    click.option("--max-output-tokens", type=click.IntRange(16), default=1_500, show_default=True, help="Output tokens per LLM request."),
    click.option("--max-cost", type=click.FloatRange(0), help="Stop before a call that would exceed this many USD."),
    click.option("--price-file", type=click.Path(dir_okay=False, path_type=Path), help="JSON price table overriding the built-in one."),
    click.option("--seed", type=int, help="Sampling seed sent to the server, for reproducible answers where it is supported."),
)

render_options = _stack(
    click.option("--format", "-f", "fmt", type=click.Choice(list(FORMATS)), default="md", show_default=True, help="Output format."),
    click.option("--template-dir", type=click.Path(file_okay=False, path_type=Path), help="Templates here override built-ins by file name."),
)


def make_settings(kwargs: dict[str, Any]) -> Settings:
    """Pick the Settings fields out of a command's keyword arguments."""
    known = set(Settings.__dataclass_fields__)
    return Settings.from_env(**{k: v for k, v in kwargs.items() if k in known})


def notice_engine(settings: Settings) -> None:
    if settings.engine == "auto" and not settings.llm_configured:
        click.echo("Note: no LLM configured (set OPENAI_API_KEY or OPENAI_BASE_URL); using the offline extractive engine.", err=True)


def emit(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
    else:
        atomic_write(output, text)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="takeaways")
def cli() -> None:
    """Turn web articles into a publishable FAQ and Key Takeaways, every item backed by a quote."""


@cli.command()
@click.argument("source")
@render_options
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write here (atomically) instead of stdout.")
@click.option("--standalone", is_flag=True, help="With -f html: a whole page with CSS, for previewing.")
@click.option("--dry-run", is_flag=True, help="Print the LLM prompt, token estimate and cost; send nothing.")
@click.option("--review", "review_page", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a review page (every item beside its quote, approve/reject) to this HTML file.")
@generate_options
@llm_options
@load_options
def summarize(source: str, fmt: str, output: Path | None, standalone: bool, review_page: Path | None,
              **kwargs: Any) -> None:
    """Summarize SOURCE (a URL, a file, or - for stdin) into Key Takeaways and an FAQ."""
    if standalone and fmt != "html":
        raise click.UsageError(f"--standalone makes a whole HTML page; use it with -f html, not -f {fmt}")
    if review_page is not None and kwargs.get("dry_run"):
        raise click.UsageError("--review shows generated items; --dry-run generates none")
    from . import api

    settings = make_settings(kwargs)
    article = api.load_article(source, settings)
    notice_engine(settings)  # after loading: a bad source gets one clear error line, nothing else
    if settings.dry_run:
        emit(api.dry_run(article, settings), output)
        return
    digest = api.generate(article, settings)
    emit(api.render(digest, fmt, settings.template_dir, standalone=standalone), output)
    if review_page is not None:
        from . import review

        review.write_single(digest, article, review_page, source)


@cli.command()
@click.argument("source")
@click.option("--format", "-f", "fmt", type=click.Choice(list(ARTICLE_FORMATS)), default="text", show_default=True, help="Output format.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write here (atomically) instead of stdout.")
@load_options
def extract(source: str, fmt: str, output: Path | None, **kwargs: Any) -> None:
    """Show the article text and metadata the engines will see for SOURCE."""
    from . import api
    from .rendering import render_article

    article = api.load_article(source, make_settings(kwargs))
    emit(render_article(article, fmt), output)


@cli.group()
def templates() -> None:
    """List or export the built-in templates, to start your own --template-dir."""


@templates.command("list")
def templates_list() -> None:
    """List the built-in templates (name and path)."""
    from .rendering import list_templates

    for name, path in list_templates():
        click.echo(f"{name}\t{path}")


@templates.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
def templates_export(directory: Path, force: bool) -> None:
    """Copy the built-in templates into DIRECTORY; edit them and pass --template-dir DIRECTORY."""
    from .rendering import export_templates

    for path in export_templates(directory, force=force):
        click.echo(str(path))


TABLE_FORMAT = "parquet"  # batch only: one table of every article, not a file per article


def _formats(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(f.strip() for f in value.split(",") if f.strip()))
    allowed = (*FORMATS, TABLE_FORMAT)
    bad = [f for f in names if f not in allowed]
    if bad or not names:
        raise click.BadParameter(f"{', '.join(bad) or 'nothing'}: choose from {', '.join(allowed)} (comma-separated)")
    return names


def _batch_endpoint(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not re.fullmatch(r"(/[A-Za-z0-9._-]+)*/chat/completions", value):
        raise click.BadParameter(f"{value!r}: a path ending in /chat/completions, e.g. /v1/chat/completions (OpenAI, "
                                 "Groq, Together, vLLM) or /chat/completions (Azure OpenAI)")
    return value


batch_api_options = _stack(
    click.option("--batch-api", is_flag=True, help="Send the requests through the provider's Batch API (half price, "
                 "answers within 24 h); same as --executor batch-api. Rerun the same command to collect."),
    click.option("--wait", is_flag=True, help="With --batch-api: poll until every job has ended, then finish."),
    click.option("--poll-interval", type=click.FloatRange(0), default=10.0, show_default=True,
                 help="With --wait: seconds before the first poll (grows to 5 min)."),
    click.option("--batch-max-requests", type=click.IntRange(1), default=50_000, show_default=True,
                 help="Requests per Batch API file (your provider's limit)."),
    click.option("--batch-max-bytes", type=click.IntRange(1000), default=200_000_000, show_default=True,
                 help="Bytes per Batch API file (your provider's limit)."),
    click.option("--batch-endpoint", default="/v1/chat/completions", show_default=True, callback=_batch_endpoint,
                 help="The url of each request line and the job's endpoint; Azure OpenAI wants /chat/completions."),
    click.option("--export-requests", type=click.Path(dir_okay=False, path_type=Path),
                 help="Write the Batch API request file here and send nothing (e.g. for vllm run-batch)."),
    click.option("--import-results", type=click.Path(dir_okay=False, exists=True, path_type=Path),
                 help="Commit the answers in this Batch API result file (from --export-requests); send nothing."),
)


def batch_api_settings(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Pop the --batch-api options; any of them selects the batch-api executor."""
    chosen = kwargs.pop("batch_api")
    export, imported = kwargs.pop("export_requests"), kwargs.pop("import_results")
    if export is not None and imported is not None:
        raise click.UsageError("--export-requests and --import-results are two separate runs: export, answer the "
                               "file elsewhere, then import")
    if chosen or export is not None or imported is not None:
        if kwargs.get("executor") not in ("local", "batch-api"):
            raise click.UsageError(f"--batch-api cannot be combined with --executor {kwargs['executor']}")
        kwargs["executor"] = "batch-api"
    return {"wait": kwargs.pop("wait"), "poll_interval": kwargs.pop("poll_interval"),
            "batch_max_requests": kwargs.pop("batch_max_requests"), "batch_max_bytes": kwargs.pop("batch_max_bytes"),
            "batch_endpoint": kwargs.pop("batch_endpoint"),
            "export_requests": export, "import_results": imported}


@cli.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("--out", "-o", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Output directory: one file per article and format, results.jsonl, report.json, state.")
@click.option("--format", "-f", "formats", default="md", show_default=True, callback=_formats,
              help=f"Comma-separated formats: {', '.join(FORMATS)} (a file per article); {TABLE_FORMAT} "
                   "(DIR/results.parquet: every article in one table, written at the end of each run).")
@click.option("--template-dir", type=click.Path(file_okay=False, path_type=Path), help="Templates here override built-ins by file name.")
@click.option("--executor", type=click.Choice(executor_names()), default="local", show_default=True,
              help="How items are run: local = this process (asyncio); batch-api = the provider's Batch API; "
                   "ray = a Ray cluster.")
@click.option("--ray-address", metavar="ADDR",
              help="--executor ray: the cluster to join (auto, HOST:PORT, ray://HOST:10001); "
                   "default: start a local Ray on this machine.")
@click.option("--concurrency", "-c", type=click.IntRange(1, 1000), default=8, show_default=True, help="Articles generated at once.")
@click.option("--per-host", type=click.IntRange(1, 100), default=2, show_default=True, help="Downloads at once from one host.")
@click.option("--rpm", type=click.IntRange(1), help="At most this many LLM requests per minute.")
@click.option("--tpm", type=click.IntRange(1), help="At most this many LLM tokens per minute (estimated before each call).")
@click.option("--retry-failed", is_flag=True, help="Retry items that failed in an earlier run.")
@click.option("--limit", type=click.IntRange(1), help="Only the first N items (after de-duplication).")
@click.option("--dry-run", "batch_dry_run", is_flag=True, help="List what would be processed; fetch and send nothing.")
@click.option("--quiet", is_flag=True, help="No progress and no summary (the exit code and report.json still tell).")
@click.option("--progress", type=click.Choice(["auto", "bar", "lines", "none"]), default="auto", show_default=True,
              help="auto = a bar on a terminal, periodic lines otherwise.")
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False, path_type=Path), envvar="TAKEAWAYS_CACHE",
              help="Result cache directory [env: TAKEAWAYS_CACHE; default: the user cache dir].")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the result cache.")
@click.option("--workers", type=click.IntRange(0, 64), help="Extraction processes (default: one per CPU; 0 = threads).")
@click.option("--max-urls", type=click.IntRange(1), default=1_000_000, show_default=True,
              help="Work items one INPUT (a sitemap index, feed or list) may expand to; the rest are refused.")
@click.option("--retry-wait", type=click.FloatRange(0), default=0.5, hidden=True, help="First backoff for transient errors (s).")
@batch_api_options
@generate_options
@llm_options
@load_options
def batch(inputs: tuple[str, ...], out: Path, formats: tuple[str, ...], batch_dry_run: bool, quiet: bool,
          progress: str, no_cache: bool, **kwargs: Any) -> None:
    """Summarize many articles: INPUT is a URL, file, directory, list, sitemap, feed, JSONL or - (stdin).

    Resumable: rerun the same command to continue; finished items are never redone or paid twice.
    Exit code 0 when every item is done or skipped, 1 when any failed, 130 when interrupted.
    """
    from . import batch as batch_mod

    for source in inputs:
        if source != "-" and "://" not in source and not (Path(source).expanduser().exists() or Path(source).expanduser().is_symlink()):
            raise click.UsageError(f"{source}: no such file or directory (URLs must start with http:// or https://)")
    api_opts = batch_api_settings(kwargs)  # before --executor is read: --batch-api sets it
    executor, ray_address = kwargs.pop("executor"), kwargs.pop("ray_address")
    if ray_address is not None and executor != "ray":
        raise click.UsageError("--ray-address needs --executor ray")
    opts = batch_mod.BatchOptions(
        out=out, formats=tuple(f for f in formats if f != TABLE_FORMAT), parquet=TABLE_FORMAT in formats,
        executor=executor, ray_address=ray_address, concurrency=kwargs.pop("concurrency"), per_host=kwargs.pop("per_host"),
        rpm=kwargs.pop("rpm"), tpm=kwargs.pop("tpm"), max_cost=kwargs.get("max_cost"),
        retry_failed=kwargs.pop("retry_failed"), limit=kwargs.pop("limit"), dry_run=batch_dry_run,
        progress="none" if quiet else progress, cache_dir=kwargs.pop("cache_dir"), use_cache=not no_cache,
        workers=kwargs.pop("workers"), **api_opts)
    settings = make_settings(kwargs)
    if not quiet:
        notice_engine(settings)
    report = batch_mod.run(list(inputs), settings, opts)
    if not quiet:
        click.echo(batch_mod.summary(report))
    sys.exit(batch_mod.exit_code(report))


@cli.command("review")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--open", "open_", is_flag=True, help="Open the index page in the web browser.")
def review_cmd(directory: Path, open_: bool) -> None:
    """Write review pages for the batch run in DIRECTORY: DIRECTORY/review/index.html and one page per article."""
    from . import review

    index = review.write_run(directory)
    click.echo(str(index))
    if open_:
        import webbrowser

        webbrowser.open(index.resolve().as_uri())


@cli.command("apply-review")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.argument("decisions", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--template-dir", type=click.Path(file_okay=False, path_type=Path), help="Templates the run was rendered with.")
def apply_review(directory: Path, decisions: Path, template_dir: Path | None) -> None:
    """Record DECISIONS (exported from the review pages) for the run in DIRECTORY and re-render its files without the rejected items."""
    from . import review

    result = review.apply(directory, decisions, template_dir)
    click.echo(f"{result['applied']} article(s) reviewed now, {len(result['files'])} file(s) re-rendered; "
               f"run total: {len(result['approved'])} approved, {len(result['rejected'])} rejected, "
               f"{result['rejected_items']} item(s) rejected")


@cli.command()
@click.argument("source", required=False)
@click.argument("claims", required=False)
@click.option("--format", "-f", "fmt", type=click.Choice(["md", "json"]), default="md", show_default=True, help="Output format.")
@click.option("--jsonl", "jsonl", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
              help='Check many: each line {"id", "article" or "source", "claims"}; one result line each, in order.')
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write here (atomically) instead of stdout.")
@load_options
def check(source: str | None, claims: str | None, fmt: str, jsonl: Path | None, output: Path | None, **kwargs: Any) -> None:
    """Check CLAIMS against the article SOURCE: does the article say what each claim says?

    SOURCE is a URL, a file or - (as for summarize); CLAIMS a file with one claim per line, a JSON
    list of strings, or - for stdin. Exit code 0 when every claim is supported, 1 when any is not.
    Offline, no API key: numbers, dates, names, negation and who-did-what are compared in the best
    one-or-two-sentence window of the article.
    """
    from . import api
    from . import claims as claims_mod

    settings = make_settings(kwargs)
    if jsonl is not None:
        if source or claims:
            raise click.UsageError("with --jsonl, give no SOURCE or CLAIMS (each line names its own)")
        records = [api.check_record(line, settings, n) for n, line in _jsonl_lines(jsonl)]
        emit("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), output)
        sys.exit(0 if all(r.get("supported") for r in records) else 1)
    if not source or not claims:
        raise click.UsageError("give SOURCE and CLAIMS (or --jsonl FILE)")
    if source == "-" and claims == "-":
        raise click.UsageError("SOURCE and CLAIMS cannot both be - (stdin)")
    try:
        raw = sys.stdin.read() if claims == "-" else Path(claims).read_text(encoding="utf-8")
        items = claims_mod.parse_claims(raw)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise click.UsageError(f"{claims}: cannot read claims: {getattr(exc, 'strerror', None) or exc}") from None
    if not items:
        raise click.UsageError(f"{claims}: no claims (one per line, or a JSON list of strings)")
    article = api.load_article(source, settings)
    results = api.check(items, article)
    emit(claims_mod.format_results(results, fmt), output)
    sys.exit(0 if all(r.supported for r in results) else 1)


def _jsonl_lines(path: Path) -> list[tuple[int, str]]:
    """The non-blank lines of a JSONL file (or of stdin for -), with their line numbers."""
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.UsageError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    return [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]


@cli.command("batch-status")
@click.argument("out", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--cancel", is_flag=True, help="Cancel the jobs that have not ended (what they answered is still collected).")
@llm_options
def batch_status(out: Path, cancel: bool, **kwargs: Any) -> None:
    """Show the Batch API jobs of the batch output directory OUT (id, status, counts, age)."""
    from .batch.executors.batchapi import jobs_status

    click.echo(jobs_status(out, make_settings(kwargs), cancel=cancel))


def main() -> None:  # pragma: no cover - used by python -m
    cli(prog_name="takeaways")


if __name__ == "__main__":  # pragma: no cover
    main()
