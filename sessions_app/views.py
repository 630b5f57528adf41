"""The customer's pages: link, terms, the call page. Thin: each parses the
request, calls one service, renders."""

from functools import wraps

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.http import require_GET, require_POST

from kyc import throttle
from kyc.http import json_error
from kyc.net import client_ip
from kyc.state_machine import IllegalTransition
from sessions_app import selectors, services
from sessions_app.models import Participant
from sessions_app.selectors import (
    LinkInvalid,
    customer_session_bind,
    customer_session_participant,
    rtc_configuration_for,
    shared_decision,
)
from sessions_app.ui_strings import customer_strings

LINK_PROBLEM_STATUS = {
    LinkInvalid.UNKNOWN: 404,
    LinkInvalid.EXPIRED: 410,
    LinkInvalid.REVOKED: 410,
    LinkInvalid.FINISHED: 410,
}


def _client_ip(request) -> str | None:
    return client_ip(request)  # X-Forwarded-For only from TRUSTED_PROXIES


def _link_problem_page(request, reason: str):
    return render(request, "customer/link_problem.html", {"reason": reason}, status=LINK_PROBLEM_STATUS[reason])


def no_session_page(request):
    """What a browser that opened no link gets on every customer route."""
    return render(request, "customer/no_session.html", status=403)


def customer_body_check(request):
    """kyc/body_limits.py asks before a customer route's body is read: only a
    browser whose session is bound to a participant may send one."""
    participant_id, _link_hash = customer_session_participant(request.session)
    return None if participant_id else no_session_page(request)


def customer_view(view):
    """Load the participant bound to this browser's session cookie (never from
    the URL), refuse when the link can no longer be used, and speak the
    participant's language."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        participant_id, link_hash = customer_session_participant(request.session)
        participant = (
            Participant.objects.select_related("session__business", "session__workflow")
            .filter(pk=participant_id)
            .first()
            if participant_id
            else None
        )
        if participant is None:
            return no_session_page(request)
        if participant.link_token_hash != link_hash:
            # The link this browser opened was replaced by a new one.
            return _link_problem_page(request, LinkInvalid.REVOKED)
        problem = selectors.participant_access_problem(participant)
        if problem and not (problem == LinkInvalid.FINISHED and view.__name__ == "call_page"):
            return _link_problem_page(request, problem)
        if participant.language:
            translation.activate(participant.language)
            request.LANGUAGE_CODE = translation.get_language()
        return view(request, participant, *args, **kwargs)

    return wrapper


@require_GET
def link_open(request, token: str):
    """Exchange the link token for a session cookie, then redirect to a URL
    without the token: it never sits in history, referrers or logs."""
    ip = client_ip(request)
    if throttle.link_guessing_blocked(ip):
        response = render(request, "customer/link_throttled.html", status=429)
        response["Retry-After"] = str(settings.LINK_THROTTLE_WINDOW_SECONDS)
        response["Referrer-Policy"] = "no-referrer"
        return response
    try:
        participant = selectors.participant_resolve_link(raw_token=token)
    except LinkInvalid as problem:
        if problem.reason == LinkInvalid.UNKNOWN:
            throttle.link_lookup_failed(ip)  # a guess; a real but expired link is not
        response = _link_problem_page(request, problem.reason)
    else:
        request.session.cycle_key()
        customer_session_bind(request.session, participant)
        response = redirect("sessions_app:call")
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_GET
@customer_view
def call_page(request, participant: Participant):
    session = participant.session
    if participant.state == Participant.State.INVITED:
        terms = session.workflow.terms_for(translation.get_language())
        if terms is None:
            # A workflow without terms: nothing to accept, go straight on.
            services.participant_accept_terms(
                participant=participant, ip_address=_client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", "")
            )
        else:
            return render(request, "customer/terms.html", {"participant": participant, "terms": terms})
    if participant.state == Participant.State.DECLINED:
        return render(request, "customer/declined.html", {"participant": participant})
    page_data = {
        "state": participant.state,
        "session_id": session.public_id.hex,
        "kind": session.kind,
        "join_url": reverse("sessions_app:join"),
        "capture_url_prefix": reverse("workflows:capture_upload", args=["X"])[:-1],
        "answer_url": reverse("workflows:question_answer"),
        "ws_path": f"/ws/call/{session.public_id.hex}/",
        "redirect_url": session.redirect_url,
        "ended": session.is_ended or participant.state == Participant.State.REMOVED,
        "result": shared_decision(participant) if session.is_ended else None,
    }
    return render(
        request,
        "customer/call.html",
        {"participant": participant, "page_data": page_data, "strings": customer_strings()},
    )


@require_POST
@customer_view
def terms_accept(request, participant: Participant):
    if request.POST.get("accept") != "yes":
        terms = participant.session.workflow.terms_for(translation.get_language())
        return render(
            request,
            "customer/terms.html",
            {"participant": participant, "terms": terms, "must_accept": True},
            status=400,
        )
    services.participant_accept_terms(
        participant=participant,
        ip_address=_client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        # The page is in the same language as the terms page it was posted
        # from (participant's language, else the browser's), so the service
        # picks the same text the customer read.
        language=translation.get_language(),
    )
    return redirect("sessions_app:call")


@require_POST
@customer_view
def terms_decline(request, participant: Participant):
    try:
        services.participant_decline_terms(participant=participant)
    except IllegalTransition:
        pass  # accepted already (a back button, a second tab): the call page says where they are
    return redirect("sessions_app:call")


@customer_view
def join(request, participant: Participant):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        # The page's language (LocaleMiddleware chose it): the call's
        # language when the business did not say.
        participant = services.participant_join(participant=participant, language=translation.get_language() or "")
    except LinkInvalid as problem:
        return json_error("link_" + problem.reason, "This link can no longer be used.", 410)
    except ValidationError as error:
        return json_error("not_ready", " ".join(error.messages), 409)
    return JsonResponse(
        {
            "state": participant.state,
            "ws_path": f"/ws/call/{participant.session.public_id.hex}/",
            "rtc": rtc_configuration_for(participant.public_id.hex),
        }
    )
