"""One business never sees or touches another's data: managers, selectors, services.

Bob (``operator_b``, Beta Bank) must not get at anything of Alpha Bank, and
Alice (``operator_a``) nothing of Beta Bank.
"""

import uuid
from datetime import time, timedelta

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import BUSINESS_ADMINS_GROUP, Business, Operator, OperatorTraining, WorkingHours
from accounts.services import business_staff_add, operator_set_presence
from accounts.selectors import operators_available_count
from operators.fraud_flags import session_flag_fraud
from operators.models import FraudFlag, NegativeListEntry, Review
from operators.repeat_applicants import fingerprint_update
from operators.selectors import queue_snapshot, sessions_for_operator_history
from operators.services import decision_record
from sessions_app.audit import Actor
from sessions_app.integrity import capture_integrity_record
from sessions_app.selectors import queue_for_business, queue_position
from sessions_app.models import (
    AuditEvent,
    Booking,
    Evidence,
    OneTimeCode,
    Participant,
    ParticipantLocation,
    Recording,
    RecordingChunk,
    RecordingConsent,
    VerificationSession,
)
from sessions_app.selectors import call_identity
from sessions_app.services import (
    ParticipantSpec,
    SessionNotAvailable,
    participant_accept_terms,
    participant_join,
    session_assign_operator,
    session_create,
)
from tests.api.isolation_rows import INTEGRATION_BUSINESS_PATH, integration_rows
from tests.conftest import create_call, make_user
from workflows.models import BankQuestion, CaptureRequest, CheckResult, SecurityFeature, SecurityFeatureCheck

# How each business-owned model reaches its business. A new model must be added
# here (and get a for_business queryset), or the first test fails.
BUSINESS_PATH = {
    "sessions_app.VerificationSession": "business",
    "sessions_app.Participant": "session__business",
    "sessions_app.TermsAcceptance": "participant__session__business",
    "sessions_app.Evidence": "session__business",
    "sessions_app.AuditChain": "business",
    "sessions_app.AuditEvent": "business",
    "accounts.Operator": "business",
    "accounts.BusinessStaff": "business",
    "operators.Decision": "participant__session__business",
    "operators.Review": "decision__participant__session__business",
    "workflows.WorkflowTemplate": "business",
    "workflows.StepState": "participant__session__business",
    "workflows.CaptureRequest": "participant__session__business",
    "workflows.CheckResult": "participant__session__business",
    "sessions_app.Recording": "session__business",
    "sessions_app.RecordingChunk": "recording__session__business",
    "sessions_app.CaptureSignal": "participant__session__business",
    "operators.ApplicantFingerprint": "business",
    "operators.NegativeListEntry": "business",
    "operators.FraudFlag": "session__business",
    "accounts.WorkingHours": "operator__business",
    "accounts.OperatorTraining": "operator__business",
    "workflows.BankQuestion": "business",
    "sessions_app.Booking": "session__business",
    "sessions_app.OneTimeCode": "participant__session__business",
    "workflows.SecurityFeature": "business",
    "workflows.SecurityFeatureCheck": "participant__session__business",
    "sessions_app.RecordingConsent": "participant__session__business",
    "sessions_app.ParticipantLocation": "participant__session__business",
    **INTEGRATION_BUSINESS_PATH,
}
# Rows of no business besides the businesses' own: the product's default
# catalogue, read by every business (SecurityFeature.objects.available_to).
SHARED_DEFAULTS = {"workflows.SecurityFeature"}
# Owned by a user, not a business: staff sign-in (accounts/security.py, accounts/totp.py).
USER_OWNED = {"accounts.TotpDevice", "accounts.LoginSession"}
TENANT_MODELS = [
    model
    for app_label in ("accounts", "sessions_app", "operators", "workflows")
    for model in apps.get_app_config(app_label).get_models()
    if model is not Business and f"{model._meta.app_label}.{model.__name__}" not in USER_OWNED
]


def _label(model) -> str:
    return f"{model._meta.app_label}.{model.__name__}"


