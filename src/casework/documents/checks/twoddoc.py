"""2D-Doc: the French signed-document barcode (ANTS specification) — decode, parse, verify, build.

2D-Docs are the DataMatrix codes printed on proofs of address (energy, telecom, water bills),
tax notices, payslips, identity documents... They carry a few data fields of the document and
an ECDSA signature by a certificate of a certification authority listed by the ANTS. This
package reads them (:func:`decode_datamatrix`, :func:`parse_2ddoc`), verifies them against a
:class:`TrustStore` (:func:`verify_2ddoc`), and runs the whole check on an image with the case's
name and address (:func:`check_2ddoc_image`). :func:`encode_2ddoc` and
:func:`render_datamatrix` build real signed 2D-Docs, for tests, benchmarks and demo data.

Modules: ``twoddoc_format`` (text format, parse/encode), ``twoddoc_spec`` (document types and
data identifiers), ``twoddoc_trust`` (certificates, signature check), ``twoddoc_match`` (name
and address comparison), ``twoddoc_image`` (DataMatrix read/write, image check). Pure Python,
no database, no network: the trust list is the caller's (e.g. certificates downloaded from the
ANTS TSL and stored as PEM).
"""

from __future__ import annotations

from casework.documents.checks.twoddoc_format import (
    GS,
    RS,
    US,
    TwoDDoc,
    TwoDDocError,
    encode_2ddoc,
    parse_2ddoc,
    sign_data,
)
from casework.documents.checks.twoddoc_image import (
    ADDRESS_CHECK,
    DECODE_CHECK,
    NAME_CHECK,
    check_2ddoc_image,
    decode_datamatrix,
    render_datamatrix,
)
from casework.documents.checks.twoddoc_match import match_address, match_name, name_matches
from casework.documents.checks.twoddoc_spec import DATA_IDENTIFIERS, DOC_TYPES, DataIdentifier, DocType
from casework.documents.checks.twoddoc_trust import CHECK as SIGNATURE_CHECK
from casework.documents.checks.twoddoc_trust import TrustStore, certificate_ids, verify_2ddoc

__all__ = [
    "ADDRESS_CHECK",
    "DATA_IDENTIFIERS",
    "DECODE_CHECK",
    "DOC_TYPES",
    "GS",
    "NAME_CHECK",
    "RS",
    "SIGNATURE_CHECK",
    "US",
    "DataIdentifier",
    "DocType",
    "TrustStore",
    "TwoDDoc",
    "TwoDDocError",
    "certificate_ids",
    "check_2ddoc_image",
    "decode_datamatrix",
    "encode_2ddoc",
    "match_address",
    "match_name",
    "name_matches",
    "parse_2ddoc",
    "render_datamatrix",
    "sign_data",
    "verify_2ddoc",
]
