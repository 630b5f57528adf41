"""The customer's pages: link, terms, the call page. Thin: each parses the
request, calls one service, renders."""

import json
import math
from datetime import UTC, datetime
from functools import wraps

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kyc import geo, throttle
from kyc.http import json_error
from kyc.net import client_ip
from accounts.selectors import operators_available_count
from kyc.state_machine import IllegalTransition
from sessions_app import call_conditions, one_time_codes, precall, scheduling, scheduling_services, selectors, services
from sessions_app.audit import Actor
from sessions_app.calendar import PUBLISH, booking_ics
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
        # A finished call's page still shows its result, and a call aborted
        # for poor conditions may be tried again from it.
        if problem and not (problem == LinkInvalid.FINISHED and view.__name__ in ("call_page", "try_again")):
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
        consent = getattr(participant, "recording_consent", None)
        return render(
            request,
            "customer/declined.html",
            {"participant": participant, "recording_declined": consent is not None and not consent.accepted},
        )
    # The regulated pages between the terms and the call (sessions_app.precall),
    # before the first join and before a rejoin after leaving a running call
    # (participant_join refuses both without them).
    due = (
        precall.precall_due(participant, ip_address=_client_ip(request))
        if participant.state == Participant.State.TERMS_ACCEPTED
        or (participant.state == Participant.State.LEFT and not session.is_ended)
        else None
    )
    if due == precall.DUE_RECORDING_CONSENT:
        return _recording_consent_page(request, participant)
    if scheduling.booking_choice_due(participant, start_now=request.GET.get("start") == "now"):
        return _booking_page(request, participant)
    if scheduling.booked_for_later(participant):
        # ?start=now before the booked time: the booking page again, saying why.
        return _booking_page(request, participant, status=409, error=_join_too_early())
    # The location last: asked right before the call (a booked call's hours
    # earlier would be stale by then), and again when the customer retries.
    if due == precall.DUE_LOCATION or (due == precall.DUE_COUNTRY and request.GET.get("relocate") == "1"):
        return _location_page(request, participant)
    if due == precall.DUE_COUNTRY:
        return _country_refused_page(request, participant)
    page_data = {
        "state": participant.state,
        "session_id": session.public_id.hex,
        "kind": session.kind,
        "join_url": reverse("sessions_app:join"),
        "capture_url_prefix": reverse("workflows:capture_upload", args=["X"])[:-1],
        "answer_url": reverse("workflows:question_answer"),
        "one_time_code_url": reverse("sessions_app:one_time_code_enter"),
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


# --- consent to recording, live location, allowed countries (sessions_app.precall) ---


def _recording_consent_page(request, participant: Participant, *, status: int = 200, must_accept: bool = False):
    return render(
        request,
        "customer/recording_consent.html",
        {
            "participant": participant,
            "paragraphs": precall.recording_consent_text(participant.session.business.name),
            "agree_text": precall.RECORDING_CONSENT_AGREE,
            "version": precall.RECORDING_CONSENT_VERSION,
            "must_accept": must_accept,
        },
        status=status,
    )


def _location_page(request, participant: Participant):
    strings = {
        "asking": translation.gettext("Waiting for your browser… If it asks, please allow your location."),
        "sending": translation.gettext("Sending your location…"),
        "unsupported": translation.gettext("This browser cannot share a location. Please open the link in a current browser."),
        "failed": translation.gettext("Your location could not be sent. Please check your connection and try again."),
        "retry": translation.gettext("Try again"),
    }
    response = render(request, "customer/location.html", {"participant": participant, "strings": strings})
    # Every other page forbids geolocation (kyc.middleware); this one page
    # asks for it, so it alone allows it, for our own origin.
    response["Permissions-Policy"] = "camera=(self), microphone=(self), geolocation=(self)"
    return response


def _country_refused_page(request, participant: Participant):
    problem = precall.country_problem(participant, ip_address=_client_ip(request))
    return render(
        request,
        "customer/country_refused.html",
        {
            "participant": participant,
            "message": precall.country_refusal_text(problem),
            "ip_country": geo.country_name(problem.ip_country) if problem.ip_country else "",
            "location_country": geo.country_name(problem.location_country) if problem.location_country else "",
            "problem": problem,
        },
        status=403,
    )


@require_POST
@customer_view
def recording_consent_answer(request, participant: Participant):
    """The consent form: agree (its checkbox ticked) or decline."""
    if participant.state != Participant.State.TERMS_ACCEPTED:
        return redirect("sessions_app:call")  # a back button, a second tab: the call page says where they are
    declined = request.POST.get("answer") == "decline"
    if not declined and request.POST.get("agree") != "yes":
        return _recording_consent_page(request, participant, status=400, must_accept=True)
    services.participant_answer_recording_consent(
        participant=participant,
        accepted=not declined,
        ip_address=_client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        language=translation.get_language() or "",
    )
    return redirect("sessions_app:call")


LOCATION_FIELDS = ("latitude", "longitude", "accuracy", "timestamp")


@require_POST
@customer_view
def location_share(request, participant: Participant):
    """The browser's position (navigator.geolocation), as JSON: latitude,
    longitude, accuracy in metres and its timestamp (milliseconds since the
    epoch, the browser's clock). Answers where to go next."""
    try:
        body = json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError):
        return json_error("malformed", "The body is not JSON.", 400)
    if not isinstance(body, dict) or any(
        not isinstance(body.get(name), (int, float)) or isinstance(body.get(name), bool) for name in LOCATION_FIELDS
    ):
        return json_error("malformed", "latitude, longitude, accuracy and timestamp are numbers.", 400)
    timestamp = body["timestamp"]
    try:
        located_at = (
            datetime.fromtimestamp(timestamp / 1000, tz=UTC) if math.isfinite(timestamp) else None
        )
    except (OverflowError, OSError, ValueError):
        located_at = None
    try:
        services.participant_location_record(
            participant=participant,
            latitude=body["latitude"],
            longitude=body["longitude"],
            accuracy_m=body["accuracy"],
            located_at=located_at,
            ip_address=_client_ip(request),
        )
    except services.LocationRefused as refused:
        return json_error(refused.code or "refused", " ".join(refused.messages), 400 if refused.code != "state" else 409)
    return JsonResponse({"next": reverse("sessions_app:call")})


