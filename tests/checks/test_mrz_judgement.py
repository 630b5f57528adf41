"""What the MRZ check concludes from a reading: every failure path without
running the OCR (the reading is built from generated lines)."""

import datetime as dt

import numpy as np

from tests.checks import testdata as td
from workflows.checks.mrz import MrzRead, judge_mrz
from workflows.checks.mrz_ocr import TextLine
from workflows.checks.mrz_parse import parse_mrz
from workflows.checks.results import FAILED, NEEDS_REVIEW, PASSED

from .conftest import holder

TODAY = dt.date(2025, 6, 1)


def reading(lines, *, confidence=0.98):
    data = parse_mrz(lines, today=TODAY)
    box = np.zeros((4, 2))
    return MrzRead(data, [TextLine(line, confidence, box) for line in lines], list(lines))


def judge(person=None, *, lines=None, confidence=0.98, **kwargs):
    lines = lines or td.mrz_lines(person or holder(expiry_date=dt.date(2030, 1, 1)), "TD3")
    return judge_mrz(reading(lines, confidence=confidence), today=TODAY, **kwargs)


def codes(outcome):
    return [reason.code for reason in outcome.reasons]


def test_valid_document_of_an_adult_matching_the_business_data_passes():
    outcome = judge(expected_name="Anna Maria Eriksson", expected_birth_date=dt.date(1974, 8, 12))
    assert outcome.status == PASSED, outcome.reasons
    assert outcome.details["name_match"] == "match" and outcome.details["birth_date_match"] is True
    assert outcome.details["fields"]["document_number"] == "L898902C3"
    assert outcome.score > 0.9


def test_name_in_surname_first_order_with_accents_matches():
    assert judge(expected_name="ERIKSSON, Anna María").status == PASSED


def test_expired_document_fails():
    outcome = judge(holder(expiry_date=dt.date(2025, 5, 31)))
    assert outcome.status == FAILED
    assert codes(outcome) == ["mrz.expired"]


def test_document_expiring_today_is_still_valid():
    assert judge(holder(expiry_date=TODAY)).status == PASSED


def test_holder_under_the_workflow_minimum_age_fails():
    outcome = judge(holder(birth_date=dt.date(2008, 6, 2), expiry_date=dt.date(2030, 1, 1)), minimum_age=18)
    assert outcome.status == FAILED
    assert codes(outcome) == ["mrz.under_age"]
    assert outcome.details["age"] == 16


def test_holder_turning_eighteen_today_is_old_enough():
    assert judge(holder(birth_date=dt.date(2007, 6, 1), expiry_date=dt.date(2030, 1, 1)), minimum_age=18).status == PASSED


def test_name_the_business_sent_for_someone_else_fails():
    outcome = judge(expected_name="Grace Hopper")
    assert outcome.status == FAILED
    assert codes(outcome) == ["mrz.name_mismatch"]


def test_name_without_the_middle_name_needs_review():
    outcome = judge(expected_name="Anna Eriksson")
    assert outcome.status == NEEDS_REVIEW
    assert codes(outcome) == ["mrz.name_partial"]


def test_truncated_long_name_still_matches():
    lines = td.mrz_lines(holder(expiry_date=dt.date(2030, 1, 1)), "TD3")
    # ICAO truncates a name longer than its field: here in the last given name.
    name = "PAPADOPOULOU<<KONSTANTINA<ALEXANDRA<MARIA"[:39]
    assert name.endswith("<MAR")
    lines[0] = lines[0][:5] + name
    outcome = judge(lines=lines, expected_name="Konstantina Alexandra Maria Papadopoulou")
    assert outcome.details["name_match"] == "match", outcome.details["fields"]


def test_birth_date_the_business_sent_differs_fails():
    outcome = judge(expected_birth_date=dt.date(1974, 8, 13))
    assert outcome.status == FAILED
    assert codes(outcome) == ["mrz.birth_date_mismatch"]


def test_bad_check_digit_read_clearly_fails():
    lines = td.mrz_lines(holder(expiry_date=dt.date(2030, 1, 1)), "TD3")
    lines[1] = lines[1][:9] + str((int(lines[1][9]) + 3) % 10) + lines[1][10:]
    outcome = judge(lines=lines)
    assert outcome.status == FAILED
    assert "mrz.check_digit" in codes(outcome)


def test_bad_check_digit_in_an_unsure_reading_needs_review_and_a_retake():
    lines = td.mrz_lines(holder(expiry_date=dt.date(2030, 1, 1)), "TD3")
    lines[1] = lines[1][:9] + str((int(lines[1][9]) + 3) % 10) + lines[1][10:]
    outcome = judge(lines=lines, confidence=0.6)
    assert outcome.status == NEEDS_REVIEW
    assert "mrz.check_digit_unclear" in codes(outcome)
    assert outcome.advice


def test_unknown_nationality_code_needs_review():
    outcome = judge(holder(nationality="ZZZ", expiry_date=dt.date(2030, 1, 1)))
    assert outcome.status == NEEDS_REVIEW
    assert "mrz.unknown_country" in codes(outcome)


def test_icao_specimen_document_needs_review():
    outcome = judge(holder(nationality="UTO", expiry_date=dt.date(2030, 1, 1)))
    assert outcome.status == NEEDS_REVIEW
    assert "mrz.specimen" in codes(outcome)


def test_no_machine_readable_zone_needs_review_with_retake_advice():
    outcome = judge_mrz(MrzRead(None, [], ["PASSPORT"]), today=TODAY)
    assert outcome.status == NEEDS_REVIEW
    assert codes(outcome) == ["mrz.not_found"]
    assert outcome.advice and outcome.score == 0.0


def test_no_business_data_means_no_comparison():
    outcome = judge()
    assert outcome.status == PASSED
    assert outcome.details["name_match"] is None and outcome.details["birth_date_match"] is None


def test_outcome_is_json_ready():
    import json

    json.dumps(judge(expected_name="Anna Maria Eriksson").to_dict())


def test_valid_but_ambiguous_reading_needs_review():
    read = reading(td.mrz_lines(holder(expiry_date=dt.date(2030, 1, 1)), "TD3"))
    read.data.ambiguous = ["document_number"]
    outcome = judge_mrz(read, today=TODAY)
    assert outcome.status == NEEDS_REVIEW
    assert codes(outcome) == ["mrz.ambiguous"]
