"""Synthetic captures for the tests, the fault scenarios and the accuracy
benchmark. It lives under tests/ because the product never draws a document:
nothing in workflows/ imports it, and it is not installed with the package.

Nothing here is committed as an image: documents are drawn with Pillow (an
OCR-B font from Debian's fonts-ocr-b when installed, else DejaVu Sans Mono
from matplotlib), their MRZ strings come from the ``mrz`` package, and faces
come from photos that ship inside packages: scikit-image's astronaut (Eileen
Collins) and matplotlib's Grace Hopper, plus the 25x25 faces of
scikit-image's LFW subset as a crowd of other people.

What synthetic data can and cannot show. A document drawn here has perfect
print, one layout and one font: reading it well says the pipeline works, not
what share of real passports it reads. Head turns and nods are made by moving
the face's landmarks as a rigid 3-D rotation of a rough head shape would and
warping the photo to follow; a blink by painting the eyes shut. They show the
liveness check measures direction and amount from landmarks, not that it
tells a live head from a good mask or a screen replay (a flat photo turned in
front of the camera moves landmarks the same way). Two identities are not a
face-recognition benchmark.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import os
import random
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

OCR_B_PATHS = (
    "/usr/share/fonts/opentype/ocr-b/OCRB.otf",
    "/usr/share/fonts/truetype/ocr-b/OCRB.ttf",
)


# --- fonts -----------------------------------------------------------------


def _matplotlib_font(name: str) -> str:
    import matplotlib

    return os.path.join(matplotlib.get_data_path(), "fonts", "ttf", name)


@functools.lru_cache(maxsize=None)
def mrz_font(size: int) -> ImageFont.FreeTypeFont:
    for path in OCR_B_PATHS:
        if os.path.exists(path):
            return ImageFont.truetype(path, size)
    return ImageFont.truetype(_matplotlib_font("DejaVuSansMono.ttf"), size)


def mrz_font_name() -> str:
    return "OCR-B" if any(os.path.exists(p) for p in OCR_B_PATHS) else "DejaVu Sans Mono"


@functools.lru_cache(maxsize=None)
def text_font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(_matplotlib_font("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"), size)


# --- faces that ship with packages ----------------------------------------


@functools.lru_cache(maxsize=None)
def astronaut() -> np.ndarray:
    """Eileen Collins, head and shoulders (the mission patch below, which
    dlib's HOG detector half-takes for a face, is cropped away)."""
    import skimage.data

    return np.ascontiguousarray(skimage.data.astronaut()[0:300, 80:400])


@functools.lru_cache(maxsize=None)
def grace_hopper() -> np.ndarray:
    import matplotlib

    path = os.path.join(matplotlib.get_data_path(), "sample_data", "grace_hopper.jpg")
    return np.asarray(Image.open(path).convert("RGB"))


PEOPLE = {"astronaut": astronaut, "grace_hopper": grace_hopper}


def person(name: str) -> np.ndarray:
    return PEOPLE[name]()


@functools.lru_cache(maxsize=1)
def crowd() -> list[np.ndarray]:
    """The 100 face images of scikit-image's LFW subset (25x25 grey, many
    different people), enlarged onto a 256 px canvas. Low resolution: they
    serve as other people in impostor pairs, never as the matched person."""
    import cv2
    import skimage.data

    faces = skimage.data.lfw_subset()[:100]
    out = []
    for face in faces:
        grey = (face * 255).astype(np.uint8)
        big = cv2.resize(grey, (150, 150), interpolation=cv2.INTER_CUBIC)
        canvas = cv2.copyMakeBorder(big, 53, 53, 53, 53, cv2.BORDER_REPLICATE)
        out.append(np.ascontiguousarray(np.dstack([canvas] * 3)))
    return out


# --- camera-like variants --------------------------------------------------


def jpeg(rgb: np.ndarray, quality: int = 60) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))


