"""Small helpers shared by the console tests: URLs the pages use, uploads as
the browser sends them, and people's browsers."""

from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from operators.models import Decision
from sessions_app import services
from sessions_app.models import AuditEvent, Evidence
from tests.console import images


def operator_browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def customer_browser(link_token: str) -> Client:
    """A browser that opened the customer's link: it holds the session cookie
    the customer's pages and uploads are authenticated by."""
    client = Client()
    response = client.get(f"/v/{link_token}")
    assert response.status_code == 302, response
    return client


def customer_joins(participant):
    services.participant_accept_terms(participant=participant, ip_address="192.0.2.10", user_agent="pytest")
    return services.participant_join(participant=participant)


def step_position(participant, kind: str) -> int:
    return participant.steps.get(kind=kind).position


def step_url(session, participant, position: int, action: str) -> str:
    return reverse("operators:step_action", args=[session.public_id.hex, participant.public_id.hex, position, action])


def step_post(client, session, participant, kind_or_position, action: str, **data):
    position = kind_or_position if isinstance(kind_or_position, int) else step_position(participant, kind_or_position)
    return client.post(step_url(session, participant, position, action), data)


def customer_capture_url(capture_id: str) -> str:
    return reverse("workflows:capture_upload", args=[capture_id])


def operator_capture_url(session, capture_id: str) -> str:
    return reverse("operators:capture_upload", args=[session.public_id.hex, capture_id])


def image_file(data: bytes, *, name: str = "capture.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def upload(client, url: str, data: bytes, *, name: str = "capture.jpg", content_type: str = "image/jpeg", **fields):
    return client.post(url, {"image": image_file(data, name=name, content_type=content_type), **fields})


def error_code(response) -> str:
    return response.json()["error"]["code"]


# Every endpoint of the operator console, as the console's pages call them.
OPERATOR_ENDPOINTS = ("console", "answer", "call", "decide", "end", "remove", "step", "capture", "evidence")


def operator_request(client, endpoint: str, *, session, participant, capture_id: str, evidence_id: str):
    """One request to ``endpoint`` about ``session``: what a page would send if
    it were allowed, so a missing check shows up as a change, not an error."""
    sid, pid = session.public_id.hex, participant.public_id.hex
    if endpoint == "console":
        return client.get(reverse("operators:console"))
    if endpoint == "answer":
        return client.post(reverse("operators:answer", args=[sid]))
    if endpoint == "call":
        return client.get(reverse("operators:call", args=[sid]))
    if endpoint == "decide":
        return client.post(
            reverse("operators:decide", args=[sid]),
            {"participant": pid, "outcome": "approve", "reason_code": "verified", "share": "yes"},
        )
    if endpoint == "end":
        return client.post(reverse("operators:end", args=[sid]))
    if endpoint == "remove":
        return client.post(reverse("operators:remove_participant", args=[sid, pid]))
    if endpoint == "step":
        return client.post(step_url(session, participant, step_position(participant, "document"), "pass"))
    if endpoint == "capture":
        return upload(client, operator_capture_url(session, capture_id), images.jpeg())
    if endpoint == "evidence":
        return client.get(reverse("operators:evidence", args=[evidence_id]))
    raise AssertionError(f"unknown endpoint {endpoint}")


def call_fingerprint(session) -> tuple:
    """What any successful console action would change: the session's state
    and version, its decisions, evidence and audit trail."""
    session.refresh_from_db()
    return (
        session.state,
        session.operator_id,
        session.state_version,
        Decision.objects.filter(participant__session=session).count(),
        Evidence.objects.filter(session=session).count(),
        AuditEvent.objects.filter(session=session).count(),
        tuple(session.participants.values_list("state", flat=True)),
    )


def stored_bytes(evidence) -> bytes:
    with evidence.file.open("rb") as stored:
        return stored.read()


def evidence_of(response):
    return Evidence.objects.get(public_id=response.json()["evidence"])


def evidence_files(settings) -> list:
    """Every file under the private evidence folder."""
    root = Path(settings.EVIDENCE_ROOT)
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []
