"""Reads for the call: who a socket belongs to, and what each side may see."""

import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from accounts.selectors import (
    operator_for_user,
    operators_available_count,
    presence_cutoff,
)
from kyc.presence import presence_seen_at
from sessions_app import precall
from sessions_app.changes import session_version_remember, session_version_remembered
from sessions_app.integrity import EMPTY_PANEL, integrity_panels_for_session
from sessions_app.links import link_token_hash
from sessions_app.models import Evidence, Participant, VerificationSession
from sessions_app.recordings import recording_active

CUSTOMER = "customer"
OPERATOR = "operator"
# The customers' leases in kyc.presence.
PARTICIPANT_PRESENCE = "participant"
OPERATOR_PEER_ID = "operator"
# Participants in these states take part in the call's media mesh.
IN_CALL_STATES = (Participant.State.WAITING, Participant.State.IN_CALL, Participant.State.DECIDED)

S = VerificationSession.State
P = Participant.State

PARTICIPANT_SESSION_KEY = "verity_participant_id"
# The hash of the link the browser opened: a reissued or revoked link must
# also shut out a browser that opened the old one.
PARTICIPANT_LINK_KEY = "verity_participant_link"


class LinkInvalid(Exception):
    """The link cannot be used. ``reason`` is one of UNKNOWN, EXPIRED, REVOKED, FINISHED."""

    UNKNOWN = "unknown"
    EXPIRED = "expired"
    REVOKED = "revoked"
    FINISHED = "finished"

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def participant_access_problem(participant: Participant, *, now=None) -> str | None:
    """Why this participant may not use their link now, or None.

    Expiry limits when a customer may start; it never cuts off a call that
    is already running.
    """
    now = now or timezone.now()
    session = participant.session
    if participant.link_revoked_at:
        return LinkInvalid.REVOKED
    if participant.state in (P.DECLINED, P.REMOVED):
        return LinkInvalid.FINISHED
    if session.state == S.CANCELLED:
        return LinkInvalid.REVOKED
    if session.state == S.EXPIRED:
        return LinkInvalid.EXPIRED
    if session.is_ended:
        return LinkInvalid.FINISHED
    if participant.link_expires_at <= now and participant.state != P.IN_CALL:
        return LinkInvalid.EXPIRED
    return None


def participant_resolve_link(*, raw_token: str) -> Participant:
    """The participant a link token belongs to, if it may be used now."""
    if not raw_token or len(raw_token) > 128:
        raise LinkInvalid(LinkInvalid.UNKNOWN)
    participant = (
        Participant.objects.select_related("session__business", "session__workflow")
        .filter(link_token_hash=link_token_hash(raw_token))
        .first()
    )
    if participant is None:
        raise LinkInvalid(LinkInvalid.UNKNOWN)
    problem = participant_access_problem(participant)
    if problem:
        raise LinkInvalid(problem)
    return participant


def customer_session_bind(store, participant: Participant) -> None:
    """Bind a browser's session (Django's, server-side) to the participant
    whose link it opened."""
    store[PARTICIPANT_SESSION_KEY] = participant.pk
    store[PARTICIPANT_LINK_KEY] = participant.link_token_hash


def customer_session_participant(store) -> tuple[int | None, str | None]:
    if store is None:
        return None, None
    return store.get(PARTICIPANT_SESSION_KEY), store.get(PARTICIPANT_LINK_KEY)


@dataclass(frozen=True)
class CallIdentity:
    role: str
    peer_id: str
    name: str
    session_id: int
    session_public_id: uuid.UUID
    business_id: int
    participant_id: int | None = None
    operator_id: int | None = None
    link_hash: str | None = None

    def peer_info(self) -> dict:
        return {"peer_id": self.peer_id, "role": self.role, "name": self.name}


def participant_peer_id(participant: Participant) -> str:
    return participant.public_id.hex


