"""Finding faces and telling whether two of them are the same person.

dlib (the prebuilt ``dlib-bin`` wheel) with the models of the
``face-recognition-models`` package: the HOG face detector, the 68-point
landmark predictor and the 128-dimensional ResNet face descriptor. The models
ship inside the package; nothing is downloaded. The same landmarks serve the
liveness check (eye aspect ratio, head pose), so one engine covers every face
check. ``face_recognition`` is a thin wrapper over the same calls and is not
needed.

Distances are Euclidean between descriptors: dlib's own evaluation puts the
same person below 0.6. On the held-out pairs of bench/heldout/faces.py
(three people's package photos at 160x120 to 640x480, turned, tilted, and
as small card and passport portraits), genuine pairs reached 0.62 and
enlarged 25x25 LFW faces came within 0.46: see docs/checks.md.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from workflows.checks.images import load_rgb
from workflows.checks.results import (
    FACE_MATCH,
    FAILED,
    CheckOutcome,
    Reason,
    gettext_noop,
    guarded,
    reason,
    status_of,
)

ENGINE = "dlib"
ENGINE_REVISION = "faces.6"

# dlib's recommended decision distance; a workflow may set a stricter one.
DEFAULT_THRESHOLD = 0.6
# HOG detections below this score were, on the test photos, patches of
# clothing and printed texture rather than faces: where a stronger one is
# in the same image, the weaker ones are dropped. A weak detection that is
# the only one is kept: it was the face on small and dim captures, and "no
# face" fails a real person.
MIN_DETECTION_SCORE = 0.3
# Detection runs on a copy at most this wide or high; landmarks and
# descriptors use the full-resolution image. A webcam's 1280x720 is
# detected as it is: shrunk to 800 px, a document's portrait got too small.
DETECT_MAX_SIDE = 1280
# Faces narrower than this are looked for again in an image upsampled once
# (HOG finds faces from about 80 px).
UPSAMPLE_BELOW = 100
# Images smaller than this (a 320x240 frame, a 160x120 crop) are searched
# upsampled from the first pass: a face in them is under HOG's 80 px.
SMALL_IMAGE_SIDE = 480
# A head tilted (rolled) more than about 15 degrees escapes the frontal HOG
# detector: the image is turned by these angles and searched again.
ROLL_SEARCH_DEGREES = (20.0, -20.0)
# Last resort, only where nothing else found a face: dlib's CNN (mmod)
# detector, which finds turned and small faces but costs about a second of
# CPU, on a copy at most this large.
CNN_MAX_SIDE = 640


@functools.lru_cache(maxsize=1)
def models():
    import dlib
    import face_recognition_models as bundled

    return (
        dlib.get_frontal_face_detector(),
        dlib.shape_predictor(bundled.pose_predictor_model_location()),
        dlib.face_recognition_model_v1(bundled.face_recognition_model_location()),
    )


@functools.lru_cache(maxsize=1)
def cnn_detector():
    import dlib
    import face_recognition_models as bundled

    return dlib.cnn_face_detection_model_v1(bundled.cnn_face_detector_model_location())


@functools.lru_cache(maxsize=1)
def engine_version() -> str:
    try:
        from importlib.metadata import version

        return f"{version('dlib-bin')}+{version('face-recognition-models')}+{ENGINE_REVISION}"
    except Exception:  # noqa: BLE001 - informative only
        return f"unknown+{ENGINE_REVISION}"


@dataclass
class DetectedFace:
    box: tuple[int, int, int, int]  # left, top, right, bottom in image pixels
    score: float
    landmarks: np.ndarray  # 68 x 2, image pixels, dlib's iBUG 300-W order
    _image_key: str = ""

    @property
    def width(self) -> int:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> int:
        return self.box[3] - self.box[1]

    @property
    def area(self) -> int:
        return self.width * self.height

    def to_dict(self) -> dict:
        return {"box": list(self.box), "score": round(self.score, 3)}


# Detections and descriptors of recently seen images: the liveness check and
# the face match look at the same frames within one task.
_cache: OrderedDict[tuple, object] = OrderedDict()
_cache_lock = threading.Lock()
_CACHE_SIZE = 256


def _cached(key, compute):
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    value = compute()
    with _cache_lock:
        _cache[key] = value
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return value


def _image_key(rgb: np.ndarray) -> str:
    return hashlib.blake2b(rgb.tobytes(), digest_size=16).hexdigest() + str(rgb.shape)


def detect_faces(image) -> list[DetectedFace]:
    """Every face found, largest first, with its 68 landmarks."""
    rgb = load_rgb(image)
    key = _image_key(rgb)
    return _cached(("faces", key), lambda: _detect(rgb, key))


def _hog(image: np.ndarray, upsample: int) -> list[tuple[tuple[float, float, float, float], float]]:
    """(left, top, right, bottom) in ``image`` pixels and score, strongest first."""
    detector = models()[0]
    rects, scores, _ = detector.run(image, upsample, 0.0)
    found = [((r.left(), r.top(), r.right(), r.bottom()), float(score)) for r, score in zip(rects, scores)]
    return sorted(found, key=lambda item: -item[1])


def _keep(found: list) -> list:
    strong = [item for item in found if item[1] >= MIN_DETECTION_SCORE]
    return strong or found[:1]


def _turned_back(box, angle: float, size: tuple[int, int]) -> tuple[float, float, float, float]:
    """A box found in the image turned by ``angle`` about its centre, as an
    upright box of the same size around the same face in the image."""
    w, h = size
    left, top, right, bottom = box
    cx, cy = (left + right) / 2 - w / 2, (top + bottom) / 2 - h / 2
    a = np.radians(angle)
    # cv2.getRotationMatrix2D turns counter-clockwise on screen: undo it
    x = cx * np.cos(a) - cy * np.sin(a) + w / 2
    y = cx * np.sin(a) + cy * np.cos(a) + h / 2
    half_w, half_h = (right - left) / 2, (bottom - top) / 2
    return (x - half_w, y - half_h, x + half_w, y + half_h)


def _hog_around(image: np.ndarray, found: list, upsample: int = 1) -> list:
    """HOG upsampled once, only around faces already found (each box with
    one box's margin on every side): what the upsampled search of the whole
    image gave for them, at a fraction of its cost (on a 1280x720 document
    0.2 s of CPU instead of 0.6). A second face too small for the first
    pass (under about 80 px) away from the ones it found is no longer
    looked for; the face match counts faces, it does not judge by them,
    except "several faces" in the live capture, where the first pass finds
    any face of a usable size."""
    h, w = image.shape[:2]
    hits = []
    for (left, top, right, bottom), _ in found:
        bw, bh = right - left, bottom - top
        x0, y0 = max(0, int(left - bw)), max(0, int(top - bh))
        x1, y1 = min(w, int(right + bw) + 1), min(h, int(bottom + bh) + 1)
        crop = np.ascontiguousarray(image[y0:y1, x0:x1])
        hits += [((l + x0, t + y0, r + x0, b + y0), score) for (l, t, r, b), score in _hog(crop, upsample)]
    return _keep(sorted(hits, key=lambda item: -item[1]))


def _upsample_for(image: np.ndarray) -> int:
    """How many times HOG upsamples ``image`` (each time doubling it) so
    that a face filling a third of it reaches the detector's 80 px: none
    from SMALL_IMAGE_SIDE up, once for a 320x240 frame, twice for a
    160x120 crop (cheap: the upsampled image is no larger than a 640x480
    frame)."""
    side, times = max(image.shape[:2]), 0
    while side < SMALL_IMAGE_SIDE and times < 2:
        side, times = side * 2, times + 1
    return times


def _overlap(a, b) -> float:
    """Intersection over the smaller box's area."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return w * h / max(smaller, 1e-9)


def _best_of(*passes: list) -> list:
    """Every face any pass found, once: where boxes of two passes cover the
    same face, the higher-scoring one stands. A later pass never drops a
    face an earlier one found."""
    merged: list = []
    for box, score in sorted((item for found in passes for item in found), key=lambda item: -item[1]):
        if all(_overlap(box, kept) < 0.5 for kept, _ in merged):
            merged.append((box, score))
    return _keep(merged)


def _find_boxes(small: np.ndarray) -> list[tuple[tuple[float, float, float, float], float]]:
    """Face boxes in ``small``: HOG (upsampled for small images), then
    upsampled again around faces too small to describe well (or everywhere
    when none was found), then turned for tilted heads, then the CNN
    detector; each step only when the ones before found nothing usable, the
    best detection of each face kept across them."""
    import cv2

    upsample = _upsample_for(small)
    found = _keep(_hog(small, upsample))
    if not found or max(box[2] - box[0] for box, _ in found) < UPSAMPLE_BELOW:
        again = _hog_around(small, found, upsample + 1) if found else _keep(_hog(small, upsample + 1))
        found = _best_of(found, again)
    if found:
        return found
    h, w = small.shape[:2]
    # Turned copies at most at 1280x960: each costs as much as the first
    # pass on a large image (on the dev split, upsampling small images once
    # more here and in the CNN quadrupled the worst image's CPU).
    turn_upsample = upsample or (1 if max(h, w) <= 800 else 0)
    for angle in ROLL_SEARCH_DEGREES:
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        turned = cv2.warpAffine(small, matrix, (w, h), borderMode=cv2.BORDER_REPLICATE)
        hits = _keep(_hog(turned, turn_upsample))
        if hits:
            return [(_turned_back(box, angle, (w, h)), score) for box, score in hits]
    # dlib's CNN holds the GIL for up to seconds (docs/performance.md): it
    # runs only here, where every cheaper pass found nothing.
    scale = min(1.0, CNN_MAX_SIDE / max(h, w))
    image = cv2.resize(small, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA) if scale < 1 else small
    hits = cnn_detector()(image, 1 if max(image.shape[:2]) < 500 else 0)
    return [((d.rect.left() / scale, d.rect.top() / scale, d.rect.right() / scale, d.rect.bottom() / scale),
             float(d.confidence)) for d in sorted(hits, key=lambda d: -d.confidence)[:3]]


def _detect(rgb: np.ndarray, key: str) -> list[DetectedFace]:
    import cv2
    import dlib

    _, predictor, _ = models()
    h, w = rgb.shape[:2]
    scale = min(1.0, DETECT_MAX_SIDE / max(h, w))
    small = cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA) if scale < 1 else rgb
    faces = []
    for (left, top, right, bottom), score in _find_boxes(small):
        box = (
            max(0, round(left / scale)),
            max(0, round(top / scale)),
            min(w, round(right / scale)),
            min(h, round(bottom / scale)),
        )
        if box[2] - box[0] < 8 or box[3] - box[1] < 8:
            continue
        shape = predictor(rgb, dlib.rectangle(*box))
        landmarks = np.array([(p.x, p.y) for p in shape.parts()], dtype=float)
        faces.append(DetectedFace(box, float(score), landmarks, key))
    faces.sort(key=lambda face: face.area, reverse=True)
    return faces


