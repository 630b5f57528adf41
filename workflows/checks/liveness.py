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

# Thresholds, set on bench/heldout/liveness.py's dev split (people at their
# own timing, 10 frames 100 ms apart). A turn or nod counts when reached in
# two frames (_sustained): a 16° partial turn measured 15-20° of yaw, a 12°
# nod 9-14° of pitch; a photo held up and shaken stayed under 8° in nearly
# every burst.
MIN_YAW_CHANGE = 12.0
MIN_PITCH_CHANGE = 8.0
# A blink: the eye aspect ratio of one frame at most this share of the
# burst's own open level (its 75th percentile: a blink covers at most a
# third of the frames). dlib's lids follow a blink only part of the way:
# shut eyes measured 0.45-0.70 of open, photos and other movements
# 0.80-0.98 (eyes behind drawn glasses less clearly).
BLINK_RATIO = 0.75
MIN_OPEN_EAR = 0.18
# The rigid landmarks' residual after the best homography from the first
# frame (_depth_motion), per eye span: genuine turns and nods 0.03-0.11, a
# flat photo tilted, turned and shaken 0.01-0.02.
MIN_DEPTH_MOTION = 0.025
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
    # How much the face looks like the one in the frame before (measure_burst).
    likeness: float | None = None
    landmarks: np.ndarray | None = field(default=None, repr=False)


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


def _shape(grey: np.ndarray, box) -> np.ndarray:
    import dlib

    predictor = faces.models()[1]
    left, top, right, bottom = (int(round(v)) for v in box)
    shape = predictor(grey, dlib.rectangle(left, top, right, bottom))
    return np.array([(p.x, p.y) for p in shape.parts()], dtype=float)


def _box_from(landmarks: np.ndarray, relation: tuple[float, float, float, float]) -> tuple:
    """The detector's box around ``landmarks``, in the relation the first
    frame's detection had to its own landmarks (dlib's predictor was trained
    on the detector's boxes, and fits best on one like them)."""
    (x0, y0), (x1, y1) = landmarks.min(axis=0), landmarks.max(axis=0)
    w, h = x1 - x0, y1 - y0
    return (x0 + relation[0] * w, y0 + relation[1] * h, x1 + relation[2] * w, y1 + relation[3] * h)


def _relation(box, landmarks: np.ndarray) -> tuple[float, float, float, float]:
    (x0, y0), (x1, y1) = landmarks.min(axis=0), landmarks.max(axis=0)
    w, h = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
    return ((box[0] - x0) / w, (box[1] - y0) / h, (box[2] - x1) / w, (box[3] - y1) / h)


