"""Writes for sessions and participants. Every state change goes through
``_session_move`` / ``_participant_move``, which check the state machine and
stamp the time (``_state_set``), then write the audit event, mark the session
changed and announce the move (``_move_recorded``) in the same transaction.
Rows are locked in the order of sessions_app.locks."""

import math
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Operator
from accounts.selectors import operator_for_user
from accounts.services import operator_beat, operator_touch
from kyc import presence, realtime
from kyc.languages import page_language_code
from kyc.state_machine import IllegalTransition
from kyc import geo
from sessions_app import events, locks, precall, scheduling
from sessions_app.audit import Actor, audit_record
from sessions_app.changes import (
    session_mark_changed,
    session_version_remembered,
    waiting_sessions_mark_changed_on_commit,
)
from sessions_app.links import link_token_new, link_url
from sessions_app.one_time_code_destinations import one_time_code_destinations_missing
from sessions_app.models import (
    Evidence,
    Participant,
    ParticipantLocation,
    RecordingConsent,
    TermsAcceptance,
    VerificationSession,
)
from sessions_app.recordings import recording_compose_on_commit
from sessions_app.scheduling import booked_operator_only
from sessions_app.selectors import (
    CUSTOMER,
    OPERATOR,
    PARTICIPANT_PRESENCE,
    QUESTION_PROMPT_KEYS,
    CallIdentity,
    LinkInvalid,
)

S = VerificationSession.State
P = Participant.State


def evidence_viewed_record(*, user, evidence: Evidence) -> None:
    """Someone looked at a piece of evidence (a capture, or played a
    recording): into the session's audit trail, once per look (see
    evidence_streaming.evidence_file_response). Every view that streams
    evidence to a person passes this as its on_look."""
    operator = operator_for_user(user)
    session = evidence.session
    audit_record(
        business=session.business,
        session=session,
        participant=evidence.participant,
        actor=Actor.operator(operator) if operator else Actor.staff(user),
        action="recording.viewed" if evidence.kind == Evidence.Kind.RECORDING else "evidence.viewed",
        data={"evidence": evidence.public_id.hex, "kind": evidence.kind},
    )


class SessionNotAvailable(Exception):
    """The call cannot be taken: another operator has it, or it is no longer waiting."""


@dataclass
class ParticipantSpec:
    name: str
    email: str = ""
    business_reference: str = ""
    language: str = ""
    date_of_birth: object = None
    phone: str = ""


@dataclass
class CreatedSession:
    session: VerificationSession
    links: list[tuple[Participant, str]] = field(default_factory=list)  # (participant, URL)


# --- internal moves -----------------------------------------------------------


def _state_set(row: VerificationSession | Participant, target: str) -> str:
    """Check the move against the row's state machine, then set the state and
    the time it changed (not saved yet). Returns the state it left."""
    row.MACHINE.check(row.state, target)
    previous = row.state
    row.state = target
    row.state_changed_at = timezone.now()
    return previous


def _move_recorded(
    *,
    session: VerificationSession,
    participant: Participant | None = None,
    previous: str,
    target: str,
    actor: Actor,
    data: dict | None,
) -> None:
    """After a saved move of the session (or of one of its participants, when
    ``participant`` is given): the audit event, the session marked changed and
    the move announced (sessions_app.events), all in the caller's transaction."""
    data = data or {}
    audit_record(
        business=session.business,
        session=session,
        participant=participant,
        actor=actor,
        action="session.transition" if participant is None else "participant.transition",
        data={"from": previous, "to": target, **data},
    )
    session_mark_changed(session)
    if participant is None:
        events.session_moved.send(
            sender=VerificationSession, session=session, previous=previous, target=target, actor=actor, data=data
        )
    else:
        events.participant_moved.send(
            sender=Participant, participant=participant, previous=previous, target=target, actor=actor, data=data
        )


