"""`takeaways batch --batch-api` end to end against the fake Batch API: submit and exit, collect
on the next run, --wait, retry rounds, --dry-run, export → answer → import, batch-status,
--cancel, kill -9 between creating a job and recording it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from takeaways.batch import apijobs
from takeaways.cli import cli
from tests.fakebatch import FakeBatchAPI, Job
from tests.site import article_html
from tests.test_batch import results
from tests.test_batchapi import answer_file, invalid_first

ROOT = Path(__file__).resolve().parents[1]
OPTS = ["-e", "openai", "--api-key", "test-key", "--workers", "0", "--retry-wait", "0.01", "--progress", "none",
        "--max-retries", "2", "--no-cache"]
ONE_ANSWER = (100 * 0.075 + 50 * 0.30) / 1e6  # the fake's usage at half gpt-4o-mini's price


def articles(tmp_path: Path, n: int) -> Path:
    d = tmp_path / "in"
    d.mkdir(exist_ok=True)
    for i in range(n):
        (d / f"a{i}.html").write_text(article_html(i + 1))
    return d


def batch(args: list[str]) -> Result:
    return CliRunner().invoke(cli, ["batch", *args], catch_exceptions=False)


def report(out: Path) -> dict[str, Any]:
    return json.loads((out / "report.json").read_text())


def no_duplicates(api: FakeBatchAPI) -> None:
    assert not [c for c, n in Counter(api.submitted).items() if n > 1]


def test_submit_and_exit_then_the_same_command_collects(tmp_path: Path) -> None:
    inputs, out = articles(tmp_path, 3), tmp_path / "out"
    with FakeBatchAPI(default_job=Job(polls=0)) as api:
        args = [str(inputs), "--out", str(out), "--batch-api", "--base-url", api.url, *OPTS]
        first = batch(args)
        assert first.exit_code == 0, first.output
        assert "run the same command again to collect" in first.output and "batch_" in first.output
        assert "3 item(s): 0 done, 0 skipped, 0 failed, 3 in Batch API jobs" in first.output
        assert len(api.batches) == 1 and len(api.submitted) == 3
        assert results(out) == [] and report(out)["pending"] == 3
        assert report(out)["executor_info"]["batch_api"]["awaiting"] == 3
        second = batch(args)
        assert second.exit_code == 0, second.output
        rep = report(out)
        assert (rep["done"], rep["pending"]) == (3, 0)
        assert rep["usage"]["requests"] == 3 and rep["usage"]["cost_usd"] == pytest.approx(3 * ONE_ANSWER, abs=1e-6)
        lines = results(out)
        assert len(lines) == 3 and all(x["status"] == "done" and x["worker"].startswith("batch-api") for x in lines)
        assert all(len(x["digest"]["takeaways"]) == 5 for x in lines)  # verified like a live answer
        assert len(list(out.glob("*.md"))) == 3
        third = batch(args)  # nothing left: no new job, nothing sent
        assert third.exit_code == 0 and len(api.batches) == 1 and len(api.submitted) == 3


def test_wait_polls_until_done_through_retry_rounds(tmp_path: Path) -> None:
    inputs, out = articles(tmp_path, 4), tmp_path / "out"
    with FakeBatchAPI(default_job=Job(polls=2)) as api:
        api.plan.append(Job(polls=2, errors=lambda i, cid: i == 0, error_status=500))
        api.plan.append(Job(end="expired", done=0.0))
        res = batch([str(inputs), "--out", str(out), "--batch-api", "--wait", "--poll-interval", "0",
                     "--base-url", api.url, *OPTS[:-5], "--progress", "lines", "--max-retries", "2", "--no-cache"])
        assert res.exit_code == 0, res.output
        assert len(api.batches) == 3  # the first job; the line in its error file; that job expired: once more
        no_duplicates(api)
    assert "batch-api: 1 job(s) running" in res.output and "requests done" in res.output
    rep = report(out)
    assert rep["done"] == 4 and rep["usage"]["requests"] == 4


@pytest.mark.parametrize("shown", ["bar", "auto", "quiet"])
def test_wait_shows_the_request_counts_as_a_bar_under_the_runs_bar_or_as_lines(tmp_path: Path, shown: str) -> None:
    """--progress bar: one bar from the jobs' request_counts, nested in the run's live display; on a
    stderr that is not a TTY (auto): a line per poll; --quiet: nothing."""
    inputs, out = articles(tmp_path, 4), tmp_path / "out"
    with FakeBatchAPI(default_job=Job(polls=2)) as api:
        api.plan.append(Job(polls=2, errors=lambda i, cid: i == 0, error_status=500))
        shown_opts = ["--quiet"] if shown == "quiet" else ["--progress", shown]
        res = batch([str(inputs), "--out", str(out), "--batch-api", "--wait", "--poll-interval", "0",
                     "--base-url", api.url, *OPTS[:-5], *shown_opts, "--max-retries", "2", "--no-cache"])
        assert res.exit_code == 0, res.output
        sent = len(api.submitted)
    assert sent == 5  # four requests, then the one in the first job's error file
    bars = [line for line in res.output.splitlines() if line.startswith("batch-api ")]
    polls = [line for line in res.output.splitlines() if line.startswith("batch-api: ")]
    if shown == "bar":
        assert not polls and len(bars) == 1
        assert f"{sent}/{sent} requests" in bars[0] and "1 failed" in bars[0] and "all 2 job(s) ended" in bars[0]
        assert any(line.startswith("batch ") and "4/4" in line for line in res.output.splitlines())  # the run's bar
    elif shown == "auto":
        assert not bars and len(polls) >= 2
        assert f"/{sent} requests done, 1 failed" in polls[-1] and "0/4 requests done" in polls[0]
    else:
        assert "batch-api" not in res.output


def test_azure_openai_v1_base_url_with_the_chat_completions_batch_endpoint(tmp_path: Path) -> None:
    """Azure OpenAI's v1 API (base URL .../openai/v1, no api-version) runs batch jobs on the endpoint
    /chat/completions: --batch-endpoint sets every line's url and the job's endpoint. The default is
    refused by such a server with a clear error; the same OUT then resumes with the right endpoint
    (the part written for the old one is written again), nothing submitted twice."""
    inputs, out = articles(tmp_path, 2), tmp_path / "out"
    with FakeBatchAPI(default_job=Job(polls=0), prefix="/openai/v1", endpoints=frozenset({"/chat/completions"})) as api:
        base = [str(inputs), "--out", str(out), "--batch-api", "--wait", "--poll-interval", "0", "--base-url", api.url,
                *OPTS]
        refused = CliRunner().invoke(cli, ["batch", *base])
        assert refused.exit_code == 1 and isinstance(refused.exception, SystemExit), refused.output
        assert "endpoint '/v1/chat/completions' is not supported" in refused.output and not api.batches
        assert "set --batch-endpoint" in refused.output
        res = batch([*base, "--batch-endpoint", "/chat/completions"])
        assert res.exit_code == 0, res.output
        assert [b.obj["endpoint"] for b in api.batches.values()] == ["/chat/completions"]
        assert {line["url"] for line in api.requests()} == {"/chat/completions"} and len(api.requests()) == 2
        no_duplicates(api)
    assert report(out)["done"] == 2
    bad = CliRunner().invoke(cli, ["batch", *base, "--batch-endpoint", "chat"])
    assert bad.exit_code == 2 and "ending in /chat/completions" in bad.output


def test_an_item_that_exhausts_its_rounds_fails_with_the_reason(tmp_path: Path) -> None:
    inputs, out = articles(tmp_path, 2), tmp_path / "out"
    doomed: list[str] = []

    def first_item(i: int, cid: str) -> bool:  # every request of the first item sent errs
        doomed.append(cid.split("~")[0]) if not doomed else None
        return cid.split("~")[0] == doomed[0]

    with FakeBatchAPI(default_job=Job(polls=0, errors=first_item, error_status=429)) as api:
        res = batch([str(inputs), "--out", str(out), "--batch-api", "--wait", "--poll-interval", "0",
                     "--base-url", api.url, *OPTS[:-3], "--max-retries", "1", "--no-cache"])
        assert res.exit_code == 1, res.output
        no_duplicates(api)
    rep = report(out)
    assert (rep["done"], rep["failed"]) == (1, 1)
    assert "HTTP 429" in rep["failures"][0]["reason"] and "Rerun with --retry-failed" in res.output


def test_dry_run_counts_requests_and_the_cost_at_the_batch_price(tmp_path: Path) -> None:
    inputs, out = articles(tmp_path, 3), tmp_path / "out"
    with FakeBatchAPI() as api:
        res = batch([str(inputs), "--out", str(out), "--batch-api", "--dry-run", "--batch-max-requests", "2",
                     "--base-url", api.url, *OPTS])
        assert res.exit_code == 0, res.output
        assert api.calls == []
    assert "Batch API: 3 request(s) for 3 article(s) (3 in the first round, 2 file(s)" in res.output
    assert "at the batch price (live: $" in res.output
    assert not (out / ".takeaways" / "batchapi.db").exists()


def test_export_answer_elsewhere_import(tmp_path: Path) -> None:
    inputs, out = articles(tmp_path, 3), tmp_path / "out"
    args = [str(inputs), "--out", str(out), "--base-url", "http://127.0.0.1:9/v1", *OPTS]
    exported = batch([*args, "--export-requests", str(tmp_path / "req.jsonl")])
    assert exported.exit_code == 0, exported.output
    assert "Wrote 3 request(s)" in exported.output and "vllm run-batch" in exported.output
    answer_file(tmp_path / "req.jsonl", tmp_path / "res.jsonl", invalid_first,
                extra=[json.dumps({"custom_id": "stranger", "response": {"status_code": 200, "body": {"choices": []}}})])
    imported = batch([*args, "--import-results", str(tmp_path / "res.jsonl")])
    assert imported.exit_code == 0, imported.output  # every answer needs a re-ask: the next round is due
    assert "Imported 3 answer(s)" in imported.output and "stranger matches no exported request" in imported.output
    assert "export the next round with --export-requests" in imported.output
    batch([*args, "--export-requests", str(tmp_path / "req2.jsonl")])
    assert len((tmp_path / "req2.jsonl").read_text().splitlines()) == 3
    answer_file(tmp_path / "req2.jsonl", tmp_path / "res2.jsonl")
    final = batch([*args, "--import-results", str(tmp_path / "res2.jsonl")])
    assert final.exit_code == 0, final.output
    assert report(out)["done"] == 3 and all(x["status"] == "done" for x in results(out))


def test_batch_status_shows_the_jobs_and_cancel_cancels_them(tmp_path: Path) -> None:
    inputs, out = articles(tmp_path, 2), tmp_path / "out"
    with FakeBatchAPI(default_job=Job(polls=50, done=0.5)) as api:
        args = [str(inputs), "--out", str(out), "--batch-api", "--base-url", api.url, *OPTS]
        assert batch(args).exit_code == 0
        status = CliRunner().invoke(cli, ["batch-status", str(out), "--base-url", api.url, "--api-key", "k"])
        assert status.exit_code == 0, status.output
        assert "p00001" in status.output and "batch_" in status.output and "in_progress" in status.output
        cancel = CliRunner().invoke(cli, ["batch-status", str(out), "--cancel", "--base-url", api.url, "--api-key", "k"])
        assert "Cancel requested for 1 job(s)" in cancel.output
        api.default_job = Job(polls=0)
        again = batch([*args, "--wait", "--poll-interval", "0"])  # collects the half it answered, resends the rest
        assert again.exit_code == 0, again.output
        no_duplicates(api)
        assert [b.obj["status"] for b in api.batches.values()] == ["cancelled", "completed"]
    assert report(out)["done"] == 2
    missing = CliRunner().invoke(cli, ["batch-status", str(tmp_path)])
    assert missing.exit_code == 1 and "has no Batch API run" in missing.output


def test_batch_api_needs_the_llm_engine(tmp_path: Path) -> None:
    res = batch([str(articles(tmp_path, 1)), "--out", str(tmp_path / "out"), "--batch-api", "-e", "extractive"])
    assert res.exit_code == 1 and "--batch-api sends LLM requests" in res.output


def test_kill_9_after_creating_the_job_before_recording_it(tmp_path: Path) -> None:
    inputs, out = articles(tmp_path, 3), tmp_path / "out"
    with FakeBatchAPI(default_job=Job(polls=0)) as api:
        args = [str(inputs), "--out", str(out), "--batch-api", "--base-url", api.url, *OPTS]
        env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
               apijobs.CRASH_ENV: "created-unrecorded:kill"}
        proc = subprocess.run([sys.executable, "-m", "takeaways", "batch", *args], env=env, capture_output=True,
                              text=True, timeout=120, check=False)
        assert proc.returncode == -signal.SIGKILL, proc.stderr
        assert len(api.batches) == 1  # created, and the run died before writing its id down
        res = batch(args)  # finds the job by its metadata and collects it
        assert res.exit_code == 0, res.output
        assert len(api.batches) == 1 and len(api.uploads()) == 1
        no_duplicates(api)
    assert report(out)["done"] == 3 and len(results(out)) == 3


def test_max_cost_bounds_what_is_submitted_at_the_batch_price(tmp_path: Path) -> None:
    inputs, out = articles(tmp_path, 3), tmp_path / "out"
    with FakeBatchAPI(default_job=Job(polls=0)) as api:
        # one request reserves at most ~$0.0005 here (prompt + --max-output-tokens at half price): one fits
        res = batch([str(inputs), "--out", str(out), "--batch-api", "--base-url", api.url, *OPTS, "--max-cost", "0.0008"])
        assert len(api.submitted) == 1
    assert res.exit_code == 1 and "--max-cost 0.0008 reached" in res.output
    rep = report(out)
    assert rep["budget_reached"] and rep["executor_info"]["batch_api"]["awaiting"] == 1


def test_other_options_on_the_next_run_start_new_conversations(tmp_path: Path) -> None:
    inputs, out = articles(tmp_path, 2), tmp_path / "out"
    with FakeBatchAPI(default_job=Job(polls=0)) as api:
        args = [str(inputs), "--out", str(out), "--batch-api", "--base-url", api.url, *OPTS]
        batch(args)
        res = batch([*args, "--takeaways", "3", "--wait", "--poll-interval", "0"])
        assert res.exit_code == 0, res.output
        assert len(api.submitted) == 4 and len(set(api.submitted)) == 4  # 2 with -t 5, then 2 new keys with -t 3
    assert all(len(x["digest"]["takeaways"]) == 3 for x in results(out))


def test_ctrl_c_while_waiting_keeps_the_jobs_and_the_next_run_collects_them(tmp_path: Path) -> None:
    inputs, out = articles(tmp_path, 2), tmp_path / "out"
    with FakeBatchAPI(default_job=Job(polls=10_000)) as api:
        args = [str(inputs), "--out", str(out), "--batch-api", "--base-url", api.url, *OPTS[:-5], "--no-cache",
                "--progress", "lines"]
        env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
        proc = subprocess.Popen([sys.executable, "-m", "takeaways", "batch", *args, "--wait", "--poll-interval", "0.2"],
                                env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stderr is not None
        for line in proc.stderr:  # wait until it is polling
            if "job(s) running" in line:
                break
        proc.send_signal(signal.SIGINT)
        stdout, _ = proc.communicate(timeout=60)
        assert proc.returncode == 130, stdout
        assert "Interrupted" in stdout and len(api.batches) == 1
        for b in api.batches.values():
            b.polls_left = 0  # the job ends now
        res = batch(args)
        assert res.exit_code == 0, res.output
        assert len(api.batches) == 1
        no_duplicates(api)
    assert report(out)["done"] == 2
