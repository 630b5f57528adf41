from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse
from django.utils.translation import gettext as _

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
