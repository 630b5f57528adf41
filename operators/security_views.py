"""Second-factor pages: the code step of a sign-in, and enrolment; and the
sign-in page of a locked-out account. Thin: the rules are in accounts/totp.py."""

from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts import totp


@require_http_methods(["GET", "POST"])
def totp_verify(request):
    user, pending = totp.totp_pending_user(request)
    if user is None:
        messages.info(request, _("Please sign in again."))
        return redirect("operators:login")
    device = totp.totp_device_for(user)
    if device is None or device.confirmed_at is None:
        # The device was removed by an admin meanwhile: the password was
        # checked a moment ago; start over so the usual sign-in applies.
        totp.totp_pending_clear(request)
        return redirect("operators:login")
    error = None
    if request.method == "POST":
        if not totp.totp_signin_allowed(request, user=user):
            totp.totp_pending_clear(request)
            return signin_locked_out(request)
        try:
            accepted = totp.totp_code_accept(device=device, code=request.POST.get("code", ""))
        except totp.TotpLocked:
            totp.totp_pending_clear(request)
            messages.error(request, _("Too many wrong codes. Wait a quarter of an hour, then sign in again."))
            return redirect("operators:login")
        if accepted:
            totp.totp_pending_clear(request)
            auth.login(request, user, backend=pending["backend"])
            next_url = pending.get("next") or ""
            if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
                next_url = reverse(settings.LOGIN_REDIRECT_URL)
            return redirect(next_url)
        if totp.totp_signin_failed(request, user=user):
            totp.totp_pending_clear(request)
            return signin_locked_out(request)
        if totp.totp_pending_failed(request, pending):
            messages.error(request, _("Too many wrong codes. Please sign in again."))
            return redirect("operators:login")
        error = _("That code is not right. Codes change every 30 seconds; try the current one.")
    return render(request, "operators/totp_verify.html", {"error": error}, status=400 if error else 200)


@login_required
@require_http_methods(["GET", "POST"])
def totp_settings(request):
    """Enrol an authenticator app, confirm it with a first code, or turn it
    off (with a code too: a borrowed unlocked screen must not do that)."""
    device = totp.totp_device_for(request.user)
    error = None
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "start":
                totp.totp_enrolment_start(user=request.user)
                return redirect("operators:totp_settings")
            if action == "confirm" and device is not None and device.confirmed_at is None:
                if totp.totp_enrolment_confirm(device=device, code=request.POST.get("code", "")):
                    messages.success(request, _("Two-step sign-in is on. You will be asked for a code at every sign-in."))
                    return redirect("operators:totp_settings")
                error = _("That code is not right. Enter the 6 digits your app shows now.")
            elif action == "disable" and device is not None and device.confirmed_at is not None:
                if totp.totp_mandatory(request.user):
                    error = _("Two-step sign-in is required for your account; it cannot be turned off.")
                elif totp.totp_disable(device=device, code=request.POST.get("code", "")):
                    messages.success(request, _("Two-step sign-in is off."))
                    return redirect("operators:totp_settings")
                else:
                    error = _("That code is not right.")
            else:
                error = _("Nothing to do.")
        except totp.TotpLocked:
            error = _("Too many wrong codes. Wait a quarter of an hour.")
    context = {"device": device, "error": error, "mandatory": totp.totp_mandatory(request.user)}
    if device is not None and device.confirmed_at is None:
        context.update(
            qr_data_uri=totp.totp_qr_data_uri(device),
            provisioning_uri=totp.totp_provisioning_uri(device),
            secret=totp.totp_secret_for_display(device),
        )
    return render(request, "operators/totp_settings.html", context, status=400 if error else 200)


def admin_login(request):
    """The admin's sign-in goes through the operators' one, so the second
    factor applies there too (the admin's own form checks passwords only)."""
    next_url = request.GET.get("next") or reverse("admin:index")
    if request.user.is_authenticated:
        if request.user.is_active and request.user.is_staff:
            return redirect(next_url if url_has_allowed_host_and_scheme(next_url, {request.get_host()}) else "admin:index")
        raise PermissionDenied  # signed in, but not staff
    return redirect_to_login(next_url, settings.LOGIN_URL)


def signin_locked_out(request, original_response=None, credentials=None):
    """The sign-in page, saying the account is locked for a while (django-axes
    calls this, AXES_LOCKOUT_CALLABLE, for the password step; the code step
    above too). 429, and nothing about whether the username exists: an
    unknown username locks the same way."""
    context = {
        "form": AuthenticationForm(request),
        "locked_out": True,
        "lockout_minutes": settings.SIGNIN_LOCKOUT_MINUTES,
        "next": request.POST.get("next", "") if request.method == "POST" else "",
    }
    return render(request, "operators/login.html", context, status=429)
