"""Is a capture good enough to check at all?

Four plain measures, each with a reason a person understands and advice the
operator can give during the call:

- resolution: the short side in pixels;
- blur: the variance of the Laplacian of the grey image, on a copy scaled
  down to at most 1000 px wide (so a larger camera is not rewarded for its
  size; never scaled up, which would blur it);
- brightness: the mean grey level;
- glare (documents): the share of blown-out pixels, where a reflection on the
  laminate hides print.

Thresholds were set on generated captures (bench/checks_accuracy.py): a sharp
synthetic document scores a Laplacian variance of 390-770, the same blurred
with a 2 px Gaussian 14-17; a webcam-like face frame 50-160, blurred with
3 px 3-5.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workflows.checks.images import load_rgb, to_gray
from workflows.checks.results import (
    NEEDS_REVIEW,
    PASSED,
    QUALITY,
    CheckOutcome,
    gettext_noop,
    guarded,
    reason,
)

ENGINE = "opencv"
ENGINE_REVISION = "quality.1"

DOCUMENT = "document"
FACE = "face"


@dataclass(frozen=True)
class Limits:
    min_short_side: int
    min_sharpness: float
    min_brightness: float = 50.0
    max_brightness: float = 215.0
    max_glare_share: float | None = None


LIMITS = {
    DOCUMENT: Limits(min_short_side=480, min_sharpness=60.0, max_glare_share=0.02),
    FACE: Limits(min_short_side=240, min_sharpness=15.0),
}
BLUR_WIDTH = 1000
SATURATED = 245


def engine_version() -> str:
    try:
        import cv2

        return f"{cv2.__version__}+{ENGINE_REVISION}"
    except Exception:  # noqa: BLE001 - informative only
        return f"unknown+{ENGINE_REVISION}"


def sharpness(rgb: np.ndarray) -> float:
    import cv2

    grey = to_gray(rgb)
    h, w = grey.shape
    if w > BLUR_WIDTH:
        grey = cv2.resize(grey, (BLUR_WIDTH, round(h * BLUR_WIDTH / w)), interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def measure(image) -> dict:
    rgb = load_rgb(image)
    h, w = rgb.shape[:2]
    return {
        "width": int(w),
        "height": int(h),
        "sharpness": round(sharpness(rgb), 1),
        "brightness": round(float(to_gray(rgb).mean()), 1),
        "glare_share": round(float((rgb.min(axis=2) >= SATURATED).mean()), 4),
    }


@guarded(QUALITY, ENGINE, engine_version())
def check_quality(image, *, kind: str = DOCUMENT) -> CheckOutcome:
    """passed, or needs_review with what is wrong and how to retake."""
    if kind not in LIMITS:
        raise ValueError(f"unknown capture kind {kind!r}")
    limits = LIMITS[kind]
    measured = measure(image)
    reasons = []
    short_side = min(measured["width"], measured["height"])
    if short_side < limits.min_short_side:
        reasons.append(
            reason("quality.low_resolution",
                   "The capture is %(width)s×%(height)s pixels; at least %(minimum)s on the short side are needed.",
                   gettext_noop("Capture from the customer's camera at full resolution, not from the video.")
                   if kind == DOCUMENT else gettext_noop("Ask the customer to come closer to the camera."),
                   width=measured["width"], height=measured["height"], minimum=limits.min_short_side)
        )
    if measured["sharpness"] < limits.min_sharpness:
        reasons.append(
            reason("quality.blurred", "The capture is blurred (sharpness %(sharpness).0f, at least %(minimum).0f needed).",
                   gettext_noop("Ask the customer to hold still and let the camera focus, then capture again."),
                   sharpness=measured["sharpness"], minimum=limits.min_sharpness)
        )
    if measured["brightness"] < limits.min_brightness:
        reasons.append(
            reason("quality.too_dark", "The capture is too dark (mean brightness %(brightness).0f).",
                   gettext_noop("Ask the customer to turn on a light or face a window, then capture again."),
                   brightness=measured["brightness"])
        )
    elif measured["brightness"] > limits.max_brightness:
        reasons.append(
            reason("quality.overexposed", "The capture is too bright (mean brightness %(brightness).0f).",
                   gettext_noop("Ask the customer to move out of direct light, then capture again."),
                   brightness=measured["brightness"])
        )
    if limits.max_glare_share is not None and measured["glare_share"] > limits.max_glare_share:
        reasons.append(
            reason("quality.glare", "A reflection covers %(share)s %% of the capture.",
                   gettext_noop("Ask the customer to tilt the document slightly away from the light, then capture again."),
                   share=round(measured["glare_share"] * 100))
        )
    criteria = 4 if limits.max_glare_share is not None else 3
    return CheckOutcome(
        kind=QUALITY,
        status=NEEDS_REVIEW if reasons else PASSED,
        score=round(max(0, criteria - len(reasons)) / criteria, 4),
        reasons=reasons,
        details={"capture_kind": kind, **measured},
    )
