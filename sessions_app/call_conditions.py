"""Minimum call conditions (kyc.regulations.CALL_CONDITIONS): whether each
customer's video and connection, as the operator's page receives them, meet
the minimum of the session's rule set.

The operator's page measures (getStats) every few seconds and reports over
the call socket. A report is the hot path of a running call, so it touches
only the cache: the latest measurement per participant lives there, with
whether it met the minimum. The database and the audit trail hear only of a
change between met and not met (``call_conditions.below_minimum`` /
``call_conditions.restored``): that is the history compliance reads, and the
figures of the moment it changed are in the event.

Approval is held back (operators.approval_gates) while the latest
measurement is missing, stale or below the minimum: a call whose picture
nobody can vouch for is not a call to approve on.
"""

import math
import time
from dataclasses import dataclass, fields

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.formats import get_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kyc.regulations import CALL_CONDITIONS, RuleSet
from sessions_app import locks
from sessions_app.audit import Actor, audit_record
from sessions_app.models import AuditEvent, Participant, VerificationSession
from sessions_app.selectors import POOR_CONDITIONS_REASON
from sessions_app.services import ParticipantSpec, session_create

BELOW_MINIMUM = "call_conditions.below_minimum"
RESTORED = "call_conditions.restored"
HISTORY_ACTIONS = (BELOW_MINIMUM, RESTORED)

# The operator's page reports every few seconds; a measurement older than
# this says nothing about the call now (the page closed, the socket dropped).
STALE_AFTER_SECONDS = 15
# Per participant and socket: a page that reports faster is refused, not stored.
REPORT_MIN_INTERVAL_SECONDS = 1.0
# The cache keeps a measurement well past staleness (the gate says "stale",
# not "missing"), but not for ever.
CACHE_SECONDS = 2 * 60 * 60


# Sane bounds of what a browser can measure: a value outside them is a forged
# or broken frame, refused whole.
MAX_VIDEO_HEIGHT = 8640
MAX_FRAME_RATE = 240
MAX_RTT_MS = 60_000


class MeasurementError(ValueError):
    pass


@dataclass(frozen=True)
class Minimum:
    video_height: int
    frame_rate: float
    packet_loss_percent: float  # the most loss allowed

    @classmethod
    def of(cls, rule_set: RuleSet) -> "Minimum | None":
        """The session's minimum, or None when the rule is off for it."""
        if not rule_set.has(CALL_CONDITIONS):
            return None
        return cls(
            video_height=int(rule_set.setting("min_video_height", 480)),
            frame_rate=float(rule_set.setting("min_frame_rate", 15)),
            packet_loss_percent=float(rule_set.setting("max_packet_loss_percent", 5.0)),
        )


@dataclass(frozen=True)
class Measurement:
    video_height: int
    frame_rate: float
    packet_loss_percent: float
    rtt_ms: int | None = None

    def as_dict(self) -> dict:
        return {
            "video_height": self.video_height,
            "frame_rate": self.frame_rate,
            "packet_loss_percent": self.packet_loss_percent,
            "rtt_ms": self.rtt_ms,
        }


def _number(value, name: str, low: float, high: float, *, whole: bool = False) -> float:
    # bool is an int in Python: true is not 1 fps.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise MeasurementError(f"{name} must be a number")
    if whole and not float(value).is_integer():
        raise MeasurementError(f"{name} must be a whole number")
    if not low <= value <= high:
        raise MeasurementError(f"{name} must be between {low:g} and {high:g}")
    return value


def measurement_clean(raw: dict) -> Measurement:
    """A browser's report, checked field by field; MeasurementError names the first bad one."""
    rtt = raw.get("rtt_ms")
    return Measurement(
        video_height=int(_number(raw.get("video_height"), "video_height", 0, MAX_VIDEO_HEIGHT, whole=True)),
        frame_rate=round(float(_number(raw.get("frame_rate"), "frame_rate", 0, MAX_FRAME_RATE)), 1),
        packet_loss_percent=round(float(_number(raw.get("packet_loss_percent"), "packet_loss_percent", 0, 100)), 2),
        # The candidate pair may not report a round trip yet.
        rtt_ms=None if rtt is None else int(_number(rtt, "rtt_ms", 0, MAX_RTT_MS, whole=True)),
    )


