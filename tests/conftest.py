"""Shared fixtures: every test runs with a clean environment and its own user dirs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakellm import FakeLLM

FIXTURES = Path(__file__).parent / "fixtures"

_ENV = ["OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "TAKEAWAYS_MODEL",
        "TAKEAWAYS_ENGINE", "TAKEAWAYS_CACHE", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy",
        "https_proxy", "all_proxy"]


@pytest.fixture(scope="session")
def langid_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One decompressed language model for the whole session (~70 MB), not one per test's cache dir."""
    return tmp_path_factory.mktemp("langid")


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory, langid_cache: Path) -> None:
    """No test sees the developer's keys, proxies or cache."""
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("TAKEAWAYS_LANGID_CACHE", str(langid_cache))


@pytest.fixture
def fake_llm() -> Iterator[FakeLLM]:
    with FakeLLM() as llm:
        yield llm
