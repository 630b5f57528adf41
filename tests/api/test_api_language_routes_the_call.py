"""The language the business's API gives a participant is the call's
language the queue routes by; the customer's page does not overwrite it."""

from django.test import Client
from django.urls import reverse

from operators import routing
from sessions_app.models import VerificationSession
from sessions_app.selectors import participant_resolve_link, session_language
from sessions_app.services import participant_accept_terms
from tests.api.conftest import session_body


def test_a_session_the_api_made_in_german_is_offered_to_the_german_speaker_only(
    api_a, workflow_a, business_a, operator_a, operator_a2
):
    business_a.routing_fallback_seconds = 60
    business_a.save(update_fields=["routing_fallback_seconds"])
    operator_a.languages, operator_a2.languages = ["de"], ["en"]
    operator_a.save(update_fields=["languages"])
    operator_a2.save(update_fields=["languages"])

    response = api_a.post("/api/v1/sessions", session_body(workflow_a), format="json")
    assert response.status_code == 201, response.json()
    link = response.json()["participants"][0]["link"]
    participant = participant_resolve_link(raw_token=link.rsplit("/v/", 1)[1])
    customer = Client(HTTP_ACCEPT_LANGUAGE="en")  # their browser says English
    customer.get(link)
    participant_accept_terms(participant=participant, ip_address="192.0.2.10", user_agent="pytest")
    assert customer.post(reverse("sessions_app:join")).status_code == 200

    session = VerificationSession.objects.select_related("business", "workflow").get(pk=participant.session_id)
    assert session_language(session) == "de"
    assert routing.session_offered_to(session=session, operator=operator_a, now=session.waiting_at).offered
    assert not routing.session_offered_to(session=session, operator=operator_a2, now=session.waiting_at).offered
