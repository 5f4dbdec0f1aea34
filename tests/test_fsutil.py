"""atomic_write: readers see the old file or the whole new one; failures leave no temp files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from takeaways.errors import OutputError
from takeaways.fsutil import atomic_write


def test_writes_and_replaces(tmp_path: Path) -> None:
    path = tmp_path / "out" / "digest.md"
    atomic_write(path, "first\n")
    atomic_write(path, "second ✓\n")
    assert path.read_text(encoding="utf-8") == "second ✓\n"
    assert os.listdir(path.parent) == ["digest.md"]


def test_a_failure_mid_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "digest.md"
    path.write_text("old\n")

    def crash(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OutputError, match=r"cannot write .*digest\.md \(No space left on device\); check the path"):
        atomic_write(path, "new and much longer\n")
    assert path.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["digest.md"]  # the temp file is gone


def test_unwritable_destination(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputError, match="cannot write"):
        atomic_write(tmp_path / "file" / "x.md", "x")


def test_new_files_get_the_umask_mode_and_replaced_files_keep_theirs(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = tmp_path / "preview.html"
        atomic_write(path, "x")
        assert path.stat().st_mode & 0o777 == 0o644  # not mkstemp's 0600: a web server must read it
        path.chmod(0o640)
        atomic_write(path, "y")
        assert path.stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(old)
