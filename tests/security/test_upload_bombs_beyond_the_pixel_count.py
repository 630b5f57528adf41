"""Uploads: what tests/console does not cover already (pixel-count bombs,
JPEG polyglots, size and type limits are there). A PNG can also be a bomb
in its metadata, a compressed text or colour-profile chunk that inflates to
gigabytes while the picture is tiny, and a PNG can carry a ZIP or HTML after
its end. sessions_app.images.image_sanitize refuses the first quickly and
keeps nothing of the second."""

import functools
import io
import time
import zlib

import pytest
from PIL import Image

from sessions_app.images import InvalidImage, image_sanitize
from tests.console import images

INFLATED = 64 * 1024 * 1024  # 64 MB of zeros, ~64 KB compressed: 64 times what Pillow allows a chunk


@functools.lru_cache
def _bomb_chunk(kind: bytes) -> bytes:
    compressor = zlib.compressobj(9)
    block = b"\0" * (1024 * 1024)
    compressed = b"".join(compressor.compress(block) for _ in range(INFLATED // len(block))) + compressor.flush()
    if kind == b"zTXt":
        body = b"Comment\0\0" + compressed
    else:  # iCCP: profile name, NUL, compression method, data
        body = b"icc\0\0" + compressed
    return images.png_chunk(kind, body)


def _png_with_chunk(chunk: bytes, *, before_pixels: bool) -> bytes:
    picture = images.png(width=320, height=240)
    header_end = 8 + 25  # signature + IHDR
    iend = picture.rindex(b"IEND") - 4
    if before_pixels:
        return picture[:header_end] + chunk + picture[header_end:]
    return picture[:iend] + chunk + picture[iend:]


@pytest.mark.parametrize("kind", [b"zTXt", b"iCCP"], ids=["text_chunk", "colour_profile"])
@pytest.mark.parametrize("before_pixels", [True, False], ids=["before_pixels", "after_pixels"])
def test_a_metadata_bomb_is_refused_quickly_without_inflating_it(kind, before_pixels):
    data = _png_with_chunk(_bomb_chunk(kind), before_pixels=before_pixels)
    assert len(data) < 2 * 1024 * 1024

    started = time.monotonic()
    with pytest.raises(InvalidImage) as refused:
        image_sanitize(data)
    # Pillow stops inflating a chunk past 1 MB (PngImagePlugin.MAX_TEXT_CHUNK); our
    # code turns its error into "corrupt".
    assert refused.value.code == "corrupt"
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("tail", [images.zip_archive(), images.HTML_TAIL], ids=["zip", "html"])
def test_a_png_polyglot_is_stored_as_a_fresh_jpeg_without_its_tail(tail):
    clean = image_sanitize(images.png(width=320, height=240) + tail)

    assert clean.content_type == "image/jpeg"
    assert tail not in clean.data and b"PK\x03\x04" not in clean.data and b"<script" not in clean.data
    with Image.open(io.BytesIO(clean.data)) as stored:
        assert stored.format == "JPEG"
