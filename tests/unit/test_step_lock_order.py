"""An operator's capture request while another service holds the session.

Every service locks the session, then the participant, then the step. The
capture request used to lock its step joined to participant and session in
one FOR UPDATE, which on PostgreSQL takes those rows in the plan's order: with
a prompt (session, then participant) under way, each held what the other
waited for, and PostgreSQL aborted one with "deadlock detected" (seen in a
browser test on PostgreSQL). Now the second simply waits for the first.
"""

import threading
import time

import pytest
from django.db import connections

from sessions_app import locks, services
from sessions_app.audit import Actor, audit_verify_chain
from sessions_app.models import Evidence
from workflows import services as workflow_services
from workflows.models import CaptureRequest

WAIT_SECONDS = 3
# How long the prompt holds the session before it goes on to the participant:
# time for the capture request to take whatever rows it takes first.
HOLD_SECONDS = 0.5


@pytest.mark.django_db(transaction=True)
def test_capture_request_while_a_prompt_holds_the_session_never_deadlocks(answered_call, operator_a, business_a, monkeypatch):
    participant = answered_call.participant
    step = participant.steps.get(kind="document")
    prompt_holds_session = threading.Event()
    original_locked_session = locks.session_lock

    def interleaved_locked_session(session_id):
        session = original_locked_session(session_id)
        if threading.current_thread().name == "prompt":
            prompt_holds_session.set()
            time.sleep(HOLD_SECONDS)
        return session

    monkeypatch.setattr(locks, "session_lock", interleaved_locked_session)
    outcomes = {}

    def prompt():
        try:
            services.participant_set_prompt(
                participant=participant, prompt={"code": "document_front"}, actor=Actor.operator(operator_a)
            )
            outcomes["prompt"] = "shown"
        except Exception as error:
            outcomes["prompt"] = f"error: {error!r}"
        finally:
            connections.close_all()

    def capture():
        try:
            prompt_holds_session.wait(WAIT_SECONDS)
            workflow_services.capture_request_create(step=step, operator=operator_a, kind=Evidence.Kind.DOCUMENT_FRONT)
            outcomes["capture"] = "requested"
        except Exception as error:
            outcomes["capture"] = f"error: {error!r}"
        finally:
            connections.close_all()

    threads = [threading.Thread(target=prompt, name="prompt"), threading.Thread(target=capture, name="capture")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert outcomes == {"prompt": "shown", "capture": "requested"}
    participant.refresh_from_db()
    assert participant.current_prompt == {"code": "document_front"}
    assert CaptureRequest.objects.filter(participant=participant, state=CaptureRequest.State.REQUESTED).count() == 1
    assert audit_verify_chain(business=business_a) == []
