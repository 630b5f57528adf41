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
    LOOKALIKE_PAIRS,
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
        # The detector at the image's own scale (capped), not with its short
        # side stretched to 736 px: a zone crop is a strip about 150 px high,
        # which the default would blow up sixfold. A 1280x720 capture keeps
        # about the scale it had (1280x704 instead of 1312x736).
        "Det.limit_type": "max",
        "Det.limit_side_len": 1344,
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


def _crop(rgb: np.ndarray, box: np.ndarray, scale: float = 1.0) -> np.ndarray:
    import cv2

    box = np.float32(box)
    width = int(round(scale * max(np.linalg.norm(box[0] - box[1]), np.linalg.norm(box[3] - box[2]))))
    height = int(round(scale * max(np.linalg.norm(box[0] - box[3]), np.linalg.norm(box[1] - box[2]))))
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
            text, score, chars, peaks = _decode(probabilities, characters)
            # where each character sits in the crop: the model's steps cover
            # the padded input evenly, and the input is the crop at 48 px high
            step = batch.shape[-1] / len(probabilities) * h / model_h
            centres = [(peak + 0.5) * step for peak in peaks]
            out.append((text, score, shape_doubts(crop, chars, centres)))
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


def _decode(probabilities: np.ndarray, characters: list[str]) -> tuple[str, float, list[Char], list[int]]:
    """Greedy CTC decoding that keeps, for each character, the probability
    mass of every MRZ character at its most confident step (and that step)."""
    best = probabilities.argmax(axis=1)
    chars: list[Char] = []
    peaks: list[int] = []
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
            peaks.append(peak)
            confidences.append(float(row[index]))
        t = end + 1
    text = "".join(c.char for c in chars)
    return text, float(np.mean(confidences)) if confidences else 0.0, chars, peaks


# The weight given to the other reading of a look-alike pair when the
# glyph's own shape says it may be the other one: a faint doubt, which the
# parsing weighs only where two check digits cover the place.
SHAPE_DOUBT = 0.01
# A line's digits and capitals must differ in height by this share for the
# height to say anything (in the OCR-B drawn here digits are ~8 % taller).
MIN_HEIGHT_GAP = 0.04


def _ink_heights(crop: np.ndarray, centres: list[float]) -> list[float | None]:
    """The height of the print around each character's place: the longest
    run of rows holding ink in a window one character wide."""
    import cv2

    grey = crop if crop.ndim == 2 else cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    _, ink = cv2.threshold(grey.astype(np.uint8), 0, 1, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    pitch = float(np.median(np.diff(centres))) if len(centres) > 1 else grey.shape[0] / 2
    heights: list[float | None] = []
    for x in centres:
        a, b = int(round(x - 0.35 * pitch)), int(round(x + 0.35 * pitch)) + 1
        window = ink[:, max(a, 0) : max(b, 1)]
        if window.size == 0:
            heights.append(None)
            continue
        rows = window.sum(axis=1) >= max(1, 0.12 * window.shape[1])
        best = run = 0
        for on in rows:
            run = run + 1 if on else 0
            best = max(best, run)
        heights.append(float(best) if best else None)
    return heights


def shape_doubts(crop: np.ndarray, chars: list[Char], centres: list[float]) -> list[Char]:
    """Give the other reading of a look-alike pair some weight where the
    glyph's height is that of the line's capitals while a digit was read (or
    the other way round). Only a doubt: the check digits decide, and only
    among readings the OCR or the print itself left open. A line whose
    digits and capitals are the same height (another font) gets none."""
    if len(chars) != len(centres) or len(chars) < 8:
        return chars
    heights = _ink_heights(crop, centres)
    digits = [h for c, h in zip(chars, heights) if h and c.char.isdigit() and c.char not in LOOKALIKE_PAIRS]
    letters = [h for c, h in zip(chars, heights)
               if h and c.char.isalpha() and c.char not in LOOKALIKE_PAIRS and c.char not in "CEK"]
    if len(digits) < 2 or len(letters) < 2:
        return chars
    digit_h, letter_h = float(np.median(digits)), float(np.median(letters))
    gap = digit_h - letter_h
    if gap < MIN_HEIGHT_GAP * digit_h:
        return chars
    out = []
    for c, h in zip(chars, heights):
        other = LOOKALIKE_PAIRS.get(c.char)
        weighed = dict(c.alternatives)
        if other and h and weighed.get(other, 0.0) < SHAPE_DOUBT:
            looks_other = h <= letter_h + 0.4 * gap if c.char.isdigit() else h >= digit_h - 0.4 * gap
            if looks_other:
                weighed[other] = SHAPE_DOUBT
                c = Char(c.char, tuple(sorted(weighed.items(), key=lambda kv: -kv[1])))
        out.append(c)
    return out


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


def looks_like_mrz(text: str) -> bool:
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
    rows = [row for row in _merge_rows(lines) if looks_like_mrz(row.text)]
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


# --- finding the zone before reading anything ------------------------------

# The cheap search works on the grey image at this width: the zone's
# characters are then about 9 px apart and 12 px high on a 1280x720 capture
# of a page filling most of the frame.
ZONE_WORK_WIDTH = 640
# A line of the zone is long and flat; at the work width it is at least this
# share of the image wide (a TD1 card a third of the frame wide still is).
ZONE_MIN_LINE_SHARE = 0.12
ZONE_MIN_LINE_ASPECT = 5.0
# The zone's characters are read best at about this height in pixels: a
# small or distant zone is enlarged to it before the OCR sees it.
ZONE_CHAR_HEIGHT = 28


@dataclass(eq=False)
class _Bar:
    centre: np.ndarray
    length: float
    height: float
    angle: float  # degrees, in (-90, 90]


def _dark_text_bars(grey: np.ndarray) -> list[_Bar]:
    """Runs of dark print on a light ground, joined along the line: the
    black-hat keeps strokes thinner than the kernel, the horizontal
    gradient keeps text (many edges across) over rules and borders."""
    import cv2

    blackhat = cv2.morphologyEx(grey, cv2.MORPH_BLACKHAT, cv2.getStructuringElement(cv2.MORPH_RECT, (15, 7)))
    gradient = np.abs(cv2.Sobel(blackhat, cv2.CV_32F, 1, 0, ksize=3))
    gradient = cv2.normalize(gradient, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    joined = cv2.morphologyEx(gradient, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (11, 1)))
    _, mask = cv2.threshold(joined, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 1)))
    # cut the thin bridges blur leaves between two lines of print
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, 3)))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    bars = []
    for contour in contours:
        (cx, cy), (w, h), angle = cv2.minAreaRect(contour)
        if w < h:
            w, h, angle = h, w, angle + 90
        angle = (angle + 90) % 180 - 90
        if h < 2 or w / h < ZONE_MIN_LINE_ASPECT or w < ZONE_MIN_LINE_SHARE * grey.shape[1]:
            continue
        bars.append(_Bar(np.array([cx, cy]), float(w), float(h), float(angle)))
    return bars