def _decided_call(call, operator):
    participant_accept_terms(participant=call.participant, ip_address="192.0.2.1", user_agent="pytest")
    # Regulated pre-call records (set-up only; tests/regulated tests the services).
    RecordingConsent.objects.create(participant=call.participant, accepted=True, text_version="t", text_language="en")
    ParticipantLocation.objects.create(
        participant=call.participant, latitude=19.07, longitude=72.87, accuracy_m=10, located_at=timezone.now()
    )
    participant_join(participant=call.participant)
    session_assign_operator(session_id=call.session.pk, operator=operator)
    # Set-up only: rows made directly, the capture services are tested elsewhere.
    document_step = call.participant.steps.get(kind="document")
    capture = CaptureRequest.objects.create(participant=call.participant, step=document_step, kind=Evidence.Kind.FACE)
    evidence = Evidence.objects.create(
        session=call.session,
        participant=call.participant,
        step=document_step,
        capture=capture,
        kind=Evidence.Kind.FACE,
        source=Evidence.Source.SERVER,
        file="faces/x.jpg",
        content_type="image/jpeg",
        size=1,
        sha256="0" * 64,
    )
    CheckResult.objects.create(
        evidence=evidence, participant=call.participant, kind=CheckResult.Kind.QUALITY,
        status=CheckResult.Status.PASSED, engine="test", engine_version="1",
    )
    recording = Recording.objects.create(
        public_id=uuid.uuid4(), session=call.session, stream="operator", segment=1,
        mime_type="video/webm", started_at=timezone.now(),
    )
    RecordingChunk.objects.create(recording=recording, index=0, sha256="0" * 64, size=1, file="chunks/x.part")
    capture_integrity_record(participant_id=call.participant.pk, phase="call", signals=[("api_replaced", {})])
    decision_record(
        participant=call.participant, operator=operator, outcome="approve", reason_code="verified",
        comment="Checked by eye.", override_confirmed=True,  # against the "Review" its partial checks give
    )
    # Set-up only: a four-eyes review (operators.reviews is tested in tests/regulated).
    Review.objects.create(
        decision=call.participant.decision, reviewer=make_user(f"reviewer{call.session.pk}"),
        outcome=Review.Outcome.CONFIRM, final_outcome="approve", final_reason_code="verified",
    )
    fingerprint_update(participant=call.participant, threshold=0.6, document_number=f"X{call.session.pk}")
    NegativeListEntry.objects.create(
        business=call.session.business, kind=NegativeListEntry.Kind.DOCUMENT_NUMBER,
        document_number=f"N{call.session.pk}", reason="Forged passport",
    )
    session_flag_fraud(
        session=call.session, user=operator.user, actor=Actor.operator(operator),
        reason=FraudFlag.Reason.FORGED_DOCUMENT, note="Laminate lifted at the corner.",
    )
    # One-time code at the end of the call (set-up only; tests/regulated/test_one_time_code.py).
    OneTimeCode.objects.create(
        participant=call.participant, channel="email", sent_to="m***@example.com", salt="0" * 32,
        code_hash="0" * 64, expires_at=timezone.now() + timedelta(minutes=5),
    )
    # Booked calls (set-up only; sessions_app.scheduling_services is tested in tests/scheduling).
    WorkingHours.objects.create(operator=operator, weekday=0, start=time(9), end=time(12))
    # Regulated deployments (set-up only; tests/regulated tests the rules).
    OperatorTraining.objects.create(operator=operator, preset="bafin_videoident")
    BankQuestion.objects.create(business=call.session.business, category="Account", ask={"en": "Why?"})
    Booking.objects.create(
        session=call.session, operator=operator, starts_at=timezone.now(), ends_at=timezone.now() + timedelta(minutes=30),
        ical_uid=f"{uuid.uuid4()}@test",
    )
    # Security features (set-up only: tests/regulated/test_security_features.py).
    feature = SecurityFeature.objects.create(
        business=call.session.business, document_kind="id_card", category=SecurityFeature.Category.MATERIAL,
        name={"en": "Card body"}, instruction={"en": "Rigid."},
    )
    SecurityFeatureCheck.objects.create(
        participant=call.participant, feature=feature, document_kind="id_card", category=feature.category,
        position=0, chosen_at=timezone.now(),
    )


@pytest.fixture
def both_businesses_busy(live_call, other_call, operator_a, operator_b):
    """Alpha Bank and Beta Bank each have a decided call with evidence and a full audit trail."""
    _decided_call(live_call, operator_a)
    _decided_call(other_call, operator_b)
    integration_rows(live_call)
    integration_rows(other_call)
    business_staff_add(user=make_user("ada"), business=live_call.session.business, role=BUSINESS_ADMINS_GROUP)
    business_staff_add(user=make_user("bert"), business=other_call.session.business, role=BUSINESS_ADMINS_GROUP)


@pytest.mark.parametrize("model", TENANT_MODELS, ids=_label)
def test_every_business_owned_model_has_a_for_business_queryset(model):
    assert callable(getattr(model.objects, "for_business", None)), f"{_label(model)} has no objects.for_business()"
    assert _label(model) in BUSINESS_PATH, f"add {_label(model)}'s way to its business to BUSINESS_PATH"


