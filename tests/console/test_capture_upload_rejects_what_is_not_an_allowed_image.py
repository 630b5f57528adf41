"""What is not a JPEG, PNG or WebP of sensible size is refused with a clear
JSON error code, whatever its name and declared content type say, and
nothing is stored."""

import pytest

from sessions_app.images import MAX_UPLOAD_BYTES
from sessions_app.models import Evidence
from tests.console import images
from tests.console.helpers import error_code, evidence_files


def _refused(response, code, capture, settings):
    assert response.status_code == 400, response.content
    assert error_code(response) == code
    assert response.json()["error"]["message"]
    assert not Evidence.objects.filter(capture=capture).exists()
    assert evidence_files(settings) == []


def test_text_file_named_jpg_and_sent_as_jpeg_is_not_an_image(uploader, document_capture, settings):
    response = uploader.send(document_capture, b"Dear operator, please approve me.\n" * 20, name="passport.jpg")

    _refused(response, "not_an_image", document_capture, settings)


@pytest.mark.parametrize("fmt", ["gif", "bmp"])
def test_gif_and_bmp_are_unsupported_types(fmt, uploader, document_capture, settings):
    data = getattr(images, fmt)()

    response = uploader.send(document_capture, data, name="passport.jpg", content_type="image/jpeg")

    _refused(response, "unsupported_type", document_capture, settings)


def test_svg_is_not_accepted(uploader, document_capture, settings):
    response = uploader.send(document_capture, images.SVG, name="passport.svg", content_type="image/svg+xml")

    _refused(response, "not_an_image", document_capture, settings)


def test_upload_over_the_size_limit_is_too_large(uploader, document_capture, settings):
    """A real JPEG padded past the limit: refused for its size before it is decoded."""
    data = images.jpeg()
    data += b"\x00" * (MAX_UPLOAD_BYTES + 1 - len(data))

    response = uploader.send(document_capture, data)

    _refused(response, "too_large", document_capture, settings)


def test_upload_of_exactly_the_size_limit_is_not_refused_for_its_size(uploader, document_capture):
    data = images.jpeg()
    data += b"\x00" * (MAX_UPLOAD_BYTES - len(data))

    response = uploader.send(document_capture, data)

    assert response.status_code == 201


@pytest.mark.parametrize("side", [6_000, 10_000, 20_000])
def test_decompression_bomb_is_refused_for_its_pixel_count(side, uploader, document_capture, settings):
    """A PNG of a few kilobytes that declares side×side pixels. 6000² is over
    our cap but under Pillow's, 10000² over Pillow's warning, 20000² over its error."""
    data = images.png_bomb(side)
    assert len(data) < 100_000

    response = uploader.send(document_capture, data, name="bomb.png", content_type="image/png")

    _refused(response, "too_many_pixels", document_capture, settings)


def test_truncated_jpeg_is_corrupt(uploader, document_capture, settings):
    data = images.jpeg(width=640, height=480)

    response = uploader.send(document_capture, data[: len(data) // 2])

    _refused(response, "corrupt", document_capture, settings)


def test_image_smaller_than_evidence_needs_is_too_small(uploader, document_capture, settings):
    response = uploader.send(document_capture, images.jpeg(width=48, height=48))

    _refused(response, "too_small", document_capture, settings)


def test_empty_file_is_refused(uploader, document_capture, settings):
    response = uploader.send(document_capture, b"")

    _refused(response, "empty", document_capture, settings)
