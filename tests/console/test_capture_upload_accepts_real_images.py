"""A real JPEG, PNG or WebP answers a capture (201) on the customer's and the
operator's endpoint, and what is stored is a fresh JPEG made from its pixels,
with the SHA-256 of exactly the stored bytes."""

import hashlib
import io

import pytest
from PIL import Image

from sessions_app.models import Evidence
from tests.console import images
from tests.console.helpers import evidence_of, stored_bytes

MADE = {"JPEG": images.jpeg, "PNG": images.png, "WEBP": images.webp}


@pytest.mark.parametrize("fmt", sorted(MADE))
def test_real_image_is_accepted_and_stored_as_jpeg(fmt, uploader, document_capture):
    upload_bytes = MADE[fmt](width=640, height=480)

    response = uploader.send(document_capture, upload_bytes, name=f"capture.{fmt.lower()}")

    assert response.status_code == 201, response.content
    evidence = evidence_of(response)
    assert evidence.source == uploader.source
    assert evidence.capture_id == document_capture.pk
    assert evidence.kind == Evidence.Kind.DOCUMENT_FRONT
    assert evidence.content_type == "image/jpeg"
    data = stored_bytes(evidence)
    assert data != upload_bytes
    with Image.open(io.BytesIO(data)) as stored:
        assert stored.format == "JPEG"
        assert stored.size == (640, 480)
        red, green, blue = stored.convert("RGB").resize((1, 1)).getpixel((0, 0))
    assert abs(red - images.COLOUR[0]) < 8 and abs(green - images.COLOUR[1]) < 8 and abs(blue - images.COLOUR[2]) < 8


def test_sha256_and_size_describe_the_stored_bytes(uploader, document_capture):
    response = uploader.send(document_capture, images.png(width=800, height=600))

    evidence = evidence_of(response)
    data = stored_bytes(evidence)
    assert evidence.sha256 == hashlib.sha256(data).hexdigest()
    assert response.json()["sha256"] == evidence.sha256
    assert evidence.size == len(data)
    assert (evidence.width, evidence.height) == (800, 600)


def test_a_portrait_image_keeps_its_width_and_height_apart(uploader, document_capture):
    response = uploader.send(document_capture, images.jpeg(width=240, height=500))

    evidence = evidence_of(response)
    assert (evidence.width, evidence.height) == (240, 500)


def test_the_declared_content_type_does_not_matter_for_a_real_image(uploader, document_capture):
    """Sniffed, not trusted: a real PNG sent as application/octet-stream is still a PNG."""
    response = uploader.send(document_capture, images.png(), name="blob", content_type="application/octet-stream")

    assert response.status_code == 201
