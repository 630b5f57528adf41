"""The operator console (minimal in this slice: queue, answer, the call page
with prompts, decision and End)."""

import uuid
from functools import wraps

from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from operators import selectors, services
from operators.models import Decision
from sessions_app import services as session_services
from sessions_app.audit import Actor
from sessions_app.models import VerificationSession
from sessions_app.selectors import rtc_configuration_for


def operator_required(view):
    """Logged-in members of the operators group only; the operator is passed
    in, and every lookup below is scoped to the operator's business."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect(f"{reverse('operators:login')}?next={request.path}")
        operator = selectors.operator_for_user(request.user)
        if operator is None:
            return render(request, "operators/not_operator.html", status=403)
        return view(request, operator, *args, **kwargs)

    return wrapper


def _session_of_business(operator, session_id: str) -> VerificationSession:
    try:
        public_id = uuid.UUID(session_id)
    except ValueError:
        raise Http404 from None
    session = VerificationSession.objects.for_business(operator.business).filter(public_id=public_id).first()
    if session is None:
        raise Http404
    return session


class LoginView(auth_views.LoginView):
    template_name = "operators/login.html"
    redirect_authenticated_user = True


@require_GET
@operator_required
def console(request, operator):
    return render(
        request,
        "operators/console.html",
        {
            "operator": operator,
            "history": selectors.sessions_for_operator_history(operator),
            "page_data": {"queue_ws_path": "/ws/console/queue/", "answer_url_template": reverse("operators:answer", args=["SESSION_ID"])},
        },
    )


@require_POST
@operator_required
def answer(request, operator, session_id: str):
    session = _session_of_business(operator, session_id)
    try:
        session_services.session_assign_operator(session_id=session.pk, operator=operator)
    except session_services.SessionNotAvailable as taken:
        return JsonResponse({"error": {"code": "not_available", "message": str(taken)}}, status=409)
    return JsonResponse({"call_url": reverse("operators:call", args=[session.public_id.hex])})


@require_GET
@operator_required
def call(request, operator, session_id: str):
    session = _session_of_business(operator, session_id)
    if session.operator_id != operator.pk:
        raise Http404
    page_data = {
        "session_id": session.public_id.hex,
        "ws_path": f"/ws/call/{session.public_id.hex}/",
        "rtc": rtc_configuration_for(f"operator-{operator.pk}"),
        "decide_url": reverse("operators:decide", args=[session.public_id.hex]),
        "console_url": reverse("operators:console"),
        "ended": session.is_ended,
    }
    return render(
        request,
        "operators/call.html",
        {
            "operator": operator,
            "session": session,
            "page_data": page_data,
            "outcomes": Decision.Outcome.choices,
            "reasons": Decision.Reason.choices,
        },
    )


@require_POST
@operator_required
def decide(request, operator, session_id: str):
    session = _session_of_business(operator, session_id)
    participant = session.participants.filter(public_id=_uuid_or_none(request.POST.get("participant", ""))).first()
    if participant is None:
        return JsonResponse({"error": {"code": "unknown_participant", "message": "No such participant."}}, status=404)
    try:
        services.decision_record(
            participant=participant,
            operator=operator,
            outcome=request.POST.get("outcome", ""),
            reason_code=request.POST.get("reason_code", ""),
            comment=request.POST.get("comment", "")[:4000],
            share_with_customer=request.POST.get("share") == "yes",
        )
    except ValidationError as error:
        return JsonResponse({"error": {"code": "invalid", "message": " ".join(error.messages)}}, status=400)
    return JsonResponse({"ok": True})


@require_POST
@operator_required
def end_call(request, operator, session_id: str):
    session = _session_of_business(operator, session_id)
    if session.operator_id != operator.pk:
        raise Http404
    session_services.session_end(session=session, actor=Actor.operator(operator), reason="ended_by_operator")
    return JsonResponse({"ok": True})


def _uuid_or_none(value: str):
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
