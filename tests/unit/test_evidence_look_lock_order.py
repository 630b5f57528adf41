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

import pytest

from sessions_app import services
from sessions_app.audit import Actor, audit_verify_chain
from sessions_app.models import AuditEvent, Evidence
from tests.console.images import jpeg
from tests.unit.lock_races import run_while_the_session_is_held
from workflows import services as workflow_services

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
    outcomes = run_while_the_session_is_held(
        monkeypatch,
        holder=("prompt", lambda: services.participant_set_prompt(
            participant=participant, prompt={"code": "hold_still"}, actor=Actor.operator(operator_a)
        ) and "shown"),
        waiter=("look", lambda: services.evidence_viewed_record(user=operator_a.user, evidence=evidence) or "audited"),
    )

    assert outcomes == {"prompt": "shown", "look": "audited"}
    assert AuditEvent.objects.filter(session=answered_call.session, action="evidence.viewed").count() == 1
    assert audit_verify_chain(business=business_a) == []
