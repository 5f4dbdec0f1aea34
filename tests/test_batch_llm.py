"""`takeaways batch` with the LLM engine against the scripted local server: cost, cache, budget, retries, kill -9."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from tests.fakellm import FakeLLM, Reply, grounded, grounded_reply
from tests.site import Site
from tests.test_batch import assert_each_exactly_once, report, results, run, slow_inputs, spawn, wait_for_lines

pytest.importorskip("takeaways.engines.llm", reason="the LLM engine (branch llm) is not merged")

LLM = ["-e", "openai", "--api-key", "test-key", "--workers", "0", "--retry-wait", "0.01", "--progress", "none",
       "--max-retries", "0"]


@pytest.fixture
def site() -> Any:
    with Site(delay=0.3) as s:
        yield s


def urls(site: Site, n: int) -> list[str]:
    return [site.url(f"/a/{i}.html") for i in range(1, n + 1)]


def test_llm_usage_in_report_and_results_then_no_request_twice(site: Site, fake_llm: FakeLLM, tmp_path: Path) -> None:
    args = [*urls(site, 3), "--base-url", fake_llm.url, *LLM]
    first = run([*args, "--out", str(tmp_path / "o1"), "-f", "md,jsonld"])
    assert first.exit_code == 0, first.output
    assert len(fake_llm.requests) == 3
    rep = report(tmp_path / "o1")
    assert rep["usage"]["requests"] == 3 and rep["usage"]["prompt_tokens"] == 300 and rep["usage"]["completion_tokens"] == 150
    assert rep["usage"]["cost_usd"] > 0 and "3 LLM request(s), 450 tokens" in first.output
    assert all(x["usage"]["requests"] == 1 and x["digest"]["engine"] == "openai" for x in results(tmp_path / "o1"))
    run([*args, "--out", str(tmp_path / "o1")])  # same command again: nothing to do
    run([*args, "--out", str(tmp_path / "o2")])  # another output dir: every result from the cache
    assert len(fake_llm.requests) == 3
    assert report(tmp_path / "o2")["this_run"] == {"finished": 3, "from_cache": 3}
    assert report(tmp_path / "o2")["usage"]["requests"] == 0
    run([*args, "--out", str(tmp_path / "o3"), "--model", "other-model"])  # another model: another key
    assert len(fake_llm.requests) == 6


def test_cache_location_options_and_key(site: Site, fake_llm: FakeLLM, tmp_path: Path) -> None:
    args = [*urls(site, 2), "--base-url", fake_llm.url, *LLM]
    run([*args, "--out", str(tmp_path / "o1")])
    assert (Path(os.environ["XDG_CACHE_HOME"]) / "takeaways" / "results.db").exists()
    assert sorted(x["digest"]["article"]["url"] for x in results(tmp_path / "o1")) == urls(site, 2)
    run([*args, "--out", str(tmp_path / "o2"), "--takeaways", "2"])  # other options: another key
    run([*args, "--out", str(tmp_path / "o3"), "--no-cache"])
    assert len(fake_llm.requests) == 6
    run([*args, "--out", str(tmp_path / "o4"), "--cache", str(tmp_path / "cache")])
    run([*args, "--out", str(tmp_path / "o5"), "--cache", str(tmp_path / "cache")])
    assert len(fake_llm.requests) == 8 and (tmp_path / "cache" / "results.db").exists()
    assert report(tmp_path / "o5")["this_run"] == {"finished": 2, "from_cache": 2}


def test_transient_llm_errors_are_retried_within_the_run(site: Site, fake_llm: FakeLLM, tmp_path: Path) -> None:
    fake_llm.script += [Reply(status=503), Reply(status=429, headers={"Retry-After": "0"})]
    res = run([*urls(site, 1), "--base-url", fake_llm.url, *LLM, "--max-retries", "2", "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert len(fake_llm.requests) == 3 and report(tmp_path / "o")["done"] == 1
    # The failed attempts were sent, so they count: 3 requests for the one article.
    (line,) = results(tmp_path / "o")
    assert line["usage"]["requests"] == 3 and line["digest"]["usage"]["requests"] == 3


def test_an_always_failing_server_costs_exactly_one_plus_max_retries_requests(site: Site, fake_llm: FakeLLM,
                                                                               tmp_path: Path) -> None:
    """One retry policy: nothing retries on top of the engine's retries (it used to be 9 requests)."""
    fake_llm.default = lambda req: Reply(status=500)
    res = run([*urls(site, 1), "--base-url", fake_llm.url, *LLM, "--max-retries", "2", "--out", str(tmp_path / "o")])
    assert res.exit_code == 1, res.output
    assert len(fake_llm.requests) == 3
    (line,) = results(tmp_path / "o")
    assert line["status"] == "failed" and "500" in line["reason"] and "after 3 attempt(s)" in line["error"]
    assert line["usage"]["requests"] == 3
    fake_llm.default = grounded_reply
    res = run([*urls(site, 1), "--base-url", fake_llm.url, *LLM, "--out", str(tmp_path / "o")])
    assert res.exit_code == 1 and len(fake_llm.requests) == 3  # a plain rerun leaves the failed item alone
    res = run([*urls(site, 1), "--base-url", fake_llm.url, *LLM, "--retry-failed", "--out", str(tmp_path / "o")])
    assert res.exit_code == 0 and len(fake_llm.requests) == 4 and report(tmp_path / "o")["done"] == 1