def face_descriptor(image, face: DetectedFace) -> np.ndarray:
    """The 128-d descriptor of one detected face."""
    rgb = load_rgb(image)

    def compute():
        import dlib

        _, predictor, recogniser = models()
        shape = predictor(rgb, dlib.rectangle(*face.box))
        return np.array(recogniser.compute_face_descriptor(rgb, shape), dtype=float)

    return _cached(("descriptor", face._image_key or _image_key(rgb), face.box), compute)


def face_distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)))


@dataclass
class FaceInImage:
    count: int
    face: DetectedFace | None
    descriptor: np.ndarray | None


def largest_face(image) -> FaceInImage:
    rgb = load_rgb(image)
    faces = detect_faces(rgb)
    if not faces:
        return FaceInImage(0, None, None)
    return FaceInImage(len(faces), faces[0], face_descriptor(rgb, faces[0]))


# Between two frames of one burst, the largest face "follows on" from the one
# before when there are as many faces, its centre moved less than this share
# of its width, its width changed by less than this share, and the two faces,
# aligned on their landmarks and shrunk to 48 px, still look alike (the
# correlation of their normalised grey levels). On synthetic bursts made as
# bench/checks_accuracy.py makes them, consecutive frames of one person correlated at
# 0.78-0.99 (a painted blink down to 0.37: then both frames are described),
# two people in the same place at most 0.38.
FOLLOW_MAX_SHIFT = 0.5
FOLLOW_MAX_RESIZE = 0.3
FOLLOW_MIN_LIKENESS = 0.7
_LIKENESS_SIZE = 48


