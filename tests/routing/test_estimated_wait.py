"""The waiting customer's estimate divides the queue ahead of them by the
operators the queue offers their call to, each call taking the median of
the business's recent ones; without history there is no figure."""

from datetime import timedelta

from django.utils import timezone

from operators.services import session_answer
from sessions_app.models import VerificationSession
from sessions_app.selectors import call_state_for_customer
from tests.conftest import create_call
from tests.routing.conftest import available, skills, waiting


def _ended_call(business, workflow, minutes: float):
    session, _ = create_call(business, workflow)
    ended = timezone.now() - timedelta(minutes=30)
    VerificationSession.objects.filter(pk=session.pk).update(answered_at=ended - timedelta(minutes=minutes), ended_at=ended)


def _queue_of(session) -> dict:
    return call_state_for_customer(participant_id=session.participants.get().pk)["queue"]


def test_without_history_there_is_no_figure(routing_business, workflow_a, operator_a):
    available(skills(operator_a, languages=["de"]))
    session = waiting(routing_business, workflow_a, language="de")
    assert _queue_of(session) == {"position": 1, "operators_available": 1, "operators_fitting": 1, "estimate_minutes": None}


def test_only_operators_the_call_is_offered_to_shorten_the_wait(routing_business, workflow_a, operator_a, operator_a2):
    for minutes in (4, 4, 4):
        _ended_call(routing_business, workflow_a, minutes)
    available(skills(operator_a, languages=["de"]))
    available(skills(operator_a2, languages=["en"]))
    waiting(routing_business, workflow_a, language="de", name="Erste Kundin", waited=30)
    waiting(routing_business, workflow_a, language="de", name="Zweiter Kunde", waited=20)
    third = waiting(routing_business, workflow_a, language="de", name="Dritte Kundin", waited=10)

    queue = _queue_of(third)

    # Two calls ahead, one German-speaking operator: two rounds of 4 minutes.
    assert queue == {"position": 3, "operators_available": 2, "operators_fitting": 1, "estimate_minutes": 8}


def test_an_english_call_counts_both_operators(routing_business, workflow_a, operator_a, operator_a2):
    for minutes in (4, 4, 4):
        _ended_call(routing_business, workflow_a, minutes)
    available(skills(operator_a, languages=["de", "en"]))
    available(skills(operator_a2, languages=["en"]))
    waiting(routing_business, workflow_a, language="en", name="Anne First", waited=30)
    waiting(routing_business, workflow_a, language="en", name="Bob Second", waited=20)
    third = waiting(routing_business, workflow_a, language="en", name="Cleo Third", waited=10)
    assert _queue_of(third)["operators_fitting"] == 2
    assert _queue_of(third)["estimate_minutes"] == 4


def test_when_nobody_who_fits_is_available_there_is_no_figure(routing_business, workflow_a, operator_a2):
    for minutes in (4, 4, 4):
        _ended_call(routing_business, workflow_a, minutes)
    available(skills(operator_a2, languages=["en"]))
    session = waiting(routing_business, workflow_a, language="de")
    queue = _queue_of(session)
    assert (queue["operators_available"], queue["operators_fitting"], queue["estimate_minutes"]) == (1, 0, None)


def test_answering_a_call_makes_the_customers_behind_it_resync(
    routing_business, workflow_a, operator_a, django_capture_on_commit_callbacks
):
    """The queue moved: the next customer's place and estimate change, so
    their page must be told (a new state version), not only the consoles."""
    skills(operator_a, languages=["de"])
    first = waiting(routing_business, workflow_a, language="de", name="Erste Kundin", waited=30)
    second = waiting(routing_business, workflow_a, language="de", name="Zweiter Kunde", waited=20)
    before = second.state_version

    with django_capture_on_commit_callbacks(execute=True):
        session_answer(session_id=first.pk, operator=operator_a)

    second.refresh_from_db()
    assert second.state_version > before
    assert _queue_of(second)["position"] == 1
