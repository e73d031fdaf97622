"""Writing one closed case as a BagIt bag (RFC 8493) with the ``bagit`` library.

The bag is built in a temporary directory next to its destination, given SHA-256 manifests,
validated, and only then renamed to ``<out_dir>/<name>``: a reader (or a crash) never meets a
half-written bag under the final name. A payload file whose bytes do not hash to the SHA-256 the
database expects is refused before anything is renamed.

``bagit.make_bag`` changes the process's working directory while it runs; archiving is meant for
the command line (or a job), not for a request handler running in threads.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import bagit

SOURCE_ORGANIZATION = "casework"
CHECKSUMS = ["sha256"]
MANIFEST = "manifest-sha256.txt"
TMP_PREFIX = ".bagging-"
CHUNK = 1024 * 1024
_SAFE = re.compile(r"[^A-Za-z0-9._\-]+")


class ArchiveError(Exception):
    """A bag could not be written; nothing was left under its final name."""


@dataclass(frozen=True)
class PayloadFile:
    """A file of the payload: where it goes under ``data/``, how to read it, the SHA-256 it must have."""

    path: str  # relative to data/, with "/" separators, e.g. "documents/<id>-scan.pdf"
    open: Callable[[], BinaryIO]
    sha256: str | None = None


@dataclass(frozen=True)
class BagResult:
    path: Path
    payload_oxum: str
    manifest_sha256: str  # SHA-256 of manifest-sha256.txt: one value that pins every payload file
    files: int
    bytes: int


def safe_part(name: str, limit: int = 120) -> str:
    """A file-name part that is the same on every file system (ASCII letters, digits, ``._-``)."""
    cleaned = _SAFE.sub("_", name).strip("._") or "file"
    return cleaned[:limit]


def _check_relative(path: str) -> Path:
    parts = Path(path).parts
    if not parts or Path(path).is_absolute() or any(p in ("", ".", "..") for p in parts):
        raise ArchiveError(f"not a safe payload path: {path!r}")
    return Path(*parts)


def _copy(src: BinaryIO, target: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with src, target.open("wb") as out:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return digest.hexdigest(), size


def json_bytes(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str) + "\n").encode("utf-8")


def write_bag(
    out_dir: Path,
    name: str,
    *,
    files: Sequence[PayloadFile],
    documents: dict[str, bytes],
    external_identifier: str,
    bagging_date: dt.date | None = None,
    extra_info: dict[str, str] | None = None,
) -> BagResult:
    """Write a bag ``<out_dir>/<name>/`` holding ``files`` (copied, hash-checked) and ``documents`` (small files given as bytes).

    Raises :class:`ArchiveError` when the target exists, a payload file is missing or does not
    match its SHA-256, or the finished bag does not validate; the temporary directory is removed.
    """
    out_dir = Path(out_dir).resolve()
    target = out_dir / name
    if name != safe_part(name) or name.startswith("."):
        raise ArchiveError(f"not a safe bag name: {name!r}")
    if target.exists():
        raise ArchiveError(f"{target} already exists; move it away to archive this case again")
    out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=TMP_PREFIX + name + "-", dir=out_dir))
    try:
        for rel, content in documents.items():
            dest = work / _check_relative(rel)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(content)
        for item in files:
            dest = work / _check_relative(item.path)
            if dest.exists():
                raise ArchiveError(f"two payload files named {item.path}")
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                source = item.open()
            except Exception as exc:  # the opener's own error (a missing blob, an unreadable file)
                raise ArchiveError(f"cannot read {item.path}: {exc}") from None
            sha, _size = _copy(source, dest)
            if item.sha256 is not None and sha != item.sha256:
                raise ArchiveError(f"{item.path} does not match its SHA-256 (expected {item.sha256}, read {sha})")
        info = {
            "Source-Organization": SOURCE_ORGANIZATION,
            "External-Identifier": external_identifier,
            "Bagging-Date": (bagging_date or dt.datetime.now(dt.UTC).date()).isoformat(),
            **(extra_info or {}),
        }
        try:
            bag = bagit.make_bag(str(work), bag_info=info, checksums=CHECKSUMS)
            bag.validate()
        except (bagit.BagError, OSError) as exc:
            raise ArchiveError(f"the bag for {name} is not valid: {exc}") from None
        oxum = str(bag.info.get("Payload-Oxum", ""))
        manifest_sha = hashlib.sha256((work / MANIFEST).read_bytes()).hexdigest()
        octets, _, count = oxum.partition(".")
        os.rename(work, target)  # atomic on one file system; fails if the target appeared meanwhile
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    with contextlib.suppress(OSError):
        fd = os.open(out_dir, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    return BagResult(path=target, payload_oxum=oxum, manifest_sha256=manifest_sha, files=int(count or 0), bytes=int(octets or 0))


def remove_bag(path: Path) -> None:
    """Take back a bag whose database record could not be written."""
    shutil.rmtree(path, ignore_errors=True)
