"""Atomic file writes: a temp file in the same directory, fsync, then rename."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import OutputError


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()  # read once: os.umask() is process-wide and not safe to toggle under threads


def atomic_write(path: Path | str, data: str | bytes, *, durable: bool = True) -> None:
    """Write `data` to `path` so that readers see the old file or the whole new one, never half.

    `durable` also flushes it to disk before the rename (survives a power cut, not only a killed
    process). The batch journal writes thousands of files without it: a killed process loses
    nothing either way, and its state db does not sync each commit either.
    Raises OutputError (with the reason) when the file cannot be written; no temp file is left.
    """
    path = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        # mkstemp creates the file 0600; give it the mode a plain open() would (or the old file's), so
        # a page written for a web server or a colleague is readable by them.
        try:
            mode = path.stat().st_mode & 0o7777
        except FileNotFoundError:
            mode = 0o666 & ~_UMASK
        os.chmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise OutputError(f"cannot write {path} ({exc.strerror or exc}); check the path and its permissions") from exc
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
