"""The one retry policy (retry.py): what is transient, how long to wait, how many attempts, the limiter hook."""

from __future__ import annotations

import email.utils
import time
from pathlib import Path

import httpx2
import openai
import pytest

from takeaways import api, retry
from takeaways.config import Settings
from takeaways.engines import llm
from takeaways.errors import FetchError, LLMError, SourceError
from tests.fakellm import FakeLLM, Reply
from tests.site import Site
from tests.test_batch import FAST, results, run

FASTEST = Settings(max_retries=2, retry_wait=0.0)


def _status(code: int, headers: dict[str, str] | None = None) -> openai.APIStatusError:
    req = httpx2.Request("POST", "http://127.0.0.1/v1/chat/completions")
    return openai.APIStatusError("x", response=httpx2.Response(code, headers=headers, request=req), body=None)


@pytest.mark.parametrize(("code", "transient"), [(408, True), (409, True), (429, True), (500, True), (503, True),
                                                 (400, False), (401, False), (404, False), (422, False)])
def test_status_codes(code: int, transient: bool) -> None:
    assert retry.is_transient(_status(code)) is transient
    assert retry.transient_status(code) is transient


def test_errors_of_every_layer_are_classified_once() -> None:
    req = httpx2.Request("GET", "http://127.0.0.1/")
    assert retry.is_transient(httpx2.ConnectError("refused", request=req))
    assert retry.is_transient(httpx2.ReadTimeout("slow", request=req))
    assert retry.is_transient(openai.APIConnectionError(request=req))
    assert retry.is_transient(openai.APITimeoutError(request=req))
    assert retry.is_transient(FetchError("x", transient=True)) and not retry.is_transient(FetchError("x"))
    assert not retry.is_transient(SourceError("no such file")) and not retry.is_transient(ValueError("bug"))


def test_retry_after_seconds_milliseconds_dates_and_limits() -> None:
    assert retry.retry_after(_status(429, {"Retry-After": "3"})) == 3.0
    assert retry.retry_after(_status(429, {"retry-after-ms": "250"})) == 0.25
    date = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= (retry.retry_after(_status(503, {"Retry-After": date})) or 0) <= 31
    assert retry.retry_after(_status(429, {"Retry-After": "3600"})) is None  # too long to wait for: back off instead
    assert retry.retry_after(_status(429)) is None


def test_attempts_are_one_plus_max_retries_and_permanent_errors_are_not_retried() -> None:
    calls = []

    def always(exc: Exception) -> None:
        calls.append(1)
        raise exc

    with pytest.raises(FetchError):
        retry.call(lambda: always(FetchError("busy", transient=True)), FASTEST)
    assert len(calls) == 3
    calls.clear()
    with pytest.raises(FetchError):
        retry.call(lambda: always(FetchError("gone")), FASTEST)
    assert len(calls) == 1
    calls.clear()
    with pytest.raises(FetchError):
        retry.call(lambda: always(FetchError("busy", transient=True)), FASTEST.with_(max_retries=0))
    assert len(calls) == 1


def test_a_server_asking_for_a_pause_reaches_the_limiter_hook(fake_llm: FakeLLM) -> None:
    paused: list[float] = []
    remove = retry.on_retry_after(paused.append)
    try:
        s = Settings(engine="openai", base_url=fake_llm.url, max_retries=2, retry_wait=0.0, timeout=5.0)
        llm.remember_mode(s, "json_schema")
        fake_llm.script += [Reply(status=429, headers={"Retry-After": "0"}), Reply(status=503)]
        digest = api.generate(api.extract("<p>" + "The ferry will carry bicycles from May. " * 40 + "</p>"), s)
    finally:
        remove()
    assert len(fake_llm.requests) == 3 and digest.usage.requests == 3
    assert paused == [0.0]  # only the 429 asked for a pause; the 503 backed off on its own


def test_the_openai_client_does_not_retry_by_itself(fake_llm: FakeLLM) -> None:
    from takeaways.client import make_client

    s = Settings(engine="openai", base_url=fake_llm.url, max_retries=5)
    assert make_client(s).max_retries == 0 and make_client(s, async_=True).max_retries == 0
    fake_llm.default = lambda req: Reply(status=500)
    with pytest.raises(LLMError, match="after 1 attempt"):
        api.generate(api.extract("<p>" + "The ferry will carry bicycles from May. " * 40 + "</p>"),
                     s.with_(max_retries=0, engine="openai"))
    assert len(fake_llm.requests) == 1


def test_a_page_that_always_fails_is_fetched_one_plus_max_retries_times(tmp_path: Path) -> None:
    with Site(flaky_failures=100) as site:
        res = run([site.url("/flaky/1.html"), "--out", str(tmp_path / "o"), *FAST, "--max-retries", "2"])
        assert res.exit_code == 1
        assert site.hits["/flaky/1.html"] == 3
        (line,) = results(tmp_path / "o")
        assert line["status"] == "failed" and "HTTP 503" in line["reason"]


@pytest.mark.parametrize(("base_url", "expected"), [
    ("http://127.0.0.1:8080/v1", 600.0), ("http://localhost:11434/v1", 600.0), ("http://[::1]:8000/v1", 600.0),
    ("http://192.168.1.20:8080/v1", 600.0), ("http://10.0.0.5/v1", 600.0), ("http://gpu-box.local:8000/v1", 600.0),
    ("https://api.openai.com/v1", 60.0), ("https://llm.example.com/v1", 60.0), (None, 60.0)])
def test_local_servers_get_a_long_default_timeout(base_url: str | None, expected: float) -> None:
    from takeaways.client import make_client

    s = Settings(engine="openai", api_key="k", base_url=base_url)
    assert s.resolved_timeout() == expected
    assert make_client(s).timeout == expected
    assert Settings(base_url=base_url, timeout=5.0).resolved_timeout() == 5.0  # --timeout always wins


def test_timeout_help_says_why_local_servers_wait_longer() -> None:
    from click.testing import CliRunner

    from takeaways.cli import cli

    out = " ".join(CliRunner().invoke(cli, ["summarize", "--help"]).output.split())
    assert "600 when --base-url is a loopback or private address" in out
