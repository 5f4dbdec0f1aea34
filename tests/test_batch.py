"""`takeaways batch`: outputs, dedup, failures, resume, cache, exit codes, kill -9 and Ctrl-C."""

from __future__ import annotations

import importlib
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from takeaways.batch import journal, keys
from takeaways.batch.journal import read_article
from takeaways.cli import cli
from tests.site import Site, article_html

ROOT = Path(__file__).resolve().parents[1]
FAST = ["-e", "extractive", "--workers", "0", "--retry-wait", "0.01", "--progress", "none"]


def run(args: list[str], **kw: Any) -> Result:
    return CliRunner().invoke(cli, ["batch", *args], catch_exceptions=False, **kw)


def results(out: Path) -> list[dict[str, Any]]:
    path = out / "results.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def report(out: Path) -> dict[str, Any]:
    return json.loads((out / "report.json").read_text())


def outputs(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.is_file() and p.suffix in {".md", ".html", ".json", ".jsonld"}
                  and p.name != "report.json")


@pytest.fixture
def site() -> Any:
    with Site(delay=0.3) as s:
        yield s


def mixed_list(site: Site, tmp_path: Path) -> Path:
    lst = tmp_path / "list.txt"
    lines = ["# articles", *(site.url(f"/a/{n}.html") for n in range(1, 5)),
             site.url("/a/1.html?utm_source=news#comments"),  # the same URL again
             site.url("/sitemap.xml"),  # /a/1 and /a/2 once more
             site.url("/dup/2.html"),  # the text of /a/2 under another URL
             site.url("/missing.html"), site.url("/nav.html"), site.url("/flaky/1.html"),
             site.url("/gone/sitemap.xml")]  # an input that cannot be read: one failed item
    lst.write_text("\n".join(lines) + "\n")
    return lst