@customer_view
def join(request, participant: Participant):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        # The page's language (LocaleMiddleware chose it): the call's
        # language when the business did not say.
        participant = services.participant_join(
            participant=participant, language=translation.get_language() or "", ip_address=_client_ip(request)
        )
    except LinkInvalid as problem:
        return json_error("link_" + problem.reason, "This link can no longer be used.", 410)
    except ValidationError as error:
        # "precall": a regulated page is due again (a location gone stale
        # while the customer sat at the device check); the page reloads to it.
        code = "precall" if getattr(error, "code", None) == "precall" else "not_ready"
        return json_error(code, " ".join(error.messages), 409)
    return JsonResponse(
        {
            "state": participant.state,
            "ws_path": f"/ws/call/{participant.session.public_id.hex}/",
            "rtc": rtc_configuration_for(participant.public_id.hex),
        }
    )


@require_POST
@customer_view
def try_again(request, participant: Participant):
    """A call aborted for poor conditions: a new session for this customer,
    and this browser goes straight to it (it proved it holds the old link)."""
    try:
        new_participant = call_conditions.participant_try_again(participant=participant)
    except ValidationError:
        # Not aborted for poor conditions, or the workflow was switched off
        # since: nothing to try again; the link's own "finished" page.
        return _link_problem_page(request, LinkInvalid.FINISHED)
    request.session.cycle_key()
    selectors.customer_session_bind(request.session, new_participant)
    return redirect("sessions_app:call")


# --- booked calls (sessions_app.scheduling) ----------------------------------------


def _browser_zone(request) -> str | None:
    return request.GET.get("tz") or request.POST.get("tz")


def _join_too_early() -> str:
    return translation.gettext("Your call is booked for a later time. You can join a few minutes before it.")


def _booking_context(request, participant: Participant) -> dict:
    session = participant.session
    booking = scheduling.session_booking(session)
    zone = scheduling.customer_zone(session, browser_zone=_browser_zone(request), booking=booking)
    context = {"participant": participant, "booking": booking, "zone_name": str(zone.key if hasattr(zone, "key") else "UTC")}
    if booking is not None:
        context.update(
            booked_text=scheduling.time_text(booking.starts_at, zone),
            join_open=scheduling.booking_join_open(booking),
            # The full date: ten minutes before midnight is the day before.
            join_from_text=scheduling.time_text(booking.starts_at - scheduling.JOIN_EARLY, zone),
        )
    return context


