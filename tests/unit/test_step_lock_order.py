"""An operator's capture request while another service holds the session.

Every service locks the session, then the participant, then the step. The
capture request used to lock its step joined to participant and session in
one FOR UPDATE, which on PostgreSQL takes those rows in the plan's order: with
a prompt (session, then participant) under way, each held what the other
waited for, and PostgreSQL aborted one with "deadlock detected" (seen in a
browser test on PostgreSQL). Now the second simply waits for the first.
"""

import pytest

from sessions_app import services
from sessions_app.audit import Actor, audit_verify_chain
from sessions_app.models import Evidence
from workflows import services as workflow_services
from tests.unit.lock_races import run_while_the_session_is_held
from workflows.models import CaptureRequest

@pytest.mark.django_db(transaction=True)
def test_capture_request_while_a_prompt_holds_the_session_never_deadlocks(answered_call, operator_a, business_a, monkeypatch):
    participant = answered_call.participant
    step = participant.steps.get(kind="document")
    outcomes = run_while_the_session_is_held(
        monkeypatch,
        holder=("prompt", lambda: services.participant_set_prompt(
            participant=participant, prompt={"code": "document_front"}, actor=Actor.operator(operator_a)
        ) and "shown"),
        waiter=("capture", lambda: workflow_services.capture_request_create(
            step=step, operator=operator_a, kind=Evidence.Kind.DOCUMENT_FRONT
        ) and "requested"),
    )

    assert outcomes == {"prompt": "shown", "capture": "requested"}
    participant.refresh_from_db()
    assert participant.current_prompt["code"] == "document_front"
    assert CaptureRequest.objects.filter(participant=participant, state=CaptureRequest.State.REQUESTED).count() == 1
    assert audit_verify_chain(business=business_a) == []
