"""Image quality: what is too poor to check gets a reason and retake advice."""

import numpy as np
import pytest

from tests.checks import testdata as td
from workflows.checks.quality import DOCUMENT, FACE, check_quality
from workflows.checks.results import ERROR, NEEDS_REVIEW, PASSED


def codes(outcome):
    return [reason.code for reason in outcome.reasons]


def test_sharp_well_lit_document_passes(passport):
    outcome = check_quality(passport, kind=DOCUMENT)
    assert outcome.status == PASSED, outcome.reasons
    assert outcome.score == 1.0
    assert outcome.details["width"] == 1280


def test_camera_like_document_still_passes(passport):
    variant = td.jpeg(td.uneven_light(td.rotate(passport, 7), 0.3), 60)
    assert check_quality(variant, kind=DOCUMENT).status == PASSED


@pytest.mark.parametrize(
    "spoil, code",
    [
        (lambda img: td.blur(img, 3), "quality.blurred"),
        (lambda img: td.darken(img, 0.2), "quality.too_dark"),
        (lambda img: np.clip(img.astype(int) + 110, 0, 255).astype(np.uint8), "quality.overexposed"),
        (lambda img: td.glare(img), "quality.glare"),
        (lambda img: td.downscale(img, 560), "quality.low_resolution"),
    ],
    ids=["blurred", "dark", "overexposed", "glare", "low resolution"],
)
def test_poor_document_capture_needs_review_with_retake_advice(passport, spoil, code):
    outcome = check_quality(spoil(passport), kind=DOCUMENT)
    assert outcome.status == NEEDS_REVIEW
    assert code in codes(outcome)
    assert all(reason.advice for reason in outcome.reasons)
    assert outcome.score < 1.0


def test_webcam_face_passes_and_blurred_face_needs_review(astronaut_frame):
    assert check_quality(astronaut_frame, kind=FACE).status == PASSED
    outcome = check_quality(td.blur(astronaut_frame, 4), kind=FACE)
    assert codes(outcome) == ["quality.blurred"]


def test_glare_is_judged_on_documents_only(astronaut_frame):
    assert "quality.glare" not in codes(check_quality(td.glare(astronaut_frame, radius=0.05), kind=FACE))


def test_unknown_capture_kind_is_an_error():
    assert check_quality(np.zeros((10, 10, 3), np.uint8), kind="selfie").status == ERROR
