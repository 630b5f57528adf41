"""One way to say "this session changed".

Every page of a call (the customers', the operator's) shows a state built
from the database and tagged with the session's ``state_version``; a page
resyncs when a push or a heartbeat shows a newer version. A change that does
not bump the version leaves a page that never resyncs, so every service that
changes what a page of the call shows ends with ``session_mark_changed``,
inside its transaction (tests/unit/test_session_mark_changed.py checks the
services against it).
"""

from django.core.cache import caches
from django.db import transaction
from django.db.models import F

from kyc import realtime
from kyc.presence import PRESENCE_CACHE
from sessions_app.models import VerificationSession

# How long a session's version is kept beside the presence leases: a call's
# heartbeats read it from there, not from the database; a miss reads the
# database once and puts it back. Two changes committing together may store
# their versions out of order (get, then set): the older one then stands
# until the next change or this long, and a page that also lost the newer
# one's nudge resyncs that much later.
VERSION_KEEP_SECONDS = 300


def _version_key(session_id: int) -> str:
    return f"call:version:{session_id}"


def session_version_remember(session_id: int, version: int, *, read_from_database: bool = False) -> None:
    store = caches[PRESENCE_CACHE]
    if read_from_database:
        # Never over a newer version a commit stored meanwhile.
        store.add(_version_key(session_id), version, timeout=VERSION_KEEP_SECONDS)
        return
    known = store.get(_version_key(session_id))
    if known is None or known < version:
        store.set(_version_key(session_id), version, timeout=VERSION_KEEP_SECONDS)


def session_version_remembered(session_id: int) -> int | None:
    return caches[PRESENCE_CACHE].get(_version_key(session_id))


def session_mark_changed(session: VerificationSession) -> int:
    """Bump the session's version and nudge its pages after commit. Returns
    the new version; ``session.state_version`` holds it too."""
    VerificationSession.objects.filter(pk=session.pk).update(state_version=F("state_version") + 1)
    session.state_version = (
        VerificationSession.objects.filter(pk=session.pk).values_list("state_version", flat=True).get()
    )
    # After commit, like the nudge: a heartbeat must not announce a version
    # whose state a resync could not read yet.
    session_id, version = session.pk, session.state_version
    transaction.on_commit(lambda: session_version_remember(session_id, version))
    realtime.session_changed_on_commit(session)
    return session.state_version


def waiting_sessions_mark_changed(*, business_id: int, **_) -> int:
    """Every waiting session of the business must resync: an operator's
    presence changed, so whether anyone can answer (and the estimated wait)
    changed for each waiting customer. Connected to
    accounts.events.operator_presence_changed. Returns how many."""
    waiting = list(
        VerificationSession.objects.filter(business_id=business_id, state=VerificationSession.State.WAITING)
    )
    for session in waiting:
        session_mark_changed(session)
    return len(waiting)


def waiting_sessions_mark_changed_on_commit(*, business_id: int) -> None:
    """The queue moved (a call was answered, left it, was cancelled): every
    customer still waiting has a new place and estimate. After commit and
    outside the caller's transaction: bumping the other waiting sessions
    while holding this session's lock would take their row locks in no fixed
    order, and two operators answering two calls could deadlock."""
    transaction.on_commit(lambda: waiting_sessions_mark_changed(business_id=business_id))