def _likeness_chip(rgb: np.ndarray, face: DetectedFace) -> np.ndarray:
    import cv2
    import dlib

    shape = dlib.full_object_detection(dlib.rectangle(*face.box),
                                       [dlib.point(int(x), int(y)) for x, y in face.landmarks])
    grey = cv2.cvtColor(dlib.get_face_chip(rgb, shape, size=_LIKENESS_SIZE, padding=0.1), cv2.COLOR_RGB2GRAY)
    grey = grey.astype(float)
    return (grey - grey.mean()) / (grey.std() + 1e-6)


def _follows(previous, previous_count: int, current, count: int) -> bool:
    """``previous`` and ``current`` are (image, largest face) of consecutive frames."""
    if previous is None or count != previous_count:
        return False
    (a_rgb, a), (b_rgb, b) = previous, current
    (ax, ay), (bx, by) = (((f.box[0] + f.box[2]) / 2, (f.box[1] + f.box[3]) / 2) for f in (a, b))
    if float(np.hypot(bx - ax, by - ay)) / max(a.width, 1) > FOLLOW_MAX_SHIFT:
        return False
    if abs(b.width - a.width) / max(a.width, 1) > FOLLOW_MAX_RESIZE:
        return False
    likeness = float((_likeness_chip(a_rgb, a) * _likeness_chip(b_rgb, b)).mean())
    return likeness >= FOLLOW_MIN_LIKENESS


