"""Four-eyes review: under FOUR_EYES_REVIEW an operator's approval is provisional
until a second, different staff member of the business confirms or overturns it."""

import json
import threading

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import close_old_connections

from accounts.models import COMPLIANCE_GROUP, REVIEWERS_GROUP, Business, BusinessStaff
from kyc import regulations
from operators.models import Decision, Review, WebhookEvent
from operators.reviews import decision_review, decisions_awaiting_review
from operators.services import decision_record
from sessions_app.models import AuditEvent
from sessions_app.selectors import shared_decision
from sessions_app.services import participant_accept_terms, participant_join, session_assign_operator
from tests.conftest import create_call, make_user

PASSWORD = "correct-horse-battery-1"


def four_eyes_workflow(workflow):
    workflow.preset = regulations.CUSTOM
    workflow.rules = [regulations.FOUR_EYES_REVIEW]
    workflow.save()
    return workflow


def answered_four_eyes_call(business, workflow, operator):
    """A call of a custom workflow with FOUR_EYES_REVIEW, answered by ``operator``."""
    four_eyes_workflow(workflow)
    session, links = create_call(business, workflow)
    participant = links[0][0]
    participant_accept_terms(participant=participant, ip_address="192.0.2.10", user_agent="pytest")
    participant_join(participant=participant)
    session_assign_operator(session_id=session.pk, operator=operator)
    participant.refresh_from_db()
    return participant


def staff_of(business, username, group):
    user = make_user(username, is_staff=True)
    user.groups.add(Group.objects.get_or_create(name=group)[0])
    if business is not None:
        BusinessStaff.objects.create(user=user, business=business)
    return user


def hook(business):
    Business.objects.filter(pk=business.pk).update(webhook_url="https://hooks.example.com/verity")
    business.refresh_from_db()


def payloads(event_type):
    return [json.loads(e.body)["data"] for e in WebhookEvent.objects.filter(event_type=event_type).order_by("pk")]


@pytest.fixture
def reviewer_a(business_a):
    """Rita, a reviewer of business A."""
    return staff_of(business_a, "rita", REVIEWERS_GROUP)


@pytest.fixture
def reviewer_b(business_b):
    """Ben, a reviewer of business B."""
    return staff_of(business_b, "ben", REVIEWERS_GROUP)


@pytest.fixture
def provisional(business_a, workflow_a, operator_a):
    participant = answered_four_eyes_call(business_a, workflow_a, operator_a)
    return decision_record(
        participant=participant, operator=operator_a, outcome="approve", reason_code="verified", share_with_customer=True
    )


# --- decision_record under the rule --------------------------------------------------------


def test_an_approval_under_the_rule_is_provisional(provisional):
    assert provisional.provisional and provisional.awaiting_review
    assert provisional.final_outcome is None
    assert str(provisional.status_label()) == "Approved, awaiting review"


def test_a_rejection_under_the_rule_is_final(business_a, workflow_a, operator_a):
    participant = answered_four_eyes_call(business_a, workflow_a, operator_a)
    decision = decision_record(participant=participant, operator=operator_a, outcome="reject", reason_code="face_mismatch")
    assert not decision.provisional and decision.final_outcome == "reject"


def test_an_approval_without_the_rule_is_final(answered_call, operator_a):
    decision = decision_record(participant=answered_call.participant, operator=operator_a, outcome="approve", reason_code="verified")
    assert not decision.provisional and decision.final_outcome == "approve"


# --- confirming and overturning ---------------------------------------------------------------


def test_a_reviewer_confirms_and_the_approval_is_final(provisional, reviewer_a):
    review = decision_review(decision=provisional, reviewer=reviewer_a, outcome="confirm")
    provisional.refresh_from_db()
    assert review.final_outcome == "approve" and review.final_reason_code == "verified"
    assert not provisional.awaiting_review and provisional.final_outcome == "approve"
    event = AuditEvent.objects.get(action="decision.reviewed")
    assert event.actor_user_id == reviewer_a.pk
    assert event.data["final_outcome"] == "approve"


