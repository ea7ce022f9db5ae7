"""The Makefile's promises: `make run` names the docs first, `make test` gets its browser."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _dry_run(target: str) -> list[str]:
    if shutil.which("make") is None:
        pytest.skip("make not found")
    done = subprocess.run(
        ["make", "-n", "--no-print-directory", target],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.splitlines()


def test_make_run_prints_the_docs_address_before_training() -> None:
    lines = _dry_run("run")
    assert lines[0] == (
        'echo "API docs: http://127.0.0.1:8000/docs (after the install and the first training)"'
    )
    assert lines.index("make --no-print-directory install train-sample") == 1


def test_make_test_installs_the_browser_first() -> None:
    lines = _dry_run("test")
    browser = next(i for i, line in enumerate(lines) if "chromium-driver" in line)
    pytest_run = next(i for i, line in enumerate(lines) if "-m pytest" in line)
    assert browser < pytest_run
