"""Liveness from challenge frames: did a live person do what was asked?

The operator asks for actions (turn left, turn right, look up, blink, move
closer); the customer's camera sends a short burst of frames per action. For
each action this checks, from dlib's 68 landmarks (see faces.py):

- exactly one face in every frame;
- the frames are not all the same picture (a still replayed into the camera
  path);
- the asked movement happened: the eye aspect ratio (Soukupová and Čech,
  2016) dropped and came back for a blink; the head's yaw or pitch, from
  ``cv2.solvePnP`` of six landmarks against a generic 3-D face, changed in
  the asked direction for a turn or a nod; the distance between the outer
  eye corners grew for moving closer.

What it cannot tell: a video of the customer doing the same movement, or a
printed photo bent or moved in front of the camera (moving a photo closer
passes move_closer; turning it changes the landmarks much like a turn).
The challenges make a still photo fail, not every attack.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from workflows.checks import faces
from workflows.checks.images import load_rgb, to_gray
from workflows.checks.results import (
    FAILED,
    LIVENESS,
    NEEDS_REVIEW,
    PASSED,
    CheckOutcome,
    Reason,
    gettext_noop,
    guarded,
    reason,
    worst,
)

ENGINE = "dlib"
ENGINE_REVISION = "liveness.1"

TURN_LEFT = "turn_left"
TURN_RIGHT = "turn_right"
LOOK_UP = "look_up"
BLINK = "blink"
MOVE_CLOSER = "move_closer"
ACTIONS = (TURN_LEFT, TURN_RIGHT, LOOK_UP, BLINK, MOVE_CLOSER)

# Thresholds, measured on synthetic sequences (bench/checks_accuracy.py):
# a 22° synthetic turn measured 20-25° of yaw, frame-to-frame jitter of a
# still face stayed within ±5°; an 18° nod measured 12-20° of pitch.
MIN_YAW_CHANGE = 12.0
MIN_PITCH_CHANGE = 8.0
# Open eyes measured an eye aspect ratio of 0.29-0.35, painted-shut ones
# 0.07-0.12 (when the landmarks followed the lids at all).
BLINK_RATIO = 0.70
MIN_OPEN_EAR = 0.18
MIN_GROWTH = 0.15
# Mean absolute difference, in grey levels, under which two frames count as
# the same picture. Sensor noise alone is above 1 on real and synthetic
# frames; a replayed still is 0.
IDENTICAL_MAD = 0.5
MIN_FRAMES = 3

RETAKE = gettext_noop(
    "Ask the customer to repeat the action slowly, face to the camera, alone in the picture, in even light."
)


def eye_aspect_ratio(eye: np.ndarray) -> float:
    """Eye landmarks p1..p6: (|p2-p6| + |p3-p5|) / (2 |p1-p4|)."""
    vertical = np.linalg.norm(eye[1] - eye[5]) + np.linalg.norm(eye[2] - eye[4])
    horizontal = np.linalg.norm(eye[0] - eye[3])
    return float(vertical / (2 * horizontal)) if horizontal else 0.0


# A generic face in millimetres, in the camera's axes (x right, y down, z away
# from the camera), nose tip at the origin.
_MODEL_POINTS = np.array(
    [
        (0.0, 0.0, 0.0),  # nose tip, landmark 30
        (0.0, 330.0, 65.0),  # chin, 8
        (-225.0, -170.0, 135.0),  # outer corner of the eye on the image's left, 36
        (225.0, -170.0, 135.0),  # outer corner of the other eye, 45
        (-150.0, 150.0, 125.0),  # mouth corner, 48
        (150.0, 150.0, 125.0),  # mouth corner, 54
    ]
)
_MODEL_LANDMARKS = [30, 8, 36, 45, 48, 54]


def head_pose(landmarks: np.ndarray, image_size: tuple[int, int]) -> tuple[float, float]:
    """(yaw, pitch) in degrees. Yaw is positive when the nose points to the
    image's right, pitch positive when it points up."""
    import cv2

    w, h = image_size
    camera = np.array([[w, 0, w / 2], [0, w, h / 2], [0, 0, 1]], dtype=np.float64)
    ok, rotation_vector, _ = cv2.solvePnP(
        _MODEL_POINTS, landmarks[_MODEL_LANDMARKS].astype(np.float64), camera, np.zeros(4),
        flags=cv2.SOLVEPNP_ITERATIVE,
    )
    if not ok:
        raise ValueError("head pose could not be estimated")
    rotation, _ = cv2.Rodrigues(rotation_vector)
    # The model's forward direction (towards the camera, -z) as the head now
    # points it.
    forward = rotation @ np.array([0.0, 0.0, -1.0])
    yaw = np.degrees(np.arctan2(forward[0], -forward[2]))
    pitch = np.degrees(np.arctan2(-forward[1], np.hypot(forward[0], forward[2])))
    return float(yaw), float(pitch)


