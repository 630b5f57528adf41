"""A waiting customer's page follows the operators: signing in makes an
operator available, a presence change makes every waiting session of the
business resync, and the estimated wait is an honest figure or none."""

from datetime import timedelta

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Operator
from accounts.services import operator_set_presence
from sessions_app.models import VerificationSession
from sessions_app.selectors import call_state_for_customer, queue_wait_estimate_minutes
from tests.conftest import create_call


def test_an_operator_who_signs_in_is_available(operator_a):
    assert operator_a.presence == Operator.Presence.AWAY
    client = Client()
    response = client.post(reverse("operators:login"), {"username": "alice", "password": "correct-horse-battery-1"})
    assert response.status_code == 302
    operator_a.refresh_from_db()
    assert operator_a.presence == Operator.Presence.AVAILABLE
    client.post(reverse("operators:logout"))
    operator_a.refresh_from_db()
    assert operator_a.presence == Operator.Presence.AWAY


def test_a_presence_change_makes_waiting_sessions_resync(waiting_call, operator_a, other_call):
    """The waiting session of business A resyncs; business B's session does not."""
    before = waiting_call.session.state_version
    other_before = other_call.session.state_version
    operator_set_presence(operator=operator_a, presence=Operator.Presence.AVAILABLE)
    waiting_call.session.refresh_from_db()
    assert waiting_call.session.state_version > before
    other_call.session.refresh_from_db()
    assert other_call.session.state_version == other_before
    # Setting the same presence again changes nothing a customer sees.
    again = waiting_call.session.state_version
    operator_set_presence(operator=operator_a, presence=Operator.Presence.AVAILABLE)
    waiting_call.session.refresh_from_db()
    assert waiting_call.session.state_version == again


def _ended_call(business, workflow, minutes: float):
    session, _ = create_call(business, workflow)
    ended = timezone.now() - timedelta(hours=1)
    VerificationSession.objects.filter(pk=session.pk).update(
        answered_at=ended - timedelta(minutes=minutes), ended_at=ended
    )


def test_the_estimate_is_rounds_of_the_median_recent_call(business_a, workflow_a):
    assert queue_wait_estimate_minutes(business_a, position=3, available=1) is None  # no history: no figure
    for minutes in (2, 4, 10):
        _ended_call(business_a, workflow_a, minutes)
    assert queue_wait_estimate_minutes(business_a, position=1, available=1) == 0  # next
    assert queue_wait_estimate_minutes(business_a, position=3, available=1) == 8  # two calls of 4 min ahead
    assert queue_wait_estimate_minutes(business_a, position=3, available=2) == 4
    assert queue_wait_estimate_minutes(business_a, position=3, available=0) is None  # nobody to answer


def test_the_waiting_customers_state_carries_the_estimate(waiting_call, operator_a):
    operator_set_presence(operator=operator_a, presence=Operator.Presence.AVAILABLE)
    state = call_state_for_customer(participant_id=waiting_call.participant.pk)
    assert state["queue"] == {"position": 1, "operators_available": 1, "operators_fitting": 1, "estimate_minutes": None}
