"""Uploaded images are untrusted: sniff what they really are, cap their size
and pixel count, and store a fresh re-encoding (no EXIF, no trailing bytes
of a polyglot, nothing the browser sent but the pixels)."""

import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from PIL import Image, UnidentifiedImageError

MAX_UPLOAD_BYTES = settings.CAPTURE_MAX_BYTES  # also the request cap of the upload route (kyc/body_limits.py)
MAX_PIXELS = 24_000_000  # a 6000×4000 photo; far above any webcam
MIN_SIDE = 64
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP"}
STORED_CONTENT_TYPE = "image/jpeg"
JPEG_QUALITY = 92


class InvalidImage(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    content_type: str
    width: int
    height: int


def image_sanitize(data: bytes) -> CleanImage:
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidImage("too_large", f"Images are limited to {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
    if not data:
        raise InvalidImage("empty", "The file is empty.")
    with warnings.catch_warnings():
        # Pillow only warns between MAX_IMAGE_PIXELS and twice that: a
        # decompression bomb must be an error at any size above our cap.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as probe:
                image_format = probe.format
                width, height = probe.size
                if image_format not in ALLOWED_FORMATS:
                    raise InvalidImage("unsupported_type", "Only JPEG, PNG and WebP images are accepted.")
                if width * height > MAX_PIXELS:
                    raise InvalidImage("too_many_pixels", "The image has too many pixels.")
                if min(width, height) < MIN_SIDE:
                    raise InvalidImage("too_small", "The image is too small to be evidence.")
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                rgb = image.convert("RGB")
        except InvalidImage:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            # Pillow refuses these at open, before our own pixel check runs:
            # the same answer, not "not an image".
            raise InvalidImage("too_many_pixels", "The image has too many pixels.") from exc
        except UnidentifiedImageError as exc:
            raise InvalidImage("not_an_image", "The file is not an image we can read.") from exc
        except (OSError, SyntaxError, ValueError) as exc:
            raise InvalidImage("corrupt", "The image is damaged.") from exc
    out = io.BytesIO()
    rgb.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return CleanImage(data=out.getvalue(), content_type=STORED_CONTENT_TYPE, width=rgb.width, height=rgb.height)