def _frames_to_compare(labelled: list[tuple[str, object]]):
    """(label, image, faces, compare) for each liveness frame, in order.

    A descriptor costs about four times a detection, and a burst is five
    frames of one movement a second long: describing each was most of the
    checks' CPU. So per burst (the frames of one action) one frame with a
    face is described, picked from the frames' content (the customer cannot
    know which one), and so is every frame whose face does not follow on
    from the frame before's (_follows): a new face, a jump, a gap, a face
    that no longer looks like the one before. Somebody who stays for the
    whole burst is compared once; somebody swapped in is compared where
    they came in (bench/checks_accuracy.py measures swaps).
    """
    bursts: OrderedDict[str, list] = OrderedDict()
    for label, frame in labelled:
        rgb = load_rgb(frame)
        bursts.setdefault(label.rpartition(" ")[0], []).append((label, rgb, detect_faces(rgb)))
    for burst in bursts.values():
        with_face = [index for index, (_, _, found) in enumerate(burst) if found]
        picked = None
        if with_face:
            digest = hashlib.blake2b(digest_size=8)
            for _, rgb, _ in burst:
                digest.update(_image_key(rgb).encode())
            picked = with_face[int.from_bytes(digest.digest(), "big") % len(with_face)]
        # Runs of frames whose faces follow on from each other: one frame
        # of each run is described, the picked one in its run.
        runs: list[list[int]] = []
        previous, previous_count = None, 0
        for index, (_, rgb, found) in enumerate(burst):
            current = (rgb, found[0]) if found else None
            if current is not None:
                if runs and runs[-1][-1] == index - 1 and _follows(previous, previous_count, current, len(found)):
                    runs[-1].append(index)
                else:
                    runs.append([index])
            previous, previous_count = current, len(found)
        described = {picked if picked in run else run[0] for run in runs}
        for index, (label, rgb, found) in enumerate(burst):
            yield label, rgb, found, index in described or not found


def similarity(distance: float) -> float:
    """A 0..1 score for people who read scores: 1 is identical, 0 is a
    distance of 1.0 or more (far beyond any threshold in use)."""
    return round(max(0.0, 1.0 - distance), 4)


RETAKE_FACE = gettext_noop("Ask the customer to face the camera in even light, alone in the picture, and capture again.")
RETAKE_PORTRAIT = gettext_noop(
    "Capture the document page with the photo again, flat, filling the frame, without reflections."
)


