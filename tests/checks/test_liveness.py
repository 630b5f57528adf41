"""Liveness per challenge action, from frames made by warping the
astronaut's photo along her landmarks (see tests/checks/testdata.py for
what such frames can and cannot show)."""

import numpy as np
import pytest

from tests.checks import testdata as td
from workflows.checks import liveness
from workflows.checks.results import ERROR, FAILED, NEEDS_REVIEW, PASSED


def codes(outcome):
    return [reason.code for reason in outcome.reasons]


def test_every_action_done_as_asked_passes(astronaut_challenges):
    outcome = liveness.check_liveness(astronaut_challenges)
    assert outcome.status == PASSED, outcome.reasons
    assert outcome.score == 1.0
    assert [a["action"] for a in outcome.details["actions"]] == list(liveness.ACTIONS)


@pytest.mark.parametrize("action", liveness.ACTIONS)
def test_each_action_passes_on_its_own_frames(astronaut_challenges, action):
    verdict = liveness.judge_action(action, astronaut_challenges[action])
    assert verdict.status == PASSED, (verdict.reasons, verdict.measured)


def test_still_replay_fails_every_action(astronaut_frame):
    outcome = liveness.check_liveness({action: td.still_replay(astronaut_frame) for action in liveness.ACTIONS})
    assert outcome.status == FAILED
    assert set(codes(outcome)) == {"liveness.still_replay"}
    assert outcome.score == 0.0


def test_still_photo_with_camera_noise_fails_every_action(astronaut_frame):
    """Not byte-identical, so the replay test does not fire; the challenges do."""
    frames = [td.sensor_noise(astronaut_frame, seed) for seed in range(5)]
    outcome = liveness.check_liveness({action: frames for action in liveness.ACTIONS})
    assert outcome.status == FAILED
    assert codes(outcome) == [
        "liveness.no_turn", "liveness.no_turn", "liveness.no_nod", "liveness.no_blink", "liveness.not_closer",
    ]


def test_turn_the_other_way_fails_and_says_so(astronaut_challenges):
    verdict = liveness.judge_action("turn_right", astronaut_challenges["turn_left"])
    assert verdict.status == FAILED
    assert "other way" in verdict.reasons[0].message


def test_mirrored_preview_frames_swap_left_and_right(astronaut_challenges):
    mirrored = [np.ascontiguousarray(frame[:, ::-1]) for frame in astronaut_challenges["turn_left"]]
    assert liveness.judge_action("turn_left", mirrored, mirrored=True).status == PASSED
    assert liveness.judge_action("turn_right", mirrored).status == PASSED


def test_frame_without_a_face_needs_review(astronaut_challenges):
    frames = list(astronaut_challenges["blink"])
    frames[2] = td.sensor_noise(np.full_like(frames[2], 180), seed=9)
    verdict = liveness.judge_action("blink", frames)
    assert verdict.status == NEEDS_REVIEW
    assert [r.code for r in verdict.reasons] == ["liveness.no_face"]
    assert "frame 3" in verdict.reasons[0].message


def test_second_face_in_a_frame_needs_review(astronaut_challenges):
    frames = list(astronaut_challenges["turn_left"])
    other = td.live_frame(td.grace_hopper(), frame=(320, 480), face_share=0.4, seed=3)
    frames[1] = np.hstack([td.live_frame(td.astronaut(), frame=(320, 480), face_share=0.4, seed=3), other])
    verdict = liveness.judge_action("turn_left", frames)
    assert verdict.status == NEEDS_REVIEW
    assert [r.code for r in verdict.reasons] == ["liveness.several_faces"]


def test_too_few_frames_need_review(astronaut_challenges):
    verdict = liveness.judge_action("blink", astronaut_challenges["blink"][:2])
    assert verdict.status == NEEDS_REVIEW
    assert verdict.reasons[0].code == "liveness.too_few_frames"


def test_unknown_action_needs_review(astronaut_challenges):
    outcome = liveness.check_liveness({"smile": astronaut_challenges["blink"]})
    assert outcome.status == NEEDS_REVIEW
    assert codes(outcome) == ["liveness.unknown_action"]


def test_no_challenge_frames_at_all_needs_review():
    outcome = liveness.check_liveness({})
    assert outcome.status == NEEDS_REVIEW
    assert codes(outcome) == ["liveness.no_challenges"]


def test_one_failed_action_fails_the_check_and_scores_the_rest(astronaut_challenges, astronaut_frame):
    challenges = dict(astronaut_challenges)
    challenges["blink"] = [td.sensor_noise(astronaut_frame, seed) for seed in range(5)]
    outcome = liveness.check_liveness(challenges)
    assert outcome.status == FAILED
    assert outcome.score == 0.8
    assert codes(outcome) == ["liveness.no_blink"]


def test_eye_aspect_ratio_of_open_and_shut_eyes():
    open_eye = np.array([(0, 0), (1, -1), (2, -1), (3, 0), (2, 1), (1, 1)], dtype=float)
    shut_eye = np.array([(0, 0), (1, -0.1), (2, -0.1), (3, 0), (2, 0.1), (1, 0.1)], dtype=float)
    assert liveness.eye_aspect_ratio(open_eye) == pytest.approx(2 / 3)
    assert liveness.eye_aspect_ratio(shut_eye) == pytest.approx(0.2 / 3)


def test_engine_exception_becomes_an_error_result(monkeypatch, astronaut_challenges):
    monkeypatch.setattr(liveness, "measure_burst", lambda frames: 1 / 0)
    outcome = liveness.check_liveness(astronaut_challenges)
    assert outcome.status == ERROR
    assert codes(outcome) == ["engine.exception"]


def test_somebody_else_taking_over_mid_burst_fails(astronaut_challenges, hopper_frame):
    """A swap of person inside one burst is caught by the liveness check itself."""
    theirs = td.challenge_frames(hopper_frame, "turn_left", seed=4)
    frames = list(astronaut_challenges["turn_left"][:2]) + theirs[2:]
    verdict = liveness.judge_action("turn_left", frames)
    assert verdict.status == FAILED
    assert [r.code for r in verdict.reasons] == ["liveness.face_changed"]
    assert "frame 3" in verdict.reasons[0].message


def test_photo_turned_in_the_hand_is_a_flat_picture_not_a_turn(astronaut_frame):
    """A print swung about its vertical axis changes the measured yaw like a
    turn does, but its landmarks move as one plane."""
    import cv2

    h, w = astronaut_frame.shape[:2]
    k = np.array([[w, 0, w / 2], [0, w, h / 2], [0, 0, 1.0]])
    to_centre = np.array([[1, 0, -w / 2], [0, 1, -h / 2], [0, 0, 1.0]])
    frames = []
    for i, degrees in enumerate((0, 12, 24, 34, 34)):
        a = np.radians(degrees)
        rotation = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
        homography = k @ np.column_stack([rotation[:, 0], rotation[:, 1], [0, 0, w]]) @ to_centre
        tilted = cv2.warpPerspective(astronaut_frame, homography / homography[2, 2], (w, h),
                                     borderMode=cv2.BORDER_REPLICATE)
        frames.append(td.sensor_noise(tilted, 30 + i))
    verdicts = [liveness.judge_action(action, frames) for action in ("turn_left", "turn_right")]
    assert all(v.status == FAILED for v in verdicts)
    assert "liveness.flat_picture" in [r.code for v in verdicts for r in v.reasons]
