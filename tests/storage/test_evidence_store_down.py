"""The object store down in the middle of an upload loses nothing: the
upload that meets it is answered 503 (the operator's page keeps the chunk
and sends it again, static/js/recorder.js retries every 5xx), nothing is
recorded as stored, and once the store is back the retry completes the
recording bit for bit. The store is a real S3 server (moto) on loopback,
stopped and started again on the same port."""

import pytest

from sessions_app import recordings
from sessions_app.audit import Actor
from sessions_app.models import Evidence, RecordingChunk
from sessions_app.services import session_end
from tests.console import images
from tests.console.helpers import customer_capture_url, upload
from tests.evidence_stores import use_s3_store
from tests.recording.helpers import error_code, finish, put_chunk, split, start


@pytest.fixture
def s3_store(settings, moto_s3):
    store = use_s3_store(settings, moto_s3)
    settings.EVIDENCE_S3_TIMEOUT_SECONDS = 1
    yield store
    moto_s3.stop()  # idempotent: a test that failed with the store down
    moto_s3.start()


def test_a_chunk_sent_while_the_store_is_down_is_refused_with_503_and_stored_on_retry(
    alice, answered_call, webm_media, s3_store, moto_s3, django_capture_on_commit_callbacks
):
    session = answered_call.session
    original = webm_media.operator.read_bytes()
    parts = split(original, 4)
    recording = start(alice, session, "operator").json()["recording"]
    assert put_chunk(alice, session, recording, 0, parts[0]).status_code == 201
    assert put_chunk(alice, session, recording, 1, parts[1]).status_code == 201

    moto_s3.stop()
    refused = put_chunk(alice, session, recording, 2, parts[2])
    assert refused.status_code == 503
    assert error_code(refused) == "storage_unavailable"
    assert not RecordingChunk.objects.filter(recording__public_id=recording, index=2).exists()

    moto_s3.start()
    assert put_chunk(alice, session, recording, 2, parts[2]).status_code == 201
    assert put_chunk(alice, session, recording, 3, parts[3]).status_code == 201
    finish(alice, session, recording, 4)
    with django_capture_on_commit_callbacks(execute=True):
        session_end(session=session, actor=Actor.system(), reason="test")

    segment = Evidence.objects.get(session=session, source=Evidence.Source.OPERATOR_VIEW)
    with segment.file.open("rb") as stored:
        assert stored.read() == original
    assert recordings.composed_recording(session) is not None


def test_a_capture_sent_while_the_store_is_down_is_refused_with_503_and_kept_on_retry(
    customer, document_capture, s3_store, moto_s3, settings
):
    settings.CHECKS_EMBEDDED_MODE = "off"
    jpeg = images.jpeg()
    moto_s3.stop()
    refused = upload(customer, customer_capture_url(document_capture.public_id.hex), jpeg)
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "storage_unavailable"
    assert not Evidence.objects.filter(capture=document_capture).exists()

    moto_s3.start()
    assert upload(customer, customer_capture_url(document_capture.public_id.hex), jpeg).status_code == 201
    assert Evidence.objects.filter(capture=document_capture).count() == 1
