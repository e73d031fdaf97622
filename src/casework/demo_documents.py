"""The documents demo applicants send for their onboarding (KYC) case: PDFs with a text layer.

A passport page whose machine-readable zone matches the applicant (a few have expired, which the
checks catch), a utility bill with the applicant's address (no 2D-Doc barcode, so a person
checks it), and the company extract or source-of-funds evidence some applicants owe. Built here
rather than shipped as files so that names, dates of birth and nationalities follow the demo's
parties, and the automated checks have something true (or, now and then, false) to find.
"""

from __future__ import annotations

import datetime as dt
import random
import string
from dataclasses import dataclass
from typing import Any

from casework.documents.checks.mrz import make_mrz_td3, transliterate
from casework.documents.text_pdf import text_pdf

#: ISO 3166 alpha-3 of the nationalities the demo uses (the MRZ writes three letters).
ALPHA3 = {"GB": "GBR", "IE": "IRL", "PL": "POL", "IN": "IND", "FR": "FRA", "ES": "ESP", "PT": "PRT", "IT": "ITA", "RO": "ROU",
          "NG": "NGA", "DE": "DEU", "NL": "NLD"}  # fmt: skip
#: Share of passports sent after their expiry date (the check fails; the handler asks for another).
EXPIRED_SHARE = 0.1
#: Who signs for an organisation: the identity document is theirs, not the company's (a person checks it).
REPRESENTATIVES = ["Helen Carter", "Tomasz Wojcik", "Amara Nwosu", "Pierre Lambert", "Sean Murphy"]


@dataclass
class Specimen:
    filename: str
    data: bytes
    expired: bool = False


def _ascii(text: str) -> str:
    return transliterate(text).encode("ascii", "replace").decode("ascii")


def passport(name: str, born: dt.date | None, nationality: str, today: dt.date, rng: random.Random) -> Specimen:
    """A passport's photo page: the holder's details and a machine-readable zone with correct check digits."""
    *given, surname = _ascii(name).split() or ["X"]
    expired = rng.random() < EXPIRED_SHARE
    expiry = today - dt.timedelta(days=rng.randint(20, 400)) if expired else today + dt.timedelta(days=rng.randint(200, 3500))
    number = "".join(rng.choices(string.ascii_uppercase, k=2)) + "".join(rng.choices(string.digits, k=7))
    country = ALPHA3.get(nationality, "GBR")
    mrz = make_mrz_td3(surname=surname, given_names=" ".join(given), document_number=number, nationality=country, birth_date=born,
                       sex=rng.choice("MF"), expiry_date=expiry)  # fmt: skip
    lines = ["PASSPORT", f"Surname: {surname.upper()}", f"Given names: {' '.join(given).upper()}",
             f"Nationality: {country}", f"Date of birth: {born.isoformat() if born else '-'}", f"Date of expiry: {expiry.isoformat()}",
             "", *mrz.splitlines()]  # fmt: skip
    return Specimen("passport.pdf", text_pdf(*lines), expired)


def utility_bill(name: str, address: str | None, today: dt.date, rng: random.Random) -> Specimen:
    issued = today - dt.timedelta(days=rng.randint(5, 60))
    lines = ["NORTHERN POWER & GAS", "Electricity bill", f"Issued {issued.isoformat()}", "", _ascii(name),
             *(_ascii(part.strip()) for part in (address or "1 High Street, Leeds").split(",")), "",
             f"Amount due: GBP {rng.randint(40, 190)}.{rng.randint(0, 99):02d}"]  # fmt: skip
    return Specimen("electricity-bill.pdf", text_pdf(*lines))


def letter(title: str, name: str, *body: str) -> Specimen:
    slug = title.lower().replace(" ", "-")
    return Specimen(f"{slug}.pdf", text_pdf(title.upper(), "", _ascii(name), "", *(_ascii(line) for line in body)))


def specimen(kind: str, *, name: str, address: str | None, fields: dict[str, Any], today: dt.date, rng: random.Random) -> Specimen:
    """What the applicant sends for a document ``kind`` of the onboarding case type."""
    if kind == "identity_document":
        if fields.get("customer_type") == "organisation":
            return passport(rng.choice(REPRESENTATIVES), dt.date(rng.randint(1960, 1990), rng.randint(1, 12), 10), "GB", today, rng)
        born = dt.date.fromisoformat(fields["date_of_birth"]) if fields.get("date_of_birth") else None
        return passport(name, born, str(fields.get("nationality") or "GB"), today, rng)
    if kind == "proof_of_address":
        return utility_bill(name, address, today, rng)
    if kind == "company_registration":
        number = str(fields.get("registration_number") or "")
        return letter("Extract from the company register", name, f"Registered number: {number}", "Status: active")
    if kind == "source_of_funds_evidence":
        return letter("Source of funds", name, "Completion statement for the sale of a property", "Net proceeds paid to the applicant")
    return letter("Document", name, kind.replace("_", " "))
