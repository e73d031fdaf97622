"""Content-addressed blob store on the filesystem: a document's bytes live at ``ab/cd/<sha256>``.

A blob is written before the database row that names it commits: the bytes go to a temporary
file in the store's own directory, are fsynced, then atomically renamed into place, so a reader
never sees half a file and a crash leaves at most a temporary file or an unreferenced blob.
:meth:`BlobStore.sweep_orphans` removes both once they are old enough not to belong to an upload
still in flight. Putting the same bytes twice is harmless (the second put finds the blob there).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

CHUNK = 1024 * 1024
TMP_PREFIX = ".upload-"
_HASH = re.compile(r"^[0-9a-f]{64}$")


class StorageError(Exception):
    """The store could not keep a blob (base class of the more specific errors)."""


class TooLarge(StorageError):
    """The stream went over the size limit; nothing was kept."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the file is larger than the limit of {limit} bytes")
        self.limit = limit


class BlobNotFound(StorageError):
    def __init__(self, sha256: str) -> None:
        super().__init__(f"blob {sha256} is missing from the store")
        self.sha256 = sha256


class BlobStore:
    """Blobs named by their SHA-256 under ``root``."""

    def __init__(self, root: str | Path, *, max_bytes: int | None = None) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes

    # ---------------------------------------------------------------- paths

    def path(self, sha256: str) -> Path:
        if not _HASH.match(sha256):
            raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    # ---------------------------------------------------------------- writing

    def put_stream(self, chunks: Iterable[bytes], *, max_bytes: int | None = None) -> tuple[str, int]:
        """Store the bytes of ``chunks``; returns (sha256, size).

        Over ``max_bytes`` (default: the store's limit) the write is abandoned, the temporary
        file removed and :class:`TooLarge` raised. Any other failure also leaves no file.
        """
        sha, size, _created = self.put_stream_new(chunks, max_bytes=max_bytes)
        return sha, size

    def put_stream_new(self, chunks: Iterable[bytes], *, max_bytes: int | None = None) -> tuple[str, int, bool]:
        """Like :meth:`put_stream`, also telling whether the blob is new (False: those bytes were stored already)."""
        limit = max_bytes if max_bytes is not None else self.max_bytes
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=TMP_PREFIX, dir=self.root)
        tmp = Path(tmp_name)
        try:
            digest = hashlib.sha256()
            size = 0
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    if not chunk:
                        continue
                    size += len(chunk)
                    if limit is not None and size > limit:
                        raise TooLarge(limit)
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha = digest.hexdigest()
            target = self.path(sha)
            if target.exists():
                tmp.unlink(missing_ok=True)  # the same bytes are already stored
                return sha, size, False
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, target)
            _fsync_dir(target.parent)
            return sha, size, True
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        return self.put_stream([data])

    # ---------------------------------------------------------------- reading

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def open(self, sha256: str) -> BinaryIO:
        try:
            return self.path(sha256).open("rb")
        except FileNotFoundError:
            raise BlobNotFound(sha256) from None

    def read_head(self, sha256: str, size: int) -> bytes:
        with self.open(sha256) as f:
            return f.read(size)

    def iter_chunks(self, sha256: str, chunk: int = CHUNK) -> Iterator[bytes]:
        """The blob's bytes in chunks; the file is closed when the iteration ends or is abandoned."""
        f = self.open(sha256)

        def gen() -> Iterator[bytes]:
            with f:
                while data := f.read(chunk):
                    yield data

        return gen()

    def verify(self, sha256: str) -> bool:
        """Re-hash the blob: False when it is missing or its bytes no longer match its name."""
        digest = hashlib.sha256()
        try:
            with self.open(sha256) as f:
                while data := f.read(CHUNK):
                    digest.update(data)
        except BlobNotFound:
            return False
        return digest.hexdigest() == sha256

    def iter_hashes(self) -> Iterator[str]:
        """Every stored blob's hash (temporary files left out)."""
        if not self.root.is_dir():
            return
        for first in sorted(self.root.iterdir()):
            if not first.is_dir() or len(first.name) != 2:
                continue
            for second in sorted(first.iterdir()):
                if not second.is_dir():
                    continue
                for blob in sorted(second.iterdir()):
                    if _HASH.match(blob.name) and blob.is_file():
                        yield blob.name

    # ---------------------------------------------------------------- removing

    def delete(self, sha256: str) -> bool:
        """Remove a blob; True when there was one."""
        target = self.path(sha256)
        try:
            target.unlink()
        except FileNotFoundError:
            return False
        for parent in (target.parent, target.parent.parent):
            with contextlib.suppress(OSError):  # not empty: other blobs share the prefix
                parent.rmdir()
        return True

    def sweep_orphans(self, known_hashes: Iterable[str], older_than: float) -> list[str]:
        """Delete blobs no row references, and temporary files, last modified more than ``older_than`` seconds ago.

        The age guard spares uploads in flight: their blob is written before their row commits.
        Returns the names of what was removed.
        """
        known = set(known_hashes)
        cutoff = time.time() - older_than
        removed: list[str] = []
        if not self.root.is_dir():
            return removed
        for tmp in self.root.glob(TMP_PREFIX + "*"):
            with contextlib.suppress(FileNotFoundError):
                if tmp.stat().st_mtime < cutoff:
                    tmp.unlink()
                    removed.append(tmp.name)
        for sha in list(self.iter_hashes()):
            if sha in known:
                continue
            with contextlib.suppress(FileNotFoundError):
                if self.path(sha).stat().st_mtime < cutoff and self.delete(sha):
                    removed.append(sha)
        return removed


def _fsync_dir(path: Path) -> None:
    """Make a rename durable (POSIX); silently skipped where directories cannot be opened."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
