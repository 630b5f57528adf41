"""Answering a call the queue does not offer you (yet) is refused by the
service and the console's answer endpoint, except after the fallback."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from operators.services import SessionNotOffered, session_answer
from sessions_app.models import VerificationSession
from tests.routing.conftest import skills, waiting


def test_an_operator_who_does_not_speak_the_calls_language_cannot_answer_it(routing_business, workflow_a, operator_a2):
    skills(operator_a2, languages=["en"])
    session = waiting(routing_business, workflow_a, language="de")

    with pytest.raises(SessionNotOffered, match="speak German"):
        session_answer(session_id=session.pk, operator=operator_a2)

    session.refresh_from_db()
    assert (session.state, session.operator_id) == (VerificationSession.State.WAITING, None)


def test_the_operator_who_fits_answers_it(routing_business, workflow_a, operator_a):
    skills(operator_a, languages=["de"])
    session = waiting(routing_business, workflow_a, language="de")
    answered = session_answer(session_id=session.pk, operator=operator_a)
    assert (answered.state, answered.operator_id) == (VerificationSession.State.IN_CALL, operator_a.pk)


def test_after_the_fallback_anyone_may_answer(routing_business, workflow_a, operator_a2):
    skills(operator_a2, languages=["en"])
    session = waiting(routing_business, workflow_a, language="de", waited=60)
    answered = session_answer(session_id=session.pk, operator=operator_a2)
    assert answered.operator_id == operator_a2.pk


def test_the_answer_endpoint_refuses_with_a_clear_message(routing_business, workflow_a, operator_a2):
    skills(operator_a2, languages=["en"])
    session = waiting(routing_business, workflow_a, language="de")
    client = Client()
    client.force_login(operator_a2.user)

    response = client.post(reverse("operators:answer", args=[session.public_id.hex]))

    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "not_offered"
    assert "does not speak German" in error["message"] and "after 60 seconds" in error["message"]


def test_the_refusal_is_in_german_for_a_german_console(routing_business, workflow_a, operator_a2):
    skills(operator_a2, languages=["en"])
    session = waiting(routing_business, workflow_a, language="de")
    client = Client(HTTP_ACCEPT_LANGUAGE="de")
    client.force_login(operator_a2.user)
    response = client.post(reverse("operators:answer", args=[session.public_id.hex]))
    assert response.status_code == 403
    assert "Deutsch" in response.json()["error"]["message"]
    assert timezone.now() < session.waiting_at + timedelta(seconds=60)
