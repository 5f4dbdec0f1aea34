"""atomic_write: readers see the old file or the whole new one; failures leave no temp files."""

from __future__ import annotations

import os
import stat
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


def test_written_files_get_the_mode_a_plain_open_gives_not_mkstemps_0600(tmp_path: Path) -> None:
    atomic_write(tmp_path / "out.md", "text")
    (tmp_path / "plain.md").write_text("text")
    mode = stat.S_IMODE((tmp_path / "out.md").stat().st_mode)
    assert mode == stat.S_IMODE((tmp_path / "plain.md").stat().st_mode)
    assert mode & stat.S_IRGRP  # readable by the web server's group, unlike mkstemp's 0600


def test_replaced_files_keep_their_mode(tmp_path: Path) -> None:
    path = tmp_path / "preview.html"
    atomic_write(path, "x")
    path.chmod(0o640)
    atomic_write(path, "y")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_durable_writes_sync_to_disk_and_others_only_rename(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real(fd))[1])
    atomic_write(tmp_path / "report.json", "{}\n")
    assert len(synced) == 1
    atomic_write(tmp_path / "a.md", "- one\n", durable=False)  # what the batch journal writes per article
    assert len(synced) == 1 and (tmp_path / "a.md").read_text() == "- one\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.md", "report.json"]  # no temp file left
