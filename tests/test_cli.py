"""CLI: exact output and exit codes with CliRunner; a couple of real subprocess runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from takeaways import QA, Article, Digest, Spec, Takeaway
from takeaways.cli import cli
from takeaways.config import Settings

FIXTURES = Path(__file__).parent / "fixtures"
ARTICLE = str(FIXTURES / "article.html")
NOTE = "Note: no LLM configured (set OPENAI_API_KEY or OPENAI_BASE_URL); using the offline extractive engine.\n"


def run(*args: str, input: str | bytes | None = None) -> CliResult:
    result = CliRunner().invoke(cli, list(args), input=input)
    return CliResult(result.exit_code, result.stdout, result.stderr, result.exception)


class CliResult:
    def __init__(self, code: int, out: str, err: str, exc: BaseException | None) -> None:
        self.code, self.out, self.err, self.exc = code, out, err, exc


class QuoteEngine:
    """A deterministic engine: the first sentences of the first paragraphs, quoted verbatim."""

    name = "extractive"

    def generate(self, article: Article, spec: Spec, settings: Settings) -> Digest:
        paras = [b.text for b in article.blocks if b.kind == "paragraph"]
        first = [p.split(". ")[0].rstrip(".") + "." for p in paras]
        return Digest(article=article.meta, engine=self.name, existing_blocks=article.existing_blocks,
                      takeaways=[Takeaway(text=s, evidence=s) for s in first[: spec.takeaways]],
                      faq=[QA(question=f"What is point {i + 1}?", answer=s, evidence=s)
                           for i, s in enumerate(first[: spec.questions])])


@pytest.fixture
def quote_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("takeaways.api.get_engine", lambda name: QuoteEngine())


# --- summarize -----------------------------------------------------------------------------


def test_summarize_markdown_exact(quote_engine: None) -> None:
    r = run("summarize", ARTICLE, "--takeaways", "2", "--questions", "1")
    assert (r.code, r.err) == (0, NOTE)
    assert r.out == (
        "## Key Takeaways\n\n"
        "- The harbour authority of Riverton will let cyclists board the night ferry between the old port and the "
        "island district from the first of May, ending a ban that has stood for eleven years.\n"
        "- Officials said the ferry's lower deck will be fitted with twelve bicycle racks and a ramp that folds "
        "flat when the vessel docks.\n\n"
        "## FAQ\n\n"
        "**Q: What is point 1?**\n"
        "A: The harbour authority of Riverton will let cyclists board the night ferry between the old port and "
        "the island district from the first of May, ending a ban that has stood for eleven years.\n")


def test_summarize_text_and_counts(quote_engine: None) -> None:
    r = run("summarize", ARTICLE, "-f", "text", "-t", "1", "-q", "0", "--engine", "extractive")
    assert (r.code, r.err) == (0, "")  # an explicit engine: no notice
    assert r.out == ("Key Takeaways\n- The harbour authority of Riverton will let cyclists board the night ferry "
                     "between the old port and the island district from the first of May, ending a ban that has "
                     "stood for eleven years.\n")


def test_summarize_json_shows_article_and_existing_blocks(quote_engine: None) -> None:
    r = run("summarize", ARTICLE, "-f", "json", "-e", "extractive")
    data = json.loads(r.out)
    assert data["article"] == {"url": "https://ledger.example/news/riverton-night-ferry",
                               "title": "Riverton Opens Its Night Ferry to Cyclists", "author": "Mara Olsen",
                               "date": "2026-03-14", "sitename": "Harbor Ledger", "language": "en", "word_count": 284}
    assert [b["heading"] for b in data["existing_blocks"]] == ["FAQ", "Key Takeaways"]
    assert (len(data["takeaways"]), len(data["faq"]), data["engine"]) == (5, 4, "extractive")


def test_summarize_with_the_real_default_engine() -> None:
    r = run("summarize", ARTICLE, "-f", "json")
    assert (r.code, r.err) == (0, NOTE)
    data = json.loads(r.out)
    assert data["engine"] == "extractive" and data["takeaways"]
    assert [b["heading"] for b in data["existing_blocks"]] == ["FAQ", "Key Takeaways"]  # whatever the engine
    for item in data["takeaways"] + data["faq"]:
        assert item["evidence"]


def test_hostile_article_is_escaped_in_html_and_jsonld(quote_engine: None) -> None:
    src = str(FIXTURES / "hostile.html")
    html = run("summarize", src, "-f", "html", "-e", "extractive", "--min-words", "50")
    assert html.code == 0
    assert "typing &lt;script&gt;alert(1)&lt;/script&gt; into" in html.out
    assert "<script>alert" not in html.out and html.out.count("</script>") == 1
    ld = run("summarize", src, "-f", "jsonld", "-e", "extractive", "--min-words", "50")
    assert ld.out.count("</script>") == 1 and "<script>alert" not in ld.out
    assert "typing \\u003cscript\\u003ealert(1)\\u003c/script\\u003e into" in ld.out
    page = run("summarize", src, "-f", "html", "--standalone", "-e", "extractive", "--min-words", "50")
    assert page.out.startswith("<!doctype html>") and "<script>alert" not in page.out


def test_summarize_from_stdin(quote_engine: None) -> None:
    r = run("summarize", "-", "-f", "text", "-t", "1", "-q", "0", "-e", "extractive",
            input=(FIXTURES / "article.txt").read_bytes())
    assert r.code == 0
    assert r.out.startswith("Key Takeaways\n- Glasshouse Labs will build its next solar inverter")


def test_output_file_is_written_atomically(tmp_path: Path, quote_engine: None) -> None:
    out = tmp_path / "sub" / "digest.md"
    r = run("summarize", ARTICLE, "-o", str(out), "-e", "extractive")
    assert (r.code, r.out, r.err) == (0, "", "")
    assert out.read_text().startswith("## Key Takeaways\n\n- The harbour authority")
    assert [p.name for p in out.parent.iterdir()] == ["digest.md"]  # no temp file left behind


def test_failed_run_leaves_the_previous_output_alone(tmp_path: Path) -> None:
    out = tmp_path / "digest.md"
    out.write_text("previous\n")
    r = run("summarize", str(tmp_path / "missing.html"), "-o", str(out))
    assert r.code == 1 and out.read_text() == "previous\n"


def test_unwritable_output_is_a_clear_error(tmp_path: Path, quote_engine: None) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    r = run("summarize", ARTICLE, "-o", str(blocker / "digest.md"), "-e", "extractive")
    assert r.code == 1 and r.out == ""
    assert r.err.startswith(f"Error: cannot write {blocker / 'digest.md'} (")
    assert r.err.endswith("); check the path and its permissions\n")


# --- errors ----------------------------------------------------------------------------------


def test_missing_file_error_exact() -> None:
    r = run("summarize", "nope.html", "-e", "extractive")
    assert (r.code, r.out) == (1, "")
    assert r.err == "Error: nope.html: no such file; check the path (URLs must start with http:// or https://)\n"
    assert r.exc is None or isinstance(r.exc, SystemExit)


def test_too_short_error_exact(tmp_path: Path) -> None:
    path = tmp_path / "short.txt"
    path.write_text("A short note\nOnly a few words are here, far too few for an article.\n")
    r = run("summarize", str(path), "-e", "extractive")
    assert r.code == 1
    assert r.err == (f"Error: {path}: only 12 words of article text (minimum 120); this does not look like an "
                     "article; pass --min-words to accept shorter texts\n")


def test_usage_errors_exit_2() -> None:
    r = run("summarize", ARTICLE, "-f", "pdf")
    assert r.code == 2 and "Invalid value for '--format' / '-f': 'pdf' is not one of" in r.err
    assert run("summarize").code == 2
    assert run("summarize", ARTICLE, "--takeaways", "-1").code == 2


def test_bad_template_dir(tmp_path: Path) -> None:
    r = run("summarize", ARTICLE, "--template-dir", str(tmp_path / "nope"), "-e", "extractive")
    assert r.code == 1
    assert r.err == (f"Error: --template-dir {tmp_path / 'nope'}: not a directory; run `takeaways templates export "
                     "DIR` to create one\n")


def test_engine_auto_resolution() -> None:
    assert Settings.from_env().resolved_engine() == "extractive"
    assert Settings.from_env(api_key="sk-test").resolved_engine() == "openai"
    assert Settings.from_env(base_url="http://127.0.0.1:9/v1").resolved_engine() == "openai"
    assert Settings.from_env(engine="extractive", api_key="sk-test").resolved_engine() == "extractive"


def test_engine_auto_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    assert Settings.from_env().resolved_engine() == "openai"


# --- extract -------------------------------------------------------------------------------


def test_extract_text_exact_start() -> None:
    r = run("extract", ARTICLE)
    assert r.code == 0 and r.err == ""
    assert r.out.startswith(
        "# Riverton Opens Its Night Ferry to Cyclists\n\n"
        "The harbour authority of Riverton will let cyclists board the night ferry")
    assert "\n\n## Why the ban is ending\n\n" in r.out
    assert ("- Twelve racks on the lower deck, available on a first come basis\n"
            "- Boarding through the rear door only, five minutes before departure\n") in r.out
    assert r.out.endswith("23:40 | Island district | 12\n")


def test_extract_json() -> None:
    data = json.loads(run("extract", ARTICLE, "-f", "json").out)
    assert {"url", "title", "author", "date", "sitename", "language", "word_count", "text", "blocks",
            "existing_blocks"} <= set(data)
    assert data["blocks"][2] == {"kind": "heading", "text": "Why the ban is ending", "level": 2}


def test_extract_min_words() -> None:
    r = run("extract", str(FIXTURES / "hostile.html"), "--min-words", "1000")
    assert r.code == 1 and r.err.startswith(f"Error: {FIXTURES / 'hostile.html'}: only 174 words of article text (minimum 1000)")
    assert run("extract", str(FIXTURES / "hostile.html"), "--min-words", "174").code == 0


# --- templates -----------------------------------------------------------------------------


def test_templates_list() -> None:
    r = run("templates", "list")
    names = [line.split("\t")[0] for line in r.out.splitlines()]
    assert r.code == 0 and {"md.j2", "html.j2", "json.j2", "jsonld.j2", "text.j2", "page.html.j2"} <= set(names)
    assert all(Path(line.split("\t")[1]).is_file() for line in r.out.splitlines())


def test_templates_export_then_override(tmp_path: Path, quote_engine: None) -> None:
    dest = tmp_path / "mine"
    r = run("templates", "export", str(dest))
    assert r.code == 0 and f"{dest / 'md.j2'}\n" in r.out
    again = run("templates", "export", str(dest))
    assert again.code == 1 and again.err.startswith(f"Error: {dest} already has ") and "pass --force" in again.err
    assert run("templates", "export", str(dest), "--force").code == 0
    (dest / "text.j2").write_text("{{ takeaways | length }} takeaways\n")
    r = run("summarize", ARTICLE, "-f", "text", "--template-dir", str(dest), "-e", "extractive")
    assert r.out == "5 takeaways\n"


def test_standalone_without_html_is_a_usage_error_not_silently_ignored() -> None:
    r = run("summarize", ARTICLE, "-f", "md", "--standalone", "-e", "extractive")
    assert r.code == 2 and r.out == ""
    assert r.err.endswith("Error: --standalone makes a whole HTML page; use it with -f html, not -f md\n")


def test_templates_export_to_an_unwritable_place_is_one_error_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    r = run("templates", "export", str(tmp_path / "file" / "mine"))
    assert r.code == 1
    assert r.err.startswith(f"Error: cannot write templates to {tmp_path / 'file' / 'mine'} (")
    assert r.err.endswith("; choose a directory you can write to\n") and "Traceback" not in r.err


# --- real processes ------------------------------------------------------------------------


def _python(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    src = Path(__file__).resolve().parents[1] / "src"
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run([sys.executable, "-m", "takeaways", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=60)


def test_python_m_takeaways(tmp_path: Path) -> None:
    ok = _python("--version", cwd=tmp_path)
    assert ok.returncode == 0 and ok.stdout.startswith("takeaways, version ")
    bad = _python("summarize", "missing.html", cwd=tmp_path)
    assert bad.returncode == 1 and bad.stdout == ""
    assert bad.stderr == "Error: missing.html: no such file; check the path (URLs must start with http:// or https://)\n"


def test_max_bytes_option(tmp_path: Path) -> None:
    r = run("summarize", ARTICLE, "--max-bytes", "1000")
    assert r.code == 1
    assert r.err == f"Error: {ARTICLE} is 3.2 kB, over the 1 kB limit; pass --max-bytes to raise it\n"


def test_url_errors_on_the_command_line() -> None:
    from tests.pageserver import PageServer

    with PageServer() as srv:
        r = run("summarize", srv.url("/gone"))
    assert (r.code, r.out) == (1, "")
    assert r.err == f"Error: {srv.url('/gone')}: HTTP 404 Not Found; check the URL\n"
