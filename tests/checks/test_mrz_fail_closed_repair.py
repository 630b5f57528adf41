"""A repair chooses only among characters the OCR itself was unsure of:
a document whose check digits agree only after changing confidently read
characters is tampered, and is reported so."""

import datetime as dt

import numpy as np

from tests.checks import testdata as td
from workflows.checks import mrz
from workflows.checks.mrz_ocr import TextLine
from workflows.checks.mrz_parse import Char, parse_mrz
from workflows.checks.results import FAILED

from .conftest import holder

TODAY = dt.date(2024, 1, 1)


def _td1_with_zeros():
    # Zeros in the document number and the optional data: turning some of
    # them into letters O changes the composite digit's sum by multiples of
    # 24, so a wrong composite digit can be "explained" by such flips.
    person = holder(document_number="D0O4701A0", optional_data="700050", expiry_date=dt.date(2030, 1, 1))
    return td.mrz_lines(person, "TD1")


def test_tampered_td1_composite_digit_is_flagged_not_repaired_by_zero_to_o_flips():
    lines = _td1_with_zeros()
    assert parse_mrz(lines, today=TODAY).check_digits_valid
    genuine = lines[1][29]
    for digit in "0123456789":
        if digit == genuine:
            continue
        tampered = [lines[0], lines[1][:29] + digit, lines[2]]
        data = parse_mrz(tampered, today=TODAY)
        assert not data.check_digits_valid, (digit, data.repairs)
        assert data.check_digits["composite"] is False
        assert data.lines[0] == lines[0], "a confidently read character was changed"


def test_tampered_td1_is_judged_failed_when_the_ocr_was_sure():
    lines = _td1_with_zeros()
    digit = str((int(lines[1][29]) + 4) % 10)
    data = parse_mrz([lines[0], lines[1][:29] + digit, lines[2]], today=TODAY)
    sure = TextLine("".join(data.raw_lines), 0.99, np.zeros((4, 2)))
    outcome = mrz.judge_mrz(mrz.MrzRead(data, [sure], []), today=TODAY)
    assert outcome.status == FAILED
    assert any(reason.code == "mrz.check_digit" for reason in outcome.reasons)


def test_only_zeros_the_ocr_doubted_may_become_letters_o():
    """The same flip is taken when the OCR weighed the letter at that place."""
    person = holder(document_number="K7O45X931", optional_data="")
    truth = td.mrz_lines(person, "TD3")
    misread = [Char(c) for c in truth[1].replace("K7O45X931", "K7045X931")]
    confident = parse_mrz([truth[0], misread], today=TODAY)
    assert not confident.check_digits_valid
    misread[2] = Char("0", (("O", 0.3),))
    doubted = parse_mrz([truth[0], misread], today=TODAY)
    assert doubted.lines == truth


def test_a_faint_doubt_does_not_decide_where_only_the_composite_digit_covers():
    """A zero of a TD1's optional data doubted at 0.5 % is not enough: only
    the composite digit covers it, and it agrees with one change in ten."""
    lines = _td1_with_zeros()
    row = [Char(c) for c in lines[0]]
    wrong = str((int(lines[1][29]) + 8) % 10)
    for i in range(15, 30):
        if row[i].char == "0":
            row[i] = Char("0", (("O", 0.005),))
    data = parse_mrz([row, lines[1][:29] + wrong, lines[2]], today=TODAY)
    assert not data.check_digits_valid