def call_identity(
    *, user, participant_id: int | None, session_public_id: uuid.UUID, link_hash: str | None = None
) -> CallIdentity | None:
    """Who this socket is in the call, or None when it may not be in it.

    An operator must be the one assigned to this very call; a customer must
    hold a live link of a participant of this session who has joined.
    """
    operator = operator_for_user(user) if user is not None else None
    if operator is not None:
        session = VerificationSession.objects.filter(public_id=session_public_id).first()
        if session is None or session.operator_id != operator.pk or session.state != VerificationSession.State.IN_CALL:
            return None
        return CallIdentity(
            role=OPERATOR,
            peer_id=OPERATOR_PEER_ID,
            name=operator.display_name,
            session_id=session.pk,
            session_public_id=session.public_id,
            business_id=session.business_id,
            operator_id=operator.pk,
        )
    if participant_id is None:
        return None
    # One query: the participant with their session (a connect's whole
    # authorisation for a customer).
    participant = (
        Participant.objects.select_related("session").filter(pk=participant_id, session__public_id=session_public_id).first()
    )
    if participant is None or participant.state not in IN_CALL_STATES or participant.link_token_hash != link_hash:
        return None
    session = participant.session
    if participant_access_problem(participant):
        return None
    return CallIdentity(
        role=CUSTOMER,
        peer_id=participant_peer_id(participant),
        name=participant.name,
        session_id=session.pk,
        session_public_id=session.public_id,
        business_id=session.business_id,
        participant_id=participant.pk,
        link_hash=link_hash,
    )


def call_identity_still_valid(identity: CallIdentity) -> bool:
    """Re-checked on every heartbeat: a revoked link, a removed participant,
    a deactivated operator or an ended call lose their socket within seconds."""
    if identity.role == OPERATOR:
        return VerificationSession.objects.filter(
            pk=identity.session_id,
            operator_id=identity.operator_id,
            operator__user__is_active=True,
            state=VerificationSession.State.IN_CALL,
        ).exists()
    participant = Participant.objects.select_related("session").filter(pk=identity.participant_id).first()
    return (
        participant is not None
        and participant.state in IN_CALL_STATES
        and participant.link_token_hash == identity.link_hash
        and participant_access_problem(participant) is None
    )


def _iso(value):
    return value.isoformat() if value else None


def _session_summary(session: VerificationSession) -> dict:
    return {
        "id": session.public_id.hex,
        "state": session.state,
        "kind": session.kind,
        "answered_at": _iso(session.answered_at),
        "ended_at": _iso(session.ended_at),
        "ended": session.is_ended,
        # Every participant's screen shows the recording badge from this.
        "recording": recording_active(session),
        "server_time": timezone.now().isoformat(),
    }


# What the floors above add to a participant's part of the call's state (the
# workflow's steps, captures and checks): functions of the participant that
# return extra keys, registered in their AppConfig.ready() through
# call_state_extend. A push or a resync carries them like everything else.
_CUSTOMER_STATE_PARTS: list = []
_OPERATOR_STATE_PARTS: list = []


def call_state_extend(*, customer=None, operator=None) -> None:
    """Add ``customer(participant) -> dict`` to what that customer's own page
    sees of themselves ("me"), and ``operator(participant) -> dict`` to that
    participant's entry in the operator's state."""
    for part, parts in ((customer, _CUSTOMER_STATE_PARTS), (operator, _OPERATOR_STATE_PARTS)):
        if part is not None and part not in parts:
            parts.append(part)


def _state_parts(parts: list, participant: Participant) -> dict:
    state = {}
    for part in parts:
        state.update(part(participant))
    return state


# The decision reason of a call aborted for poor conditions
# (operators.models.Decision.Reason.POOR_CONDITIONS, a floor up).
POOR_CONDITIONS_REASON = "poor_conditions"