def _session_move(session: VerificationSession, target: str, *, actor: Actor, data: dict | None = None) -> None:
    """Caller holds the row lock inside a transaction."""
    previous = _state_set(session, target)
    timestamp_field = VerificationSession.STATE_TIMESTAMP_FIELDS.get(target)
    if timestamp_field:
        setattr(session, timestamp_field, session.state_changed_at)
    # Never write back a version read earlier: session_mark_changed bumps it.
    session.state_version = F("state_version")
    session.save()
    _move_recorded(session=session, previous=previous, target=target, actor=actor, data=data)
    if previous == S.IN_CALL and target in VerificationSession.ENDED_STATES:
        recording_compose_on_commit(session)  # the recording of the call, once it is over


def _participant_move(participant: Participant, target: str, *, actor: Actor, data: dict | None = None) -> None:
    previous = _state_set(participant, target)
    participant.save(update_fields=["state", "state_changed_at"])
    _move_recorded(
        session=participant.session, participant=participant, previous=previous, target=target, actor=actor, data=data
    )


# --- creation and links -------------------------------------------------------


def session_create(
    *,
    business,
    workflow,
    kind: str,
    participants: list[ParticipantSpec],
    business_reference: str = "",
    redirect_url: str = "",
    link_ttl: timedelta | None = None,
    actor: Actor,
) -> CreatedSession:
    if workflow.business_id != business.pk:
        # Never let one business run another's workflow (or learn it exists).
        raise ValidationError({"workflow": "Unknown workflow."})
    if not workflow.is_active:
        raise ValidationError({"workflow": "This workflow is not active."})
    if kind == VerificationSession.Kind.ONE_ON_ONE and len(participants) != 1:
        raise ValidationError({"participants": "A one-on-one session has exactly one participant."})
    if kind == VerificationSession.Kind.MULTI_USER and not (
        2 <= len(participants) <= settings.MULTI_USER_MAX_PARTICIPANTS
    ):
        raise ValidationError(
            {"participants": f"A multi-user session has 2 to {settings.MULTI_USER_MAX_PARTICIPANTS} participants."}
        )
    if kind not in VerificationSession.Kind.values:
        raise ValidationError({"kind": f"Unknown kind {kind!r}."})
    expires_at = timezone.now() + (link_ttl or timedelta(hours=settings.LINK_DEFAULT_TTL_HOURS))
    # A call that could not keep its workflow's rules (randomised questions
    # with an empty bank) is refused before it is made, not discovered in it.
    workflow.rules_followable_check()
    rule_set = workflow.rule_set()
    # A call whose end needs a one-time code cannot start without somewhere to send it.
    missing = one_time_code_destinations_missing(rule_set, [vars(spec) for spec in participants])
    if missing:
        messages = [
            f"{int(index) + 1}: {message}"
            for index, fields in missing.items()
            for field_messages in fields.values()
            for message in field_messages
        ]
        raise ValidationError({"participants": messages})
    with transaction.atomic():
        session = VerificationSession.objects.create(
            business=business,
            workflow=workflow,
            kind=kind,
            business_reference=business_reference,
            redirect_url=redirect_url,
            preset=rule_set.preset,
            rule_set=rule_set.snapshot(),
        )
        created = CreatedSession(session=session)
        for position, spec in enumerate(participants):
            raw, token_hash = link_token_new()
            participant = Participant.objects.create(
                session=session,
                position=position,
                name=spec.name,
                email=spec.email,
                phone=spec.phone,
                business_reference=spec.business_reference,
                language=spec.language,
                date_of_birth=spec.date_of_birth,
                link_token_hash=token_hash,
                link_expires_at=expires_at,
            )
            events.participant_created.send(sender=Participant, participant=participant, workflow=workflow)
            created.links.append((participant, link_url(raw)))
        audit_record(
            business=business,
            session=session,
            actor=actor,
            action="session.created",
            data={
                "kind": kind,
                "participants": len(participants),
                "workflow": workflow.pk,
                "preset": rule_set.preset,
                "rules": sorted(rule_set.rules),
            },
        )
    return created


