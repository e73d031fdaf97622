"""A test certification authority for 2D-Doc, sample documents and photo-like images.

The CA follows the real ANTS layout: the authority's CN is the CA id of the 2D-Doc header
("FR00"), each signing certificate's CN is its certificate id ("0001"), signed by the authority.
Also used by ``bench/documents_twoddoc.py``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from PIL import Image, ImageFilter

from casework.documents.checks.twoddoc import TrustStore, encode_2ddoc

TODAY = date(2025, 6, 15)
SIGNED = date(2025, 6, 1)

PROOF_OF_ADDRESS_FIELDS = {
    "26": "FR",
    "24": "57000",
    "10": "MLLE/SAMPLE/ANGELA",
    "20": "",
    "21": "BAT 2 ETG 3",
    "22": "7 PLACE DES SPECIMENS",
    "23": "",
    "25": "METZ",
}
TAX_NOTICE_FIELDS = {
    "43": "2,75",
    "44": "2278012345678",
    "45": "2024",
    "46": "RETI PATRICK",
    "4A": "31072025",
    "41": "63198",
    "47": "3001123456789",
    "48": "RETI SOPHIE",
    "49": "0701987765432",
    "4Y": "145 RUE JULLIARD/ZA SPECIMEN/78320/LEVIS ST NOM",
}


def _name(cn: str, org: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@dataclass
class Signer:
    """A 2D-Doc signing certificate and its key."""

    ca_id: str
    cert_id: str
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    def encode(self, *, doc_type: str = "00", fields: dict[str, str] | None = None, **kwargs: object) -> str:
        """A signed 2D-Doc by this signer (defaults: proof of address, issued and signed on :data:`SIGNED`)."""
        options: dict[str, object] = {"issued": SIGNED, "signed": SIGNED} | kwargs
        return encode_2ddoc(
            ca_id=self.ca_id,
            cert_id=self.cert_id,
            doc_type=doc_type,
            fields=PROOF_OF_ADDRESS_FIELDS if fields is None else fields,
            private_key=self.key,
            **options,  # type: ignore[arg-type]
        )

    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)


@dataclass
class Authority:
    """A self-signed certification authority (CN = CA id) issuing 2D-Doc signing certificates."""

    ca_id: str = "FR00"
    not_before: date = date(2020, 1, 1)
    not_after: date = date(2035, 1, 1)
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    cert: x509.Certificate = field(init=False)

    def __post_init__(self) -> None:
        name = _name(self.ca_id, "AC DE TEST CASEWORK")
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(_at(self.not_before))
            .not_valid_after(_at(self.not_after))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
            )  # key_cert_sign, crl_sign
            .sign(self.key, hashes.SHA256())
        )

    def issue(
        self,
        cert_id: str = "0001",
        *,
        curve: ec.EllipticCurve | None = None,
        not_before: date = date(2024, 1, 1),
        not_after: date = date(2027, 1, 1),
        subject_cn: str | None = None,
    ) -> Signer:
        key = ec.generate_private_key(curve or ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(subject_cn or cert_id, "CERTIFICAT DE TEST"))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(_at(not_before))
            .not_valid_after(_at(not_after) - timedelta(seconds=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True
            )  # digital_signature, non_repudiation
            .sign(self.key, hashes.SHA256())
        )
        return Signer(self.ca_id, cert_id, key, cert)

    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def trust(self, *signers: Signer) -> TrustStore:
        """A store trusting this authority and ``signers``, built from their PEM, as a deployment would."""
        return TrustStore.from_pem_bundle(b"".join([self.pem(), *(s.pem() for s in signers)]))


def photo_like(png: bytes, *, size: tuple[int, int] = (1400, 1000), scale: float = 1.37, at: tuple[int, int] = (610, 420)) -> bytes:
    """The DataMatrix as on a scanned page: slightly scaled, on a big off-white page, blurred, JPEG."""
    code = Image.open(io.BytesIO(png)).convert("L")
    code = code.resize((round(code.width * scale), round(code.height * scale)), Image.Resampling.BILINEAR)
    page = Image.new("L", size, 246)
    page.paste(code, at)
    page = page.rotate(1.5, resample=Image.Resampling.BILINEAR, fillcolor=246).filter(ImageFilter.GaussianBlur(0.8))
    out = io.BytesIO()
    page.convert("RGB").save(out, format="JPEG", quality=80)
    return out.getvalue()
