"""A customer who joins the queue from a page in German gives the call its
language, unless the business's API set one already."""

from django.test import Client
from django.urls import reverse

from sessions_app.models import Participant
from sessions_app.services import participant_accept_terms
from tests.conftest import create_call


def _joined_from(business, workflow, *, accept_language: str, api_language: str = "") -> Participant:
    session, links = create_call(business, workflow)
    participant, url = links[0]
    if api_language:
        participant.language = api_language
        participant.save(update_fields=["language"])
    client = Client(HTTP_ACCEPT_LANGUAGE=accept_language)
    assert client.get(url).status_code in (200, 302)
    participant_accept_terms(participant=participant, ip_address="192.0.2.10", user_agent="pytest")
    response = client.post(reverse("sessions_app:join"))
    assert response.status_code == 200, response.content
    participant.refresh_from_db()
    return participant


def test_the_page_language_becomes_the_participants_language(business_a, workflow_a):
    assert _joined_from(business_a, workflow_a, accept_language="de-DE,de;q=0.9").language == "de"


def test_a_language_the_api_set_is_kept(business_a, workflow_a):
    participant = _joined_from(business_a, workflow_a, accept_language="de", api_language="en")
    assert participant.language == "en"

