"""The console's challenge button over HTTP: POST
/console/calls/<session>/participants/<participant>/challenges/<code>, for the
operator of that call only. Everyone else is refused and nothing changes."""

import pytest
from django.test import Client
from django.urls import reverse

from sessions_app.models import Evidence
from sessions_app.selectors import call_state_for_customer
from tests.console import images
from tests.console.helpers import call_fingerprint, customer_browser, customer_capture_url, error_code, upload
from workflows.challenges import CHALLENGE_BURST_FRAMES
from workflows.models import CaptureRequest


def challenge_url(session, participant_id: str, code: str = "cover_half_face") -> str:
    return reverse("operators:challenge_request", args=[session.public_id.hex, participant_id, code])


def _ask(client, call, code="cover_half_face"):
    return client.post(challenge_url(call.session, call.participant.public_id.hex, code))


def test_alice_asks_her_customer_and_the_customers_page_is_told(alice, answered_call):
    response = _ask(alice, answered_call)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["kind"] == "challenge_frame" and body["label"] == "cover_half_face"
    me = call_state_for_customer(participant_id=answered_call.participant.pk)["me"]
    assert me["prompt"]["code"] == "cover_half_face"
    assert me["capture"]["id"] == body["capture"]


def test_the_customers_page_sends_the_burst_through_the_capture_upload(alice, customer, answered_call):
    capture_id = _ask(alice, answered_call).json()["capture"]

    for frame in range(CHALLENGE_BURST_FRAMES):
        response = upload(customer, customer_capture_url(capture_id), images.jpeg(), frame=str(frame))
        assert response.status_code == 201, response.content

    assert Evidence.objects.filter(capture__public_id=capture_id, kind="challenge_frame").count() == CHALLENGE_BURST_FRAMES
    assert CaptureRequest.objects.get(public_id=capture_id).state == CaptureRequest.State.FULFILLED
    # One frame more than the burst has is not stored.
    extra = upload(customer, customer_capture_url(capture_id), images.jpeg(), frame=str(CHALLENGE_BURST_FRAMES))
    assert extra.status_code == 409


def test_another_sessions_customer_cannot_answer_the_challenge(alice, answered_call, other_call):
    capture_id = _ask(alice, answered_call).json()["capture"]
    stranger = customer_browser(other_call.link_token)

    response = upload(stranger, customer_capture_url(capture_id), images.jpeg(), frame="0")

    assert response.status_code == 404
    assert not Evidence.objects.filter(capture__public_id=capture_id).exists()


def test_the_call_page_tells_the_panel_where_to_ask(alice, answered_call):
    page = alice.get(reverse("operators:call", args=[answered_call.session.public_id.hex]))

    template = reverse("operators:challenge_request", args=[answered_call.session.public_id.hex, "PID", "CODE"])
    assert template.encode() in page.content


def test_get_is_not_allowed(alice, answered_call):
    response = alice.get(challenge_url(answered_call.session, answered_call.participant.public_id.hex))

    assert response.status_code == 405


def test_unknown_challenge_is_404_with_a_clear_error(alice, answered_call):
    before = call_fingerprint(answered_call.session)

    response = _ask(alice, answered_call, code="juggle")

    assert response.status_code == 404
    assert error_code(response) == "unknown_challenge"
    assert response.json()["error"]["message"] == "Unknown challenge."
    assert call_fingerprint(answered_call.session) == before


def test_a_second_challenge_during_the_burst_is_409(alice, answered_call):
    _ask(alice, answered_call)

    response = _ask(alice, answered_call, code="hand_across_face")

    assert response.status_code == 409
    assert error_code(response) == "challenge_under_way"
    assert CaptureRequest.objects.filter(participant=answered_call.participant).count() == 1


@pytest.mark.parametrize("forged", ["not-a-uuid", "0" * 32])
def test_forged_participant_id_is_404(alice, answered_call, forged):
    response = alice.post(challenge_url(answered_call.session, forged))

    assert response.status_code == 404
    assert error_code(response) == "unknown_participant"
    assert not CaptureRequest.objects.exists()


def test_a_participant_of_another_businesss_session_is_404(alice, answered_call, other_call):
    response = alice.post(challenge_url(answered_call.session, other_call.participant.public_id.hex))

    assert response.status_code == 404
    assert not CaptureRequest.objects.exists()


@pytest.mark.parametrize("person", ["anton", "bob"])
def test_operators_not_on_the_call_get_404_and_nothing_changes(request, person, answered_call):
    """Anton (same business, not his call) and Bob (Beta Bank) cannot tell the call exists."""
    before = call_fingerprint(answered_call.session)

    response = _ask(request.getfixturevalue(person), answered_call)

    assert response.status_code == 404
    assert call_fingerprint(answered_call.session) == before
    assert call_state_for_customer(participant_id=answered_call.participant.pk)["me"]["prompt"] is None


def test_the_customers_own_cookie_is_sent_to_the_sign_in(customer, answered_call):
    before = call_fingerprint(answered_call.session)

    response = _ask(customer, answered_call)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("operators:login"))
    assert call_fingerprint(answered_call.session) == before


def test_a_signed_in_user_without_the_operator_role_is_403(oscar, answered_call):
    before = call_fingerprint(answered_call.session)

    response = _ask(oscar, answered_call)

    assert response.status_code == 403
    assert call_fingerprint(answered_call.session) == before


def test_without_the_csrf_token_the_request_is_refused(operator_a, answered_call):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(operator_a.user)
    before = call_fingerprint(answered_call.session)

    response = _ask(browser, answered_call)

    assert response.status_code == 403
    assert call_fingerprint(answered_call.session) == before
