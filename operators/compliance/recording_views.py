"""The authorised, range-capable stream compliance plays a call's recording
from, and the player beside the audit timeline (on the admin's review page
and on its own page)."""

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from accounts.selectors import operator_for_user, review_scope
from kyc.ids import uuid_or_none
from operators.compliance.access import may_review_session
from operators.compliance.review_display import (
    action_label,
    format_instant,
    format_offset,
    operator_names_for,
    person_name,
)
from sessions_app import recordings
from sessions_app import services as session_services
from sessions_app.evidence_streaming import evidence_file_response
from sessions_app.models import AuditEvent, Evidence, VerificationSession


def may_review_recording(user, session) -> bool:
    """Compliance staff whose scope holds the session's business (a
    business's own compliance officer: that business only) and superusers,
    four-eyes reviewers of the business (operators.reviews: they confirm
    against the recording), and operators of the session's own business.
    Nobody else."""
    if not user.is_authenticated or not user.is_active:
        return False
    if may_review_session(user, session) or review_scope(user).allows(session.business_id):
        return True
    operator = operator_for_user(user)
    return operator is not None and operator.business_id == session.business_id


@require_http_methods(["GET", "HEAD"])
def recording_file(request, evidence_id: str):
    """A recording (the composed call or one stream's segment), streamed with
    HTTP range support so a <video> can seek. Never a public URL: every
    request is authorised, and nothing is cached."""
    if not request.user.is_authenticated:
        return HttpResponse("Sign in to review recordings.", status=403, content_type="text/plain")
    evidence = (
        Evidence.objects.select_related("session__business", "participant")
        .filter(public_id=uuid_or_none(evidence_id), kind=Evidence.Kind.RECORDING, erased_at__isnull=True)
        .exclude(file="")
        .first()
    )
    if evidence is None or not may_review_recording(request.user, evidence.session):
        raise Http404  # another business's recording does not exist, as far as they can tell
    return evidence_file_response(
        request, evidence, on_look=lambda: session_services.evidence_viewed_record(user=request.user, evidence=evidence)
    )


def recording_player_context(*, session, user) -> dict | None:
    """What templates/recordings/player.html needs, or None when this user may
    not review the session's recording. The hook for the review page:
    ``{"recording_player": recording_player_context(session=obj, user=request.user)}``."""
    if not may_review_recording(user, session):
        return None
    composed = recordings.composed_recording(session)
    t0 = recordings.composed_time_zero(composed) if composed else session.answered_at
    events = []
    audit_events = list(AuditEvent.objects.filter(session=session).select_related("actor_user").order_by("sequence"))
    names = operator_names_for(event.actor_user for event in audit_events)
    for event in audit_events:
        offset = (event.created_at - t0).total_seconds() if t0 else None
        duration = composed.duration_seconds if composed else None
        seekable = offset is not None and offset >= 0 and (duration is None or offset <= duration)
        events.append(
            {
                "sequence": event.sequence,
                "action": event.action,
                "action_label": action_label(event.action),
                "actor": event.actor_kind,
                "role": event.get_actor_kind_display(),
                "person": person_name(event.actor_user, operator_names=names),
                "at": event.created_at,
                "at_label": format_instant(event.created_at),
                "offset": round(offset, 1) if seekable else None,
                # The one convention of the review page: the absolute time
                # with its zone always, and the offset from the call's start
                # beside it for what happened in the call.
                "clock": format_offset(offset) if seekable else "",
                "participant": event.participant_id,
            }
        )
    segments = (
        Evidence.objects.filter(
            session=session, kind=Evidence.Kind.RECORDING, source=Evidence.Source.OPERATOR_VIEW, erased_at__isnull=True
        )
        .exclude(file="")
        .order_by("created_at")
    )
    return {
        "composed": composed,
        "t0_label": format_instant(t0),
        "src": reverse("recordings:file", args=[composed.public_id.hex]) if composed else None,
        "t0": t0,
        "events": events,
        "segments": [
            {"evidence": segment, "src": reverse("recordings:file", args=[segment.public_id.hex])}
            for segment in segments
        ],
    }


@require_GET
def recording_review(request, session_id: str):
    """The player on its own page, for a reviewer following a link (the
    admin review page includes the same template)."""
    if not request.user.is_authenticated:
        return HttpResponse("Sign in to review recordings.", status=403, content_type="text/plain")
    session = VerificationSession.objects.filter(public_id=uuid_or_none(session_id)).first()
    player = recording_player_context(session=session, user=request.user) if session else None
    if player is None:
        raise Http404
    return render(request, "recordings/review.html", {"session": session, "recording_player": player})
