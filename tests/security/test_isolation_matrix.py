"""Every HTTP endpoint and both sockets × every persona: only the cells the
matrix allows succeed; every other cell is refused (a sign-in page, 401,
403, 404 or 410; never a 5xx, never a validation error that shows the
request got past the door).

The endpoints are collected from the URLconf (and the admin's registry), so
a new endpoint without a row here fails ``test_every_endpoint_has_a_row``:
whoever adds one decides who may use it.

The personas (tests/conftest.py's people):
- ``customer``: the customer of Alpha Bank's call, in the call, whose link works;
- ``other_customer``: the customer of Beta Bank's call (another session), who opened their own link;
- ``operator``: Alice, operator of Alpha Bank, who answered the call;
- ``other_operator``: Bob, operator of Beta Bank;
- ``compliance``: Carol, staff in the compliance group;
- ``anonymous``: nobody signed in, no link opened.

Everything is about Alpha Bank's call (``world``).
"""

import re
import uuid
from dataclasses import dataclass, field
from typing import Callable

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from sessions_app.models import Evidence
from tests.conftest import create_call
from tests.console import images
from tests.console.helpers import customer_browser, customer_joins
from tests.consumers.helpers import ORIGIN, QUEUE_PATH, TIMEOUT, Socket, call_path
from workflows import services as workflow_services

CUSTOMER, OTHER_CUSTOMER = "customer", "other_customer"
OPERATOR, OTHER_OPERATOR = "operator", "other_operator"
COMPLIANCE, ANONYMOUS = "compliance", "anonymous"
PERSONAS = [CUSTOMER, OTHER_CUSTOMER, OPERATOR, OTHER_OPERATOR, COMPLIANCE, ANONYMOUS]
EVERYONE = frozenset(PERSONAS)
NOBODY = frozenset()
CUSTOMERS = frozenset({CUSTOMER, OTHER_CUSTOMER})
OPERATORS = frozenset({OPERATOR, OTHER_OPERATOR})
SIGNED_IN_STAFF = frozenset({OPERATOR, OTHER_OPERATOR, COMPLIANCE})
REFUSED = {401, 403, 404, 410}


@dataclass
class World:
    """Alpha Bank's call (answered by Alice, the customer in it), one of its
    captures with the customer's evidence, a second Alpha Bank session
    waiting in the queue, and Beta Bank's call."""

    call: object
    other_call: object
    waiting_session: object
    capture: object
    evidence: object
    operator: object

    @property
    def sid(self) -> str:
        return self.call.session.public_id.hex

    @property
    def pid(self) -> str:
        return self.call.participant.public_id.hex


@dataclass
class Row:
    method: str
    url: Callable[[World], str]
    allowed: frozenset
    data: Callable[[World], dict] | None = None
    # What success looks like for an allowed persona (default: 2xx or a
    # redirect that is not to a sign-in page).
    ok: Callable | None = None
    # What a refusal looks like, where a JSON code tells it apart.
    refused: Callable | None = None
    note: str = ""
    extra: dict = field(default_factory=dict)


def image(world):
    return {"image": SimpleUploadedFile("capture.jpg", images.jpeg(), content_type="image/jpeg")}


def json_code(response):
    try:
        return response.json()["error"]["code"]
    except Exception:
        return None


def past_the_door(*codes):
    """Allowed, and the request reached the view's own checks: it answers
    with one of these error codes (the matrix passes no real object)."""
    return lambda response: json_code(response) in codes


def not_its_session(response):
    return response.status_code == 404 and json_code(response) in ("unknown_session", None)


def _recording_evidence(world) -> Evidence:
    """A recording of the call, made directly (the recording's own services
    are tested with the recording feature)."""
    from django.core.files.base import ContentFile

    evidence = Evidence(
        session=world.call.session,
        participant=None,
        kind="recording",
        source=Evidence.Source.CUSTOMER_DEVICE,
        content_type="video/webm",
        sha256="0" * 64,
        size=4,
    )
    evidence.file.save("matrix.webm", ContentFile(b"webm"), save=False)
    evidence.save()
    return evidence


NEW_RECORDING = lambda w: {"id": uuid.uuid4().hex, "stream": "composite", "mime_type": "video/webm", "elapsed_ms": "0"}  # noqa: E731

