"""ICAO 9303 check digits, against the worked examples and the mrz package."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflows.checks.mrz_parse import check_digit


@pytest.mark.parametrize(
    "field, digit",
    [
        ("L898902C3", "6"),  # ICAO 9303 part 4 specimen: document number
        ("740812", "2"),  # date of birth
        ("120415", "9"),  # date of expiry
        ("ZE184226B<<<<<", "1"),  # optional data
        ("L898902C36740812212041 59ZE184226B<<<<<1".replace(" ", ""), "0"),  # composite
        ("<<<<<<<<<", "0"),
    ],
)
def test_check_digit_matches_icao_specimen(field, digit):
    assert check_digit(field) == digit


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<", min_size=1, max_size=39))
def test_check_digit_agrees_with_the_mrz_package(field):
    from mrz.base.functions import hash_string

    assert check_digit(field) == hash_string(field)


def test_characters_outside_the_mrz_alphabet_are_refused():
    with pytest.raises(ValueError):
        check_digit("AB-12")