def _detect_quick(grey: np.ndarray) -> list[tuple[tuple, float]] | None:
    """Faces found by HOG on a copy half the size (a fifth of the cost of
    the full frame): boxes in frame pixels and scores, strongest first; None
    when it finds no face (the face may be too small for half size)."""
    import cv2

    h, w = grey.shape[:2]
    small = cv2.resize(grey, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    rects, scores, _ = faces.models()[0].run(small, 0, 0.0)
    found = sorted(((tuple(2 * v for v in (r.left(), r.top(), r.right(), r.bottom())), float(score))
                    for r, score in zip(rects, scores)), key=lambda item: -item[1])
    strong = [item for item in found if item[1] >= faces.MIN_DETECTION_SCORE]
    found = strong or found[:1]
    return found or None


def _faces_in(rgb: np.ndarray, grey: np.ndarray) -> list[tuple[tuple, float]]:
    quick = _detect_quick(grey)
    if quick is not None:
        return quick
    return [(face.box, face.score) for face in faces.detect_faces(rgb)]


# The face cut out on its eyes to a fixed frame, so that a head moving,
# nearer or turned a little compares with itself.
_CHIP = 40


def _similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 2x3 similarity transform taking the two ``src`` points onto ``dst``."""
    (ax, ay), (bx, by) = src
    (cx, cy), (dx, dy) = dst
    s = complex(dx - cx, dy - cy) / (complex(bx - ax, by - ay) or 1)
    t = complex(cx, cy) - s * complex(ax, ay)
    return np.array([[s.real, -s.imag, t.real], [s.imag, s.real, t.imag]], dtype=np.float64)


def _chip(grey: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """The face from the brows to the chin at 40 px, the eyes left out (a
    blink is not another person), normalised for light."""
    import cv2

    left, right = landmarks[36:42].mean(axis=0), landmarks[42:48].mean(axis=0)
    matrix = _similarity(np.array([left, right]), np.array([(11.0, 12.0), (29.0, 12.0)]))
    chip = cv2.warpAffine(grey, matrix, (_CHIP, _CHIP), flags=cv2.INTER_AREA).astype(np.float32)
    chip[8:17, 4:36] = np.nan
    values = chip[~np.isnan(chip)]
    return (chip - values.mean()) / (values.std() + 1e-6)


def _likeness(a: np.ndarray, b: np.ndarray) -> float:
    both = ~(np.isnan(a) | np.isnan(b))
    return float((a[both] * b[both]).mean())


# A face tracked into the next frame whose likeness falls below this is
# looked for again from scratch in that frame (no face, several, or another
# person). Consecutive frames of one person 100 ms apart, turning at up to
# 200°/s, measured 0.6-0.99 on bench/heldout/liveness.py's dev split.
RECHECK_LIKENESS = 0.6
# Under this, the face is not the one of the frame before: another person.
SWAP_LIKENESS = 0.35


def measure_burst(frames: list[np.ndarray]) -> list[FrameMeasure]:
    """One detection per burst, then the face tracked from frame to frame:
    each frame's landmarks are fitted in a box placed from the frame
    before's. The detector runs again only where the face does not follow
    on (a likeness under RECHECK_LIKENESS): that frame's faces are counted,
    and it is the frame a swap shows in. The last frame is counted as well,
    so a second face that walks in is seen."""
    from workflows.checks.images import to_gray

    greys = [to_gray(rgb) for rgb in frames]
    measures: list[FrameMeasure] = []
    previous_landmarks = None
    previous_chip = None
    relation = None
    for index, (rgb, grey) in enumerate(zip(frames, greys)):
        found = None
        if previous_landmarks is None or index == len(frames) - 1:
            found = _faces_in(rgb, grey)
        if previous_landmarks is None:
            if len(found) != 1:
                measures.append(FrameMeasure(faces=len(found)))
                continue
            box = found[0][0]
            landmarks = _shape(grey, box)
            relation = _relation(box, landmarks)
        else:
            landmarks = _shape(grey, _box_from(previous_landmarks, relation))
            # Fast movement: fit again from where the face went.
            landmarks = _shape(grey, _box_from(landmarks, relation))
        chip = _chip(grey, landmarks)
        likeness = _likeness(previous_chip, chip) if previous_chip is not None else None
        if likeness is not None and likeness < RECHECK_LIKENESS and found is None:
            found = _faces_in(rgb, grey)
        if found is not None and len(found) != 1:
            measures.append(FrameMeasure(faces=len(found), likeness=likeness))
            previous_landmarks = previous_chip = None
            continue
        if found is not None and previous_landmarks is not None and likeness is not None \
                and likeness < RECHECK_LIKENESS:
            # Fitted again on the detector's box: the tracker may have
            # clung to the wrong place.
            landmarks = _shape(grey, found[0][0])
            chip = _chip(grey, landmarks)
            likeness = _likeness(previous_chip, chip)
        h, w = rgb.shape[:2]
        yaw, pitch = head_pose(landmarks, (w, h))
        measures.append(FrameMeasure(
            faces=1,
            ear=(eye_aspect_ratio(landmarks[36:42]) + eye_aspect_ratio(landmarks[42:48])) / 2,
            yaw=yaw,
            pitch=pitch,
            eye_span=float(np.linalg.norm(landmarks[45] - landmarks[36])),
            likeness=likeness,
            landmarks=landmarks,
        ))
        previous_landmarks, previous_chip = landmarks, chip
    return measures


def frames_identical(frames: list[np.ndarray]) -> bool:
    grey = [to_gray(frame).astype(np.int16) for frame in frames]
    for a, b in zip(grey, grey[1:]):
        if a.shape != b.shape or float(np.abs(a - b).mean()) >= IDENTICAL_MAD:
            return False
    return True


def _sustained(changes) -> float:
    """The change reached in at least two frames: one frame whose landmarks
    slipped (glasses, a hand) does not make a turn."""
    ordered = sorted(changes, reverse=True)
    return float(ordered[1] if len(ordered) > 1 else ordered[0])


# Landmarks that a blink or a smile does not move: the jaw line, brows, nose,
# eye corners and mouth corners.
_RIGID = list(range(0, 36)) + [36, 39, 42, 45, 48, 54]


def _depth_motion(landmarks: list[np.ndarray]) -> float:
    """How far the face's movement is from that of a flat picture: each
    frame's rigid landmarks against the first frame's mapped by the best
    homography (which moves a tilted, turned, shifted or nearer photo
    exactly), the largest root-mean-square residual, per eye span. A head
    turning shows its depth: the nose moves across the cheek."""
    import cv2

    first = landmarks[0][_RIGID]
    span = float(np.linalg.norm(landmarks[0][45] - landmarks[0][36])) or 1.0
    worst_residual = 0.0
    for current in landmarks[1:]:
        homography, _ = cv2.findHomography(first, current[_RIGID], 0)
        if homography is None:
            continue
        mapped = cv2.perspectiveTransform(first[None].astype(np.float64), homography)[0]
        residual = float(np.sqrt(((mapped - current[_RIGID]) ** 2).sum(axis=1).mean())) / span
        worst_residual = max(worst_residual, residual)
    return worst_residual


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

    measures = measure_burst(frames)
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
    likeness = [m.likeness for m in measures]
    verdict.measured["likeness"] = [None if value is None else round(value, 2) for value in likeness]
    changed = [str(i + 1) for i, value in enumerate(likeness) if value is not None and value < SWAP_LIKENESS]
    if changed:
        verdict.status = FAILED
        verdict.reasons.append(
            reason("liveness.face_changed", "The face in frame %(frames)s of “%(action)s” is not the face of the "
                                            "frame before: somebody else came into the picture.",
                   frames=", ".join(changed), action=action)
        )
        return verdict

    sign = -1.0 if mirrored else 1.0
    if action in (TURN_LEFT, TURN_RIGHT):
        # The customer's own left is the image's right on a camera that does
        # not mirror (what a capture is): their nose moves to the right.
        direction = 1.0 if action == TURN_LEFT else -1.0
        yaws = [sign * m.yaw for m in measures]
        change = _sustained(direction * (yaw - yaws[0]) for yaw in yaws)
        wrong_way = _sustained(-direction * (yaw - yaws[0]) for yaw in yaws)
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
        change = _sustained(p - pitches[0] for p in pitches)
        verdict.measured.update(pitch=[round(p, 1) for p in pitches], change=round(change, 1))
        if change < MIN_PITCH_CHANGE:
            verdict.status = FAILED
            verdict.reasons.append(
                reason("liveness.no_nod", "The head did not tilt up enough: %(change).0f° of %(minimum).0f° needed.",
                       RETAKE, change=change, minimum=MIN_PITCH_CHANGE)
            )
    if action in (TURN_LEFT, TURN_RIGHT, LOOK_UP) and verdict.status == PASSED:
        depth = _depth_motion([m.landmarks for m in measures])
        verdict.measured["depth"] = round(depth, 3)
        if depth < MIN_DEPTH_MOTION:
            verdict.status = FAILED
            verdict.reasons.append(
                reason("liveness.flat_picture", "The face moved like a flat picture, not like a head (“%(action)s”).",
                       RETAKE, action=action)
            )
    if action == BLINK:
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
    if action == MOVE_CLOSER:
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