def test_a_failed_item_still_reports_what_its_attempts_cost(site: Site, fake_llm: FakeLLM, tmp_path: Path) -> None:
    fake_llm.default = lambda req: Reply(content='{"takeaways": [', finish_reason="length", completion_tokens=70)
    res = run([*urls(site, 1), "--base-url", fake_llm.url, *LLM, "--out", str(tmp_path / "o")])
    assert res.exit_code == 1
    assert len(fake_llm.requests) == 2  # cut off, retried once with more room, cut off again
    (line,) = results(tmp_path / "o")
    assert line["status"] == "failed" and "cut off" in line["error"]
    assert line["usage"]["requests"] == 2 and line["usage"]["completion_tokens"] == 140
    assert report(tmp_path / "o")["usage"]["requests"] == 2


def test_permanent_llm_error_fails_the_item_with_a_grouped_reason(site: Site, fake_llm: FakeLLM, tmp_path: Path) -> None:
    fake_llm.default = lambda req: Reply(status=401)
    res = run([*urls(site, 2), "--base-url", fake_llm.url, *LLM, "--out", str(tmp_path / "o")])
    assert res.exit_code == 1
    assert len(fake_llm.requests) == 2  # not transient: one try each
    (group,) = report(tmp_path / "o")["failures"]
    assert group["count"] == 2 and group["reason"].startswith("LLMError") and "refused the API key" in group["reason"]


def test_max_cost_is_run_wide_and_a_rerun_continues(site: Site, fake_llm: FakeLLM, tmp_path: Path) -> None:
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"pricey": {"input": 1000.0, "output": 1000.0}}))  # $0.15 per fake answer
    args = [*urls(site, 6), "--base-url", fake_llm.url, *LLM, "-m", "pricey", "--price-file", str(prices), "-c", "1",
            "--max-output-tokens", "200", "--out", str(tmp_path / "o")]
    res = run([*args, "--max-cost", "1.0"])
    rep = report(tmp_path / "o")
    assert res.exit_code == 1 and rep["budget_reached"] and rep["pending"] > 0 and "--max-cost" in res.output
    assert rep["usage"]["cost_usd"] <= 1.0 and len(fake_llm.requests) == rep["done"] < 6
    res = run([*args, "--max-cost", "100"])
    assert res.exit_code == 0 and report(tmp_path / "o")["done"] == 6 and len(fake_llm.requests) == 6


def test_rpm_and_tpm_limiters_accept_a_run(site: Site, fake_llm: FakeLLM, tmp_path: Path) -> None:
    res = run([*urls(site, 2), "--base-url", fake_llm.url, *LLM, "--rpm", "600", "--tpm", "1000000",
               "--out", str(tmp_path / "o")])
    assert res.exit_code == 0 and len(fake_llm.requests) == 2


def test_kill_9_with_the_llm_then_resume_pays_nothing_twice(site: Site, tmp_path: Path) -> None:
    with FakeLLM(default=lambda req: Reply(content=json.dumps(grounded(req)), delay=0.3)) as llm:
        lst, keys = slow_inputs(site, tmp_path, 12)
        out = tmp_path / "out"
        args = [str(lst), "--out", str(out), "-f", "md,html", "-e", "openai", "--base-url", llm.url, "--api-key", "k", "-c", "2",
                "--progress", "none", "--max-retries", "0"]
        proc = spawn(args)
        wait_for_lines(out, 3, proc)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL and 3 <= len(results(out)) < 12
        proc = spawn(args)
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 0, stderr
        assert_each_exactly_once(out, keys, 2)
        assert len(llm.requests) <= 12 + 2  # at most the calls in flight at the kill are paid again
        paid = len(llm.requests)
        proc = spawn(args)
        proc.communicate(timeout=60)
        assert proc.returncode == 0 and len(llm.requests) == paid
        assert len(results(out)) == 12


def test_a_configuration_error_stops_the_run_once(site: Site, tmp_path: Path) -> None:
    res = run([*urls(site, 3), "-e", "openai", "--workers", "0", "--progress", "none", "--out", str(tmp_path / "o")])
    assert res.exit_code == 1
    assert res.output.count("no API key") == 1 and "Error: no API key" in res.output
    res = run([*urls(site, 3), "-e", "extractive", "--workers", "0", "--progress", "none", "--out", str(tmp_path / "o")])
    assert res.exit_code == 0  # nothing was marked failed: the items were still pending
