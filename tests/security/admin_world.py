"""Two businesses with one row of every admin model each, and the people who
administer them, for the per-business admin tests.

- ``superuser``: platform staff, every business;
- ``admin_a`` / ``admin_b``: Alpha's and Beta's business admins (staff linked
  to their business, in the business_admins group);
- ``compliance``: Carol, compliance staff linked to no business (platform-wide);
- ``compliance_a``: Cora, Alpha's own compliance officer;
- ``operator``: Alice, Alpha's operator (not staff);
- ``outsider``: Oscar, signed in, no role.
"""

import uuid
from dataclasses import dataclass, field

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from accounts.models import BUSINESS_ADMINS_GROUP, COMPLIANCE_GROUP, Business, BusinessStaff, OperatorTraining, TotpDevice
from accounts.services import business_staff_add
from operators.fraud_flags import session_flag_fraud
from operators.integration import api_key_create
from operators.models import ApiKey, Decision, FraudFlag, NegativeListEntry, SessionErasure, WebhookEvent
from operators.repeat_applicants import negative_list_entry_normalise
from operators.services import decision_record
from sessions_app.audit import Actor
from sessions_app.models import AuditEvent, Booking, Evidence, Recording, TermsAcceptance
from tests.compliance.conftest import store_evidence
from tests.conftest import make_user
from tests.consumers.helpers import customer_joins, operator_answers
from workflows.models import BankQuestion, CheckResult, SecurityFeature, StepState, WorkflowTemplate

SUPERUSER, ADMIN_A, ADMIN_B = "superuser", "admin_a", "admin_b"
COMPLIANCE, COMPLIANCE_A = "compliance", "compliance_a"
OPERATOR, OUTSIDER = "operator", "outsider"
PERSONAS = [SUPERUSER, ADMIN_A, ADMIN_B, COMPLIANCE, COMPLIANCE_A, OPERATOR, OUTSIDER]
# The business a scoped persona is limited to; the others see every business
# (superuser, compliance) or are not staff at all (operator, outsider).
OWN_BUSINESS = {ADMIN_A: "a", ADMIN_B: "b", COMPLIANCE_A: "a"}
BEACON_URL = {"a": "https://alpha-hooks.example/verity", "b": "https://beta-hooks.example/verity"}
# What only that business's fraud flag and negative list entry say.
FLAG_NOTE = {"a": "Alpha-flag-note-5581", "b": "Beta-flag-note-6692"}
NEGATIVE_REASON = {"a": "Alpha-negative-reason-1147", "b": "Beta-negative-reason-2258"}
NEGATIVE_DOCUMENT = {"a": "NEGA11470", "b": "NEGB22580"}
BANK_QUESTION = {"a": "Alpha-bank-question-3391?", "b": "Beta-bank-question-4402?"}
SECURITY_FEATURE_NAME = {"a": "Alpha-feature-3391", "b": "Beta-feature-4402"}


@dataclass
class AdminWorld:
    businesses: dict
    users: dict
    rows: dict = field(default_factory=dict)  # model label -> {"a": pk, "b": pk}
    markers: dict = field(default_factory=dict)  # "a"/"b" -> strings only that business's pages may show
    secrets: dict = field(default_factory=dict)  # "a"/"b" -> webhook signing secret

    def browser(self, persona: str) -> Client:
        browser = Client()
        browser.force_login(self.users[persona])
        return browser


def _answered(call, operator):
    customer_joins(call.participant)
    operator_answers(call.session, operator)
    call.session.refresh_from_db()
    call.participant.refresh_from_db()
    return call


