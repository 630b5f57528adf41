"""HTTP side of call recording: the operator page's resumable upload, and
the authorised, range-capable stream compliance plays the recording from.

Upload protocol (all under /console/calls/<session>/recordings, the
operator of that call only, CSRF header required):

- ``POST .../recordings`` (id, stream, mime_type, elapsed_ms) opens a
  segment; the id is the browser's own UUID, so a retry is the same segment.
- ``PUT .../recordings/<id>/chunks/<n>`` with the raw bytes and
  ``X-Chunk-SHA256``: 201 stored, 200 already stored (same bytes), 409
  stored with other bytes, 422 checksum mismatch, 413 too large.
- ``GET .../recordings/<id>`` says which chunk numbers are stored, so a
  page that lost its connection knows what to send again.
- ``POST .../recordings/<id>/finish`` (chunks) closes the segment.
"""

from django.http import Http404, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kyc.ids import uuid_or_none
from operators.models import COMPLIANCE_GROUP
from operators.views import _own_call, operator_required
from sessions_app import recordings
from sessions_app.evidence_streaming import evidence_file_response
from sessions_app.models import AuditEvent, Evidence, Recording


def _error(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


def _rejected(error: recordings.RecordingRejected) -> JsonResponse:
    return _error(error.code, error.message, error.status)


def _call_of(operator, session_id: str):
    try:
        return _own_call(operator, session_id)
    except Http404:
        return None


def _recording_of(session, recording_id: str) -> Recording | None:
    return (
        Recording.objects.select_related("session__business")
        .filter(session=session, public_id=uuid_or_none(recording_id))
        .first()
    )


def _recording_json(session, recording: Recording) -> dict:
    sid, rid = session.public_id.hex, recording.public_id.hex
    return {
        "recording": rid,
        "stream": recording.stream,
        "segment": recording.segment,
        "state": recording.state,
        "chunk_count": recording.chunk_count,
        "chunks": list(recording.chunks.order_by("index").values_list("index", flat=True)),
        "chunk_url_prefix": reverse("operators:recording", args=[sid, rid]) + "/chunks/",
        "finish_url": reverse("operators:recording_finish", args=[sid, rid]),
        "max_chunk_bytes": recordings.max_chunk_bytes(),
    }


@require_POST
@operator_required
def recording_start(request, operator, session_id: str):
    session = _call_of(operator, session_id)
    if session is None:
        return _error("unknown_session", "No such call of yours.", 404)
    try:
        elapsed_ms = int(request.POST.get("elapsed_ms") or 0)
    except ValueError:
        return _error("invalid", "elapsed_ms must be a whole number.", 400)
    try:
        recording = recordings.recording_start(
            session=session,
            operator=operator,
            recording_id=request.POST.get("id", ""),
            stream=request.POST.get("stream", ""),
            mime_type=request.POST.get("mime_type", ""),
            elapsed_ms=elapsed_ms,
        )
    except recordings.RecordingRejected as error:
        return _rejected(error)
    return JsonResponse(_recording_json(session, recording), status=201)


@require_GET
@operator_required
def recording_status(request, operator, session_id: str, recording_id: str):
    """Which chunks the server holds: what a reconnecting page must resend."""
    session = _call_of(operator, session_id)
    if session is None:
        return _error("unknown_session", "No such call of yours.", 404)
    recording = _recording_of(session, recording_id)
    if recording is None:
        return _error("unknown_recording", "No such recording in this call.", 404)
    return JsonResponse(_recording_json(session, recording))


@require_http_methods(["PUT"])
@operator_required
def recording_chunk(request, operator, session_id: str, recording_id: str, index: int):
    session = _call_of(operator, session_id)
    if session is None:
        return _error("unknown_session", "No such call of yours.", 404)
    recording = _recording_of(session, recording_id)
    if recording is None:
        return _error("unknown_recording", "No such recording in this call.", 404)
    limit = recordings.max_chunk_bytes()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        # Refused before a byte of it is read.
        return _error("chunk_too_large", f"A chunk may hold at most {limit} bytes.", 413)
    data = request.read(limit + 1)
    try:
        stored = recordings.recording_chunk_store(
            recording=recording, index=index, sha256=request.headers.get("X-Chunk-SHA256", ""), data=data
        )
    except recordings.RecordingRejected as error:
        return _rejected(error)
    return JsonResponse(
        {"index": stored.index, "sha256": stored.sha256, "size": stored.size, "duplicate": stored.duplicate},
        status=200 if stored.duplicate else 201,
    )


@require_POST
@operator_required
def recording_finish(request, operator, session_id: str, recording_id: str):
    session = _call_of(operator, session_id)
    if session is None:
        return _error("unknown_session", "No such call of yours.", 404)
    recording = _recording_of(session, recording_id)
    if recording is None:
        return _error("unknown_recording", "No such recording in this call.", 404)
    try:
        chunk_count = int(request.POST.get("chunks", ""))
    except ValueError:
        return _error("invalid", "chunks must be a whole number.", 400)
    try:
        recording = recordings.recording_finish(recording=recording, operator=operator, chunk_count=chunk_count)
    except recordings.RecordingRejected as error:
        return _rejected(error)
    return JsonResponse(_recording_json(session, recording))


# --- compliance playback ----------------------------------------------------------


def may_review_recording(user, session) -> bool:
    """Compliance staff (staff in the compliance group) and superusers, and
    operators of the session's own business. Nobody else."""
    from operators.selectors import operator_for_user

    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser or (user.is_staff and user.groups.filter(name=COMPLIANCE_GROUP).exists()):
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
        request, evidence, on_look=lambda: recordings.recording_viewed_record(user=request.user, evidence=evidence)
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
    for event in AuditEvent.objects.filter(session=session).order_by("sequence"):
        offset = (event.created_at - t0).total_seconds() if t0 else None
        duration = composed.duration_seconds if composed else None
        seekable = offset is not None and offset >= 0 and (duration is None or offset <= duration)
        events.append(
            {
                "sequence": event.sequence,
                "action": event.action,
                "actor": event.actor_kind,
                "at": event.created_at,
                "offset": round(offset, 1) if seekable else None,
                "clock": _clock(offset) if seekable else "",
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
        "src": reverse("recordings:file", args=[composed.public_id.hex]) if composed else None,
        "t0": t0,
        "events": events,
        "segments": [
            {"evidence": segment, "src": reverse("recordings:file", args=[segment.public_id.hex])}
            for segment in segments
        ],
    }


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}" if whole >= 3600 else f"{whole // 60:02d}:{whole % 60:02d}"


@require_GET
def recording_review(request, session_id: str):
    """The player on its own page, for a reviewer following a link (the
    admin review page includes the same template)."""
    from django.shortcuts import render

    from sessions_app.models import VerificationSession

    if not request.user.is_authenticated:
        return HttpResponse("Sign in to review recordings.", status=403, content_type="text/plain")
    session = VerificationSession.objects.filter(public_id=uuid_or_none(session_id)).first()
    player = recording_player_context(session=session, user=request.user) if session else None
    if player is None:
        raise Http404
    return render(request, "recordings/review.html", {"session": session, "recording_player": player})
