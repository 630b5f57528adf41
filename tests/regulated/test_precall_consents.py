"""The consent to recording (RECORDING_CONSENT): asked on its own after the
terms, in the customer's language, recorded (who, when, text version and
language, IP), audited; declining ends the verification with a clear page;
the server refuses a join without it; compliance sees it beside the terms."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kyc.regulations import RECORDING_CONSENT
from sessions_app.models import AuditEvent, Participant, RecordingConsent, VerificationSession
from sessions_app.precall import RECORDING_CONSENT_VERSION
from sessions_app.services import participant_answer_recording_consent, participant_join
from tests.regulated.precall_helpers import (
    GERMAN_IP,
    INDIAN_IP,
    accept_terms,
    agree_to_recording,
    decline_recording,
    join,
    open_link,
    regulated_call,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def consent_call(business_a, workflow_a):
    return regulated_call(business_a, workflow_a, rules=(RECORDING_CONSENT,))


def test_after_the_terms_the_customer_is_asked_to_consent_to_the_recording(consent_call):
    browser = open_link(consent_call.link_url)
    assert accept_terms(browser).status_code == 302
    page = browser.get("/call/")
    assert page.status_code == 200
    assert "customer/recording_consent.html" in [t.name for t in page.templates]
    text = page.content.decode()
    assert "This video call is recorded, picture and sound" in text and "Alpha Bank" in text
    assert 'name="agree"' in text and "I do not agree to the recording" in text


def test_a_workflow_without_the_rule_goes_straight_to_the_call(live_call):
    browser = open_link(live_call.link_url)
    accept_terms(browser)
    page = browser.get("/call/")
    assert "customer/call.html" in [t.name for t in page.templates]


def test_the_german_customer_reads_and_consents_in_german(consent_call):
    browser = open_link(consent_call.link_url, ip=GERMAN_IP, accept_language="de-DE,de;q=0.9")
    accept_terms(browser)
    page = browser.get("/call/").content.decode()
    assert "Dieser Videoanruf wird aufgezeichnet" in page
    agree_to_recording(browser)
    consent = RecordingConsent.objects.get(participant=consent_call.participant)
    assert (consent.accepted, consent.text_language, consent.ip_address) == (True, "de", GERMAN_IP)


def test_agreeing_is_recorded_with_version_language_time_and_address_and_audited(consent_call):
    browser = open_link(consent_call.link_url)
    accept_terms(browser)
    before = timezone.now()
    response = agree_to_recording(browser)
    assert response.status_code == 302 and response["Location"] == reverse("sessions_app:call")
    consent = RecordingConsent.objects.get(participant=consent_call.participant)
    assert consent.accepted
    assert consent.text_version == RECORDING_CONSENT_VERSION
    assert consent.text_language == "en"
    assert consent.ip_address == INDIAN_IP
    assert consent.decided_at >= before
    event = AuditEvent.objects.get(action="participant.recording_consented")
    assert event.participant_id == consent_call.participant.pk
    assert event.data == {"text_version": RECORDING_CONSENT_VERSION, "text_language": "en"}
    page = browser.get("/call/")
    assert "customer/call.html" in [t.name for t in page.templates]


def test_agreeing_without_ticking_the_box_asks_again_and_records_nothing(consent_call):
    browser = open_link(consent_call.link_url)
    accept_terms(browser)
    response = browser.post("/call/recording-consent", {"answer": "agree"})
    assert response.status_code == 400
    assert "Please tick the box to agree" in response.content.decode()
    assert not RecordingConsent.objects.exists()


def test_declining_ends_the_verification_with_a_clear_page(consent_call):
    browser = open_link(consent_call.link_url)
    accept_terms(browser)
    assert decline_recording(browser).status_code == 302
    consent = RecordingConsent.objects.get(participant=consent_call.participant)
    assert not consent.accepted
    participant = Participant.objects.get(pk=consent_call.participant.pk)
    assert participant.state == Participant.State.DECLINED
    assert VerificationSession.objects.get(pk=consent_call.session.pk).state == VerificationSession.State.CANCELLED
    assert AuditEvent.objects.filter(action="participant.recording_declined").exists()
    page = browser.get("/call/")
    assert "customer/declined.html" in [t.name for t in page.templates]
    assert "You did not agree to the recording" in page.content.decode()
    # And there is no way round it: the cancelled session's link is done.
    assert join(browser).status_code == 410


def test_a_second_answer_changes_nothing(consent_call):
    browser = open_link(consent_call.link_url)
    accept_terms(browser)
    agree_to_recording(browser)
    assert decline_recording(browser).status_code == 302  # back to the call page, which says where they are
    assert RecordingConsent.objects.get().accepted
    assert Participant.objects.get(pk=consent_call.participant.pk).state == Participant.State.TERMS_ACCEPTED
    assert AuditEvent.objects.filter(action__startswith="participant.recording_").count() == 1


def test_the_consent_cannot_be_given_before_the_terms(consent_call):
    browser = open_link(consent_call.link_url)
    assert agree_to_recording(browser).status_code == 302
    assert not RecordingConsent.objects.exists()
    with pytest.raises(ValidationError):
        participant_answer_recording_consent(
            participant=consent_call.participant, accepted=True, ip_address=None, user_agent="", language="en"
        )


def test_the_server_refuses_a_join_without_the_consent(consent_call):
    browser = open_link(consent_call.link_url)
    accept_terms(browser)
    response = join(browser)
    assert response.status_code == 409
    assert response.json()["error"]["message"] == "Please agree to the recording of the call first."
    assert Participant.objects.get(pk=consent_call.participant.pk).state == Participant.State.TERMS_ACCEPTED
    with pytest.raises(ValidationError):
        participant_join(participant=consent_call.participant)
    agree_to_recording(browser)
    assert join(browser).status_code == 200


def test_a_browser_without_a_link_cannot_answer(consent_call):
    response = Client().post("/call/recording-consent", {"answer": "agree", "agree": "yes"})
    assert response.status_code == 403
    assert not RecordingConsent.objects.exists()


def test_an_expired_link_cannot_answer(consent_call):
    browser = open_link(consent_call.link_url)
    accept_terms(browser)
    Participant.objects.filter(pk=consent_call.participant.pk).update(link_expires_at=timezone.now())
    response = agree_to_recording(browser)
    assert response.status_code == 410
    assert not RecordingConsent.objects.exists()


def test_another_customers_browser_answers_only_for_its_own_customer(consent_call, other_call):
    """Bob's customer (Beta Bank) answers on their own page; Alpha Bank's
    customer is not touched."""
    browser = open_link(other_call.link_url)
    accept_terms(browser)
    agree_to_recording(browser)
    assert list(RecordingConsent.objects.values_list("participant", flat=True)) == [other_call.participant.pk]


def test_compliance_sees_the_consent_beside_the_terms(consent_call, compliance_user):
    browser = open_link(consent_call.link_url)
    accept_terms(browser)
    agree_to_recording(browser)
    carol = Client()
    carol.force_login(compliance_user)
    page = carol.get(reverse("admin:sessions_app_verificationsession_review", args=[consent_call.session.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Consent to recording" in text
    assert f"text version {RECORDING_CONSENT_VERSION} in English (en), agreed" in text
    assert text.index("Consent to recording") > text.index("Terms")
