"""Compliance sees the capture-integrity signals the operator saw: on the
review page, each reason in words with its strength and code, and in the
export's record.

``reviewed_call`` (tests/compliance/conftest.py): Max Mustermann's call,
approved by Alice; Carol (``carol_browser``) reviews."""

import io
import json
import zipfile

from django.urls import reverse

from sessions_app.integrity import capture_integrity_record


def integrity_section(html: str) -> str:
    return html[html.index("<h3>Capture integrity</h3>"):html.index("<h3>Captures</h3>")]


def review_html(browser, call) -> str:
    page = browser.get(reverse("admin:sessions_app_verificationsession_review", args=[call.session.pk]))
    assert page.status_code == 200
    return page.content.decode()


def test_review_without_signals_says_there_were_no_warning_signs(reviewed_call, carol_browser):
    assert "No warning signs" in integrity_section(review_html(carol_browser, reviewed_call))


def test_review_shows_each_signal_with_its_reason_and_strength(reviewed_call, carol_browser):
    participant_id = reviewed_call.participant.pk
    capture_integrity_record(participant_id=participant_id, phase="precall", signals=[("virtual_camera_name", {"product": "ManyCam"})])
    capture_integrity_record(participant_id=participant_id, phase="server", signals=[("repeated_picture", {"similar_pairs": 1, "frames": 3})])

    section = integrity_section(review_html(carol_browser, reviewed_call))

    assert "<strong>High risk</strong>" in section
    assert "The camera is named like a virtual camera" in section and "product: ManyCam" in section
    assert "The same picture was sent more than once" in section
    assert "strong sign, Device check" in section and "medium sign, Server check" in section
    assert "<code>virtual_camera_name</code>" in section and "<code>repeated_picture</code>" in section


def test_export_holds_the_signals(reviewed_call, carol_browser):
    capture_integrity_record(
        participant_id=reviewed_call.participant.pk, phase="call", signals=[("api_replaced", {"functions": ["getUserMedia"]})]
    )
    response = carol_browser.get(reverse("admin:sessions_app_verificationsession_export", args=[reviewed_call.session.pk]))
    record = json.loads(zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).read("record.json"))
    [participant] = record["participants"]
    integrity = participant["capture_integrity"]
    assert integrity["level"] == "elevated"
    [signal] = integrity["signals"]
    assert (signal["code"], signal["phase"], signal["strength"], signal["count"]) == ("api_replaced", "call", "strong", 1)
    assert signal["params"] == {"functions": ["getUserMedia"]}
    actions = [event["action"] for event in record["audit_trail"]]
    assert "integrity.reported" in actions