def participant_link_reissue(*, participant: Participant, actor: Actor, link_ttl: timedelta | None = None) -> str:
    """A new link for the participant; the old one stops working at once."""
    raw, token_hash = link_token_new()
    with transaction.atomic():
        participant = locks.participant_lock(participant.pk)
        participant.link_token_hash = token_hash
        participant.link_revoked_at = None
        expires_at = timezone.now() + (link_ttl or timedelta(hours=settings.LINK_DEFAULT_TTL_HOURS))
        data = None
        floor = scheduling.link_expiry_floor(participant.session)
        if floor is not None:
            # A booked call: the new link must last until the call is over,
            # else the sweep expires the session and cancels the booking.
            # What it would have been is kept for a later cancellation
            # (scheduling_services.session_booking_cancel restores it).
            data = {"link_expires_unbooked": expires_at.isoformat()}
            expires_at = max(expires_at, floor)
        participant.link_expires_at = expires_at
        participant.save(update_fields=["link_token_hash", "link_revoked_at", "link_expires_at"])
        audit_record(
            business=participant.session.business,
            session=participant.session,
            participant=participant,
            actor=actor,
            action="participant.link_reissued",
            data=data,
        )
        # The old link's socket must hear it at once, as after a revocation.
        session_mark_changed(participant.session)
    return link_url(raw)


def participant_link_revoke(*, participant: Participant, actor: Actor) -> None:
    with transaction.atomic():
        participant = locks.participant_lock(participant.pk)
        if participant.link_revoked_at:
            return
        participant.link_revoked_at = timezone.now()
        participant.save(update_fields=["link_revoked_at"])
        audit_record(
            business=participant.session.business,
            session=participant.session,
            participant=participant,
            actor=actor,
            action="participant.link_revoked",
        )
        session_mark_changed(participant.session)


# --- the customer's journey -----------------------------------------------------


def participant_accept_terms(
    *, participant: Participant, ip_address: str | None, user_agent: str, language: str | None = None
) -> None:
    """Record that the customer accepted the workflow's terms: which version,
    in which language's text, when and from where.

    ``language`` is the language the customer's page is in; the text they
    were shown is chosen from it as the terms page chose it (the default
    language's when theirs has none). Without it, the participant's language.
    """
    with transaction.atomic():
        participant = locks.participant_lock(participant.pk)
        if participant.state == P.DECLINED:
            # Not a double submit: declining is final, so a late accept (from
            # a second tab) must fail loudly instead of vanishing.
            Participant.MACHINE.check(participant.state, P.TERMS_ACCEPTED)
        if participant.state != P.INVITED:
            return  # a double submit; the first acceptance stands
        terms = participant.session.workflow.terms_for(language or participant.language or None)
        version, terms_language = (terms.version, terms.language) if terms else ("none", "")
        TermsAcceptance.objects.create(
            participant=participant,
            terms_version=version,
            terms_language=terms_language,
            ip_address=ip_address,
            user_agent=user_agent[:512],
        )
        # The workflow's terms step passes on this move (workflows.receivers).
        _participant_move(
            participant,
            P.TERMS_ACCEPTED,
            actor=Actor.customer(),
            data={"terms_version": version, "terms_language": terms_language},
        )


def participant_decline_terms(*, participant: Participant) -> None:
    with transaction.atomic():
        participant = locks.participant_lock(participant.pk)
        if participant.state == P.DECLINED:
            return
        if participant.state != P.INVITED:
            # The machine lets an accepted participant decline (the consent
            # to recording, below); the terms, once accepted, cannot be.
            raise IllegalTransition("participant", participant.state, P.DECLINED)
        _participant_move(participant, P.DECLINED, actor=Actor.customer())
        _session_end_when_all_declined(participant, reason="terms_declined")


def _session_end_when_all_declined(participant: Participant, *, reason: str) -> None:
    """The customer declined before the call: the session is over when no
    other customer of it may still come. Runs under the participant's lock."""
    session = participant.session
    others_active = session.participants.exclude(pk=participant.pk).exclude(state__in=[P.DECLINED, P.REMOVED])
    if not others_active.exists() and not session.is_ended:
        target = S.CANCELLED if session.state == S.CREATED else S.ABANDONED
        if VerificationSession.MACHINE.allowed(session.state, target):
            _session_move(session, target, actor=Actor.customer(), data={"reason": reason})