# Keyed by URL name ("namespace:name"), or by the route for unnamed patterns.
ROWS: dict[str, Row] = {
    # --- the customer's pages: the link is the credential; afterwards the
    # browser's session decides, never the URL.
    "sessions_app:link": Row("GET", lambda w: f"/v/{w.call.link_token}", EVERYONE, note="whoever holds the link"),
    "sessions_app:call": Row("GET", lambda w: "/call/", CUSTOMERS, note="each customer's own page"),
    "sessions_app:terms_accept": Row("POST", lambda w: "/call/terms/accept", CUSTOMERS, data=lambda w: {"accept": "yes"}),
    "sessions_app:terms_decline": Row("POST", lambda w: "/call/terms/decline", CUSTOMERS),
    "sessions_app:recording_consent": Row(
        "POST", lambda w: "/call/recording-consent", CUSTOMERS, data=lambda w: {"answer": "agree", "agree": "yes"}
    ),
    "sessions_app:location": Row(
        "POST", lambda w: "/call/location", CUSTOMERS, ok=past_the_door("malformed", "state"),
        note="the matrix posts a form, the page JSON (tests/regulated/test_location.py)",
    ),
    "sessions_app:join": Row(
        "POST", lambda w: "/call/join", CUSTOMERS, ok=lambda r: r.status_code == 200 or past_the_door("not_ready")(r),
        note="the other customer has not accepted the terms of their own session yet",
    ),
    "sessions_app:try_again": Row(
        "POST", lambda w: "/call/try-again", CUSTOMERS, ok=lambda r: r.status_code == 410,
        note="the customer's own call only; not aborted for poor conditions, so nothing to try again (410)",
    ),
    # Booked calls: the customer's own session only (the cookie decides); a
    # session that cannot be booked any more (this one is in the call)
    # redirects back to its call page.
    "sessions_app:booking_slots": Row("GET", lambda w: "/call/book", CUSTOMERS),
    "sessions_app:booking_cancel": Row("POST", lambda w: "/call/book/cancel", CUSTOMERS),
    "sessions_app:booking_calendar": Row("GET", lambda w: "/call/booking.ics", CUSTOMERS, note="redirects when nothing is booked"),
    "workflows:capture_upload": Row(
        "POST", lambda w: f"/call/captures/{w.capture.public_id.hex}", frozenset({CUSTOMER}), data=image,
        note="only the participant the capture was asked of",
    ),
    "workflows:question_answer": Row(
        "POST", lambda w: "/call/answers", CUSTOMERS, data=lambda w: {"prompt": "1", "question": "0", "answer": "x"},
        ok=past_the_door("stale_prompt"),
        note="each customer answers only the question shown to them now (none is, here)",
    ),
    "sessions_app:one_time_code_enter": Row(
        "POST", lambda w: "/call/one-time-code", CUSTOMERS, data=lambda w: {"code": "123456"},
        ok=past_the_door("no_code", "not_in_call"),
        note="each customer enters only the code sent to them (none was, here)",
    ),
    # --- the console
    "operators:login": Row("GET", lambda w: "/console/login/", EVERYONE),
    "operators:logout": Row("POST", lambda w: "/console/logout/", EVERYONE, ok=lambda r: r.status_code == 302),
    "operators:totp_verify": Row("GET", lambda w: "/console/login/code", NOBODY, note="only after a password step"),
    "operators:totp_settings": Row("GET", lambda w: "/console/security/two-step", SIGNED_IN_STAFF),
    "operators:console": Row("GET", lambda w: "/console/", OPERATORS, note="each operator's own business's queue"),
    "operators:answer": Row("POST", lambda w: f"/console/sessions/{w.waiting_session.public_id.hex}/answer", frozenset({OPERATOR})),
    "operators:call": Row("GET", lambda w: f"/console/calls/{w.sid}/", frozenset({OPERATOR})),
    "operators:decide": Row(
        "POST", lambda w: f"/console/calls/{w.sid}/decide", frozenset({OPERATOR}),
        data=lambda w: {"participant": w.pid, "outcome": "reject", "reason_code": "document_unreadable"},
    ),
    "operators:end": Row("POST", lambda w: f"/console/calls/{w.sid}/end", frozenset({OPERATOR})),
    "operators:remove_participant": Row(
        "POST", lambda w: f"/console/calls/{w.sid}/participants/{w.pid}/remove", frozenset({OPERATOR}),
        ok=lambda r: r.status_code == 200 or past_the_door("rejected")(r),
    ),
    "operators:step_action": Row(
        "POST",
        lambda w: f"/console/calls/{w.sid}/participants/{w.pid}/steps/{w.call.participant.steps.get(kind='notes').position}/notes",
        frozenset({OPERATOR}),
        data=lambda w: {"text": "notes"},
    ),
    "operators:challenge_request": Row(
        "POST", lambda w: f"/console/calls/{w.sid}/participants/{w.pid}/challenges/cover_half_face", frozenset({OPERATOR}),
        note="only the operator of the call, of a customer in it",
    ),
    "operators:one_time_code_send": Row(
        "POST", lambda w: f"/console/calls/{w.sid}/participants/{w.pid}/one-time-code", frozenset({OPERATOR}),
        ok=past_the_door("rule_off"),
        note="only the operator of the call, of a customer in it (the call here has no one-time code)",
    ),
    "operators:flag": Row(
        "POST", lambda w: f"/console/sessions/{w.sid}/flag", frozenset({OPERATOR}),
        data=lambda w: {"reason": "forged_document", "note": "matrix"},
        ok=lambda r: r.status_code == 201,
        note="any operator of the session's business (here only Alice is Alpha Bank's)",
    ),
    "operators:capture_upload": Row(
        "POST", lambda w: f"/console/calls/{w.sid}/captures/{w.capture.public_id.hex}", frozenset({OPERATOR}), data=image
    ),
    "operators:evidence": Row("GET", lambda w: f"/console/evidence/{w.evidence.public_id.hex}", frozenset({OPERATOR})),
    "operators:recording_start": Row(
        "POST", lambda w: f"/console/calls/{w.sid}/recordings", frozenset({OPERATOR}), data=NEW_RECORDING,
        ok=lambda r: r.status_code in (200, 201) or (json_code(r) not in (None, "unknown_session") and r.status_code != 404),
        refused=not_its_session,
    ),
    "operators:recording": Row(
        "GET", lambda w: f"/console/calls/{w.sid}/recordings/{uuid.uuid4().hex}", frozenset({OPERATOR}),
        ok=past_the_door("unknown_recording"), refused=not_its_session,
    ),
    "operators:recording_chunk": Row(
        "PUT", lambda w: f"/console/calls/{w.sid}/recordings/{uuid.uuid4().hex}/chunks/0", frozenset({OPERATOR}),
        ok=past_the_door("unknown_recording"), refused=not_its_session,
    ),
    "operators:recording_finish": Row(
        "POST", lambda w: f"/console/calls/{w.sid}/recordings/{uuid.uuid4().hex}/finish", frozenset({OPERATOR}),
        ok=past_the_door("unknown_recording"), refused=not_its_session,
    ),
    "operators:recording_progress": Row(
        "GET", lambda w: f"/console/calls/{w.sid}/recording-progress", frozenset({OPERATOR}), refused=not_its_session,
    ),
    # --- recordings for review: compliance, and the business's own operators
    "recordings:file": Row(
        "GET", lambda w: f"/recordings/{_recording_evidence(w).public_id.hex}", frozenset({OPERATOR, COMPLIANCE})
    ),
    "recordings:review": Row("GET", lambda w: f"/recordings/sessions/{w.sid}/", frozenset({OPERATOR, COMPLIANCE})),
    # --- the supervisor dashboard: supervisors of the business (and superusers)
    # only; none of the matrix's people is one. Who of them gets in, and that
    # another business's supervisor does not, is tests/supervisor/test_supervisor_access.py.
    "supervisor:home": Row("GET", lambda w: "/supervisor/", NOBODY, note="supervisors only"),
    "supervisor:dashboard": Row("GET", lambda w: "/supervisor/alpha-bank/", NOBODY, note="supervisors only"),
    "supervisor:live": Row("GET", lambda w: "/supervisor/alpha-bank/live", NOBODY, note="supervisors only"),
    "supervisor:export": Row("GET", lambda w: "/supervisor/alpha-bank/export.csv", NOBODY, note="supervisors only"),
    # --- the integration API: API keys only, no cookie session works there
    "api:sessions": Row("GET", lambda w: "/api/v1/sessions", NOBODY),
    "api:session": Row("GET", lambda w: f"/api/v1/sessions/{w.sid}", NOBODY),
    "api:session_cancel": Row("POST", lambda w: f"/api/v1/sessions/{w.sid}/cancel", NOBODY),
    "api:participant_revoke_link": Row("POST", lambda w: f"/api/v1/sessions/{w.sid}/participants/{w.pid}/revoke-link", NOBODY),
    "api:participant_send_link": Row("POST", lambda w: f"/api/v1/sessions/{w.sid}/participants/{w.pid}/send-link", NOBODY),
    "api:slots": Row("GET", lambda w: "/api/v1/slots", NOBODY),
    "api:schema": Row("GET", lambda w: "/api/v1/schema/", EVERYONE, note="public: holds no data"),
    "api:docs": Row("GET", lambda w: "/api/v1/docs/", EVERYONE, note="public: holds no data"),
    "api/v1/^.*$": Row("GET", lambda w: "/api/v1/no-such-thing", NOBODY),
    # --- the rest
    "": Row("GET", lambda w: "/", EVERYONE, ok=lambda r: r.status_code == 302 and r["Location"] == "/console/"),
    "healthz": Row("GET", lambda w: "/healthz", EVERYONE),
    "readyz": Row("GET", lambda w: "/readyz", EVERYONE, note="says only whether the database and cache answer"),
    "admin/login/": Row(
        "GET", lambda w: "/admin/login/", frozenset({COMPLIANCE}), note="staff go on to the admin; others to the sign-in or 403"
    ),
    # --- the admin, site-wide pages: staff only
    "admin:index": Row("GET", lambda w: "/admin/", frozenset({COMPLIANCE})),
    "admin:app_list": Row("GET", lambda w: "/admin/sessions_app/", frozenset({COMPLIANCE})),
    "admin:password_change": Row("GET", lambda w: reverse("admin:password_change"), frozenset({COMPLIANCE})),
    "admin:password_change_done": Row("GET", lambda w: reverse("admin:password_change_done"), frozenset({COMPLIANCE})),
    "admin:jsi18n": Row("GET", lambda w: reverse("admin:jsi18n"), frozenset({COMPLIANCE})),
    "admin:autocomplete": Row(
        "GET", lambda w: reverse("admin:autocomplete"), NOBODY, note="no autocomplete fields: 403 even for staff"
    ),
    "admin:view_on_site": Row("GET", lambda w: "/admin/r/1/1/", NOBODY, note="no model has a public URL"),
    "admin:logout": Row(
        "POST", lambda w: reverse("admin:logout"), EVERYONE, ok=lambda r: r.status_code in (200, 302), note="signs out whoever asks"
    ),
    "admin:auth_user_password_change": Row(
        "GET", lambda w: reverse("admin:auth_user_password_change", args=[w.operator.user_id]), NOBODY,
        note="superusers only: nobody in the matrix",
    ),
    "admin:login": Row("GET", lambda w: reverse("admin:login"), frozenset({COMPLIANCE}), note="shadowed by admin/login/"),
    # --- the admin's own pages of the compliance review
    "admin:sessions_app_verificationsession_review": Row(
        "GET", lambda w: reverse("admin:sessions_app_verificationsession_review", args=[w.call.session.pk]), frozenset({COMPLIANCE})
    ),
    "admin:sessions_app_verificationsession_export": Row(
        "GET", lambda w: reverse("admin:sessions_app_verificationsession_export", args=[w.call.session.pk]), frozenset({COMPLIANCE})
    ),
    # The four-eyes review queue (operators.reviews): reviewers and compliance.
    "admin:sessions_app_verificationsession_review_queue": Row(
        "GET", lambda w: reverse("admin:sessions_app_verificationsession_review_queue"), frozenset({COMPLIANCE})
    ),
    "admin:sessions_app_verificationsession_decision_review": Row(
        "POST",
        lambda w: reverse("admin:sessions_app_verificationsession_decision_review", args=[w.call.session.pk, 999999]),
        frozenset({COMPLIANCE}),
        data=lambda w: {"outcome": "confirm"},
        ok=lambda r: r.status_code == 404,
        note="the call has no decision: past the door, the decision is not found",
    ),
    "admin:sessions_app_verificationsession_evidence": Row(
        "GET",
        lambda w: reverse("admin:sessions_app_verificationsession_evidence", args=[w.call.session.pk, w.evidence.public_id.hex]),
        frozenset({COMPLIANCE}),
    ),
    # Every preset × rule × source: public texts, no business's data; any admin user reads it.
    "admin:workflows_workflowtemplate_presets": Row(
        "GET", lambda w: reverse("admin:workflows_workflowtemplate_presets"), frozenset({COMPLIANCE})
    ),
}

