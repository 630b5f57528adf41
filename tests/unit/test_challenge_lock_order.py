"""An operator challenge racing the other writes of the same participant: it
locks session, then participant (sessions_app.locks) like them, so the second
waits for the first instead of deadlocking on PostgreSQL, and what it sees
after the wait is the first one's result."""

import pytest

from sessions_app.audit import audit_verify_chain
from sessions_app.models import Evidence
from tests.console import images
from tests.unit.lock_races import run_while_the_session_is_held
from workflows import services as workflow_services
from workflows.challenges import CHALLENGE_BURST_FRAMES
from workflows.models import CaptureRequest


@pytest.mark.django_db(transaction=True)
def test_a_capture_request_waits_for_a_challenge_and_then_replaces_it(answered_call, operator_a, business_a, monkeypatch):
    participant = answered_call.participant
    step = participant.steps.get(kind="document")

    outcomes = run_while_the_session_is_held(
        monkeypatch,
        holder=("challenge", lambda: workflow_services.challenge_request(
            participant=participant, operator=operator_a, code="cover_half_face"
        ) and "asked"),
        waiter=("capture", lambda: workflow_services.capture_request_create(
            step=step, operator=operator_a, kind=Evidence.Kind.DOCUMENT_FRONT
        ) and "requested"),
    )

    assert outcomes == {"challenge": "asked", "capture": "requested"}
    participant.refresh_from_db()
    # The challenge interrupted nothing: its instruction went with it.
    assert participant.current_prompt is None
    assert list(CaptureRequest.objects.filter(participant=participant, state="requested").values_list("kind", flat=True)) == [
        "document_front"
    ]
    assert audit_verify_chain(business=business_a) == []


@pytest.mark.django_db(transaction=True)
def test_a_challenge_asked_as_the_last_burst_completes_interrupts_the_instruction_it_gave_back(
    answered_call, operator_a, business_a, monkeypatch
):
    participant = answered_call.participant
    workflow_services.step_start(step=participant.steps.get(kind="liveness"), operator=operator_a)
    action = participant.steps.get(kind="liveness").data["challenge"][0]
    first = workflow_services.challenge_request(participant=participant, operator=operator_a, code="cover_half_face")
    for frame in range(CHALLENGE_BURST_FRAMES - 1):
        workflow_services.evidence_store_image(
            capture=first, source=Evidence.Source.CUSTOMER_DEVICE, data=images.jpeg(), frame_index=frame
        )

    outcomes = run_while_the_session_is_held(
        monkeypatch,
        holder=("last frame", lambda: workflow_services.evidence_store_image(
            capture=first, source=Evidence.Source.CUSTOMER_DEVICE, data=images.jpeg(),
            frame_index=CHALLENGE_BURST_FRAMES - 1,
        ) and "stored"),
        waiter=("challenge", lambda: workflow_services.challenge_request(
            participant=participant, operator=operator_a, code="hand_across_face"
        ).resume_prompt["code"]),
    )

    assert outcomes == {"last frame": "stored", "challenge": action}
    participant.refresh_from_db()
    assert participant.current_prompt["code"] == "hand_across_face"
    assert audit_verify_chain(business=business_a) == []
