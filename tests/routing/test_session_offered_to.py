"""operators.routing.session_offered_to: the one rule for which waiting call
the queue offers whom."""

from datetime import timedelta

from operators import routing
from sessions_app.models import VerificationSession
from sessions_app.selectors import session_language, session_language_expression
from tests.conftest import create_call
from tests.routing.conftest import skills, waiting
from workflows.models import WorkflowTemplate


def test_a_german_call_is_offered_to_the_operator_who_speaks_german(routing_business, workflow_a, operator_a):
    alice = skills(operator_a, languages=["de", "en"])
    session = waiting(routing_business, workflow_a, language="de")

    offer = routing.session_offered_to(session=session, operator=alice, now=session.waiting_at)

    assert (offer.offered, offer.reason, offer.label) == (True, routing.FITS, "speaks German")


def test_a_german_call_is_held_back_from_an_english_only_operator(routing_business, workflow_a, operator_a2):
    anton = skills(operator_a2, languages=["en"])
    session = waiting(routing_business, workflow_a, language="de")

    offer = routing.session_offered_to(session=session, operator=anton, now=session.waiting_at)

    assert (offer.offered, offer.reason) == (False, routing.NOT_LANGUAGE)
    assert offer.fallback_at == session.waiting_at + timedelta(seconds=60)


def test_a_regional_language_counts_as_its_language(routing_business, workflow_a, operator_a):
    alice = skills(operator_a, languages=["de"])
    session = waiting(routing_business, workflow_a, language="de-at")
    assert routing.session_offered_to(session=session, operator=alice, now=session.waiting_at).offered


def test_a_call_of_unknown_language_fits_every_operator(routing_business, workflow_a, operator_a2):
    anton = skills(operator_a2, languages=["en"])
    session = waiting(routing_business, workflow_a, language="")
    offer = routing.session_offered_to(session=session, operator=anton, now=session.waiting_at)
    assert (offer.offered, offer.reason, offer.label) == (True, routing.FITS, "language unknown")


def test_the_fallback_opens_the_call_to_everyone_at_exactly_the_wait(routing_business, workflow_a, operator_a2):
    anton = skills(operator_a2, languages=["en"])
    session = waiting(routing_business, workflow_a, language="de")
    fallback = session.waiting_at + timedelta(seconds=60)

    before = routing.session_offered_to(session=session, operator=anton, now=fallback - timedelta(microseconds=1))
    at = routing.session_offered_to(session=session, operator=anton, now=fallback)

    assert not before.offered
    assert (at.offered, at.reason, at.label) == (True, routing.FALLBACK, "fallback after 60 s")


def test_a_fallback_of_zero_offers_every_call_to_every_operator(business_a, workflow_a, operator_a2):
    assert business_a.routing_fallback_seconds == 0  # what a business that never set it up gets
    anton = skills(operator_a2, languages=["en"])
    session = waiting(business_a, workflow_a, language="de")
    offer = routing.session_offered_to(session=session, operator=anton, now=session.waiting_at)
    assert (offer.offered, offer.reason) == (True, routing.OPEN)


def test_a_workflow_with_trained_operators_is_held_back_from_the_untrained(
    routing_business, workflow_a, operator_a, operator_a2
):
    alice = skills(operator_a, languages=["de"], workflows=[workflow_a])
    anton = skills(operator_a2, languages=["de"])
    session = waiting(routing_business, workflow_a, language="de")

    to_alice = routing.session_offered_to(session=session, operator=alice, now=session.waiting_at)
    to_dora = routing.session_offered_to(session=session, operator=anton, now=session.waiting_at)

    assert (to_alice.offered, to_alice.label) == (True, f"speaks German, trained for {workflow_a.name}")
    assert (to_dora.offered, to_dora.reason, to_dora.label) == (
        False, routing.NOT_WORKFLOW, f"not trained for {workflow_a.name}"
    )


def test_a_workflow_nobody_is_trained_for_restricts_nobody(routing_business, workflow_a, operator_a, operator_a2):
    other = WorkflowTemplate.objects.create(business=routing_business, name="Other", steps=workflow_a.steps)
    skills(operator_a, languages=["de"], workflows=[other])
    anton = skills(operator_a2, languages=["de"])
    session = waiting(routing_business, workflow_a, language="de")
    assert routing.session_offered_to(session=session, operator=anton, now=session.waiting_at).offered


def test_the_calls_language_is_its_first_participants(routing_business, workflow_a):
    session, links = create_call(routing_business, workflow_a, names=("Anna A", "Bert B"))
    first, second = sorted((participant for participant, _url in links), key=lambda p: p.position)
    first.language, second.language = "de", "en"
    first.save(update_fields=["language"])
    second.save(update_fields=["language"])

    assert session_language(session) == "de"
    annotated = VerificationSession.objects.annotate(language=session_language_expression()).get(pk=session.pk)
    assert annotated.language == "de"