@pytest.mark.parametrize("model", TENANT_MODELS, ids=_label)
def test_for_business_returns_only_that_business_rows(both_businesses_busy, business_a, business_b, model):
    path = BUSINESS_PATH.get(_label(model))
    assert path, f"add {_label(model)} to BUSINESS_PATH"
    assert (
        model.objects.filter(**{path: business_a}).exists() and model.objects.filter(**{path: business_b}).exists()
    ), f"add rows of {_label(model)} for both businesses to the both_businesses_busy fixture"
    for business in (business_a, business_b):
        owners = set(model.objects.for_business(business).values_list(path, flat=True))
        assert owners == {business.pk}
    rows_a = set(model.objects.for_business(business_a).values_list("pk", flat=True))
    rows_b = set(model.objects.for_business(business_b).values_list("pk", flat=True))
    assert rows_a.isdisjoint(rows_b)
    owned = model.objects.filter(**{f"{path}__isnull": False}) if _label(model) in SHARED_DEFAULTS else model.objects
    assert len(rows_a) + len(rows_b) == owned.count()


# --- services ------------------------------------------------------------------------


def test_business_cannot_open_a_session_with_another_business_workflow(business_a, workflow_b):
    with pytest.raises(ValidationError) as raised:
        session_create(
            business=business_a,
            workflow=workflow_b,
            kind=VerificationSession.Kind.ONE_ON_ONE,
            participants=[ParticipantSpec(name="Max Mustermann")],
            actor=Actor.api(),
        )
    assert raised.value.message_dict == {"workflow": ["Unknown workflow."]}
    assert not VerificationSession.objects.exists()
    assert not AuditEvent.objects.exists()


def test_bob_cannot_answer_alpha_banks_call(waiting_call, operator_b):
    with pytest.raises(SessionNotAvailable):
        session_assign_operator(session_id=waiting_call.session.pk, operator=operator_b)
    session = VerificationSession.objects.get(pk=waiting_call.session.pk)
    assert (session.state, session.operator_id) == (VerificationSession.State.WAITING, None)
    assert Participant.objects.get(pk=waiting_call.participant.pk).state == Participant.State.WAITING


def test_bob_is_not_in_alpha_banks_call(answered_call, operator_b):
    assert (
        call_identity(user=operator_b.user, participant_id=None, session_public_id=answered_call.session.public_id)
        is None
    )


# --- selectors -----------------------------------------------------------------------


@pytest.fixture
def both_queues(waiting_call, other_call):
    """Beta Bank's customer has waited longer than Alpha Bank's."""
    participant_accept_terms(participant=other_call.participant, ip_address=None, user_agent="pytest")
    participant_join(participant=other_call.participant)
    VerificationSession.objects.filter(pk=other_call.session.pk).update(
        waiting_at=timezone.now() - timedelta(minutes=10)
    )
    return waiting_call.session, other_call.session


def test_queue_holds_only_the_business_own_waiting_sessions(both_queues, business_a, business_b):
    session_a, session_b = both_queues
    assert [s.pk for s in queue_for_business(business_a)] == [session_a.pk]
    assert [s.pk for s in queue_for_business(business_b)] == [session_b.pk]


def test_queue_position_ignores_other_businesses_customers(both_queues):
    session_a, _session_b = both_queues
    assert queue_position(session_a) == 1


def test_queue_snapshot_shows_bob_only_beta_banks_customers(both_queues, operator_b):
    _session_a, session_b = both_queues
    snapshot = queue_snapshot(operator=operator_b)
    assert [entry["id"] for entry in snapshot["entries"]] == [session_b.public_id.hex]
    assert [p["name"] for p in snapshot["entries"][0]["participants"]] == ["Erika Musterfrau"]


def test_available_operators_are_counted_per_business(business_a, business_b, operator_a, operator_a2, operator_b):
    for operator in (operator_a, operator_b):
        operator_set_presence(operator=operator, presence=Operator.Presence.AVAILABLE)
    assert operators_available_count(business_a) == 1
    assert operators_available_count(business_b) == 1


def test_operator_history_lists_only_their_own_business_calls(answered_call, other_call, operator_a, operator_b):
    participant_accept_terms(participant=other_call.participant, ip_address=None, user_agent="pytest")
    participant_join(participant=other_call.participant)
    session_assign_operator(session_id=other_call.session.pk, operator=operator_b)
    assert [s.pk for s in sessions_for_operator_history(operator_a)] == [answered_call.session.pk]
    assert [s.pk for s in sessions_for_operator_history(operator_b)] == [other_call.session.pk]


def test_operator_moved_to_another_business_no_longer_sees_their_old_calls(answered_call, operator_a, business_b):
    """History is filtered by the operator's current business, not only by operator."""
    Operator.objects.filter(pk=operator_a.pk).update(business=business_b)
    operator_a.refresh_from_db()
    assert list(sessions_for_operator_history(operator_a)) == []


def test_two_businesses_may_run_calls_side_by_side(business_a, workflow_a, business_b, workflow_b):
    session_a, _ = create_call(business_a, workflow_a)
    session_b, _ = create_call(business_b, workflow_b)
    assert list(VerificationSession.objects.for_business(business_a)) == [session_a]
    assert list(VerificationSession.objects.for_business(business_b)) == [session_b]