def test_a_reviewer_overturns_with_a_rejection_reason_and_a_comment(provisional, reviewer_a):
    review = decision_review(
        decision=provisional, reviewer=reviewer_a, outcome="overturn", reason_code="face_mismatch", comment="Not the same person."
    )
    provisional.refresh_from_db()
    assert review.overturned and provisional.final_outcome == "reject"
    assert provisional.final_reason_code == "face_mismatch"
    assert str(provisional.status_label()) == "Rejected on review"


def test_overturning_needs_a_comment(provisional, reviewer_a):
    with pytest.raises(ValidationError) as refused:
        decision_review(decision=provisional, reviewer=reviewer_a, outcome="overturn", reason_code="face_mismatch", comment=" ")
    assert "comment" in refused.value.message_dict
    assert not Review.objects.exists()


def test_overturning_needs_a_rejection_reason(provisional, reviewer_a):
    with pytest.raises(ValidationError) as refused:
        decision_review(decision=provisional, reviewer=reviewer_a, outcome="overturn", reason_code="verified", comment="x")
    assert "reason_code" in refused.value.message_dict


def test_an_unknown_review_outcome_is_refused(provisional, reviewer_a):
    with pytest.raises(ValidationError):
        decision_review(decision=provisional, reviewer=reviewer_a, outcome="maybe")


# --- who may not review ---------------------------------------------------------------------------


def test_the_operator_who_decided_cannot_review_even_as_a_reviewer(provisional, operator_a):
    user = operator_a.user
    user.is_staff = True
    user.save()
    user.groups.add(Group.objects.get_or_create(name=REVIEWERS_GROUP)[0])
    BusinessStaff.objects.create(user=user, business=operator_a.business)
    with pytest.raises(PermissionDenied, match="second person"):
        decision_review(decision=provisional, reviewer=user, outcome="confirm")
    assert not Review.objects.exists()


def test_a_reviewer_of_another_business_cannot_review(provisional, reviewer_b):
    with pytest.raises(PermissionDenied):
        decision_review(decision=provisional, reviewer=reviewer_b, outcome="confirm")
    assert list(decisions_awaiting_review(reviewer_b)) == []


@pytest.mark.parametrize("who", ["colleague_operator", "supervisor", "outsider", "unlinked_reviewer", "not_staff"])
def test_staff_without_the_reviewer_role_cannot_review(provisional, operator_a2, outsider, business_a, who):
    user = {
        "colleague_operator": lambda: operator_a2.user,
        "supervisor": lambda: staff_of(business_a, "sue", "supervisors"),
        "outsider": lambda: outsider,
        "unlinked_reviewer": lambda: staff_of(None, "ursula", REVIEWERS_GROUP),
        "not_staff": lambda: _reviewer_not_staff(business_a),
    }[who]()
    with pytest.raises(PermissionDenied):
        decision_review(decision=provisional, reviewer=user, outcome="confirm")
    assert list(decisions_awaiting_review(user)) == []


def _reviewer_not_staff(business):
    user = staff_of(business, "nina", REVIEWERS_GROUP)
    user.is_staff = False
    user.save()
    return user


def test_the_business_compliance_officer_and_platform_compliance_may_review(provisional, business_a, compliance_user):
    officer = staff_of(business_a, "olga", COMPLIANCE_GROUP)
    assert list(decisions_awaiting_review(officer)) == [provisional]
    assert list(decisions_awaiting_review(compliance_user)) == [provisional]  # unlinked: every business
    decision_review(decision=provisional, reviewer=officer, outcome="confirm")


def test_a_final_decision_needs_no_review(answered_call, operator_a, reviewer_a):
    decision = decision_record(participant=answered_call.participant, operator=operator_a, outcome="approve", reason_code="verified")
    with pytest.raises(ValidationError, match="final"):
        decision_review(decision=decision, reviewer=reviewer_a, outcome="confirm")


