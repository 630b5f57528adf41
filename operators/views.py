"""The operator console (minimal in this slice: queue, answer, the call page
with prompts, decision and End)."""

import functools
import re
from functools import wraps
from pathlib import Path

from django.contrib.auth import views as auth_views
from django.contrib.staticfiles import finders
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import totp
from accounts.models import Operator
from accounts.selectors import operator_for_user
from kyc.http import json_error
from kyc.ids import uuid_or_none
from kyc.regulations import CALL_CONDITIONS, RuleSet
from kyc.state_machine import IllegalTransition
from operators import fraud_flags, routing, selectors, services
from operators.models import Decision, FraudFlag
from operators.ui_strings import call_strings, console_strings
from sessions_app import services as session_services
from sessions_app.one_time_codes import one_time_code_send as one_time_code_send_service
from sessions_app.audit import Actor
from sessions_app.evidence_streaming import evidence_file_response
from sessions_app.models import Evidence, VerificationSession
from sessions_app.selectors import rtc_configuration_for
from workflows import security_features
from workflows import services as workflow_services
from workflows.models import CaptureRequest, StepState
from workflows.views import evidence_upload_response


def operator_required(view):
    """Logged-in members of the operators group only; the operator is passed
    in, and every lookup below is scoped to the operator's business."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect(f"{reverse('operators:login')}?next={request.path}")
        operator = operator_for_user(request.user)
        if operator is None:
            return render(request, "operators/not_operator.html", status=403)
        return view(request, operator, *args, **kwargs)

    return wrapper


def _session_of_business(operator, session_id: str) -> VerificationSession:
    """The session, if it belongs to the operator's business; 404 otherwise
    (another business's session does not exist, as far as they can tell)."""
    session = (
        VerificationSession.objects.for_business(operator.business).filter(public_id=uuid_or_none(session_id)).first()
    )
    if session is None:
        raise Http404
    return session


def own_call(operator, session_id: str) -> VerificationSession:
    session = _session_of_business(operator, session_id)
    if session.operator_id != operator.pk:
        raise Http404
    return session


class LoginView(auth_views.LoginView):
    template_name = "operators/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if totp.totp_required(user):
            # Right password, not signed in yet: the code step decides.
            totp.totp_pending_start(self.request, user=user, next_url=self.get_success_url())
            return redirect("operators:totp_verify")
        return super().form_valid(form)


CALL_MODULE = "js/operator-call.js"
_STATIC_IMPORT = re.compile(r"""^\s*(?:import|export)\b[^'"]*?from\s*["'](\./[\w.-]+\.js)["']""", re.MULTILINE)


@functools.cache
def module_graph(entry: str) -> tuple[str, ...]:
    """The static paths of a plain ES module and of everything it imports,
    read from the module files, so the console's preload list cannot fall
    behind the call page's imports."""
    seen, todo = [], [entry]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.append(path)
        source = Path(finders.find(path)).read_text(encoding="utf-8")
        folder = path.rsplit("/", 1)[0]
        todo += [f"{folder}/{name[2:]}" for name in _STATIC_IMPORT.findall(source)]
    return tuple(seen)


@require_GET
@operator_required
def console(request, operator):
    return render(
        request,
        "operators/console.html",
        {
            "operator": operator,
            "history": selectors.sessions_for_operator_history(operator),
            "page_data": {
                "queue_ws_path": "/ws/console/queue/",
                "answer_url_template": reverse("operators:answer", args=["SESSION_ID"]),
                # The call opens in place on the console (static/js/console-queue.js).
                "call_module_url": static(CALL_MODULE),
            },
            "call_modules": module_graph(CALL_MODULE),
            "strings": console_strings(),
            "presence_choices": Operator.Presence.choices,
            "my_languages": routing.operator_languages_label(operator),
            "my_workflows": ", ".join(workflow.name for workflow in operator.trained_workflows.all()),
            "routing_on": operator.business.routing_fallback_seconds > 0,
        },
    )


@require_POST
@operator_required
def answer(request, operator, session_id: str):
    session = _session_of_business(operator, session_id)
    try:
        services.session_answer(session_id=session.pk, operator=operator)
    except services.SessionNotOffered as refused:
        return json_error("not_offered", str(refused), 403)
    except session_services.SessionNotAvailable as taken:
        return json_error("not_available", str(taken), 409)
    if request.headers.get("Accept", "").startswith("text/html"):
        # The console opens the call in place (static/js/console-queue.js):
        # the call page comes back with the answer, one round trip instead
        # of two between the click and the call socket. Its address, for the
        # console's history, in a header.
        response = _call_page(request, operator, session.public_id.hex)
        response["X-Call-Url"] = reverse("operators:call", args=[session.public_id.hex])
        return response
    return JsonResponse({"call_url": reverse("operators:call", args=[session.public_id.hex])})


@require_GET
@operator_required
def call(request, operator, session_id: str):
    return _call_page(request, operator, session_id)


def _call_page(request, operator, session_id: str):
    session = own_call(operator, session_id)
    page_data = {
        "session_id": session.public_id.hex,
        "ws_path": f"/ws/call/{session.public_id.hex}/",
        "rtc": rtc_configuration_for(f"operator-{operator.pk}"),
        "decide_url": reverse("operators:decide", args=[session.public_id.hex]),
        "step_url_template": reverse(
            "operators:step_action", args=[session.public_id.hex, "PID", 0, "ACTION"]
        ).replace("/steps/0/", "/steps/POS/"),
        "capture_url_template": reverse("operators:capture_upload", args=[session.public_id.hex, "CID"]),
        "remove_url_template": reverse("operators:remove_participant", args=[session.public_id.hex, "PID"]),
        "challenge_url_template": reverse("operators:challenge_request", args=[session.public_id.hex, "PID", "CODE"]),
        "one_time_code_url_template": reverse("operators:one_time_code_send", args=[session.public_id.hex, "PID"]),
        "console_url": reverse("operators:console"),
        "recording_start_url": reverse("operators:recording_start", args=[session.public_id.hex]),
        "recording_progress_url": reverse("operators:recording_progress", args=[session.public_id.hex]),
        "recording_required": session.workflow.recording_required,
        "flag_url": reverse("operators:flag", args=[session.public_id.hex]),
        "ended": session.is_ended,
        # Under the rule the page measures each customer's video and line and
        # reports them over the call socket (sessions_app/call_conditions.py).
        "call_conditions": RuleSet.of(session).has(CALL_CONDITIONS),
    }
    return render(
        request,
        "operators/call.html",
        {
            "operator": operator,
            "session": session,
            "page_data": page_data,
            "strings": call_strings(),
            "outcomes": Decision.Outcome.choices,
            "reasons": Decision.reason_choices_with_outcomes(),
            "flag_reasons": FraudFlag.Reason.choices,
            # A reload still says what was flagged: the flags are the record.
            "open_flags": FraudFlag.objects.open().filter(session=session).order_by("raised_at"),
        },
    )


@require_POST
@operator_required
def decide(request, operator, session_id: str):
    session = own_call(operator, session_id)
    participant = session.participants.filter(public_id=uuid_or_none(request.POST.get("participant", ""))).first()
    if participant is None:
        return json_error("unknown_participant", _("No such participant."), 404)
    try:
        services.decision_record(
            participant=participant,
            operator=operator,
            outcome=request.POST.get("outcome", ""),
            reason_code=request.POST.get("reason_code", ""),
            comment=request.POST.get("comment", "")[:4000],
            share_with_customer=request.POST.get("share") == "yes",
            override_confirmed=request.POST.get("override") == "yes",
        )
    except ValidationError as error:
        return json_error("invalid", " ".join(error.messages), 400)
    return JsonResponse({"ok": True})


@require_POST
@operator_required
def remove_participant(request, operator, session_id: str, participant_id: str):
    session = own_call(operator, session_id)
    participant = session.participants.filter(public_id=uuid_or_none(participant_id)).first()
    if participant is None:
        return json_error("unknown_participant", _("No such participant."), 404)
    try:
        session_services.participant_remove(participant=participant, operator=operator)
    except (ValidationError, IllegalTransition) as error:
        message = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        return json_error("rejected", message, 409)
    return JsonResponse({"ok": True})


@require_POST
@operator_required
def end_call(request, operator, session_id: str):
    session = own_call(operator, session_id)
    session_services.session_end(session=session, actor=Actor.operator(operator), reason="ended_by_operator")
    return JsonResponse({"ok": True})



@require_POST
@operator_required
def flag_session(request, operator, session_id: str):
    """Any operator of the business may flag its sessions, during the call
    or after it (from the console's history): a suspicion should not wait
    for the operator who took the call."""
    session = _session_of_business(operator, session_id)
    try:
        flag = fraud_flags.session_flag_fraud(
            session=session,
            user=request.user,
            actor=Actor.operator(operator),
            reason=request.POST.get("reason", ""),
            note=request.POST.get("note", ""),
        )
    except ValidationError as error:
        return json_error("invalid", " ".join(error.messages), 400)
    return JsonResponse({"flag": str(flag.public_id), "reason": flag.reason}, status=201)


STEP_ACTIONS = ("start", "pass", "fail", "skip", "capture", "answer", "notes", "features", "feature_tick")


@require_POST
@operator_required
def step_action(request, operator, session_id: str, participant_id: str, position: int, action: str):
    """Drive one step of one participant's workflow. Every action is stored
    and pushed to both sides before the answer comes back."""
    session = own_call(operator, session_id)
    step = StepState.objects.filter(
        participant__session=session, participant__public_id=uuid_or_none(participant_id), position=position
    ).first()
    if step is None:
        return json_error("unknown_step", _("No such step in this call."), 404)
    if action not in STEP_ACTIONS:
        return json_error("unknown_action", f"Unknown action {action!r}.", 404)
    try:
        if action == "start":
            workflow_services.step_start(step=step, operator=operator)
        elif action in ("pass", "fail", "skip"):
            workflow_services.step_finish(step=step, operator=operator, outcome=action)
        elif action == "capture":
            capture = workflow_services.capture_request_create(
                step=step, operator=operator, kind=request.POST.get("kind", "")
            )
            return JsonResponse({"capture": capture.public_id.hex, "kind": capture.kind, "label": capture.label})
        elif action == "answer":
            workflow_services.question_answer_record(
                step=step,
                operator=operator,
                question=int(request.POST.get("question", "-1")),
                answer=request.POST.get("answer", ""),
            )
        elif action == "notes":
            workflow_services.notes_save(step=step, operator=operator, text=request.POST.get("text", ""))
        elif action == "features":
            security_features.security_features_choose(
                step=step, operator=operator, document_kind=request.POST.get("document_kind", "")
            )
        elif action == "feature_tick":
            # A still of the tilted document, as a capture: the operator's page
            # uploads what it saw to the capture's URL, like any other capture.
            capture = security_features.security_feature_tick(
                step=step, operator=operator, check_id=request.POST.get("feature", "")
            )
            return JsonResponse({"capture": capture.public_id.hex, "kind": capture.kind, "label": capture.label})
    except (ValidationError, IllegalTransition) as error:
        message = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        return json_error("rejected", message, 409)
    except ValueError:
        return json_error("invalid", _("Malformed request."), 400)
    return JsonResponse({"ok": True})


@require_POST
@operator_required
def challenge_request(request, operator, session_id: str, participant_id: str, code: str):
    """Ask one customer for an operator challenge (workflows.challenges): the
    instruction in their frame and a burst from their camera."""
    session = own_call(operator, session_id)
    participant = session.participants.filter(public_id=uuid_or_none(participant_id)).first()
    if participant is None:
        return json_error("unknown_participant", _("No such participant."), 404)
    try:
        capture = workflow_services.challenge_request(participant=participant, operator=operator, code=code)
    except ValidationError as error:
        status = 404 if error.code == "unknown_challenge" else 409
        return json_error(error.code or "rejected", " ".join(error.messages), status)
    return JsonResponse({"capture": capture.public_id.hex, "kind": capture.kind, "label": capture.label})


@require_POST
@operator_required
def one_time_code_send(request, operator, session_id: str, participant_id: str):
    """Send this customer of the operator's call a one-time code (the rule
    TAN_AT_END): it replaces any code sent before."""
    session = own_call(operator, session_id)
    participant = session.participants.filter(public_id=uuid_or_none(participant_id)).first()
    if participant is None:
        return json_error("unknown_participant", _("No such participant."), 404)
    try:
        row = one_time_code_send_service(participant=participant, operator=operator)
    except ValidationError as error:
        return json_error(error.code or "rejected", " ".join(error.messages), 409)
    return JsonResponse({"sent_to": row.sent_to, "channel": row.channel}, status=201)


@require_POST
@operator_required
def operator_capture_upload(request, operator, session_id: str, capture_id: str):
    """The frame the operator's page received, stored beside the customer's
    full-resolution one: what the operator actually saw."""
    session = own_call(operator, session_id)
    capture = CaptureRequest.objects.filter(public_id=uuid_or_none(capture_id), participant__session=session).first()
    if capture is None:
        return json_error("unknown_capture", _("No such capture in this call."), 404)
    return evidence_upload_response(request, capture=capture, source=Evidence.Source.OPERATOR_VIEW)


@require_http_methods(["GET", "HEAD"])
@operator_required
def evidence_file(request, operator, evidence_id: str):
    """A capture or a recording, for an operator of the business that owns
    it. Never a public URL: streamed here after the check, never cached, with
    range requests so a recording can be played and sought."""
    evidence = (
        Evidence.objects.for_business(operator.business)
        .select_related("session__business", "participant")
        .filter(public_id=uuid_or_none(evidence_id), erased_at__isnull=True)
        .exclude(file="")
        .first()
    )
    if evidence is None:
        raise Http404
    # Every look at evidence is audited, a capture as much as a recording.
    return evidence_file_response(
        request, evidence, on_look=lambda: session_services.evidence_viewed_record(user=request.user, evidence=evidence)
    )
