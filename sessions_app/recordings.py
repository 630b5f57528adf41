"""Call recording as evidence: the services.

The operator's browser records every stream it receives and its own, each
separately, and uploads them as they are produced: numbered chunks, each with
the SHA-256 the browser computed, which the server checks before it stores
anything. A chunk sent twice is stored once; a page that crashed loses what
it had not uploaded yet (at most the last chunk when uploads keep up), and
the page that comes back records the next segment of each stream.

After the call (session end, and again when the page says a segment is
finished) ``recording_compose_session`` assembles each segment's chunks into
one file, verifies them (checksums re-read from disk, contiguity), keeps it as
Evidence, deletes the chunk files, and composes one playable file of the
whole call. Duration, size and SHA-256 of every file go into the audit trail
and onto the Evidence rows, so retention erases recordings like any other
evidence.
"""

import hashlib
import logging
import re
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Count, Max
from django.utils import timezone

from kyc.evidence_crypto import EvidenceIntegrityError
from kyc.ids import uuid_or_none
from kyc.regulations import RECORDING, RuleSet
from kyc.storage import stored_files_delete
from sessions_app import precall, recording_media
from sessions_app.audit import Actor, audit_record
from sessions_app.changes import session_mark_changed
from sessions_app.models import (
    AuditEvent,
    Evidence,
    Participant,
    Recording,
    RecordingChunk,
    VerificationSession,
)

logger = logging.getLogger(__name__)

OPERATOR_STREAM = Recording.OPERATOR_STREAM
COMPOSED_LABEL = "composed call"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_MIME_TYPE = re.compile(r"^(video|audio)/webm(;\s*codecs=\"?[a-z0-9.,]+\"?)?$", re.IGNORECASE)
# The browser says how long ago its recorder started; more than this is a lie.
MAX_START_LAG_MS = 60_000


# The limits are settings (kyc/settings.py › Call recording), read when used
# so a test may change them.


def max_chunk_bytes() -> int:
    return settings.RECORDING_MAX_CHUNK_BYTES


def max_chunks_per_segment() -> int:
    return settings.RECORDING_MAX_CHUNKS_PER_SEGMENT


def max_segments_per_stream() -> int:
    return settings.RECORDING_MAX_SEGMENTS_PER_STREAM


def finish_grace() -> timedelta:
    return timedelta(seconds=settings.RECORDING_FINISH_GRACE_SECONDS)


def approval_staleness() -> timedelta:
    return timedelta(seconds=settings.RECORDING_STALE_SECONDS)


