"""The exception tree. Every message says what is wrong and how to fix it."""

from __future__ import annotations

_SECRETS: set[str] = set()
REDACTED = "[redacted]"


def register_secret(value: str | None) -> None:
    """Remember a secret (the API key) so that no error message can carry it (see `scrub`)."""
    if value and len(value) >= 8:
        _SECRETS.add(value)


def scrub(text: str) -> str:
    """`text` with every registered secret replaced by [redacted] (a server may echo the key in its error)."""
    for secret in sorted(_SECRETS, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


class TakeawaysError(Exception):
    """Base class: a problem the user can fix; the CLI prints it without a traceback.

    The message never holds a registered secret: it is scrubbed here, where every error is made.
    """

    exit_code = 1

    def __init__(self, *args: object) -> None:
        super().__init__(*(scrub(a) if isinstance(a, str) else a for a in args))


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


class ReviewError(TakeawaysError):
    """A review directory or decisions file that cannot be used (nothing was changed)."""
