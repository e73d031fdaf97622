"""Configuration from environment variables, read once so every entry point agrees."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    database_url: str
    host: str
    port: int
    log_level: str

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            database_url=os.environ.get("CASEWORK_DATABASE_URL", "sqlite:///./casework.db"),
            host=os.environ.get("CASEWORK_HOST", "127.0.0.1"),
            port=int(os.environ.get("CASEWORK_PORT", "8000")),
            log_level=os.environ.get("CASEWORK_LOG_LEVEL", "info"),
        )


def normalise_url(url: str) -> str:
    """Accept plain postgresql:// URLs and route them through psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
