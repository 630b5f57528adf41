"""Hand-made call history for the dashboard's tests: sessions written
directly with the times each figure reads, so a test's expected numbers can
be worked out on paper."""

import hashlib
import uuid
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
from django.contrib.auth.models import Group

from accounts.models import PLATFORM_STAFF_GROUP, SUPERVISORS_GROUP
from accounts.services import business_staff_add
from operators.models import Decision
from sessions_app.models import Participant, VerificationSession
from tests.conftest import make_user

State = VerificationSession.State


def at(day: int, hour: int = 10, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=dt_timezone.utc)


def make_session(
    business, workflow, *, waiting_at, wait=None, length=None, state=None, operator=None, language="",
    decision=None,
) -> VerificationSession:
    """A call that joined the queue at ``waiting_at``: answered ``wait``
    seconds later (None: never), ended ``length`` seconds after the answer
    (None: not ended); ``decision`` is (outcome, reason)."""
    answered_at = waiting_at + timedelta(seconds=wait) if wait is not None else None
    ended_at = answered_at + timedelta(seconds=length) if answered_at and length is not None else None
    if state is None:
        state = State.COMPLETED if ended_at else State.IN_CALL if answered_at else State.WAITING
    if ended_at is None and state in VerificationSession.ENDED_STATES:
        ended_at = waiting_at + timedelta(seconds=60)
    session = VerificationSession.objects.create(
        business=business, workflow=workflow, state=state, operator=operator,
        waiting_at=waiting_at, answered_at=answered_at, ended_at=ended_at,
    )
    participant = Participant.objects.create(
        session=session, position=0, name="Test Customer", language=language,
        link_token_hash=hashlib.sha256(uuid.uuid4().bytes).hexdigest(), link_expires_at=waiting_at + timedelta(days=1),
    )
    if decision:
        Decision.objects.create(participant=participant, outcome=decision[0], reason_code=decision[1], operator=operator)
    return session


@pytest.fixture
def supervisor_a(business_a):
    """Sam, supervisor of Alpha Bank."""
    user = make_user("sam")
    business_staff_add(user=user, business=business_a, role=SUPERVISORS_GROUP)
    return user


@pytest.fixture
def supervisor_b(business_b):
    """Susi, supervisor of Beta Bank."""
    user = make_user("susi")
    business_staff_add(user=user, business=business_b, role=SUPERVISORS_GROUP)
    return user


@pytest.fixture
def platform_supervisor(db):
    """Pia, a supervisor of the platform: platform staff, tied to no business."""
    user = make_user("pia", is_staff=True)
    user.groups.add(Group.objects.get_or_create(name=SUPERVISORS_GROUP)[0])
    user.groups.add(Group.objects.get_or_create(name=PLATFORM_STAFF_GROUP)[0])
    return user