class RecordingRejected(Exception):
    """The upload is refused; ``code`` and ``message`` go back to the browser as JSON."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


# --- upload -------------------------------------------------------------------


def recording_start(
    *, session: VerificationSession, operator, recording_id: str, stream: str, mime_type: str, elapsed_ms: int = 0
) -> Recording:
    """Open the next segment of one stream. Idempotent on the id the browser
    chose, so a start retried after a lost answer is one segment."""
    public_id = uuid_or_none(recording_id)
    if public_id is None:
        raise RecordingRejected("invalid_id", "Send a UUID as the recording's id.")
    if not _MIME_TYPE.match(mime_type or ""):
        raise RecordingRejected("unsupported_type", "Only WebM recordings are accepted.")
    stream = (stream or "").strip()
    with transaction.atomic():
        # The session row lock numbers segments one at a time.
        session = VerificationSession.objects.select_for_update(of=("self",)).select_related("business").get(pk=session.pk)
        existing = Recording.objects.filter(public_id=public_id).first()
        if existing is not None:
            if existing.session_id != session.pk or existing.stream != stream:
                raise RecordingRejected("unknown_recording", "No such recording in this call.", 404)
            return existing
        if session.operator_id != operator.pk:
            raise RecordingRejected("not_your_call", "Only the operator of this call records it.", 404)
        if session.state != VerificationSession.State.IN_CALL:
            raise RecordingRejected("call_not_running", "The call is not running.", 409)
        participant = None
        if stream != OPERATOR_STREAM:
            participant = Participant.objects.filter(session=session, public_id=uuid_or_none(stream)).first()
            if participant is None:
                raise RecordingRejected("unknown_stream", "No such participant in this call.")
        last = Recording.objects.filter(session=session, stream=stream).aggregate(last=Max("segment"))["last"] or 0
        if last >= max_segments_per_stream():
            raise RecordingRejected("too_many_segments", "This stream has been restarted too often.", 409)
        now = timezone.now()
        lag = timedelta(milliseconds=min(max(int(elapsed_ms or 0), 0), MAX_START_LAG_MS))
        # An earlier segment still open belongs to a page that went away.
        interrupted = Recording.objects.filter(
            session=session, stream=stream, state=Recording.State.RECORDING
        ).update(state=Recording.State.INTERRUPTED, finished_at=now)
        recording = Recording.objects.create(
            public_id=public_id,
            session=session,
            participant=participant,
            stream=stream,
            segment=last + 1,
            mime_type=mime_type[:64],
            started_at=now - lag,
        )
        audit_record(
            business=session.business,
            session=session,
            participant=participant,
            actor=Actor.operator(operator),
            action="recording.started",
            data={
                "recording": public_id.hex,
                "stream": stream,
                "segment": recording.segment,
                "mime_type": recording.mime_type,
                "interrupted_segments": interrupted,
            },
        )
        session_mark_changed(session)  # every page shows the recording badge
    return recording


@dataclass(frozen=True)
class ChunkStored:
    index: int
    sha256: str
    size: int
    duplicate: bool


def _same_or_conflict(existing: RecordingChunk, digest: str) -> ChunkStored:
    if existing.sha256 != digest:
        raise RecordingRejected(
            "chunk_conflict", f"Chunk {existing.index} is already stored with other content.", 409
        )
    return ChunkStored(index=existing.index, sha256=existing.sha256, size=existing.size, duplicate=True)


def recording_chunk_store(*, recording: Recording, index: int, sha256: str, data: bytes) -> ChunkStored:
    """Store chunk ``index`` of a segment once its checksum is verified."""
    claimed = (sha256 or "").strip().lower()
    if not _SHA256.match(claimed):
        raise RecordingRejected("invalid_checksum", "Send the chunk's SHA-256 as 64 hex digits (X-Chunk-SHA256).")
    if not 0 <= index < max_chunks_per_segment():
        raise RecordingRejected("out_of_range", f"Chunk numbers run from 0 to {max_chunks_per_segment() - 1}.")
    if len(data) > max_chunk_bytes():
        raise RecordingRejected("chunk_too_large", f"A chunk may hold at most {max_chunk_bytes()} bytes.", 413)
    if not data:
        raise RecordingRejected("empty_chunk", "The chunk is empty.")
    if recording.chunk_count is not None and index >= recording.chunk_count:
        raise RecordingRejected(
            "out_of_range", f"This segment was finished with {recording.chunk_count} chunks.", 409
        )
    digest = hashlib.sha256(data).hexdigest()
    if digest != claimed:
        raise RecordingRejected(
            "checksum_mismatch", "The chunk's bytes do not match its SHA-256; it was not stored. Send it again.", 422
        )
    existing = RecordingChunk.objects.filter(recording=recording, index=index).first()
    if existing is not None:
        return _same_or_conflict(existing, digest)
    if recording.evidence_id is not None:
        raise RecordingRejected("already_assembled", "This segment was already assembled after the call.", 409)
    storage = RecordingChunk._meta.get_field("file").storage
    try:
        name = storage.save(
            f"{recording.session.public_id.hex}/recordings/{recording.public_id.hex}/{index:06d}.part",
            ContentFile(data),
        )
    except OSError:
        # The store is down or full: nothing was recorded as stored, and a
        # 5xx makes the page keep the chunk and send it again (static/js/recorder.js).
        logger.exception("recording chunk %s of %s could not be stored", index, recording.public_id)
        raise RecordingRejected(
            "storage_unavailable", "The chunk could not be stored just now; send it again.", 503
        ) from None
    try:
        with transaction.atomic():
            RecordingChunk.objects.create(recording=recording, index=index, sha256=digest, size=len(data), file=name)
            Recording.objects.filter(pk=recording.pk).update(last_chunk_at=timezone.now())
    except IntegrityError:
        # The same chunk raced in on two connections: one row won.
        storage.delete(name)
        return _same_or_conflict(RecordingChunk.objects.get(recording=recording, index=index), digest)
    return ChunkStored(index=index, sha256=digest, size=len(data), duplicate=False)


def recording_finish(*, recording: Recording, operator, chunk_count: int) -> Recording:
    """The page stopped this segment after ``chunk_count`` chunks (all sent)."""
    if not 0 <= chunk_count <= max_chunks_per_segment():
        raise RecordingRejected("out_of_range", "Impossible chunk count.")
    with transaction.atomic():
        # The session's row before the segment's, the order every service
        # locks in (the audit chain comes last): taken the other way round,
        # a finish racing a prompt or a composition deadlocked on PostgreSQL.
        VerificationSession.objects.select_for_update().filter(pk=recording.session_id).first()
        # Lock the segment's row only: the participant is an outer join.
        recording = (
            Recording.objects.select_for_update(of=("self",))
            .select_related("session__business", "participant")
            .get(pk=recording.pk)
        )
        if recording.chunk_count is not None:
            if recording.chunk_count == chunk_count:
                return recording  # a retried finish
            raise RecordingRejected(
                "chunk_count_conflict", f"This segment was finished with {recording.chunk_count} chunks.", 409
            )
        highest = recording.chunks.aggregate(highest=Max("index"))["highest"]
        if highest is not None and highest >= chunk_count:
            raise RecordingRejected(
                "out_of_range", f"Chunk {highest} is stored, so this segment has more than {chunk_count} chunks.", 409
            )
        recording.state = Recording.State.FINISHED
        recording.chunk_count = chunk_count
        recording.finished_at = recording.finished_at or timezone.now()
        recording.save(update_fields=["state", "chunk_count", "finished_at"])
        session = recording.session
        audit_record(
            business=session.business,
            session=session,
            participant=recording.participant,
            actor=Actor.operator(operator),
            action="recording.finished",
            data={"recording": recording.public_id.hex, "stream": recording.stream, "segment": recording.segment, "chunks": chunk_count},
        )
        session_mark_changed(session)  # every page shows the recording badge
        if session.is_ended:
            recording_compose_on_commit(session)
    return recording


# --- reads --------------------------------------------------------------------


def recording_active(session: VerificationSession) -> bool:
    """Whether the call is being recorded now: the badge on every screen."""
    return (
        session.state == VerificationSession.State.IN_CALL
        and Recording.objects.filter(session=session, state=Recording.State.RECORDING).exists()
    )


def recording_problem_for_approval(participant: Participant, *, now=None) -> str | None:
    """Why this participant may not be approved yet under a workflow that
    requires a recording, or None. Checked inside decision_record."""
    session = participant.session
    if not (session.workflow.recording_required or RuleSet.of(session).has(RECORDING)):
        return None
    latest = RecordingChunk.objects.filter(
        recording__session=session, recording__stream=participant.public_id.hex
    ).aggregate(latest=Max("created_at"))["latest"]
    if latest is None:
        return (
            "This workflow requires a recording of the call, and none has been received for this "
            "participant. Approve once the recording runs."
        )
    if (now or timezone.now()) - latest > approval_staleness():
        return (
            "This workflow requires a recording of the call, and this participant's recording has "
            "stopped arriving. Approve once the recording runs again."
        )
    return None


def composed_recording(session: VerificationSession) -> Evidence | None:
    return (
        Evidence.objects.filter(
            session=session,
            kind=Evidence.Kind.RECORDING,
            source=Evidence.Source.SERVER,
            erased_at__isnull=True,
        )
        .exclude(file="")
        .first()
    )


def composed_time_zero(composed: Evidence):
    """The moment second 0 of the composed file shows: the time 0 the
    composition recorded in its audit event (the answer, or the first
    recorder's start when the call has no answer time), so an event at time
    t plays at t minus it."""
    event = (
        AuditEvent.objects.filter(
            session_id=composed.session_id, action="recording.composed", data__evidence=composed.public_id.hex
        )
        .order_by("-sequence")
        .first()
    )
    if event and event.data.get("t0"):
        return datetime.fromisoformat(event.data["t0"])
    return composed.session.answered_at


# --- after the call -----------------------------------------------------------

NOT_ENDED = "not_ended"
ERASED = "erased"
NOTHING = "nothing_recorded"
WAITING = "waiting"
ALREADY = "already_composed"
COMPOSED = "composed"
FAILED = "failed"
QUEUED = "queued"
COMPOSING = "composing"

# How far a composition has got, for the operator's page after the call. In
# the cache, not the database: it changes every second, is worthless once the
# composed Evidence exists, and the cache (Redis with a broker) is shared by
# the workers that compose and the web processes that answer the page.
_PROGRESS_KEY = "recording-compose-progress:{}"
_PROGRESS_SECONDS = 6 * 3600


def recording_compose_progress_set(session_id: int, *, state: str, percent: int | None = None) -> None:
    cache.set(_PROGRESS_KEY.format(session_id), {"state": state, "percent": percent}, _PROGRESS_SECONDS)


def recording_compose_progress(session: VerificationSession) -> dict:
    """Where the recording of an ended call stands: ``state`` is "recording"
    (the call goes on), "waiting" (segments still uploading), "queued",
    "composing" (with ``percent``), "composed", "failed" or "nothing"."""
    if not session.is_ended:
        return {"state": "recording", "percent": None}
    if composed_recording(session) is not None:
        return {"state": COMPOSED, "percent": 100}
    if not session.recordings.exists():
        return {"state": NOTHING, "percent": None}
    progress = cache.get(_PROGRESS_KEY.format(session.pk))
    if progress:
        return progress
    return {"state": WAITING, "percent": None}


def recording_compose_on_commit(session: VerificationSession) -> None:
    """Queue the composition once the end of the call is committed."""
    session_id = session.pk

    def enqueue():
        from sessions_app.tasks import recording_compose

        recording_compose.delay(session_id)

    # robust: with eager Celery the task runs right here, and a failure to
    # compose must not turn the request that ended the call into an error.
    transaction.on_commit(enqueue, robust=True)


def _segment_settled(recording: Recording) -> bool:
    if recording.state == Recording.State.RECORDING:
        return False
    if recording.state == Recording.State.FINISHED:
        # Finished means every chunk was sent; wait for the stragglers.
        return recording.chunks.count() >= (recording.chunk_count or 0)
    return True  # interrupted: its page is gone, nothing more will come


def _stream_label(recording: Recording) -> str:
    if recording.stream == OPERATOR_STREAM:
        return "operator"
    return f"customer {recording.participant.position + 1}" if recording.participant else "customer"


def _segment_assemble(recording: Recording, workdir: Path) -> Evidence | None:
    """Concatenate one segment's chunks (the exact bytes the browser made),
    verify them, and keep the result as Evidence. Returns None when the
    segment has no chunk at all."""
    chunks = list(recording.chunks.order_by("index"))
    expected = recording.chunk_count if recording.chunk_count is not None else (chunks[-1].index + 1 if chunks else 0)
    present = {chunk.index for chunk in chunks}
    missing = [i for i in range(expected) if i not in present]
    corrupt = []
    raw = workdir / f"{recording.public_id.hex}.webm"
    digest = hashlib.sha256()
    size = 0
    manifest = hashlib.sha256()
    with open(raw, "wb") as out:
        for chunk in chunks:
            if not chunk.file:
                corrupt.append(chunk.index)
                continue
            try:
                with chunk.file.open("rb") as source:
                    data = source.read()  # one chunk: at most RECORDING_MAX_CHUNK_BYTES
            except EvidenceIntegrityError:
                corrupt.append(chunk.index)
                continue
            if hashlib.sha256(data).hexdigest() != chunk.sha256:
                # Changed on disk since it was verified at upload: left out,
                # and said so in the audit trail.
                corrupt.append(chunk.index)
                continue
            out.write(data)
            digest.update(data)
            manifest.update(f"{chunk.index}:{chunk.sha256}\n".encode())
            size += len(data)
    verification = {
        "chunks": len(chunks) - len(corrupt),
        "expected": expected,
        "missing": missing[:100],
        "missing_count": len(missing),
        "corrupt": corrupt[:100],
        "contiguous": not missing and not corrupt,
        "chunk_manifest_sha256": manifest.hexdigest(),
    }
    if size == 0:
        Recording.objects.filter(pk=recording.pk).update(verification={**verification, "empty": True})
        return None
    try:
        media_probe = recording_media.remux(raw, workdir / f"{recording.public_id.hex}.remux.webm")
    except recording_media.MediaError as error:
        media_probe = None
        verification["unreadable"] = str(error)[:500]
    evidence_id = uuid.uuid4()
    session = recording.session
    with transaction.atomic():
        _raise_if_erased(session)  # the session's row first: the order every service locks in
        locked = Recording.objects.select_for_update().get(pk=recording.pk)
        if locked.evidence_id is not None:
            return locked.evidence  # another run assembled it meanwhile
        evidence = Evidence(
            public_id=evidence_id,
            session=session,
            participant=recording.participant,
            kind=Evidence.Kind.RECORDING,
            source=Evidence.Source.OPERATOR_VIEW,
            label=f"{_stream_label(recording)} #{recording.segment}"[:64],
            frame_index=0,
            content_type=recording.mime_type[:64],
            size=size,
            sha256=digest.hexdigest(),
            width=media_probe.width if media_probe else None,
            height=media_probe.height if media_probe else None,
            duration_seconds=round(media_probe.duration, 3) if media_probe else None,
        )
        with open(raw, "rb") as source:
            evidence.file.save(f"{session.public_id.hex}/recordings/{evidence_id.hex}.webm", File(source), save=False)
        evidence.save()
        locked.evidence = evidence
        locked.verification = verification
        locked.save(update_fields=["evidence", "verification"])
        audit_record(
            business=session.business,
            session=session,
            participant=recording.participant,
            actor=Actor.system(),
            action="recording.segment_stored",
            data={
                "recording": recording.public_id.hex,
                "evidence": evidence_id.hex,
                "stream": recording.stream,
                "segment": recording.segment,
                "started_at": recording.started_at.isoformat(),
                "sha256": evidence.sha256,
                "size": size,
                "duration_seconds": evidence.duration_seconds,
                **{k: verification[k] for k in ("chunks", "expected", "missing_count", "contiguous", "chunk_manifest_sha256")},
                "corrupt": corrupt[:100],
            },
        )
        recording_pk = recording.pk
        # The bytes live on in the evidence file: the chunk files go.
        transaction.on_commit(lambda: recording_chunk_files_delete(recording_id=recording_pk))
    return evidence


def recording_chunk_files_delete(*, recording_id: int | None = None, session_id: int | None = None) -> int:
    """Delete chunk files (after assembly, or when the session is erased)."""
    chunks = RecordingChunk.objects.exclude(file="")
    if recording_id is not None:
        chunks = chunks.filter(recording_id=recording_id)
    if session_id is not None:
        chunks = chunks.filter(recording__session_id=session_id)
    return stored_files_delete(chunks, logger=logger, failure="could not delete recording chunk %s")


class _SessionErased(Exception):
    pass


def _session_erased(session_id: int) -> bool:
    # Retention (operators.compliance.retention.session_erase) stamps every
    # participant of the session it erases, in one transaction.
    return Participant.objects.filter(session_id=session_id, erased_at__isnull=False).exists()


def _raise_if_erased(session: VerificationSession) -> None:
    """Retention may erase the session while ffmpeg runs (a business may keep
    evidence for 0 days): checked again where a file is about to become
    Evidence. session_erase locks the session row, so holding that lock here
    means the erasure either committed before (seen) or waits until after
    this Evidence exists (and erases it with the rest)."""
    VerificationSession.objects.select_for_update().filter(pk=session.pk).first()
    if _session_erased(session.pk):
        raise _SessionErased


def recording_compose_session(*, session_id: int, force: bool = False) -> str:
    """Assemble every segment and compose the whole call. Idempotent: a second
    run finds the composed Evidence and does nothing. Waits (returns WAITING)
    while a segment is still open, until the grace after the call's end has
    passed; ``force`` composes what there is at once."""
    session = VerificationSession.objects.select_related("business").get(pk=session_id)
    if not session.is_ended:
        return NOT_ENDED
    if _session_erased(session.pk):
        return ERASED
    if composed_recording(session) is not None:
        return ALREADY
    recordings = list(session.recordings.select_related("participant", "evidence").order_by("stream", "segment"))
    if not recordings:
        return NOTHING
    deadline_passed = force or (session.ended_at is not None and timezone.now() >= session.ended_at + finish_grace())
    if not deadline_passed and not all(_segment_settled(r) for r in recordings):
        recording_compose_progress_set(session.pk, state=WAITING)
        return WAITING
    workdir = Path(tempfile.mkdtemp(prefix="verity-compose-"))
    recording_compose_progress_set(session.pk, state=COMPOSING, percent=0)
    try:
        outcome = _compose(session, recordings, workdir)
        if outcome == NOTHING:
            recording_compose_progress_set(session.pk, state=NOTHING)
        return outcome
    except _SessionErased:
        return ERASED
    except recording_media.MediaError as error:
        recording_compose_progress_set(session.pk, state=FAILED)
        logger.exception("composing the recording of session %s failed", session.pk)
        audit_record(
            business=session.business,
            session=session,
            actor=Actor.system(),
            action="recording.compose_failed",
            data={"error": str(error)[:500]},
        )
        return FAILED
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _location_overlay_lines(session: VerificationSession) -> list[str]:
    """The live location of each customer (LIVE_LOCATION: RBI asks for the
    recording to be geo-tagged), one line each, burned in beside the clock."""
    participants = list(session.participants.order_by("position"))
    lines = []
    for participant in participants:
        location = precall.latest_location(participant)
        if location is None:
            continue
        prefix = f"Customer {participant.position + 1}  " if len(participants) > 1 else ""
        lines.append(prefix + precall.overlay_text(location))
    return lines


def _compose(session: VerificationSession, recordings: list[Recording], workdir: Path) -> str:
    t0 = session.answered_at or min(r.started_at for r in recordings)
    end = session.ended_at or timezone.now()
    duration = (end - t0).total_seconds()
    streams: list[str] = []
    labels: list[str] = []
    ordered = sorted(
        recordings,
        key=lambda r: (r.stream == OPERATOR_STREAM, r.participant.position if r.participant else 0, r.segment),
    )
    inputs = []
    for recording in ordered:
        evidence = recording.evidence or _segment_assemble(recording, workdir)
        if evidence is None or evidence.duration_seconds is None:
            continue  # empty or unreadable: noted in its verification
        local = workdir / f"{recording.public_id.hex}.remux.webm"
        if not local.exists():
            with evidence.file.open("rb") as source, open(workdir / "in.webm", "wb") as out:
                shutil.copyfileobj(source, out)
            recording_media.remux(workdir / "in.webm", local)
        if recording.stream not in streams:
            streams.append(recording.stream)
            labels.append(_stream_label(recording).capitalize())
        inputs.append(
            recording_media.ComposeInput(
                path=local,
                tile=streams.index(recording.stream),
                offset=(recording.started_at - t0).total_seconds(),
                probe=recording_media.probe(local),
            )
        )
    if not inputs:
        return NOTHING
    target = workdir / "call.mp4"
    result = recording_media.compose(
        inputs=inputs,
        tiles=len(streams),
        tile_labels=labels,
        duration=duration,
        t0=t0,
        target=target,
        workdir=workdir,
        overlay_lines=_location_overlay_lines(session),
        title=f"Verity session {session.public_id.hex}",
        # Assembling the segments is quick; the encoding is the wait.
        on_progress=lambda fraction: recording_compose_progress_set(
            session.pk, state=COMPOSING, percent=min(99, round(fraction * 100))
        ),
    )
    digest = hashlib.sha256()
    with open(target, "rb") as source:
        for block in iter(lambda: source.read(1024 * 1024), b""):
            digest.update(block)
    evidence_id = uuid.uuid4()
    with transaction.atomic():
        VerificationSession.objects.select_for_update().get(pk=session.pk)
        if composed_recording(session) is not None:
            return ALREADY  # a concurrent run got there first
        _raise_if_erased(session)
        evidence = Evidence(
            public_id=evidence_id,
            session=session,
            participant=None,
            kind=Evidence.Kind.RECORDING,
            source=Evidence.Source.SERVER,
            label=COMPOSED_LABEL,
            content_type="video/mp4",
            size=target.stat().st_size,
            sha256=digest.hexdigest(),
            width=result.width,
            height=result.height,
            duration_seconds=round(result.probe.duration, 3),
        )
        with open(target, "rb") as source:
            evidence.file.save(f"{session.public_id.hex}/recordings/{evidence_id.hex}.mp4", File(source), save=False)
        evidence.save()
        audit_record(
            business=session.business,
            session=session,
            actor=Actor.system(),
            action="recording.composed",
            data={
                "evidence": evidence_id.hex,
                "sha256": evidence.sha256,
                "size": evidence.size,
                "duration_seconds": evidence.duration_seconds,
                "width": result.width,
                "height": result.height,
                "streams": streams,
                "segments": len(inputs),
                "t0": t0.isoformat(),
                "clock_burned_in": result.clock_burned_in,
            },
        )
    return COMPOSED


def recording_sessions_pending(*, ended_before=None, ended_after=None, max_failures: int | None = None) -> list[int]:
    """Ended sessions with recordings but no composed file (for the
    management command and the periodic sweep). The sweep narrows it to a
    window of end times and leaves out sessions that failed to compose too
    often (their failures are in the audit trail for a person to look at)."""
    composed = Evidence.objects.filter(kind=Evidence.Kind.RECORDING, source=Evidence.Source.SERVER).values("session_id")
    sessions = VerificationSession.objects.filter(
        state__in=VerificationSession.ENDED_STATES, recordings__isnull=False, erasure__isnull=True
    ).exclude(pk__in=composed)
    if ended_before is not None:
        sessions = sessions.filter(ended_at__lt=ended_before)
    if ended_after is not None:
        sessions = sessions.filter(ended_at__gte=ended_after)
    if max_failures is not None:
        failed_often = (
            AuditEvent.objects.filter(action="recording.compose_failed", session__isnull=False)
            .values("session_id")
            .annotate(failures=Count("pk"))
            .filter(failures__gte=max_failures)
            .values("session_id")
        )
        sessions = sessions.exclude(pk__in=failed_often)
    return list(sessions.values_list("pk", flat=True).distinct())


def compose_sweep_window(*, now=None) -> tuple:
    """(ended_after, ended_before) of the calls the periodic sweep composes.

    It starts after the call's own task has had its chance: that task retries
    until the finish grace, and a task lost with a killed worker is handed
    out again after the broker's visibility timeout. Starting later keeps the
    sweep a backstop for lost compositions, not a second ffmpeg racing the
    first. It ends RECORDING_COMPOSE_SWEEP_HOURS after the call: older ones
    are left to ``manage.py recording_compose --pending``, so a call that can
    never compose is not retried every few minutes for ever."""
    now = now or timezone.now()
    visibility = timedelta(seconds=settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600))
    ended_before = now - finish_grace() - visibility
    ended_after = now - timedelta(hours=settings.RECORDING_COMPOSE_SWEEP_HOURS)
    return ended_after, ended_before