def shared_decision(participant: Participant) -> dict | None:
    """What the customer is told of the operator's decision, if it was shared:
    the outcome that stands. An approval still waiting for its four-eyes
    review (operators.reviews) is "review": the customer must not read
    "verified" when a second person may still overturn it."""
    decision = getattr(participant, "decision", None)
    if decision is None or not decision.shared_with_customer:
        return None
    if decision.awaiting_review:
        return {"outcome": "review", "label": gettext("Your verification is being reviewed")}
    outcome = decision.final_outcome
    shared = {"outcome": outcome, "label": str(decision.Outcome(outcome).label)}
    if decision.reason_code == POOR_CONDITIONS_REASON:
        # The one reason the customer's page names (it offers a new try); the
        # others stay the business's to tell.
        shared["poor_conditions"] = True
    return shared


# What a question's prompt carries beside its code and text.
# (and ``sent_to``: where the one-time code went, masked; sessions_app.one_time_codes).
QUESTION_PROMPT_KEYS = ("lang", "texts", "question", "answer", "choices", "answered", "sent_to")


def prompt_for_customer(prompt: dict | None) -> dict | None:
    """What the customer's page shows of its prompt, and the id it confirms."""
    if not prompt:
        return None
    shown = {"id": prompt.get("id"), "code": prompt["code"], "text": prompt.get("text", "")}
    # A question's texts by language (the page picks its own), and what the
    # customer answers in the frame (the question, the kind, the choices, what
    # they sent already).
    for key in QUESTION_PROMPT_KEYS:
        if key in prompt:
            shown[key] = prompt[key]
    return shown


def prompt_for_operator(prompt: dict | None, *, now=None) -> dict | None:
    """The prompt on a customer's screen as the operator's panel shows it:
    whether that page confirmed showing it, and how long ago it was set (the
    panel warns when a prompt stays unconfirmed; an age, not a time, so the
    operator's clock does not matter)."""
    if not prompt:
        return None
    set_at = prompt.get("set_at")
    age = (now or timezone.now()) - datetime.fromisoformat(set_at) if set_at else None
    return {
        **prompt_for_customer(prompt),
        "shown": bool(prompt.get("shown_at")),
        "age_seconds": round(max(age.total_seconds(), 0.0), 1) if age is not None else None,
    }


def session_state_version(session_id: int) -> int | None:
    return VerificationSession.objects.filter(pk=session_id).values_list("state_version", flat=True).first()


def session_state_version_cached(session_id: int) -> int | None:
    """The session's version from the cache the commits keep it in, or from
    the database (once, then kept) when the cache does not know it."""
    version = session_version_remembered(session_id)
    if version is None:
        version = session_state_version(session_id)
        if version is not None:
            session_version_remember(session_id, version, read_from_database=True)
    return version


def call_state_for(identity: CallIdentity) -> dict:
    """The state the page behind this socket may see."""
    if identity.role == OPERATOR:
        return call_state_for_operator(session_id=identity.session_id)
    return call_state_for_customer(participant_id=identity.participant_id)


def call_state_for_customer(*, participant_id: int) -> dict:
    """Everything one customer's page needs to show where they are. Nothing of
    another participant's prompt, steps or decision is in it."""
    participant = (
        Participant.objects.select_related("session__business", "session__operator", "decision")
        .get(pk=participant_id)
    )
    session = participant.session
    others = [
        {"peer_id": participant_peer_id(other), "name": other.name, "state": other.state}
        for other in session.participants.exclude(pk=participant.pk).order_by("position")
    ]
    state = {
        "type": "state",
        "version": session.state_version,
        "session": _session_summary(session),
        "me": {
            "peer_id": participant_peer_id(participant),
            "name": participant.name,
            "state": participant.state,
            "prompt": prompt_for_customer(participant.current_prompt),
            "decision": shared_decision(participant),
            **_state_parts(_CUSTOMER_STATE_PARTS, participant),
        },
        "others": others,
        "operator": {"name": session.operator.display_name} if session.operator else None,
        "queue": None,
    }
    if session.state == VerificationSession.State.WAITING:
        position = queue_position(session)
        available = operators_available_count(session.business)
        answerers = _queue_answerers_count(session, available)
        state["queue"] = {
            "position": position,
            "operators_available": available,
            # Of those, the ones the queue offers this call to now (routing).
            "operators_fitting": answerers,
            "estimate_minutes": queue_wait_estimate_minutes(session.business, position=position, available=answerers),
        }
    return state


