"""The exception tree. Every message says what is wrong and how to fix it."""

from __future__ import annotations


class TakeawaysError(Exception):
    """Base class: a problem the user can fix; the CLI prints it without a traceback."""

    exit_code = 1


class SourceError(TakeawaysError):
    """A source could not be read: missing file, directory, binary data, too large."""


class FetchError(SourceError):
    """A URL could not be fetched: refused, timed out, HTTP error, redirect loop, wrong content type."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


class ExtractionError(TakeawaysError):
    """The page has no usable article: too short, not an article, consent wall, paywall."""


class TemplateError(TakeawaysError):
    """A template is missing or broken, or an output format is unknown."""


class ConfigError(TakeawaysError):
    """Configuration is missing or inconsistent (no API key, bad option combination)."""


class LLMError(TakeawaysError):
    """The LLM provider failed in a way retries did not fix."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


class BudgetExceeded(TakeawaysError):
    """A call would exceed --max-cost; nothing was sent."""


class OutputError(TakeawaysError):
    """An output file could not be written (missing permission, a directory in the way, disk full)."""
