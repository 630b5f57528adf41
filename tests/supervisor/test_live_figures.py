"""The floor now: the queue, its longest wait, and who of the operators is
available, in a call or away."""

from datetime import timedelta

from django.utils import timezone

from accounts.models import Operator
from accounts.services import operator_create
from operators.supervisor.selectors import live_figures
from tests.conftest import make_user
from tests.supervisor.conftest import State, make_session


def test_queue_longest_wait_and_operators(business_a, workflow_a, operator_a, operator_a2, business_b, workflow_b, operator_b):
    now = timezone.now()
    # Alice is available and was seen just now; Anton is in a call; Bea said
    # she is available but has not been heard from for an hour (gone).
    Operator.objects.filter(pk=operator_a.pk).update(presence="available", last_seen_at=now)
    bea = operator_create(user=make_user("bea"), business=business_a, display_name="Bea")
    Operator.objects.filter(pk=bea.pk).update(presence="available", last_seen_at=now - timedelta(hours=1))
    make_session(business_a, workflow_a, waiting_at=now - timedelta(seconds=200), wait=20, operator=operator_a2)
    make_session(business_a, workflow_a, waiting_at=now - timedelta(seconds=95), state=State.WAITING)
    make_session(business_a, workflow_a, waiting_at=now - timedelta(seconds=30), state=State.WAITING)
    make_session(business_a, workflow_a, waiting_at=now - timedelta(days=1), wait=5, length=60, operator=operator_a2)
    # Beta Bank's queue is not Alpha Bank's.
    make_session(business_b, workflow_b, waiting_at=now - timedelta(seconds=900), state=State.WAITING)

    figures = live_figures(business=business_a, now=now)
    assert figures["waiting"] == 2
    assert figures["longest_wait_seconds"] == 95
    assert figures["by_state"] == {"created": 0, "waiting": 2, "in_call": 1}
    assert figures["operators"] == {"available": 1, "in_call": 1, "away": 1}


def test_an_empty_floor(business_a):
    figures = live_figures(business=business_a)
    assert figures["waiting"] == 0 and figures["longest_wait_seconds"] == 0
    assert figures["operators"] == {"available": 0, "in_call": 0, "away": 0}
