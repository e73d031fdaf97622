"""The content-addressed blob store: atomic, idempotent writes, a size limit, verification and the sweep."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from casework.documents.storage import TMP_PREFIX, BlobNotFound, BlobStore, TooLarge


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_put_stores_under_its_hash_and_reads_back(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    sha, size = store.put_stream([b"hello ", b"", b"world"])
    assert sha == hashlib.sha256(b"hello world").hexdigest() and size == 11
    assert store.path(sha) == tmp_path / sha[:2] / sha[2:4] / sha
    assert store.exists(sha)
    with store.open(sha) as f:
        assert f.read() == b"hello world"
    assert b"".join(store.iter_chunks(sha, chunk=3)) == b"hello world"
    assert list(store.iter_hashes()) == [sha]
    assert _files(tmp_path) == [store.path(sha)]  # no temporary file left


def test_put_is_idempotent(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    first = store.put_stream_new([b"same bytes"])
    second = store.put_stream_new([b"same ", b"bytes"])
    assert first[:2] == second[:2] and first[2] is True and second[2] is False
    assert len(_files(tmp_path)) == 1


def test_failure_mid_stream_leaves_no_file(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)

    def broken() -> Iterator[bytes]:
        yield b"first part"
        raise ConnectionError("client went away")

    with pytest.raises(ConnectionError):
        store.put_stream(broken())
    assert _files(tmp_path) == []


def test_size_limit_is_enforced_while_streaming(tmp_path: Path) -> None:
    store = BlobStore(tmp_path, max_bytes=10)
    pulled = []

    def chunks() -> Iterator[bytes]:
        for i in range(100):
            pulled.append(i)
            yield b"123456"

    with pytest.raises(TooLarge) as err:
        store.put_stream(chunks())
    assert err.value.limit == 10
    assert len(pulled) == 2  # stopped reading at the limit
    assert _files(tmp_path) == []
    assert store.put_stream([b"1234567890"])[1] == 10  # exactly the limit is fine


def test_verify_detects_a_flipped_byte_and_a_missing_blob(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    sha, _ = store.put_stream([b"important evidence"])
    assert store.verify(sha)
    path = store.path(sha)
    data = bytearray(path.read_bytes())
    data[3] ^= 0x01
    path.write_bytes(bytes(data))
    assert not store.verify(sha)
    assert store.delete(sha) and not store.delete(sha)
    assert not store.verify(sha)
    with pytest.raises(BlobNotFound):
        store.open(sha)
    assert list(tmp_path.iterdir()) == []  # empty prefix folders removed too


def test_sweep_removes_old_orphans_and_temp_files_only(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    kept, _ = store.put_stream([b"referenced"])
    orphan, _ = store.put_stream([b"orphan"])
    young, _ = store.put_stream([b"young orphan"])
    tmp = tmp_path / f"{TMP_PREFIX}abc"
    tmp.write_bytes(b"half an upload")
    old = time.time() - 7200
    for path in (store.path(kept), store.path(orphan), tmp):
        os.utime(path, (old, old))
    removed = store.sweep_orphans({kept}, older_than=3600)
    assert sorted(removed) == sorted([orphan, tmp.name])
    assert store.exists(kept) and store.exists(young) and not store.exists(orphan) and not tmp.exists()


def test_path_refuses_anything_but_a_digest(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        BlobStore(tmp_path).path("../../etc/passwd")