@guarded(FACE_MATCH, ENGINE, engine_version())
def check_face_match(
    *,
    live_face,
    document,
    threshold: float = DEFAULT_THRESHOLD,
    liveness_frames=(),
    review_margin: float = 0.05,
) -> CheckOutcome:
    """Compare the live face with the document's portrait, and every
    liveness frame with the live face (a person swapped mid-call). With no
    document but liveness frames, only the frames are compared.

    passed: one face live, a portrait on the document, distance at most
    ``threshold``, and every liveness frame's face within it too.
    failed: a clear mismatch (beyond threshold + review_margin) of the
    portrait or of any liveness frame.
    failed: no face in the live capture or no portrait on the document: the
    match could not be made (the reason says which, with retake advice).
    needs_review: several faces in the live capture, or a distance just
    past the threshold.
    """
    failed: list[Reason] = []
    review: list[Reason] = []
    details: dict = {"threshold": threshold}

    def judge(distance: float, *, mismatch: Reason, borderline: Reason) -> None:
        # One rule for the portrait and every liveness frame: a clear
        # mismatch fails, a distance just past the threshold wants a look.
        if distance > threshold + review_margin:
            failed.append(mismatch)
        elif distance > threshold:
            review.append(borderline)

    live = largest_face(live_face)
    details["live_faces"] = live.count
    if live.count == 0:
        # A failure, not a review or a skip: the capture is of a person, so
        # "no face" means the match could not be made, and nothing may count
        # in the customer's favour until a retake finds one.
        return CheckOutcome(
            kind=FACE_MATCH,
            status=FAILED,
            score=None,
            reasons=[reason("face.none_live", "No face was found in the live face capture.", RETAKE_FACE)],
            details=details,
        )
    if live.count > 1:
        review.append(
            reason("face.several_live", "%(count)s faces in the live face capture; the largest was used.",
                   RETAKE_FACE, count=live.count)
        )

    distance = None
    if document is not None:
        portrait = largest_face(document)
        details["document_faces"] = portrait.count
        if portrait.count == 0:
            # As for the live capture: the match was not made, so it failed.
            failed.append(reason("face.none_document", "No portrait was found on the document capture.",
                                 RETAKE_PORTRAIT))
        else:
            # Passports often print a second, smaller "ghost" portrait: several
            # faces on a document are expected, the largest is the photo.
            distance = face_distance(live.descriptor, portrait.descriptor)
            details["distance"] = round(distance, 4)
            judge(
                distance,
                mismatch=reason("face.mismatch",
                                "The live face does not match the document portrait (distance %(distance).2f, "
                                "threshold %(threshold).2f).", distance=distance, threshold=threshold),
                borderline=reason("face.borderline",
                                  "The live face is close to the threshold of the document portrait (distance "
                                  "%(distance).2f, threshold %(threshold).2f).", distance=distance, threshold=threshold),
            )
    elif not liveness_frames:
        review.append(reason("face.no_document", "There is no document capture to compare the face with."))

    frames = []
    labelled = [frame if isinstance(frame, tuple) else (f"frame {index + 1}", frame)
                for index, frame in enumerate(liveness_frames)]
    for label, rgb, found, compare in _frames_to_compare(labelled):
        # "turn_left 3": the action stays a code in the reason, shown by its
        # name in the reader's language.
        action, _, number = label.rpartition(" ")
        if not compare:
            # A face, not described: it follows on from a compared one
            # (_frames_to_compare), so no distance is claimed for it.
            frames.append({"frame": label, "faces": len(found), "distance": None})
            continue
        if not found:
            frames.append({"frame": label, "faces": 0, "distance": None})
            continue
        frame_distance = face_distance(live.descriptor, face_descriptor(rgb, found[0]))
        frames.append({"frame": label, "faces": len(found), "distance": round(frame_distance, 4)})
        judge(
            frame_distance,
            mismatch=reason("face.swap",
                            "The person in frame %(number)s of “%(action)s” is not the person of the live face "
                            "capture (distance %(distance).2f).",
                            number=number, action=action or "liveness", distance=frame_distance),
            borderline=reason("face.swap_borderline",
                              "The person in frame %(number)s of “%(action)s” is close to the threshold (distance "
                              "%(distance).2f).", number=number, action=action or "liveness", distance=frame_distance),
        )
    if frames:
        details["liveness_frames"] = frames

    status = status_of(failed=failed, review=review)
    if distance is None and frames:
        # Only the liveness frames were compared: score the farthest of them.
        distance = max((f["distance"] for f in frames if f["distance"] is not None), default=None)
    return CheckOutcome(
        kind=FACE_MATCH,
        status=status,
        score=similarity(distance) if distance is not None else None,
        reasons=failed + review,
        details=details,
        face_descriptor=tuple(float(value) for value in live.descriptor),
    )
