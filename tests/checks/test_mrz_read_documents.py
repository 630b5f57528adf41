"""Reading the MRZ out of generated document captures with the OCR engine.

Each OCR pass costs about a second of CPU, so this file keeps to a handful
of captures; bench/checks_accuracy.py reads hundreds."""

import datetime as dt

import numpy as np
import pytest

from tests.checks import testdata as td
from workflows.checks import mrz, mrz_ocr
from workflows.checks.results import ERROR, FAILED, NEEDS_REVIEW, PASSED

from .conftest import holder


def test_clean_passport_is_read_exactly_and_passes(passport, anna):
    outcome = mrz.check_mrz(passport, expected_name="Anna Maria Eriksson", expected_birth_date=anna.birth_date)
    assert outcome.status == PASSED, outcome.reasons
    assert outcome.details["fields"]["lines"] == td.mrz_lines(anna, "TD3")
    assert outcome.engine == "rapidocr" and outcome.engine_version.endswith(mrz.ENGINE_REVISION)


@pytest.mark.parametrize("layout", ["TD1", "TD2"])
def test_id_card_layouts_are_read_exactly(layout):
    person = holder(document_number="D23145890", optional_data="")
    image, _ = td.document_capture(person, layout, seed=4)
    read = mrz.read_mrz(image)
    assert read.data is not None and read.data.layout == layout
    assert read.data.lines == td.mrz_lines(person, layout)


def test_tilted_blurred_compressed_unevenly_lit_passport_is_read(passport, anna):
    camera = td.jpeg(td.uneven_light(td.blur(td.rotate(passport, -9), 0.8), 0.4, seed=3), 60)
    read = mrz.read_mrz(camera)
    assert read.data is not None
    assert read.data.lines == td.mrz_lines(anna, "TD3")


def test_passport_held_upside_down_is_read(passport, anna):
    read = mrz.read_mrz(np.ascontiguousarray(passport[::-1, ::-1]))
    assert read.data is not None and read.data.lines == td.mrz_lines(anna, "TD3")
    assert read.rotation == 180.0


def test_page_without_mrz_needs_review(anna):
    # the front of an ID card: printed fields, no machine-readable zone
    image, _ = td.document_capture(anna, "TD1", seed=2, lines=[])
    outcome = mrz.check_mrz(image)
    assert outcome.status == NEEDS_REVIEW
    assert [r.code for r in outcome.reasons] == ["mrz.not_found"]


def test_heavily_blurred_capture_is_not_passed(passport):
    outcome = mrz.check_mrz(td.blur(passport, 4))
    assert outcome.status in (NEEDS_REVIEW, FAILED)
    assert outcome.status != PASSED


def test_expired_passport_read_from_the_image_fails():
    person = holder(expiry_date=dt.date.today() - dt.timedelta(days=1))
    image, _ = td.document_capture(person, "TD3", portrait=td.astronaut(), seed=6)
    outcome = mrz.check_mrz(image)
    assert outcome.status == FAILED
    assert [r.code for r in outcome.reasons] == ["mrz.expired"]


def test_ocr_engine_exception_becomes_an_error_result(monkeypatch, passport):
    def broken(rgb):
        raise MemoryError("onnxruntime could not allocate")

    monkeypatch.setattr(mrz_ocr, "detect_text", broken)
    outcome = mrz.check_mrz(passport)
    assert outcome.status == ERROR
    assert outcome.reasons[0].code == "engine.exception"
    assert outcome.engine == "rapidocr"
