"""Face match: the live face against the document portrait, and every
liveness frame against the live face."""

import numpy as np
import pytest

from tests.checks import testdata as td
from workflows.checks import faces
from workflows.checks.results import ERROR, FAILED, NEEDS_REVIEW, PASSED


def codes(outcome):
    return [reason.code for reason in outcome.reasons]


@pytest.fixture(scope="session")
def two_people_frame(astronaut_frame):
    """The astronaut with Grace Hopper beside her, both about the same size."""
    left = td.live_frame(td.astronaut(), frame=(320, 480), face_share=0.4, seed=3)
    right = td.live_frame(td.grace_hopper(), frame=(320, 480), face_share=0.4, seed=4)
    return np.hstack([left, right])


@pytest.fixture(scope="session")
def empty_wall():
    return td.sensor_noise(np.full((480, 640, 3), 180, dtype=np.uint8), seed=5)


def test_customer_matching_their_passport_photo_passes(astronaut_frame, passport):
    outcome = faces.check_face_match(live_face=astronaut_frame, document=passport, threshold=0.6)
    assert outcome.status == PASSED, outcome.reasons
    assert outcome.details["distance"] < 0.45
    assert outcome.score > 0.5
    assert outcome.engine == "dlib" and "faces" in outcome.engine_version


def test_someone_else_in_front_of_the_camera_fails(hopper_frame, passport):
    outcome = faces.check_face_match(live_face=hopper_frame, document=passport, threshold=0.6)
    assert outcome.status == FAILED
    assert codes(outcome) == ["face.mismatch"]
    assert outcome.details["distance"] > 0.65


def test_stricter_workflow_threshold_is_applied(astronaut_frame, passport):
    outcome = faces.check_face_match(live_face=astronaut_frame, document=passport, threshold=0.05, review_margin=0.0)
    assert outcome.status == FAILED
    assert outcome.details["threshold"] == 0.05


def test_distance_just_past_the_threshold_needs_review(astronaut_frame, passport):
    distance = faces.check_face_match(live_face=astronaut_frame, document=passport).details["distance"]
    outcome = faces.check_face_match(live_face=astronaut_frame, document=passport, threshold=distance - 0.01)
    assert outcome.status == NEEDS_REVIEW
    assert codes(outcome) == ["face.borderline"]


def test_no_face_in_the_live_capture_fails_with_retake_advice(empty_wall, passport):
    """The match could not be made: a failure, never a pass or a skip."""
    outcome = faces.check_face_match(live_face=empty_wall, document=passport)
    assert outcome.status == FAILED
    assert codes(outcome) == ["face.none_live"]
    assert outcome.advice


def test_two_faces_in_the_live_capture_need_review(two_people_frame, passport):
    found = faces.detect_faces(two_people_frame)
    assert len(found) == 2
    outcome = faces.check_face_match(live_face=two_people_frame, document=passport)
    assert outcome.details["live_faces"] == 2
    assert "face.several_live" in codes(outcome)
    assert outcome.status in (NEEDS_REVIEW, FAILED)


def test_document_without_a_portrait_fails(astronaut_frame, empty_wall):
    outcome = faces.check_face_match(live_face=astronaut_frame, document=empty_wall)
    assert outcome.status == FAILED
    assert codes(outcome) == ["face.none_document"]


def test_person_swapped_during_the_liveness_frames_fails(astronaut_frame, hopper_frame, passport):
    frames = [("turn_left 1", astronaut_frame), ("turn_left 2", hopper_frame)]
    outcome = faces.check_face_match(live_face=astronaut_frame, document=passport, liveness_frames=frames)
    assert outcome.status == FAILED
    assert codes(outcome) == ["face.swap"]
    assert "frame 2 of “turn left”" in outcome.reasons[0].message
    assert outcome.reasons[0].params["action"] == "turn_left"
    assert [f["frame"] for f in outcome.details["liveness_frames"]] == ["turn_left 1", "turn_left 2"]


def test_same_person_in_every_liveness_frame_passes(astronaut_frame, passport, astronaut_challenges):
    frames = astronaut_challenges["turn_left"][1:3] + astronaut_challenges["blink"][2:4]
    outcome = faces.check_face_match(live_face=astronaut_frame, document=passport, liveness_frames=frames)
    assert outcome.status == PASSED, outcome.reasons
    compared = [f["distance"] for f in outcome.details["liveness_frames"] if f["distance"] is not None]
    assert compared and all(distance < 0.6 for distance in compared)


def test_largest_face_is_reported_first(two_people_frame):
    found = faces.detect_faces(two_people_frame)
    assert found[0].area >= found[1].area
    assert found[0].landmarks.shape == (68, 2)


def test_engine_exception_becomes_an_error_result(monkeypatch, astronaut_frame, passport):
    def broken(image):
        raise RuntimeError("native code crashed")

    monkeypatch.setattr(faces, "detect_faces", broken)
    outcome = faces.check_face_match(live_face=astronaut_frame, document=passport)
    assert outcome.status == ERROR
    assert codes(outcome) == ["engine.exception"]
    assert outcome.details["exception"] == "RuntimeError"


def test_unreadable_image_bytes_become_an_error_result(passport):
    outcome = faces.check_face_match(live_face=b"not a jpeg", document=passport)
    assert outcome.status == ERROR


def test_liveness_frames_alone_are_compared_without_a_document(astronaut_frame, astronaut_challenges):
    outcome = faces.check_face_match(
        live_face=astronaut_frame, document=None, liveness_frames=astronaut_challenges["blink"][:2]
    )
    assert outcome.status == PASSED, outcome.reasons
    assert "distance" not in outcome.details and outcome.score > 0.5


def test_no_document_and_no_frames_needs_review(astronaut_frame):
    outcome = faces.check_face_match(live_face=astronaut_frame, document=None)
    assert outcome.status == NEEDS_REVIEW
    assert codes(outcome) == ["face.no_document"]
