from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts import totp
from accounts.security import security_log, staff_session_problem, staff_session_touch
from kyc.http import json_error


class StaffSessionTimeoutMiddleware:
    """Idle and absolute timeouts for every signed-in user (operators,
    compliance, admins: all of them see personal data). An expired session
    is logged out and sent to the sign-in page with a message; the console's
    JSON actions get a 401 they can act on instead of a sign-in page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            problem = staff_session_problem(request.session)
            if problem:
                return self._expired(request, user, problem)
            staff_session_touch(request.session)
        return self.get_response(request)

    def _expired(self, request, user, problem):
        user_id = user.pk
        auth.logout(request)
        security_log.info("staff session ended: %s timeout, user %s", problem, user_id)
        if request.method != "GET" and request.path.startswith(reverse("operators:console")):
            return json_error("session_expired", "Your session expired. Please sign in again.", 401)
        messages.warning(request, _("Your session expired. Please sign in again."))
        return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)


class SecondFactorEnrolmentMiddleware:
    """A signed-in user whose second factor is mandatory (a staff user, an
    operator of a business that requires it) and not set up reaches only the
    enrolment page and the sign-out: every other page (console, admin, API
    docs) sends them there; a form post or a console action gets a 403. The
    sockets refuse such a session in accounts.security."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and request.path not in (reverse("operators:totp_settings"), reverse("operators:logout"))
            and totp.totp_enrolment_due(user)
        ):
            return self._enrol_first(request)
        return self.get_response(request)

    def _enrol_first(self, request):
        if request.method in ("GET", "HEAD"):
            # The enrolment page itself says why the user is there.
            return redirect("operators:totp_settings")
        return json_error(
            "second_factor_required", _("Your account requires two-step sign-in. Set it up to continue."), 403
        )
