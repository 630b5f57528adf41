"""Reads for the call: who a socket belongs to, and what each side may see."""

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from sessions_app.models import Evidence, Participant, VerificationSession

CUSTOMER = "customer"
OPERATOR = "operator"
OPERATOR_PEER_ID = "operator"
# Participants in these states take part in the call's media mesh.
IN_CALL_STATES = (Participant.State.WAITING, Participant.State.IN_CALL, Participant.State.DECIDED)

PARTICIPANT_SESSION_KEY = "verity_participant_id"
# The hash of the link the browser opened: a reissued or revoked link must
# also shut out a browser that opened the old one.
PARTICIPANT_LINK_KEY = "verity_participant_link"


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
    from operators.selectors import operator_for_user
    from sessions_app.services import participant_access_problem

    session = (
        VerificationSession.objects.select_related("business").filter(public_id=session_public_id).first()
    )
    if session is None:
        return None
    operator = operator_for_user(user) if user is not None else None
    if operator is not None:
        if session.operator_id != operator.pk or session.state != VerificationSession.State.IN_CALL:
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
    participant = Participant.objects.filter(pk=participant_id, session=session).first()
    if participant is None or participant.state not in IN_CALL_STATES or participant.link_token_hash != link_hash:
        return None
    participant.session = session
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
    from sessions_app.services import participant_access_problem

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
    from sessions_app.recordings import recording_active

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


def shared_decision(participant: Participant) -> dict | None:
    decision = getattr(participant, "decision", None)
    if decision is None or not decision.shared_with_customer:
        return None
    return {"outcome": decision.outcome, "label": str(decision.get_outcome_display())}


def call_state_for_customer(*, participant_id: int) -> dict:
    """Everything one customer's page needs to show where they are. Nothing of
    another participant's prompt, steps or decision is in it."""
    from operators.selectors import operators_available_count, queue_position

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
            "prompt": participant.current_prompt,
            "decision": shared_decision(participant),
            "capture": pending_capture_for_customer(participant),
        },
        "others": others,
        "operator": {"name": session.operator.display_name} if session.operator else None,
        "queue": None,
    }
    if session.state == VerificationSession.State.WAITING:
        state["queue"] = {
            "position": queue_position(session),
            "operators_available": operators_available_count(session.business),
        }
    return state


def pending_capture_for_customer(participant: Participant) -> dict | None:
    """The capture the customer's page should take now, if any: the newest
    request not yet answered from the customer's own camera."""
    from workflows.models import CaptureRequest
    from workflows.services import capture_frames_expected

    capture = (
        CaptureRequest.objects.filter(participant=participant, state=CaptureRequest.State.REQUESTED)
        .order_by("-created_at")
        .first()
    )
    if capture is None:
        return None
    frames = capture_frames_expected(capture, Evidence.Source.CUSTOMER_DEVICE)
    done = set(
        capture.evidence.filter(source=Evidence.Source.CUSTOMER_DEVICE).values_list("frame_index", flat=True)
    )
    return {
        "id": capture.public_id.hex,
        "kind": capture.kind,
        "label": capture.label,
        "frames": frames,
        "missing": [i for i in range(frames) if i not in done],
    }


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
    # The automated checks' results ride on the operator's state: a stored
    # result bumps the state version and nudges the call's sockets
    # (workflows.check_services.check_result_store), like any other change.
    from workflows.check_selectors import participant_checks

    session = VerificationSession.objects.select_related("business").get(pk=session_id)
    participants = []
    evidence_by_participant: dict[int, list] = {}
    for evidence in (
        Evidence.objects.filter(session=session, erased_at__isnull=True)
        .select_related("capture")
        .order_by("created_at")
    ):
        evidence_by_participant.setdefault(evidence.participant_id, []).append(_evidence_summary(evidence))
    for participant in session.participants.select_related("decision").prefetch_related("steps").order_by(
        "position"
    ):
        decision = getattr(participant, "decision", None)
        participants.append(
            {
                "peer_id": participant_peer_id(participant),
                "name": participant.name,
                "state": participant.state,
                "language": participant.language,
                "business_reference": participant.business_reference,
                "media": participant.media_state,
                "prompt": participant.current_prompt,
                "steps": [
                    {"position": s.position, "kind": s.kind, "state": s.state, "config": s.config, "data": s.data}
                    for s in participant.steps.all()
                ],
                "evidence": evidence_by_participant.get(participant.pk, []),
                "capture": pending_capture_for_customer(participant),
                "checks": participant_checks(participant),
                "decision": (
                    {
                        "outcome": decision.outcome,
                        "reason_code": decision.reason_code,
                        "shared": decision.shared_with_customer,
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
