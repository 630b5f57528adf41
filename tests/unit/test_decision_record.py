"""operators.services.decision_record: the operator's verdict on one customer."""

import pytest
from django.core.exceptions import ValidationError

from operators.models import Decision
from operators.services import decision_record, recommendation_shown
from sessions_app.audit import Actor
from sessions_app.models import AuditEvent, Evidence, Participant
from sessions_app.services import session_cancel, session_end
from workflows import services as workflow_services
from workflows.models import CaptureRequest, CheckResult

P = Participant.State


def _decide(call, operator, outcome="approve", reason_code="verified"):
    return decision_record(
        participant=call.participant,
        operator=operator,
        outcome=outcome,
        reason_code=reason_code,
        comment="Passport matches.",
        share_with_customer=True,
    )


def _nothing_decided(call, events_before):
    return (
        not Decision.objects.filter(participant=call.participant).exists()
        and AuditEvent.objects.count() == events_before
    )


def test_decision_is_stored_and_the_customer_is_decided(answered_call, operator_a):
    decision = _decide(answered_call, operator_a)
    decision.refresh_from_db()
    assert (decision.outcome, decision.reason_code, decision.operator) == ("approve", "verified", operator_a)
    assert decision.shared_with_customer
    assert Participant.objects.get(pk=answered_call.participant.pk).state == P.DECIDED


def test_decision_writes_the_transition_and_the_decision_to_the_audit_trail(answered_call, operator_a):
    decision = _decide(answered_call, operator_a, outcome="reject", reason_code="face_mismatch")
    events = AuditEvent.objects.filter(participant=answered_call.participant).order_by("sequence")
    move = events.filter(action="participant.transition").last()
    recorded = events.get(action="decision.recorded")
    assert move.sequence < recorded.sequence
    # Between them: the notes step, ended with the decision (skipped: nothing written).
    assert [e.action for e in events.filter(sequence__gt=move.sequence, sequence__lt=recorded.sequence)] == ["step.transition"]
    assert move.data == {
        "from": P.IN_CALL,
        "to": P.DECIDED,
        "outcome": "reject",
        "reason_code": "face_mismatch",
        "shared": True,
    }
    assert recorded.action == "decision.recorded"
    assert recorded.data == {"decision": decision.pk, "outcome": "reject", "reason_code": "face_mismatch"}
    assert recorded.actor_user_id == operator_a.user_id


def test_a_customer_is_decided_only_once(answered_call, operator_a):
    _decide(answered_call, operator_a)
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError):
        _decide(answered_call, operator_a, outcome="reject", reason_code="other")
    assert Decision.objects.get(participant=answered_call.participant).outcome == "approve"
    assert AuditEvent.objects.count() == events


def test_colleague_who_did_not_answer_the_call_cannot_decide(answered_call, operator_a2):
    """Anton works for the same business as Alice, but the call is hers."""
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError):
        _decide(answered_call, operator_a2)
    assert _nothing_decided(answered_call, events)


def test_operator_of_another_business_cannot_decide(answered_call, operator_b):
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError):
        _decide(answered_call, operator_b)
    assert _nothing_decided(answered_call, events)


def test_no_decision_on_a_customer_still_waiting(waiting_call, operator_a):
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError):
        _decide(waiting_call, operator_a)
    assert _nothing_decided(waiting_call, events)
    assert Participant.objects.get(pk=waiting_call.participant.pk).state == P.WAITING


def test_no_decision_after_the_call_ended(answered_call, operator_a):
    session_end(session=answered_call.session, actor=Actor.operator(operator_a))
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError):
        _decide(answered_call, operator_a)
    assert _nothing_decided(answered_call, events)


def test_no_decision_after_the_call_was_cancelled(answered_call, operator_a):
    session_cancel(session=answered_call.session, actor=Actor.api())
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError):
        _decide(answered_call, operator_a)
    assert _nothing_decided(answered_call, events)


@pytest.mark.parametrize(("outcome", "reason_code"), [("maybe", "verified"), ("approve", "looked_fine")])
def test_unknown_outcome_or_reason_is_refused(answered_call, operator_a, outcome, reason_code):
    with pytest.raises(ValidationError):
        _decide(answered_call, operator_a, outcome=outcome, reason_code=reason_code)
    assert Participant.objects.get(pk=answered_call.participant.pk).state == P.IN_CALL


# --- against the system's recommendation ------------------------------------------


