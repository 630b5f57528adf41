"""A look at evidence while a service holds the session.

Every look at a capture is audited (sessions_app.services.evidence_viewed_record).
audit_record used to take the business's audit chain first; the event's
foreign key then waited for the session's row, held by a service that in turn
waited for the chain: PostgreSQL aborted one with "deadlock detected" (seen in
the browser test on PostgreSQL as an operator's thumbnails loaded during a
decision). audit_record now takes the session before the chain
(sessions_app.locks), so the look simply waits. On SQLite writers queue whole,
so the test only means something on PostgreSQL, where CI's second pass runs it.
"""

import threading
import time

import pytest
from django.db import connections

from sessions_app import locks, services
from sessions_app.audit import Actor, audit_verify_chain
from sessions_app.models import AuditEvent, Evidence
from tests.console.images import jpeg
from workflows import services as workflow_services

WAIT_SECONDS = 3
HOLD_SECONDS = 0.5


@pytest.mark.django_db(transaction=True)
def test_a_look_at_evidence_while_a_prompt_holds_the_session_never_deadlocks(
    answered_call, operator_a, business_a, monkeypatch
):
    participant = answered_call.participant
    capture = workflow_services.capture_request_create(
        step=participant.steps.get(kind="document"), operator=operator_a, kind=Evidence.Kind.DOCUMENT_FRONT
    )
    evidence = workflow_services.evidence_store_image(
        capture=capture, source=Evidence.Source.CUSTOMER_DEVICE, data=jpeg()
    )
    prompt_holds_session = threading.Event()
    original_session_lock = locks.session_lock

    def interleaved_session_lock(session_id):
        session = original_session_lock(session_id)
        if threading.current_thread().name == "prompt":
            prompt_holds_session.set()
            time.sleep(HOLD_SECONDS)
        return session

    monkeypatch.setattr(locks, "session_lock", interleaved_session_lock)
    outcomes = {}

    def prompt():
        try:
            services.participant_set_prompt(
                participant=participant, prompt={"code": "hold_still"}, actor=Actor.operator(operator_a)
            )
            outcomes["prompt"] = "shown"
        except Exception as error:
            outcomes["prompt"] = f"error: {error!r}"
        finally:
            connections.close_all()

    def look():
        try:
            prompt_holds_session.wait(WAIT_SECONDS)
            services.evidence_viewed_record(user=operator_a.user, evidence=evidence)
            outcomes["look"] = "audited"
        except Exception as error:
            outcomes["look"] = f"error: {error!r}"
        finally:
            connections.close_all()

    threads = [threading.Thread(target=prompt, name="prompt"), threading.Thread(target=look, name="look")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert outcomes == {"prompt": "shown", "look": "audited"}
    assert AuditEvent.objects.filter(session=answered_call.session, action="evidence.viewed").count() == 1
    assert audit_verify_chain(business=business_a) == []
