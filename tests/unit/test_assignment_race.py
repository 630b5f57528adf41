"""Two operators of the same business answer the same waiting call at the same moment.

Alice and Anton both click Answer; exactly one gets the call, the other is told
it is not available. Each runs in its own thread with its own database
connection, so the row lock (PostgreSQL) or the write lock taken at BEGIN
(SQLite, transaction_mode IMMEDIATE) is what decides, as in production.
"""

import threading
import time

import pytest
from django.db import connections

from sessions_app import services
from sessions_app.audit import audit_verify_chain
from sessions_app.models import AuditEvent, Participant, VerificationSession
from sessions_app.services import SessionNotAvailable, session_assign_operator

# Long enough that, without a lock, the second operator would read "waiting"
# before the first one wrote "in call".
HOLD_SECONDS = 0.5


@pytest.fixture
def slow_answer(monkeypatch):
    """Keep the winner inside its transaction, after it has checked the state
    and before it writes, so the loser arrives while the call still looks free."""
    original = services._session_move

    def held(session, target, **kwargs):
        if target == VerificationSession.State.IN_CALL:
            time.sleep(HOLD_SECONDS)
        return original(session, target, **kwargs)

    monkeypatch.setattr(services, "_session_move", held)


def _answer_together(session_id, operators):
    barrier = threading.Barrier(len(operators))
    outcomes = {}

    def answer(operator):
        try:
            barrier.wait(timeout=10)
            session_assign_operator(session_id=session_id, operator=operator)
            outcomes[operator.pk] = "won"
        except SessionNotAvailable:
            outcomes[operator.pk] = "not_available"
        except Exception as error:  # anything else is a failure of the test, reported below
            outcomes[operator.pk] = f"error: {error!r}"
        finally:
            connections.close_all()

    threads = [threading.Thread(target=answer, args=(operator,)) for operator in operators]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "an answering thread hung"
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_exactly_one_of_two_operators_answering_at_once_gets_the_call(
    waiting_call, operator_a, operator_a2, business_a, slow_answer
):
    outcomes = _answer_together(waiting_call.session.pk, [operator_a, operator_a2])

    assert sorted(outcomes.values()) == ["not_available", "won"], outcomes
    winner = operator_a if outcomes[operator_a.pk] == "won" else operator_a2
    session = VerificationSession.objects.get(pk=waiting_call.session.pk)
    assert session.state == VerificationSession.State.IN_CALL
    assert session.operator_id == winner.pk
    assert Participant.objects.get(pk=waiting_call.participant.pk).state == Participant.State.IN_CALL


@pytest.mark.django_db(transaction=True)
def test_a_race_for_a_call_leaves_one_answer_in_an_intact_audit_trail(
    waiting_call, operator_a, operator_a2, business_a, slow_answer
):
    _answer_together(waiting_call.session.pk, [operator_a, operator_a2])

    answered = AuditEvent.objects.filter(
        session=waiting_call.session, action="session.transition", data__to=VerificationSession.State.IN_CALL
    )
    assert answered.count() == 1
    assert (
        AuditEvent.objects.filter(
            participant=waiting_call.participant, action="participant.transition", data__to=Participant.State.IN_CALL
        ).count()
        == 1
    )
    assert audit_verify_chain(business=business_a) == []
