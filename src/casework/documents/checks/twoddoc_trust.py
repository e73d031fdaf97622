"""Trusted 2D-Doc signing certificates, and the signature check ``2ddoc_signature``.

Certificate id convention (that of the ANTS trust list): a signing certificate's subject CN is
the *certificate id* of the header (``0001``, ``AV01``) and its issuer's CN — the certification
authority's own CN — is the *CA id* (``FR00``, ``FR03``). A subject CN of 8 characters is read
as CA id + certificate id (``FR000001``). Either can be given explicitly instead
(:meth:`TrustStore.add_certificate`, ``from_pem_*(ca_id=..., cert_id=...)``), and a bare public
key can be pinned with :meth:`TrustStore.add_public_key` or as a PEM ``PUBLIC KEY`` block with
explicit ids (no chain, no validity period).

Certification authority certificates (``basicConstraints CA:TRUE``, or self-signed without the
extension) in the store are trust anchors: a signing certificate passes when one of them
directly issued it (signature checked), and both are valid on ``today``. Revocation (CRL, OCSP)
is not checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from os import PathLike
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from cryptography.x509.oid import NameOID

from casework.documents.checks.result import CheckResult, Outcome
from casework.documents.checks.twoddoc_format import SIGNATURE_CURVES, TwoDDoc, TwoDDocError

CHECK = "2ddoc_signature"
_ID = re.compile(r"[A-Z0-9]{4}")
_PEM_BLOCK = re.compile(rb"-----BEGIN (CERTIFICATE|PUBLIC KEY)-----.+?-----END \1-----", re.DOTALL)
TrustedKey = x509.Certificate | ec.EllipticCurvePublicKey


def _cn(name: x509.Name) -> str | None:
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value).strip().upper() if values else None


def is_authority(cert: x509.Certificate) -> bool:
    """True for a CA certificate: ``basicConstraints CA:TRUE``, or self-signed without the extension."""
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return cert.subject == cert.issuer


def certificate_ids(cert: x509.Certificate) -> tuple[str, str]:
    """(CA id, certificate id) of a 2D-Doc signing certificate, by the CN convention (see module doc)."""
    subject = _cn(cert.subject) or ""
    if re.fullmatch(r"[A-Z0-9]{8}", subject):
        return subject[:4], subject[4:]
    issuer = _cn(cert.issuer) or ""
    if _ID.fullmatch(subject) and _ID.fullmatch(issuer):
        return issuer, subject
    raise TwoDDocError(
        f"cannot tell the 2D-Doc ids of certificate {cert.subject.rfc4514_string()!r}: expected subject CN = certificate id "
        "and issuer CN = CA id (4 characters A-Z/0-9 each), or give ca_id/cert_id explicitly"
    )


def _day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


@dataclass
class TrustStore:
    """Signing keys by (CA id, certificate id), and the trusted certification authorities.

    ``require_chain`` (default True): a signing *certificate* must be issued by one of the
    ``authorities``; set it to False to trust stored certificates on their own.
    """

    certificates: dict[tuple[str, str], list[TrustedKey]] = field(default_factory=dict)
    authorities: list[x509.Certificate] = field(default_factory=list)
    require_chain: bool = True

    def add_authority(self, cert: x509.Certificate) -> None:
        self.authorities.append(cert)

    def add_certificate(self, cert: x509.Certificate, *, ca_id: str | None = None, cert_id: str | None = None) -> tuple[str, str]:
        """Trust a signing certificate, under explicit ids or those of the CN convention."""
        if ca_id is None or cert_id is None:
            derived = certificate_ids(cert)
            ca_id, cert_id = ca_id or derived[0], cert_id or derived[1]
        for value in (ca_id, cert_id):
            if not _ID.fullmatch(value):
                raise TwoDDocError(f"invalid 2D-Doc id {value!r}: expected 4 characters A-Z/0-9")
        self.certificates.setdefault((ca_id, cert_id), []).append(cert)
        return ca_id, cert_id

    def add_public_key(self, ca_id: str, cert_id: str, key: ec.EllipticCurvePublicKey) -> None:
        """Pin a bare public key: no certificate, so no chain and no validity period are checked."""
        self.certificates.setdefault((ca_id, cert_id), []).append(key)

    def add_pem(self, text: str | bytes, *, ca_id: str | None = None, cert_id: str | None = None) -> None:
        """Add every certificate of a PEM text: CA certificates as authorities, the others as signers.

        ``PUBLIC KEY`` blocks are pinned keys and need explicit ``ca_id`` and ``cert_id``.
        """
        data = text.encode("ascii") if isinstance(text, str) else text
        blocks = [(m.group(1), m.group(0)) for m in _PEM_BLOCK.finditer(data)]
        if not blocks:
            raise TwoDDocError("not a PEM bundle: no CERTIFICATE or PUBLIC KEY block found")
        for kind, block in blocks:
            try:
                if kind == b"PUBLIC KEY":
                    key = load_pem_public_key(block)
                    if not isinstance(key, ec.EllipticCurvePublicKey) or ca_id is None or cert_id is None:
                        raise TwoDDocError("a PEM public key must be an EC key, given with explicit ca_id and cert_id")
                    self.add_public_key(ca_id, cert_id, key)
                    continue
                cert = x509.load_pem_x509_certificate(block)
            except ValueError as exc:
                if isinstance(exc, TwoDDocError):
                    raise
                raise TwoDDocError(f"unreadable PEM {kind.decode()} block: {exc}") from exc
            if is_authority(cert):
                self.add_authority(cert)
            else:
                self.add_certificate(cert, ca_id=ca_id, cert_id=cert_id)

    @classmethod
    def from_pem_bundle(cls, text: str | bytes, *, ca_id: str | None = None, cert_id: str | None = None) -> TrustStore:
        """A store from one PEM text holding CA and signing certificates (ids: see module doc)."""
        store = cls()
        store.add_pem(text, ca_id=ca_id, cert_id=cert_id)
        return store

    @classmethod
    def from_pem_files(cls, paths: Iterable[str | PathLike[str]], *, ca_id: str | None = None, cert_id: str | None = None) -> TrustStore:
        """A store from PEM files (each may hold several certificates)."""
        store = cls()
        for path in paths:
            store.add_pem(Path(path).read_bytes(), ca_id=ca_id, cert_id=cert_id)
        return store

    def lookup(self, ca_id: str, cert_id: str) -> list[TrustedKey]:
        return list(self.certificates.get((ca_id, cert_id), ()))

    def issuer_of(self, cert: x509.Certificate) -> x509.Certificate | None:
        """The trusted authority that directly issued ``cert`` (its signature verified), if any."""
        for authority in self.authorities:
            if authority.subject != cert.issuer:
                continue
            try:
                cert.verify_directly_issued_by(authority)
            except (ValueError, TypeError, InvalidSignature):
                continue
            return authority
        return None


def _verify_signature(key: ec.EllipticCurvePublicKey, doc: TwoDDoc) -> str | None:
    """None when the signature verifies, else why not."""
    curve, hash_cls = SIGNATURE_CURVES[len(doc.signature)]
    if key.curve.name != curve:
        return f"the signature has the size of a {curve} signature but the certificate key is on {key.curve.name}"
    half = len(doc.signature) // 2
    der = utils.encode_dss_signature(int.from_bytes(doc.signature[:half], "big"), int.from_bytes(doc.signature[half:], "big"))
    try:
        key.verify(der, doc.signed_data, ec.ECDSA(hash_cls()))
    except InvalidSignature:
        return "the signature does not match the data: the content was altered or signed by another key"
    return None


def _certificate_problem(cert: x509.Certificate, doc: TwoDDoc, trust: TrustStore, today: date) -> str | None:
    """None when the certificate, its chain and validity hold, else why not."""
    start, end = _day(cert.not_valid_before_utc), _day(cert.not_valid_after_utc)
    if today > end:
        return f"the signing certificate expired on {end.isoformat()}"
    if today < start:
        return f"the signing certificate is not valid before {start.isoformat()}"
    if doc.signed is not None and not start <= doc.signed <= end:
        return f"the document was signed on {doc.signed.isoformat()}, outside the certificate validity ({start} to {end})"
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        if not usage.digital_signature:
            return "the signing certificate is not allowed to make digital signatures (key usage)"
    except x509.ExtensionNotFound:
        pass
    authority = trust.issuer_of(cert)
    if authority is None:
        if trust.require_chain:
            return f"the signing certificate is not issued by a trusted certification authority (issuer {cert.issuer.rfc4514_string()})"
        return None
    a_start, a_end = _day(authority.not_valid_before_utc), _day(authority.not_valid_after_utc)
    if not a_start <= today <= a_end:
        return f"the issuing authority certificate is not valid on {today.isoformat()} ({a_start.isoformat()} to {a_end.isoformat()})"
    return None


def _describe(key: TrustedKey) -> dict[str, Any]:
    if isinstance(key, x509.Certificate):
        return {
            "certificate_subject": key.subject.rfc4514_string(),
            "certificate_serial": format(key.serial_number, "x"),
            "certificate_not_after": _day(key.not_valid_after_utc).isoformat(),
        }
    return {"certificate_subject": None, "pinned_key": True}


def verify_2ddoc(doc: TwoDDoc, trust: TrustStore, *, today: date) -> CheckResult:
    """Check ``2ddoc_signature``: the ECDSA signature against the trusted certificate of its header ids.

    PASS: a trusted key for (CA id, certificate id) verifies the signature and its certificate
    (when it is one) is valid on ``today`` and on the signature date, and issued by a trusted
    authority. FAIL: bad signature (altered data, other key), expired or not-yet-valid
    certificate, untrusted chain, signature date in the future. UNKNOWN: no trusted key for
    those ids.
    """
    ids = f"{doc.ca_id}/{doc.cert_id}"
    details: dict[str, Any] = {
        "ca_id": doc.ca_id,
        "cert_id": doc.cert_id,
        "doc_type": doc.doc_type,
        "signed": doc.signed.isoformat() if doc.signed else None,
        "curve": doc.curve,
    }
    keys = trust.lookup(doc.ca_id, doc.cert_id)
    if not keys:
        return CheckResult(CHECK, Outcome.UNKNOWN, f"no trusted certificate for 2D-Doc signer {ids}", details)
    if doc.signed is not None and doc.signed > today:
        return CheckResult(CHECK, Outcome.FAIL, f"the signature date {doc.signed.isoformat()} is in the future", details)
    reasons: list[str] = []
    certificate_reasons: list[str] = []  # the signature verified, the certificate did not hold
    for key in keys:
        public_key = key.public_key() if isinstance(key, x509.Certificate) else key
        if not isinstance(public_key, ec.EllipticCurvePublicKey):
            reasons.append("the certificate key is not an ECDSA key")
            continue
        problem = _verify_signature(public_key, doc)
        if problem is not None:
            reasons.append(problem)
            continue
        if isinstance(key, x509.Certificate):
            problem = _certificate_problem(key, doc, trust, today)
        if problem is None:
            return CheckResult(CHECK, Outcome.PASS, f"2D-Doc signature verified with trusted certificate {ids}", details | _describe(key))
        certificate_reasons.append(problem)
    reason = (certificate_reasons or reasons)[0]
    return CheckResult(CHECK, Outcome.FAIL, f"2D-Doc {ids}: {reason}", details | {"reasons": certificate_reasons + reasons})