# Each model registered in the admin: who may open its list. Add, change and
# delete follow the same ModelAdmin permissions.
ADMIN_MODELS: dict[str, frozenset] = {
    "auth.Group": NOBODY,
    "auth.User": NOBODY,
    "sessions_app.VerificationSession": frozenset({COMPLIANCE}),
    "sessions_app.Booking": frozenset({COMPLIANCE}),
    "sessions_app.Participant": frozenset({COMPLIANCE}),
    "sessions_app.TermsAcceptance": frozenset({COMPLIANCE}),
    "sessions_app.Evidence": frozenset({COMPLIANCE}),
    "sessions_app.AuditEvent": frozenset({COMPLIANCE}),
    "sessions_app.Recording": frozenset({COMPLIANCE}),
    "accounts.Business": NOBODY,
    "accounts.BusinessStaff": NOBODY,
    "accounts.Operator": NOBODY,
    "accounts.TotpDevice": NOBODY,
    "operators.Decision": frozenset({COMPLIANCE}),
    "operators.SessionErasure": frozenset({COMPLIANCE}),
    "operators.FraudFlag": frozenset({COMPLIANCE}),
    # Platform compliance reads every business's list and changes none; a
    # business's own compliance officer and admins keep it
    # (test_admin_pages_per_business.py).
    "operators.NegativeListEntry": frozenset({COMPLIANCE}),
    "operators.ApiKey": NOBODY,
    "operators.WebhookEvent": NOBODY,
    "workflows.WorkflowTemplate": NOBODY,
    # The business's question bank: its admins keep it (test_admin_pages_per_business.py).
    "workflows.BankQuestion": NOBODY,
    # The business's admins keep their own entries (test_admin_pages_per_business.py).
    "workflows.SecurityFeature": NOBODY,
    "workflows.StepState": frozenset({COMPLIANCE}),
    "workflows.CheckResult": frozenset({COMPLIANCE}),
    # Sign-in attempts and lockouts (django-axes): superusers only.
    "axes.AccessAttempt": NOBODY,
    "axes.AccessFailureLog": NOBODY,
    "axes.AccessLog": NOBODY,
}
ADMIN_MODEL_SUFFIXES = ("_changelist", "_add", "_change", "_delete", "_history")
SOCKETS = {
    "call": frozenset({CUSTOMER, OPERATOR}),
    "queue": OPERATORS,
}


