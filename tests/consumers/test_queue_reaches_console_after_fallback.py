"""A call held back for the operators who fit it reaches another operator's
console when its fallback time passes, although nothing in the database
changes then: the queue socket wakes at the snapshot's ``reevaluate_in``."""

import pytest
from channels.db import database_sync_to_async

from operators import consumers
from tests.consumers.helpers import QUEUE_PATH, user_session_key
from tests.routing.conftest import skills, waiting

pytestmark = pytest.mark.django_db(transaction=True)


def _german_call_with_a_short_fallback(business, workflow, operator, seconds: int):
    business.routing_fallback_seconds = seconds
    business.save(update_fields=["routing_fallback_seconds"])
    skills(operator, languages=["en"])
    return waiting(business, workflow, language="de")


async def test_the_held_back_call_reaches_the_english_console_at_its_fallback(
    sockets, business_a, workflow_a, operator_a2, monkeypatch
):
    # The periodic refresh far away: only the wake at the fallback can
    # bring the call within the wait below.
    monkeypatch.setattr(consumers, "REFRESH_SECONDS", 120)
    session = await database_sync_to_async(_german_call_with_a_short_fallback)(business_a, workflow_a, operator_a2, 5)
    console = await sockets.user(QUEUE_PATH, operator_a2.user)

    first = await console.receive()
    assert (first["entries"], first["held_back"]) == ([], 1)
    assert 0 < first["reevaluate_in"] <= 5

    later = await console.receive(timeout=30)

    assert [entry["id"] for entry in later["entries"]] == [session.public_id.hex]
    assert later["entries"][0]["offered"] == {"reason": "fallback", "label": "fallback after 5 s"}


def test_the_refresher_sleeps_until_the_next_fallback_and_never_longer_than_its_period():
    socket = consumers.QueueConsumer()
    socket.reevaluate_in = None
    assert socket._refresh_delay() == consumers.REFRESH_SECONDS
    socket.reevaluate_in = 1.5
    assert socket._refresh_delay() == pytest.approx(1.5 + consumers.FALLBACK_SLACK_SECONDS)
    socket.reevaluate_in = consumers.REFRESH_SECONDS * 10
    assert socket._refresh_delay() == consumers.REFRESH_SECONDS


async def test_a_german_console_reads_the_queue_in_german(sockets, business_a, workflow_a, operator_a2):
    await database_sync_to_async(_german_call_with_a_short_fallback)(business_a, workflow_a, operator_a2, 0)
    key = await database_sync_to_async(user_session_key)(operator_a2.user)
    console = await sockets.open(QUEUE_PATH, session_key=key, extra_headers=[(b"accept-language", b"de-DE,de;q=0.9")])
    queue = await console.receive()
    assert [(e["language_name"], e["offered"]["label"]) for e in queue["entries"]] == [
        ("Deutsch", "offen für das ganze Ident-Team")
    ]