def participant_answer_recording_consent(
    *, participant: Participant, accepted: bool, ip_address: str | None, user_agent: str, language: str
) -> RecordingConsent:
    """The customer's answer to the consent to recording (RECORDING_CONSENT),
    asked on its own after the terms: which text version, in which language,
    when and from where. Agreeing lets them on to the call; declining is
    final, like declining the terms (the participant is declined and a
    session nobody else may join is cancelled). A second answer (a double
    submit, a second tab) changes nothing: the first one stands."""
    with transaction.atomic():
        participant = locks.participant_lock(participant.pk)
        existing = RecordingConsent.objects.filter(participant=participant).first()
        if existing is not None:
            return existing
        if participant.state != P.TERMS_ACCEPTED:
            # Before the terms, or already in the queue or the call: not the moment to ask.
            raise ValidationError(_("The consent to recording is asked after the terms, before the call."))
        consent = RecordingConsent.objects.create(
            participant=participant,
            accepted=accepted,
            text_version=precall.RECORDING_CONSENT_VERSION,
            text_language=page_language_code(language) or language[:16],
            ip_address=ip_address,
            user_agent=user_agent[:512],
        )
        audit_record(
            business=participant.session.business,
            session=participant.session,
            participant=participant,
            action="participant.recording_consented" if accepted else "participant.recording_declined",
            actor=Actor.customer(),
            data={"text_version": consent.text_version, "text_language": consent.text_language},
        )
        if not accepted:
            _participant_move(participant, P.DECLINED, actor=Actor.customer(), data={"reason": "recording_declined"})
            _session_end_when_all_declined(participant, reason="recording_declined")
    return consent


class LocationRefused(ValidationError):
    """A shared position the server does not keep: out of range, absurdly
    inaccurate, or stamped at an impossible time. ``code`` says which."""


def participant_location_record(
    *,
    participant: Participant,
    latitude: float,
    longitude: float,
    accuracy_m: float,
    located_at,
    ip_address: str | None,
) -> ParticipantLocation:
    """Keep a live position the customer's browser shared (LIVE_LOCATION),
    with the country of the position and of the address it came from, both
    looked up offline (kyc.geo). The call uses the newest one; a refresh adds
    a row, so the record keeps every position shared."""
    for value in (latitude, longitude, accuracy_m):
        # JSON lets a browser (or a script) send NaN and Infinity.
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise LocationRefused(_("The position is not a number."), code="not_a_number")
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise LocationRefused(_("The position is outside the Earth's coordinates."), code="out_of_range")
    if not 0 <= accuracy_m <= settings.GEO_MAX_ACCURACY_METRES:
        raise LocationRefused(
            _("The position is too inaccurate to say where you are. Please turn on your device's location (GPS) and try again."),
            code="inaccurate",
        )
    now = timezone.now()
    if located_at is None or abs((now - located_at).total_seconds()) > settings.GEO_LOCATION_MAX_AGE_SECONDS:
        # An old position says where the customer was, not where they are; a
        # time far ahead is a wrong clock or a made-up position.
        raise LocationRefused(_("The position is too old. Please try again."), code="stale")
    ip_country = geo.ip_country_or_assumed(ip_address)
    location_country = geo.location_country(float(latitude), float(longitude))
    with transaction.atomic():
        participant = locks.participant_lock(participant.pk)
        if participant.state not in (P.TERMS_ACCEPTED, P.WAITING, P.IN_CALL, P.LEFT):
            raise LocationRefused(_("The location is shared after the terms, before or during the call."), code="state")
        location = ParticipantLocation.objects.create(
            participant=participant,
            latitude=float(latitude),
            longitude=float(longitude),
            accuracy_m=float(accuracy_m),
            located_at=located_at,
            received_at=now,
            ip_address=ip_address,
            ip_country=ip_country,
            location_country=location_country,
        )
        problem = precall.country_problem(participant, ip_address=ip_address)
        audit_record(
            business=participant.session.business,
            session=participant.session,
            participant=participant,
            action="participant.location_shared",
            actor=Actor.customer(),
            # Not the coordinates: the audit trail is never erased, the
            # location row is (operators.compliance.retention).
            data={
                "location": location.pk,
                "accuracy_m": round(float(accuracy_m), 1),
                "ip_country": ip_country,
                "location_country": location_country,
                "country_allowed": problem is None,
            },
        )
    return location