# Who may answer a waiting call is the console's rule (operators.routing),
# a floor above: it registers its counter here in its ready(). Without one,
# every available operator may.
_QUEUE_ANSWERERS: list = []


def queue_answerers_count_set(counter) -> None:
    """Register ``counter(session) -> int``: how many available operators
    the queue offers ``session`` to now (the waiting customer's estimate)."""
    _QUEUE_ANSWERERS[:] = [counter]


def _queue_answerers_count(session: VerificationSession, available: int) -> int:
    return _QUEUE_ANSWERERS[0](session) if _QUEUE_ANSWERERS else available


def session_language(session: VerificationSession) -> str:
    """The call's language: its first participant's (position 0), as the
    business's API set it or the customer's page recorded it when they
    joined. Blank means unknown. The one rule for routing and the
    supervisor's figures; there is no session-level field."""
    first = min(session.participants.all(), key=lambda p: p.position, default=None)
    return first.language if first is not None else ""


def session_language_expression():
    """``session_language`` as a query expression, for annotating or
    grouping many sessions in the database."""
    return Subquery(
        Participant.objects.filter(session=OuterRef("pk")).order_by("position").values("language")[:1]
    )


def _evidence_summary(evidence: Evidence) -> dict:
    return {
        "id": evidence.public_id.hex,
        "kind": evidence.kind,
        "source": evidence.source,
        "label": evidence.label,
        "frame": evidence.frame_index,
        "capture": evidence.capture.public_id.hex if evidence.capture_id else None,
        "width": evidence.width,
        "height": evidence.height,
        "sha256": evidence.sha256,
        "url": reverse("operators:evidence", args=[evidence.public_id.hex]),
        "created_at": _iso(evidence.created_at),
    }


def call_state_for_operator(*, session_id: int) -> dict:
    session = VerificationSession.objects.select_related("business").get(pk=session_id)
    participants = []
    evidence_by_participant: dict[int, list] = {}
    for evidence in (
        Evidence.objects.filter(session=session, erased_at__isnull=True)
        .select_related("capture")
        .order_by("created_at")
    ):
        evidence_by_participant.setdefault(evidence.participant_id, []).append(_evidence_summary(evidence))
    # The operator's capture-integrity risk panel (never sent to a customer's page).
    integrity_by_participant = integrity_panels_for_session(session.pk)
    for participant in session.participants.select_related("decision").order_by("position"):
        decision = getattr(participant, "decision", None)
        participants.append(
            {
                "peer_id": participant_peer_id(participant),
                "name": participant.name,
                "state": participant.state,
                "language": participant.language,
                "business_reference": participant.business_reference,
                "media": participant.media_state,
                "prompt": prompt_for_operator(participant.current_prompt),
                "evidence": evidence_by_participant.get(participant.pk, []),
                "integrity": integrity_by_participant.get(participant.pk, EMPTY_PANEL),
                # The live location the customer shared (LIVE_LOCATION), newest first.
                "location": precall.location_summary(precall.latest_location(participant)),
                **_state_parts(_OPERATOR_STATE_PARTS, participant),
                "decision": (
                    {
                        "outcome": decision.outcome,
                        "reason_code": decision.reason_code,
                        "shared": decision.shared_with_customer,
                        "provisional": decision.awaiting_review,
                    }
                    if decision
                    else None
                ),
            }
        )
    return {
        "type": "state",
        "version": session.state_version,
        "session": {**_session_summary(session), "business_reference": session.business_reference},
        "participants": participants,
    }


def participants_present(participants) -> set[int]:
    """The pks of those participants heard from within the presence timeout
    (their join, or a heartbeat's lease)."""
    cutoff = presence_cutoff()
    seen = presence_seen_at(PARTICIPANT_PRESENCE, participants)
    return {pk for pk, at in seen.items() if at is not None and at >= cutoff}


