"""Documents on a case: multipart upload, listing, metadata, streamed download, checklist and requests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Path, Query, UploadFile, status
from fastapi.responses import StreamingResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from casework.api.deps import DB, IfMatch
from casework.api.problems import problem_response, responses
from casework.api.security import Who
from casework.config import max_upload_bytes
from casework.services import document_checks, documents
from casework.services.documents import (
    ChecklistItem,
    DocumentRequestCreate,
    DocumentRequestView,
    DocumentReview,
    DocumentView,
    DocumentVisibility,
)

router = APIRouter(prefix="/api/v1", tags=["documents"])
CaseKey = Annotated[str, Path(min_length=1, max_length=64, description="Case UUID or reference")]
E = responses(404, 409, 422)
CHUNK = 256 * 1024
#: Room for the multipart envelope and the other form fields on top of the file itself.
ENVELOPE = 64 * 1024


def _read(upload: UploadFile) -> Iterator[bytes]:
    while chunk := upload.file.read(CHUNK):
        yield chunk


@router.post(
    "/cases/{key}/documents",
    status_code=status.HTTP_201_CREATED,
    response_model=DocumentView,
    responses=responses(404, 409, 413, 422),
    summary="Upload a document (multipart: file, kind, visibility)",
)
def upload_document(
    key: CaseKey,
    db: DB,
    who: Who,
    file: Annotated[UploadFile, File(description="The document; its type is detected from its bytes")],
    kind: Annotated[str, Form(min_length=1, max_length=64, description="A kind of the case type's checklist, or 'other'")],
    visibility: Annotated[DocumentVisibility, Form()] = DocumentVisibility.INTERNAL,
) -> DocumentView:
    try:
        return documents.upload_document(
            db, who, key, kind=kind, filename=file.filename or "document", stream=_read(file),
            declared_mime=file.content_type, visibility=visibility,
        )  # fmt: skip
    finally:
        file.file.close()


@router.get("/cases/{key}/documents", response_model=list[DocumentView], responses=E)
def list_documents(key: CaseKey, db: DB, who: Who) -> list[DocumentView]:
    return documents.list_documents(db, who, key)


@router.get("/cases/{key}/documents/{document_id}", response_model=DocumentView, responses=E)
def get_document(key: CaseKey, document_id: uuid.UUID, db: DB, who: Who) -> DocumentView:
    return documents.get_document(db, who, key, document_id)


_BINARY: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The document's bytes, with the type detected on upload",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}, "*/*": {}},
        "headers": {
            "ETag": {"description": "The SHA-256 of the bytes", "schema": {"type": "string"}},
            "Content-Disposition": {"description": "attachment with the (safe) original name", "schema": {"type": "string"}},
        },
    }
}


@router.get(
    "/cases/{key}/documents/{document_id}/content",
    response_class=StreamingResponse,
    responses={**_BINARY, **E, **responses(410)},
    summary="Download a document's bytes",
)
def download_document(key: CaseKey, document_id: uuid.UUID, db: DB, who: Who) -> StreamingResponse:
    view, chunks = documents.download_document(db, who, key, document_id)
    ascii_name = view.original_name.encode("ascii", "replace").decode("ascii").replace('"', "_").replace("?", "_")
    headers = {
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(view.original_name)}",
        "ETag": f'"{view.sha256}"',
        "Content-Length": str(view.size),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }
    return StreamingResponse(chunks, media_type=view.mime, headers=headers)


@router.post("/cases/{key}/documents/{document_id}/review", response_model=DocumentView, responses=responses(404, 409, 412, 422))
def review_document(key: CaseKey, document_id: uuid.UUID, body: DocumentReview, db: DB, who: Who, if_match: IfMatch) -> DocumentView:
    """Validate or reject; a kind marked four-eyes needs a second, different reviewer to validate."""
    return documents.review_document(db, who, key, document_id, body.decision, body.reason, version=body.version, if_match=if_match)


@router.post("/cases/{key}/documents/{document_id}/checks", response_model=DocumentView, responses=responses(404, 409, 410, 422, 500))
def run_document_checks(key: CaseKey, document_id: uuid.UUID, db: DB, who: Who) -> DocumentView:
    """Run the kind's automated checks now (again): results replace the earlier automatic ones; a person's decision stays."""
    return document_checks.run_document_checks(db, who, key, document_id)


@router.get("/documents/review", response_model=list[document_checks.ReviewItem], responses=responses(422))
def review_queue(db: DB, who: Who, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[document_checks.ReviewItem]:
    """Documents waiting for a person's review on the cases you see, oldest first."""
    return document_checks.review_queue(db, who, limit=limit)


@router.get("/cases/{key}/checklist", response_model=list[ChecklistItem], responses=E)
def get_checklist(key: CaseKey, db: DB, who: Who) -> list[ChecklistItem]:
    return documents.checklist(db, who, key)


@router.post("/cases/{key}/document-requests", status_code=status.HTTP_201_CREATED, response_model=DocumentRequestView, responses=E)
def request_document(key: CaseKey, body: DocumentRequestCreate, db: DB, who: Who) -> DocumentRequestView:
    return documents.request_document(db, who, key, body.kind, body.reason)


class UploadLimit:
    """Refuse an upload whose declared length is over the limit before its body is read (413).

    Bodies without a Content-Length (chunked) are still bounded: the upload service stops
    storing at the limit.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"].endswith("/documents"):
            declared = dict(scope.get("headers") or []).get(b"content-length")
            limit = max_upload_bytes()
            if declared is not None and declared.isdigit() and int(declared) > limit + ENVELOPE:
                resp = problem_response(
                    413, "Payload too large", f"the file is larger than the limit of {limit} bytes", None, field="file", limit=limit
                )
                await resp(scope, receive, send)
                return
        await self.app(scope, receive, send)