def jpeg_bytes(rgb: np.ndarray, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def blur(rgb: np.ndarray, radius: float = 1.5) -> np.ndarray:
    return np.asarray(Image.fromarray(rgb).filter(ImageFilter.GaussianBlur(radius)))


def rotate(rgb: np.ndarray, degrees: float, fill=(90, 84, 78)) -> np.ndarray:
    return np.asarray(Image.fromarray(rgb).rotate(degrees, resample=Image.BICUBIC, expand=False, fillcolor=fill))


def uneven_light(rgb: np.ndarray, strength: float = 0.45, seed: int = 0) -> np.ndarray:
    """A light falling off across the picture, as from a lamp to one side."""
    rng = np.random.default_rng(seed)
    h, w = rgb.shape[:2]
    angle = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:h, 0:w]
    ramp = (np.cos(angle) * (xx / w - 0.5) + np.sin(angle) * (yy / h - 0.5)) + 0.5
    gain = 1.0 - strength * np.clip(ramp, 0, 1)
    return np.clip(rgb * gain[..., None], 0, 255).astype(np.uint8)


def glare(rgb: np.ndarray, centre=(0.55, 0.45), radius: float = 0.14) -> np.ndarray:
    """A reflection of a lamp on a laminated page: a blown-out white spot."""
    h, w = rgb.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    d = np.hypot((xx - centre[0] * w) / w, (yy - centre[1] * h) / w)
    light = np.clip(1.6 - d / radius, 0, 1)[..., None]
    return np.clip(rgb + light * 400.0, 0, 255).astype(np.uint8)


def darken(rgb: np.ndarray, factor: float = 0.12) -> np.ndarray:
    return np.clip(rgb * factor, 0, 255).astype(np.uint8)


