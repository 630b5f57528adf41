"""Shared fixtures with named people. Every permission test says which of
them must not get in:

- ``operator_a`` works for ``business_a``; ``operator_b`` for ``business_b``.
- ``compliance_user`` reviews; ``outsider`` is a logged-in user with no role.
- ``live_call`` is a one-on-one session of business A with a customer whose
  link works (``live_call.link_token``); ``waiting_call`` is the same call
  with the customer in the queue, ``answered_call`` with Alice answering it.
"""

from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import translation

from accounts.models import COMPLIANCE_GROUP, Business, Operator
from accounts.services import operator_create
from sessions_app.audit import Actor
from sessions_app.models import Participant, VerificationSession
from sessions_app.services import (
    ParticipantSpec,
    participant_accept_terms,
    participant_join,
    session_assign_operator,
    session_create,
)
from workflows.models import WorkflowTemplate

# The evidence stores (filesystem, and S3 on a moto server on loopback) as
# fixtures for every test directory: see tests/evidence_stores.py.
pytest_plugins = ["tests.evidence_stores"]

STANDARD_STEPS = [
    {"kind": "terms", "terms_version": "v1", "terms_text": "We verify you on a recorded video call."},
    {"kind": "device_check"},
    {"kind": "document", "document_kinds": ["passport", "id_card"]},
    {"kind": "liveness", "action_count": 3},
    {"kind": "questions", "questions": ["What is your date of birth?"]},
    {"kind": "notes"},
]


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """On SQLite, test in a database file, as the product runs, not in memory.

    Django's in-memory test database is one shared cache between threads, and
    there a second writer fails at once with "database table is locked"
    instead of waiting for the lock (the busy timeout does not apply), so the
    concurrency tests would test an artefact. PostgreSQL is left as it is.
    """
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("sqlite") / "test.sqlite3")


@pytest.fixture(autouse=True)
def _private_evidence_root(settings, tmp_path):
    settings.EVIDENCE_ROOT = tmp_path / "evidence"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _sms_to_a_private_file(settings, tmp_path):
    """Text messages go to a file of the test's own (kyc.sms.FileBackend),
    never to the console or a provider."""
    settings.SMS_BACKEND = "kyc.sms.FileBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")


@pytest.fixture(autouse=True)
def _private_audit_checkpoint_log(settings, tmp_path):
    """Each test starts with an empty checkpoint log of its own, never var/'s."""
    settings.AUDIT_CHECKPOINT_LOG = tmp_path / "audit_checkpoints.jsonl"


@pytest.fixture(autouse=True)
def _checks_off_unless_asked(settings, request):
    """Captures stored in a test do not start the automated checks.

    In embedded mode the checks run on a background thread after the upload
    commits; in a test that thread would read rows the test database has
    already flushed (tracebacks after the test, noise in the next one). A
    test about the checks runs them itself, or asks with
    ``@pytest.mark.checks("inline")`` / ``("background")``. Whatever ran
    in the background has finished before the test's database goes away
    (pytest_runtest_teardown below).
    """
    marker = request.node.get_closest_marker("checks")
    settings.CHECKS_EMBEDDED_MODE = marker.args[0] if marker else "off"
    # Compositions likewise run in the request unless a test asks otherwise.
    settings.RECORDING_COMPOSE_EMBEDDED_MODE = "inline"


