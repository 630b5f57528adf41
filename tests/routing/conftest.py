"""Routing's people: Alice (operator_a) and Anton (operator_a2) both work for
business A, which routes calls with a 60 s fallback. Tests give them
languages and trainings as each needs."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Operator
from accounts.services import operator_set_presence
from kyc.regulations import RECORDING_CONSENT, RuleSet
from sessions_app.models import VerificationSession
from sessions_app.services import participant_accept_terms, participant_answer_recording_consent, participant_join
from tests.conftest import create_call


@pytest.fixture
def routing_business(business_a):
    business_a.routing_fallback_seconds = 60
    business_a.save(update_fields=["routing_fallback_seconds"])
    return business_a


def skills(operator: Operator, *, languages=(), workflows=()) -> Operator:
    operator.languages = list(languages)
    operator.save(update_fields=["languages"])
    operator.trained_workflows.set(workflows)
    return Operator.objects.select_related("business").prefetch_related("trained_workflows").get(pk=operator.pk)


def waiting(business, workflow, *, language: str = "", name: str = "Max Mustermann", waited: int = 0) -> VerificationSession:
    """A session of ``business`` waiting in the queue for ``waited`` seconds,
    its customer's language ``language`` (blank: unknown)."""
    session, links = create_call(business, workflow, names=(name,))
    participant = links[0][0]
    participant.language = language
    participant.save(update_fields=["language"])
    participant_accept_terms(participant=participant, ip_address="192.0.2.10", user_agent="pytest")
    if RuleSet.of(session).has(RECORDING_CONSENT):
        participant_answer_recording_consent(
            participant=participant, accepted=True, ip_address="192.0.2.10", user_agent="pytest", language="de"
        )
    participant_join(participant=participant)
    VerificationSession.objects.filter(pk=session.pk).update(waiting_at=timezone.now() - timedelta(seconds=waited))
    return VerificationSession.objects.select_related("business", "workflow").get(pk=session.pk)


def available(operator: Operator) -> Operator:
    operator_set_presence(operator=operator, presence=Operator.Presence.AVAILABLE)
    return operator
