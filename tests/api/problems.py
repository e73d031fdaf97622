"""Assertions on API answers shared by the HTTP tests: problem reports and successful bodies."""

from __future__ import annotations

from typing import Any

from httpx import Response

PROBLEM = "application/problem+json"


def problem(resp: Response, status: int, field: str | None = None) -> dict[str, Any]:
    """Assert an RFC 9457 problem report with this status (and offending field) and return it."""
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == PROBLEM
    body: dict[str, Any] = resp.json()
    assert body["status"] == status
    assert body["title"] and body["detail"]
    assert body["type"] == "about:blank"
    assert body["instance"] == resp.request.url.path
    if field is not None:
        assert body["field"] == field, body
    return body


def ok(resp: Response, status: int = 200) -> Any:
    """Assert a successful answer with this status and return its JSON body."""
    assert resp.status_code == status, resp.text
    return resp.json()
