"""PUT .../recordings/<id>/chunks/<n>: each chunk is checked against the
SHA-256 the page sent before anything is stored, stored once per number, and
refused with a clear JSON error when it is corrupt, too large or out of range."""

import hashlib
import os

import pytest

from sessions_app.models import RecordingChunk
from tests.console.helpers import evidence_files
from tests.recording.helpers import (
    customer_stream,
    error_code,
    finish,
    put_chunk,
    start,
    status,
)


@pytest.fixture
def recording(alice, answered_call):
    response = start(alice, answered_call.session, customer_stream(answered_call.participant))
    assert response.status_code == 201, response.content
    return response.json()["recording"]


def test_chunks_arriving_out_of_order_are_all_kept_in_their_numbers(alice, answered_call, recording):
    parts = [os.urandom(1000 + i) for i in range(4)]
    for index in (2, 0, 3, 1):
        assert put_chunk(alice, answered_call.session, recording, index, parts[index]).status_code == 201

    stored = RecordingChunk.objects.filter(recording__public_id=recording).order_by("index")
    assert [chunk.index for chunk in stored] == [0, 1, 2, 3]
    assert [chunk.file.open("rb").read() for chunk in stored] == parts
    assert status(alice, answered_call.session, recording).json()["chunks"] == [0, 1, 2, 3]


def test_a_chunk_uploaded_twice_is_stored_once(alice, answered_call, recording, settings):
    data = os.urandom(2048)
    first = put_chunk(alice, answered_call.session, recording, 0, data)
    again = put_chunk(alice, answered_call.session, recording, 0, data)

    assert first.status_code == 201 and first.json()["duplicate"] is False
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert again.json()["sha256"] == hashlib.sha256(data).hexdigest()
    assert RecordingChunk.objects.filter(recording__public_id=recording).count() == 1
    assert len(evidence_files(settings)) == 1


def test_other_bytes_under_a_stored_number_are_refused(alice, answered_call, recording):
    original = os.urandom(512)
    put_chunk(alice, answered_call.session, recording, 0, original)

    response = put_chunk(alice, answered_call.session, recording, 0, os.urandom(512))

    assert response.status_code == 409
    assert error_code(response) == "chunk_conflict"
    assert RecordingChunk.objects.get(recording__public_id=recording, index=0).file.open("rb").read() == original


def test_a_corrupt_chunk_is_refused_and_nothing_is_stored(alice, answered_call, recording, settings):
    data = os.urandom(4096)
    damaged = data[:100] + bytes([data[100] ^ 0xFF]) + data[101:]

    response = put_chunk(alice, answered_call.session, recording, 0, damaged, sha256=hashlib.sha256(data).hexdigest())

    assert response.status_code == 422
    assert error_code(response) == "checksum_mismatch"
    assert "SHA-256" in response.json()["error"]["message"]
    assert not RecordingChunk.objects.exists()
    assert evidence_files(settings) == []
    # Sent again intact, it is stored.
    assert put_chunk(alice, answered_call.session, recording, 0, data).status_code == 201


@pytest.mark.parametrize("claimed", ["", "abc", "z" * 64])
def test_a_chunk_without_a_proper_checksum_is_refused(alice, answered_call, recording, claimed):
    response = put_chunk(alice, answered_call.session, recording, 0, b"data", sha256=claimed)

    assert response.status_code == 400
    assert error_code(response) == "invalid_checksum"


def test_an_oversized_chunk_is_refused_before_it_is_read(alice, answered_call, recording, settings):
    settings.RECORDING_MAX_CHUNK_BYTES = 1000

    response = put_chunk(alice, answered_call.session, recording, 0, os.urandom(1001))

    assert response.status_code == 413
    assert error_code(response) == "chunk_too_large"
    assert "1000 bytes" in response.json()["error"]["message"]
    assert not RecordingChunk.objects.exists()
    assert put_chunk(alice, answered_call.session, recording, 0, os.urandom(1000)).status_code == 201


def test_an_oversized_chunk_without_a_length_header_is_refused_too(answered_call, recording, settings):
    """The cap holds on the bytes read, not only on what the request declares."""
    from sessions_app import recordings
    from sessions_app.models import Recording

    settings.RECORDING_MAX_CHUNK_BYTES = 1000
    with pytest.raises(recordings.RecordingRejected) as refused:
        recordings.recording_chunk_store(
            recording=Recording.objects.get(public_id=recording), index=0, sha256="0" * 64, data=b"x" * 1001
        )
    assert refused.value.code == "chunk_too_large" and refused.value.status == 413


def test_an_empty_chunk_is_refused(alice, answered_call, recording):
    response = put_chunk(alice, answered_call.session, recording, 0, b"")

    assert response.status_code == 400
    assert error_code(response) == "empty_chunk"


def test_chunk_numbers_beyond_the_limit_are_refused(alice, answered_call, recording, settings):
    settings.RECORDING_MAX_CHUNKS_PER_SEGMENT = 10

    response = put_chunk(alice, answered_call.session, recording, 10, b"late")

    assert response.status_code == 400
    assert error_code(response) == "out_of_range"


def test_chunk_numbers_beyond_a_finished_segment_are_refused(alice, answered_call, recording):
    put_chunk(alice, answered_call.session, recording, 0, b"first")
    put_chunk(alice, answered_call.session, recording, 1, b"second")
    assert finish(alice, answered_call.session, recording, 2).status_code == 200

    response = put_chunk(alice, answered_call.session, recording, 2, b"third")

    assert response.status_code == 409
    assert error_code(response) == "out_of_range"
    # A late retry of a chunk inside the segment is still fine.
    assert put_chunk(alice, answered_call.session, recording, 1, b"second").status_code == 200


def test_a_segment_cannot_be_finished_with_fewer_chunks_than_stored(alice, answered_call, recording):
    for index in range(3):
        put_chunk(alice, answered_call.session, recording, index, b"part %d" % index)

    response = finish(alice, answered_call.session, recording, 2)

    assert response.status_code == 409
    assert error_code(response) == "out_of_range"
    assert finish(alice, answered_call.session, recording, 3).status_code == 200
    assert finish(alice, answered_call.session, recording, 3).status_code == 200  # a retried finish
    assert error_code(finish(alice, answered_call.session, recording, 4)) == "chunk_count_conflict"


def test_chunks_of_a_malformed_request_get_json_errors(alice, answered_call, recording):
    response = alice.post(
        f"/console/calls/{answered_call.session.public_id.hex}/recordings/{recording}/finish", {"chunks": "many"}
    )
    assert response.status_code == 400
    assert error_code(response) == "invalid"
    assert alice.get(f"/console/calls/{answered_call.session.public_id.hex}/recordings/{recording}/chunks/0").status_code == 405
