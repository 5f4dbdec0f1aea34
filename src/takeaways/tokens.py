"""Token counting: tiktoken for known OpenAI models, a documented approximation otherwise.

tiktoken downloads its BPE files on first use. Offline (or behind a firewall that drops
packets) that download fails or hangs, so it runs in a daemon thread with a short deadline
(`TIKTOKEN_LOAD_TIMEOUT`, 3 s); a failure is remembered for the rest of the process and every
later count uses the approximation at once.

The approximation (`approx_tokens`) leans high, which is the safe side for budgets and
chunking: one token per CJK/kana/Hangul character, plus one per 3.5 other characters
(English BPE averages ~4 characters per token).
"""

from __future__ import annotations

import logging
import math
import re
import threading
from typing import Any

log = logging.getLogger(__name__)

TIKTOKEN_LOAD_TIMEOUT = 3.0
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_encodings: dict[str, Any] = {}  # encoding name → tiktoken.Encoding, or None once loading failed
_lock = threading.Lock()


def approx_tokens(text: str) -> int:
    """Upper-leaning estimate: CJK characters count 1 each, other characters 1 per 3.5."""
    cjk = len(_CJK.findall(text))
    return cjk + math.ceil((len(text) - cjk) / 3.5)


def _encoding_name(model: str) -> str | None:
    try:
        import tiktoken.model
    except ImportError:  # pragma: no cover - tiktoken is a dependency
        return None
    try:
        return tiktoken.model.encoding_name_for_model(model)
    except KeyError:
        return None


def _load(name: str) -> Any:
    with _lock:
        if name in _encodings:
            return _encodings[name]
        result: list[Any] = []

        def target() -> None:
            try:
                import tiktoken

                result.append(tiktoken.get_encoding(name))
            except Exception as exc:  # any failure (network, disk) means "use the estimate"
                log.info("tiktoken encoding %s unavailable (%s); using the approximation", name, exc)

        thread = threading.Thread(target=target, name=f"tiktoken-{name}", daemon=True)
        thread.start()
        thread.join(TIKTOKEN_LOAD_TIMEOUT)
        _encodings[name] = result[0] if result else None
        return _encodings[name]


def encoder_for(model: str) -> Any:
    """The tiktoken encoding for an OpenAI model, or None (unknown model or BPE files unavailable)."""
    name = _encoding_name(model)
    return _load(name) if name else None


def count_tokens(text: str, model: str) -> int:
    enc = encoder_for(model)
    if enc is None:
        return approx_tokens(text)
    return len(enc.encode(text, disallowed_special=()))


def method(model: str) -> str:
    """How `count_tokens` counts for this model (for --dry-run output)."""
    return "tiktoken" if encoder_for(model) is not None else "approximation (1 token per 3.5 characters, 1 per CJK character)"


__all__ = ["approx_tokens", "count_tokens", "method"]