def downscale(rgb: np.ndarray, width: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    return np.asarray(Image.fromarray(rgb).resize((width, round(h * width / w)), Image.BILINEAR))


def camera_variant(rgb: np.ndarray, seed: int) -> tuple[np.ndarray, dict]:
    """A random mix of what a phone camera does to a document: tilt up to
    ±10°, some blur, uneven light, JPEG at quality 60."""
    rng = random.Random(seed)
    applied = {}
    out = rgb
    if rng.random() < 0.7:
        applied["rotation"] = round(rng.uniform(-10, 10), 1)
        out = rotate(out, applied["rotation"])
    if rng.random() < 0.5:
        applied["blur"] = round(rng.uniform(0.5, 1.3), 2)
        out = blur(out, applied["blur"])
    if rng.random() < 0.5:
        applied["uneven_light"] = round(rng.uniform(0.2, 0.5), 2)
        out = uneven_light(out, applied["uneven_light"], seed=seed)
    if rng.random() < 0.7:
        applied["jpeg"] = 60
        out = jpeg(out, 60)
    return out, applied


# --- documents -------------------------------------------------------------

SURNAMES = [
    "ERIKSSON", "MUSTERMANN", "DUPONT", "ROSSI", "GARCIA", "NOWAK", "SMITH", "JANSEN", "OKAFOR", "TANAKA",
    "SILVA", "IVANOVA", "MULLER", "OBRIEN", "NGUYEN", "KOWALSKA", "HANSEN", "PAPADOPOULOS", "SCHMIDT",
    "LINDQVIST", "DE LA CRUZ", "VAN DER BERG", "ABDULLAH", "OLSEN", "BERNARD", "KIM", "HORVATH", "NOVAK",
]
GIVEN_NAMES = [
    "ANNA", "MARIA", "ERIKA", "JEAN", "LUCA", "SOFIA", "PIOTR", "JOHN", "ELIF", "YUKI", "JOAO", "OLGA",
    "HANS", "SEAN", "LINH", "AGNIESZKA", "LARS", "NIKOS", "KLAUS", "INGRID", "CARMEN", "BRAM", "AISHA",
    "MARIE CLAIRE", "PETER", "MIN JUN", "ZOLTAN", "EVA", "OSKAR", "BEATRIZ", "SIGRID", "DMITRI",
]
NATIONALITIES = ["D", "NLD", "FRA", "ITA", "ESP", "POL", "GBR", "SWE", "NOR", "DNK", "AUT", "BEL", "PRT", "IRL",
                 "USA", "CAN", "JPN", "KOR", "BRA", "NGA", "TUR", "GRC", "HUN", "CZE"]


@dataclass
class DocumentHolder:
    surname: str
    given_names: str
    document_number: str
    nationality: str
    birth_date: dt.date
    sex: str
    expiry_date: dt.date
    optional_data: str = ""

    @property
    def full_name(self) -> str:
        return f"{self.given_names.title()} {self.surname.title()}"


def random_holder(seed: int, *, today: dt.date | None = None, layout: str = "TD3") -> DocumentHolder:
    rng = random.Random(seed)
    today = today or dt.date.today()
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    digits = "0123456789"
    # Document numbers mix letters and digits, so the look-alike repair is exercised.
    number = rng.choice(letters) + "".join(rng.choice(letters + digits * 3) for _ in range(8))
    birth = today - dt.timedelta(days=rng.randint(19 * 366, 85 * 365))
    expiry = today + dt.timedelta(days=rng.randint(60, 9 * 365))
    optional = ""
    if layout == "TD3" and rng.random() < 0.6:
        optional = "".join(rng.choice(letters + digits) for _ in range(rng.randint(6, 14)))
    elif layout == "TD1" and rng.random() < 0.5:
        optional = "".join(rng.choice(digits) for _ in range(rng.randint(5, 12)))
    surname = rng.choice(SURNAMES)
    given = rng.choice(GIVEN_NAMES) + (f" {rng.choice(GIVEN_NAMES)}" if rng.random() < 0.3 else "")
    # The mrz package refuses a name longer than its field (ICAO would
    # truncate it): keep the generated ones within the layout's width.
    width = {"TD1": 30, "TD2": 31, "TD3": 39}[layout]
    while len(surname) + 2 + len(given) > width and " " in given:
        given = given.rsplit(" ", 1)[0]
    while len(surname) + 2 + len(given) > width:
        surname = rng.choice([name for name in SURNAMES if len(name) <= 10])
    return DocumentHolder(
        surname=surname,
        given_names=given,
        document_number=number,
        nationality=rng.choice(NATIONALITIES),
        birth_date=birth,
        sex=rng.choice("MF"),
        expiry_date=expiry,
        optional_data=optional,
    )


def mrz_lines(holder: DocumentHolder, layout: str = "TD3", *, issuing_state: str | None = None) -> list[str]:
    """The MRZ of a holder, as the ``mrz`` package writes it."""
    from mrz.generator.td1 import TD1CodeGenerator
    from mrz.generator.td2 import TD2CodeGenerator
    from mrz.generator.td3 import TD3CodeGenerator

    state = issuing_state or holder.nationality
    birth = holder.birth_date.strftime("%y%m%d")
    expiry = holder.expiry_date.strftime("%y%m%d")
    surname = holder.surname.replace(" ", "<")
    if layout == "TD3":
        code = TD3CodeGenerator("P", state, surname, holder.given_names, holder.document_number,
                                holder.nationality, birth, holder.sex, expiry, holder.optional_data, force=True)
    elif layout == "TD2":
        code = TD2CodeGenerator("I", state, surname, holder.given_names, holder.document_number,
                                holder.nationality, birth, holder.sex, expiry, holder.optional_data[:7], force=True)
    elif layout == "TD1":
        code = TD1CodeGenerator("I", state, holder.document_number, birth, holder.sex, expiry,
                                holder.nationality, surname, holder.given_names, holder.optional_data[:15],
                                force=True)
    else:
        raise ValueError(layout)
    return str(code).split("\n")


# Card sizes in mm (ICAO 9303 part 4, 5, 6) drawn at this many px per mm.
_SIZES = {"TD3": (125, 88), "TD2": (105, 74), "TD1": (85.6, 54)}
PX_PER_MM = 8


def draw_document(
    holder: DocumentHolder,
    layout: str = "TD3",
    *,
    portrait: np.ndarray | None = None,
    lines: list[str] | None = None,
    seed: int = 0,
) -> np.ndarray:
    """A document page: printed fields, a portrait (not on a TD1 back),
    and the MRZ in its place at the bottom, at 8 px per mm."""
    rng = random.Random(seed)
    lines = lines if lines is not None else mrz_lines(holder, layout)
    width_mm, height_mm = _SIZES[layout]
    w, h = round(width_mm * PX_PER_MM), round(height_mm * PX_PER_MM)
    tint = tuple(rng.randint(205, 240) for _ in range(3))
    page = Image.new("RGB", (w, h), tint)
    draw = ImageDraw.Draw(page)
    # security-print-like background lines
    for i in range(0, h, 9):
        draw.line([(0, i), (w, i + rng.randint(-6, 6))], fill=tuple(c - 12 for c in tint), width=1)
    title = {"TD3": "PASSPORT  PASS  PASSEPORT", "TD2": "IDENTITY CARD", "TD1": "IDENTITY CARD  CARTE D'IDENTITE"}[layout]
    draw.text((24, 16), title, font=text_font(26, bold=True), fill=(40, 50, 90))
    # The MRZ: OCR-B at the ICAO pitch (about 2.54 mm per character)
    char_pitch_mm = 2.54
    mrz_size = round(PX_PER_MM * 4.0)
    font = mrz_font(mrz_size)
    left = round(PX_PER_MM * (6 if layout != "TD1" else 3.5))
    line_gap = round(PX_PER_MM * (4.3 if layout != "TD1" else 4.1))
    top = h - round(PX_PER_MM * 5) - line_gap * len(lines)
    pitch = char_pitch_mm * PX_PER_MM
    if layout == "TD1":
        pitch = (w - 2 * left) / 30
    for row, text in enumerate(lines):
        y = top + row * line_gap
        for col, char in enumerate(text):
            draw.text((left + col * pitch, y), char, font=font, fill=(15, 15, 20))

    fields_top = 70
    if layout != "TD1" and portrait is not None:
        photo_w = round(w * 0.28)
        photo_h = round(photo_w * 1.28)
        photo = Image.fromarray(portrait_crop(portrait)).resize((photo_w, photo_h), Image.LANCZOS)
        page.paste(photo, (28, fields_top))
        text_left = 28 + photo_w + 28
    else:
        text_left = 28
    labels = [
        ("Surname / Nom", holder.surname),
        ("Given names / Prénoms", holder.given_names),
        ("Nationality", holder.nationality),
        ("Date of birth", holder.birth_date.strftime("%d %b %Y").upper()),
        ("Sex", holder.sex),
        ("Date of expiry", holder.expiry_date.strftime("%d %b %Y").upper()),
        ("Document no.", holder.document_number),
    ]
    y = fields_top
    step = max(28, (top - fields_top - 20) // len(labels))
    for label, value in labels:
        if y + 30 > top - 10:
            break
        draw.text((text_left, y), label, font=text_font(11), fill=(70, 70, 100))
        draw.text((text_left, y + 12), value, font=text_font(17, bold=True), fill=(20, 20, 30))
        y += step
    return np.asarray(page)


def portrait_crop(rgb: np.ndarray) -> np.ndarray:
    """A passport-style crop (3:4 around the face) of a package photo."""
    h, w = rgb.shape[:2]
    target = 1.28
    if h / w > target:
        new_h = round(w * target)
        return rgb[:new_h]
    new_w = round(h / target)
    x = (w - new_w) // 2
    return rgb[:, x : x + new_w]


def on_table(page: np.ndarray, *, frame=(1280, 720), fill_share: float = 0.8, seed: int = 0) -> np.ndarray:
    """The page lying on a table as a camera frames it."""
    rng = random.Random(seed)
    fw, fh = frame
    base = np.array([rng.randint(60, 120), rng.randint(55, 100), rng.randint(45, 90)], dtype=np.uint8)
    canvas = np.empty((fh, fw, 3), dtype=np.uint8)
    canvas[:] = base
    noise = np.random.default_rng(seed).integers(0, 10, size=(fh, fw, 1), dtype=np.uint8)
    canvas = np.clip(canvas.astype(int) + noise, 0, 255).astype(np.uint8)
    ph, pw = page.shape[:2]
    scale = min(fw * fill_share / pw, fh * fill_share / ph)
    resized = np.asarray(Image.fromarray(page).resize((round(pw * scale), round(ph * scale)), Image.LANCZOS))
    rh, rw = resized.shape[:2]
    x = (fw - rw) // 2 + rng.randint(-20, 20)
    y = (fh - rh) // 2 + rng.randint(-15, 15)
    x, y = max(0, min(fw - rw, x)), max(0, min(fh - rh, y))
    canvas[y : y + rh, x : x + rw] = resized
    return canvas


def document_capture(
    holder: DocumentHolder,
    layout: str = "TD3",
    *,
    portrait: np.ndarray | None = None,
    seed: int = 0,
    variant: bool = False,
    lines: list[str] | None = None,
) -> tuple[np.ndarray, dict]:
    page = draw_document(holder, layout, portrait=portrait, seed=seed, lines=lines)
    frame = on_table(page, seed=seed)
    if variant:
        return camera_variant(frame, seed)
    return frame, {}


# --- faces in frames and liveness sequences --------------------------------


def live_frame(face_photo: np.ndarray, *, frame=(640, 480), face_share: float = 0.55, seed: int = 0,
               offset=(0, 0)) -> np.ndarray:
    """A webcam frame: the photo scaled to fill ``face_share`` of the
    frame's height, on a plain wall, with a little sensor noise."""
    fw, fh = frame
    ph, pw = face_photo.shape[:2]
    scale = fh * face_share / ph * 1.6
    resized = np.asarray(Image.fromarray(face_photo).resize((max(1, round(pw * scale)), max(1, round(ph * scale))),
                                                            Image.BILINEAR))
    canvas = np.empty((fh, fw, 3), dtype=np.uint8)
    canvas[:] = (186, 180, 170)
    rh, rw = resized.shape[:2]
    x = (fw - rw) // 2 + offset[0]
    y = (fh - rh) // 2 + offset[1]
    # paste with clipping
    sx0, sy0 = max(0, -x), max(0, -y)
    dx0, dy0 = max(0, x), max(0, y)
    cw, ch = min(rw - sx0, fw - dx0), min(rh - sy0, fh - dy0)
    canvas[dy0 : dy0 + ch, dx0 : dx0 + cw] = resized[sy0 : sy0 + ch, sx0 : sx0 + cw]
    return sensor_noise(canvas, seed)


def sensor_noise(rgb: np.ndarray, seed: int, sigma: float = 2.0) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(0, sigma, rgb.shape)
    return np.clip(rgb + noise, 0, 255).astype(np.uint8)


def _triangles(points: np.ndarray, size: tuple[int, int]) -> list[tuple[int, int, int]]:
    import cv2

    w, h = size
    subdiv = cv2.Subdiv2D((0, 0, w + 1, h + 1))
    index = {}
    for i, (x, y) in enumerate(points):
        x, y = float(np.clip(x, 0, w)), float(np.clip(y, 0, h))
        subdiv.insert((x, y))
        index[(round(x, 2), round(y, 2))] = i
    triangles = []
    for t in subdiv.getTriangleList():
        corners = [(round(float(np.clip(t[j], 0, w)), 2), round(float(np.clip(t[j + 1], 0, h)), 2)) for j in (0, 2, 4)]
        if all(c in index for c in corners):
            triangles.append(tuple(index[c] for c in corners))
    return triangles


def warp_points(rgb: np.ndarray, source: np.ndarray, target: np.ndarray, *, triangles=None) -> np.ndarray:
    """Move the pixels so that each source point lands on its target point,
    piecewise-affinely over a Delaunay triangulation of the source points
    (``triangles``: that triangulation, when the caller keeps it)."""
    import cv2

    h, w = rgb.shape[:2]
    out = rgb.copy()
    for a, b, c in triangles if triangles is not None else _triangles(source, (w, h)):
        src = np.float32([source[a], source[b], source[c]])
        dst = np.float32([target[a], target[b], target[c]])
        x, y, bw, bh = cv2.boundingRect(dst)
        x, y = max(0, x), max(0, y)
        bw, bh = min(w - x, bw), min(h - y, bh)
        if bw <= 0 or bh <= 0:
            continue
        matrix = cv2.getAffineTransform(src, dst - np.float32([x, y]))
        patch = cv2.warpAffine(rgb, matrix, (bw, bh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
        mask = np.zeros((bh, bw), dtype=np.uint8)
        cv2.fillConvexPoly(mask, np.int32(np.round(dst - np.float32([x, y]))), 1)
        region = out[y : y + bh, x : x + bw]
        region[mask == 1] = patch[mask == 1]
    return out


def _head_points(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 68 landmarks plus forehead points, and a rough depth for each:
    the face as half an ellipsoid with the nose standing out."""
    centre = landmarks.mean(axis=0)
    half_width = (landmarks[16, 0] - landmarks[0, 0]) / 2
    brow = landmarks[17:27]
    nose_length = landmarks[30, 1] - landmarks[27, 1]
    forehead = brow - np.array([0, 0.9 * nose_length])
    points = np.vstack([landmarks, forehead])
    x_norm = np.clip((points[:, 0] - centre[0]) / (half_width * 1.05), -1, 1)
    depth = half_width * 0.75 * np.sqrt(1 - x_norm**2)
    nose_extra = {27: 0.08, 28: 0.15, 29: 0.24, 30: 0.34, 31: 0.14, 32: 0.2, 33: 0.24, 34: 0.2, 35: 0.14}
    for i, extra in nose_extra.items():
        depth[i] += extra * half_width
    depth[36:48] -= 0.06 * half_width
    return points, depth


def rotate_head(rgb: np.ndarray, landmarks: np.ndarray, *, yaw: float = 0.0, pitch: float = 0.0) -> np.ndarray:
    """The face turned by ``yaw`` degrees (positive: towards the image's
    right, which is the person's own left on an unmirrored camera) and
    tilted by ``pitch`` degrees (positive: looking up)."""
    points, depth = _head_points(landmarks)
    centre = landmarks.mean(axis=0)
    a, b = np.radians(yaw), np.radians(pitch)
    x = points[:, 0] - centre[0]
    y = points[:, 1] - centre[1]
    z = depth
    # yaw about the vertical axis, then pitch about the horizontal one
    x1 = x * np.cos(a) + z * np.sin(a)
    z1 = -x * np.sin(a) + z * np.cos(a)
    y1 = y * np.cos(b) - z1 * np.sin(b)
    target = np.stack([x1 + centre[0], y1 + centre[1]], axis=1)
    h, w = rgb.shape[:2]
    # A fixed ring around the head and the frame's corners keep the
    # background still.
    half_width = (landmarks[16, 0] - landmarks[0, 0]) / 2
    ring = [centre + 1.9 * half_width * np.array([np.cos(t), 1.15 * np.sin(t)]) for t in np.linspace(0, 2 * np.pi, 16,
                                                                                                    endpoint=False)]
    corners = [(0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1), (w / 2, 0), (w / 2, h - 1), (0, h / 2), (w - 1, h / 2)]
    fixed = np.array(list(ring) + corners, dtype=float)
    source = np.vstack([points, fixed])
    target = np.vstack([target, fixed])
    return warp_points(rgb, source, target)


def close_eyes(rgb: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """Paint both eyes shut: skin from just below the eye over the eye, and
    a dark lash line where the lids meet."""
    import cv2

    out = rgb.copy()
    for eye in (landmarks[36:42], landmarks[42:48]):
        centre = eye.mean(axis=0)
        eye_w = np.linalg.norm(eye[3] - eye[0])
        polygon = centre + (eye - centre) * np.array([1.25, 1.9])
        # skin from the cheek at the height of the nose, below any glasses rim
        sample_y = int(landmarks[30, 1])
        sample_x = int(centre[0])
        patch = rgb[max(0, sample_y - 3) : sample_y + 4, max(0, sample_x - 6) : sample_x + 7].reshape(-1, 3)
        skin = np.median(patch, axis=0)
        mask = np.zeros(rgb.shape[:2], dtype=np.uint8)
        cv2.fillPoly(mask, [np.int32(np.round(polygon))], 255)
        mask = cv2.GaussianBlur(mask, (0, 0), max(1.0, eye_w * 0.08)).astype(float)[..., None] / 255
        lid = (np.zeros_like(out) + skin.astype(np.uint8))
        # keep a little of the texture so it is not a flat sticker
        lid = np.clip(lid.astype(float) * 0.9 + out.astype(float) * 0.1, 0, 255)
        out = (out * (1 - mask) + lid * mask).astype(np.uint8)
        lash = np.int32(np.round([eye[0], centre + np.array([0, 0.12 * eye_w]), eye[3]]))
        cv2.polylines(out, [lash], False, (40, 30, 30), max(1, round(eye_w * 0.06)), cv2.LINE_AA)
    return out


def zoom(rgb: np.ndarray, factor: float, centre=None) -> np.ndarray:
    """The camera moved closer by ``factor`` (1.3 = everything 30 % larger)."""
    import cv2

    h, w = rgb.shape[:2]
    cx, cy = centre if centre is not None else (w / 2, h / 2)
    matrix = np.float32([[factor, 0, cx - factor * cx], [0, factor, cy - factor * cy]])
    return cv2.warpAffine(rgb, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


FRAMES_PER_ACTION = 5


def challenge_frames(base: np.ndarray, action: str, *, seed: int = 0, frames: int = FRAMES_PER_ACTION,
                     amount: float | None = None) -> list[np.ndarray]:
    """Frames of a customer doing ``action`` in front of the camera, from
    one base frame: the movement builds up and returns, sensor noise differs
    per frame. ``amount`` is degrees for turns and nods, a zoom factor for
    moving closer."""
    from workflows.checks.faces import detect_faces

    faces = detect_faces(base)
    if not faces:
        raise ValueError("no face in the base frame")
    landmarks = faces[0].landmarks
    profile = [0.0, 0.5, 1.0, 1.0, 0.5, 0.2, 0.0][:frames] if frames <= 7 else list(np.linspace(0, 1, frames))
    if frames == 5:
        profile = [0.0, 0.5, 1.0, 1.0, 0.4]
    out = []
    for index, share in enumerate(profile):
        if action == "turn_left":
            image = rotate_head(base, landmarks, yaw=share * (amount or 22))
        elif action == "turn_right":
            image = rotate_head(base, landmarks, yaw=-share * (amount or 22))
        elif action == "look_up":
            image = rotate_head(base, landmarks, pitch=share * (amount or 18))
        elif action == "blink":
            image = close_eyes(base, landmarks) if share >= 1.0 else base
        elif action == "move_closer":
            factor = 1 + ((amount or 1.35) - 1) * (index / max(1, len(profile) - 1))
            image = zoom(base, factor, centre=landmarks.mean(axis=0))
        elif action == "still":
            image = base
        else:
            raise ValueError(action)
        out.append(sensor_noise(image, seed * 100 + index))
    return out


def still_replay(base: np.ndarray, count: int = FRAMES_PER_ACTION) -> list[np.ndarray]:
    """The same picture, byte for byte, in every frame: a photo or a frozen
    video played to the camera path."""
    return [base.copy() for _ in range(count)]