def _rows_of(letter, business, call, operator, workflow, admin_user) -> dict:
    document = store_evidence(call, kind=Evidence.Kind.DOCUMENT_FRONT)
    decision_record(
        participant=call.participant, operator=operator, outcome="approve", reason_code="verified", comment="ok",
        override_confirmed=True,  # against the "Review" its unfinished checks give
    )
    api_key, _raw = api_key_create(business=business, name=f"CRM {letter}")
    TotpDevice.objects.create(user=operator.user, secret_encrypted="not-a-real-secret")
    recording = Recording.objects.create(
        public_id=uuid.uuid4(), session=call.session, participant=call.participant, stream="operator",
        segment=0, mime_type="video/webm", started_at=timezone.now(),
    )
    check = CheckResult.objects.create(
        evidence=document, participant=call.participant, kind=CheckResult.Kind.MRZ,
        status=CheckResult.Status.PASSED, score=1.0, details={}, engine="rapidocr", engine_version="test",
    )
    # Set-up only: the booking services are tested in tests/scheduling.
    booking = Booking.objects.create(
        session=call.session, operator=operator, starts_at=timezone.now(), ends_at=timezone.now(),
        ical_uid=f"{uuid.uuid4()}@test",
    )
    event = WebhookEvent.objects.create(business=business, event_type="session.created", session=call.session, body="{}")
    erasure = SessionErasure.objects.create(session=call.session, retention_days=30)
    # Raised by the business's operator (so a compliance reviewer, not its
    # raiser, may clear it).
    flag = session_flag_fraud(
        session=call.session, user=operator.user, actor=Actor.operator(operator),
        reason=FraudFlag.Reason.FORGED_DOCUMENT, note=FLAG_NOTE[letter],
    )
    negative = NegativeListEntry(
        business=business, kind=NegativeListEntry.Kind.DOCUMENT_NUMBER, document_number=NEGATIVE_DOCUMENT[letter],
        reason=NEGATIVE_REASON[letter], added_by=admin_user,
    )
    negative_list_entry_normalise(negative)
    negative.save()
    bank_question = BankQuestion.objects.create(business=business, category="Account", ask={"en": BANK_QUESTION[letter]})
    OperatorTraining.objects.create(operator=operator, preset="bafin_videoident", recorded_by=admin_user)
    feature = SecurityFeature.objects.create(
        business=business, document_kind="id_card", category=SecurityFeature.Category.MATERIAL,
        name={"en": SECURITY_FEATURE_NAME[letter]}, instruction={"en": "Look closely."},
    )
    return {
        "accounts.Business": business.pk,
        "accounts.BusinessStaff": BusinessStaff.objects.get(user=admin_user).pk,
        "accounts.Operator": operator.pk,
        "accounts.TotpDevice": TotpDevice.objects.get(user=operator.user).pk,
        "auth.User": operator.user.pk,
        "auth.Group": Group.objects.get(name=BUSINESS_ADMINS_GROUP).pk,
        "operators.ApiKey": api_key.pk,
        "operators.WebhookEvent": event.pk,
        "operators.Decision": Decision.objects.get(participant=call.participant).pk,
        "operators.SessionErasure": erasure.pk,
        "operators.FraudFlag": flag.pk,
        "operators.NegativeListEntry": negative.pk,
        "sessions_app.VerificationSession": call.session.pk,
        "sessions_app.Participant": call.participant.pk,
        "sessions_app.TermsAcceptance": TermsAcceptance.objects.get(participant=call.participant).pk,
        "sessions_app.Evidence": document.pk,
        "sessions_app.AuditEvent": AuditEvent.objects.filter(session=call.session).first().pk,
        "sessions_app.Recording": recording.pk,
        "sessions_app.Booking": booking.pk,
        "workflows.WorkflowTemplate": workflow.pk,
        "workflows.BankQuestion": bank_question.pk,
        "workflows.StepState": StepState.objects.filter(participant=call.participant).first().pk,
        "workflows.CheckResult": check.pk,
        "workflows.SecurityFeature": feature.pk,
    }


@pytest.fixture
def admin_world(live_call, other_call, operator_a, operator_b, business_a, business_b, workflow_a, workflow_b,
                compliance_user, outsider) -> AdminWorld:
    Business.objects.filter(pk=business_a.pk).update(webhook_url=BEACON_URL["a"])
    Business.objects.filter(pk=business_b.pk).update(webhook_url=BEACON_URL["b"])
    WorkflowTemplate.objects.filter(pk=workflow_b.pk).update(name="Beta onboarding")
    other_call.session.__class__.objects.filter(pk=other_call.session.pk).update(business_reference="REF-BETA-7731")
    users = {
        SUPERUSER: make_user("root", is_staff=True, is_superuser=True),
        ADMIN_A: make_user("ada"),
        ADMIN_B: make_user("bert"),
        COMPLIANCE: compliance_user,
        COMPLIANCE_A: make_user("cora"),
        OPERATOR: operator_a.user,
        OUTSIDER: outsider,
    }
    business_staff_add(user=users[ADMIN_A], business=business_a, role=BUSINESS_ADMINS_GROUP)
    business_staff_add(user=users[ADMIN_B], business=business_b, role=BUSINESS_ADMINS_GROUP)
    business_staff_add(user=users[COMPLIANCE_A], business=business_a, role=COMPLIANCE_GROUP)
    world = AdminWorld(businesses={"a": business_a, "b": business_b}, users=users)
    for letter, business, call, operator, workflow, admin_user in (
        ("a", business_a, live_call, operator_a, workflow_a, users[ADMIN_A]),
        ("b", business_b, other_call, operator_b, workflow_b, users[ADMIN_B]),
    ):
        _answered(call, operator)
        for label, pk in _rows_of(letter, business, call, operator, workflow, admin_user).items():
            world.rows.setdefault(label, {})[letter] = pk
        business.refresh_from_db()
        call.session.refresh_from_db()
        world.secrets[letter] = business.webhook_secret
        world.markers[letter] = [
            business.name,
            business.slug,
            BEACON_URL[letter].split("/")[2],
            str(call.session.public_id),
            call.participant.name,
            ApiKey.objects.get(business=business).prefix,
            str(WebhookEvent.objects.get(pk=world.rows["operators.WebhookEvent"][letter]).public_id),
            FLAG_NOTE[letter],
            NEGATIVE_REASON[letter],
            BANK_QUESTION[letter],
            SECURITY_FEATURE_NAME[letter],
            NegativeListEntry.objects.get(pk=world.rows["operators.NegativeListEntry"][letter]).document_number,
        ]
    world.markers["b"] += ["REF-BETA-7731", "Beta onboarding"]
    return world