@pytest.fixture(autouse=True)
def _default_language_after_each_test():
    """A request in German leaves German active in the test's thread
    (LocaleMiddleware activates the request's language and nothing
    deactivates it afterwards), so a later test that calls a service
    directly would read its messages in German. Each test ends back in the
    default language."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _staff_second_factor_optional(settings):
    """Staff need a confirmed authenticator app before they reach anything
    (STAFF_REQUIRE_SECOND_FACTOR, on by default). The tests of other
    behaviours sign Carol in with her password alone; the tests of that rule
    (tests/security/test_second_factor_is_mandatory.py) turn it back on."""
    settings.STAFF_REQUIRE_SECOND_FACTOR = False


@pytest.fixture(autouse=True)
def _presence_store_trusted():
    """Presence leases (kyc/presence.py) live in a cache that outlives a test.
    Each test starts with none (in memory; Redis is left alone, its database
    is shared with the channel layer) in a store that has been up for longer
    than a lease window, so a missing lease means what it says. The tests of
    a freshly emptied store set the epoch themselves."""
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    from kyc.presence import PRESENCE_CACHE, presence_store_reset

    if isinstance(caches[PRESENCE_CACHE], LocMemCache):
        caches[PRESENCE_CACHE].clear()
    presence_store_reset(since=0.0)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_teardown(item, nextitem):
    # Before any fixture is torn down (the test database among them).
    from workflows.tasks import background_pool_wait

    background_pool_wait()
    yield


def make_user(username: str, **extra):
    return get_user_model().objects.create_user(username=username, password="correct-horse-battery-1", **extra)


@pytest.fixture
def business_a(db):
    return Business.objects.create(name="Alpha Bank", slug="alpha-bank")


@pytest.fixture
def business_b(db):
    return Business.objects.create(name="Beta Bank", slug="beta-bank")


@pytest.fixture
def workflow_a(business_a):
    return WorkflowTemplate.objects.create(business=business_a, name="Standard", steps=STANDARD_STEPS)


@pytest.fixture
def workflow_b(business_b):
    return WorkflowTemplate.objects.create(business=business_b, name="Standard", steps=STANDARD_STEPS)


@pytest.fixture
def operator_a(business_a) -> Operator:
    return operator_create(user=make_user("alice"), business=business_a, display_name="Alice")


@pytest.fixture
def operator_a2(business_a) -> Operator:
    return operator_create(user=make_user("anton"), business=business_a, display_name="Anton")


@pytest.fixture
def operator_b(business_b) -> Operator:
    return operator_create(user=make_user("bob"), business=business_b, display_name="Bob")


@pytest.fixture
def compliance_user(db):
    user = make_user("carol", is_staff=True)
    user.groups.add(Group.objects.get_or_create(name=COMPLIANCE_GROUP)[0])
    return user


@pytest.fixture
def outsider(db):
    return make_user("oscar")


@dataclass
class LiveCall:
    session: VerificationSession
    participant: Participant
    link_url: str

    @property
    def link_token(self) -> str:
        return self.link_url.rsplit("/v/", 1)[1]


def create_call(business, workflow, *, names=("Max Mustermann",), kind=None) -> tuple[VerificationSession, list]:
    kind = kind or (VerificationSession.Kind.ONE_ON_ONE if len(names) == 1 else VerificationSession.Kind.MULTI_USER)
    created = session_create(
        business=business,
        workflow=workflow,
        kind=kind,
        participants=[ParticipantSpec(name=name, email=f"{name.split()[0].lower()}@example.com") for name in names],
        business_reference="REF-1",
        actor=Actor.api(),
    )
    return created.session, created.links


@pytest.fixture
def live_call(business_a, workflow_a) -> LiveCall:
    session, links = create_call(business_a, workflow_a)
    participant, url = links[0]
    return LiveCall(session=session, participant=participant, link_url=url)


@pytest.fixture
def other_call(business_b, workflow_b) -> LiveCall:
    session, links = create_call(business_b, workflow_b, names=("Erika Musterfrau",))
    participant, url = links[0]
    return LiveCall(session=session, participant=participant, link_url=url)


@pytest.fixture
def waiting_call(live_call) -> LiveCall:
    """``live_call`` after its customer accepted the terms and clicked Join:
    the session waits in business A's queue."""
    participant_accept_terms(participant=live_call.participant, ip_address="192.0.2.10", user_agent="pytest")
    participant_join(participant=live_call.participant)
    live_call.session.refresh_from_db()
    live_call.participant.refresh_from_db()
    return live_call


@pytest.fixture
def answered_call(waiting_call, operator_a) -> LiveCall:
    """``waiting_call`` answered by Alice (``operator_a``): customer and operator are in the call."""
    session_assign_operator(session_id=waiting_call.session.pk, operator=operator_a)
    waiting_call.session.refresh_from_db()
    waiting_call.participant.refresh_from_db()
    return waiting_call
