"""The server's own view of capture integrity: is the picture the customer's
camera sends the same picture over and over?

Two pictures are "the same" when their perceptual hashes (pHash, imagehash)
are within ``MAX_HASH_DISTANCE`` bits and their small greyscale versions
differ by less than ``MAX_MEAN_DIFFERENCE`` grey levels on average. The hash
alone would call two frames of a person sitting still the same; a real
camera's sensor noise keeps the pixel difference above the bound (figures
below, and in the README). A replayed photo or looped video frame re-encoded as JPEG stays
below it.

What it cannot tell: a replay with noise added, a video of the customer
moving, or anything that changes from frame to frame. It only catches the
same frames sent again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

MAX_HASH_DISTANCE = 2
# Grey levels, compared at 640×480: the same frame JPEG-encoded twice
# differs by 0; two frames of the test suite's synthetic webcam (a still face
# with faint sensor noise, tests/checks/testdata.live_frame) by 1.3; the same
# frame re-encoded at another JPEG quality by 1.2. Downscaled further the
# noise averages away (0.12 at 64×64), and a still person would look replayed.
MAX_MEAN_DIFFERENCE = 0.5
_COMPARED = (640, 480)


@dataclass(frozen=True)
class Fingerprint:
    phash: object  # imagehash.ImageHash
    small: np.ndarray  # 640×480 grey, float32

    def same_as(self, other: "Fingerprint") -> bool:
        if self.phash - other.phash > MAX_HASH_DISTANCE:
            return False
        return float(np.abs(self.small - other.small).mean()) < MAX_MEAN_DIFFERENCE


def fingerprint(picture) -> Fingerprint | None:
    """A decoded RGB picture (numpy array or PIL image); None when it is not one."""
    import imagehash

    try:
        image = picture if isinstance(picture, Image.Image) else Image.fromarray(np.asarray(picture))
    except (TypeError, ValueError):
        return None
    grey = image.convert("L")
    return Fingerprint(
        phash=imagehash.phash(grey),
        small=np.asarray(grey.resize(_COMPARED, Image.Resampling.BILINEAR), dtype=np.float32),
    )


def still_burst(prints: list[Fingerprint]) -> bool:
    """Every frame of a movement burst the same picture: nothing moved."""
    return len(prints) >= 2 and all(a.same_as(b) for a, b in zip(prints, prints[1:]))


def same_pairs(prints: list[Fingerprint]) -> int:
    return sum(1 for i, a in enumerate(prints) for b in prints[i + 1:] if a.same_as(b))
