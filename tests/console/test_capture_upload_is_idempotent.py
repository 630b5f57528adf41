"""A page that retries an upload (a lost response, a reconnect) sends the same
capture, source and frame twice: it is stored once, and the retry is told
about the evidence already stored."""

from sessions_app.models import Evidence
from tests.console import images
from tests.console.helpers import evidence_files


def test_second_upload_of_the_same_capture_and_source_returns_the_first_evidence(uploader, document_capture, settings):
    first = uploader.send(document_capture, images.jpeg(colour=(10, 200, 10)))
    second = uploader.send(document_capture, images.jpeg(colour=(10, 10, 200)))

    assert first.status_code == 201 and second.status_code == 201
    assert second.json() == first.json()
    assert Evidence.objects.filter(capture=document_capture, source=uploader.source).count() == 1
    assert len(evidence_files(settings)) == 1


def test_customer_and_operator_frames_of_one_capture_are_both_kept(
    customer, alice, answered_call, document_capture, settings
):
    from tests.console.helpers import customer_capture_url, operator_capture_url, upload

    from_customer = upload(customer, customer_capture_url(document_capture.public_id.hex), images.jpeg())
    from_operator = upload(
        alice, operator_capture_url(answered_call.session, document_capture.public_id.hex), images.jpeg()
    )

    assert from_customer.status_code == 201 and from_operator.status_code == 201
    assert from_customer.json()["evidence"] != from_operator.json()["evidence"]
    assert set(Evidence.objects.filter(capture=document_capture).values_list("source", flat=True)) == {
        Evidence.Source.CUSTOMER_DEVICE,
        Evidence.Source.OPERATOR_VIEW,
    }
    assert len(evidence_files(settings)) == 2
