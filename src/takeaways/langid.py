"""Language identification: py3langid, with its model loaded in ~0.15 s instead of ~1.3 s.

py3langid ships its model LZMA-compressed and decompresses it in every process that classifies
(1.2 s of CPU: the largest part of a batch job's start-up, paid again by each extraction worker,
and by every `takeaways summarize`). The first load writes the decompressed model (an .npz, ~70 MB)
to the user cache directory (or to $TAKEAWAYS_LANGID_CACHE), keyed by py3langid's version and the model file's size; later loads
read that. When the cache cannot be written or read (read-only home, a newer py3langid with
another layout), py3langid loads its own model as usual: only the speed differs, never the result.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import zipfile
from array import array
from importlib.metadata import version
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_lock = threading.Lock()
_TYPECODES = {2: "H", 4: "I", 8: "L"}


def classify(text: str) -> str:
    """The ISO 639-1 code of the text's language."""
    import py3langid

    _install()
    return str(py3langid.classify(text)[0])


def warm_up() -> None:
    """Load the model now (an extraction worker's start), not at the first article."""
    classify("warm up the language model")


def cache_path() -> Path:
    from platformdirs import user_cache_dir
    from py3langid.langid import MODEL_DIR, MODEL_FILE

    size = (Path(MODEL_DIR) / MODEL_FILE).stat().st_size
    base = os.environ.get("TAKEAWAYS_LANGID_CACHE") or user_cache_dir("takeaways")
    return Path(base) / f"py3langid-{version('py3langid')}-{size}.npz"


def _install() -> None:
    import py3langid.langid as langid

    if langid.IDENTIFIER is not None:
        return
    with _lock:
        if langid.IDENTIFIER is not None:
            return
        try:
            langid.IDENTIFIER = _from_cache(cache_path())
        except Exception as exc:  # any trouble with the cache: py3langid loads its own model
            log.info("language model cache unavailable (%s); decompressing py3langid's model", exc)


def _from_cache(path: Path) -> Any:
    import numpy as np
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    for attempt in range(2):
        if not path.exists():
            _write_cache(Path(MODEL_DIR) / MODEL_FILE, path)
        try:
            with path.open("rb") as fh, np.load(fh, allow_pickle=False) as data:
                return LanguageIdentifier(data["ptc"], data["pc"], data["classes"].tolist(), _stdlib(data["nextmove"]),
                                          data["out_feat"].tolist(), tk_row=_stdlib(data["nextmove_row"]))
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):  # damaged (a disk filled up?): write it again, once
            if attempt:
                raise
            path.unlink(missing_ok=True)
    raise AssertionError("unreachable")  # pragma: no cover


def _write_cache(model: Path, path: Path) -> None:
    """Decompress py3langid's model file into `path`, atomically (a reader never sees half a file)."""
    import lzma
    import shutil
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".py3langid-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out, lzma.open(model) as src:
            shutil.copyfileobj(src, out, length=1 << 20)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _stdlib(arr: Any) -> array[int]:
    """A NumPy unsigned-int array as the stdlib array py3langid's tokenizer indexes."""
    import numpy as np

    out = array(_TYPECODES[arr.dtype.itemsize])
    out.frombytes(np.ascontiguousarray(arr).tobytes())
    return out
