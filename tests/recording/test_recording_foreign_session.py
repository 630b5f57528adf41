"""Recordings belong to one call and its operator: nobody else may add to
them, read their state, or slip a chunk into another session's recording."""

import os

import pytest

from sessions_app.models import Recording, RecordingChunk
from sessions_app.services import session_assign_operator
from tests.conftest import create_call
from tests.console.helpers import customer_joins
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
    return start(alice, answered_call.session, customer_stream(answered_call.participant)).json()["recording"]


@pytest.fixture
def alices_other_call(business_a, workflow_a, operator_a):
    """A second call Alice answered: her own, but not the recording's."""
    session, links = create_call(business_a, workflow_a, names=("Erika Musterfrau",))
    customer_joins(links[0][0])
    session_assign_operator(session_id=session.pk, operator=operator_a)
    return session


def test_operator_of_another_business_cannot_touch_the_recording(bob, answered_call, recording):
    session = answered_call.session
    for response in (
        put_chunk(bob, session, recording, 0, b"forged"),
        status(bob, session, recording),
        finish(bob, session, recording, 1),
        start(bob, session, "operator"),
    ):
        assert response.status_code == 404
        assert error_code(response) == "unknown_session"
    assert not RecordingChunk.objects.exists()


def test_colleague_not_on_the_call_cannot_record_it(anton, answered_call, recording):
    assert put_chunk(anton, answered_call.session, recording, 0, b"forged").status_code == 404
    assert start(anton, answered_call.session, "operator").status_code == 404
    assert not RecordingChunk.objects.exists()


def test_a_chunk_sent_through_another_session_of_the_same_operator_is_refused(alice, answered_call, recording, alices_other_call):
    response = put_chunk(alice, alices_other_call, recording, 0, b"misrouted")

    assert response.status_code == 404
    assert error_code(response) == "unknown_recording"
    assert not RecordingChunk.objects.exists()


def test_a_recording_id_of_another_session_cannot_be_reused_to_start(alice, answered_call, recording, alices_other_call):
    response = start(alice, alices_other_call, "operator", recording_id=recording)

    assert response.status_code == 404
    assert error_code(response) == "unknown_recording"
    assert Recording.objects.count() == 1


def test_a_participant_of_another_session_is_no_stream_of_this_one(alice, answered_call, other_call):
    response = start(alice, answered_call.session, customer_stream(other_call.participant))

    assert response.status_code == 400
    assert error_code(response) == "unknown_stream"


@pytest.mark.parametrize("who", ["customer", "oscar", "anonymous"])
def test_people_who_are_not_operators_get_no_upload(request, who, answered_call, recording):
    client = request.getfixturevalue(who)
    response = put_chunk(client, answered_call.session, recording, 0, os.urandom(64))

    assert response.status_code in (302, 403)  # the login page, or "not an operator"
    assert not RecordingChunk.objects.exists()
