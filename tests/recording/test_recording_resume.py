"""A dropped connection loses nothing and stores nothing twice: the page asks
which chunks the server holds, sends the rest, and the assembled file is
exactly the bytes the recorder produced."""

import hashlib

import pytest

from sessions_app import recordings
from sessions_app.audit import Actor
from sessions_app.models import Evidence, Recording, RecordingChunk
from sessions_app.services import session_end
from tests.console.helpers import evidence_files
from tests.recording.helpers import (
    customer_stream,
    finish,
    put_chunk,
    split,
    start,
    status,
)


class DroppedConnection(Exception):
    pass


def test_resume_after_a_dropped_connection_sends_only_what_is_missing(alice, answered_call, webm_media, settings, django_capture_on_commit_callbacks):
    session = answered_call.session
    recording = start(alice, session, customer_stream(answered_call.participant)).json()["recording"]
    produced = webm_media.customer.read_bytes()
    chunks = split(produced, 8)
    sent = []

    def upload(index):
        response = put_chunk(alice, session, recording, index, chunks[index])
        assert response.status_code in (200, 201), response.content
        sent.append(index)

    for index in range(3):
        upload(index)
    # Chunk 3 reaches the server, but the answer is lost with the connection;
    # chunks 4 and 5 never leave the page.
    upload(3)
    unacknowledged = [3, 4, 5]
    # Back online: the page asks what the server holds and resends the rest.
    held = set(status(alice, session, recording).json()["chunks"])
    assert held == {0, 1, 2, 3}
    for index in [i for i in unacknowledged if i not in held] + [6, 7]:
        upload(index)
    # A retry of an acknowledged chunk after all (a page that did not ask) is harmless.
    assert put_chunk(alice, session, recording, 3, chunks[3]).json()["duplicate"] is True
    assert finish(alice, session, recording, len(chunks)).status_code == 200

    stored = RecordingChunk.objects.filter(recording__public_id=recording)
    assert sorted(stored.values_list("index", flat=True)) == list(range(8))  # nothing lost, nothing twice
    assert len(evidence_files(settings)) == 8

    with django_capture_on_commit_callbacks(execute=True):
        session_end(session=session, actor=Actor.operator(answered_call.session.operator), reason="test")
    segment = Recording.objects.get(public_id=recording)
    evidence = segment.evidence
    assert evidence is not None
    with evidence.file.open("rb") as assembled:
        assert assembled.read() == produced
    assert evidence.sha256 == hashlib.sha256(produced).hexdigest()
    assert segment.verification["contiguous"] is True
    # The chunk files went once their bytes were in the segment's file.
    assert not RecordingChunk.objects.exclude(file="").exists()


def test_a_crashed_page_loses_only_what_it_had_not_sent_and_goes_on_in_a_new_segment(alice, answered_call, webm_media, django_capture_on_commit_callbacks):
    session = answered_call.session
    stream = customer_stream(answered_call.participant)
    first = start(alice, session, stream).json()["recording"]
    produced = webm_media.customer.read_bytes()
    chunks = split(produced, 6)
    for index in range(5):  # the last chunk dies with the browser
        put_chunk(alice, session, first, index, chunks[index])
    # The operator comes back: the reloaded page starts the next segment.
    second = start(alice, session, stream)
    assert second.json()["segment"] == 2
    assert Recording.objects.get(public_id=first).state == Recording.State.INTERRUPTED
    data = webm_media.operator.read_bytes()
    assert put_chunk(alice, session, second.json()["recording"], 0, data).status_code == 201
    finish(alice, session, second.json()["recording"], 1)

    with django_capture_on_commit_callbacks(execute=True):
        session_end(session=session, actor=Actor.system(), reason="test")

    interrupted = Recording.objects.get(public_id=first)
    assert interrupted.evidence.size == sum(len(c) for c in chunks[:5])
    assert interrupted.verification["missing_count"] == 0  # it never said it had more
    assert recordings.composed_recording(session) is not None
    assert Evidence.objects.filter(session=session, kind=Evidence.Kind.RECORDING).count() == 3


def test_a_gap_in_the_chunks_is_assembled_around_and_reported(alice, answered_call, webm_media, django_capture_on_commit_callbacks):
    session = answered_call.session
    recording = start(alice, session, "operator").json()["recording"]
    chunks = split(webm_media.operator.read_bytes(), 5)
    for index in (0, 1, 3, 4):
        put_chunk(alice, session, recording, index, chunks[index])
    finish(alice, session, recording, 5)

    with django_capture_on_commit_callbacks(execute=True):
        session_end(session=session, actor=Actor.system(), reason="test")
    # Chunk 2 never arrived: the composition waits for it until the grace ends.
    assert recordings.recording_compose_session(session_id=session.pk) == recordings.WAITING
    assert recordings.recording_compose_session(session_id=session.pk, force=True) == recordings.COMPOSED

    segment = Recording.objects.get(public_id=recording)
    assert segment.verification["missing"] == [2]
    assert segment.verification["contiguous"] is False
    from sessions_app.models import AuditEvent

    stored = AuditEvent.objects.get(session=session, action="recording.segment_stored")
    assert stored.data["missing_count"] == 1 and stored.data["contiguous"] is False


@pytest.mark.parametrize("retries", [1, 3])
def test_start_retried_after_a_lost_answer_is_one_segment(alice, answered_call, retries):
    import uuid

    recording_id = str(uuid.uuid4())
    answers = [start(alice, answered_call.session, "operator", recording_id=recording_id) for _ in range(retries + 1)]

    assert {a.status_code for a in answers} == {201}
    assert {a.json()["segment"] for a in answers} == {1}
    assert Recording.objects.count() == 1
