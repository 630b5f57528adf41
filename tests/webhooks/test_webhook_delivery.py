"""Delivery: retried with exponential backoff for at least a day, nothing
lost while the receiver is down, duplicates carry the same id, a log of every
attempt. Tasks are called directly where the test walks the clock."""

from datetime import timedelta

import pytest
from django.utils import timezone

from operators import tasks
from operators.models import WebhookDelivery, WebhookEvent
from operators.webhooks import (
    webhook_backoff,
    webhook_deliver,
    webhook_emit,
    webhook_event_resend,
)
from tests.conftest import create_call


def emit(business, session) -> WebhookEvent:
    """An event written outside any later commit hook: as if its task was lost."""
    return webhook_emit(business=business, event_type="session.created", session=session, data={})


@pytest.fixture
def event(hooked_business_a, live_call) -> WebhookEvent:
    return emit(hooked_business_a, live_call.session)


def refreshed(event) -> WebhookEvent:
    event.refresh_from_db()
    return event


def test_a_failing_receiver_gets_the_event_again_after_backoff(event, receiver):
    receiver.script = [500, 503, 200]
    assert webhook_deliver(event_id=event.pk) == "retry"
    first_retry = refreshed(event).next_attempt_at
    assert timedelta(seconds=25) < first_retry - timezone.now() <= timedelta(seconds=31)
    assert webhook_deliver(event_id=event.pk) == "not_due", "not before its time"
    assert webhook_deliver(event_id=event.pk, now=first_retry) == "retry"
    second_wait = refreshed(event).next_attempt_at - first_retry
    assert timedelta(seconds=55) < second_wait <= timedelta(seconds=61), "the wait doubles"
    assert webhook_deliver(event_id=event.pk, now=refreshed(event).next_attempt_at) == "delivered"
    event = refreshed(event)
    assert event.state == WebhookEvent.State.DELIVERED
    assert event.attempts == 3
    log = list(event.deliveries.order_by("attempt"))
    assert [(d.attempt, d.status_code) for d in log] == [(1, 500), (2, 503), (3, 200)]
    assert all(d.duration_ms >= 0 and d.url == receiver.url for d in log)
    assert len(set(receiver.ids())) == 1, "every attempt carries the same event id"
    assert len({request.body for request in receiver.received}) == 1, "and the same body"


def test_the_sweep_makes_up_for_a_lost_task(event, receiver):
    """The worker died before it ran the task: the database still says the event is due."""
    assert receiver.received == []
    assert tasks.outbox_sweep()["webhook_events"] == 1
    assert receiver.ids() == [str(event.public_id)]
    assert refreshed(event).state == WebhookEvent.State.DELIVERED
    assert tasks.outbox_sweep()["webhook_events"] == 0


def test_nothing_is_lost_while_the_receiver_is_down(hooked_business_a, business_a, workflow_a, receiver):
    sessions = [create_call(business_a, workflow_a)[0] for _ in range(3)]
    receiver.stop()
    events = [emit(hooked_business_a, session) for session in sessions]
    tasks.outbox_sweep()
    for event in events:
        event = refreshed(event)
        assert event.state == WebhookEvent.State.PENDING
        assert event.deliveries.get().status_code is None
        assert "Connection refused" in event.last_error or "URLError" in event.last_error
    receiver.start()  # back on the same port
    later = timezone.now() + timedelta(minutes=5)
    for event in events:
        assert webhook_deliver(event_id=event.pk, now=later) == "delivered"
    assert sorted(receiver.ids()) == sorted(str(event.public_id) for event in events)


def test_a_late_answer_is_retried_and_the_duplicate_has_the_same_id(event, receiver, settings):
    """The receiver processed the first request but answered after our timeout:
    it sees the event twice, with one id to de-duplicate on."""
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    receiver.delay_first = 2.0
    assert webhook_deliver(event_id=event.pk) == "retry"
    assert "timed out" in refreshed(event).last_error.lower()
    assert webhook_deliver(event_id=event.pk, now=refreshed(event).next_attempt_at) == "delivered"
    assert len(receiver.received) == 2
    assert receiver.ids() == [str(event.public_id)] * 2
    assert receiver.received[0].json["id"] == receiver.received[1].json["id"]


def test_retries_go_on_for_at_least_a_day_and_then_stop(event, receiver, settings):
    receiver.script = [500]
    clock = event.created_at
    attempts = 0
    while refreshed(event).state == WebhookEvent.State.PENDING:
        clock = refreshed(event).next_attempt_at
        webhook_deliver(event_id=event.pk, now=clock)
        attempts += 1
        assert attempts < 40
    assert refreshed(event).state == WebhookEvent.State.FAILED
    assert clock - event.created_at >= timedelta(hours=settings.WEBHOOK_RETRY_HOURS)
    assert 10 <= attempts <= 20, "exponential: many tries early, few late"
    assert WebhookDelivery.objects.filter(event=event).count() == attempts


def test_backoff_doubles_and_is_capped():
    assert [webhook_backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert webhook_backoff(30) == timedelta(hours=6)


def test_a_redirect_is_not_followed(event, receiver):
    receiver.script = [302]
    assert webhook_deliver(event_id=event.pk) == "retry"
    assert event.deliveries.get().status_code == 302
    assert len(receiver.received) == 1


def test_a_failed_event_can_be_sent_again_by_hand(event, receiver):
    WebhookEvent.objects.filter(pk=event.pk).update(state=WebhookEvent.State.FAILED, attempts=12)
    delivery = webhook_event_resend(event=event)
    assert delivery.manual and delivery.status_code == 200 and delivery.attempt == 13
    assert refreshed(event).state == WebhookEvent.State.DELIVERED
    assert receiver.ids() == [str(event.public_id)]


def test_the_current_endpoint_is_used_for_a_retry(event, receiver, hooked_business_a):
    receiver.stop()
    webhook_deliver(event_id=event.pk)
    receiver.port = 0
    receiver.start()  # a new port: the business moved its endpoint
    type(hooked_business_a).objects.filter(pk=hooked_business_a.pk).update(webhook_url=receiver.url)
    assert webhook_deliver(event_id=event.pk, now=refreshed(event).next_attempt_at) == "delivered"


def test_a_session_events_go_in_the_order_they_happened(
    hooked_business_a, live_call, receiver, django_capture_on_commit_callbacks
):
    """The second event of a session waits while the first is in backoff, and
    follows it as soon as the first is delivered."""
    receiver.script = [500, 200]
    first = emit(hooked_business_a, live_call.session)
    second = webhook_emit(
        business=hooked_business_a, event_type="session.cancelled", session=live_call.session, data={}
    )
    assert webhook_deliver(event_id=first.pk) == "retry"
    assert webhook_deliver(event_id=second.pk) == "waiting"
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_deliver(event_id=first.pk, now=refreshed(first).next_attempt_at) == "delivered"
    assert receiver.ids()[-2:] == [str(first.public_id), str(second.public_id)]
    assert refreshed(second).state == WebhookEvent.State.DELIVERED
