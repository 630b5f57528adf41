"""Sign-in lockouts in the audit trail.

django-axes (settings › Sign-in guessing) counts failed sign-ins and locks
an account out; it announces each lockout with its ``user_locked_out``
signal. The audit trail belongs to a business and lives above accounts, so
the record is written here, subscribed in OperatorsConfig.ready(). A user
with no business (a staff user, an unknown username) gets a security log
line instead: there is no business trail to write it to.
"""

import logging

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse

from accounts.models import Operator
from sessions_app.audit import Actor, audit_record

security_log = logging.getLogger("verity.security")

SIGNIN_LOCKED_OUT = "operator.signin_locked_out"


def signin_lockout_record(*, username: str | None, failures: int | None, step: str) -> None:
    """One lockout of one account. Every failure while locked is announced
    again (each one restarts the cool-off); only the one that reached the
    limit is recorded, so a guessing run is one event, not forty. The event
    names the operator by id and the step (password or code); the
    address the guesses came from stays in axes' records (superusers only)."""
    if failures is not None and failures != settings.AXES_FAILURE_LIMIT:
        return
    User = get_user_model()
    user = User.objects.filter(**{User.USERNAME_FIELD: username}).first() if username else None
    operator = Operator.objects.select_related("business").filter(user=user).first() if user else None
    if operator is None:
        security_log.warning("sign-in locked out: user %s", user.pk if user else "unknown")
        return
    security_log.warning("sign-in locked out: user %s (operator of business %s)", user.pk, operator.business_id)
    audit_record(
        business=operator.business,
        actor=Actor.system(),
        action=SIGNIN_LOCKED_OUT,
        data={
            "operator": operator.pk,
            "user": user.pk,
            "failures": failures,
            "lockout_minutes": settings.SIGNIN_LOCKOUT_MINUTES,
            "step": step,
        },
    )


def _user_locked_out(sender, request, username, ip_address, **kwargs):
    signin_lockout_record(
        username=username,
        failures=getattr(request, "axes_failures_since_start", None),
        step="code" if request.path == reverse("operators:totp_verify") else "password",
    )


def signin_lockout_connect() -> None:
    user_locked_out.connect(_user_locked_out, dispatch_uid="verity_signin_lockout_audit")