@dataclass
class FrameMeasure:
    faces: int
    ear: float | None = None
    yaw: float | None = None
    pitch: float | None = None
    eye_span: float | None = None


@dataclass
class ActionVerdict:
    action: str
    status: str
    frames: int
    reasons: list[Reason] = field(default_factory=list)
    measured: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "action": self.action,
            "status": self.status,
            "frames": self.frames,
            "reasons": [reason.__dict__ for reason in self.reasons],
            "measured": self.measured,
        }


def measure_frame(rgb: np.ndarray) -> FrameMeasure:
    found = faces.detect_faces(rgb)
    if len(found) != 1:
        return FrameMeasure(faces=len(found))
    landmarks = found[0].landmarks
    h, w = rgb.shape[:2]
    yaw, pitch = head_pose(landmarks, (w, h))
    return FrameMeasure(
        faces=1,
        ear=(eye_aspect_ratio(landmarks[36:42]) + eye_aspect_ratio(landmarks[42:48])) / 2,
        yaw=yaw,
        pitch=pitch,
        eye_span=float(np.linalg.norm(landmarks[45] - landmarks[36])),
    )


def frames_identical(frames: list[np.ndarray]) -> bool:
    grey = [to_gray(frame).astype(np.int16) for frame in frames]
    for a, b in zip(grey, grey[1:]):
        if a.shape != b.shape or float(np.abs(a - b).mean()) >= IDENTICAL_MAD:
            return False
    return True