# --- the evaluation -----------------------------------------------------------


@dataclass(frozen=True)
class Shortfall:
    code: str  # video_height, frame_rate, packet_loss
    measured: float
    minimum: float


def conditions_shortfalls(measurement: Measurement, minimum: Minimum) -> list[Shortfall]:
    """What of ``measurement`` is below ``minimum``; empty when it meets it.
    A value exactly at the minimum meets it."""
    shortfalls = []
    if measurement.video_height < minimum.video_height:
        shortfalls.append(Shortfall("video_height", measurement.video_height, minimum.video_height))
    if measurement.frame_rate < minimum.frame_rate:
        shortfalls.append(Shortfall("frame_rate", measurement.frame_rate, minimum.frame_rate))
    if measurement.packet_loss_percent > minimum.packet_loss_percent:
        shortfalls.append(Shortfall("packet_loss", measurement.packet_loss_percent, minimum.packet_loss_percent))
    return shortfalls


def _figure(value: float, decimals: int | None = None) -> str:
    # "0,1 %" in German: the language's decimal separator, no needless ".0".
    text = f"{value:g}" if decimals is None else f"{value:.{decimals}f}"
    return text.replace(".", get_format("DECIMAL_SEPARATOR"))


def shortfall_text(shortfall: Shortfall) -> str:
    if shortfall.code == "video_height":
        return _("video %(measured)sp (minimum %(minimum)sp)") % {
            "measured": _figure(shortfall.measured),
            "minimum": _figure(shortfall.minimum),
        }
    if shortfall.code == "frame_rate":
        return _("frame rate %(measured)s fps (minimum %(minimum)s fps)") % {
            "measured": _figure(shortfall.measured),
            "minimum": _figure(shortfall.minimum),
        }
    return _("packet loss %(measured)s %% (at most %(minimum)s %%)") % {
        "measured": _figure(shortfall.measured),
        "minimum": _figure(shortfall.minimum),
    }


def measurement_summary(measurement: dict) -> str:
    """'Video 720p · 30 fps · loss 0.1 % · RTT 20 ms' (a cached or audited measurement)."""
    rtt = measurement.get("rtt_ms")
    return _("Video %(height)sp · %(fps)s fps · loss %(loss)s %% · RTT %(rtt)s") % {
        "height": _figure(measurement["video_height"]),
        "fps": _figure(round(measurement["frame_rate"])),
        "loss": _figure(measurement["packet_loss_percent"], 1),
        "rtt": f"{rtt} ms" if rtt is not None else "–",
    }


def below_minimum_text(shortfalls: list[Shortfall]) -> str:
    return _("Call conditions are below the minimum: %(what)s") % {"what": ", ".join(shortfall_text(s) for s in shortfalls)}


# --- the cache: the latest measurement per participant --------------------------


def _cache_key(participant_public_hex: str) -> str:
    return f"call-conditions:{participant_public_hex}"


def call_conditions_latest(participant_public_hex: str) -> dict | None:
    """{"at", "measurement", "met", "shortfalls"} of the latest report, or None."""
    return cache.get(_cache_key(participant_public_hex))


def last_recorded_met(session_id: int, participant_public_hex: str) -> bool | None:
    """Where the last change the database heard of left this participant:
    True (met), False (below), None (never measured below). Asked only when
    the cache has nothing (a new call, a restart, an eviction), so a restart
    neither repeats nor misses a change."""
    action = (
        AuditEvent.objects.filter(
            session_id=session_id, participant__public_id=participant_public_hex, action__in=HISTORY_ACTIONS
        )
        .order_by("-sequence")
        .values_list("action", flat=True)
        .first()
    )
    return None if action is None else action == RESTORED


@dataclass(frozen=True)
class ReportResult:
    met: bool
    shortfalls: list[Shortfall]
    # None: no change to record; else the action to write.
    change: str | None


