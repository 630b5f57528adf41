"""Held-out liveness sequences: people at their own timing, and attacks.

Genuine sequences are rendered at the product's burst timing
(``workflows.steps.LIVENESS_BURST_FRAMES`` frames ``LIVENESS_BURST_INTERVAL_MS``
apart, with the browser's timer jitter) from a person who moves on their
own clock: a blink of 100-300 ms at a random moment of the burst (closing
fast, opening slower, sometimes not quite shut), turns and nods from fast
(0.25 s) to slow (1 s) and from partial (16°) to full effort, a head that
never holds perfectly still. The people are the two photographs that ship
with scikit-image and matplotlib, mirrored or not, their face shape
morphed along the landmarks, with or without drawn glasses, in several
lights, sizes, sensor noise levels and JPEG qualities.

Attacks, per burst:
- ``still``: one photo, the same bytes every frame;
- ``recompressed``: one photo, each frame re-encoded and noisy;
- ``photo_moved``: a printed photo held and shaken: every frame the photo
  plane tilted (perspective), turned, shifted and scaled at random;
- ``wrong_action``: a recording of the same person doing another action;
- ``swap``: another person takes the first one's place mid-burst.

Splits: ``dev`` draws from seeds 0-99 999, ``test`` from 1 000 000 up; the
eyelid, motion and camera models are the same, the draws are not.

What it cannot show: real eyelids, real 3-D heads (a turn is a warp of a
half-ellipsoid), real screens and prints (moiré, reflections), masks, or
deep-fake video; and whether people actually blink inside the burst (the
model puts every blink inside it).
"""

from __future__ import annotations

import functools
import io
import os
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from tests.checks import testdata as td


def _burst_timing() -> tuple[int, int]:
    # The product's own burst (workflows.steps needs Django's settings).
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kyc.settings")
    django.setup()
    from workflows.steps import LIVENESS_BURST_FRAMES, LIVENESS_BURST_INTERVAL_MS

    return LIVENESS_BURST_FRAMES, LIVENESS_BURST_INTERVAL_MS


LIVENESS_BURST_FRAMES, LIVENESS_BURST_INTERVAL_MS = _burst_timing()

ACTIONS = ("turn_left", "turn_right", "look_up", "blink", "move_closer")
ATTACKS = ("still", "recompressed", "photo_moved", "wrong_action", "swap")
SPLIT_SEEDS = {"dev": 0, "test": 1_000_000}
FRAME = (640, 480)


@dataclass
class Person:
    """One customer in front of one camera: a base frame and what the camera does."""

    frame: np.ndarray  # rgb, eyes open, facing the camera
    landmarks: np.ndarray
    jpeg_quality: int
    noise: float
    source: str
    traits: dict = field(default_factory=dict)


@functools.lru_cache(maxsize=None)
def _photo(name: str, mirrored: bool) -> np.ndarray:
    photo = td.person(name)
    return np.ascontiguousarray(photo[:, ::-1]) if mirrored else photo


def _landmarks(rgb: np.ndarray) -> np.ndarray:
    from workflows.checks.faces import detect_faces

    found = detect_faces(rgb)
    if not found:
        raise ValueError("no face in a generated base frame")
    return found[0].landmarks


