"""Parsing MRZ text and repairing OCR confusions by field position and by
check digits, never by a pick between readings the check digits allow."""

import datetime as dt

import pytest

from tests.checks import testdata as td
from workflows.checks.mrz_parse import Char, parse_mrz

from .conftest import holder

TODAY = dt.date(2024, 1, 1)
SPECIMEN = ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"]


def test_icao_specimen_passport_parses_into_its_fields():
    data = parse_mrz(SPECIMEN, today=TODAY)
    assert data.layout == "TD3"
    assert (data.surname, data.given_names) == ("ERIKSSON", "ANNA MARIA")
    assert data.document_number == "L898902C3"
    assert (data.issuing_state, data.nationality, data.sex) == ("UTO", "UTO", "F")
    assert data.birth_date == dt.date(1974, 8, 12)
    assert data.expiry_date == dt.date(2012, 4, 15)
    assert data.optional_data == "ZE184226B"
    assert data.check_digits_valid and not data.repairs


@pytest.mark.parametrize("layout", ["TD1", "TD2", "TD3"])
def test_every_layout_generated_by_the_mrz_package_validates(layout):
    person = holder(optional_data="12345")
    lines = td.mrz_lines(person, layout)
    data = parse_mrz(lines, today=TODAY)
    assert data.layout == layout
    assert data.check_digits_valid, data.check_digits
    assert data.lines == lines
    assert data.surname == "ERIKSSON" and data.given_names == "ANNA MARIA"
    assert data.birth_date == person.birth_date and data.expiry_date == person.expiry_date


def test_digit_in_a_letters_only_field_is_read_as_its_letter():
    data = parse_mrz(["P<UT0ERIKSS0N<<ANNA<MAR1A<<<<<<<<<<<<<<<<<<<", SPECIMEN[1].replace("UTO", "UT0")], today=TODAY)
    assert data.lines == SPECIMEN
    assert data.surname == "ERIKSSON" and data.given_names == "ANNA MARIA"
    assert any("nationality: 0→O" in note for note in data.repairs)


def test_letter_in_a_digits_only_field_is_read_as_its_digit():
    data = parse_mrz([SPECIMEN[0], "L898902C36UTO74O8I22F12O4159ZE184226B<<<<<1O"], today=TODAY)
    assert data.lines == SPECIMEN
    assert data.check_digits_valid


def test_letter_o_read_as_zero_in_the_document_number_is_repaired_when_only_one_repair_fits():
    lines = td.mrz_lines(holder(document_number="K7O45X931", optional_data=""), "TD3")
    misread = [Char(c) for c in lines[1].replace("K7O45X931", "K7045X931")]
    misread[2] = Char("0", (("O", 0.01),))  # the OCR weighed the letter there
    misread = [lines[0], misread]
    data = parse_mrz(misread, today=TODAY)
    assert data.document_number == "K7O45X931"
    assert data.check_digits_valid
    assert any("document_number: 0→O" in note for note in data.repairs)


def test_ocr_second_reading_is_a_repair_candidate():
    """The OCR hesitated between B and 8 at one place: that swap is the repair."""
    line = [Char(c) for c in "L898902C36UTO7408122F1204159ZE1B4226B<<<<<10"]
    line[31] = Char("B", (("8", 0.2),))
    data = parse_mrz([SPECIMEN[0], line], today=TODAY)
    assert data.lines == SPECIMEN
    assert any("optional_data: B→8" in note for note in data.repairs)


def test_two_repairs_the_check_digits_cannot_tell_apart_are_reported_not_picked():
    # Z→2 at the start of the optional data and B→8 three places on change
    # every check digit by the same amount: either makes the line valid.
    line = [Char(c) for c in "L898902C36UTO7408122F1204159ZE1B4226B<<<<<10"]
    line[28] = Char("Z", (("2", 0.3),))
    line[31] = Char("B", (("8", 0.3),))
    data = parse_mrz([SPECIMEN[0], line], today=TODAY)
    assert data.ambiguous == ["optional_data"]
    assert not data.check_digits_valid
    assert data.optional_data == "ZE1B4226B"


