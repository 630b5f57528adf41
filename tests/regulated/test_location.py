"""Live location (LIVE_LOCATION) and allowed countries (ALLOWED_COUNTRIES):
the customer's browser shares its position before the call; the server keeps
it with the countries of the position and of the address (kyc.geo, offline),
refuses what is absurd, and refuses the join without a fresh location or from
outside the allowed countries, with a clear page in the customer's language.
The operator's panel and the compliance review show it."""

import json
import time
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kyc import geo
from kyc.regulations import LIVE_LOCATION, RECORDING_CONSENT
from sessions_app.models import AuditEvent, Participant, ParticipantLocation
from sessions_app.selectors import call_state_for_operator
from sessions_app.services import participant_join
from tests.regulated.precall_helpers import (
    BERLIN,
    GERMAN_IP,
    INDIAN_IP,
    MUMBAI,
    accept_terms,
    agree_to_recording,
    join,
    open_link,
    regulated_call,
    share_location,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def rbi_call(business_a, workflow_a):
    return regulated_call(business_a, workflow_a)


@pytest.fixture
def location_call(business_a, workflow_a):
    """Live location without a country restriction."""
    return regulated_call(business_a, workflow_a, rules=(LIVE_LOCATION,), allowed=())


def ready_for_location(call, *, ip=INDIAN_IP, accept_language="en") -> Client:
    browser = open_link(call.link_url, ip=ip, accept_language=accept_language)
    accept_terms(browser)
    if RECORDING_CONSENT in call.session.rule_set["rules"]:
        agree_to_recording(browser)
    return browser


def templates(response) -> list[str]:
    return [t.name for t in response.templates]


# --- kyc.geo ------------------------------------------------------------------


def test_the_countries_are_looked_up_offline():
    assert geo.ip_country(INDIAN_IP) == "IN"
    assert geo.ip_country(GERMAN_IP) == "DE"
    assert geo.ip_country("::ffff:" + INDIAN_IP) == "IN"
    assert geo.location_country(*MUMBAI) == "IN"
    assert geo.location_country(*BERLIN) == "DE"


def test_private_addresses_and_the_open_sea_have_no_country(settings):
    settings.GEO_PRIVATE_NETWORK_COUNTRY = ""
    for address in ("127.0.0.1", "10.1.2.3", "192.168.0.5", "::1", "", None, "not an address"):
        assert geo.ip_country(address) == ""
        assert geo.ip_country_or_assumed(address) == ""
    assert geo.location_country(0.0, -160.0) == ""  # the Pacific, far from any place


def test_a_development_setting_names_the_country_of_private_addresses(settings):
    settings.GEO_PRIVATE_NETWORK_COUNTRY = "IN"
    assert geo.ip_country_or_assumed("127.0.0.1") == "IN"
    assert geo.ip_country_or_assumed(GERMAN_IP) == "DE"  # a public address is never assumed


def test_the_deploy_check_refuses_the_development_setting(settings):
    settings.GEO_PRIVATE_NETWORK_COUNTRY = "IN"
    assert [error.id for error in geo.deploy_check()] == ["verity.E020"]
    settings.GEO_PRIVATE_NETWORK_COUNTRY = ""
    assert geo.deploy_check() == []


def test_country_names_are_in_the_readers_language():
    assert geo.country_name("IN", "en") == "India"
    assert geo.country_name("IN", "de") == "Indien"
    assert geo.country_name("XX", "de") == "XX"


# --- the page and the position ---------------------------------------------------


def test_after_the_consent_the_customer_is_asked_for_the_location(rbi_call):
    browser = ready_for_location(rbi_call)
    page = browser.get("/call/")
    assert page.status_code == 200
    assert templates(page)[0] == "customer/location.html"
    text = page.content.decode()
    assert 'id="btn-share-location"' in text and "<button" in text
    assert "js/precall-location.js" in text
    assert "Your browser did not share your location" in text  # the how-to, shown when denied
    # Only this page lets the browser share a position (the others forbid it).
    assert "geolocation=(self)" in page["Permissions-Policy"]
    assert "geolocation=()" in Client().get("/call/")["Permissions-Policy"]


def test_a_shared_position_is_kept_with_its_countries_and_audited(rbi_call):
    browser = ready_for_location(rbi_call)
    browser_time = time.time() * 1000 - 2000
    response = share_location(browser, MUMBAI, accuracy=18.5, timestamp_ms=browser_time)
    assert response.status_code == 200
    assert response.json() == {"next": reverse("sessions_app:call")}
    location = ParticipantLocation.objects.get(participant=rbi_call.participant)
    assert (location.latitude, location.longitude, location.accuracy_m) == (MUMBAI[0], MUMBAI[1], 18.5)
    assert abs(location.located_at.timestamp() * 1000 - browser_time) < 1
    assert location.ip_address == INDIAN_IP
    assert (location.ip_country, location.location_country) == ("IN", "IN")
    event = AuditEvent.objects.get(action="participant.location_shared")
    assert event.data["location_country"] == "IN" and event.data["country_allowed"] is True
    assert event.data["accuracy_m"] == 18.5
    # Then the call page.
    assert templates(browser.get("/call/"))[0] == "customer/call.html"


@pytest.mark.parametrize(
    "body, code",
    [
        ("{not json", "malformed"),
        (json.dumps([1, 2, 3]), "malformed"),
        (json.dumps({"latitude": 19.0, "longitude": 72.0, "accuracy": 10}), "malformed"),  # no timestamp
        (json.dumps({"latitude": "19.0", "longitude": 72.0, "accuracy": 10, "timestamp": 1}), "malformed"),
        (json.dumps({"latitude": True, "longitude": 72.0, "accuracy": 10, "timestamp": 1}), "malformed"),
        ("\xff\xfe", "malformed"),
    ],
)
def test_a_malformed_body_is_refused(rbi_call, body, code):
    browser = ready_for_location(rbi_call)
    response = share_location(browser, body=body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert not ParticipantLocation.objects.exists()


def now_ms() -> float:
    return time.time() * 1000


@pytest.mark.parametrize(
    "values, code",
    [
        ({"latitude": 90.5}, "out_of_range"),
        ({"latitude": -91}, "out_of_range"),
        ({"longitude": 180.01}, "out_of_range"),
        ({"longitude": -200}, "out_of_range"),
        ({"accuracy": -1}, "inaccurate"),
        ({"accuracy": 10_001}, "inaccurate"),  # a whole region: says nothing about where
        ({"accuracy": 1e308}, "inaccurate"),
        ({"timestamp": 0}, "stale"),  # 1970
        ({"timestamp": "yesterday"}, "malformed"),
        ({"timestamp": 1e30}, "stale"),  # beyond any date
    ],
)
def test_an_absurd_position_is_refused(rbi_call, values, code):
    browser = ready_for_location(rbi_call)
    payload = {"latitude": MUMBAI[0], "longitude": MUMBAI[1], "accuracy": 20, "timestamp": now_ms(), **values}
    response = share_location(browser, body=json.dumps(payload))
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == code
    assert not ParticipantLocation.objects.exists()


def test_a_position_stamped_long_ago_or_far_ahead_is_refused(rbi_call, settings):
    browser = ready_for_location(rbi_call)
    window = settings.GEO_LOCATION_MAX_AGE_SECONDS * 1000
    for stamp in (now_ms() - window - 60_000, now_ms() + window + 60_000):
        response = share_location(browser, MUMBAI, timestamp_ms=stamp)
        assert response.status_code == 400 and response.json()["error"]["code"] == "stale"


def test_not_a_number_is_refused(rbi_call):
    browser = ready_for_location(rbi_call)
    body = '{"latitude": NaN, "longitude": 72.8, "accuracy": 10, "timestamp": %d}' % now_ms()
    response = share_location(browser, body=body)
    assert response.status_code == 400 and response.json()["error"]["code"] == "not_a_number"
    body = '{"latitude": 19.0, "longitude": 72.8, "accuracy": Infinity, "timestamp": %d}' % now_ms()
    assert share_location(browser, body=body).json()["error"]["code"] == "not_a_number"


def test_an_oversized_body_is_refused_before_it_is_read(rbi_call, settings):
    browser = ready_for_location(rbi_call)
    big = json.dumps({"latitude": 19.0, "longitude": 72.8, "accuracy": 10, "timestamp": now_ms(), "pad": "x" * (settings.REQUEST_MAX_FORM_BYTES + 10)})
    response = share_location(browser, body=big)
    assert response.status_code == 413
    assert not ParticipantLocation.objects.exists()


def test_a_browser_without_a_link_cannot_share_a_location(rbi_call):
    response = Client(REMOTE_ADDR=INDIAN_IP).post(
        "/call/location", json.dumps({"latitude": 1, "longitude": 1, "accuracy": 1, "timestamp": now_ms()}),
        content_type="application/json",
    )
    assert response.status_code == 403
    assert not ParticipantLocation.objects.exists()


def test_an_expired_link_cannot_share_a_location(rbi_call):
    browser = ready_for_location(rbi_call)
    Participant.objects.filter(pk=rbi_call.participant.pk).update(link_expires_at=timezone.now())
    assert share_location(browser, MUMBAI).status_code == 410
    assert not ParticipantLocation.objects.exists()


def test_a_location_before_the_terms_is_refused(rbi_call):
    browser = open_link(rbi_call.link_url)
    response = share_location(browser, MUMBAI)
    assert response.status_code == 409 and response.json()["error"]["code"] == "state"
    assert not ParticipantLocation.objects.exists()


def test_another_businesss_customer_shares_only_their_own_location(rbi_call, other_call):
    """Beta Bank's customer's browser: its position lands on its own participant."""
    browser = open_link(other_call.link_url)
    accept_terms(browser)
    assert share_location(browser, MUMBAI).status_code == 200
    assert list(ParticipantLocation.objects.values_list("participant", flat=True)) == [other_call.participant.pk]


# --- the join -------------------------------------------------------------------


def test_the_server_refuses_a_join_without_a_location(location_call):
    browser = ready_for_location(location_call)
    response = join(browser)
    assert response.status_code == 409
    assert response.json()["error"]["message"] == "Please share your location first."
    with pytest.raises(ValidationError):
        participant_join(participant=location_call.participant, ip_address=INDIAN_IP)
    share_location(browser, BERLIN)  # no country restriction here
    assert join(browser).status_code == 200


def test_a_stale_location_is_asked_for_again(location_call, settings):
    browser = ready_for_location(location_call)
    share_location(browser, MUMBAI)
    ParticipantLocation.objects.update(
        received_at=timezone.now() - timedelta(seconds=settings.GEO_LOCATION_MAX_AGE_SECONDS + 1)
    )
    assert templates(browser.get("/call/"))[0] == "customer/location.html"
    response = join(browser)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "precall"  # the call page reloads to the location page


# --- allowed countries ---------------------------------------------------------------


def test_a_position_in_berlin_is_refused_with_a_clear_page(rbi_call):
    browser = ready_for_location(rbi_call)
    assert share_location(browser, BERLIN).status_code == 200  # kept: the record of the attempt
    assert AuditEvent.objects.get(action="participant.location_shared").data["country_allowed"] is False
    page = browser.get("/call/")
    assert page.status_code == 403
    assert templates(page)[0] == "customer/country_refused.html"
    text = page.content.decode()
    assert "This verification can only be done from India." in text
    assert "The location you shared is in Germany." in text
    assert "?relocate=1" in text
    response = join(browser)
    assert response.status_code == 409
    assert response.json()["error"]["message"] == "This verification can only be done from India."


def test_the_refusal_names_the_countries_in_german(rbi_call):
    browser = ready_for_location(rbi_call, accept_language="de-DE,de;q=0.9")
    share_location(browser, BERLIN)
    text = browser.get("/call/").content.decode()
    assert "Diese Verifizierung ist nur aus Indien möglich." in text
    assert "Deutschland" in text


def test_an_address_outside_the_allowed_countries_is_refused(rbi_call):
    """Mumbai's position, but the connection comes from Germany (a VPN)."""
    browser = ready_for_location(rbi_call, ip=GERMAN_IP)
    share_location(browser, MUMBAI)
    page = browser.get("/call/")
    assert page.status_code == 403
    text = page.content.decode()
    assert "Your internet connection appears to be in Germany." in text and "VPN" in text
    assert join(browser).status_code == 409


def test_a_join_from_another_address_than_the_location_is_checked_again(rbi_call):
    browser = ready_for_location(rbi_call)
    share_location(browser, MUMBAI)
    browser.defaults["REMOTE_ADDR"] = GERMAN_IP
    assert join(browser).status_code == 409


def test_a_private_address_is_refused_unless_the_development_setting_names_a_country(rbi_call, settings):
    settings.GEO_PRIVATE_NETWORK_COUNTRY = ""
    browser = ready_for_location(rbi_call, ip="127.0.0.1")
    share_location(browser, MUMBAI)
    page = browser.get("/call/")
    assert page.status_code == 403
    assert "We could not tell which country your internet connection is in." in page.content.decode()
    assert join(browser).status_code == 409
    settings.GEO_PRIVATE_NETWORK_COUNTRY = "IN"
    assert templates(browser.get("/call/"))[0] == "customer/call.html"
    assert join(browser).status_code == 200


def test_retrying_after_a_refusal_asks_for_the_location_again(rbi_call):
    browser = ready_for_location(rbi_call)
    share_location(browser, BERLIN)
    assert templates(browser.get("/call/?relocate=1"))[0] == "customer/location.html"
    share_location(browser, MUMBAI)  # back in India: the newest position counts
    assert templates(browser.get("/call/"))[0] == "customer/call.html"
    assert join(browser).status_code == 200
    assert ParticipantLocation.objects.count() == 2


def test_the_whole_rbi_walk_reaches_the_queue(rbi_call):
    browser = ready_for_location(rbi_call)
    share_location(browser, MUMBAI)
    response = join(browser)
    assert response.status_code == 200 and response.json()["state"] == Participant.State.WAITING


# --- who sees it ---------------------------------------------------------------------


def test_the_operators_call_state_shows_the_location(rbi_call):
    browser = ready_for_location(rbi_call)
    share_location(browser, MUMBAI, accuracy=25)
    [participant] = call_state_for_operator(session_id=rbi_call.session.pk)["participants"]
    where = participant["location"]
    assert (where["latitude"], where["longitude"], where["accuracy_m"]) == (MUMBAI[0], MUMBAI[1], 25)
    assert (where["location_country"], where["ip_country"]) == ("IN", "IN")
    assert where["location_country_name"] == "India"


def test_a_call_without_a_location_sends_none(live_call):
    [participant] = call_state_for_operator(session_id=live_call.session.pk)["participants"]
    assert participant["location"] is None


def test_compliance_sees_every_position_shared(rbi_call, compliance_user):
    browser = ready_for_location(rbi_call)
    share_location(browser, BERLIN)
    share_location(browser, MUMBAI, accuracy=30)
    carol = Client()
    carol.force_login(compliance_user)
    text = carol.get(reverse("admin:sessions_app_verificationsession_review", args=[rbi_call.session.pk])).content.decode()
    assert text.count('class="location-record"') == 2
    assert "19.07600, 72.87770 (±30 m)" in text
    assert "country of the location IN" in text and "country of the location DE" in text
    export = carol.get(reverse("admin:sessions_app_verificationsession_export", args=[rbi_call.session.pk]))
    assert export.status_code == 200


def test_erasing_the_session_removes_the_positions_and_the_audit_trail_never_had_them(rbi_call):
    from operators.compliance.retention import session_erase
    from sessions_app.models import RecordingConsent

    browser = ready_for_location(rbi_call)
    share_location(browser, MUMBAI)
    event = AuditEvent.objects.get(action="participant.location_shared")
    assert "latitude" not in event.data and "longitude" not in event.data
    session_erase(session=rbi_call.session)
    assert not ParticipantLocation.objects.exists()
    consent = RecordingConsent.objects.get()
    assert (consent.ip_address, consent.user_agent, consent.accepted) == (None, "", True)