def participant_join(*, participant: Participant, language: str = "", ip_address: str | None = None) -> Participant:
    """The customer clicked Join: into the queue, or straight into a running call.

    ``language`` is the language of the page they joined from: it becomes the
    participant's language when the business's API did not set one (the
    queue routes the call by it, operators.routing). ``ip_address`` is where
    the join came from: a session under ALLOWED_COUNTRIES refuses an address
    outside them (sessions_app.precall)."""
    with transaction.atomic():
        participant = locks.participant_lock(participant.pk)
        session = participant.session
        if session.is_ended:
            raise LinkInvalid(LinkInvalid.FINISHED)
        if participant.state in (P.WAITING, P.IN_CALL):
            return participant  # a reload: already where they should be
        if participant.state not in (P.TERMS_ACCEPTED, P.LEFT):
            raise ValidationError(_("Accept the terms first."))
        # Consent to recording, live location, allowed countries: asked again
        # here, so skipping the pages does not skip the rules. A customer
        # coming back from LEFT is asked again too: the location they shared
        # before may be stale by now, and they may rejoin from another country.
        refusal = precall.join_refusal(participant, ip_address=ip_address)
        if refusal:
            raise ValidationError(refusal, code="precall")
        booking = scheduling.session_booking(session) if session.state == S.CREATED else None
        if booking is not None and not scheduling.booking_join_open(booking):
            # The booked operator's time is held for then, not now.
            raise ValidationError(_("Your call is booked for a later time. You can join a few minutes before it."))
        language = page_language_code(language)
        if language and not participant.language:
            participant.language = language
            participant.save(update_fields=["language"])
        # The workflow's device check passes on this move (workflows.receivers).
        _participant_move(participant, P.WAITING, actor=Actor.customer())
        if session.state == S.CREATED:
            _session_move(session, S.WAITING, actor=Actor.customer())
        elif session.state == S.IN_CALL:
            _participant_move(participant, P.IN_CALL, actor=Actor.customer(), data={"rejoined": True})
        participant.last_seen_at = timezone.now()
        participant.save(update_fields=["last_seen_at"])
        realtime.queue_changed_on_commit(session.business_id)
    return participant


def participant_leave(*, participant: Participant, actor: Actor, reason: str = "left") -> None:
    """The customer left (End, closed the tab, dropped for good).

    In a one-on-one call that ends the call; in a multi-user call the others
    go on, and the session ends when nobody is left in it.
    """
    with transaction.atomic():
        participant = locks.participant_lock(participant.pk)
        session = participant.session
        if participant.state == P.WAITING and session.state == S.WAITING:
            _participant_move(participant, P.TERMS_ACCEPTED, actor=actor, data={"reason": reason})
            if not session.participants.filter(state=P.WAITING).exists():
                _session_move(session, S.CREATED, actor=actor, data={"reason": "queue_empty"})
                waiting_sessions_mark_changed_on_commit(business_id=session.business_id)
            realtime.queue_changed_on_commit(session.business_id)
            return
        if participant.state in (P.IN_CALL, P.WAITING):
            _participant_move(participant, P.LEFT, actor=actor, data={"reason": reason})
        if session.state == S.IN_CALL and (
            session.kind == VerificationSession.Kind.ONE_ON_ONE
            or not session.participants.filter(state__in=[P.IN_CALL, P.WAITING]).exists()
        ):
            _session_end_locked(session, actor=actor, reason=reason)


def participant_remove(*, participant: Participant, operator) -> None:
    """The operator takes one customer out of a call; the others go on. The
    removed customer's link stops working and their socket is closed."""
    with transaction.atomic():
        participant = locks.participant_lock(participant.pk)
        session = participant.session
        if session.operator_id != operator.pk:
            raise ValidationError(_("Only the operator of this call can remove a participant."))
        if participant.state == P.REMOVED:
            return
        _participant_move(participant, P.REMOVED, actor=Actor.operator(operator))
        if session.state == S.IN_CALL and not session.participants.filter(state__in=[P.IN_CALL, P.WAITING]).exists():
            _session_end_locked(session, actor=Actor.operator(operator), reason="everyone_left")


def participant_set_media_state(*, participant_id: int, audio: bool, video: bool) -> None:
    Participant.objects.filter(pk=participant_id).update(media_state={"audio": audio, "video": video})


def participant_touch(*, participant_id: int) -> None:
    """The customer's page arrived (its socket opened): stamped in the
    database, once; its heartbeats renew only the lease."""
    Participant.objects.filter(pk=participant_id).update(last_seen_at=timezone.now())
    presence.presence_beat(PARTICIPANT_PRESENCE, participant_id)


# A waiting customer whose socket closed is gone from the queue after this
# long, unless they are back (a reload reconnects well within it).
RECONNECT_GRACE_SECONDS = 5


def participant_disconnected(*, participant_id: int) -> None:
    """The customer's socket closed. Closing the tab must take them out of the
    queue promptly, without making a reload lose their place: age their
    presence so it lapses after a short grace instead of the full timeout."""
    lapsed_at = timezone.now() - timedelta(seconds=settings.PRESENCE_TIMEOUT_SECONDS - RECONNECT_GRACE_SECONDS)
    if Participant.objects.filter(pk=participant_id, state=P.WAITING).update(last_seen_at=lapsed_at):
        # The lease would keep them "seen" for the whole timeout.
        presence.presence_forget(PARTICIPANT_PRESENCE, participant_id)


def participant_set_prompt(
    *,
    participant: Participant,
    prompt: dict | None,
    actor: Actor,
    step: int | None = None,
    keep_other_steps: bool = False,
) -> dict | None:
    """Show (or clear) a prompt on the customer's screen. Stored first, so a
    reload or reconnect shows exactly the same prompt. Returns the prompt as
    stored.

    Each prompt gets an id, the session's state version that brought it: ids
    only grow within a call, so the customer page's acknowledgement names
    exactly one prompt and a late one for an older prompt is told apart.

    ``step`` is the position of the workflow step the prompt belongs to (None
    for the operator's own prompts). A step's automatic follow-ups (the next
    liveness action once a burst is in, clearing when a step ends) pass
    ``keep_other_steps``: a prompt another step showed meanwhile stays. Without
    it a document step passed after the liveness challenge had started (two
    requests of the operator's console crossing) wiped the challenge's first
    instruction while the operator's panel showed it running."""
    with transaction.atomic():
        participant = locks.participant_lock(participant.pk)
        if participant.state != P.IN_CALL:
            raise ValidationError(_("The participant is not in the call."))
        owner = (participant.current_prompt or {}).get("step")
        if keep_other_steps and owner is not None and owner != step:
            return participant.current_prompt
        version = session_mark_changed(participant.session)
        if prompt is not None:
            prompt = {
                # A question's text in each language the workflow offers and
                # the one chosen, and how the customer answers it in the frame
                # (workflows/services.py).
                **{key: prompt[key] for key in QUESTION_PROMPT_KEYS if key in prompt},
                "id": version,
                "code": prompt["code"],
                "text": prompt.get("text", ""),
                "step": step,
                "set_at": timezone.now().isoformat(),
                "shown_at": None,
            }
        participant.current_prompt = prompt
        participant.save(update_fields=["current_prompt"])
        audit_record(
            business=participant.session.business,
            session=participant.session,
            participant=participant,
            actor=actor,
            action="prompt.shown" if prompt else "prompt.cleared",
            data={"prompt": (prompt or {}).get("code")},
        )
    return prompt


STALE_PROMPT = "stale_prompt"


def _current_prompt_or_refuse(participant: Participant, prompt_id: int) -> dict:
    current = participant.current_prompt
    if participant.state != P.IN_CALL or not current or current.get("id") != prompt_id:
        raise ValidationError(_("That prompt is no longer shown: it was replaced or cleared."), code=STALE_PROMPT)
    return current


