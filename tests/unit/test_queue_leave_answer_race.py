"""A customer leaves the queue at the very moment an operator answers.

Both services lock the session and the participant; if they took the two locks
in opposite orders, PostgreSQL would find a deadlock and abort one of them
with a database error instead of one simply going first.
"""

import threading

import pytest
from django.db import connections

from sessions_app import locks
from sessions_app.audit import Actor, audit_verify_chain
from sessions_app.models import Participant, VerificationSession
from sessions_app.services import (
    SessionNotAvailable,
    participant_leave,
    session_assign_operator,
)

S = VerificationSession.State
P = Participant.State
WAIT_SECONDS = 3


@pytest.mark.django_db(transaction=True)
def test_customer_leaving_while_the_operator_answers_never_deadlocks(waiting_call, operator_a, business_a, monkeypatch):
    customer_started = threading.Event()
    operator_holds_session = threading.Event()
    original_locked_session = locks.session_lock

    def interleaved_locked_session(session_id):
        # Customer: already inside its transaction; let the operator lock the
        # session first. Operator: lock the session only once the customer's
        # transaction has begun. (On SQLite the customer's BEGIN IMMEDIATE
        # keeps the operator out altogether; the waits then time out.)
        if threading.current_thread().name == "customer":
            customer_started.set()
            operator_holds_session.wait(WAIT_SECONDS)
            return original_locked_session(session_id)
        customer_started.wait(WAIT_SECONDS)
        session = original_locked_session(session_id)
        operator_holds_session.set()
        return session

    monkeypatch.setattr(locks, "session_lock", interleaved_locked_session)
    outcomes = {}

    def customer():
        try:
            participant_leave(participant=waiting_call.participant, actor=Actor.customer(), reason="tab_closed")
            outcomes["customer"] = "left"
        except Exception as error:
            outcomes["customer"] = f"error: {error!r}"
        finally:
            connections.close_all()

    def operator():
        try:
            session_assign_operator(session_id=waiting_call.session.pk, operator=operator_a)
            outcomes["operator"] = "answered"
        except SessionNotAvailable:
            outcomes["operator"] = "not_available"
        except Exception as error:
            outcomes["operator"] = f"error: {error!r}"
        finally:
            connections.close_all()

    threads = [threading.Thread(target=customer, name="customer"), threading.Thread(target=operator, name="operator")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert outcomes["customer"] == "left", outcomes
    assert outcomes["operator"] in ("answered", "not_available"), outcomes
    session = VerificationSession.objects.get(pk=waiting_call.session.pk)
    participant = Participant.objects.get(pk=waiting_call.participant.pk)
    if outcomes["operator"] == "answered":
        # The operator went first; the customer then left the call, which ends it.
        assert (session.state, participant.state) == (S.ABANDONED, P.LEFT)
    else:
        assert (session.state, participant.state) == (S.CREATED, P.TERMS_ACCEPTED)
    assert audit_verify_chain(business=business_a) == []
