"""``LATEST`` is read as a short version name, never followed, never echoed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from training.artifact import ArtifactError, resolve_version

PASSWD = Path("/etc/passwd")


def _symlink_to_passwd(latest: Path) -> None:
    latest.symlink_to(PASSWD)


def _twenty_megabytes(latest: Path) -> None:
    latest.write_bytes(b"20990101T000000000000Z-abcdef12" * (20 * 2**20 // 31))


def _folder(latest: Path) -> None:
    latest.mkdir()


def _fifo(latest: Path) -> None:
    os.mkfifo(latest)


def _not_text(latest: Path) -> None:
    latest.write_bytes(b"\xff\xfe root:x:0:0\n")


def _two_lines(latest: Path) -> None:
    latest.write_text("v1\nroot:x:0:0:root:/root:/bin/bash\n")


EXPECTED = "it should hold one line, a model version name"
CASES = {
    "symlink to /etc/passwd": (_symlink_to_passwd, "{latest} is a symbolic link (refused): "),
    "20 MB": (_twenty_megabytes, "{latest} is larger than 256 bytes: "),
    "folder": (_folder, "{latest} is a folder, not a file: "),
    "FIFO": (_fifo, "{latest} is not a regular file (a FIFO, socket or device): "),
    "not text": (
        _not_text,
        "{latest} does not hold a valid version name ([0-9A-Za-z][0-9A-Za-z._-]{{0,127}}): ",
    ),
    "two lines": (
        _two_lines,
        "{latest} does not hold a valid version name ([0-9A-Za-z][0-9A-Za-z._-]{{0,127}}): ",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_resolve_version_refuses_an_unfit_latest(tmp_path: Path, case: str) -> None:
    make, message = CASES[case]
    latest = tmp_path / "LATEST"
    make(latest)
    with pytest.raises(ArtifactError) as caught:
        resolve_version(tmp_path)
    assert str(caught.value) == message.format(latest=latest) + EXPECTED
    assert caught.value.kind == "invalid"


def test_resolve_version_reads_a_plain_latest(tmp_path: Path) -> None:
    (tmp_path / "LATEST").write_text("20990101T000000000000Z-abcdef12\n")
    assert resolve_version(tmp_path) == "20990101T000000000000Z-abcdef12"


def test_resolve_version_no_latest(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError) as caught:
        resolve_version(tmp_path)
    assert str(caught.value) == f"{tmp_path}/LATEST not found: no model has been published yet"
    assert caught.value.kind == "missing"


def test_resolve_version_dangling_symlink_is_refused_not_missing(tmp_path: Path) -> None:
    (tmp_path / "LATEST").symlink_to(tmp_path / "nowhere")
    with pytest.raises(ArtifactError, match=r"LATEST is a symbolic link \(refused\)"):
        resolve_version(tmp_path)