def participant_prompt_confirm(*, participant_id: int, prompt_id: int) -> bool:
    """The customer's page shows the prompt ``prompt_id`` (its element visible
    with the text): stored beside the prompt, so the operator's console sees
    it after a reload too, and pushed. Only the first confirmation of a prompt
    writes; a repeat (a reconnect confirms again) returns False and changes
    nothing. A confirmation of any other prompt than the current one is
    refused (ValidationError, code STALE_PROMPT)."""
    with transaction.atomic():
        participant = locks.participant_lock(participant_id)
        current = _current_prompt_or_refuse(participant, prompt_id)
        if current.get("shown_at"):
            return False
        participant.current_prompt = {**current, "shown_at": timezone.now().isoformat()}
        participant.save(update_fields=["current_prompt"])
        audit_record(
            business=participant.session.business,
            session=participant.session,
            participant=participant,
            actor=Actor.customer(),
            action="prompt.confirmed",
            data={"prompt": current.get("code")},
        )
        session_mark_changed(participant.session)
    return True


def participant_prompt_resend(*, participant: Participant, prompt_id: int, actor: Actor) -> dict:
    """Show the current prompt again, under a new id, because the customer's
    page has not confirmed it: a fresh push for a page whose last one was
    lost. Refused (code STALE_PROMPT) when ``prompt_id`` is not the current
    prompt any more: the operator's console was behind."""
    with transaction.atomic():
        participant = locks.participant_lock(participant.pk)
        current = _current_prompt_or_refuse(participant, prompt_id)
        return participant_set_prompt(participant=participant, prompt=current, actor=actor, step=current.get("step"))


# --- the operator's side ---------------------------------------------------------


def participant_mark_decided(*, participant: Participant, actor: Actor, data: dict) -> None:
    """The operator's decision on this participant is recorded (the decision
    itself is the console's: operators.services.decision_record). The caller
    holds ``locks.participant_lock`` inside its transaction."""
    _participant_move(participant, P.DECIDED, actor=actor, data=data)


def session_assign_operator(*, session_id: int, operator) -> VerificationSession:
    """The operator answered. Exactly one of two operators racing for the same
    call wins: the row lock serialises them and the loser sees the state the
    winner left."""
    with transaction.atomic():
        try:
            session = locks.session_lock(session_id)
        except VerificationSession.DoesNotExist:
            raise SessionNotAvailable(_("This call no longer exists.")) from None
        if session.business_id != operator.business_id:
            raise SessionNotAvailable(_("This call no longer exists."))
        if session.state != S.WAITING or session.operator_id is not None:
            raise SessionNotAvailable(_("Another operator has taken this call, or the customer left."))
        booked_operator = booked_operator_only(session, timezone.now())
        if booked_operator is not None and booked_operator.pk != operator.pk:
            raise SessionNotAvailable(_("This booked call rings its booked operator first."))
        session.operator = operator
        _session_move(session, S.IN_CALL, actor=Actor.operator(operator), data={"operator": operator.pk})
        for participant in session.participants.select_for_update().filter(state=P.WAITING):
            participant.session = session
            _participant_move(participant, P.IN_CALL, actor=Actor.operator(operator))
        realtime.queue_changed_on_commit(session.business_id)
        waiting_sessions_mark_changed_on_commit(business_id=session.business_id)
    return session


def _session_end_locked(session: VerificationSession, *, actor: Actor, reason: str) -> None:
    for participant in session.participants.select_for_update().filter(state__in=[P.IN_CALL, P.WAITING]):
        participant.session = session
        _participant_move(participant, P.LEFT, actor=actor, data={"reason": "call_ended"})
    # Completed once the operator decided on somebody; a call that ends with
    # no decision at all was abandoned.
    decided = session.state == S.IN_CALL and session.participants.filter(state=P.DECIDED).exists()
    _session_move(session, S.COMPLETED if decided else S.ABANDONED, actor=actor, data={"reason": reason})
    realtime.call_ended_on_commit(session)