def call_conditions_remember(
    *,
    participant_public_hex: str,
    measurement: Measurement,
    minimum: Minimum,
    previous_met: bool | None,
    now: float | None = None,
) -> ReportResult:
    """Keep the latest measurement in the cache and say whether it changed
    between met and not met since ``previous_met`` (the cached entry's, else
    ``last_recorded_met``). Cache only: the caller runs it off the database
    thread. Only the operator's socket of the call reports, so the
    read-then-write of one participant's entry has no second writer."""
    now = time.time() if now is None else now
    shortfalls = conditions_shortfalls(measurement, minimum)
    met = not shortfalls
    cache.set(
        _cache_key(participant_public_hex),
        {"at": now, "measurement": measurement.as_dict(), "met": met, "shortfalls": [s.code for s in shortfalls]},
        CACHE_SECONDS,
    )
    # The first measurement of a call is recorded only when it is below the
    # minimum: "met" is what a call is expected to be.
    if met and previous_met is False:
        change = RESTORED
    elif not met and previous_met is not False:
        change = BELOW_MINIMUM
    else:
        change = None
    return ReportResult(met=met, shortfalls=shortfalls, change=change)


def call_conditions_report(
    *, session_id: int, participant_public_hex: str, measurement: Measurement, minimum: Minimum, now: float | None = None
) -> ReportResult:
    """One report, start to end, for a synchronous caller (the socket splits
    it between the cache and the database thread)."""
    latest = call_conditions_latest(participant_public_hex)
    previous_met = latest["met"] if latest is not None else last_recorded_met(session_id, participant_public_hex)
    result = call_conditions_remember(
        participant_public_hex=participant_public_hex,
        measurement=measurement,
        minimum=minimum,
        previous_met=previous_met,
        now=now,
    )
    if result.change is not None:
        call_conditions_change_record(
            session_id=session_id,
            participant_public_hex=participant_public_hex,
            result=result,
            measurement=measurement,
            minimum=minimum,
        )
    return result


def call_conditions_change_record(
    *, session_id: int, participant_public_hex: str, result: ReportResult, measurement: Measurement, minimum: Minimum
) -> None:
    """Write a change between met and not met to the audit trail (the
    conditions history compliance reads)."""
    participant = (
        Participant.objects.select_related("session__business")
        .filter(session_id=session_id, public_id=participant_public_hex)
        .first()
    )
    if participant is None:
        return
    data = {
        "measurement": measurement.as_dict(),
        "minimum": {
            "video_height": minimum.video_height,
            "frame_rate": minimum.frame_rate,
            "packet_loss_percent": minimum.packet_loss_percent,
        },
        "below": [s.code for s in result.shortfalls],
    }
    session = participant.session
    with transaction.atomic():
        if result.change == BELOW_MINIMUM:
            audit_record(
                business=session.business,
                session=session,
                participant=participant,
                actor=Actor.system(),
                action="call_conditions.below_minimum",
                data=data,
            )
        else:
            audit_record(
                business=session.business,
                session=session,
                participant=participant,
                actor=Actor.system(),
                action="call_conditions.restored",
                data=data,
            )


def minimum_for_session(session_id: int) -> Minimum | None:
    session = VerificationSession.objects.only("rule_set").get(pk=session_id)
    return Minimum.of(RuleSet.of(session))


def report_answer(*, participant_peer_id: str, measurement: Measurement, result: ReportResult) -> dict:
    """What the operator's page shows for one participant (in the socket's language)."""
    return {
        "type": "call_conditions",
        "participant": participant_peer_id,
        "met": result.met,
        "summary": measurement_summary(measurement.as_dict()),
        "verdict": _("meets the minimum") if result.met else _("below the minimum"),
        "below": [shortfall_text(s) for s in result.shortfalls],
    }


# --- approval -----------------------------------------------------------------

REQUIREMENT_LABEL = gettext_lazy("Video and connection meet the minimum")


