"""One options object for the whole pipeline, filled by the CLI or the Python API.

Precedence: explicit value (CLI option / keyword) > environment variable > default.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .errors import ConfigError, register_secret

DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_TIMEOUT = 60.0
LOCAL_TIMEOUT = 600.0
USER_AGENT = "Mozilla/5.0 (compatible; takeaways/{version}; +https://pypi.org/project/takeaways/)"


@dataclass(frozen=True)
class Settings:
    """Every knob of load → extract → generate → verify → render."""

    # loading
    max_bytes: int = 10_000_000
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    max_redirects: int = 10
    max_fetch_time: float = 120.0  # seconds for one whole fetch: connect, redirects, every read
    allow_private: bool = False  # let URLs from remote content (sitemaps, feeds, redirects) reach private addresses
    max_urls: int = 1_000_000  # work items one batch input (a sitemap index, a feed, a list) may expand to
    # extraction
    min_words: int = 120
    # generation
    engine: str = "auto"  # auto | extractive | openai
    takeaways: int = 5
    questions: int = 4
    lang: str | None = None
    fill: bool = True  # top up from the extractive engine when LLM items fail verification
    # LLM
    api_key: str | None = field(default=None, repr=False)  # never in a repr, a log line or a traceback
    base_url: str | None = None
    model: str = DEFAULT_MODEL
    timeout: float | None = None  # None: 60 s, or 600 s for a loopback/private base URL (see resolved_timeout)
    max_retries: int = 2  # per request (LLM call, page, sitemap): 1 + max_retries attempts; see retry.py
    retry_wait: float = 0.5  # first backoff in seconds (doubling, with jitter) when no Retry-After is sent
    max_input_tokens: int = 12_000
    max_output_tokens: int = 1_500
    seed: int | None = None  # sent as `seed` for reproducible sampling where the server supports it
    max_cost: float | None = None
    price_file: Path | None = None
    dry_run: bool = False
    # rendering
    template_dir: Path | None = None

    def __post_init__(self) -> None:
        register_secret(self.api_key)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickled in a worker process or a Ray actor: the key is registered there too."""
        for k, v in state.items():
            object.__setattr__(self, k, v)
        register_secret(self.api_key)

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Defaults, then environment variables, then the non-None overrides."""
        env: dict[str, Any] = {}
        if os.environ.get("OPENAI_API_KEY"):
            env["api_key"] = os.environ["OPENAI_API_KEY"]
        if os.environ.get("OPENAI_BASE_URL"):
            env["base_url"] = os.environ["OPENAI_BASE_URL"]
        if os.environ.get("TAKEAWAYS_MODEL"):
            env["model"] = os.environ["TAKEAWAYS_MODEL"]
        if os.environ.get("TAKEAWAYS_ENGINE"):
            env["engine"] = os.environ["TAKEAWAYS_ENGINE"]
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ConfigError(f"unknown option(s): {', '.join(unknown)}; known options: {', '.join(sorted(known))}")
        env.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**env)

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @property
    def llm_configured(self) -> bool:
        return bool(self.api_key or self.base_url)

    def resolved_timeout(self) -> float:
        """--timeout, else 60 s, or 600 s when the base URL is a loopback or private address: a local
        model on a CPU can take minutes, and a timed-out request keeps it busy while the retry queues."""
        if self.timeout is not None:
            return float(self.timeout)
        return LOCAL_TIMEOUT if is_local_url(self.base_url) else DEFAULT_TIMEOUT

    def resolved_engine(self) -> str:
        """`auto` → openai when a key or base URL is configured, else extractive."""
        if self.engine not in {"auto", "extractive", "openai"}:
            raise ConfigError(f"unknown engine {self.engine!r}; use auto, extractive or openai")
        if self.engine == "auto":
            return "openai" if self.llm_configured else "extractive"
        return self.engine


def is_local_url(url: str | None) -> bool:
    """A base URL on this machine or a private network (localhost, 127/8, ::1, 10/8, 172.16/12, 192.168/16, .local)."""
    if not url:
        return False
    import ipaddress
    from urllib.parse import urlsplit

    try:
        host = (urlsplit(url if "://" in url else f"http://{url}").hostname or "").lower()
    except ValueError:
        return False
    if host in ("localhost", "host.docker.internal") or host.endswith((".localhost", ".local", ".internal", ".lan")):
        return True
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return False
    return addr.is_loopback or addr.is_private or addr.is_link_local


__all__ = ["DEFAULT_MODEL", "DEFAULT_TIMEOUT", "LOCAL_TIMEOUT", "USER_AGENT", "Settings", "is_local_url"]
