"""The Ray pipeline on a local Ray (num_cpus=2, started once per test session).

Ray executor and local batch give the same outcomes; a 429 storm against one actor pauses all
of them (the limiter is cluster-global); the driver-side gate saves a cached article's LLM
call; a WARC file goes through.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from takeaways.config import Settings
from takeaways.inputs import expand
from takeaways.models import Article
from tests.fakellm import FakeLLM, Reply, grounded
from tests.site import Site, article_html
from tests.test_batch import results, run
from tests.warcs import write_warc

try:
    import ray
except ImportError:  # pragma: no cover - CI installs the test extra, which has ray
    if os.environ.get("CI") == "true":
        raise
    pytest.skip("ray is not installed (pip install 'takeaways[ray]')", allow_module_level=True)

from takeaways.rayexec import RayPlan, RayResult, RayRun, connect

# Ray Data warns about its own deprecated settings when it copies its context.
pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning:ray")]


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


def no_cache(key: str, article: Article) -> RayResult | None:
    return None


def test_ray_gives_the_same_outcomes_as_the_local_run(local_ray: dict[str, Any], fake_llm: FakeLLM,
                                                     tmp_path: Path) -> None:
    with Site(delay=0.0) as site:
        urls = [site.url(p) for p in ("/a/1.html", "/a/2.html", "/missing.html", "/nav.html", "/flaky/1.html")]
        local = run([*urls, "--out", str(tmp_path / "local"), "-e", "openai", "--api-key", "k", "--base-url",
                     fake_llm.url, "--workers", "0", "--retry-wait", "0.01", "--progress", "none", "--no-cache"])
        assert local.exit_code == 1
        site.hits.clear()
        site.flaky_failures = 1
        items = list(expand(urls, Settings()))
        # The first item a second time: its outcome comes back twice, as when Ray re-runs a task.
        run_ = RayRun(settings(fake_llm), RayPlan(), no_cache)
        got = list(run_.results([*items, items[0]]))
    want = {x["key"]: x for x in results(tmp_path / "local")}
    assert sorted(r.key for r in got) == sorted(want)  # each key once
    assert run_.duplicates == 1
    for r in got:
        w = want[r.key]
        assert (r.status, r.reason) == (w["status"], w.get("reason")), r.key
        if r.digest is not None:
            assert r.digest.model_dump(mode="json")["takeaways"] == w["digest"]["takeaways"]
            assert r.usage.requests == w["usage"]["requests"] == 1
            assert r.article is not None and r.article.title == w["digest"]["article"]["title"]
    assert all(r.worker for r in got)


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
        got = list(run_.results(expand(urls, Settings())))
    assert [r.status for r in got] == ["done"] * 12
    assert len({r.actor for r in got}) == 2  # both actors worked
    assert run_.limiter_stats["pauses"] == 1 and run_.limiter_stats["peak_in_flight"] <= 4
    (t429, _), *after = sent
    # Requests already on the wire when the 429 came back aside (a grace of 0.5 s), nobody on
    # either actor sent one during the 2 s the provider asked for.
    gaps = [round(t - t429, 2) for t, _ in after]
    assert len(after) == 12 and not [g for g in gaps if 0.5 < g < 2.0], gaps


def test_the_driver_gate_saves_the_llm_call_of_a_cached_article(local_ray: dict[str, Any], fake_llm: FakeLLM) -> None:
    asked: list[str] = []

    def lookup(key: str, article: Article) -> RayResult | None:
        asked.append(key)
        if "a/1.html" in key:
            return RayResult(key, key, "done", cached=True, reason="cache hit")
        return None

    with Site(delay=0.0) as site:
        urls = [site.url("/a/1.html"), site.url("/a/2.html")]
        got = {r.key: r for r in RayRun(settings(fake_llm), RayPlan(), lookup).results(expand(urls, Settings()))}
    assert sorted(asked) == sorted(got)
    assert len(fake_llm.requests) == 1
    assert got[f"url:{urls[0]}"].cached and got[f"url:{urls[1]}"].digest is not None


def test_a_warc_file_goes_through_ray(local_ray: dict[str, Any], fake_llm: FakeLLM, tmp_path: Path) -> None:
    warc = write_warc(tmp_path / "crawl.warc.gz", [
        (f"https://example.org/news/{n}", "200 OK", article_html(n).encode(), "text/html; charset=utf-8")
        for n in (1, 2, 3)])
    got = list(RayRun(settings(fake_llm), RayPlan(), no_cache).results(expand([str(warc)], Settings())))
    assert sorted(r.source for r in got) == [f"https://example.org/news/{n}" for n in (1, 2, 3)]
    assert {r.status for r in got} == {"done"} and len(fake_llm.requests) == 3