def find_zone(rgb: np.ndarray) -> tuple[np.ndarray, float] | None:
    """Where the machine-readable zone probably is, without the OCR: the
    corners of a box around it (clockwise from top-left along its lines, in
    the image's pixels) and its line height; None when nothing looks like it.

    The zone's lines are the longest runs of print on the page (ICAO puts
    them across the whole width): the longest bar and the bars beside it,
    along its direction, within a few line heights. Which way up the page is
    the reading decides (read_mrz turns the crop over when needed).
    """
    import cv2

    h, w = rgb.shape[:2]
    scale = min(1.0, ZONE_WORK_WIDTH / w)
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if scale < 1.0:
        grey = cv2.resize(grey, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    bars = _dark_text_bars(grey)
    if not bars:
        return None
    longest = max(bars, key=lambda bar: bar.length)
    theta = np.radians(longest.angle)
    along = np.array([np.cos(theta), np.sin(theta)])
    across = np.array([-np.sin(theta), np.cos(theta)])
    row_height = min(longest.height, 2.5 * np.median([b.height for b in bars]))
    peers = [
        bar for bar in bars
        if bar.length >= 0.25 * longest.length and abs(bar.angle - longest.angle) <= 4
        and abs(along @ (bar.centre - longest.centre)) <= 0.6 * longest.length
    ]
    peers.sort(key=lambda bar: across @ bar.centre)
    index = next(i for i, bar in enumerate(peers) if bar is longest)
    low, high = index, index
    while low > 0 and across @ (peers[low].centre - peers[low - 1].centre) <= 2.6 * row_height:
        low -= 1
    while high + 1 < len(peers) and across @ (peers[high + 1].centre - peers[high].centre) <= 2.6 * row_height:
        high += 1
    rows = peers[low : high + 1]
    # A glare or a fold cuts a line in pieces: every piece between the
    # zone's first and last line belongs to it, however short.
    top, bottom = (across @ rows[0].centre) - 0.5 * row_height, (across @ rows[-1].centre) + 0.5 * row_height
    rows += [bar for bar in bars if all(bar is not row for row in rows) and abs(bar.angle - longest.angle) <= 4
             and top <= across @ bar.centre <= bottom]
    corners = []
    for bar in rows:
        for sa in (-0.5, 0.5):
            for sc in (-0.5, 0.5):
                corners.append(bar.centre + sa * bar.length * along + sc * bar.height * across)
    corners = np.array(corners)
    a, c = corners @ along, corners @ across
    line_height = float(np.median([bar.height for bar in peers[low : high + 1]]))  # the whole lines
    pad_a, pad_c = 2.0 * line_height, 1.6 * line_height
    a0, a1, c0, c1 = a.min() - pad_a, a.max() + pad_a, c.min() - pad_c, c.max() + pad_c
    box = np.array([a0 * along + c0 * across, a1 * along + c0 * across,
                    a1 * along + c1 * across, a0 * along + c1 * across]) / scale
    return box, line_height / scale


def zone_crop(rgb: np.ndarray, box: np.ndarray, line_height: float) -> np.ndarray:
    """The zone cut out along its own direction, enlarged when its print is
    small (the recogniser reads 48 px high lines; the detector needs the
    strokes a few pixels thick)."""
    zoom = max(1.0, min(3.0, ZONE_CHAR_HEIGHT / max(line_height, 1.0)))
    return _crop(rgb, box, scale=zoom)


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
