"""Scenario 5: the broker (Redis) is down between a commit and the publish of
its webhook task.

The change and its webhook event commit together (the outbox); the publish
after commit fails and is swallowed, so the change stands. When Redis is
back, the periodic outbox sweep (Celery beat, every 30 s, in the real
worker) hands the event out and the worker delivers it, once. A transaction
that rolls back leaves no event and sends nothing.
"""

import time

import pytest
from django.db import transaction

from faults.report import record
from faults.services import wait_until
from operators.integration import api_session_create
from operators.models import WebhookEvent
from sessions_app.models import VerificationSession
from sessions_app.services import ParticipantSpec

SWEEP_SECONDS = 30  # kyc/settings.py CELERY_BEAT_SCHEDULE["outbox-sweep"]


class Rollback(Exception):
    pass


def _create(business, workflow, reference: str):
    return api_session_create(
        business=business,
        workflow=workflow,
        kind="one_on_one",
        participants=[ParticipantSpec(name="Max Mustermann", email="max@example.com")],
        business_reference=reference,
    )


@pytest.mark.django_db(transaction=True)
def test_a_webhook_committed_while_the_broker_is_down_is_delivered_once_after_it_is_back(
    business_a, workflow_a, job_redis, start_worker, receiver
):
    worker = start_worker(beat=True, name="sweeper")

    # Rolled back while everything is up: no event, nothing sent.
    with pytest.raises(Rollback):
        with transaction.atomic():
            _create(business_a, workflow_a, "ROLLED-BACK")
            raise Rollback
    assert not VerificationSession.objects.filter(business_reference="ROLLED-BACK").exists()
    assert not WebhookEvent.objects.exists()

    job_redis.kill()
    down_at = time.monotonic()
    committed = _create(business_a, workflow_a, "COMMITTED").session  # the publish after commit fails
    event = WebhookEvent.objects.get(session=committed)
    assert event.state == WebhookEvent.State.PENDING and event.attempts == 0
    time.sleep(max(0.0, 3 - (time.monotonic() - down_at)))
    assert receiver.received == []
    job_redis.start()
    back_at = time.monotonic()

    # Bounded: the next sweep after the worker's reconnect, plus the attempt.
    wait_until(lambda: receiver.delivered(), timeout=SWEEP_SECONDS + 45, interval=0.5,
               message="the outbox event delivered after the broker came back")
    delivered_after = time.monotonic() - back_at
    # One more sweep passes: still exactly that one event, once.
    time.sleep(2)
    assert [hook.event_id for hook in receiver.received] == [str(event.public_id)]
    assert receiver.received[0].body["data"]["session"]["business_reference"] == "COMMITTED"
    event.refresh_from_db()
    assert event.state == WebhookEvent.State.DELIVERED
    assert WebhookEvent.objects.count() == 1
    assert "outbox_sweep" in worker.log()
    record("5 broker down after commit", broker_down=round(back_at - down_at, 1),
           delivered_after_broker_back=delivered_after)
