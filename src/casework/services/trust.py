"""The certificates administrators trust for 2D-Doc signatures: add, list, revoke, and the trust store.

A 2D-Doc is signed by a certificate of a certification authority listed by the ANTS. Which
authorities and signing certificates count is the institution's decision, so they are kept in
the database (``trusted_certificates``) rather than shipped: an administrator adds the PEM or DER
files (``casework trust add``, ``POST /api/v1/admin/trust/certificates``) and revokes them when
they must no longer be trusted. A revoked row is kept, for the audit trail, and leaves the store.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import re
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.audit import log as audit
from casework.documents.checks.twoddoc_format import TwoDDocError
from casework.documents.checks.twoddoc_trust import TrustStore, certificate_ids, is_authority
from casework.domain.access import Perm, Principal
from casework.domain.errors import DomainError, InvalidInput, NotFound
from casework.services.common import require
from casework.store.models import TrustedCertificate
from casework.store.types import utcnow
from casework.store.unit_of_work import Database

_PEM_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----\s.*?-----END CERTIFICATE-----", re.DOTALL)
#: Certificates are small; anything bigger is not one.
MAX_CERTIFICATE_BYTES = 64 * 1024


class CertificateAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(min_length=1, max_length=200, description="What this certificate is, for people")
    certificate: str = Field(
        min_length=1, max_length=MAX_CERTIFICATE_BYTES, description="One X.509 certificate, PEM text or base64 of its DER"
    )


class CertificateView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    label: str
    fingerprint: str  # SHA-256 of the DER, hex
    is_authority: bool
    subject: str
    issuer: str
    ca_id: str | None  # a signing certificate's 2D-Doc ids (CN convention); None for an authority
    cert_id: str | None
    not_before: dt.datetime
    not_after: dt.datetime
    added_by: uuid.UUID | None
    added_at: dt.datetime
    revoked_at: dt.datetime | None
    pem: str


def parse_certificate(data: bytes | str) -> x509.Certificate:
    """One certificate from PEM text, DER bytes or base64 DER; :class:`InvalidInput` naming ``certificate`` otherwise."""
    raw = data.encode("utf-8", "replace") if isinstance(data, str) else bytes(data)
    if len(raw) > MAX_CERTIFICATE_BYTES:
        raise InvalidInput(f"a certificate is a few kilobytes, not {len(raw)} bytes", field="certificate")
    blocks = _PEM_CERT.findall(raw)
    if b"-----BEGIN" in raw:
        if len(blocks) != 1:
            found = f"{len(blocks)} CERTIFICATE blocks" if blocks else "no CERTIFICATE block"
            raise InvalidInput(f"expected one PEM certificate, found {found}; add certificates one at a time", field="certificate")
        try:
            return x509.load_pem_x509_certificate(blocks[0])
        except ValueError as exc:
            raise InvalidInput(f"not a readable PEM certificate: {exc}", field="certificate") from None
    candidates = [raw]
    try:
        candidates.append(base64.b64decode(b"".join(raw.split()), validate=True))
    except (binascii.Error, ValueError):
        pass
    for candidate in candidates:
        try:
            return x509.load_der_x509_certificate(candidate)
        except ValueError:
            continue
    raise InvalidInput("not an X.509 certificate (expected PEM text or DER bytes)", field="certificate")


def _fingerprint(cert: x509.Certificate) -> str:
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def _view(row: TrustedCertificate) -> CertificateView:
    cert = x509.load_pem_x509_certificate(row.pem.encode("ascii"))
    ca_id = cert_id = None
    if not row.is_authority:
        try:
            ca_id, cert_id = certificate_ids(cert)
        except (TwoDDocError, ValueError):
            pass
    return CertificateView(
        id=row.id, label=row.label, fingerprint=row.fingerprint, is_authority=row.is_authority,
        subject=cert.subject.rfc4514_string(), issuer=cert.issuer.rfc4514_string(), ca_id=ca_id, cert_id=cert_id,
        not_before=row.not_before, not_after=row.not_after, added_by=row.added_by, added_at=row.added_at,
        revoked_at=row.revoked_at, pem=row.pem,
    )  # fmt: skip


def add_certificate(db: Database, who: Principal, data: bytes | str, label: str) -> CertificateView:
    """Trust one certificate (an authority, or a signing certificate named by the 2D-Doc CN convention)."""
    require(who, Perm.TRUST_MANAGE)
    label = (label or "").strip()
    if not label:
        raise InvalidInput("give the certificate a label", field="label")
    cert = parse_certificate(data)
    authority = is_authority(cert)
    pem = cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
    try:
        TrustStore.from_pem_bundle(pem)  # exactly what the checks will do with it
    except TwoDDocError as exc:
        raise InvalidInput(f"this certificate cannot be used for 2D-Doc signatures: {exc}", field="certificate") from None
    fingerprint = _fingerprint(cert)
    with db.write() as s:
        existing = s.scalars(select(TrustedCertificate).where(TrustedCertificate.fingerprint == fingerprint)).first()
        if existing is not None:
            raise DomainError(
                f"this certificate is already in the trust store as {existing.id} ({existing.label})",
                field="certificate",
                certificate_id=str(existing.id),
            )
        row = TrustedCertificate(
            label=label[:200], pem=pem, fingerprint=fingerprint, is_authority=authority,
            not_before=cert.not_valid_before_utc, not_after=cert.not_valid_after_utc, added_by=who.user_id, added_at=utcnow(),
        )  # fmt: skip
        s.add(row)
        s.flush()
        audit.append(s, actor_id=who.user_id, action="trust.add",
                     data={"certificate_id": row.id, "label": row.label, "fingerprint": fingerprint, "is_authority": authority,
                           "subject": cert.subject.rfc4514_string()})  # fmt: skip
        return _view(row)


def list_certificates(db: Database, who: Principal, *, include_revoked: bool = True) -> list[CertificateView]:
    require(who, Perm.TRUST_MANAGE)
    with db.read() as s:
        stmt = select(TrustedCertificate).order_by(TrustedCertificate.added_at, TrustedCertificate.id)
        if not include_revoked:
            stmt = stmt.where(TrustedCertificate.revoked_at.is_(None))
        return [_view(row) for row in s.scalars(stmt)]


def revoke_certificate(db: Database, who: Principal, certificate_id: uuid.UUID) -> CertificateView:
    """Stop trusting a certificate; the row stays (revoked), so the audit trail keeps what was trusted."""
    require(who, Perm.TRUST_MANAGE)
    with db.write() as s:
        row = s.get(TrustedCertificate, certificate_id, with_for_update=True)
        if row is None:
            raise NotFound(f"certificate {certificate_id} not found in the trust store", field="certificate_id")
        if row.revoked_at is not None:
            raise DomainError(f"certificate {row.id} was revoked on {row.revoked_at:%Y-%m-%d} already", field="certificate_id")
        row.revoked_at = utcnow()
        s.flush()
        audit.append(s, actor_id=who.user_id, action="trust.revoke",
                     data={"certificate_id": row.id, "label": row.label, "fingerprint": row.fingerprint})  # fmt: skip
        return _view(row)


def trust_store_in(s: Session) -> TrustStore:
    """The 2D-Doc trust store: every certificate that is not revoked (expiry is checked per document)."""
    store = TrustStore()
    for row in s.scalars(select(TrustedCertificate).where(TrustedCertificate.revoked_at.is_(None)).order_by(TrustedCertificate.added_at)):
        try:
            store.add_pem(row.pem)
        except TwoDDocError:  # validated on add; a row edited by hand is skipped rather than breaking every check
            continue
    return store
