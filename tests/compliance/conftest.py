"""A decided call with captures, for compliance review. Carol
(``compliance_user``) reviews; Alice (``operator_a``) and Bob (``operator_b``)
are operators, not staff; ``outsider_staff`` is staff without the compliance
group; ``superuser`` may change what Carol may only see."""

import hashlib
import io

import pytest
from django.core.files.base import ContentFile
from PIL import Image

from operators.services import decision_record
from sessions_app.models import Evidence
from tests.api.conftest import _fast_password_hashing, _mail, celery_eager, key_a  # noqa: F401  (shared fixtures)
from tests.conftest import make_user


def png_bytes(colour=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def store_evidence(call, *, kind=Evidence.Kind.FACE, colour=(200, 30, 30)) -> Evidence:
    """Set-up only: a capture stored as the capture service stores it."""
    data = png_bytes(colour)
    evidence = Evidence(
        session=call.session,
        participant=call.participant,
        kind=kind,
        source=Evidence.Source.CUSTOMER_DEVICE,
        content_type="image/png",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        width=32,
        height=24,
    )
    evidence.file.save(f"{call.session.public_id.hex}/{evidence.public_id.hex}.png", ContentFile(data), save=False)
    evidence.save()
    return evidence


@pytest.fixture
def reviewed_call(answered_call, operator_a):
    """Alpha Bank's call: Max showed his document and face, Alice approved him."""
    answered_call.document = store_evidence(answered_call, kind=Evidence.Kind.DOCUMENT_FRONT, colour=(10, 10, 200))
    answered_call.face = store_evidence(answered_call, kind=Evidence.Kind.FACE)
    decision_record(
        participant=answered_call.participant,
        operator=operator_a,
        outcome="approve",
        reason_code="verified",
        comment="Passport matches; customer calm.",
        override_confirmed=True,  # the checks had not run: the recommendation said "Review"
    )
    answered_call.session.refresh_from_db()
    answered_call.participant.refresh_from_db()
    return answered_call


@pytest.fixture
def superuser(db):
    return make_user("root", is_staff=True, is_superuser=True)


@pytest.fixture
def outsider_staff(db):
    return make_user("stan", is_staff=True)


@pytest.fixture
def carol_browser(client, compliance_user):
    client.force_login(compliance_user)
    return client
