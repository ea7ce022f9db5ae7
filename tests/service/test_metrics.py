"""The metrics folder of `segments serve --workers N`: fresh per start, stale ones removed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from service import metrics


@pytest.fixture
def temp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)  # re-read TMPDIR
    return tmp_path


def _folder(root: Path, name: str, pids: list[int], age: float) -> Path:
    folder = root / (metrics.MULTIPROC_PREFIX + name)
    folder.mkdir()
    for pid in pids:
        (folder / f"counter_{pid}.db").write_bytes(b"")
    past = time.time() - age
    os.utime(folder, (past, past))
    return folder


def test_fresh_multiprocess_dir_removes_only_stale_folders(temp_root: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead_pid = int(dead.stdout)
    stale = _folder(temp_root, "stale", [dead_pid], age=3600)
    running = _folder(temp_root, "running", [os.getpid(), dead_pid], age=3600)
    starting = _folder(temp_root, "starting", [], age=1)
    fresh = Path(metrics.fresh_multiprocess_dir())
    assert fresh.parent == temp_root
    assert fresh.name.startswith(metrics.MULTIPROC_PREFIX)
    assert list(fresh.iterdir()) == []
    assert sorted(p.name for p in temp_root.iterdir()) == sorted(
        [running.name, starting.name, fresh.name]
    )
    assert not stale.exists()
