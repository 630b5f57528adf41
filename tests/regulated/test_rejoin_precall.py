"""A customer who left a running multi-user call and comes back is asked for
the pre-call rules again (sessions_app.precall): the location they shared
before may be stale, and they may now be somewhere else. The server refuses
the rejoin with code "precall", and the link page shows the page that is due."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from kyc.regulations import ALLOWED_COUNTRIES, LIVE_LOCATION
from sessions_app.audit import Actor
from sessions_app.models import Participant, ParticipantLocation
from sessions_app.services import participant_join, participant_leave, session_assign_operator
from tests.conftest import create_call
from tests.regulated.precall_helpers import (
    BERLIN,
    GERMAN_IP,
    INDIAN_IP,
    MUMBAI,
    accept_terms,
    join,
    open_link,
    share_location,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def left_call(business_a, workflow_a, operator_a, settings):
    """A multi-user call under live location and India only, answered by
    Alice; Anna left it, Ben is still in it. Returns Anna and her browser."""
    workflow_a.rules = sorted((LIVE_LOCATION, ALLOWED_COUNTRIES))
    workflow_a.allowed_countries = ["IN"]
    workflow_a.save()
    session, links = create_call(business_a, workflow_a, names=("Anna Adler", "Ben Berg"))
    browsers = []
    for _participant, url in links:
        browser = open_link(url, ip=INDIAN_IP)
        accept_terms(browser)
        share_location(browser, MUMBAI)
        assert join(browser).status_code == 200
        browsers.append(browser)
    session_assign_operator(session_id=session.pk, operator=operator_a)
    anna = links[0][0]
    participant_leave(participant=anna, actor=Actor.customer())
    anna.refresh_from_db()
    assert anna.state == Participant.State.LEFT
    return anna, browsers[0]


def templates(response) -> list[str]:
    return [t.name for t in response.templates]


def test_a_rejoin_with_a_stale_location_is_refused_and_asks_for_the_location(left_call, settings):
    anna, browser = left_call
    ParticipantLocation.objects.filter(participant=anna).update(
        received_at=timezone.now() - timedelta(seconds=settings.GEO_LOCATION_MAX_AGE_SECONDS + 1)
    )
    response = join(browser)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "precall"
    anna.refresh_from_db()
    assert anna.state == Participant.State.LEFT
    # The call page the browser reloads to asks for the location, and a fresh
    # one lets the customer back into the call.
    assert templates(browser.get("/call/"))[0] == "customer/location.html"
    assert share_location(browser, MUMBAI).status_code == 200
    assert templates(browser.get("/call/"))[0] == "customer/call.html"
    response = join(browser)
    assert response.status_code == 200 and response.json()["state"] == Participant.State.IN_CALL


def test_a_rejoin_from_a_forbidden_country_is_refused(left_call):
    anna, browser = left_call
    browser.defaults["REMOTE_ADDR"] = GERMAN_IP
    response = join(browser)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "precall"
    assert browser.get("/call/").status_code == 403  # the country page, not the call
    with pytest.raises(ValidationError) as refused:
        participant_join(participant=anna, ip_address=GERMAN_IP)
    assert refused.value.code == "precall"
    anna.refresh_from_db()
    assert anna.state == Participant.State.LEFT


def test_a_rejoin_from_a_position_abroad_is_refused(left_call):
    anna, browser = left_call
    share_location(browser, BERLIN)
    assert join(browser).status_code == 409
    assert templates(browser.get("/call/?relocate=1"))[0] == "customer/location.html"


def test_a_rejoin_that_meets_the_rules_goes_straight_back_into_the_call(left_call):
    anna, browser = left_call
    response = join(browser)
    assert response.status_code == 200 and response.json()["state"] == Participant.State.IN_CALL