def queue_for_business(business) -> list[VerificationSession]:
    """Sessions waiting for an operator, oldest first. A customer whose browser
    went silent is not waiting any more, whatever the last state said. Each
    session carries ``present_participant_ids`` (who of them is there now),
    ``waiting_count`` and ``participant_count``."""
    sessions = list(
        VerificationSession.objects.for_business(business)
        .filter(state=VerificationSession.State.WAITING)
        .select_related("business", "booking__operator")  # booked calls: sessions_app.scheduling
        .prefetch_related("participants")
        .order_by("waiting_at", "pk")
    )
    waiting = [p for s in sessions for p in s.participants.all() if p.state == Participant.State.WAITING]
    present = participants_present(waiting)
    queue = []
    for session in sessions:
        participants = session.participants.all()
        session.present_participant_ids = {p.pk for p in participants if p.pk in present}
        session.waiting_count = len(session.present_participant_ids)
        session.participant_count = len(participants)
        if session.waiting_count:
            queue.append(session)
    return queue


def queue_position(session: VerificationSession) -> int | None:
    if session.state != VerificationSession.State.WAITING:
        return None
    ahead = [s.pk for s in queue_for_business(session.business)]
    return ahead.index(session.pk) + 1 if session.pk in ahead else None


def recent_handling_seconds(business, *, now=None) -> float | None:
    """The median length of the business's recent calls (answered to ended),
    or None while there are too few to say (settings.QUEUE_ESTIMATE_*)."""
    now = now or timezone.now()
    spans = [
        (ended - answered).total_seconds()
        for answered, ended in VerificationSession.objects.filter(
            business=business,
            answered_at__isnull=False,
            ended_at__gte=now - timedelta(days=settings.QUEUE_ESTIMATE_HISTORY_DAYS),
        )
        .order_by("-ended_at")
        .values_list("answered_at", "ended_at")[: settings.QUEUE_ESTIMATE_SAMPLE]
    ]
    if len(spans) < settings.QUEUE_ESTIMATE_MIN_CALLS:
        return None
    spans.sort()
    middle = len(spans) // 2
    return spans[middle] if len(spans) % 2 else (spans[middle - 1] + spans[middle]) / 2


def queue_wait_estimate_minutes(business, *, position: int | None, available: int) -> int | None:
    """A waiting customer's estimated wait, in whole minutes, or None when
    there is no honest figure (no operator available, too little history).

    The customers ahead are answered ``available`` at a time, each call taking
    the median of the recent ones: the wait is the number of rounds before
    this customer's turn times that median. 0 means "you are next"."""
    if not position or available < 1:
        return None
    median = recent_handling_seconds(business)
    if median is None:
        return None
    rounds = (position - 1) // available
    return math.ceil(rounds * median / 60)


def ice_servers_for(identity_label: str) -> list[dict]:
    """STUN/TURN servers for the page. TURN credentials follow the TURN REST
    API convention (coturn's use-auth-secret): username "expiry:label",
    password base64(HMAC-SHA1(secret, username)), valid for a limited time."""
    import base64
    import hashlib
    import hmac
    import time

    servers = []
    if settings.ICE_STUN_URLS:
        servers.append({"urls": settings.ICE_STUN_URLS})
    if settings.ICE_TURN_URLS and settings.TURN_SHARED_SECRET:
        expiry = int(time.time()) + settings.TURN_CREDENTIAL_TTL_SECONDS
        username = f"{expiry}:{identity_label}"
        digest = hmac.new(settings.TURN_SHARED_SECRET.encode(), username.encode(), hashlib.sha1).digest()
        servers.append(
            {"urls": settings.ICE_TURN_URLS, "username": username, "credential": base64.b64encode(digest).decode()}
        )
    return servers


def rtc_configuration_for(identity_label: str) -> dict:
    return {"iceServers": ice_servers_for(identity_label), "iceTransportPolicy": settings.ICE_TRANSPORT_POLICY}
