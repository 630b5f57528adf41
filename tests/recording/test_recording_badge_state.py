"""Every participant's screen shows that the call is recorded: the flag is in
the state both pages are pushed, on while a segment records, off once every
segment finished or the call ended."""

from sessions_app.audit import Actor
from sessions_app.selectors import call_state_for_customer, call_state_for_operator
from sessions_app.services import session_end
from tests.recording.helpers import customer_stream, finish, start


def _flags(call):
    return (
        call_state_for_customer(participant_id=call.participant.pk)["session"]["recording"],
        call_state_for_operator(session_id=call.session.pk)["session"]["recording"],
    )


def test_no_badge_before_the_operators_page_records(answered_call):
    assert _flags(answered_call) == (False, False)


def test_badge_on_both_screens_while_recording(alice, answered_call):
    version = answered_call.session.state_version
    start(alice, answered_call.session, customer_stream(answered_call.participant))

    assert _flags(answered_call) == (True, True)
    answered_call.session.refresh_from_db()
    assert answered_call.session.state_version > version  # pushed to the pages


def test_badge_off_when_every_segment_finished(alice, answered_call):
    recording = start(alice, answered_call.session, "operator").json()["recording"]
    finish(alice, answered_call.session, recording, 0)

    assert _flags(answered_call) == (False, False)


def test_badge_off_once_the_call_ended(alice, answered_call):
    start(alice, answered_call.session, "operator")
    session_end(session=answered_call.session, actor=Actor.system(), reason="test")

    assert _flags(answered_call) == (False, False)
