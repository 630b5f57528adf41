"""The integration API: GET /api/v1/slots, POST /api/v1/sessions with
scheduled_for (and operator), and the booking in GET /api/v1/sessions/{id}."""

from datetime import timedelta

from sessions_app.models import Booking, VerificationSession
from sessions_app.scheduling import free_slots
from tests.api.conftest import session_body
from tests.api.test_api_authentication import assert_problem


def test_slots_lists_the_business_s_free_times(api_a, business_a, alice_works, anton_works):
    body = api_a.get("/api/v1/slots").json()
    assert body["time_zone"] == "Europe/Berlin" and body["slot_minutes"] == 30
    first = body["results"][0]
    assert first["free"] == 2 and sorted(first["operators"]) == sorted([alice_works.pk, anton_works.pk])
    assert len(body["results"]) == len(free_slots(business_a))


def test_slots_of_a_business_without_working_hours_is_empty(api_b):
    assert api_b.get("/api/v1/slots").json()["results"] == []


def test_creating_a_session_with_a_free_slot_books_it(api_a, workflow_a, alice_works, anton_works):
    slot = free_slots(workflow_a.business)[0]
    body = {**session_body(workflow_a), "scheduled_for": slot.starts_at.isoformat(), "operator": anton_works.pk}
    response = api_a.post("/api/v1/sessions", body, format="json")
    assert response.status_code == 201, response.json()
    booking = response.json()["booking"]
    assert booking["state"] == "booked" and booking["operator"] == anton_works.pk
    assert booking["scheduled_for"].startswith(slot.starts_at.strftime("%Y-%m-%dT%H:%M"))
    read = api_a.get(f"/api/v1/sessions/{response.json()['id']}").json()
    assert read["booking"] == booking


def test_a_time_that_is_not_free_is_a_clear_400_and_nothing_is_created(api_a, workflow_a, alice_works):
    slot = free_slots(workflow_a.business)[0]
    before = VerificationSession.objects.count()
    body = {**session_body(workflow_a), "scheduled_for": (slot.starts_at + timedelta(minutes=7)).isoformat()}
    response = api_a.post("/api/v1/sessions", body, format="json")
    assert_problem(response, 400, "validation_error")
    assert "scheduled_for" in response.json()["errors"]
    assert VerificationSession.objects.count() == before and Booking.objects.count() == 0


def test_another_business_s_operator_is_unknown(api_a, workflow_a, alice_works, operator_b):
    slot = free_slots(workflow_a.business)[0]
    body = {**session_body(workflow_a), "scheduled_for": slot.starts_at.isoformat(), "operator": operator_b.pk}
    response = api_a.post("/api/v1/sessions", body, format="json")
    assert_problem(response, 400, "validation_error")
    assert response.json()["errors"]["operator"] == ["Unknown operator."]


def test_an_operator_without_a_time_is_refused(api_a, workflow_a, alice_works):
    response = api_a.post("/api/v1/sessions", {**session_body(workflow_a), "operator": alice_works.pk}, format="json")
    assert_problem(response, 400, "validation_error")


def test_a_session_without_a_booking_says_null(api_a, workflow_a):
    response = api_a.post("/api/v1/sessions", session_body(workflow_a), format="json")
    assert response.json()["booking"] is None