def _morph(rgb: np.ndarray, lm: np.ndarray, rng) -> np.ndarray:
    """Another face shape: eyes set wider or closer, a longer or shorter
    nose, a wider or narrower jaw and mouth."""
    target = lm.copy()
    centre = lm.mean(axis=0)
    eyes = (lm[36:42].mean(axis=0), lm[42:48].mean(axis=0))
    spread = rng.uniform(-0.07, 0.07)
    for index, eye in zip((range(36, 42), range(42, 48)), eyes):
        shift = (eye - centre) * np.array([spread, 0])
        target[list(index)] += shift
        target[[17 + i for i in range(5)] if index.start == 36 else [22 + i for i in range(5)]] += shift
    target[31:36, 1] += (lm[31:36, 1] - lm[27, 1]) * rng.uniform(-0.1, 0.1)
    target[0:17, 0] = centre[0] + (lm[0:17, 0] - centre[0]) * rng.uniform(0.93, 1.07)
    target[48:68, 0] = lm[48:68, 0].mean() + (lm[48:68, 0] - lm[48:68, 0].mean()) * rng.uniform(0.9, 1.12)
    h, w = rgb.shape[:2]
    fixed = np.array([(0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1), (w / 2, 0), (w / 2, h - 1), (0, h / 2),
                      (w - 1, h / 2)], dtype=float)
    half = (lm[16, 0] - lm[0, 0]) / 2
    ring = np.array([centre + 1.9 * half * np.array([np.cos(t), 1.15 * np.sin(t)])
                     for t in np.linspace(0, 2 * np.pi, 16, endpoint=False)])
    return td.warp_points(rgb, np.vstack([lm, ring, fixed]), np.vstack([target, ring, fixed]))


def _glasses(rgb: np.ndarray, lm: np.ndarray, rng) -> np.ndarray:
    import cv2

    out = rgb.copy()
    colour = tuple(int(v) for v in rng.integers(10, 90, size=3))
    eye_w = np.linalg.norm(lm[39] - lm[36])
    thickness = max(2, round(eye_w * rng.uniform(0.08, 0.16)))
    centres = []
    for eye in (lm[36:42], lm[42:48]):
        c = eye.mean(axis=0)
        centres.append(c)
        axes = (round(eye_w * 0.95), round(eye_w * 0.7))
        # a faint lens reflection inside the rim
        lens = out.copy()
        cv2.ellipse(lens, (round(c[0]), round(c[1])), axes, 0, 0, 360, (235, 235, 235), -1)
        out = cv2.addWeighted(out, 0.9, lens, 0.1, 0)
        cv2.ellipse(out, (round(c[0]), round(c[1])), axes, 0, 0, 360, colour, thickness, cv2.LINE_AA)
    (lx, ly), (rx, ry) = centres
    cv2.line(out, (round(lx + eye_w * 0.95), round(ly)), (round(rx - eye_w * 0.95), round(ry)), colour, thickness,
             cv2.LINE_AA)
    return out


