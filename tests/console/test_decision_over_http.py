"""Alice decides on a customer through POST /console/calls/<sid>/decide: the
decision is stored, the customer is decided, the audit trail says so, and the
customer sees it only when Alice chose to share it."""

import pytest

from operators.models import Decision
from sessions_app.models import AuditEvent, Participant
from sessions_app.selectors import call_state_for_customer


def _decide(client, call, participant=None, **fields):
    data = {
        "participant": (participant or call.participant).public_id.hex,
        "outcome": "approve",
        "reason_code": "verified",
        "comment": "Passport and face match.",
        **fields,
    }
    return client.post(f"/console/calls/{call.session.public_id.hex}/decide", data)


def test_decision_is_stored_and_the_participant_is_decided(alice, operator_a, answered_call):
    response = _decide(alice, answered_call, share="yes")

    assert response.status_code == 200
    assert response.json() == {"ok": True}
    decision = Decision.objects.get(participant=answered_call.participant)
    assert (decision.outcome, decision.reason_code, decision.comment) == (
        "approve",
        "verified",
        "Passport and face match.",
    )
    assert decision.operator_id == operator_a.pk
    assert decision.shared_with_customer is True
    answered_call.participant.refresh_from_db()
    assert answered_call.participant.state == Participant.State.DECIDED


def test_decision_is_written_to_the_audit_trail(alice, operator_a, answered_call):
    _decide(alice, answered_call, outcome="reject", reason_code="face_mismatch")

    event = AuditEvent.objects.get(participant=answered_call.participant, action="decision.recorded")
    assert event.data["outcome"] == "reject"
    assert event.data["reason_code"] == "face_mismatch"
    assert (event.actor_kind, event.actor_user_id) == ("operator", operator_a.user_id)
    assert AuditEvent.objects.filter(
        participant=answered_call.participant, action="participant.transition", data__to="decided"
    ).exists()


def test_shared_decision_reaches_the_customers_state(alice, answered_call):
    _decide(alice, answered_call, share="yes", outcome="retry", reason_code="poor_lighting")

    mine = call_state_for_customer(participant_id=answered_call.participant.pk)["me"]
    assert mine["decision"] == {"outcome": "retry", "label": "Retry"}


@pytest.mark.parametrize("share", [None, "no", "", "true"])
def test_unshared_decision_stays_hidden_from_the_customer(share, alice, answered_call):
    fields = {} if share is None else {"share": share}
    _decide(alice, answered_call, **fields)

    assert Decision.objects.get(participant=answered_call.participant).shared_with_customer is False
    assert call_state_for_customer(participant_id=answered_call.participant.pk)["me"]["decision"] is None


@pytest.mark.parametrize(
    "fields", [{"outcome": "maybe"}, {"outcome": ""}, {"reason_code": "looked_nervous"}, {"reason_code": ""}]
)
def test_unknown_outcome_or_reason_is_400_and_nothing_is_stored(fields, alice, answered_call):
    response = _decide(alice, answered_call, **fields)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert not Decision.objects.filter(participant=answered_call.participant).exists()
    answered_call.participant.refresh_from_db()
    assert answered_call.participant.state == Participant.State.IN_CALL


def test_second_decision_for_the_same_participant_is_refused_not_a_500(alice, answered_call):
    assert _decide(alice, answered_call, share="yes").status_code == 200

    response = _decide(alice, answered_call, outcome="reject", reason_code="suspected_fraud")

    assert response.status_code in (400, 409)
    assert "error" in response.json()
    decision = Decision.objects.get(participant=answered_call.participant)
    assert decision.outcome == "approve"
    assert AuditEvent.objects.filter(participant=answered_call.participant, action="decision.recorded").count() == 1


def test_decision_for_a_participant_of_another_session_is_404(alice, answered_call, other_call):
    response = _decide(alice, answered_call, participant=other_call.participant)

    assert response.status_code == 404
    assert not Decision.objects.exists()


def test_decision_without_a_participant_is_404(alice, answered_call):
    response = alice.post(
        f"/console/calls/{answered_call.session.public_id.hex}/decide",
        {"outcome": "approve", "reason_code": "verified"},
    )

    assert response.status_code == 404
    assert not Decision.objects.exists()


def test_each_customer_of_a_group_call_gets_their_own_decision(alice, group_call):
    max_, erika = group_call.participants

    _decide(alice, group_call, participant=max_, share="yes")
    _decide(alice, group_call, participant=erika, outcome="reject", reason_code="document_expired", share="yes")

    assert call_state_for_customer(participant_id=max_.pk)["me"]["decision"]["outcome"] == "approve"
    assert call_state_for_customer(participant_id=erika.pk)["me"]["decision"]["outcome"] == "reject"
    assert "decision" not in str(call_state_for_customer(participant_id=max_.pk)["others"])


@pytest.mark.parametrize(
    ("outcome", "reason_code", "message"),
    [
        ("reject", "verified", "“Identity verified” is not a reason for “Rejected”."),
        ("retry", "verified", "“Identity verified” is not a reason for “Retry”."),
        ("approve", "face_mismatch", "“Face does not match the document” is not a reason for “Approved”."),
        ("retry", "suspected_fraud", "“Suspected fraud” is not a reason for “Retry”."),
    ],
)
def test_a_reason_that_does_not_belong_to_the_outcome_is_refused_in_words(
    outcome, reason_code, message, alice, answered_call
):
    """Reproduces: "Rejected" was stored with the reason "Identity verified"."""
    response = _decide(alice, answered_call, outcome=outcome, reason_code=reason_code)

    assert response.status_code == 400
    assert response.json()["error"] == {"code": "invalid", "message": message}
    assert not Decision.objects.filter(participant=answered_call.participant).exists()


def test_every_outcome_has_reasons_and_every_reason_an_outcome():
    assert set(Decision.REASONS_BY_OUTCOME) == set(Decision.Outcome)
    assert all(Decision.REASONS_BY_OUTCOME.values())
    assert {r for reasons in Decision.REASONS_BY_OUTCOME.values() for r in reasons} == set(Decision.Reason)


def test_the_console_offers_each_reason_only_with_its_outcomes(alice, answered_call):
    page = alice.get(f"/console/calls/{answered_call.session.public_id.hex}/").content.decode()

    assert '<option value="verified" data-outcomes="approve">Identity verified</option>' in page
    assert '<option value="poor_lighting" data-outcomes="retry">Lighting too poor</option>' in page
    assert '<option value="document_unreadable" data-outcomes="reject retry">' in page
