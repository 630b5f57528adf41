"""Fillers of the name line read as C, E or K are put back by the shape of
the name field (it has no check digit), and a name the shape cannot settle
goes to review."""

import datetime as dt

from tests.checks import testdata as td
from workflows.checks.mrz_parse import Char, parse_mrz

from .conftest import holder

TODAY = dt.date(2024, 1, 1)


def _td3(surname, given):
    return td.mrz_lines(holder(surname=surname, given_names=given, optional_data=""), "TD3")


def test_separator_and_trailing_fillers_read_as_c_are_put_back():
    lines = _td3("SOERENSEN", "TOMAS")
    misread = lines[0].replace("<", "C")
    misread = "P" + "<" + misread[2:]  # the document code's filler read fine
    data = parse_mrz([misread, lines[1]], today=TODAY)
    assert (data.surname, data.given_names) == ("SOERENSEN", "TOMAS")
    assert not data.name_uncertain


def test_everything_after_the_given_names_is_filler():
    lines = _td3("ERIKSSON", "ANNA MARIA")
    name_start = lines[0].index("ANNA<MARIA") + len("ANNA<MARIA")
    misread = lines[0][:name_start] + "<<E<K" + lines[0][name_start + 5:]
    data = parse_mrz([misread, lines[1]], today=TODAY)
    assert (data.surname, data.given_names) == ("ERIKSSON", "ANNA MARIA")


def test_genuine_double_letters_and_names_ending_in_e_stay():
    lines = _td3("ACCARDO", "MARIE")
    data = parse_mrz(lines, today=TODAY)
    assert (data.surname, data.given_names) == ("ACCARDO", "MARIE")
    assert not data.repairs


def test_filler_the_ocr_doubted_is_a_filler():
    lines = _td3("BECK", "ANNA")
    row = [Char(c) for c in lines[0]]
    separator = lines[0].index("<<", 5)
    row[separator] = Char("C", (("<", 0.4),))
    data = parse_mrz([row, lines[1]], today=TODAY)
    assert (data.surname, data.given_names) == ("BECK", "ANNA")


def test_separator_the_shape_cannot_place_is_in_doubt():
    lines = _td3("ACCARDO", "ROCCO")
    misread = lines[0].replace("ACCARDO<<ROCCO", "ACCARDOCCROCCO")
    data = parse_mrz([misread, lines[1]], today=TODAY)
    assert data.name_uncertain
