"""Malformed capture uploads get a clear JSON error, never a 500: no file,
a capture that does not exist, a frame number the capture does not have."""

import uuid

import pytest

from sessions_app.models import Evidence
from tests.console import images
from tests.console.helpers import customer_capture_url, error_code


def test_upload_without_the_image_field_is_refused(uploader, document_capture):
    response = uploader.browser.post(uploader.url(document_capture.public_id.hex), {"picture": "nothing"})

    assert response.status_code == 400
    assert error_code(response) == "missing_file"
    assert not Evidence.objects.filter(capture=document_capture).exists()


@pytest.mark.parametrize("capture_id", [uuid.uuid4().hex, "not-a-uuid", "1"])
def test_upload_to_a_capture_that_does_not_exist_is_404(capture_id, uploader, document_capture):
    response = uploader.send(capture_id, images.jpeg())

    assert response.status_code == 404
    assert error_code(response) == "unknown_capture"
    assert not Evidence.objects.exists()


@pytest.mark.parametrize("frame", ["1", "-1", "5"])
def test_customer_frame_index_outside_a_single_still_is_refused(frame, customer, document_capture):
    response = customer.post(
        customer_capture_url(document_capture.public_id.hex),
        {"image": _jpeg_file(), "frame": frame},
    )

    assert response.status_code == 409
    assert error_code(response) == "rejected"
    assert not Evidence.objects.filter(capture=document_capture).exists()


def test_customer_frame_index_that_is_not_a_number_is_refused(customer, document_capture):
    response = customer.post(
        customer_capture_url(document_capture.public_id.hex), {"image": _jpeg_file(), "frame": "first"}
    )

    assert response.status_code == 400
    assert error_code(response) == "invalid"
    assert not Evidence.objects.filter(capture=document_capture).exists()


def test_upload_by_get_is_not_allowed(uploader, document_capture):
    response = uploader.browser.get(uploader.url(document_capture.public_id.hex))

    assert response.status_code == 405


def _jpeg_file():
    from tests.console.helpers import image_file

    return image_file(images.jpeg())
