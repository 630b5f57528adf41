"""The second factor (optional, or mandatory per business and for staff): time-based one-time codes (RFC 6238) from an
authenticator app.

Sign-in with a confirmed device is two steps. The password step does not
log the user in: it leaves only a pending marker in a fresh anonymous
session, so until the code is right every check in the product (the console,
the admin, both sockets) still sees an anonymous visitor.
"""

import hmac
import logging
import time

import pyotp
import segno
from django.conf import settings
from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.utils import timezone

from accounts.models import Operator, TotpDevice
from kyc import throttle
from kyc.crypto import InvalidToken, secret_decrypt, secret_encrypt

security_log = logging.getLogger("verity.security")

ISSUER = "Verity"
STEP_SECONDS = 30
# Codes of the previous and next 30 s are accepted too (clock drift).
DRIFT_STEPS = 1
_PURPOSE = "totp-secret"

PENDING = "verity_totp_pending"
PENDING_TTL_SECONDS = 300
# Wrong codes: per pending sign-in, then per user across sign-ins (someone
# who has the password must not get unlimited tries by signing in again).
ATTEMPTS_PER_SIGN_IN = 5
FAILURES_PER_USER = 10
FAILURE_WINDOW_SECONDS = 900


class TotpLocked(Exception):
    """Too many wrong codes for this user in the window."""


def totp_device_for(user) -> TotpDevice | None:
    return TotpDevice.objects.filter(user=user).first()


def totp_required(user) -> bool:
    return TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()


def totp_mandatory(user) -> bool:
    """Must this user sign in with a code? Staff users when
    STAFF_REQUIRE_SECOND_FACTOR is on (the admin shows every business's
    data), operators of a business that requires it."""
    if user.is_staff and settings.STAFF_REQUIRE_SECOND_FACTOR:
        return True
    return Operator.objects.filter(user=user, business__require_second_factor=True).exists()


def totp_enrolment_due(user) -> bool:
    """Signed in with the password, but the second factor is mandatory and
    not set up: until it is, the user reaches nothing but the enrolment page
    (operators.middleware, and the sockets through accounts.security)."""
    return user.is_authenticated and totp_mandatory(user) and not totp_required(user)


def _secret(device: TotpDevice) -> str | None:
    try:
        return secret_decrypt(device.secret_encrypted, purpose=_PURPOSE)
    except InvalidToken:
        return None  # SECRET_KEY changed: the device cannot make valid codes any more


# --- enrolment -------------------------------------------------------------------------


def totp_enrolment_start(*, user) -> TotpDevice:
    """A new, unconfirmed secret for the user (replacing an unconfirmed one).
    A confirmed device is never replaced here: disable it first, with a code."""
    with transaction.atomic():
        device = TotpDevice.objects.select_for_update().filter(user=user).first()
        if device is not None and device.confirmed_at is not None:
            return device
        secret = secret_encrypt(pyotp.random_base32(), purpose=_PURPOSE)
        if device is None:
            return TotpDevice.objects.create(user=user, secret_encrypted=secret)
        device.secret_encrypted = secret
        device.last_used_step = 0
        device.save(update_fields=["secret_encrypted", "last_used_step"])
        return device


def totp_provisioning_uri(device: TotpDevice) -> str:
    return pyotp.TOTP(_secret(device)).provisioning_uri(name=device.user.get_username(), issuer_name=ISSUER)


def totp_qr_data_uri(device: TotpDevice) -> str:
    """The provisioning URI as a QR code, made on the server (no third party
    ever sees the secret), as an SVG data URI for an <img>."""
    return segno.make(totp_provisioning_uri(device), error="m").svg_data_uri(scale=5, border=4)


def totp_secret_for_display(device: TotpDevice) -> str:
    """The base32 secret in groups of four, for typing into an app by hand."""
    secret = _secret(device) or ""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def totp_enrolment_confirm(*, device: TotpDevice, code: str) -> bool:
    if not totp_code_accept(device=device, code=code):
        return False
    TotpDevice.objects.filter(pk=device.pk).update(confirmed_at=timezone.now())
    security_log.info("second factor enabled: user %s", device.user_id)
    return True


