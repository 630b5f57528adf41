"""One way to say "this session changed".

Every page of a call (the customers', the operator's) shows a state built
from the database and tagged with the session's ``state_version``; a page
resyncs when a push or a heartbeat shows a newer version. A change that does
not bump the version leaves a page that never resyncs, so every service that
changes what a page of the call shows ends with ``session_mark_changed``,
inside its transaction (tests/unit/test_session_mark_changed.py checks the
services against it).
"""

from django.db.models import F

from kyc import realtime
from sessions_app.models import VerificationSession


def session_mark_changed(session: VerificationSession) -> int:
    """Bump the session's version and nudge its pages after commit. Returns
    the new version; ``session.state_version`` holds it too."""
    VerificationSession.objects.filter(pk=session.pk).update(state_version=F("state_version") + 1)
    session.state_version = (
        VerificationSession.objects.filter(pk=session.pk).values_list("state_version", flat=True).get()
    )
    realtime.session_changed_on_commit(session)
    return session.state_version
