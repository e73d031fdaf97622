"""The 2D-Doc trust store, managed by administrators: list, add and revoke trusted certificates."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from casework.api.deps import DB
from casework.api.problems import responses
from casework.api.security import Who
from casework.services import trust
from casework.services.trust import CertificateAdd, CertificateView

router = APIRouter(prefix="/api/v1/admin/trust", tags=["administration"])


@router.get("/certificates", response_model=list[CertificateView], responses=responses(422))
def list_certificates(db: DB, who: Who, include_revoked: Annotated[bool, Query()] = True) -> list[CertificateView]:
    """Certificates trusted for 2D-Doc signatures (revoked ones too unless include_revoked=false)."""
    return trust.list_certificates(db, who, include_revoked=include_revoked)


@router.post("/certificates", status_code=status.HTTP_201_CREATED, response_model=CertificateView, responses=responses(409, 422))
def add_certificate(body: CertificateAdd, db: DB, who: Who) -> CertificateView:
    """Trust one certificate (PEM text, or base64 of its DER): an authority or a signing certificate."""
    return trust.add_certificate(db, who, body.certificate, body.label)


@router.delete("/certificates/{certificate_id}", response_model=CertificateView, responses=responses(404, 409, 422))
def revoke_certificate(certificate_id: uuid.UUID, db: DB, who: Who) -> CertificateView:
    """Stop trusting a certificate; the record stays, marked revoked."""
    return trust.revoke_certificate(db, who, certificate_id)
