"""Finding and reading the machine-readable zone's lines in an image.

The text comes from RapidOCR's PP-OCR models (they ship inside the
``rapidocr`` wheel; nothing is downloaded), run without the angle
classifier: it flipped MRZ lines upside down on this kind of input. Its
recognition model is run directly to keep each character's second
readings, which the parsing's checksum repair weighs.

Between the judgement (mrz) and the parsing (mrz_parse): it imports the
parsing to tell MRZ lines by their characters and layout, never the
judgement. Plain Python on numpy arrays: no Django.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from workflows.checks.mrz_parse import (
    ALPHABET,
    FILLER,
    TD1,
    TD2,
    TD3,
    Char,
    clean_char,
    clean_line,
    guess_layout,
    lengths_fit,
    text_of,
)


@functools.lru_cache(maxsize=1)
def ocr_engine():
    """One RapidOCR per process: loading the ONNX models takes a while."""
    from rapidocr import RapidOCR

    # One inference thread: onnxruntime's default pool of one thread per
    # core spins while it waits, which doubled the CPU of a reading on two
    # cores for no result (a worker runs one check per process; its other
    # processes use the other cores). The readings are the same.
    return RapidOCR(params={
        "Global.use_cls": False,
        "Global.log_level": "warning",
        "EngineConfig.onnxruntime.intra_op_num_threads": 1,
        "EngineConfig.onnxruntime.inter_op_num_threads": 1,
    })


@dataclass
class TextLine:
    text: str
    score: float
    box: np.ndarray  # 4x2 corners, clockwise from top-left
    chars: list[Char] | None = None

    @property
    def angle(self) -> float:
        (x0, y0), (x1, y1) = self.box[0], self.box[1]
        return float(np.degrees(np.arctan2(y1 - y0, x1 - x0)))

    @property
    def height(self) -> float:
        return float(np.linalg.norm(self.box[3] - self.box[0]))

    @property
    def length(self) -> float:
        return float(np.linalg.norm(self.box[1] - self.box[0]))

    @property
    def centre(self) -> np.ndarray:
        return self.box.mean(axis=0)


# A printed MRZ line, or a piece of one the detector cut off, is long and
# flat; the printed fields of the page mostly are not. Only these are read.
MIN_LINE_ASPECT = 6.0


def detect_text(rgb: np.ndarray) -> list[np.ndarray]:
    result = ocr_engine()(rgb, use_det=True, use_cls=False, use_rec=False)
    if result is None or getattr(result, "boxes", None) is None:
        return []
    return [np.asarray(box, dtype=float) for box in result.boxes]


def _crop(rgb: np.ndarray, box: np.ndarray) -> np.ndarray:
    import cv2

    box = np.float32(box)
    width = int(round(max(np.linalg.norm(box[0] - box[1]), np.linalg.norm(box[3] - box[2]))))
    height = int(round(max(np.linalg.norm(box[0] - box[3]), np.linalg.norm(box[1] - box[2]))))
    target = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    matrix = cv2.getPerspectiveTransform(box, target)
    return cv2.warpPerspective(rgb, matrix, (max(width, 1), max(height, 1)), flags=cv2.INTER_CUBIC,
                               borderMode=cv2.BORDER_REPLICATE)


def recognise(crops: list[np.ndarray]) -> list[tuple[str, float, list[Char] | None]]:
    """Text of line images, with each character's alternatives.

    Runs RapidOCR's recognition model directly to keep its per-character
    probabilities (its public result keeps only the line's mean). Those are
    internals of the pinned release: if they move, the public call is used
    and the repair falls back to the fixed look-alikes.
    """
    engine = ocr_engine()
    try:
        recogniser = engine.text_rec or engine._load_rec_model()
        characters = recogniser.postprocess_op.character
        out = []
        for crop in crops:
            h, w = crop.shape[:2]
            _, model_h, model_w = recogniser.rec_image_shape
            ratio = max(w / max(h, 1), model_w / model_h)
            batch = recogniser.resize_norm_img(crop, ratio)[np.newaxis].astype(np.float32)
            probabilities = recogniser.session(batch)[0]
            out.append(_decode(probabilities, characters))
        return out
    except (AttributeError, TypeError, IndexError, ValueError):
        result = engine(crops[0], use_det=False, use_cls=False, use_rec=True) if len(crops) == 1 else None
        if result is None:
            out = []
            for crop in crops:
                single = engine(crop, use_det=False, use_cls=False, use_rec=True)
                out.append((single.txts[0] if single.txts else "", float(single.scores[0]) if single.scores else 0.0,
                            None))
            return out
        return [(result.txts[0] if result.txts else "", float(result.scores[0]) if result.scores else 0.0, None)]


def _decode(probabilities: np.ndarray, characters: list[str]) -> tuple[str, float, list[Char]]:
    """Greedy CTC decoding that keeps, for each character, the probability
    mass of every MRZ character at its most confident step."""
    best = probabilities.argmax(axis=1)
    chars: list[Char] = []
    confidences = []
    t = 0
    steps = len(best)
    while t < steps:
        index = best[t]
        end = t
        while end + 1 < steps and best[end + 1] == index:
            end += 1
        if index != 0 and index < len(characters):
            peak = t + int(probabilities[t : end + 1, index].argmax())
            row = probabilities[peak]
            mass: dict[str, float] = {}
            for k in np.argsort(row)[::-1][:8]:
                if k == 0 or k >= len(characters):
                    continue
                char = clean_char(characters[k]) if characters[k].strip() else " "
                mass[char] = mass.get(char, 0.0) + float(row[k])
            char = clean_char(characters[index]) if characters[index].strip() else " "
            alternatives = tuple(
                (other, round(p, 4)) for other, p in sorted(mass.items(), key=lambda kv: -kv[1])
                if other != char and other not in (" ", "?")
            )
            chars.append(Char(characters[index] if char == "?" else char, alternatives))
            confidences.append(float(row[index]))
        t = end + 1
    text = "".join(c.char for c in chars)
    return text, float(np.mean(confidences)) if confidences else 0.0, chars


def _long_flat_boxes(rgb: np.ndarray) -> list[np.ndarray]:
    boxes = []
    for box in detect_text(rgb):
        length = np.linalg.norm(box[1] - box[0])
        height = np.linalg.norm(box[3] - box[0])
        if height > 0 and length / height >= MIN_LINE_ASPECT:
            boxes.append(box)
    return boxes


def ocr_lines(rgb: np.ndarray) -> list[TextLine]:
    """The long, flat text lines of an image, read."""
    boxes = _long_flat_boxes(rgb)
    if not boxes:
        return []
    readings = recognise([_crop(rgb, box) for box in boxes])
    return [TextLine(text, score, box, chars) for (text, score, chars), box in zip(readings, boxes)]


def read_mrz_lines(rgb: np.ndarray) -> tuple[list[TextLine], list[TextLine] | None]:
    """The text lines read and the MRZ's rows among them (find_mrz_lines).

    Reading a line costs about as much as finding every line of the page,
    and the zone is the page's bottom-most run of rows: the lines are read
    from the bottom up, and reading stops at the first line above a zone
    already found. find_mrz_lines keeps the lowest zone, which lines above
    it cannot change; without a zone, every line is read, as ocr_lines does.
    """
    boxes = _long_flat_boxes(rgb)
    if not boxes:
        return [], None
    # "Up" along the page's own tilt: the median direction of the lines.
    angles = [np.degrees(np.arctan2(b[1][1] - b[0][1], b[1][0] - b[0][0])) for b in boxes]
    theta = np.radians(-float(np.median(angles)))
    down = np.array([np.sin(theta), np.cos(theta)])  # the second row of the rotation

    def height_of(box: np.ndarray) -> float:
        return float(down @ box.mean(axis=0))

    order = sorted(range(len(boxes)), key=lambda i: -height_of(boxes[i]))
    read: dict[int, TextLine] = {}
    group = None
    for position, index in enumerate(order):
        text, score, chars = recognise([_crop(rgb, boxes[index])])[0]
        read[index] = TextLine(text, score, boxes[index], chars)
        lines = [read[i] for i in sorted(read)]
        group = find_mrz_lines(lines)
        if group is None or position + 1 == len(order):
            continue
        top = min(height_of(row.box) for row in group)
        if height_of(boxes[order[position + 1]]) < top - 0.5 * max(row.height for row in group):
            break
    return [read[i] for i in sorted(read)], group


def _looks_like_mrz(text: str) -> bool:
    cleaned = text_of(clean_line(text))
    if len(cleaned) < 12:
        return False
    return sum(c in ALPHABET for c in cleaned) / len(cleaned) >= 0.85


def _merge_rows(lines: list[TextLine]) -> list[TextLine]:
    """Join pieces of one printed line that the detector cut apart, in the
    line's own direction (a tilted photo tilts the rows)."""
    if not lines:
        return []
    long_angles = [line.angle for line in lines if len(line.text) >= 10]
    angle = float(np.median(long_angles)) if long_angles else 0.0
    theta = np.radians(-angle)
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    placed = sorted(((rotation @ line.centre, line) for line in lines), key=lambda item: item[0][1])
    rows: list[list[tuple[np.ndarray, TextLine]]] = []
    for centre, line in placed:
        if rows:
            row_y = np.mean([c[1] for c, _ in rows[-1]])
            row_h = np.mean([ln.height for _, ln in rows[-1]])
            if abs(centre[1] - row_y) < 0.5 * max(row_h, line.height):
                rows[-1].append((centre, line))
                continue
        rows.append([(centre, line)])
    merged = []
    for row in rows:
        row.sort(key=lambda item: item[0][0])
        pieces = [line for _, line in row]
        if len(pieces) == 1:
            merged.append(pieces[0])
            continue
        box = np.array([pieces[0].box[0], pieces[-1].box[1], pieces[-1].box[2], pieces[0].box[3]])
        chars = None
        if all(piece.chars is not None for piece in pieces):
            chars = [c for piece in pieces for c in piece.chars]
        merged.append(TextLine("".join(p.text for p in pieces), float(min(p.score for p in pieces)), box, chars))
    return merged


def find_mrz_lines(lines: list[TextLine]) -> list[TextLine] | None:
    """The bottom-most run of 2 or 3 consecutive MRZ-like rows of one layout."""
    rows = [row for row in _merge_rows(lines) if _looks_like_mrz(row.text)]
    best = None
    for start in range(len(rows)):
        for layout in (TD1, TD3, TD2):
            count = layout.lines
            group = rows[start : start + count]
            if len(group) < count:
                continue
            texts = [text_of(clean_line(row.text)) for row in group]
            if guess_layout([len(text) for text in texts]) is not layout:
                continue
            if not lengths_fit([len(text) for text in texts], layout):
                continue
            if not any(FILLER in text for text in texts):
                continue
            gaps = [np.linalg.norm(group[i + 1].centre - group[i].centre) for i in range(count - 1)]
            if any(gap > 3 * group[0].height for gap in gaps):
                continue
            best = group  # later (lower) groups win
            break
    return best


def rotate(rgb: np.ndarray, degrees: float) -> np.ndarray:
    """The image turned about its centre, enlarged so that no corner is cut off."""
    import cv2

    h, w = rgb.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    new_w, new_h = int(h * sin + w * cos), int(h * cos + w * sin)
    matrix[0, 2] += new_w / 2 - w / 2
    matrix[1, 2] += new_h / 2 - h / 2
    return cv2.warpAffine(rgb, matrix, (new_w, new_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