def call_conditions_problem_for_approval(participant: Participant, *, now: float | None = None) -> tuple[bool, str | None]:
    """(applies, problem): whether the rule holds for this participant's
    session, and why approval is refused now (None when it may go ahead)."""
    minimum = Minimum.of(RuleSet.of(participant.session))
    if minimum is None:
        return False, None
    latest = call_conditions_latest(participant.public_id.hex)
    now = time.time() if now is None else now
    if latest is None:
        return True, _("The call conditions have not been measured yet: wait until the panel shows them.")
    if now - latest["at"] > STALE_AFTER_SECONDS:
        return True, _("The last measurement of the call conditions is older than %(seconds)s seconds.") % {
            "seconds": STALE_AFTER_SECONDS
        }
    shortfalls = conditions_shortfalls(Measurement(**latest["measurement"]), minimum)
    if shortfalls:
        return True, below_minimum_text(shortfalls)
    return True, None


# --- compliance -----------------------------------------------------------------


def conditions_history(participant: Participant, events=None) -> list[dict]:
    """The met/not-met changes of one participant's call, oldest first, with
    the figures measured and the minimum at each. ``events`` may be the
    participant's audit events already loaded."""
    if events is None:
        events = participant.audit_events.filter(action__in=HISTORY_ACTIONS).order_by("sequence")
    rows = []
    for event in events:
        if event.action not in HISTORY_ACTIONS:
            continue
        data = event.data or {}
        measurement, minimum = data.get("measurement") or {}, data.get("minimum") or {}
        shortfalls = [
            Shortfall(code, _measured(measurement, code), _minimum(minimum, code)) for code in data.get("below", ())
        ]
        rows.append(
            {
                "at": event.created_at,
                "met": event.action == RESTORED,
                "summary": measurement_summary(measurement) if measurement else "",
                "below": [shortfall_text(s) for s in shortfalls],
            }
        )
    return rows


_FIELDS = {"video_height": "video_height", "frame_rate": "frame_rate", "packet_loss": "packet_loss_percent"}


def _measured(measurement: dict, code: str) -> float:
    return measurement.get(_FIELDS.get(code, code), 0)


def _minimum(minimum: dict, code: str) -> float:
    return minimum.get(_FIELDS.get(code, code), 0)


# --- a new try after an abort for poor conditions ------------------------------------


def aborted_for_poor_conditions(participant: Participant) -> bool:
    # The decision is the console's (operators.models.Decision, a floor up):
    # read through its relation, by the reason's code.
    decision = getattr(participant, "decision", None)
    return decision is not None and decision.reason_code == POOR_CONDITIONS_REASON


def participant_try_again(*, participant: Participant) -> Participant:
    """The customer of a call aborted for poor conditions starts a new try:
    a new session of the same workflow, business reference and return
    address, for this customer alone, which the browser that asks is bound
    to (the caller binds it). Asking again returns the same new participant:
    one new try per abort. The business finds the new session under the same
    reference; the old session's audit trail names it."""
    with transaction.atomic():
        participant = locks.participant_lock(participant.pk)
        if not aborted_for_poor_conditions(participant):
            raise ValidationError(_("Only a call ended because of poor conditions can be tried again this way."))
        existing = Participant.objects.filter(retry_of=participant).select_related("session").first()
        if existing is not None:
            return existing
        old_session = participant.session
        created = session_create(
            business=old_session.business,
            workflow=old_session.workflow,
            kind=VerificationSession.Kind.ONE_ON_ONE,
            # Every field the business gave for the customer, read off
            # ParticipantSpec itself: one left out (the phone under an SMS
            # one-time code) would have session_create refuse the new try.
            participants=[
                ParticipantSpec(**{spec.name: getattr(participant, spec.name) for spec in fields(ParticipantSpec)})
            ],
            business_reference=old_session.business_reference,
            redirect_url=old_session.redirect_url,
            actor=Actor.customer(),
        )
        new_participant = created.links[0][0]
        new_participant.retry_of = participant
        new_participant.save(update_fields=["retry_of"])
        audit_record(
            business=old_session.business,
            session=old_session,
            participant=participant,
            actor=Actor.customer(),
            action="participant.new_try_started",
            data={"session": str(created.session.public_id), "participant": str(new_participant.public_id)},
        )
    return new_participant