# --- collecting the endpoints ------------------------------------------------------------


def _patterns(patterns, prefix="", namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(filter(None, [namespace, pattern.namespace])) if pattern.namespace else namespace
            yield from _patterns(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield name, prefix + str(pattern.pattern)


def _admin_model_prefixes() -> dict[str, str]:
    return {f"admin:{m._meta.app_label}_{m._meta.model_name}": m._meta.label for m in admin.site._registry}


def endpoint_keys() -> list[str]:
    """Every endpoint that needs a row: named URLs by name, unnamed ones by
    route; the admin's generic per-model pages are covered by ADMIN_MODELS,
    and its unnamed redirects (object URLs, the catch-all) lead only there."""
    prefixes = _admin_model_prefixes()
    keys = []
    for name, route in _patterns(get_resolver().url_patterns):
        if name is None and route.startswith("admin/") and route != "admin/login/":
            continue
        if name and name.startswith("admin:") and name.endswith(ADMIN_MODEL_SUFFIXES):
            if any(name == prefix + suffix for prefix in prefixes for suffix in ADMIN_MODEL_SUFFIXES):
                continue
        keys.append(name if name is not None else route)
    return sorted(set(keys))


def test_every_endpoint_has_a_row():
    """A new URL, admin page or admin model needs a decision here."""
    missing = [key for key in endpoint_keys() if key not in ROWS]
    assert missing == [], f"add rows to tests/security/test_isolation_matrix.py for: {missing}"
    models = [label for label in _admin_model_prefixes().values() if label not in ADMIN_MODELS]
    assert models == [], f"add these admin models to ADMIN_MODELS: {models}"


# --- the people and the world ------------------------------------------------------------


@pytest.fixture
def world(answered_call, other_call, operator_a, operator_b, compliance_user, business_a, workflow_a) -> World:
    session, links = create_call(business_a, workflow_a, names=("Jonas Weber",))
    customer_joins(links[0][0])
    step = answered_call.participant.steps.get(kind="document")
    capture = workflow_services.capture_request_create(step=step, operator=operator_a, kind=Evidence.Kind.DOCUMENT_FRONT)
    evidence = workflow_services.evidence_store_image(
        capture=capture, source=Evidence.Source.CUSTOMER_DEVICE, data=images.jpeg()
    )
    capture = workflow_services.capture_request_create(step=step, operator=operator_a, kind=Evidence.Kind.DOCUMENT_BACK)
    return World(
        call=answered_call,
        other_call=other_call,
        waiting_session=session,
        capture=capture,
        evidence=evidence,
        operator=operator_a,
    )


def browser_of(persona: str, world: World, request) -> Client:
    if persona == CUSTOMER:
        return customer_browser(world.call.link_token)
    if persona == OTHER_CUSTOMER:
        return customer_browser(world.other_call.link_token)
    if persona == ANONYMOUS:
        return Client()
    user = {
        OPERATOR: lambda: request.getfixturevalue("operator_a").user,
        OTHER_OPERATOR: lambda: request.getfixturevalue("operator_b").user,
        COMPLIANCE: lambda: request.getfixturevalue("compliance_user"),
    }[persona]()
    browser = Client()
    browser.force_login(user)
    return browser


def _sign_in_redirect(response) -> bool:
    return response.status_code == 302 and bool(re.match(r"^/(console|admin)/login/", response.get("Location", "")))


def assert_allowed(row: Row, response, cell: str):
    assert response.status_code < 500, f"{cell}: server error {response.status_code}"
    if row.ok is not None:
        assert row.ok(response), f"{cell}: expected success, got {response.status_code} {response.content[:300]!r}"
        return
    assert response.status_code < 400 and not _sign_in_redirect(response), (
        f"{cell}: expected success, got {response.status_code} {response.get('Location', '')} {response.content[:300]!r}"
    )


def assert_refused(row: Row, response, cell: str):
    assert response.status_code < 500, f"{cell}: server error {response.status_code}"
    if row.refused is not None and row.refused(response):
        return
    assert response.status_code in REFUSED or _sign_in_redirect(response), (
        f"{cell}: expected a refusal, got {response.status_code} {response.get('Location', '')} {response.content[:300]!r}"
    )


def request_as(browser: Client, row: Row, world: World):
    url = row.url(world)
    data = row.data(world) if row.data else {}
    if row.method == "GET":
        return browser.get(url)
    if row.method == "PUT":
        return browser.put(url, data=b"x" * 10, content_type="application/octet-stream")
    return browser.post(url, data)


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("key", sorted(ROWS), ids=lambda key: key or "root")
def test_http_endpoint(key, persona, world, request):
    if key not in endpoint_keys():
        pytest.skip(f"{key!r} is not in this URLconf")
    row = ROWS[key]
    response = request_as(browser_of(persona, world, request), row, world)
    cell = f"{row.method} {key} as {persona}"
    if persona in row.allowed:
        assert_allowed(row, response, cell)
    else:
        assert_refused(row, response, cell)


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("label", sorted(ADMIN_MODELS))
def test_admin_model_list(label, persona, world, request):
    model = next((m for m in admin.site._registry if m._meta.label == label), None)
    if model is None:
        pytest.skip(f"{label} is not registered in this admin")
    response = browser_of(persona, world, request).get(reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"))
    row = Row("GET", None, ADMIN_MODELS[label])
    cell = f"admin list of {label} as {persona}"
    if persona in row.allowed:
        assert_allowed(row, response, cell)
    else:
        assert_refused(row, response, cell)


# --- the sockets ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("socket_name", sorted(SOCKETS))
async def test_socket(socket_name, persona, world, request, sockets):
    browser = await database_sync_to_async(browser_of)(persona, world, request)
    path = call_path(world.call.session) if socket_name == "call" else QUEUE_PATH
    headers = [ORIGIN]
    if settings.SESSION_COOKIE_NAME in browser.cookies:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={browser.cookies[settings.SESSION_COOKIE_NAME].value}".encode()))
    from channels.testing import WebsocketCommunicator

    from kyc.asgi import application

    socket = Socket(WebsocketCommunicator(application, path, headers=headers), f"{socket_name} as {persona}")
    sockets.opened.append(socket)
    connected, _ = await socket.communicator.connect(timeout=TIMEOUT)
    assert connected  # accepted, then told; a refused one closes at once with 4403
    first = await socket.receive()
    if persona in SOCKETS[socket_name]:
        assert first["type"] in ("welcome", "queue"), f"{socket_name} as {persona}: {first}"
    else:
        assert (first["type"], first["code"]) == ("error", "forbidden"), f"{socket_name} as {persona}: {first}"
        assert await socket.closed_with(4403) == []
