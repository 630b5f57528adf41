"""The operator page's resumable upload of the call's recording (the
recording itself: sessions_app.recordings; its playback for compliance:
operators.compliance.recording_views).

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

from functools import wraps

from django.http import Http404, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kyc.http import json_error
from kyc.ids import uuid_or_none
from operators.views import operator_required, own_call
from sessions_app import recordings
from sessions_app.models import Recording


def _rejected(error: recordings.RecordingRejected) -> JsonResponse:
    return json_error(error.code, error.message, error.status)


def _own_call(view):
    """The operator's own call, looked up from the URL and passed in instead
    of its id; a JSON 404 for any other (or no such) call."""

    @wraps(view)
    def wrapper(request, operator, session_id: str, *args, **kwargs):
        try:
            session = own_call(operator, session_id)
        except Http404:
            return json_error("unknown_session", "No such call of yours.", 404)
        return view(request, operator, session, *args, **kwargs)

    return wrapper


def _own_recording(view):
    """A recording of the operator's own call, looked up from the URL and
    passed in after the call; a JSON 404 for a recording of any other call."""

    @wraps(view)
    @_own_call
    def wrapper(request, operator, session, recording_id: str, *args, **kwargs):
        recording = (
            Recording.objects.select_related("session__business")
            .filter(session=session, public_id=uuid_or_none(recording_id))
            .first()
        )
        if recording is None:
            return json_error("unknown_recording", "No such recording in this call.", 404)
        return view(request, operator, session, recording, *args, **kwargs)

    return wrapper


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
@_own_call
def recording_start(request, operator, session):
    try:
        elapsed_ms = int(request.POST.get("elapsed_ms") or 0)
    except ValueError:
        return json_error("invalid", "elapsed_ms must be a whole number.", 400)
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
@_own_call
def recording_progress(request, operator, session):
    """Where the composition of the ended call's recording stands, for the
    operator's page after End (polled: the call's socket is closed by then)."""
    return JsonResponse(recordings.recording_compose_progress(session))


@require_GET
@operator_required
@_own_recording
def recording_status(request, operator, session, recording):
    """Which chunks the server holds: what a reconnecting page must resend."""
    return JsonResponse(_recording_json(session, recording))


@require_http_methods(["PUT"])
@operator_required
@_own_recording
def recording_chunk(request, operator, session, recording, index: int):
    limit = recordings.max_chunk_bytes()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        # Refused before a byte of it is read.
        return json_error("chunk_too_large", f"A chunk may hold at most {limit} bytes.", 413)
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
@_own_recording
def recording_finish(request, operator, session, recording):
    try:
        chunk_count = int(request.POST.get("chunks", ""))
    except ValueError:
        return json_error("invalid", "chunks must be a whole number.", 400)
    try:
        recording = recordings.recording_finish(recording=recording, operator=operator, chunk_count=chunk_count)
    except recordings.RecordingRejected as error:
        return _rejected(error)
    return JsonResponse(_recording_json(session, recording))