def totp_disable(*, device: TotpDevice, code: str) -> bool:
    if not totp_code_accept(device=device, code=code):
        return False
    device.delete()
    security_log.warning("second factor disabled by its user: user %s", device.user_id)
    return True


# --- codes -----------------------------------------------------------------------------


def totp_code_accept(*, device: TotpDevice, code: str, now: float | None = None) -> bool:
    """Is this the device's code of now (± one step), never used before?
    Counts a wrong code against the user; raises TotpLocked past the limit."""
    user_id = device.user_id
    if throttle.window_total("totp", str(user_id), FAILURE_WINDOW_SECONDS) >= FAILURES_PER_USER:
        raise TotpLocked
    code = "".join((code or "").split())
    secret = _secret(device)
    now = time.time() if now is None else now
    current = int(now // STEP_SECONDS)
    if secret and code.isdigit() and len(code) == 6:
        totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
        for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
            if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
                # The used step is remembered under a row lock: the same code
                # sent twice at once is accepted once.
                with transaction.atomic():
                    locked = TotpDevice.objects.select_for_update().get(pk=device.pk)
                    if step <= locked.last_used_step:
                        break
                    locked.last_used_step = step
                    locked.save(update_fields=["last_used_step"])
                return True
    failures = throttle.window_count("totp", str(user_id), FAILURE_WINDOW_SECONDS)
    if failures == FAILURES_PER_USER:
        security_log.warning("second factor locked after %d wrong codes: user %s", failures, user_id)
    return False


# --- the pending sign-in ---------------------------------------------------------------


def totp_pending_start(request, *, user, next_url: str) -> None:
    """The password was right; remember who is signing in, nothing more. A
    fresh session key: nothing from before the password step carries over."""
    request.session.cycle_key()
    request.session[PENDING] = {
        "user": user.pk,
        "backend": user.backend,
        "at": time.time(),
        "next": next_url,
        "attempts": 0,
    }


def totp_pending_user(request):
    """(user, pending) of a sign-in waiting for its code, or (None, None)."""
    pending = request.session.get(PENDING)
    if not pending or time.time() - pending.get("at", 0) > PENDING_TTL_SECONDS:
        request.session.pop(PENDING, None)
        return None, None
    user = get_user_model().objects.filter(pk=pending["user"], is_active=True).first()
    if user is None:
        request.session.pop(PENDING, None)
        return None, None
    return user, pending


def totp_pending_failed(request, pending) -> bool:
    """Count a wrong code of this sign-in; True when it must start over."""
    pending["attempts"] += 1
    if pending["attempts"] >= ATTEMPTS_PER_SIGN_IN:
        request.session.pop(PENDING, None)
        security_log.warning("sign-in abandoned after %d wrong codes: user %s", pending["attempts"], pending["user"])
        return True
    request.session[PENDING] = pending
    return False


def totp_pending_clear(request) -> None:
    request.session.pop(PENDING, None)


# --- the code step in the sign-in lockout ----------------------------------------------
# A wrong code after a right password is a failed sign-in like a wrong
# password: both count in one throttle (django-axes, settings › Sign-in
# guessing), so knowing the password buys no more guesses than not knowing it.


def totp_signin_allowed(request, *, user) -> bool:
    """False while the user's sign-in is locked out (wrong passwords and wrong
    codes together): then even the right code is refused."""
    return AxesProxyHandler.is_allowed(request, {"username": user.get_username()})


def totp_signin_failed(request, *, user) -> bool:
    """Count a wrong code as a failed sign-in. It goes through Django's
    user_login_failed signal, the one a wrong password sends, which axes
    counts. True when this failure locked the user out."""
    user_login_failed.send(sender=__name__, credentials={"username": user.get_username()}, request=request)
    return bool(getattr(request, "axes_locked_out", False))