def _checked(call, statuses: dict[str, str]) -> None:
    """Set-up only: the customer's face capture, with these check results."""
    step = call.participant.steps.get(kind="document")
    capture = CaptureRequest.objects.create(participant=call.participant, step=step, kind=Evidence.Kind.FACE)
    evidence = Evidence.objects.create(
        session=call.session, participant=call.participant, step=step, capture=capture, kind=Evidence.Kind.FACE,
        source=Evidence.Source.CUSTOMER_DEVICE, file="faces/x.jpg", content_type="image/jpeg", size=1, sha256="0" * 64,
    )
    for kind, status in statuses.items():
        CheckResult.objects.create(
            evidence=evidence, participant=call.participant, kind=kind, status=status, engine="test", engine_version="1"
        )


def _shown(call) -> str | None:
    return recommendation_shown(Participant.objects.get(pk=call.participant.pk))


ALL_PASSED = {"mrz": "passed", "face_match": "passed", "liveness": "passed", "quality": "passed"}


def test_approving_against_a_review_recommendation_needs_a_confirmation_and_a_comment(answered_call, operator_a):
    """Reproduces: approving against the system's "Review" asked nothing."""
    _checked(answered_call, {"mrz": "passed", "face_match": "needs_review"})
    assert _shown(answered_call) == "review"
    events_before = AuditEvent.objects.count()

    for confirmed, comment in ((False, "Looked fine to me."), (True, "  "), (False, "")):
        with pytest.raises(ValidationError, match="The system recommends “Review”. To decide “Approved” against it"):
            decision_record(
                participant=answered_call.participant, operator=operator_a, outcome="approve",
                reason_code="verified", comment=comment, override_confirmed=confirmed,
            )
    assert _nothing_decided(answered_call, events_before)

    decision_record(
        participant=answered_call.participant, operator=operator_a, outcome="approve", reason_code="verified",
        comment="Face compared by eye against the passport; the glare misled the check.", override_confirmed=True,
    )
    recorded = AuditEvent.objects.get(participant=answered_call.participant, action="decision.recorded")
    assert recorded.data["recommendation"] == "review"
    assert recorded.data["overrides_recommendation"] is True
    assert recorded.data["comment"].startswith("Face compared by eye")


def test_rejecting_against_an_approve_recommendation_needs_the_same(answered_call, operator_a):
    _checked(answered_call, ALL_PASSED)
    assert _shown(answered_call) == "approve"
    with pytest.raises(ValidationError, match="recommends “Approve”"):
        decision_record(
            participant=answered_call.participant, operator=operator_a, outcome="reject", reason_code="suspected_fraud",
            comment="Coached from off camera.",
        )
    decision_record(
        participant=answered_call.participant, operator=operator_a, outcome="reject", reason_code="suspected_fraud",
        comment="Coached from off camera.", override_confirmed=True,
    )
    assert Decision.objects.get(participant=answered_call.participant).outcome == "reject"


@pytest.mark.parametrize(
    ("statuses", "outcome", "reason_code"),
    [
        (ALL_PASSED, "approve", "verified"),  # with the recommendation
        ({"face_match": "failed"}, "reject", "face_mismatch"),  # with it too
        (ALL_PASSED, "retry", "poor_lighting"),  # a retry overrides nothing
        ({}, "approve", "verified"),  # nothing checked: no recommendation is shown
    ],
)
def test_deciding_with_the_recommendation_or_without_one_asks_nothing(
    statuses, outcome, reason_code, answered_call, operator_a
):
    if statuses:
        _checked(answered_call, statuses)
    decision = decision_record(
        participant=answered_call.participant, operator=operator_a, outcome=outcome, reason_code=reason_code
    )
    recorded = AuditEvent.objects.get(participant=answered_call.participant, action="decision.recorded")
    assert decision.outcome == outcome and "overrides_recommendation" not in recorded.data


# --- the notes step ends with the decision ---------------------------------------


@pytest.mark.parametrize(("text", "finished"), [("Calm; document genuine.", "passed"), ("", "skipped"), (None, "skipped")])
def test_the_notes_step_finishes_with_the_decision(text, finished, answered_call, operator_a):
    """Reproduces: the notes step had no way to finish and read "In progress"
    on completed sessions."""
    notes = answered_call.participant.steps.get(kind="notes")
    if text is not None:
        workflow_services.notes_save(step=notes, operator=operator_a, text=text)
        notes.refresh_from_db()
        assert notes.state == "in_progress"

    _decide(answered_call, operator_a)

    notes.refresh_from_db()
    assert notes.state == finished
    assert AuditEvent.objects.filter(
        participant=answered_call.participant, action="step.transition", data__kind="notes", data__to=finished
    ).exists()
    # Notes can still be added after the decision (for an hour after the call).
    workflow_services.notes_save(step=notes, operator=operator_a, text="Added after the decision.")
    notes.refresh_from_db()
    assert notes.state == finished and notes.data["text"] == "Added after the decision."
