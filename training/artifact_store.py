"""The models folder on disk: file names, ``LATEST``, checksums and the atomic publish.

The low-level half of :mod:`training.artifact` (which re-exports what callers need); no
other module opens a file of a models folder.

Exceptions::

    ArtifactError          anything wrong with a models folder or one artifact in it
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import shutil
import stat
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from training import artifact_signing
from training.manifest import Manifest, Profile

__all__ = [
    "CLEANED",
    "FIGURES",
    "LATEST",
    "LEGACY_PIPELINE",
    "MANIFEST",
    "PIPELINE",
    "PROFILE",
    "REJECTED",
    "REJECTED_LINES",
    "REPORT",
    "SIGNATURE",
    "ArtifactError",
    "check_version_name",
    "fsync",
    "publish",
    "read_latest",
    "read_small_file",
    "sha256_file",
    "signing_key",
]

LATEST = "LATEST"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"  # HMAC of manifest.json's bytes (when a signing key is set)
PIPELINE = "pipeline.skops"  # format 2
LEGACY_PIPELINE = "pipeline.joblib"  # format 1: a pickle, read only by `segments migrate`
PROFILE = "profile.json"
CLEANED = "cleaned.csv"
REJECTED = "rejected.csv"
REJECTED_LINES = "rejected_lines.csv"  # transaction lines the recipe could not use
REPORT = "report.html"
FIGURES = "figures"
VERSION_PATTERN = r"[0-9A-Za-z][0-9A-Za-z._-]{0,127}"
_VERSION_RE = re.compile(VERSION_PATTERN)
MAX_LATEST_BYTES = 256  # a version name is at most 128 characters (+ newline)
_STALE_TMP_SECONDS = 24 * 3600


class ArtifactError(RuntimeError):
    """A models folder or artifact is missing, incomplete, tampered with or incompatible.

    ``kind`` is one of a small fixed set (``missing``, ``checksum``, ``signature``,
    ``untrusted``, ``library_version``, ``format``, ``invalid``), for metrics labels and
    callers that branch on the cause.
    """

    def __init__(self, message: str, kind: str = "invalid") -> None:
        super().__init__(message)
        self.kind = kind


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_version_name(version: str) -> str:
    """Refuse a version name that could leave the models folder (``../x``, ``/abs``)."""
    if not _VERSION_RE.fullmatch(version) or ".." in version:
        raise ArtifactError(
            f"invalid model version {version!r}: use letters, digits, '.', '_' and '-' only"
        )
    return version


def read_small_file(path: Path, limit: int, what: str) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; never follows a symlink.

    Refuses symlinks, folders, FIFOs, devices and larger files with an ``ArtifactError``
    that names ``path`` and the problem, never the content.
    """
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise ArtifactError(f"{path} not found", "missing") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ArtifactError(f"{path} is a symbolic link (refused): {what}") from None
        raise ArtifactError(f"{path}: cannot open it ({exc.strerror})") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise ArtifactError(f"{path} is a folder, not a file: {what}")
        if not stat.S_ISREG(mode):
            raise ArtifactError(f"{path} is not a regular file (a FIFO, socket or device): {what}")
        data = os.read(fd, limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise ArtifactError(f"{path} is larger than {limit} bytes: {what}")
    return data


def read_latest(models_dir: Path) -> str:
    """The version ``LATEST`` names, read safely; errors never quote the file's content."""
    if not models_dir.is_dir():
        raise ArtifactError(
            f"models folder {models_dir} does not exist: train a model first", "missing"
        )
    path = models_dir / LATEST
    expected = "it should hold one line, a model version name"
    if not os.path.lexists(path):
        raise ArtifactError(f"{path} not found: no model has been published yet", "missing")
    text = read_small_file(path, MAX_LATEST_BYTES, expected)
    try:
        name = text.decode("ascii").strip()
    except UnicodeDecodeError:
        name = ""
    if not _VERSION_RE.fullmatch(name) or ".." in name:
        raise ArtifactError(
            f"{path} does not hold a valid version name ({VERSION_PATTERN}): {expected}"
        )
    return name


def latest_names(models_dir: Path, version: str) -> bool:
    """Whether ``LATEST`` names ``version`` now (False when it is absent or unreadable)."""
    try:
        return read_latest(models_dir) == version
    except ArtifactError:
        return False


def signing_key() -> bytes | None:
    """``SEG_MODEL_SIGNING_KEY`` as bytes, None when unset; an unfit key is an error."""
    try:
        return artifact_signing.signing_key()
    except artifact_signing.SigningKeyError as exc:
        raise ArtifactError(str(exc), "signature") from None


def fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _new_version(data_hash: str) -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{data_hash[:8]}"


def _remove_stale_tmp(models_dir: Path) -> None:
    cutoff = time.time() - _STALE_TMP_SECONDS
    for tmp in models_dir.glob(".tmp-*"):
        if tmp.is_dir() and tmp.stat().st_mtime < cutoff:
            shutil.rmtree(tmp, ignore_errors=True)


def _write_latest(models_dir: Path, version: str) -> None:
    tmp = models_dir / f".{LATEST}.{uuid.uuid4().hex}"
    with tmp.open("w") as handle:
        handle.write(version + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, models_dir / LATEST)
    fsync(models_dir)


def publish(
    models_dir: Path,
    manifest: Manifest,
    write_files: Callable[[Path], None],
    *,
    update_latest: bool = True,
) -> Path:
    """Write an artifact atomically and point ``LATEST`` at it.

    ``write_files(folder)`` writes every file but the manifest into a private temporary
    folder; this function checksums them, writes the manifest (and its signature when
    ``SEG_MODEL_SIGNING_KEY`` is set), fsyncs, renames the folder to
    ``models_dir/<version>`` and only then replaces ``LATEST`` (unless
    ``update_latest=False``). Any failure removes the temporary folder and leaves
    ``LATEST`` as it was.
    """
    key = signing_key()  # a bad key fails before any work
    models_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale_tmp(models_dir)
    tmp = models_dir / f".tmp-{uuid.uuid4().hex}"
    tmp.mkdir()
    try:
        write_files(tmp)
        files = sorted(
            p for p in tmp.rglob("*") if p.is_file() and p.name not in (MANIFEST, SIGNATURE)
        )
        manifest.files = {p.relative_to(tmp).as_posix(): sha256_file(p) for p in files}
        for path in files:
            fsync(path)
        for folder in {p.parent for p in files}:
            fsync(folder)
        _check_readable(tmp, manifest)
        target = _rename_into_place(models_dir, tmp, manifest, key)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if update_latest:
        _write_latest(models_dir, target.name)
    return target


def _check_readable(folder: Path, manifest: Manifest) -> None:
    """Refuse to publish what the loader would refuse to read (e.g. NaN written as null)."""
    try:
        Manifest.model_validate_json(manifest.model_dump_json())
        if (folder / PROFILE).is_file():
            Profile.model_validate_json((folder / PROFILE).read_text())
    except ValidationError as exc:
        first = exc.errors(include_input=False)[0]
        where = ".".join(map(str, first["loc"]))
        raise ArtifactError(f"refusing to publish: invalid {where}: {first['msg']}") from None


def _write_synced(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    fsync(path)


def _rename_into_place(models_dir: Path, tmp: Path, manifest: Manifest, key: bytes | None) -> Path:
    # A version folder, once published, is never empty, so rename() onto it fails: two
    # trainers that picked the same name cannot overwrite each other; the loser renames.
    for _ in range(100):
        manifest.model_version = _new_version(manifest.data.fingerprint)
        data = manifest.model_dump_json(indent=2).encode()
        _write_synced(tmp / MANIFEST, data)
        if key is not None:
            _write_synced(tmp / SIGNATURE, artifact_signing.sign(data, key).encode())
        fsync(tmp)
        target = models_dir / manifest.model_version
        try:
            os.rename(tmp, target)
        except OSError:
            if target.exists():
                continue
            raise
        fsync(models_dir)
        return target
    raise ArtifactError(f"{models_dir}: could not find a free version name")