def judge_action(action: str, frames: list, *, mirrored: bool = False) -> ActionVerdict:
    frames = [load_rgb(frame) for frame in frames]
    verdict = ActionVerdict(action=action, status=PASSED, frames=len(frames))
    if action not in ACTIONS:
        verdict.status = NEEDS_REVIEW
        verdict.reasons.append(reason("liveness.unknown_action", "“%(action)s” is not a known challenge.", action=action))
        return verdict
    if len(frames) < MIN_FRAMES:
        verdict.status = NEEDS_REVIEW
        verdict.reasons.append(
            reason("liveness.too_few_frames", "%(count)s frames for “%(action)s”; at least %(minimum)s needed.",
                   RETAKE, count=len(frames), action=action, minimum=MIN_FRAMES)
        )
        return verdict
    if frames_identical(frames):
        verdict.status = FAILED
        verdict.reasons.append(
            reason("liveness.still_replay", "All %(count)s frames of “%(action)s” are the same picture: a still "
                                            "image, not a live camera.", count=len(frames), action=action)
        )
        return verdict

    measures = [measure_frame(frame) for frame in frames]
    counts = [m.faces for m in measures]
    verdict.measured["faces"] = counts
    if any(count == 0 for count in counts):
        verdict.status = NEEDS_REVIEW
        missing = [str(i + 1) for i, count in enumerate(counts) if count == 0]
        verdict.reasons.append(
            reason("liveness.no_face", "No face in frame %(frames)s of “%(action)s”.", RETAKE,
                   frames=", ".join(missing), action=action)
        )
    if any(count > 1 for count in counts):
        verdict.status = NEEDS_REVIEW
        several = [str(i + 1) for i, count in enumerate(counts) if count > 1]
        verdict.reasons.append(
            reason("liveness.several_faces", "More than one face in frame %(frames)s of “%(action)s”.", RETAKE,
                   frames=", ".join(several), action=action)
        )
    if verdict.status != PASSED:
        return verdict

    sign = -1.0 if mirrored else 1.0
    if action in (TURN_LEFT, TURN_RIGHT):
        # The customer's own left is the image's right on a camera that does
        # not mirror (what a capture is): their nose moves to the right.
        direction = 1.0 if action == TURN_LEFT else -1.0
        yaws = [sign * m.yaw for m in measures]
        change = max(direction * (yaw - yaws[0]) for yaw in yaws)
        wrong_way = max(-direction * (yaw - yaws[0]) for yaw in yaws)
        verdict.measured.update(yaw=[round(y, 1) for y in yaws], change=round(change, 1))
        if change < MIN_YAW_CHANGE:
            verdict.status = FAILED
            if wrong_way >= MIN_YAW_CHANGE:
                why = reason("liveness.no_turn", "The head turned the other way, not as asked (“%(action)s”): "
                                                   "%(change).0f° of %(minimum).0f° needed.",
                             RETAKE, action=action, change=change, minimum=MIN_YAW_CHANGE)
            else:
                why = reason("liveness.no_turn", "The head did not turn enough (“%(action)s”): %(change).0f° of "
                                                 "%(minimum).0f° needed.", RETAKE,
                             action=action, change=change, minimum=MIN_YAW_CHANGE)
            verdict.reasons.append(why)
    elif action == LOOK_UP:
        pitches = [m.pitch for m in measures]
        change = max(p - pitches[0] for p in pitches)
        verdict.measured.update(pitch=[round(p, 1) for p in pitches], change=round(change, 1))
        if change < MIN_PITCH_CHANGE:
            verdict.status = FAILED
            verdict.reasons.append(
                reason("liveness.no_nod", "The head did not tilt up enough: %(change).0f° of %(minimum).0f° needed.",
                       RETAKE, change=change, minimum=MIN_PITCH_CHANGE)
            )
    elif action == BLINK:
        ears = [m.ear for m in measures]
        open_level = float(np.percentile(ears, 75))
        lowest = min(ears)
        closed_at = ears.index(lowest)
        reopened = any(ear >= 0.85 * open_level for ear in ears[closed_at + 1 :]) or any(
            ear >= 0.85 * open_level for ear in ears[:closed_at]
        )
        verdict.measured.update(ear=[round(e, 3) for e in ears], open=round(open_level, 3), lowest=round(lowest, 3))
        if open_level < MIN_OPEN_EAR:
            verdict.status = FAILED
            verdict.reasons.append(reason("liveness.eyes_never_open", "The eyes were never clearly open.", RETAKE))
        elif lowest > BLINK_RATIO * open_level or not reopened:
            verdict.status = FAILED
            verdict.reasons.append(reason("liveness.no_blink", "No blink was seen.", RETAKE))
    elif action == MOVE_CLOSER:
        spans = [m.eye_span for m in measures]
        growth = max(spans) / spans[0] - 1 if spans[0] else 0.0
        later_growth = spans[-1] / spans[0] - 1 if spans[0] else 0.0
        verdict.measured.update(eye_span=[round(s, 1) for s in spans], growth=round(growth, 3))
        if growth < MIN_GROWTH or later_growth < MIN_GROWTH / 2:
            verdict.status = FAILED
            verdict.reasons.append(
                reason("liveness.not_closer", "The face did not come closer: %(growth)s %% larger, %(minimum)s %% needed.",
                       RETAKE, growth=round(growth * 100), minimum=round(MIN_GROWTH * 100))
            )
    return verdict


def engine_version() -> str:
    return faces.engine_version().replace(faces.ENGINE_REVISION, ENGINE_REVISION)


@guarded(LIVENESS, ENGINE, engine_version())
def check_liveness(challenges: dict[str, list], *, mirrored: bool = False) -> CheckOutcome:
    """``challenges`` maps each asked action to its frames, in capture order.

    passed: every action passed. failed: an action was not done, or its
    frames are one still picture. needs_review: no challenge, too few
    frames, a frame with no face or several.
    """
    if not challenges:
        return CheckOutcome(
            kind=LIVENESS,
            status=NEEDS_REVIEW,
            score=None,
            reasons=[reason("liveness.no_challenges", "No liveness frames were captured.",
                            gettext_noop("Ask the customer for the liveness actions."))],
        )
    verdicts = [judge_action(action, list(frames), mirrored=mirrored) for action, frames in challenges.items()]
    # Every frame of every action byte-identical to every other: one picture.
    all_frames = [load_rgb(frame) for frames in challenges.values() for frame in frames]
    replay_everywhere = len(all_frames) >= 2 and frames_identical(all_frames)
    status = worst(verdict.status for verdict in verdicts)
    reasons = [reason for verdict in verdicts for reason in verdict.reasons]
    if replay_everywhere and not any(r.code == "liveness.still_replay" for r in reasons):
        status = FAILED
        reasons.insert(0, reason("liveness.still_replay", "Every frame of every action is the same picture."))
    passed = sum(verdict.status == PASSED for verdict in verdicts)
    return CheckOutcome(
        kind=LIVENESS,
        status=status,
        score=round(passed / len(verdicts), 4),
        reasons=reasons,
        details={"actions": [verdict.to_dict() for verdict in verdicts], "mirrored": mirrored},
    )
