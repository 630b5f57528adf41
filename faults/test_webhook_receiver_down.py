"""Scenario 6: the business's webhook receiver is down for an hour.

A simulated clock (``django.utils.timezone.now`` patched) runs the product's
own code: each change writes its event and tries it after commit, and the
periodic ``outbox_sweep`` task (beat's 30 s) sends whatever is due, here
inline (eager Celery) at every tick. Two sessions live through the outage,
their events minutes apart, so their retry schedules interleave. When the
receiver is back, every event arrives, each session's in the order they
happened, none twice under different ids.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from unittest import mock

import pytest

from faults.report import record
from operators.integration import api_session_create
from operators.models import WebhookDelivery, WebhookEvent
from operators.services import decision_record
from operators.tasks import outbox_sweep
from sessions_app.audit import Actor
from sessions_app.services import (
    ParticipantSpec,
    participant_accept_terms,
    participant_join,
    session_assign_operator,
    session_end,
)

TICK = timedelta(seconds=30)  # beat's outbox sweep
OUTAGE = timedelta(hours=1)


@dataclass
class Clock:
    now: datetime

    def advance(self, delta: timedelta):
        self.now += delta


@pytest.fixture()
def eager_celery(settings):
    from kyc.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = True
    previous = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


@pytest.mark.django_db
def test_an_hour_long_receiver_outage_loses_nothing_and_keeps_each_sessions_order(
    business_a, workflow_a, operator_a, receiver, eager_celery, django_capture_on_commit_callbacks
):
    business_a.refresh_from_db()
    clock = Clock(datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc))

    def create():
        return api_session_create(
            business=business_a,
            workflow=workflow_a,
            kind="one_on_one",
            participants=[ParticipantSpec(name="Max Mustermann", email="max@example.com")],
            business_reference="REF-1",
        )

    def join(session):
        participant = session.participants.get()
        participant_accept_terms(participant=participant, ip_address="192.0.2.1", user_agent="faults")
        participant_join(participant=participant)

    def answer(session):
        session_assign_operator(session_id=session.pk, operator=operator_a)

    def decide(session):
        decision_record(participant=session.participants.get(), operator=operator_a, outcome="approve",
                        reason_code="verified")

    def end(session):
        session.refresh_from_db()
        session_end(session=session, actor=Actor.operator(operator_a))

    # What happens when, in minutes after the receiver went down. Session one
    # is created before the outage's first minute and its customer calls half
    # an hour later; session two lives entirely inside the outage.
    sessions = {}
    plan = {
        0: [("one", create)],
        10: [("two", create)],
        29: [("one", join)],
        30: [("one", answer)],
        31: [("one", decide)],
        32: [("one", end)],
        41: [("two", join)],
        46: [("two", answer)],
        52: [("two", end)],
    }

    receiver.stop()  # the port is closed: every attempt is refused
    with mock.patch("django.utils.timezone.now", side_effect=lambda: clock.now):
        started = clock.now
        minute = -1
        while clock.now - started < timedelta(hours=30):
            elapsed = int((clock.now - started).total_seconds() // 60)
            if elapsed != minute:
                for m in range(minute + 1, elapsed + 1):
                    for name, action in plan.get(m, []):
                        with django_capture_on_commit_callbacks(execute=True):
                            if action is create:
                                sessions[name] = create().session
                            else:
                                action(sessions[name])
                minute = elapsed
            if clock.now - started >= OUTAGE and receiver._server is None:
                receiver.start()
                back_at = clock.now
            outbox_sweep()
            if clock.now - started > OUTAGE and not WebhookEvent.objects.filter(state=WebhookEvent.State.PENDING).exists():
                break
            clock.advance(TICK)
        all_delivered_at = clock.now

    events = list(WebhookEvent.objects.order_by("created_at", "pk"))
    assert len(events) == 9  # five of session one (created … completed), four of session two (… abandoned)
    assert all(event.state == WebhookEvent.State.DELIVERED for event in events)
    delivered = receiver.delivered()
    # Nothing twice under different ids: one delivery per event id, and no
    # two ids for the same change.
    assert sorted(hook.event_id for hook in delivered) == sorted(str(event.public_id) for event in events)
    # In order per session: arrival order is the order the changes happened.
    for session in sessions.values():
        expected = [event.event_type for event in events if event.session_id == session.pk]
        arrived = [hook.event_type for hook in delivered if hook.body["data"]["session"]["id"] == str(session.public_id)]
        assert arrived == expected, f"session {session.public_id}: {arrived} != {expected}"
    record(
        "6 receiver down 1 h (simulated)",
        events=len(events),
        attempts_refused_while_down=WebhookDelivery.objects.filter(status_code__isnull=True).count(),
        all_delivered_minutes_after_receiver_back=round((all_delivered_at - back_at).total_seconds() / 60, 1),
    )
