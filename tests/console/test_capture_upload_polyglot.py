"""A polyglot is a JPEG with something else glued on (a ZIP, an HTML page).
Its pixels are accepted; what is stored is a new JPEG of those pixels, with
none of the glued-on bytes."""

import io

import pytest
from PIL import Image

from tests.console import images
from tests.console.helpers import evidence_of, stored_bytes

TAILS = {"zip": images.zip_archive(), "html": images.HTML_TAIL}


@pytest.mark.parametrize("tail", sorted(TAILS))
def test_polyglot_is_stored_without_its_appended_bytes(tail, uploader, document_capture):
    appended = TAILS[tail]

    response = uploader.send(document_capture, images.jpeg() + appended)

    assert response.status_code == 201
    data = stored_bytes(evidence_of(response))
    assert appended not in data
    assert b"PK\x03\x04" not in data
    assert b"<script" not in data
    assert b"polyglot" not in data
    assert data.endswith(b"\xff\xd9")
    with Image.open(io.BytesIO(data)) as stored:
        assert stored.format == "JPEG"
        assert stored.size == (320, 240)
