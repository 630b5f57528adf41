"""The console's queue (operators.selectors.queue_snapshot) shows each
operator the calls the queue offers them, oldest first, with the call's
language, why it is offered, and when a held-back call falls back."""

from datetime import timedelta

from operators.selectors import queue_snapshot
from tests.routing.conftest import skills, waiting


def test_each_operator_sees_the_calls_that_fit_them_oldest_first(routing_business, workflow_a, operator_a, operator_a2):
    skills(operator_a, languages=["de"])
    skills(operator_a2, languages=["en"])
    newer_german = waiting(routing_business, workflow_a, language="de", name="Greta Neu", waited=5)
    english = waiting(routing_business, workflow_a, language="en", name="Emma Early", waited=20)
    older_german = waiting(routing_business, workflow_a, language="de", name="Gustav Alt", waited=30)

    now = older_german.waiting_at + timedelta(seconds=30)  # fixed, however slow the machine
    alice = queue_snapshot(operator=operator_a, now=now)
    anton = queue_snapshot(operator=operator_a2, now=now)

    assert [e["id"] for e in alice["entries"]] == [older_german.public_id.hex, newer_german.public_id.hex]
    assert [(e["language"], e["language_name"], e["offered"]["label"]) for e in alice["entries"]] == [
        ("de", "German", "speaks German"),
        ("de", "German", "speaks German"),
    ]
    assert [e["id"] for e in anton["entries"]] == [english.public_id.hex]
    assert anton["held_back"] == 2
    # The older German call falls back to Anton first: 60 s after it began waiting.
    assert anton["reevaluate_in"] == 30
    assert alice["held_back"] == 1
    assert alice["reevaluate_in"] == (english.waiting_at + timedelta(seconds=60) - now).total_seconds()


def test_after_the_fallback_the_call_is_in_the_other_operators_queue_and_says_why(
    routing_business, workflow_a, operator_a2
):
    skills(operator_a2, languages=["en"])
    german = waiting(routing_business, workflow_a, language="de", waited=10)

    before = queue_snapshot(operator=operator_a2, now=german.waiting_at + timedelta(seconds=59))
    after = queue_snapshot(operator=operator_a2, now=german.waiting_at + timedelta(seconds=60))

    assert before["entries"] == [] and before["held_back"] == 1
    assert [e["offered"] for e in after["entries"]] == [{"reason": "fallback", "label": "fallback after 60 s"}]
    assert after["held_back"] == 0 and after["reevaluate_in"] is None


def test_an_operator_of_another_business_sees_none_of_it(routing_business, workflow_a, operator_b):
    skills(operator_b, languages=["de"])
    waiting(routing_business, workflow_a, language="de")
    snapshot = queue_snapshot(operator=operator_b)
    assert (snapshot["entries"], snapshot["held_back"]) == ([], 0)
