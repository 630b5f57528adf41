"""The operator's notes are saved as they type: each save replaces the text,
is stored at once, and outlives a reload and the end of the call."""

from datetime import timedelta

from django.utils import timezone

from sessions_app.audit import Actor
from sessions_app.models import VerificationSession
from sessions_app.selectors import call_state_for_operator
from sessions_app.services import session_end
from tests.console.helpers import step_post
from workflows.models import StepState
from workflows.services import MAX_NOTES_CHARS


def _notes(alice, call, text):
    return step_post(alice, call.session, call.participant, "notes", "notes", text=text)


def _notes_step(call):
    return call.participant.steps.get(kind="notes")


def test_notes_are_saved_and_mark_the_step_in_progress(alice, answered_call):
    response = _notes(alice, answered_call, "Customer wears glasses; asked to remove them.")

    assert response.status_code == 200
    step = _notes_step(answered_call)
    assert step.data == {"text": "Customer wears glasses; asked to remove them."}
    assert step.state == StepState.State.IN_PROGRESS


def test_each_save_replaces_the_text_and_bumps_the_version(alice, answered_call):
    _notes(alice, answered_call, "Customer wears")
    session = VerificationSession.objects.get(pk=answered_call.session.pk)
    version = session.state_version

    _notes(alice, answered_call, "Customer wears glasses")

    assert _notes_step(answered_call).data["text"] == "Customer wears glasses"
    session.refresh_from_db()
    assert session.state_version > version


def test_notes_are_kept_for_the_operators_next_load(alice, answered_call):
    _notes(alice, answered_call, "Lighting poor at first, fixed.")

    state = call_state_for_operator(session_id=answered_call.session.pk)

    notes = next(s for s in state["participants"][0]["steps"] if s["kind"] == "notes")
    assert notes["data"]["text"] == "Lighting poor at first, fixed."


def test_clearing_the_notes_is_saved_too(alice, answered_call):
    _notes(alice, answered_call, "typo")

    _notes(alice, answered_call, "")

    assert _notes_step(answered_call).data["text"] == ""


def test_overlong_notes_are_cut_to_the_limit(alice, answered_call):
    _notes(alice, answered_call, "n" * (MAX_NOTES_CHARS + 10))

    assert len(_notes_step(answered_call).data["text"]) == MAX_NOTES_CHARS


def test_notes_can_be_finished_right_after_the_call_ended(alice, answered_call):
    session_end(session=answered_call.session, actor=Actor.customer(), reason="left")

    response = _notes(alice, answered_call, "Customer hung up during liveness.")

    assert response.status_code == 200
    assert _notes_step(answered_call).data["text"] == "Customer hung up during liveness."


def test_notes_close_an_hour_after_the_call(alice, answered_call):
    _notes(alice, answered_call, "Written during the call.")
    session_end(session=answered_call.session, actor=Actor.customer(), reason="left")
    VerificationSession.objects.filter(pk=answered_call.session.pk).update(
        ended_at=timezone.now() - timedelta(hours=1, minutes=1)
    )

    response = _notes(alice, answered_call, "Rewritten the next day.")

    assert response.status_code == 409
    assert _notes_step(answered_call).data["text"] == "Written during the call."


def test_notes_action_on_a_step_that_is_not_notes_is_refused(alice, answered_call):
    response = step_post(alice, answered_call.session, answered_call.participant, "document", "notes", text="x")

    assert response.status_code == 409
    assert "text" not in answered_call.participant.steps.get(kind="document").data
