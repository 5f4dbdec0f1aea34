"""`--executor ray` on a local Ray (num_cpus=2, started once per test session).

The Ray executor gives the same outcomes as the local one (WARC input and Parquet output
included); a 429 storm against one actor pauses all of them (the limiter is cluster-global);
the driver-side gate saves a cached article's LLM call; a re-run task's second outcome is
committed once; items in several windows come back once each; --max-cost holds run-wide; a
driver stopped with SIGTERM exits 130 with what finished committed, and one killed with SIGKILL
resumes without loss or duplicates. Not tested here: a worker node dying mid-run.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from takeaways.batch import BatchOptions, Journal
from takeaways.config import Settings
from takeaways.inputs import expand
from takeaways.models import Article
from tests.fakellm import FakeLLM, Reply, grounded
from tests.site import Site, article_html
from tests.test_batch import assert_each_exactly_once, report, results, run, slow_inputs, spawn, wait_for_lines
from tests.warcs import write_warc

try:
    import ray
except ImportError:  # pragma: no cover - CI installs the test extra, which has ray
    if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):  # .ci/run sets CI=1
        raise
    pytest.skip("ray is not installed (pip install 'takeaways[ray]')", allow_module_level=True)

from takeaways.batch.executors.ray import RayPlan, RayRun, connect
from takeaways.batch.work import Outcome, WorkItem

# Ray Data warns about its own deprecated settings when it copies its context.
pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning:ray")]
LLM = ["-e", "openai", "--api-key", "k", "--retry-wait", "0.01", "--progress", "none"]


@pytest.fixture(scope="session")
def local_ray() -> Iterator[dict[str, Any]]:
    """One local Ray for the whole session, on loopback, no dashboard."""
    ray.init(num_cpus=2, _node_ip_address="127.0.0.1", include_dashboard=False, log_to_driver=False,
             namespace="takeaways")
    try:
        yield connect(None)
    finally:
        ray.shutdown()


def settings(llm: FakeLLM, **kw: Any) -> Settings:
    return Settings(engine="openai", api_key="k", base_url=llm.url, max_retries=2, **kw)


def no_cache(item: WorkItem, article: Article) -> Outcome | None:
    return None


def work(sources: list[str], llm: FakeLLM) -> list[WorkItem]:
    opts = settings(llm)
    return [WorkItem.of(i, opts) for i in expand(sources, Settings())]


def test_ray_gives_the_same_outcomes_as_the_local_executor(local_ray: dict[str, Any], fake_llm: FakeLLM,
                                                          tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow.parquet")
    warc = write_warc(tmp_path / "crawl.warc.gz", [
        (f"https://example.org/news/{n}", "200 OK", article_html(n).encode(), "text/html; charset=utf-8")
        for n in (7, 8)])
    with Site(delay=0.0) as site:
        inputs = [site.url(p) for p in ("/a/1.html", "/a/2.html", "/missing.html", "/nav.html", "/flaky/1.html")]
        inputs.append(str(warc))
        common = [*inputs, *LLM, "--base-url", fake_llm.url, "--no-cache", "-f", "md,parquet"]
        local = run([*common, "--out", str(tmp_path / "local"), "--workers", "0"])
        site.hits.clear()
        site.flaky_failures = 1
        got = run([*common, "--out", str(tmp_path / "ray"), "--executor", "ray"])
    assert local.exit_code == got.exit_code == 1  # the missing page failed
    want = {x["key"]: x for x in results(tmp_path / "local")}
    lines = results(tmp_path / "ray")
    assert sorted(x["key"] for x in lines) == sorted(want) and len(want) == 7
    for x in lines:
        w = want[x["key"]]
        assert (x["status"], x.get("reason")) == (w["status"], w.get("reason")), x["key"]
        if x["status"] == "done":
            assert x["digest"]["takeaways"] == w["digest"]["takeaways"]
            assert x["usage"]["requests"] == w["usage"]["requests"] == 1
            assert x["files"] == w["files"] and (tmp_path / "ray" / x["files"][0]).exists()
        node = x["worker"].split()[0]  # which node did it (and, for a generated one, which actor)
        assert any(name.endswith(f"/{node}") for name in report(tmp_path / "ray")["executor_info"]["rows_per_node"])
    rep = report(tmp_path / "ray")
    assert rep["executor"] == "ray" and rep["done"] == 5 and rep["skipped"] == 1 and rep["failed"] == 1
    info = rep["executor_info"]
    assert (info["nodes"], info["cpus"], info["nodes_used"]) == (1, 2, 1)
    [(node_name, rows)] = info["rows_per_node"].items()
    assert rows == 7 and node_name.split("/")[1] == ray.get_runtime_context().get_node_id()[:8]
    assert (f"executor ray at local: 1 node(s), 2 CPU(s), 1 node(s) did work; rows per node: {node_name} 7"
            in got.stdout)
    table = pa.read_table(tmp_path / "ray" / "results.parquet").to_pylist()
    assert sorted(r["key"] for r in table) == sorted(want)
    assert {r["source"] for r in table if r["status"] == "done"} >= {"https://example.org/news/7",
                                                                      "https://example.org/news/8"}


def test_a_429_storm_against_one_actor_pauses_every_actor(local_ray: dict[str, Any], tmp_path: Path) -> None:
    sent: list[tuple[float, str]] = []
    storm = {"left": 1}

    def answer(req: dict[str, Any]) -> Reply:
        now = time.monotonic()
        if storm["left"]:
            storm["left"] -= 1
            sent.append((now, "429"))
            return Reply(status=429, headers={"Retry-After": "2"})
        sent.append((now, "ok"))
        return Reply(content=json.dumps(grounded(req)), delay=0.2)

    with Site(delay=0.0) as site, FakeLLM(default=answer) as llm:
        urls = [site.url(f"/a/{n}.html") for n in range(1, 13)]
        run_ = RayRun(settings(llm), RayPlan(actors=2, concurrency=4, block_rows=1), no_cache)
        got = list(run_.results(work(urls, llm)))
    assert [r.status for r in got] == ["done"] * 12
    assert len({r.worker for r in got}) == 2  # both actors worked
    assert run_.limiter_stats["pauses"] == 1 and run_.limiter_stats["peak_in_flight"] <= 4
    (t429, _), *after = sent
    # Requests already on the wire when the 429 came back aside (a grace of 0.5 s), nobody on
    # either actor sent one during the 2 s the provider asked for.
    gaps = [round(t - t429, 2) for t, _ in after]
    assert len(after) == 12 and not [g for g in gaps if 0.5 < g < 2.0], gaps


def test_the_driver_gate_serves_a_cached_article_and_a_rerun_task_commits_once(
        local_ray: dict[str, Any], fake_llm: FakeLLM, tmp_path: Path) -> None:
    with Site(delay=0.0) as site:
        urls = [site.url("/a/1.html"), site.url("/a/2.html")]
        cache = ["--cache", str(tmp_path / "cache")]
        assert run([urls[0], *LLM, "--base-url", fake_llm.url, *cache, "--out", str(tmp_path / "first")]).exit_code == 0
        assert len(fake_llm.requests) == 1
        opts = BatchOptions(out=tmp_path / "out", cache_dir=tmp_path / "cache")
        journal = Journal(opts, settings(fake_llm), use_cache=True)
        try:
            items = list(journal.pending(expand(urls, Settings())))
            run_ = RayRun(settings(fake_llm), RayPlan(), journal.lookup)
            # The first item twice: its outcome comes back twice, as when Ray re-runs a task.
            outcomes = list(run_.results([*items, items[0]]))
            committed = [journal.commit(next(i for i in items if i.key == o.key), o) for o in outcomes]
            # And a late duplicate straight into the journal: ignored, nothing written.
            late = outcomes[0]
            assert journal.commit(next(i for i in items if i.key == late.key), late) is False
        finally:
            journal.close()
    assert committed == [True, True] and run_.duplicates == 1
    assert len(fake_llm.requests) == 2  # the cached article cost no call; the other one did
    lines = {x["source"]: x for x in results(tmp_path / "out")}
    assert len(results(tmp_path / "out")) == 2
    assert lines[urls[0]]["cached"] is True and lines[urls[1]]["cached"] is False


def test_items_in_several_windows_each_come_back_once(local_ray: dict[str, Any], fake_llm: FakeLLM) -> None:
    with Site(delay=0.0) as site:
        items = work([site.url(f"/a/{n}.html") for n in range(1, 9)], fake_llm)
        run_ = RayRun(settings(fake_llm), RayPlan(concurrency=4, block_rows=1, window=3), no_cache)
        got = list(run_.results(items))
    assert run_.windows == 3  # 3 + 3 + 2 items: three Ray Data executions, one set of actors
    assert sorted(o.key for o in got) == sorted(i.key for i in items) and {o.status for o in got} == {"done"}
    assert len(fake_llm.requests) == 8 and run_.duplicates == 0


def test_max_cost_holds_across_the_cluster_and_a_rerun_continues(local_ray: dict[str, Any], fake_llm: FakeLLM,
                                                                 tmp_path: Path) -> None:
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"pricey": {"input": 1000.0, "output": 1000.0}}))  # $0.15 per fake answer
    with Site(delay=0.0) as site:
        args = [*(site.url(f"/a/{n}.html") for n in range(1, 7)), *LLM, "--base-url", fake_llm.url, "-m", "pricey",
                "--price-file", str(prices), "-c", "2", "--max-output-tokens", "200", "--out", str(tmp_path / "o"),
                "--executor", "ray"]
        res = run([*args, "--max-cost", "1.0"])
        rep = report(tmp_path / "o")
        assert res.exit_code == 1 and rep["budget_reached"] and rep["pending"] > 0 and "--max-cost" in res.output
        assert rep["usage"]["cost_usd"] <= 1.0 and len(fake_llm.requests) == rep["done"] < 6
        assert rep["executor_info"]["limiter"]["budget_reached"] is True
        res = run([*args, "--max-cost", "100"])
    assert res.exit_code == 0 and report(tmp_path / "o")["done"] == 6 and len(fake_llm.requests) == 6


def test_sigterm_stops_the_driver_with_130_and_sigkill_resumes_without_loss_or_duplicates(
        local_ray: dict[str, Any], fake_llm: FakeLLM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    address = ray.get_runtime_context().gcs_address  # the session's Ray: the drivers join it
    monkeypatch.setenv("TAKEAWAYS_RAY_WINDOW", "5")  # several windows through the CLI as well
    with Site(delay=0.3) as site:
        lst, keys = slow_inputs(site, tmp_path, 16)
        out = tmp_path / "out"
        args = [str(lst), "--out", str(out), *LLM, "--base-url", fake_llm.url, "--no-cache", "-c", "2",
                "--executor", "ray", "--ray-address", address]
        proc = spawn(args)  # a scheduler stopping the job: what finished is committed, exit 130
        wait_for_lines(out, 2, proc, timeout=60)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 130, stderr[-2000:]
        first = results(out)
        assert 2 <= len(first) < 16 and len({x["key"] for x in first}) == len(first)
        assert report(out)["interrupted"] is True
        proc = spawn(args)  # then a driver killed outright
        wait_for_lines(out, len(first) + 2, proc, timeout=60)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        assert len(first) + 2 <= len(results(out)) < 16
        proc = spawn(args)
        _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr[-2000:]
    assert_each_exactly_once(out, keys, 1)
    rep = report(out)
    assert rep["executor_info"]["address"] == address and rep["executor_info"]["windows"] >= 1


def test_no_api_key_stops_the_run_with_the_error_and_leaves_the_items_pending(
        local_ray: dict[str, Any], tmp_path: Path) -> None:
    with Site(delay=0.0) as site:  # no --api-key, no OPENAI_API_KEY (conftest), no --base-url
        res = run([site.url("/a/1.html"), site.url("/a/2.html"), "-e", "openai", "--progress", "none",
                   "--out", str(tmp_path / "o"), "--executor", "ray"])
    assert res.exit_code == 1 and "Error: no API key" in res.output and "Traceback" not in res.output
    assert "Dataset" not in res.output  # no Ray Data execution lines on the user's terminal
    assert results(tmp_path / "o") == []  # both items stay pending for a run with a key


def test_without_the_extra_executor_ray_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails as if it were not installed
    monkeypatch.delitem(sys.modules, "takeaways.batch.executors.ray")
    res = run([str(tmp_path), "--out", str(tmp_path / "out"), "--executor", "ray", "-e", "extractive"])
    assert res.exit_code == 1
    assert res.stderr == "Error: --executor ray needs ray: pip install 'takeaways[ray]'\n"
    assert not (tmp_path / "out").exists()


def test_ray_address_without_executor_ray_is_a_usage_error(tmp_path: Path) -> None:
    res = run([str(tmp_path), "--out", str(tmp_path / "out"), "--ray-address", "auto"])
    assert res.exit_code == 2 and "--ray-address needs --executor ray" in res.stderr