def test_batch_outputs_dedup_failures_and_report(site: Site, tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = run([str(mixed_list(site, tmp_path)), "--out", str(out), "-f", "md,json", *FAST])
    assert res.exit_code == 1, res.output
    rep = report(out)
    assert (rep["items"], rep["done"], rep["skipped"], rep["failed"], rep["duplicate_inputs"]) == (9, 5, 2, 2, 3)
    assert [g["reason"].split(":")[0] for g in rep["failures"]] == ["FetchError", "SourceError"]
    assert "HTTP 404" in rep["failures"][0]["reason"] and "HTTP 404" in rep["failures"][1]["reason"]
    assert {g["reason"].split(":")[0] for g in rep["skips"]} == {"duplicate content", "ExtractionError"}
    lines = results(out)
    assert len(lines) == 9 and len({x["key"] for x in lines}) == 9
    done = [x for x in lines if x["status"] == "done"]
    assert all(x["digest"]["takeaways"] and x["usage"]["requests"] == 0 for x in done)
    assert all(t["match"] == "exact" and t["evidence_span"] for x in done for t in x["digest"]["takeaways"])
    for x in done:  # the extracted article is kept, so a review never fetches the page again
        article = read_article(out, x["article"])
        assert article.title == x["digest"]["article"]["title"]
        assert all(article.text[slice(*t["evidence_span"])] == t["evidence"] for t in x["digest"]["takeaways"])
    assert sorted(f for x in done for f in x["files"]) == outputs(out) and len(outputs(out)) == 10
    assert site.hits["/flaky/1.html"] == 2  # a 503 is transient: retried within the run
    assert "2 failed" in res.output and "HTTP 404" in res.output and "--retry-failed" in res.output


def test_rerun_redoes_nothing_and_retry_failed_retries(site: Site, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = [str(mixed_list(site, tmp_path)), "--out", str(out), *FAST]
    run(args)
    before, hits = (out / "results.jsonl").read_bytes(), site.hits.copy()
    with (out / "results.jsonl").open("ab") as fh:  # what a crash between the write and the commit leaves
        fh.write(b'{"source": "torn')
    (out / ".x.md.abc.tmp").write_text("half-written")
    again = run(args)
    assert again.exit_code == 1
    assert (out / "results.jsonl").read_bytes() == before  # the uncommitted tail is cut off
    assert not (out / ".x.md.abc.tmp").exists()
    assert site.hits["/a/1.html"] == hits["/a/1.html"] and site.hits["/missing.html"] == hits["/missing.html"]
    assert report(out)["this_run"]["finished"] == 0
    retried = run([*args, "--retry-failed"])
    assert retried.exit_code == 1
    assert site.hits["/missing.html"] == hits["/missing.html"] + 1  # a 404 is not transient: one try per run
    assert len(results(out)) == 11 and results(out)[-1]["status"] == "failed"


def test_the_offline_engine_is_not_cached(site: Site, tmp_path: Path) -> None:
    urls = [site.url(f"/a/{n}.html") for n in (1, 2)]
    run([*urls, "--out", str(tmp_path / "o1"), *FAST])
    run([*urls, "--out", str(tmp_path / "o2"), *FAST])
    assert report(tmp_path / "o2")["this_run"] == {"finished": 2, "from_cache": 0}


def test_cache_key_follows_prompt_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "builtin" / "prompts").mkdir(parents=True)
    (tmp_path / "builtin" / "prompts" / "system.j2").write_text("Be brief.")
    monkeypatch.setattr(importlib.import_module("takeaways.rendering"), "builtin_dir", lambda: tmp_path / "builtin")
    base = keys.prompt_hash(None)
    (tmp_path / "mine").mkdir()
    assert keys.prompt_hash(tmp_path / "mine") == base  # no override: same prompts
    (tmp_path / "mine" / "system.j2").write_text("Be very brief.")
    assert keys.prompt_hash(tmp_path / "mine") != base
    (tmp_path / "builtin" / "prompts" / "system.j2").write_text("Be brief!")
    assert keys.prompt_hash(None) != base


def test_jsonl_on_stdin_with_text_and_html(tmp_path: Path) -> None:
    text = "Budget news\n\n" + " ".join(f"The council approved item {i} of the annual budget today." for i in range(30))
    lines = [json.dumps({"text": text}), json.dumps({"url": "https://example.invalid/x", "html": article_html(5)}),
             json.dumps({"text": text})]
    out = tmp_path / "out"
    res = run(["-", "--out", str(out), *FAST], input="\n".join(lines) + "\n")
    assert res.exit_code == 0, res.output
    assert (report(out)["done"], report(out)["duplicate_inputs"]) == (2, 1)


def test_dry_run_limit_quiet_and_progress_lines(site: Site, tmp_path: Path) -> None:
    urls = [site.url(f"/a/{n}.html") for n in range(1, 6)]
    out = tmp_path / "out"
    dry = run([*urls, "--out", str(out), "--dry-run", *FAST])
    assert dry.exit_code == 0 and "5 to process" in dry.output
    assert not (out / ".takeaways").exists() and not site.hits
    quiet = run([*urls, "--out", str(out), "--limit", "2", "--quiet", *FAST[:-2]])
    assert quiet.exit_code == 0 and quiet.output == ""
    assert report(out)["items"] == 2
    lines = run([*urls, "--out", str(out), *FAST[:-2], "--progress", "lines"])
    assert "batch: 5/5 (5 done, 0 failed, 0 skipped)" in lines.stderr
    assert report(out)["this_run"]["finished"] == 3
    dry = run([*urls, "--out", str(out), "--dry-run", *FAST])
    assert "0 to process, 5 done" in dry.output


def test_one_output_dir_one_run_at_a_time(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x")
    lock = journal._lock(tmp_path / "out" / ".takeaways" / "lock")
    try:
        res = CliRunner().invoke(cli, ["batch", str(tmp_path / "a.txt"), "--out", str(tmp_path / "out"), *FAST])
        assert res.exit_code == 1 and "another batch run is using" in res.output
    finally:
        lock.close()


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run([str(tmp_path / "nope.txt"), "--out", str(tmp_path / "o")]).exit_code == 2
    assert run([str(tmp_path), "--out", str(tmp_path / "o"), "-f", "md,pdf"]).exit_code == 2
    assert run([str(tmp_path)]).exit_code == 2


# --- subprocess tests: the real process pool, kill -9 and Ctrl-C ------------------------------

def spawn(args: list[str]) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    return subprocess.Popen([sys.executable, "-m", "takeaways", "batch", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for_lines(out: Path, n: int, proc: subprocess.Popen[str], timeout: float = 90) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        path = out / "results.jsonl"
        if path.exists() and path.read_bytes().count(b"\n") >= n:
            return
        time.sleep(0.05)
    raise AssertionError(f"no {n} results in time; rc={proc.poll()}")


def assert_each_exactly_once(out: Path, keys: set[str], formats: int) -> None:
    lines = results(out)
    done = Counter(x["key"] for x in lines if x["status"] == "done")
    assert set(done) == keys and set(done.values()) == {1}
    assert len(lines) == len(keys)
    files = outputs(out)
    assert len(files) == len(keys) * formats
    assert Counter(f.rsplit(".", 1)[0] for f in files) == Counter({f: formats for f in {f.rsplit(".", 1)[0] for f in files}})
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def slow_inputs(site: Site, tmp_path: Path, n: int) -> tuple[Path, set[str]]:
    lst = tmp_path / "slow.txt"
    urls = [site.url(f"/slow/{i}.html") for i in range(n)]
    lst.write_text("\n".join(urls) + "\n")
    return lst, {f"url:{u}" for u in urls}


def test_ctrl_c_stops_cleanly_with_summary_and_130(site: Site, tmp_path: Path) -> None:
    lst, keys = slow_inputs(site, tmp_path, 12)
    out = tmp_path / "out"
    args = [str(lst), "--out", str(out), "-e", "extractive", "-c", "2", "--progress", "none"]
    proc = spawn(args)
    wait_for_lines(out, 2, proc)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert "Interrupted" in stdout and report(out)["interrupted"] is True
    proc = spawn(args)
    proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert_each_exactly_once(out, keys, 1)


def test_rich_progress_bar(site: Site, tmp_path: Path) -> None:
    res = run([site.url("/a/1.html"), site.url("/missing.html"), "--out", str(tmp_path / "o"), *FAST[:-2],
               "--progress", "bar"])
    assert res.exit_code == 1
    assert "2/2" in res.stderr and "1 done 1 failed 0 skipped" in res.stderr
