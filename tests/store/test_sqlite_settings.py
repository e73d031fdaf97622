"""Every SQLite connection gets the durability and read settings the guide asks for."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from casework.config import Settings
from casework.store.db import make_engine
from tests.cli_support import invoke, one_error_line


def _pragmas(url: str) -> dict[str, object]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {name: conn.execute(text(f"PRAGMA {name}")).scalar() for name in ("journal_mode", "synchronous", "mmap_size")}
    finally:
        engine.dispose()


def test_wal_full_sync_and_memory_mapped_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'settings.db'}"
    monkeypatch.delenv("CASEWORK_SQLITE_MMAP_MB", raising=False)
    assert _pragmas(url) == {"journal_mode": "wal", "synchronous": 2, "mmap_size": 1024 * 1024 * 1024}  # 2 = FULL
    monkeypatch.setenv("CASEWORK_SQLITE_MMAP_MB", "8")
    assert _pragmas(url)["mmap_size"] == 8 * 1024 * 1024
    monkeypatch.setenv("CASEWORK_SQLITE_MMAP_MB", "0")
    assert _pragmas(url)["mmap_size"] == 0


@pytest.mark.parametrize("value", ["abc", "-1", "1.5"])
def test_a_bad_mmap_size_is_refused_clearly(value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASEWORK_SQLITE_MMAP_MB", value)
    with pytest.raises(ValueError, match="CASEWORK_SQLITE_MMAP_MB"):
        Settings.from_env()
    result = invoke(f"sqlite:///{tmp_path / 'cli.db'}", "cases", "list", expect=2)
    assert "CASEWORK_SQLITE_MMAP_MB" in one_error_line(result)
