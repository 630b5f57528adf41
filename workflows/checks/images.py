"""Turning whatever a caller has (bytes of a JPEG, a path, a Pillow image, an
array) into the one form every engine works on: an RGB uint8 numpy array."""

from __future__ import annotations

import io
import os

import numpy as np
from PIL import Image, ImageOps

# A decompression bomb is refused before it reaches a native engine.
MAX_PIXELS = 40_000_000


def load_rgb(image) -> np.ndarray:
    if isinstance(image, np.ndarray):
        array = image
        if array.ndim == 2:
            array = np.stack([array] * 3, axis=-1)
        if array.ndim != 3 or array.shape[2] not in (3, 4):
            raise ValueError(f"expected an RGB image, got shape {array.shape}")
        if array.shape[2] == 4:
            array = array[:, :, :3]
        if array.dtype != np.uint8:
            array = np.clip(array, 0, 255).astype(np.uint8)
        return np.ascontiguousarray(array)
    if isinstance(image, (bytes, bytearray, memoryview)):
        picture = Image.open(io.BytesIO(bytes(image)))
    elif isinstance(image, (str, os.PathLike)):
        picture = Image.open(image)
    elif isinstance(image, Image.Image):
        picture = image
    elif hasattr(image, "read"):
        picture = Image.open(image)
    else:
        raise TypeError(f"cannot read an image from {type(image).__name__}")
    if picture.width * picture.height > MAX_PIXELS:
        raise ValueError(f"image of {picture.width}x{picture.height} pixels is too large to check")
    # Phone cameras store the orientation apart from the pixels.
    picture = ImageOps.exif_transpose(picture)
    return np.ascontiguousarray(np.asarray(picture.convert("RGB")))


def to_gray(rgb: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