def _booking_page(request, participant: Participant, *, status: int = 200, error: str = ""):
    """The link page before the call: the choice, or the booked call."""
    context = _booking_context(request, participant)
    context["operators_available"] = operators_available_count(participant.session.business)
    context["error"] = error
    template = "customer/booked.html" if context["booking"] else "customer/booking_choice.html"
    return render(request, template, context, status=status)


def _slots_page(request, participant: Participant, *, status: int = 200, error: str = ""):
    session = participant.session
    context = _booking_context(request, participant)
    zone = scheduling.customer_zone(session, browser_zone=_browser_zone(request), booking=context["booking"])
    slots = scheduling.free_slots(session.business, exclude_booking=context["booking"])
    context["days"] = [
        {
            "label": f"{date_format(day, 'l')}, {date_format(day, 'DATE_FORMAT')}",
            "times": [{"value": local.isoformat(), "text": date_format(local, "H:i")} for local in times],
        }
        for day, times in scheduling.slots_by_day(slots, zone)
    ]
    context["error"] = error
    return render(request, "customer/booking_slots.html", context, status=status)


@require_http_methods(["GET", "POST"])
@customer_view
def booking_slots(request, participant: Participant):
    """GET: the free times, by day, in the customer's zone. POST: book (or
    move the booking to) the chosen one."""
    if not scheduling.booking_allowed(participant):
        return redirect("sessions_app:call")
    if request.method == "GET":
        return _slots_page(request, participant)
    try:
        starts_at = parse_datetime(request.POST.get("slot") or "")
    except ValueError:  # well formed, no such time ("2026-02-30T10:00+01:00")
        starts_at = None
    if starts_at is None or timezone.is_naive(starts_at):
        return _slots_page(request, participant, status=400, error=_choose_a_time())
    zone = scheduling.customer_zone(participant.session, browser_zone=_browser_zone(request))
    try:
        scheduling_services.session_book(
            session=participant.session,
            starts_at=starts_at,
            actor=Actor.customer(),
            customer_time_zone=getattr(zone, "key", ""),
        )
    except ValidationError as problem:
        return _slots_page(request, participant, status=409, error=" ".join(problem.messages))
    return redirect("sessions_app:call")


def _choose_a_time() -> str:
    return translation.gettext("Please choose a time.")


@require_POST
@customer_view
def booking_cancel(request, participant: Participant):
    if not scheduling.booking_allowed(participant):
        # Waiting or in the call: the booking is being used, not cancelled.
        return redirect("sessions_app:call")
    scheduling_services.session_booking_cancel(session=participant.session, actor=Actor.customer())
    return redirect("sessions_app:call")


@require_GET
@customer_view
def booking_calendar(request, participant: Participant):
    """The booked call as a calendar file, to add to the customer's calendar."""
    booking = scheduling.session_booking(participant.session)
    if booking is None:
        return redirect("sessions_app:call")
    response = HttpResponse(
        booking_ics(booking, method=PUBLISH, language=translation.get_language()),
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="verity-call.ics"'
    return response


@require_POST
@customer_view
def one_time_code_enter(request, participant: Participant):
    """The one-time code the customer typed into the call's frame (field
    ``code``). 200 when confirmed; otherwise a clear message and a code the
    page tells apart (wrong_code, expired, locked, malformed, no_code)."""
    code = request.POST.get("code", "")
    if len(code) > one_time_codes.MAX_ENTRY_CHARS:
        message = translation.gettext("Enter the %(digits)d digits of the code.") % {"digits": one_time_codes.CODE_DIGITS}
        return json_error(one_time_codes.MALFORMED, message, 400)
    try:
        one_time_codes.one_time_code_enter(participant=participant, code=code)
    except ValidationError as error:
        status = 400 if error.code == one_time_codes.MALFORMED else 409
        return json_error(error.code or "rejected", " ".join(error.messages), status)
    return JsonResponse({"ok": True, "state": "confirmed"})
