"""Repeat applicants, the negative list and fraud flags. The people are
tests/conftest.py's (Alice ``operator_a`` and Bob ``operator_a2`` of
business A, ``operator_b`` of business B, Carol ``compliance_user``,
Oscar ``outsider``); the webhook receiver is tests/webhooks/conftest.py's."""

import numpy as np
import pytest

from operators.models import Decision
from sessions_app.models import Evidence
from tests.checks import fakes
from tests.conftest import create_call
from tests.webhooks.conftest import (  # noqa: F401  (shared fixtures, some autouse)
    _fast_password_hashing,
    _mail,
    celery_eager,
    hooked_business_a,
    receiver,
)
from workflows.checks.results import CheckOutcome


def descriptor(seed: int) -> np.ndarray:
    """A face descriptor as dlib's (unit-ish length, 128 numbers): two seeds
    are far apart (≈ 0.7 at this scale), one seed is one person."""
    rng = np.random.default_rng(seed)
    vector = rng.normal(size=128)
    return vector / np.linalg.norm(vector) * 0.5


def face_match(vector) -> CheckOutcome:
    outcome = fakes.face_match_passed()
    outcome.face_descriptor = tuple(float(v) for v in vector)
    return outcome


def mrz(**fields) -> CheckOutcome:
    outcome = fakes.mrz_passed()
    outcome.details["fields"].update(fields)
    return outcome


def applicant(business, workflow, *, name="Max Mustermann", mrz_outcome=None, face=None):
    """A session of the business whose participant's checks read this MRZ and face."""
    session, links = create_call(business, workflow, names=(name,))
    participant = links[0][0]
    if mrz_outcome is not None:
        fakes.store(fakes.capture(participant), mrz_outcome)
    if face is not None:
        fakes.store(fakes.capture(participant, Evidence.Kind.FACE), face_match(face))
    return session, participant


def reject(participant, operator, reason=Decision.Reason.DOCUMENT_SUSPECTED_FORGERY):
    return Decision.objects.create(participant=participant, operator=operator, outcome=Decision.Outcome.REJECT,
                                   reason_code=reason)


@pytest.fixture
def first_applicant(business_a, workflow_a):
    """Max, seen by business A once: passport C01X00T47 and his face (seed 1)."""
    return applicant(business_a, workflow_a, mrz_outcome=fakes.mrz_passed(), face=descriptor(1))