def person(seed: int) -> Person:
    rng = np.random.default_rng(seed)
    name = ("astronaut", "grace_hopper")[(seed // 1000) % 2]
    mirrored = bool(rng.random() < 0.5)
    share = float(rng.uniform(0.38, 0.62))
    offset = (int(rng.integers(-60, 60)), int(rng.integers(-25, 25)))
    frame = td.live_frame(_photo(name, mirrored), frame=FRAME, face_share=share, offset=offset, seed=seed, )
    lm = _landmarks(frame)
    traits = {"person": name, "mirrored": mirrored, "face_share": round(share, 2)}
    frame = _morph(frame, lm, rng)
    light = rng.random()
    if light < 0.3:
        frame = td.uneven_light(frame, float(rng.uniform(0.25, 0.5)), seed=seed)
        traits["light"] = "uneven"
    elif light < 0.45:
        frame = np.clip(frame * rng.uniform(0.45, 0.65), 0, 255).astype(np.uint8)
        traits["light"] = "dim"
    elif light < 0.55:
        tint = rng.uniform(0.85, 1.15, size=3)
        frame = np.clip(frame * tint, 0, 255).astype(np.uint8)
        traits["light"] = "tinted"
    lm = _landmarks(frame)
    if rng.random() < 0.35:
        frame = _glasses(frame, lm, rng)
        traits["glasses"] = True
        lm = _landmarks(frame)
    return Person(frame=frame, landmarks=lm, jpeg_quality=int(rng.integers(55, 92)), noise=float(rng.uniform(1.2, 3.5)),
                  source=name, traits=traits)


def close_lids(rgb: np.ndarray, lm: np.ndarray, closure: float) -> np.ndarray:
    """Both upper lids lowered by ``closure`` (1 = shut) over the eyes, the
    skin above following; the lower lids rise a little."""
    if closure <= 0.02:
        return rgb
    import cv2

    source, target = [], []
    for eye in (lm[36:42], lm[42:48]):
        c = eye.mean(axis=0)
        eye_w = np.linalg.norm(eye[3] - eye[0])
        moved = eye.copy()
        for upper, lower in ((1, 5), (2, 4)):
            meet = eye[upper] + 0.8 * (eye[lower] - eye[upper])
            moved[upper] = eye[upper] + closure * (meet - eye[upper])
            moved[lower] = eye[lower] + closure * 0.2 * (eye[upper] - eye[lower])
        ring = [c + np.array([0.85 * eye_w * np.cos(t), 0.55 * eye_w * np.sin(t)])
                for t in np.linspace(0, 2 * np.pi, 10, endpoint=False)]
        source += list(eye) + ring
        target += list(moved) + ring
    h, w = rgb.shape[:2]
    fixed = [(0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1)]
    out = _warp(rgb, np.array(source + fixed, dtype=float), np.array(target + fixed, dtype=float))
    if closure > 0.75:
        for eye in (lm[36:42], lm[42:48]):
            eye_w = np.linalg.norm(eye[3] - eye[0])
            lid = np.array(target[0:6] if eye is lm[36:42] else target[16:22])
            line = np.int32(np.round([lid[0], (lid[1] + lid[5]) / 2, (lid[2] + lid[4]) / 2, lid[3]]))
            cv2.polylines(out, [line], False, (45, 35, 35), max(1, round(eye_w * 0.05)), cv2.LINE_AA)
    return out


def _ease(x: float) -> float:
    x = min(1.0, max(0.0, x))
    return x * x * (3 - 2 * x)


def _capture_times(rng) -> list[float]:
    step = LIVENESS_BURST_INTERVAL_MS / 1000
    return [i * step + float(rng.normal(0, 0.006)) if i else 0.0 for i in range(LIVENESS_BURST_FRAMES)]


def movement(action: str, rng) -> tuple[dict, callable]:
    """What the person does, and their state (yaw, pitch, closure, zoom) at time t."""
    window = (LIVENESS_BURST_FRAMES - 1) * LIVENESS_BURST_INTERVAL_MS / 1000
    if action == "blink":
        duration = float(rng.uniform(0.1, 0.3))
        onset = float(rng.uniform(0, max(0.0, window - duration)))
        depth = float(rng.uniform(0.85, 1.0))

        def state(t):
            x = (t - onset) / duration
            if x <= 0 or x >= 1:
                return 0.0, 0.0, 0.0, 1.0
            closure = x / 0.3 if x < 0.3 else 1.0 if x < 0.4 else 1 - (x - 0.4) / 0.6
            return 0.0, 0.0, depth * closure, 1.0

        return {"blink_ms": round(duration * 1000), "onset_ms": round(onset * 1000)}, state
    duration = float(rng.uniform(0.25, 1.0))
    onset = float(rng.uniform(0, 0.3 * window))
    hold = float(rng.uniform(0.1, 0.5))
    if action in ("turn_left", "turn_right"):
        amount = float(rng.uniform(16, 35))
    elif action == "look_up":
        amount = float(rng.uniform(12, 25))
    else:
        amount = float(rng.uniform(1.2, 1.45))
    returns = bool(rng.random() < 0.5)

    def share(t):
        rise = _ease((t - onset) / duration)
        if returns and t > onset + duration + hold:
            return 1 - _ease((t - onset - duration - hold) / duration)
        return rise

    def state(t):
        s = share(t)
        if action == "turn_left":
            return s * amount, 0.0, 0.0, 1.0
        if action == "turn_right":
            return -s * amount, 0.0, 0.0, 1.0
        if action == "look_up":
            return 0.0, s * amount, 0.0, 1.0
        return 0.0, 0.0, 0.0, 1 + (amount - 1) * _ease((t - onset) / duration)

    return {"amount": round(amount, 2), "duration_ms": round(duration * 1000), "onset_ms": round(onset * 1000),
            "returns": returns}, state


def _encode(rgb: np.ndarray, quality: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def _around(lm: np.ndarray, size: tuple[int, int], margin: float) -> tuple[int, int, int, int]:
    w, h = size
    half = (lm[16, 0] - lm[0, 0]) / 2
    centre = lm.mean(axis=0)
    x0, y0 = int(max(0, centre[0] - margin * half)), int(max(0, centre[1] - 1.3 * margin * half))
    x1, y1 = int(min(w, centre[0] + margin * half)), int(min(h, centre[1] + 1.3 * margin * half))
    return x0, y0, x1, y1


_TRIANGLES: dict = {}


def _warp(rgb: np.ndarray, source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """td.warp_points with the triangulation of ``source`` kept: every frame
    of one person warps the same source points, and triangulating them was
    most of the rendering's cost."""
    h, w = rgb.shape[:2]
    key = (source.tobytes(), w, h)
    if key not in _TRIANGLES:
        _TRIANGLES[key] = td._triangles(source, (w, h))
    return td.warp_points(rgb, source, target, triangles=_TRIANGLES[key])


def _rotate_head(rgb: np.ndarray, lm: np.ndarray, *, yaw: float, pitch: float) -> np.ndarray:
    """td.rotate_head, through _warp."""
    points, depth = td._head_points(lm)
    centre = lm.mean(axis=0)
    a, b = np.radians(yaw), np.radians(pitch)
    x, y = points[:, 0] - centre[0], points[:, 1] - centre[1]
    x1 = x * np.cos(a) + depth * np.sin(a)
    z1 = -x * np.sin(a) + depth * np.cos(a)
    y1 = y * np.cos(b) - z1 * np.sin(b)
    target = np.stack([x1 + centre[0], y1 + centre[1]], axis=1)
    h, w = rgb.shape[:2]
    half = (lm[16, 0] - lm[0, 0]) / 2
    ring = [centre + 1.9 * half * np.array([np.cos(t), 1.15 * np.sin(t)])
            for t in np.linspace(0, 2 * np.pi, 16, endpoint=False)]
    corners = [(0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1), (w / 2, 0), (w / 2, h - 1), (0, h / 2), (w - 1, h / 2)]
    fixed = np.array(list(ring) + corners, dtype=float)
    return _warp(rgb, np.vstack([points, fixed]), np.vstack([target, fixed]))


def _noise(rgb: np.ndarray, seed: int, sigma: float) -> np.ndarray:
    """td.sensor_noise in single precision (a tenth of its time)."""
    noise = np.random.default_rng(seed).standard_normal(rgb.shape, dtype=np.float32) * np.float32(sigma)
    return np.clip(rgb.astype(np.float32) + noise, 0, 255).astype(np.uint8)


def render(p: Person, yaw: float, pitch: float, closure: float, zoom: float, shift, seed: int) -> bytes:
    import cv2

    # The warps run on the head's part of the frame only (they cost per
    # pixel); the ring of fixed points rotate_head keeps lies inside it.
    x0, y0, x1, y1 = _around(p.landmarks, FRAME, 2.4)
    lm = p.landmarks - np.array([x0, y0])
    head = close_lids(p.frame[y0:y1, x0:x1], lm, closure)
    if abs(yaw) > 0.05 or abs(pitch) > 0.05:
        head = _rotate_head(head, lm, yaw=yaw, pitch=pitch)
    image = p.frame.copy()
    image[y0:y1, x0:x1] = head
    centre = p.landmarks.mean(axis=0)
    matrix = np.float32([[zoom, 0, centre[0] - zoom * centre[0] + shift[0]],
                         [0, zoom, centre[1] - zoom * centre[1] + shift[1]]])
    image = cv2.warpAffine(image, matrix, FRAME, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return _encode(_noise(image, seed, sigma=p.noise), p.jpeg_quality)


def genuine(p: Person, action: str, seed: int) -> tuple[list[bytes], dict]:
    rng = np.random.default_rng(seed)
    info, state = movement(action, rng)
    frames = []
    sway = np.zeros(4)
    for index, t in enumerate(_capture_times(rng)):
        # Nobody holds still: a slow random walk of the head and a little
        # shift in the frame.
        sway = 0.7 * sway + rng.normal(0, [0.8, 0.8, 1.5, 1.5])
        yaw, pitch, closure, zoom = state(t)
        frames.append(render(p, yaw + sway[0], pitch + sway[1], closure, zoom, sway[2:], seed * 37 + index))
    return frames, info


def photo_moved(p: Person, seed: int) -> list[bytes]:
    """A print of the person's open-eyed frame, held up and shaken: the
    photo's plane tilted up to ±25° about either axis, turned up to ±8°,
    shifted and scaled, differently every frame."""
    import cv2

    rng = np.random.default_rng(seed)
    w, h = FRAME
    f = float(w)
    centre = p.landmarks.mean(axis=0)
    still = p.frame
    frames = []
    drift = rng.uniform(-1, 1, size=6)
    for index in range(LIVENESS_BURST_FRAMES):
        drift = 0.6 * drift + 0.4 * rng.uniform(-1, 1, size=6)
        ax, ay, az = np.radians(drift[:3] * np.array([25, 25, 8]))
        rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
        ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
        rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
        rotation = rz @ ry @ rx
        scale = 1 + 0.08 * drift[5]
        # The photo's plane at the camera's focal distance, turned about the
        # face's centre and projected again.
        k = np.array([[f, 0, centre[0]], [0, f, centre[1]], [0, 0, 1]])
        to_centre = np.array([[1, 0, -centre[0]], [0, 1, -centre[1]], [0, 0, 1]])
        homography = k @ np.column_stack([rotation[:, 0], rotation[:, 1], np.array([0, 0, f])]) @ to_centre
        homography /= homography[2, 2]
        homography = np.diag([scale, scale, 1]) @ homography
        homography[0, 2] += drift[3] * 15 + centre[0] * (1 - scale)
        homography[1, 2] += drift[4] * 15 + centre[1] * (1 - scale)
        image = cv2.warpPerspective(still, homography, FRAME, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        frames.append(_encode(_noise(image, seed * 31 + index, sigma=p.noise), p.jpeg_quality))
    return frames


def recompressed(p: Person, seed: int) -> list[bytes]:
    rng = np.random.default_rng(seed)
    return [_encode(_noise(p.frame, seed * 29 + i, sigma=p.noise), int(rng.integers(50, 95)))
            for i in range(LIVENESS_BURST_FRAMES)]


def still(p: Person) -> list[bytes]:
    one = _encode(_noise(p.frame, 5, sigma=p.noise), p.jpeg_quality)
    return [one] * LIVENESS_BURST_FRAMES


def swap(mine: list[bytes], theirs: list[bytes], seed: int) -> list[bytes]:
    """Somebody else's burst of the same action takes over from a random
    frame on (each at their own timing, about the same place in the frame)."""
    cut = int(np.random.default_rng(seed).integers(1, LIVENESS_BURST_FRAMES))
    return mine[:cut] + theirs[cut:]


@dataclass
class Case:
    kind: str  # "genuine" or an attack
    action: str  # the action asked for
    frames: list
    person: dict
    info: dict


def cases(split: str, count: int, progress=None) -> list[list[Case]]:
    """``count`` customers; for each, a genuine burst of every action and
    one attack burst of every kind per action, as ``[[Case, ...], ...]``.
    The wrong action replays the customer's own burst of another action;
    the swap splices the next customer's burst of the same action in."""
    base = SPLIT_SEEDS[split]
    bursts = []
    for n in range(count):
        seed = base + 1000 * n
        p = person(seed)
        mine = {}
        for i, action in enumerate(ACTIONS):
            mine[action] = genuine(p, action, seed + 10 + i)
        bursts.append((seed, p, mine))
        if progress:
            progress(n)
    out = []
    for n, (seed, p, mine) in enumerate(bursts):
        # The next customer is the other photograph (seeds alternate them).
        _, _, theirs = bursts[(n + 1) % len(bursts)]
        rng = np.random.default_rng(seed + 99)
        customer = [Case("genuine", action, frames, p.traits, info) for action, (frames, info) in mine.items()]
        for i, action in enumerate(ACTIONS):
            customer.append(Case("still", action, still(p), p.traits, {}))
            customer.append(Case("recompressed", action, recompressed(p, seed + 20 + i), p.traits, {}))
            customer.append(Case("photo_moved", action, photo_moved(p, seed + 30 + i), p.traits, {}))
            wrong = [a for a in ACTIONS if a != action][int(rng.integers(0, len(ACTIONS) - 1))]
            customer.append(Case("wrong_action", action, mine[wrong][0], p.traits, {"did": wrong}))
            customer.append(Case("swap", action, swap(mine[action][0], theirs[action][0], seed + 50 + i), p.traits,
                                 {"with": theirs[action][1]}))
        out.append(customer)
    return out


def evaluate(customers: list[list[Case]]) -> dict:
    """BPCER and APCER (ISO/IEC 30107-3) of the product's liveness check,
    called as its task calls it, per action and per attack type, and at
    the level of the check (every action of a customer must pass: a genuine
    customer is refused if any one burst fails, an attack gets through only
    if every burst of it passes). CPU is process time of the check on one
    customer's five genuine bursts, JPEG decoding included."""
    import time

    from workflows.checks import liveness
    from workflows.checks.results import PASSED

    accepted: dict = {}
    reasons: dict = {}
    cpu = []
    check_level: dict = {}
    for customer in customers:
        passed_by_kind: dict = {}
        spent = 0.0
        for case in customer:
            start = time.process_time()
            verdict = liveness.judge_action(case.action, case.frames)
            if case.kind == "genuine":
                spent += time.process_time() - start
            ok = verdict.status == PASSED
            accepted.setdefault((case.kind, case.action), []).append(ok)
            passed_by_kind.setdefault(case.kind, []).append(ok)
            if (case.kind == "genuine") != ok:
                for r in verdict.reasons or [None]:
                    key = (case.kind, case.action, r.code if r else "passed")
                    reasons[key] = reasons.get(key, 0) + 1
        cpu.append(spent)
        for kind, oks in passed_by_kind.items():
            check_level.setdefault(kind, []).append(all(oks))

    def rate(values, genuine):
        return round(100 * (sum(not v for v in values) if genuine else sum(values)) / max(1, len(values)), 2)

    per_action = {action: {"bpcer": rate(accepted[("genuine", action)], True),
                           "bursts": len(accepted[("genuine", action)]),
                           "apcer": {kind: rate(accepted[(kind, action)], False) for kind in ATTACKS}}
                  for action in ACTIONS}
    return {
        "customers": len(customers),
        "bpcer_check": rate(check_level["genuine"], True),
        "bpcer_burst": rate([v for a in ACTIONS for v in accepted[("genuine", a)]], True),
        "apcer_check": {kind: rate(check_level[kind], False) for kind in ATTACKS},
        "apcer_burst": {kind: rate([v for a in ACTIONS for v in accepted[(kind, a)]], False) for kind in ATTACKS},
        "per_action": per_action,
        "errors": {" ".join(key): count for key, count in sorted(reasons.items())},
        "cpu_seconds_per_participant": {"mean": round(float(np.mean(cpu)), 3),
                                        "p90": round(float(np.percentile(cpu, 90)), 3)},
    }