def test_repair_with_a_rival_one_swap_larger_is_not_taken():
    """Two letters O misread as zeros: one coincidental swap elsewhere also
    satisfies the check digit, so neither reading is trusted."""
    lines = td.mrz_lines(holder(document_number="UHB1RPOI1", optional_data=""), "TD3")
    misread = [Char(c) for c in lines[1].replace("UHB1RPOI1", "UHB1RP011")]
    # the OCR weighed the letters at both misread places, and at the genuine 1
    misread[6] = Char("0", (("O", 0.05),))
    misread[7] = Char("1", (("I", 0.05),))
    misread[3] = Char("1", (("I", 0.05),))
    misread = [lines[0], misread]
    data = parse_mrz(misread, today=TODAY)
    assert data.document_number == "UHB1RP011"
    assert data.ambiguous == ["document_number"]
    assert not data.check_digits_valid


def test_wrong_check_digit_that_no_look_alike_explains_stays_wrong():
    data = parse_mrz([SPECIMEN[0], "L898902C37UTO7408122F1204159ZE184226B<<<<<10"], today=TODAY)
    assert data.check_digits["document_number"] is False
    assert not data.ambiguous


def test_filler_dropped_inside_a_data_line_is_put_back_where_the_check_digits_agree():
    data = parse_mrz([SPECIMEN[0], "L898902C36UTO7408122F1204159ZE184226B<<<<10"], today=TODAY)
    assert data.lines == SPECIMEN


def test_fillers_missing_at_the_end_of_the_name_line_are_padded():
    data = parse_mrz([SPECIMEN[0].rstrip("<") + "<<", SPECIMEN[1]], today=TODAY)
    assert data.lines == SPECIMEN
    assert not data.name_uncertain


def test_td1_long_document_number_continues_in_the_optional_data():
    # ICAO 9303 part 5 specimen with a 12-character document number
    lines = ["I<UTOD23145890<7349<<<<<<<<<<<", "3407127M9507122UTO<<<<<<<<<<<2", "STEVENSON<<PETER<JOHN<<<<<<<<<"]
    data = parse_mrz(lines, today=TODAY)
    assert data.document_number == "D23145890734"
    assert data.check_digits_valid, data.check_digits


def test_lines_of_no_known_layout_are_not_an_mrz():
    assert parse_mrz(["P<UTOERIKSSON"], today=TODAY) is None
    assert parse_mrz(["X" * 20, "Y" * 20], today=TODAY) is None


def test_birth_year_past_this_year_is_last_century():
    data = parse_mrz(td.mrz_lines(holder(birth_date=dt.date(1950, 3, 1)), "TD3"), today=TODAY)
    assert data.birth_date == dt.date(1950, 3, 1)


def test_valid_reading_with_a_rival_the_ocr_also_weighed_is_ambiguous():
    """Two letters O read as zeros at places weighed 7 and 3 leave every check
    digit valid (seen on a generated passport): where the OCR gave the letter
    some probability at both, the reading is not trusted."""
    truth = td.mrz_lines(holder(document_number="R9K0W5OO1", optional_data=""), "TD3")
    line = [Char(c) for c in truth[1].replace("R9K0W5OO1", "R9K0W5001")]
    line[6] = Char("0", (("O", 0.0017),))
    line[7] = Char("0", (("O", 0.0013),))
    data = parse_mrz([truth[0], line], today=TODAY)
    assert data.check_digits_valid
    assert data.ambiguous == ["document_number"]


def test_valid_reading_the_ocr_was_sure_of_is_trusted():
    truth = td.mrz_lines(holder(document_number="R9K0W5001", optional_data=""), "TD3")
    data = parse_mrz(truth, today=TODAY)
    assert data.check_digits_valid and not data.ambiguous
