"""Language negotiation and locale formatting of the web interface."""

from __future__ import annotations

import datetime as dt

import pytest

from casework.web.i18n import Translator, negotiate, regional


@pytest.mark.parametrize(
    ("header", "preferred", "expected"),
    [
        (None, None, "en"),
        ("fr-BE,fr;q=0.9,en;q=0.8", None, "fr"),
        ("de-DE,de;q=0.9,nl;q=0.5,en;q=0.4", None, "nl"),
        ("en;q=0.2,pl;q=0.9", None, "pl"),
        ("es;q=0,fr;q=0.1", None, "fr"),
        ("fr", "es", "es"),  # the account's choice wins over the browser
        ("fr", "de", "fr"),  # a language we do not ship falls back to the browser's
        ("xx, ;q=abc, *", None, "en"),
        ("," * 5000, None, "en"),
    ],
)
def test_negotiation(header: str | None, preferred: str | None, expected: str) -> None:
    assert negotiate(header, preferred) == expected


def test_numbers_and_dates_follow_the_locale() -> None:
    when = dt.datetime(2026, 3, 9, 14, 5, tzinfo=dt.UTC)
    assert Translator("en").number(1234567.5, 1) == "1,234,567.5"
    assert Translator("fr").number(1234567.5, 1).replace("\u202f", " ").replace("\xa0", " ") == "1 234 567,5"
    assert Translator("nl").number(1234.5, 1) == "1.234,5"
    assert "March" in Translator("en").date(when, "long") and "mars" in Translator("fr").date(when, "long")
    assert "marca" in Translator("pl").date(when, "long")
    assert Translator("es").percent(0.25).replace("\xa0", " ") == "25 %"
    assert Translator("en").duration(dt.timedelta(days=3)) == "3 days"
    assert Translator("en").number(None) == "—" and Translator("en").datetime(None) == "—"


def test_missing_translation_falls_back_to_english_and_formats_values() -> None:
    t = Translator("fr")
    assert t.gettext("A text nobody translated %(n)s", n=3) == "A text nobody translated 3"
    assert t.ngettext("%(num)s widget", "%(num)s widgets", 1) == "1 widget"
    assert t.ngettext("%(num)s widget", "%(num)s widgets", 4) == "4 widgets"
    assert t.ngettext("%(num)s case", "%(num)s cases", 4) == "4 dossiers"
    assert str(t.markup("<b>%(name)s</b>", name="<script>")) == "<b>&lt;script&gt;</b>"


def test_the_browser_region_sets_date_formats() -> None:
    when = dt.date(2026, 11, 25)
    assert regional("en-GB,en;q=0.9", "en") == "en_GB" and regional("fr-be", "fr") == "fr_BE"
    assert regional("en-GB", "fr") == "fr" and regional(None, "nl") == "nl" and regional("en-XYZ", "en") == "en"
    assert Translator("en", "en_GB").date(when, "short") == "25/11/2026"
    assert Translator("en").date(when, "short") == "11/25/26"
    assert Translator("en", "en_ZZ").date(when, "short") == "11/25/26"  # an unknown region falls back to the language