def test_a_decision_is_reviewed_once(provisional, reviewer_a, business_a):
    decision_review(decision=provisional, reviewer=reviewer_a, outcome="confirm")
    second = staff_of(business_a, "rolf", REVIEWERS_GROUP)
    with pytest.raises(ValidationError, match="already"):
        decision_review(decision=provisional, reviewer=second, outcome="overturn", reason_code="other", comment="No.")
    assert Review.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_racing_one_wins(business_a, workflow_a, operator_a):
    participant = answered_four_eyes_call(business_a, workflow_a, operator_a)
    decision = decision_record(participant=participant, operator=operator_a, outcome="approve", reason_code="verified")
    reviewers = [staff_of(business_a, "rita", REVIEWERS_GROUP), staff_of(business_a, "rolf", REVIEWERS_GROUP)]
    outcomes, barrier = [], threading.Barrier(2)

    def review(user):
        try:
            barrier.wait()
            decision_review(decision=decision, reviewer=user, outcome="confirm")
            outcomes.append("won")
        except ValidationError:
            outcomes.append("refused")
        finally:
            close_old_connections()

    threads = [threading.Thread(target=review, args=(user,)) for user in reviewers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused", "won"]
    assert Review.objects.filter(decision=decision).count() == 1


# --- the queue -------------------------------------------------------------------------------------


def test_the_queue_lists_waiting_decisions_oldest_first_and_drops_reviewed_ones(
    business_a, workflow_a, operator_a, operator_a2, reviewer_a
):
    first = answered_four_eyes_call(business_a, workflow_a, operator_a)
    older = decision_record(participant=first, operator=operator_a, outcome="approve", reason_code="verified")
    second = answered_four_eyes_call(business_a, workflow_a, operator_a2)
    newer = decision_record(participant=second, operator=operator_a2, outcome="approve", reason_code="verified")
    assert list(decisions_awaiting_review(reviewer_a)) == [older, newer]
    decision_review(decision=older, reviewer=reviewer_a, outcome="confirm")
    assert list(decisions_awaiting_review(reviewer_a)) == [newer]


# --- webhooks -------------------------------------------------------------------------------------


def test_decided_says_provisional_and_reviewed_says_what_stands(business_a, workflow_a, operator_a, reviewer_a):
    hook(business_a)
    participant = answered_four_eyes_call(business_a, workflow_a, operator_a)
    decision = decision_record(participant=participant, operator=operator_a, outcome="approve", reason_code="verified")
    decision_review(decision=decision, reviewer=reviewer_a, outcome="overturn", reason_code="face_mismatch", comment="Twin.")
    [decided] = payloads("participant.decided")
    assert decided["decision"]["provisional"] is True
    [reviewed] = payloads("participant.reviewed")
    assert reviewed["participant"]["id"] == str(participant.public_id)
    review = reviewed["review"]
    assert review["outcome"] == "reject" and review["reason_code"] == "face_mismatch" and review["overturned"] is True
    assert review["reviewed_at"] and review["decided_at"]
    # No reviewer's personal data, nor the comment, in the business's log.
    body = WebhookEvent.objects.get(event_type="participant.reviewed").body
    assert "rita" not in body and "Twin" not in body


def test_a_final_decision_says_provisional_false(answered_call, operator_a, business_a):
    hook(business_a)
    decision_record(participant=answered_call.participant, operator=operator_a, outcome="approve", reason_code="verified")
    [decided] = payloads("participant.decided")
    assert decided["decision"]["provisional"] is False


# --- the customer -------------------------------------------------------------------------------------


def test_the_customer_is_told_the_approval_is_being_reviewed_then_the_final_outcome(provisional, reviewer_a):
    participant = provisional.participant
    assert shared_decision(participant)["outcome"] == "review"
    decision_review(decision=provisional, reviewer=reviewer_a, outcome="overturn", reason_code="other", comment="No.")
    participant.refresh_from_db()
    assert shared_decision(participant)["outcome"] == "reject"


# --- pages: the queue, the form on the review page, the filter, the customer, the API ------------------------

from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from tests.api.conftest import client_with, key_a  # noqa: E402,F401  (shared fixture)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def queue_url():
    return reverse("admin:sessions_app_verificationsession_review_queue")


def review_page_url(decision):
    return reverse("admin:sessions_app_verificationsession_review", args=[decision.participant.session_id])


def form_url(decision):
    return reverse(
        "admin:sessions_app_verificationsession_decision_review", args=[decision.participant.session_id, decision.pk]
    )


def test_the_queue_page_lists_the_waiting_decision_and_opens_its_review_page(provisional, reviewer_a):
    client = signed_in(reviewer_a)
    page = client.get(queue_url())
    assert page.status_code == 200
    html = page.content.decode()
    assert str(provisional.participant.session.public_id) in html and review_page_url(provisional) in html
    assert "Review queue (1)" in html, "the admin's navigation links the queue"
    review = client.get(review_page_url(provisional)).content.decode()
    assert "Awaiting review" in review and form_url(provisional) in review


def test_a_reviewer_confirms_through_the_review_page(provisional, reviewer_a):
    response = signed_in(reviewer_a).post(form_url(provisional), {"outcome": "confirm"})
    assert response.status_code == 302 and response["Location"] == queue_url()
    assert Review.objects.get(decision=provisional).final_outcome == "approve"
    html = signed_in(reviewer_a).get(review_page_url(provisional)).content.decode()
    assert "Confirmed on review" in html and "No decision is waiting" not in html


def test_overturning_without_a_comment_comes_back_with_the_reason(provisional, reviewer_a):
    client = signed_in(reviewer_a)
    response = client.post(form_url(provisional), {"outcome": "overturn", "reason_code": "face_mismatch"}, follow=True)
    assert "Say why you overturn the decision." in response.content.decode()
    assert not Review.objects.exists()


def test_the_operator_as_reviewer_is_refused_on_the_page_too(provisional, operator_a):
    user = operator_a.user
    user.is_staff = True
    user.save()
    user.groups.add(Group.objects.get_or_create(name=REVIEWERS_GROUP)[0])
    BusinessStaff.objects.create(user=user, business=operator_a.business)
    response = signed_in(user).post(form_url(provisional), {"outcome": "confirm"}, follow=True)
    assert "a second person must" in response.content.decode()
    assert not Review.objects.exists()


def test_another_business_reviewer_sees_neither_the_queue_entry_nor_the_page(provisional, reviewer_b):
    client = signed_in(reviewer_b)
    assert str(provisional.participant.session.public_id) not in client.get(queue_url()).content.decode()
    assert client.get(review_page_url(provisional)).status_code == 404
    assert client.post(form_url(provisional), {"outcome": "confirm"}).status_code == 404
    assert not Review.objects.exists()


def test_staff_without_the_role_get_no_queue(provisional, business_a):
    supervisor = staff_of(business_a, "sue", "supervisors")
    assert signed_in(supervisor).get(queue_url()).status_code == 403


def test_the_compliance_filter_keeps_a_provisional_approval_out_of_approved(provisional, compliance_user, reviewer_a):
    client = signed_in(compliance_user)
    changelist = reverse("admin:sessions_app_verificationsession_changelist")
    public_id = str(provisional.participant.session.public_id)
    assert public_id in client.get(changelist, {"decision": "awaiting_review"}).content.decode()
    assert public_id not in client.get(changelist, {"decision": "approve"}).content.decode()
    decision_review(decision=provisional, reviewer=reviewer_a, outcome="overturn", reason_code="other", comment="No.")
    assert public_id not in client.get(changelist, {"decision": "awaiting_review"}).content.decode()
    assert public_id in client.get(changelist, {"decision": "reject"}).content.decode()


def test_the_api_detail_shows_provisional_then_final(provisional, reviewer_a, key_a):  # noqa: F811
    api = client_with(key_a.raw)
    url = f"/api/v1/sessions/{provisional.participant.session.public_id}"
    decision = api.get(url).json()["participants"][0]["decision"]
    assert decision["provisional"] is True and decision["status"] == "provisional" and decision["review"] is None
    decision_review(decision=provisional, reviewer=reviewer_a, outcome="confirm")
    decision = api.get(url).json()["participants"][0]["decision"]
    assert decision["status"] == "final"
    assert decision["review"]["outcome"] == "approve" and decision["review"]["overturned"] is False


def test_the_operators_history_says_awaiting_review(provisional, operator_a):
    from operators.selectors import sessions_for_operator_history

    [session] = sessions_for_operator_history(operator_a)
    [participant] = session.participants.all()
    assert participant.decision.status_label() == "Approved, awaiting review"


def test_a_reviewer_may_play_their_business_recordings_only(provisional, reviewer_a, reviewer_b):
    from operators.compliance.recording_views import may_review_recording

    session = provisional.participant.session
    assert may_review_recording(reviewer_a, session)
    assert not may_review_recording(reviewer_b, session)
