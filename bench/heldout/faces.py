"""A held-out set of face pairs, harder and wider than the tests' captures.

    from bench.heldout import faces as heldout
    for pair in heldout.pairs("dev"): ...

Kept apart from what the face engine is tuned on by seed ranges: the ``dev``
split uses seeds from DEV_SEED, the ``test`` split from TEST_SEED; tune on
``dev`` freely, run ``test`` once at the end and report it as it comes.

Identities: only real photographs that ship inside installed packages, and
there are very few of them: scikit-image's astronaut (Eileen Collins),
matplotlib's Grace Hopper and scikit-image's cameraman (grey, face turned
away from the camera, about 80 px in the photo). Three people, one photo
each: a genuine pair is two renderings of the *same photograph*, so this set
measures detection and the descriptor's stability under camera conditions,
pose warps and resolution, not how the descriptor separates real people
photographed on different days. The 100 faces of scikit-image's LFW subset
(25x25 grey) serve as other people in impostor pairs only.

A genuine pair is a live probe and a document reference of one identity:

- probe resolutions: 640x480 and 320x240 webcam frames, and 160x120 face
  crops; the head turned (yaw up to 30 degrees, by the landmark warp of
  tests/checks/testdata.py) and tilted (roll up to 20 degrees); lighting
  even, uneven (a lamp to one side), dim with sensor noise, or bright;
  JPEG at quality 40-85;
- references: a TD3 passport page or the front of a TD1 identity card
  (85.6 x 54 mm, the portrait about 22 x 28 mm, as printed on real cards),
  lying on a table in a 1280x720 webcam shot filling 35-80 % of it, with
  the camera variants of the MRZ tests (tilt, blur, uneven light, JPEG).

Impostor pairs: each probe against the references of the other identities
and against LFW faces. Everything is generated from the seed; nothing is
downloaded.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from tests.checks import testdata as td

DEV_SEED = 100_000
TEST_SEED = 900_000
WALL = (186, 180, 170)
RESOLUTIONS = {"640x480": ((640, 480), (0.3, 0.6)), "320x240": ((320, 240), (0.35, 0.65)),
               "160x120 crop": ((160, 120), (0.6, 0.8))}
LIGHTS = ("even", "uneven", "dim", "bright")
POSES = ("frontal", "yaw 15-30", "roll 10-20", "yaw + roll")
DOCUMENTS = ("TD3 passport", "TD1 card")


def cameraman() -> np.ndarray:
    import skimage.data

    grey = skimage.data.camera()[20:340, 60:360]
    return np.ascontiguousarray(np.dstack([grey] * 3))


IDENTITIES = {"astronaut": td.astronaut, "grace_hopper": td.grace_hopper, "cameraman": cameraman}


@functools.lru_cache(maxsize=None)
def _photo_and_landmarks(name: str) -> tuple[np.ndarray, np.ndarray]:
    """The identity's photo and its 68 landmarks, found once on the clean
    photo (upsampled: the cameraman's face is small) to drive the head warp."""
    import cv2

    from workflows.checks import faces

    photo = IDENTITIES[name]()
    big = cv2.resize(photo, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    found = faces.detect_faces(big)
    return photo, found[0].landmarks / 2


@dataclass
class Image_:
    identity: str
    kind: str  # "probe" or "reference"
    condition: dict
    rgb: np.ndarray


def probe(name: str, seed: int) -> Image_:
    rng = np.random.default_rng(seed)
    resolution = list(RESOLUTIONS)[seed % 3]
    pose = POSES[(seed // 3) % 4]
    light = LIGHTS[(seed // 12) % 4]
    photo, landmarks = _photo_and_landmarks(name)
    yaw = float(rng.uniform(15, 30) * rng.choice([-1, 1])) if "yaw" in pose else float(rng.uniform(-5, 5))
    roll = float(rng.uniform(10, 20) * rng.choice([-1, 1])) if "roll" in pose else float(rng.uniform(-4, 4))
    turned = td.rotate_head(photo, landmarks, yaw=yaw, pitch=float(rng.uniform(-8, 8)))
    frame, share = RESOLUTIONS[resolution]
    fw, fh = frame
    offset = (int(rng.integers(-fw // 10, fw // 10 + 1)), int(rng.integers(-fh // 12, fh // 12 + 1)))
    rgb = td.live_frame(turned, frame=frame, face_share=float(rng.uniform(*share)), seed=seed, offset=offset)
    rgb = td.rotate(rgb, roll, fill=WALL)
    if light == "uneven":
        rgb = td.uneven_light(rgb, float(rng.uniform(0.3, 0.6)), seed=seed)
    elif light == "dim":
        rgb = td.sensor_noise(td.darken(rgb, float(rng.uniform(0.25, 0.5))), seed, sigma=3.0)
    elif light == "bright":
        rgb = np.clip(rgb.astype(float) * rng.uniform(1.25, 1.5) + 15, 0, 255).astype(np.uint8)
    if rng.random() < 0.4:
        rgb = td.blur(rgb, float(rng.uniform(0.4, 1.0)))
    rgb = td.jpeg(rgb, int(rng.integers(40, 86)))
    condition = {"resolution": resolution, "pose": pose, "light": light, "yaw": round(yaw, 1),
                 "roll": round(roll, 1)}
    return Image_(name, "probe", condition, rgb)


def id_card_front(holder: td.DocumentHolder, portrait: np.ndarray, seed: int) -> np.ndarray:
    """The front of a TD1 card at testdata's 8 px per mm: the portrait about
    22 x 28 mm at the left, as printed on real identity cards."""
    rng = random.Random(seed)
    w, h = round(85.6 * td.PX_PER_MM), round(54 * td.PX_PER_MM)
    tint = tuple(rng.randint(200, 240) for _ in range(3))
    page = Image.new("RGB", (w, h), tint)
    draw = ImageDraw.Draw(page)
    for i in range(0, h, 7):
        draw.line([(0, i), (w, i + rng.randint(-5, 5))], fill=tuple(c - 14 for c in tint), width=1)
    draw.text((20, 12), "IDENTITY CARD  CARTE D'IDENTITE", font=td.text_font(20, bold=True), fill=(40, 50, 90))
    photo_w, photo_h = round(22 * td.PX_PER_MM), round(28 * td.PX_PER_MM)
    photo = Image.fromarray(td.portrait_crop(portrait)).resize((photo_w, photo_h), Image.LANCZOS)
    page.paste(photo, (20, 56))
    x, y = 20 + photo_w + 24, 56
    for label, value in (("Surname", holder.surname), ("Given names", holder.given_names),
                         ("Date of birth", holder.birth_date.strftime("%d %b %Y").upper()),
                         ("Document no.", holder.document_number)):
        draw.text((x, y), label, font=td.text_font(11), fill=(70, 70, 100))
        draw.text((x, y + 12), value, font=td.text_font(16, bold=True), fill=(20, 20, 30))
        y += 48
    return np.asarray(page)


def reference(name: str, seed: int) -> Image_:
    rng = random.Random(seed)
    photo, _ = _photo_and_landmarks(name)
    document = DOCUMENTS[seed % 2]
    holder = td.random_holder(seed)
    if document == "TD3 passport":
        page = td.draw_document(holder, "TD3", portrait=photo, seed=seed)
    else:
        page = id_card_front(holder, photo, seed)
    fill = rng.uniform(0.35, 0.8)
    rgb, applied = td.camera_variant(td.on_table(page, seed=seed, fill_share=fill), seed)
    condition = {"document": document, "fill_share": round(fill, 2), **applied}
    return Image_(name, "reference", condition, rgb)


def seeds(split: str, count: int) -> range:
    start = {"dev": DEV_SEED, "test": TEST_SEED}[split]
    return range(start, start + count)


def pairs(split: str, per_identity: int):
    """(probe, reference) of the same identity, ``per_identity`` each."""
    for index, name in enumerate(IDENTITIES):
        for seed in seeds(split, per_identity):
            yield probe(name, seed + 10_000 * index), reference(name, seed + 10_000 * index + 5_000)


def lfw_faces(split: str) -> list[np.ndarray]:
    """Other people: the LFW subset's faces, the first half for dev and the
    second for test, so neither split sees the other's impostors."""
    crowd = td.crowd()
    return crowd[:50] if split == "dev" else crowd[50:]
