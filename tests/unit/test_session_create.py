"""sessions_app.services.session_create: a business opens a verification session."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from sessions_app.audit import Actor
from sessions_app.links import link_token_hash
from sessions_app.models import AuditEvent, Participant, VerificationSession
from sessions_app.services import ParticipantSpec, session_create
from tests.conftest import STANDARD_STEPS

S = VerificationSession.State
P = Participant.State
ONE_ON_ONE = VerificationSession.Kind.ONE_ON_ONE
MULTI_USER = VerificationSession.Kind.MULTI_USER


def _create(business, workflow, *, kind=ONE_ON_ONE, names=("Max Mustermann",), **extra):
    return session_create(
        business=business,
        workflow=workflow,
        kind=kind,
        participants=[ParticipantSpec(name=name) for name in names],
        actor=Actor.api(),
        **extra,
    )


def test_new_session_is_created_with_an_invited_customer(business_a, workflow_a):
    created = _create(business_a, workflow_a)
    session = VerificationSession.objects.get(pk=created.session.pk)
    assert session.state == S.CREATED
    assert session.business == business_a
    assert session.workflow == workflow_a
    assert (session.waiting_at, session.answered_at, session.ended_at) == (None, None, None)
    [participant] = session.participants.all()
    assert participant.state == P.INVITED
    assert participant.name == "Max Mustermann"


def test_each_participant_gets_a_snapshot_of_the_workflow_steps(business_a, workflow_a):
    created = _create(business_a, workflow_a)
    participant = created.session.participants.get()
    workflow_a.steps = [{"kind": "notes"}]
    workflow_a.save()
    steps = list(participant.steps.order_by("position"))
    assert [step.kind for step in steps] == [step["kind"] for step in STANDARD_STEPS]
    assert all(step.state == "pending" for step in steps)


def test_creation_writes_one_session_created_audit_event(business_a, workflow_a):
    created = _create(business_a, workflow_a, kind=MULTI_USER, names=("Anna Schmidt", "Ben Schmidt"))
    [event] = AuditEvent.objects.filter(session=created.session)
    assert event.action == "session.created"
    assert event.actor_kind == AuditEvent.ActorKind.API
    assert event.data == {
        "kind": MULTI_USER, "participants": 2, "workflow": workflow_a.pk, "preset": "custom", "rules": []
    }


def test_multi_user_session_gives_every_participant_their_own_link(business_a, workflow_a):
    created = _create(business_a, workflow_a, kind=MULTI_USER, names=("Anna Schmidt", "Ben Schmidt", "Cleo Schmidt"))
    participants = [participant for participant, _url in created.links]
    urls = [url for _participant, url in created.links]
    assert [p.position for p in participants] == [0, 1, 2]
    assert len(set(urls)) == 3
    for participant, url in created.links:
        assert Participant.objects.get(pk=participant.pk).link_token_hash == link_token_hash(url.rsplit("/v/", 1)[1])


def test_links_expire_after_the_default_lifetime(business_a, workflow_a, settings):
    settings.LINK_DEFAULT_TTL_HOURS = 5
    before = timezone.now()
    participant = _create(business_a, workflow_a).links[0][0]
    assert before + timedelta(hours=5) <= participant.link_expires_at <= timezone.now() + timedelta(hours=5)


def test_links_expire_after_the_lifetime_the_business_asked_for(business_a, workflow_a):
    before = timezone.now()
    participant = _create(business_a, workflow_a, link_ttl=timedelta(minutes=30)).links[0][0]
    assert before + timedelta(minutes=30) <= participant.link_expires_at <= timezone.now() + timedelta(minutes=30)


def test_inactive_workflow_is_refused(business_a, workflow_a):
    workflow_a.is_active = False
    workflow_a.save()
    with pytest.raises(ValidationError):
        _create(business_a, workflow_a)
    assert not VerificationSession.objects.exists()


@pytest.mark.parametrize(
    ("kind", "count"),
    [(ONE_ON_ONE, 0), (ONE_ON_ONE, 2), (MULTI_USER, 1), (MULTI_USER, 5)],
)
def test_wrong_number_of_participants_is_refused(business_a, workflow_a, settings, kind, count):
    settings.MULTI_USER_MAX_PARTICIPANTS = 4
    with pytest.raises(ValidationError):
        _create(business_a, workflow_a, kind=kind, names=[f"Person {n}" for n in range(count)])
    assert not VerificationSession.objects.exists()
    assert not Participant.objects.exists()


def test_unknown_kind_is_refused(business_a, workflow_a):
    with pytest.raises(ValidationError):
        _create(business_a, workflow_a, kind="conference")
    assert not VerificationSession.objects.exists()
