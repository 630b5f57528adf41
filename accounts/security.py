"""Signed-in staff (operators, compliance reviewers, admins): how long a
session lives, who may end it, and whether an open socket still belongs to
a signed-in user.

Timestamps live in the Django session itself (server-side), so the HTTP
middleware and the websocket consumers judge a session by the same data:
``AUTH_AT`` is the sign-in, ``SEEN_AT`` the last request.
"""

import logging
import time
from importlib import import_module
from types import SimpleNamespace

from django.conf import settings
from django.contrib import auth
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.contrib.auth.views import redirect_to_login
from django.dispatch import receiver

from accounts.models import LoginSession, Operator
from accounts.services import operator_set_presence
from accounts.totp import totp_enrolment_due

security_log = logging.getLogger("verity.security")

AUTH_AT = "verity_auth_at"
SEEN_AT = "verity_seen_at"
IDLE = "idle"
ABSOLUTE = "absolute"
# Writing the session on every request costs a database write each; the idle
# clock only needs this precision.
TOUCH_EVERY_SECONDS = 30


def _session_store(session_key: str | None):
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)


def staff_session_problem(store, now: float | None = None) -> str | None:
    """Why this signed-in session must end now (IDLE or ABSOLUTE), or None."""
    now = time.time() if now is None else now
    auth_at, seen_at = store.get(AUTH_AT), store.get(SEEN_AT)
    if auth_at is None or seen_at is None:
        return None  # signed in before these were kept: the middleware starts the clocks
    if now - auth_at > settings.OPERATOR_ABSOLUTE_TIMEOUT_SECONDS:
        return ABSOLUTE
    if now - seen_at > settings.OPERATOR_IDLE_TIMEOUT_SECONDS:
        return IDLE
    return None


def staff_session_touch(store, now: float | None = None) -> None:
    now = time.time() if now is None else now
    store.setdefault(AUTH_AT, now)
    if now - store.get(SEEN_AT, 0) >= TOUCH_EVERY_SECONDS:
        store[SEEN_AT] = now


def staff_body_check(request):
    """kyc/body_limits.py asks before a console or admin body is read: only a
    signed-in user may send one; anybody else is sent to sign in, as the
    console's own views would."""
    if request.user.is_authenticated:
        return None
    return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)


def socket_signed_in_user(scope, *, just_connected: bool = False):
    """The user of the Django session this socket opened with, if that
    session still holds the same user, active, with the same password, within
    its timeouts; else None. Re-read from the session store and the database,
    never from the scope's copy (loaded once, at connect): a logout deletes
    the session, a deactivation or a password change makes Django refuse it,
    an admin's "end sessions" deletes it. Runs in a thread (database).

    ``just_connected``: the socket is connecting and its scope's session and
    user were read moments ago, in this same trip to the database
    (kyc.asgi.LazyAuthMiddleware, through Django's own checks): they are
    used as they are instead of read twice."""
    scope_user = scope.get("user")
    session = scope.get("session")
    if scope_user is None or not scope_user.is_authenticated:
        return None
    session_key = getattr(session, "session_key", None)
    if not session_key:
        return None
    if just_connected:
        store, user = session, scope_user
    else:
        store = _session_store(session_key)
        if not store.exists(session_key):
            return None
        # Django's own checks: the backend refuses an inactive user, and a
        # session whose password hash no longer matches is flushed.
        user = auth.get_user(SimpleNamespace(session=store))
    if not user.is_authenticated or user.pk != scope_user.pk or staff_session_problem(store) is not None:
        return None
    if totp_enrolment_due(user):
        return None  # the second factor is mandatory and not set up yet: only its enrolment page opens
    return user


def socket_user_still_signed_in(scope) -> bool:
    return socket_signed_in_user(scope) is not None


# --- the sessions a user signed in with -----------------------------------------------


@receiver(user_logged_in, dispatch_uid="verity_staff_session_started")
def _staff_session_started(sender, request, user, **kwargs):
    now = time.time()
    request.session[AUTH_AT] = now
    request.session[SEEN_AT] = now
    if request.session.session_key is None:
        request.session.save()
    LoginSession.objects.get_or_create(session_key=request.session.session_key, defaults={"user": user})
    # Forget sessions of this user that ended on their own (expiry, clearsessions).
    for record in LoginSession.objects.filter(user=user).exclude(session_key=request.session.session_key):
        if not _session_store(record.session_key).exists(record.session_key):
            record.delete()


@receiver(user_logged_out, dispatch_uid="verity_staff_session_ended")
def _staff_session_ended(sender, request, user, **kwargs):
    if request is not None and request.session.session_key:
        LoginSession.objects.filter(session_key=request.session.session_key).delete()


# An operator signs in to take calls: available at once, or the waiting
# customers read "no operator" while the operator looks at them (they can
# still choose Busy or Away in the console). Signing out leaves them Away.
@receiver(user_logged_in, dispatch_uid="verity_operator_available_on_sign_in")
def _operator_available_on_sign_in(sender, request, user, **kwargs):
    operator = Operator.objects.filter(user=user).first()
    if operator is not None:
        operator_set_presence(operator=operator, presence=Operator.Presence.AVAILABLE)


@receiver(user_logged_out, dispatch_uid="verity_operator_away_on_sign_out")
def _operator_away_on_sign_out(sender, request, user, **kwargs):
    operator = Operator.objects.filter(user=user).first() if user is not None else None
    if operator is not None:
        operator_set_presence(operator=operator, presence=Operator.Presence.AWAY)


def user_sessions_end(*, user, by=None) -> int:
    """End every session the user signed in with: their next request goes to
    the sign-in page, and their open sockets close at the next heartbeat."""
    records = list(LoginSession.objects.filter(user=user))
    for record in records:
        _session_store(record.session_key).delete(record.session_key)
    LoginSession.objects.filter(pk__in=[r.pk for r in records]).delete()
    security_log.warning(
        "sessions ended by an admin: user %s, %d session(s), by user %s",
        user.pk,
        len(records),
        getattr(by, "pk", None),
    )
    return len(records)
