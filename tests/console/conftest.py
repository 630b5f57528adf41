"""The console's people, each in their own browser.

- ``alice`` is Alice (``operator_a``, Alpha Bank), who answered ``answered_call``.
- ``anton`` is Anton (``operator_a2``), also Alpha Bank, but not on that call.
- ``bob`` is Bob (``operator_b``, Beta Bank).
- ``oscar`` is the outsider: logged in, no role. ``anonymous`` is not logged in.
- ``customer`` is the browser of ``answered_call``'s customer, after opening their link.
"""

from dataclasses import dataclass

import pytest
from django.test import Client

from sessions_app.models import Evidence, Participant, VerificationSession
from sessions_app.services import session_assign_operator
from tests.conftest import create_call
from tests.console import images
from tests.console.helpers import (
    customer_browser,
    customer_capture_url,
    customer_joins,
    operator_browser,
    operator_capture_url,
    upload,
)
from workflows import services as workflow_services


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Passwords are never checked here (force_login); the real hasher would
    spend most of the time making the named people."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def alice(operator_a):
    return operator_browser(operator_a.user)


@pytest.fixture
def anton(operator_a2):
    return operator_browser(operator_a2.user)


@pytest.fixture
def bob(operator_b):
    return operator_browser(operator_b.user)


@pytest.fixture
def oscar(outsider):
    return operator_browser(outsider)


@pytest.fixture
def anonymous(db):
    return Client()


@pytest.fixture
def customer(answered_call):
    return customer_browser(answered_call.link_token)


@pytest.fixture
def document_capture(answered_call, operator_a):
    """Alice asked for the front of the customer's document."""
    step = answered_call.participant.steps.get(kind="document")
    return workflow_services.capture_request_create(step=step, operator=operator_a, kind=Evidence.Kind.DOCUMENT_FRONT)


@pytest.fixture
def stored_evidence(document_capture):
    """The customer's camera answered ``document_capture`` with a real JPEG."""
    return workflow_services.evidence_store_image(
        capture=document_capture, source=Evidence.Source.CUSTOMER_DEVICE, data=images.jpeg()
    )


@dataclass
class GroupCall:
    session: VerificationSession
    participants: list[Participant]
    tokens: list[str]


@pytest.fixture
def group_call(business_a, workflow_a, operator_a) -> GroupCall:
    """Alpha Bank's multi-user call with two customers, answered by Alice."""
    session, links = create_call(business_a, workflow_a, names=("Max Mustermann", "Erika Musterfrau"))
    for participant, _url in links:
        customer_joins(participant)
    session_assign_operator(session_id=session.pk, operator=operator_a)
    session.refresh_from_db()
    participants = [Participant.objects.get(pk=participant.pk) for participant, _url in links]
    return GroupCall(session=session, participants=participants, tokens=[url.rsplit("/v/", 1)[1] for _p, url in links])


@dataclass
class Uploader:
    """One of the two pages that answer a capture: the customer's (its own
    camera, full resolution) or the operator's (the frame it received)."""

    name: str
    browser: object
    session: VerificationSession
    source: str

    def url(self, capture_id: str) -> str:
        if self.name == "customer":
            return customer_capture_url(capture_id)
        return operator_capture_url(self.session, capture_id)

    def send(self, capture, data: bytes, **kwargs):
        capture_id = capture if isinstance(capture, str) else capture.public_id.hex
        return upload(self.browser, self.url(capture_id), data, **kwargs)


@pytest.fixture(params=["customer", "operator"])
def uploader(request, answered_call, alice) -> Uploader:
    if request.param == "customer":
        return Uploader(
            "customer",
            customer_browser(answered_call.link_token),
            answered_call.session,
            Evidence.Source.CUSTOMER_DEVICE,
        )
    return Uploader("operator", alice, answered_call.session, Evidence.Source.OPERATOR_VIEW)
