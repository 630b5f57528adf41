"""Alice and Anton click Answer on the same waiting call at the same moment,
each in their own browser: exactly one gets the call page's URL, the other a
409 that says the call was taken.

Each click runs in its own thread with its own database connection, so the
database lock decides, as in production (PostgreSQL's row lock, SQLite's
write lock taken at BEGIN). The winner is held inside its transaction after
it read the session, so without the lock the loser would also see "waiting".
"""

import threading
import time

import pytest
from django.db import connections
from django.test import Client
from django.utils import timezone

from sessions_app import services
from sessions_app.models import AuditEvent, Participant, VerificationSession

HOLD_SECONDS = 0.5


@pytest.fixture
def slow_answer(monkeypatch):
    original = services._session_move

    def held(session, target, **kwargs):
        if target == VerificationSession.State.IN_CALL:
            time.sleep(HOLD_SECONDS)
        return original(session, target, **kwargs)

    monkeypatch.setattr(services, "_session_move", held)


def _click_answer_together(session, users) -> dict:
    browsers = {}
    for user in users:
        browsers[user.pk] = Client()
        browsers[user.pk].force_login(user)
    url = f"/console/sessions/{session.public_id.hex}/answer"
    barrier = threading.Barrier(len(users))
    responses = {}

    def click(user):
        try:
            barrier.wait(timeout=10)
            responses[user.pk] = browsers[user.pk].post(url)
        except Exception as error:  # reported by the assertions below
            responses[user.pk] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=click, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "an answering browser hung"
    return responses


@pytest.mark.django_db(transaction=True)
def test_exactly_one_of_two_operators_clicking_answer_at_once_gets_the_call(
    waiting_call, operator_a, operator_a2, slow_answer
):
    participant = Participant.objects.get(pk=waiting_call.participant.pk)
    assert participant.state == Participant.State.WAITING
    assert (timezone.now() - participant.last_seen_at).total_seconds() < 5, "the customer must be present"

    responses = _click_answer_together(waiting_call.session, [operator_a.user, operator_a2.user])

    assert all(not isinstance(r, Exception) for r in responses.values()), responses
    statuses = sorted(response.status_code for response in responses.values())
    assert statuses == [200, 409], statuses
    winner_user_id = next(user_id for user_id, r in responses.items() if r.status_code == 200)
    loser = next(r for r in responses.values() if r.status_code == 409)
    session = VerificationSession.objects.get(pk=waiting_call.session.pk)
    assert responses[winner_user_id].json() == {"call_url": f"/console/calls/{session.public_id.hex}/"}
    assert loser.json()["error"]["code"] == "not_available"
    assert "Another operator has taken this call" in loser.json()["error"]["message"]
    assert session.state == VerificationSession.State.IN_CALL
    assert session.operator.user_id == winner_user_id
    assert Participant.objects.get(pk=participant.pk).state == Participant.State.IN_CALL


@pytest.mark.django_db(transaction=True)
def test_answer_race_over_http_writes_one_answer_to_the_audit_trail(waiting_call, operator_a, operator_a2, slow_answer):
    _click_answer_together(waiting_call.session, [operator_a.user, operator_a2.user])

    answered = AuditEvent.objects.filter(
        session=waiting_call.session, action="session.transition", data__to=VerificationSession.State.IN_CALL
    )
    assert answered.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_winner_can_open_the_call_and_the_loser_cannot(waiting_call, operator_a, operator_a2, slow_answer):
    responses = _click_answer_together(waiting_call.session, [operator_a.user, operator_a2.user])

    call_url = f"/console/calls/{waiting_call.session.public_id.hex}/"
    for user in (operator_a.user, operator_a2.user):
        browser = Client()
        browser.force_login(user)
        expected = 200 if responses[user.pk].status_code == 200 else 404
        assert browser.get(call_url).status_code == expected
