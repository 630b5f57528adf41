"""A phone's photo carries EXIF: camera, description, GPS position. None of
it survives into the stored evidence, only the pixels."""

import io

from PIL import Image

from tests.console import images
from tests.console.helpers import evidence_of, stored_bytes


def test_uploaded_jpeg_has_gps_exif_to_begin_with():
    with Image.open(io.BytesIO(images.jpeg_with_gps_exif())) as upload:
        exif = upload.getexif()
        assert exif[0x010F] == "PhoneMaker"
        assert exif.get_ifd(0x8825)[1] == "N"


def test_stored_capture_has_no_exif_and_no_gps(uploader, document_capture):
    response = uploader.send(document_capture, images.jpeg_with_gps_exif())

    assert response.status_code == 201
    data = stored_bytes(evidence_of(response))
    with Image.open(io.BytesIO(data)) as stored:
        assert dict(stored.getexif()) == {}
        assert stored.getexif().get_ifd(0x8825) == {}
        assert "exif" not in stored.info
    assert b"Exif" not in data
    assert b"PhoneMaker" not in data
    assert b"secret-description" not in data
