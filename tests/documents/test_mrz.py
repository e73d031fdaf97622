"""MRZ parsing and checks against the ICAO 9303 specimens and generated zones."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casework.documents.checks.mrz import (
    MrzError,
    check_digit,
    check_mrz,
    make_mrz_td1,
    make_mrz_td2,
    make_mrz_td3,
    parse_mrz,
    transliterate,
)
from casework.documents.checks.result import Outcome

TD3 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"
TD1 = "I<UTOD231458907<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<"
TD2 = "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\nD231458907UTO7408122F1204159<<<<<<<6"
TODAY = date(2010, 1, 1)  # the specimens expire on 2012-04-15


def by_check(results):
    return {r.check: r for r in results}


def test_check_digit_examples_from_icao():
    assert check_digit("L898902C3") == "6"
    assert check_digit("740812") == "2"
    assert check_digit("120415") == "9"
    assert check_digit("ZE184226B<<<<<") == "1"
    assert check_digit("<<<") == "0"


def test_td3_specimen():
    mrz = parse_mrz(TD3, today=TODAY)
    assert (mrz.format, mrz.document_type, mrz.issuing_state) == ("TD3", "P", "UTO")
    assert (mrz.surname, mrz.given_names) == ("ERIKSSON", "ANNA MARIA")
    assert (mrz.document_number, mrz.nationality, mrz.sex) == ("L898902C3", "UTO", "F")
    assert mrz.birth_date == date(1974, 8, 12)
    assert mrz.expiry_date == date(2012, 4, 15)
    assert mrz.optional_data == "ZE184226B"
    assert [c.field for c in mrz.check_digits] == ["document_number", "birth_date", "expiry_date", "optional_data", "composite"]
    assert mrz.check_digits_ok


def test_td1_specimen():
    mrz = parse_mrz(TD1, today=TODAY)
    assert (mrz.format, mrz.document_type, mrz.document_number) == ("TD1", "I", "D23145890")
    assert (mrz.surname, mrz.given_names, mrz.birth_date, mrz.expiry_date) == (
        "ERIKSSON",
        "ANNA MARIA",
        date(1974, 8, 12),
        date(2012, 4, 15),
    )
    assert [c.field for c in mrz.check_digits] == ["document_number", "birth_date", "expiry_date", "composite"]
    assert mrz.check_digits_ok


def test_td2_specimen():
    mrz = parse_mrz(TD2, today=TODAY)
    assert (mrz.format, mrz.document_number, mrz.surname) == ("TD2", "D23145890", "ERIKSSON")
    assert mrz.check_digits_ok


def test_builders_reproduce_the_specimens():
    common = {"surname": "Eriksson", "given_names": "Anna Maria", "nationality": "UTO", "sex": "F"}
    dates = {"birth_date": date(1974, 8, 12), "expiry_date": date(2012, 4, 15)}
    assert make_mrz_td3(**common, **dates, document_number="L898902C3", personal_number="ZE184226B") == TD3
    assert make_mrz_td1(**common, **dates, document_number="D23145890") == TD1
    assert make_mrz_td2(**common, **dates, document_number="D23145890") == TD2


def test_found_inside_ocr_noise_and_spacing():
    text = f"REPUBLIC OF UTOPIA\nPASSPORT  PASSEPORT\n  {TD3.splitlines()[0].replace('<<', '« ')}  \n\n {TD3.splitlines()[1]}\nsome footer"
    mrz = parse_mrz(text.replace("« ", "<<"), today=TODAY)
    assert mrz.document_number == "L898902C3" and mrz.check_digits_ok
    spaced = "\n".join(" ".join(line[i : i + 5] for i in range(0, len(line), 5)).lower() for line in TD1.splitlines())
    assert parse_mrz(spaced, today=TODAY).check_digits_ok
    assert parse_mrz("header\n" + TD3.replace("\n", "") + "\n", today=TODAY).format == "TD3"  # joined text layer


def test_guillemets_and_dropped_trailing_fillers():
    line1, line2 = TD3.splitlines()
    mrz = parse_mrz(line1[:-3].replace("N<<A", "N«<A") + "\n" + line2, today=TODAY)
    assert (mrz.surname, mrz.given_names) == ("ERIKSSON", "ANNA MARIA")


def test_no_mrz_raises_a_clear_error():
    with pytest.raises(MrzError, match="no machine-readable zone"):
        parse_mrz("Just a utility bill\nAccount 12345")
    assert issubclass(MrzError, ValueError)


@pytest.mark.parametrize(
    ("line", "position", "field"),
    [(1, 9, "document number"), (1, 19, "birth date"), (1, 27, "expiry date"), (1, 42, "optional data"), (1, 43, "composite")],
)
def test_each_altered_td3_check_digit_is_named(line, position, field):
    lines = TD3.splitlines()
    bad = str((int(lines[line][position]) + 1) % 10)
    lines[line] = lines[line][:position] + bad + lines[line][position + 1 :]
    result = by_check(check_mrz("\n".join(lines), today=TODAY))["mrz_check_digits"]
    assert result.outcome is Outcome.FAIL
    assert field in result.message
    assert field.replace(" ", "_") in result.details["failed"]


@pytest.mark.parametrize(
    ("line", "position", "field"), [(0, 14, "document number"), (1, 6, "birth date"), (1, 14, "expiry date"), (1, 29, "composite")]
)
def test_each_altered_td1_check_digit_is_named(line, position, field):
    lines = TD1.splitlines()
    bad = str((int(lines[line][position]) + 3) % 10)
    lines[line] = lines[line][:position] + bad + lines[line][position + 1 :]
    result = by_check(check_mrz("\n".join(lines), today=TODAY))["mrz_check_digits"]
    assert result.outcome is Outcome.FAIL and field in result.message


def test_forged_birth_date_is_caught():
    forged = TD3.replace("7408122F", "7908122F")  # birth year changed, check digits left alone
    result = by_check(check_mrz(forged, today=TODAY))["mrz_check_digits"]
    assert result.outcome is Outcome.FAIL
    assert set(result.details["failed"]) == {"birth_date", "composite"}


def test_expired_document():
    results = by_check(check_mrz(TD3, today=date(2012, 4, 16)))
    assert results["document_expiry"].outcome is Outcome.FAIL
    assert "2012-04-15" in results["document_expiry"].message
    assert by_check(check_mrz(TD3, today=date(2012, 4, 15)))["document_expiry"].outcome is Outcome.PASS


def test_century_rule():
    mrz_text = make_mrz_td3(
        surname="A",
        given_names="B",
        document_number="X1",
        nationality="UTO",
        birth_date=date(2003, 5, 1),
        sex="M",
        expiry_date=date(2031, 1, 1),
    )
    assert parse_mrz(mrz_text, today=date(2026, 1, 1)).birth_date == date(2003, 5, 1)
    assert parse_mrz(mrz_text, today=date(2002, 1, 1)).birth_date == date(1903, 5, 1)  # cannot be born in the future
    assert parse_mrz(mrz_text, today=date(2026, 1, 1)).expiry_date == date(2031, 1, 1)
    assert parse_mrz(TD3, today=date(2026, 1, 1)).birth_date == date(1974, 8, 12)


def test_unknown_birth_date_is_none():
    text = make_mrz_td3(
        surname="A", given_names="B", document_number="X1", nationality="UTO", birth_date=None, sex="M", expiry_date=date(2031, 1, 1)
    )
    mrz = parse_mrz(text)
    assert mrz.birth_date is None and mrz.check_digits_ok


@pytest.mark.parametrize(
    "party",
    [
        "Anna Maria Eriksson",
        "ERIKSSON Anna Maria",
        "Eriksson, Maria Anna",
        "anna-maria eriksson",
        "Ànna Mariá Erikssön",
        "Anna Maria  Eriksson",
    ],
)
def test_name_matches_despite_case_accents_order_and_hyphens(party):
    result = by_check(check_mrz(TD3, today=TODAY, party_name=party, party_birth_date=date(1974, 8, 12)))["identity_match"]
    assert result.outcome is Outcome.PASS, result.message
    assert result.details["name_match"] == "pass" and result.details["birth_date_match"] == "pass"


def test_icao_transliteration_and_apostrophes():
    text = make_mrz_td3(
        surname="Müller-O'Brien", given_names="Jörg", document_number="C01X00T47", nationality="D", birth_date=date(1980, 1, 2), sex="M",
        expiry_date=date(2030, 1, 1), issuing_state="D",
    )  # fmt: skip
    mrz = parse_mrz(text)
    assert (mrz.surname, mrz.given_names, mrz.issuing_state) == ("MUELLER OBRIEN", "JOERG", "D")
    for party in ("Jörg Müller-O'Brien", "Jorg Muller O Brien", "JOERG MUELLER OBRIEN"):
        assert by_check(check_mrz(text, today=date(2026, 1, 1), party_name=party))["identity_match"].outcome is Outcome.PASS, party


def test_name_and_birth_date_mismatches():
    results = by_check(check_mrz(TD3, today=TODAY, party_name="Anna Karlsson", party_birth_date=date(1974, 8, 12)))
    assert results["identity_match"].outcome is Outcome.FAIL
    results = by_check(check_mrz(TD3, today=TODAY, party_name="Anna Maria Eriksson", party_birth_date=date(1974, 8, 13)))
    assert results["identity_match"].outcome is Outcome.FAIL and "1974-08-12" in results["identity_match"].message
    partial = by_check(check_mrz(TD3, today=TODAY, party_name="Anna Eriksson"))["identity_match"]
    assert partial.outcome is Outcome.UNKNOWN  # a missing middle name: a person compares


def test_identity_unknown_without_party_data_and_no_mrz():
    results = by_check(check_mrz(TD3, today=TODAY))
    assert results["identity_match"].outcome is Outcome.UNKNOWN
    assert [r.check for r in check_mrz("nothing here", today=TODAY)] == ["mrz"]
    assert check_mrz("nothing here", today=TODAY)[0].outcome is Outcome.UNKNOWN


def test_results_are_json_safe():
    import json

    for result in check_mrz(TD1, today=TODAY, party_name="Anna Maria Eriksson", party_birth_date=date(1974, 8, 12)):
        assert json.loads(json.dumps(result.to_dict()))["outcome"] == "pass"


def test_truncated_long_name_still_matches():
    text = make_mrz_td1(
        surname="Wolfeschlegelsteinhausen", given_names="Hubert Blaine", document_number="AB1234567", nationality="UTO",
        birth_date=date(1990, 1, 1), sex="M", expiry_date=date(2030, 1, 1),
    )  # fmt: skip
    mrz = parse_mrz(text)
    assert mrz.name_truncated and mrz.check_digits_ok
    result = by_check(check_mrz(text, today=date(2026, 1, 1), party_name="Hubert Blaine Wolfeschlegelsteinhausen"))["identity_match"]
    assert result.outcome is Outcome.PASS


def test_long_document_number_in_td1_optional_data():
    # ICAO 9303-5: a 12-character number continues in the optional data, its check digit after it.
    number = "D23145890123"
    line1 = "I<UTO" + number[:9] + "<" + number[9:] + check_digit(number) + "<" * 11
    line2 = "7408122F1204159UTO<<<<<<<<<<<"
    line2 += check_digit(line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29])
    mrz = parse_mrz(f"{line1}\n{line2}\nERIKSSON<<ANNA<MARIA<<<<<<<<<<")
    assert mrz.document_number == number and mrz.check_digits_ok


# ------------------------------------------------------------------------------- properties

TODAY_PROP = date(2026, 6, 1)
names = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=8)
alnum = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=9)
fields = st.fixed_dictionaries(
    {
        "surname": names,
        "given_names": st.lists(names, min_size=0, max_size=2).map(" ".join),
        "document_number": alnum,
        "nationality": st.sampled_from(["UTO", "FRA", "DEU", "GBR", "D", "NLD"]),
        "birth_date": st.dates(min_value=TODAY_PROP - timedelta(days=36_000), max_value=TODAY_PROP),
        "sex": st.sampled_from(["M", "F", "<"]),
        "expiry_date": st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
    }
)
layouts = st.sampled_from(["TD1", "TD2", "TD3"])


def build(layout, values, extra):
    if layout == "TD3":
        return make_mrz_td3(**values, personal_number=extra)
    if layout == "TD2":
        return make_mrz_td2(**values, optional_data=extra[:7])
    return make_mrz_td1(**values, optional_data=extra, optional_data_2=extra[:11])


@settings(max_examples=150, deadline=None)
@given(layout=layouts, values=fields, extra=st.text(alphabet="ABCXYZ0123456789", max_size=14))
def test_generated_mrz_round_trips(layout, values, extra):
    text = build(layout, values, extra)
    mrz = parse_mrz("scan header\n" + text + "\n", today=TODAY_PROP)
    assert mrz.format == layout and mrz.check_digits_ok, mrz.failed_check_digits
    assert mrz.document_number == values["document_number"]
    assert mrz.birth_date == values["birth_date"]
    assert mrz.expiry_date == values["expiry_date"]
    assert mrz.nationality == values["nationality"]
    assert mrz.sex == {"<": "X"}.get(values["sex"], values["sex"])
    if not mrz.name_truncated:
        assert mrz.surname == transliterate(values["surname"])
        assert mrz.given_names == values["given_names"]


@settings(max_examples=200, deadline=None)
@given(layout=layouts, values=fields, extra=st.text(alphabet="ABC0123456789", max_size=14), data=st.data())
def test_any_single_digit_change_is_detected(layout, values, extra, data):
    lines = build(layout, values, extra).splitlines()
    digits = [(n, i) for n, line in enumerate(lines) for i, c in enumerate(line) if c.isdigit()]
    n, i = data.draw(st.sampled_from(digits))
    new = data.draw(st.sampled_from([d for d in "0123456789" if d != lines[n][i]]))
    lines[n] = lines[n][:i] + new + lines[n][i + 1 :]
    assert not parse_mrz("\n".join(lines), today=TODAY_PROP).check_digits_ok