def session_end(*, session: VerificationSession, actor: Actor, reason: str = "ended") -> VerificationSession:
    """End the call for everyone: completed when every participant has a
    decision, abandoned otherwise."""
    with transaction.atomic():
        session = locks.session_lock(session.pk)
        if session.is_ended:
            return session
        _session_end_locked(session, actor=actor, reason=reason)
    return session


def session_expire(*, session: VerificationSession) -> VerificationSession:
    """Every link of a session nobody started has expired."""
    with transaction.atomic():
        session = locks.session_lock(session.pk)
        if session.state != S.CREATED:
            return session
        _session_move(session, S.EXPIRED, actor=Actor.system(), data={"reason": "links_expired"})
    return session


def session_cancel(*, session: VerificationSession, actor: Actor) -> VerificationSession:
    with transaction.atomic():
        session = locks.session_lock(session.pk)
        if session.state == S.CANCELLED:
            return session
        # Nobody stays in the queue or the call of a cancelled session (the
        # operator could otherwise still record a decision on them).
        for participant in session.participants.select_for_update().filter(state__in=[P.IN_CALL, P.WAITING]):
            participant.session = session
            _participant_move(participant, P.LEFT, actor=actor, data={"reason": "session_cancelled"})
        _session_move(session, S.CANCELLED, actor=actor)
        realtime.call_ended_on_commit(session)
        realtime.queue_changed_on_commit(session.business_id)
        waiting_sessions_mark_changed_on_commit(business_id=session.business_id)
    return session


# --- what a call's socket does -------------------------------------------------------


def call_identity_arrived(*, identity: CallIdentity) -> None:
    """The page behind a call socket connected: the one presence write that
    reaches the database."""
    if identity.role == CUSTOMER:
        participant_touch(participant_id=identity.participant_id)
    else:
        operator_touch(operator_id=identity.operator_id)


def call_identity_heartbeat(*, identity: CallIdentity) -> int | None:
    """The page behind a call socket is alive (its heartbeat): its lease is
    renewed, and the session's version as the last commit left it is
    returned (None when the cache does not know it). No database: heartbeats
    run off the database thread (kyc/presence.py)."""
    if identity.role == CUSTOMER:
        presence.presence_beat(PARTICIPANT_PRESENCE, identity.participant_id)
    else:
        operator_beat(operator_id=identity.operator_id)
    return session_version_remembered(identity.session_id)


def call_end_by(*, identity: CallIdentity) -> None:
    """End pressed on a page of the call: the operator ends it for everyone, a
    customer leaves it."""
    if identity.role == OPERATOR:
        operator = Operator.objects.get(pk=identity.operator_id)
        session = VerificationSession.objects.get(pk=identity.session_id)
        session_end(session=session, actor=Actor.operator(operator), reason="ended_by_operator")
    else:
        participant = Participant.objects.get(pk=identity.participant_id)
        participant_leave(participant=participant, actor=Actor.customer(), reason="ended_by_customer")


def _call_participant(identity: CallIdentity, participant_public_id) -> Participant:
    participant = Participant.objects.filter(public_id=participant_public_id, session_id=identity.session_id).first()
    if participant is None:
        raise ValidationError(_("That participant is not in this call."))
    return participant


def call_prompt_set(*, identity: CallIdentity, participant_public_id, prompt: dict | None) -> None:
    """The operator's page shows (or clears) a prompt on one customer's screen."""
    participant = _call_participant(identity, participant_public_id)
    operator = Operator.objects.get(pk=identity.operator_id)
    participant_set_prompt(participant=participant, prompt=prompt, actor=Actor.operator(operator))


def call_prompt_resend(*, identity: CallIdentity, participant_public_id, prompt_id: int) -> None:
    """The operator's page sends a prompt the customer's page has not confirmed again."""
    participant = _call_participant(identity, participant_public_id)
    operator = Operator.objects.get(pk=identity.operator_id)
    participant_prompt_resend(participant=participant, prompt_id=prompt_id, actor=Actor.operator(operator))
