"""Shared fixtures with named people. Every permission test says which of
them must not get in:

- ``operator_a`` works for ``business_a``; ``operator_b`` for ``business_b``.
- ``compliance_user`` reviews; ``outsider`` is a logged-in user with no role.
- ``live_call`` is a one-on-one session of business A with a customer whose
  link works (``live_call.link_token``).
"""

from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from operators.models import COMPLIANCE_GROUP, Business, Operator
from operators.services import operator_create
from sessions_app.audit import Actor
from sessions_app.models import Participant, VerificationSession
from sessions_app.services import ParticipantSpec, session_create
from workflows.models import WorkflowTemplate

STANDARD_STEPS = [
    {"kind": "terms", "terms_version": "v1", "terms_text": "We verify you on a recorded video call."},
    {"kind": "device_check"},
    {"kind": "document", "document_kinds": ["passport", "id_card"]},
    {"kind": "liveness", "action_count": 3},
    {"kind": "questions", "questions": ["What is your date of birth?"]},
    {"kind": "notes"},
]


@pytest.fixture(autouse=True)
def _private_evidence_root(settings, tmp_path):
    settings.EVIDENCE_ROOT = tmp_path / "evidence"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def make_user(username: str, **extra):
    return get_user_model().objects.create_user(username=username, password="correct-horse-battery-1", **extra)


@pytest.fixture
def business_a(db):
    return Business.objects.create(name="Alpha Bank", slug="alpha-bank")


@pytest.fixture
def business_b(db):
    return Business.objects.create(name="Beta Bank", slug="beta-bank")


@pytest.fixture
def workflow_a(business_a):
    return WorkflowTemplate.objects.create(business=business_a, name="Standard", steps=STANDARD_STEPS)


@pytest.fixture
def workflow_b(business_b):
    return WorkflowTemplate.objects.create(business=business_b, name="Standard", steps=STANDARD_STEPS)


@pytest.fixture
def operator_a(business_a) -> Operator:
    return operator_create(user=make_user("alice"), business=business_a, display_name="Alice")


@pytest.fixture
def operator_a2(business_a) -> Operator:
    return operator_create(user=make_user("anton"), business=business_a, display_name="Anton")


@pytest.fixture
def operator_b(business_b) -> Operator:
    return operator_create(user=make_user("bob"), business=business_b, display_name="Bob")


@pytest.fixture
def compliance_user(db):
    user = make_user("carol", is_staff=True)
    user.groups.add(Group.objects.get_or_create(name=COMPLIANCE_GROUP)[0])
    return user


@pytest.fixture
def outsider(db):
    return make_user("oscar")


@dataclass
class LiveCall:
    session: VerificationSession
    participant: Participant
    link_url: str

    @property
    def link_token(self) -> str:
        return self.link_url.rsplit("/v/", 1)[1]


def create_call(business, workflow, *, names=("Max Mustermann",), kind=None) -> tuple[VerificationSession, list]:
    kind = kind or (VerificationSession.Kind.ONE_ON_ONE if len(names) == 1 else VerificationSession.Kind.MULTI_USER)
    created = session_create(
        business=business,
        workflow=workflow,
        kind=kind,
        participants=[ParticipantSpec(name=name, email=f"{name.split()[0].lower()}@example.com") for name in names],
        business_reference="REF-1",
        actor=Actor.api(),
    )
    return created.session, created.links


@pytest.fixture
def live_call(business_a, workflow_a) -> LiveCall:
    session, links = create_call(business_a, workflow_a)
    participant, url = links[0]
    return LiveCall(session=session, participant=participant, link_url=url)


@pytest.fixture
def other_call(business_b, workflow_b) -> LiveCall:
    session, links = create_call(business_b, workflow_b, names=("Erika Musterfrau",))
    participant, url = links[0]
    return LiveCall(session=session, participant=participant, link_url=url)
