"""What a compliance reviewer reads on the review page: human names for the
steps, checks, audit actions and their outcomes, each result's figures and
each audit event's details as labelled rows, and one convention for times
(absolute, with the zone, plus the offset from the call's start inside the
call). The export keeps the codes and the raw data (operators.compliance.review);
only the page is written for people."""

from __future__ import annotations

from datetime import datetime, timedelta
from numbers import Number

from django.utils import dateformat, timezone
from django.utils.translation import get_language
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Operator
from operators.models import Decision, NegativeListEntry
from operators.services import RECOMMENDATION_LABELS
from sessions_app.models import AuditEvent, CaptureSignal, Evidence, Participant, VerificationSession
from workflows.challenges import CHALLENGE_LABELS
from workflows.check_texts import MRZ_FIELD_LABELS, advice_text, check_status_label, reason_text
from workflows.models import CheckResult, SecurityFeature, StepState
from workflows.steps import (
    DOCUMENT_KIND_LABELS,
    LIVENESS,
    LIVENESS_ACTION_LABELS,
    NOTES,
    QUESTIONS,
    STEP_KIND_LABELS,
    choice_text,
    question_text,
)

# --- times ---------------------------------------------------------------------------------


def format_instant(value: datetime | None) -> str:
    """An absolute time in the configured zone, the zone always named:
    "2026-12-06 20:14:03 UTC", or "2026-12-06 21:14:03 CET (UTC+01:00)"."""
    if value is None:
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    text = dateformat.format(local, "Y-m-d H:i:s T")
    if local.utcoffset() not in (None, timedelta(0)):
        text += f" (UTC{_utc_offset(local)})"
    return text


def _utc_offset(value: datetime) -> str:
    minutes = int(value.utcoffset().total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def format_offset(seconds: float) -> str:
    """An offset from the call's start: "+01:05", "+1:02:03"."""
    whole = int(seconds)
    if whole >= 3600:
        return f"+{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"
    return f"+{whole // 60:02d}:{whole % 60:02d}"


def call_offset(value: datetime | None, *, start: datetime | None, end: datetime | None) -> str:
    """The offset from the call's start of a moment inside the call, else ""
    (before the answer or after the call, an offset says nothing useful)."""
    if value is None or start is None or value < start or (end is not None and value > end):
        return ""
    return format_offset((value - start).total_seconds())


# --- people --------------------------------------------------------------------------------


def person_name(user, *, operator_names: dict[int, str]) -> str:
    """Who a user is, by name: the operator's display name, else the full
    name, else the user name. The role is shown beside it once, by whoever
    calls this; a user name that only repeats the name or a role
    ("Olivia (operator)") adds nothing and is left out."""
    if user is None:
        return ""
    username = user.get_username()
    name = operator_names.get(user.pk) or user.get_full_name() or username
    redundant = {name.casefold(), *(str(label).casefold() for label in AuditEvent.ActorKind.labels),
                 *(value.casefold() for value in AuditEvent.ActorKind.values)}
    if username.casefold() in redundant:
        return name
    return f"{name} ({username})"


def operator_names_for(users) -> dict[int, str]:
    ids = {user.pk for user in users if user is not None}
    return dict(Operator.objects.filter(user_id__in=ids).values_list("user_id", "display_name"))


# --- labels --------------------------------------------------------------------------------

ACTION_LABELS = {
    "integrity.reported": _("Capture integrity reported"),
    "session.created": _("Session created"),
    "questions.drawn": _("Questions drawn from the question bank"),
    "session.transition": _("Session state changed"),
    "session.erased": _("Personal data erased"),
    "participant.transition": _("Participant state changed"),
    "participant.link_emailed": _("Link e-mailed"),
    "participant.recording_consented": _("Customer agreed to the recording"),
    "participant.recording_declined": _("Customer did not agree to the recording"),
    "participant.location_shared": _("Customer shared their live location"),
    "booking.scheduled": _("Call booked"),
    "booking.rescheduled": _("Booked call moved"),
    "booking.cancelled": _("Booking cancelled"),
    "booking.no_show": _("Customer did not come to the booked call"),
    "booking.reminder_sent": _("Booking reminder e-mailed"),
    "participant.link_reissued": _("Link reissued"),
    "participant.link_revoked": _("Link revoked"),
    "step.transition": _("Step state changed"),
    "capture.requested": _("Capture requested"),
    "evidence.stored": _("Capture stored"),
    "evidence.viewed": _("Capture viewed"),
    "check.recorded": _("Automated check recorded"),
    "checks.completed": _("Automated checks completed"),
    "question.answered": _("Question answered"),
    "question.answered_by_customer": _("Question answered by the customer in the frame"),
    "one_time_code.sent": _("One-time code sent to the customer"),
    "one_time_code.not_delivered": _("One-time code could not be delivered"),
    "one_time_code.wrong": _("Wrong one-time code entered"),
    "one_time_code.locked": _("One-time code locked after too many wrong entries"),
    "one_time_code.expired": _("Expired one-time code entered"),
    "one_time_code.confirmed": _("One-time code confirmed by the customer"),
    "prompt.shown": _("Prompt shown to the customer"),
    "prompt.cleared": _("Prompt cleared"),
    "prompt.confirmed": _("Prompt confirmed by the customer's page"),
    "challenge.requested": _("Challenge asked of the customer"),
    "security_features.chosen": _("Document security features drawn"),
    "security_feature.checked": _("Document security feature ticked"),
    "session.flagged": _("Flagged as suspected fraud"),
    "session.flag_cleared": _("Fraud flag cleared"),
    "negative_list.face_copied": _("Face copied to the negative list"),
    "decision.recorded": _("Decision recorded"),
    "call_conditions.below_minimum": _("Call conditions fell below the minimum"),
    "call_conditions.restored": _("Call conditions met the minimum again"),
    "participant.new_try_started": _("Customer started a new try after poor conditions"),
    "decision.reviewed": _("Decision reviewed (four eyes)"),
    "recording.started": _("Recording started"),
    "recording.finished": _("Recording finished"),
    "recording.segment_stored": _("Recording segment stored"),
    "recording.composed": _("Recording composed"),
    "recording.compose_failed": _("Recording could not be composed"),
    "recording.viewed": _("Recording viewed"),
    "compliance.session_reviewed": _("Reviewed by compliance"),
    "compliance.session_exported": _("Exported by compliance"),
    "compliance.record_viewed": _("Record viewed by compliance"),
    "compliance.evidence_viewed": _("Capture viewed by compliance"),
    "compliance.list_viewed": _("List viewed by compliance"),
    "api_key.created": _("API key created"),
    "api_key.revoked": _("API key revoked"),
    "webhook_secret.rotated": _("Webhook signing secret rotated"),
}

# The keys of audit events' and check results' details.
DETAIL_LABELS = {
    "from": _("From"),
    "to": _("To"),
    "kind": _("Kind"),
    "step": _("Step"),
    "participants": _("Participants"),
    "workflow": _("Workflow (record number)"),
    "reason": _("Reason"),
    "outcome": _("Outcome"),
    "reason_code": _("Reason"),
    "shared": _("Shared with the customer"),
    "decision": _("Decision (record number)"),
    "recommendation": _("System recommendation"),
    "overrides_recommendation": _("Overrides the recommendation"),
    "comment": _("Comment"),
    "evidence": _("Capture"),
    "capture": _("Capture request"),
    "source": _("Source"),
    "label": _("Label"),
    "frame": _("Frame"),
    "size": _("Size (bytes)"),
    "check": _("Check result"),
    "status": _("Status"),
    "engine": _("Engine"),
    "engine_version": _("Engine version"),
    "question": _("Question"),
    "terms_version": _("Terms version"),
    "terms_language": _("Language of the terms text"),
    "prompt": _("Prompt"),
    "challenge": _("Challenge"),
    "interrupted": _("Instruction it interrupted"),
    "recording": _("Recording"),
    "stream": _("Stream"),
    "segment": _("Segment"),
    "chunks": _("Chunks"),
    "duration_seconds": _("Duration (s)"),
    "width": _("Width"),
    "height": _("Height"),
    "streams": _("Streams"),
    "segments": _("Segments"),
    "error": _("Error"),
    "model": _("Record type"),
    "object": _("Record"),
    "searched": _("Searched"),
    "retention_days": _("Retention (days)"),
    "operator": _("Operator (record number)"),
    # check results
    "threshold": _("Threshold"),
    "distance": _("Distance"),
    "live_faces": _("Faces in the live capture"),
    "document_faces": _("Faces on the document"),
    "liveness_frames": _("Liveness frames"),
    "actions": _("Actions"),
    "action": _("Action"),
    "mirrored": _("Mirrored"),
    "capture_kind": _("Capture"),
    "sharpness": _("Sharpness"),
    "brightness": _("Brightness"),
    "glare_share": _("Glare share"),
    "age": _("Age"),
    "name_match": _("Name match"),
    "birth_date_match": _("Date of birth matches"),
    "ocr_confidence": _("OCR confidence"),
    "fields": _("Fields read"),
    "layout": _("Layout"),
    **MRZ_FIELD_LABELS,
    "check_digits": _("Check digits"),
    "name_uncertain": _("Name uncertain"),
    "lines": _("Lines"),
    "raw_lines": _("Lines as read"),
    "optional_data": _("Optional data"),
    "repairs": _("Repairs"),
    "ambiguous": _("Ambiguous characters"),
    "rotation": _("Rotation"),
    "text_seen": _("Text seen"),
    "exception": _("Exception"),
    "reasons": _("Reasons"),
    "code": _("Code"),
    "message": _("Message"),
    "advice": _("Retake advice"),
}

_STATE_LABELS = {
    "session.transition": dict(VerificationSession.State.choices),
    "participant.transition": dict(Participant.State.choices),
    "step.transition": dict(StepState.State.choices),
}
_KIND_LABELS = {
    "session.created": dict(VerificationSession.Kind.choices),
    "step.transition": STEP_KIND_LABELS,
    "check.recorded": dict(CheckResult.Kind.choices),
}
_VALUE_LABELS = {
    "outcome": dict(Decision.Outcome.choices),
    "reason_code": dict(Decision.Reason.choices),
    "status": dict(CheckResult.Status.choices),
    "source": dict(Evidence.Source.choices),
    "recommendation": RECOMMENDATION_LABELS,
    "action": LIVENESS_ACTION_LABELS,
    "challenge": CHALLENGE_LABELS,
    "capture_kind": {"document": _("Document"), "face": _("Face")},
}


# What the customer was asked to do (sessions_app.signaling.PROMPT_CODES).
PROMPT_LABELS = {
    **LIVENESS_ACTION_LABELS,
    "document_front": _("Show the document's front"),
    "document_back": _("Show the document's back"),
    "look_at_camera": _("Look at the camera"),
    "hold_still": _("Hold still"),
    "question": _("Answer a question"),
    "tilt_document": _("Tilt the document"),
    **CHALLENGE_LABELS,
}


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    if label is not None:
        return str(label)
    return action.replace(".", " ").replace("_", " ").capitalize()


def detail_label(key: str) -> str:
    label = DETAIL_LABELS.get(key)
    return str(label) if label is not None else str(key).replace("_", " ").capitalize()


def _value_label(key: str, value, *, action: str = "") -> str | None:
    """A code's human name, where the key says what the code is."""
    if not isinstance(value, str):
        return None
    if key in ("from", "to"):
        labels = _STATE_LABELS.get(action, {})
    elif key == "kind":
        labels = _KIND_LABELS.get(action, dict(Evidence.Kind.choices))
    elif key in ("prompt", "interrupted"):
        labels = PROMPT_LABELS
    else:
        labels = _VALUE_LABELS.get(key, {})
    label = labels.get(value)
    return str(label) if label is not None else None


def format_value(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:.0f}"
    if isinstance(value, Number):
        return str(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(format_value(item) for item in value) if value else "—"
    return str(value)


_DETAIL_ORDER = {key: position for position, key in enumerate(DETAIL_LABELS)}


def _reading_order(item) -> tuple:
    # PostgreSQL's jsonb keeps no key order ("to" came before "from"): the
    # rows follow DETAIL_LABELS, the rest by name.
    return (_DETAIL_ORDER.get(item[0], len(_DETAIL_ORDER)), str(item[0]))


def labelled_rows(data, *, action: str = "", prefix: str = "") -> list[tuple[str, str]]:
    """(label, value) rows of a JSON object, nested objects and lists of
    objects flattened into "Parent › Child" labels: never a dict's repr."""
    rows: list[tuple[str, str]] = []
    if not isinstance(data, dict):
        return [(prefix or gettext("Value"), format_value(data))] if data not in (None, {}, []) else []
    for key, value in sorted(data.items(), key=_reading_order):
        label = f"{prefix} › {detail_label(key)}" if prefix else detail_label(key)
        if isinstance(value, dict):
            rows += labelled_rows(value, action=action, prefix=label)
        elif isinstance(value, list) and any(isinstance(item, dict) for item in value):
            for number, item in enumerate(value, start=1):
                rows += labelled_rows(item, action=action, prefix=f"{label} {number}")
        else:
            if key in ("step", "question") and action and isinstance(value, int) and not isinstance(value, bool):
                value = value + 1  # positions count from 0; people count from 1
            rows.append((label, _value_label(key, value, action=action) or format_value(value)))
    return rows


# --- the page's sections -------------------------------------------------------------------


def _actions(codes) -> str:
    return ", ".join(str(LIVENESS_ACTION_LABELS.get(code, code)) for code in codes or []) or "—"


def _answer_words(step: StepState, index: int, note: str | None, given: dict | None) -> str:
    """A question's answer: what the operator recorded, and what the customer
    typed or chose in their frame where the question asked them to."""
    if not given:
        return note or gettext("(not answered)")
    if "choice" in given:
        said = choice_text(step.config, index, given["choice"], language=get_language()).text
    else:
        said = given.get("text", "")
    parts = [gettext("The customer answered: %(answer)s") % {"answer": said}]
    if note:
        parts.append(gettext("Note: %(note)s") % {"note": note})
    return " · ".join(parts)


def step_data_rows(step: StepState) -> list[tuple[str, str]]:
    """What a step recorded, in its own words: a question and its answer,
    the liveness actions asked for, the operator's notes."""
    data = dict(step.data or {})
    rows = []
    if step.kind == LIVENESS:
        if "challenge" in data:
            rows.append((gettext("Actions asked for"), _actions(data.pop("challenge"))))
        if "captured" in data:
            rows.append((gettext("Actions captured"), _actions(data.pop("captured"))))
        data.pop("action_index", None)
    elif step.kind == QUESTIONS:
        questions = step.config.get("questions", [])
        answers = data.pop("answers", {}) or {}
        from_customer = data.pop("customer_answers", {}) or {}
        for index in data.pop("question_order", None) or range(len(questions)):
            if 0 <= index < len(questions):
                question = question_text(step.config, index, language=get_language()).text
                rows.append((question, _answer_words(step, index, answers.get(str(index)), from_customer.get(str(index)))))
    elif step.kind == NOTES and "text" in data:
        rows.append((gettext("Notes"), data.pop("text") or "—"))
    return rows + labelled_rows(data)


def step_rows(steps: list[StepState], *, start, end) -> list[dict]:
    return [
        {
            "position": step.position + 1,
            "name": str(STEP_KIND_LABELS.get(step.kind, step.kind)),
            "state": step.get_state_display(),
            "started": format_instant(step.started_at),
            "started_offset": call_offset(step.started_at, start=start, end=end),
            "finished": format_instant(step.finished_at),
            "finished_offset": call_offset(step.finished_at, start=start, end=end),
            "data": step_data_rows(step),
        }
        for step in steps
    ]


def check_figures(check: dict) -> list[tuple[str, str]]:
    """A result's figures, each a labelled row that says what it means:
    "Face match distance 0.12 (threshold 0.6; a match is below it)"."""
    details = check.get("details") or {}
    kind = check.get("kind")
    figures = []
    if check.get("score") is not None:
        figures.append((gettext("Score"), format_value(float(check["score"]))))
    if kind == CheckResult.Kind.FACE_MATCH and details.get("distance") is not None:
        figures.append((
            gettext("Face distance"),
            gettext("%(distance)s (threshold %(threshold)s; the faces match below it)")
            % {"distance": format_value(float(details["distance"])),
               "threshold": format_value(float(details.get("threshold", 0)))},
        ))
    elif kind == CheckResult.Kind.QUALITY and "sharpness" in details:
        figures.append((gettext("Size"), f"{details.get('width')} × {details.get('height')} px"))
        for key in ("sharpness", "brightness", "glare_share"):
            if key in details:
                figures.append((detail_label(key), format_value(details[key])))
    elif kind == CheckResult.Kind.MRZ:
        fields = details.get("fields") if isinstance(details.get("fields"), dict) else {}
        name = " ".join(part for part in (fields.get("given_names"), fields.get("surname")) if part)
        for label, value in (
            (gettext("Document number"), fields.get("document_number")),
            (gettext("Name"), name),
            (gettext("Nationality"), fields.get("nationality")),
            (gettext("Date of birth"), fields.get("birth_date")),
            (gettext("Expires"), fields.get("expiry_date")),
        ):
            if value:
                figures.append((label, str(value)))
        for key in ("ocr_confidence", "age", "name_match", "birth_date_match"):
            if key in details:
                figures.append((detail_label(key), format_value(details[key])))
    elif kind == CheckResult.Kind.LIVENESS:
        for action in details.get("actions", []):
            if isinstance(action, dict):
                name = action.get("action", "")
                figures.append((
                    str(LIVENESS_ACTION_LABELS.get(name, str(name).replace("_", " "))),
                    str(dict(CheckResult.Status.choices).get(action.get("status"), action.get("status", ""))),
                ))
    return figures


def check_rows(checks: list[dict]) -> list[dict]:
    """The results as check_result_summary gives them, with what a reviewer
    reads added: figures, every stored detail as labelled rows, the time."""
    rows = []
    for check in checks:
        details = dict(check.get("details") or {})
        reasons = details.pop("reasons", [])
        evidence = check["evidence"]
        rows.append(
            {
                **check,
                "figures": check_figures(check),
                "detail_rows": labelled_rows(details),
                "reasons": [
                    {**reason, "message": reason_text(reason), "advice": advice_text(reason.get("advice", ""))}
                    for reason in reasons
                    if isinstance(reason, dict)
                ],
                "evidence_kind": str(dict(Evidence.Kind.choices).get(evidence["kind"], evidence["kind"])),
                "evidence_source": str(dict(Evidence.Source.choices).get(evidence["source"], evidence["source"])),
                "at": format_instant(datetime.fromisoformat(check["created_at"])),
            }
        )
    return rows


def recommendation_display(recommendation: dict) -> dict:
    return {
        **recommendation,
        "decision_label": str(RECOMMENDATION_LABELS.get(recommendation["decision"], recommendation["decision"])),
        "reasons": [
            {
                **reason,
                "kind_label": str(dict(CheckResult.Kind.choices).get(reason["kind"], reason["kind"])),
                "status_label": check_status_label(reason["status"]),
            }
            for reason in recommendation.get("reasons", [])
        ],
    }


def timeline_rows(events: list[AuditEvent], *, start, end) -> list[dict]:
    names = operator_names_for(event.actor_user for event in events)
    return [
        {
            "sequence": event.sequence,
            "at": format_instant(event.created_at),
            "offset": call_offset(event.created_at, start=start, end=end),
            "role": event.get_actor_kind_display(),
            "person": person_name(event.actor_user, operator_names=names),
            "action": action_label(event.action),
            "participant": event.participant.position + 1 if event.participant else None,
            "details": labelled_rows(event.data, action=event.action),
        }
        for event in events
    ]


INTEGRITY_LEVEL_LABELS = {
    "none": _("No warning signs"),
    "low": _("Low risk"),
    "elevated": _("Elevated risk"),
    "high": _("High risk"),
}
INTEGRITY_STRENGTH_LABELS = {"note": _("note"), "weak": _("weak sign"), "medium": _("medium sign"), "strong": _("strong sign")}


def integrity_display(panel: dict) -> dict:
    """The capture-integrity panel as the review page words it."""
    phases = dict(CaptureSignal.Phase.choices)
    return {
        **panel,
        "level_label": str(INTEGRITY_LEVEL_LABELS.get(panel["level"], panel["level"])),
        "signals": [
            {
                **signal,
                "strength_label": str(
                    INTEGRITY_STRENGTH_LABELS["note" if signal["weight"] == 0 else signal["strength"]]
                ),
                "phase_label": str(phases.get(signal["phase"], signal["phase"])),
            }
            for signal in panel["signals"]
        ],
    }


MATCH_LABELS = {
    "document": _("document number"),
    "name_birth_date": _("name and date of birth"),
    "face": _("face"),
}


def seen_before_display(seen: dict | None) -> dict | None:
    """operators.repeat_applicants.seen_before_for's codes in words."""
    if seen is None:
        return None
    outcomes, reasons = dict(Decision.Outcome.choices), dict(Decision.Reason.choices)
    kinds = dict(NegativeListEntry.Kind.choices)
    return {
        **seen,
        "sessions": [
            {
                **other,
                "matched_label": ", ".join(str(MATCH_LABELS.get(field, field)) for field in other["matched"]),
                "outcome_label": (
                    gettext("%(outcome)s, awaiting review") % {"outcome": outcomes[other["outcome"]]}
                    if other.get("awaiting_review") and other["outcome"] in outcomes
                    else outcomes.get(other["outcome"], "")
                ),
                "reason_label": reasons.get(other["reason"], ""),
            }
            for other in seen["sessions"]
        ],
        "negative_list": [{**hit, "kind_label": kinds.get(hit["kind"], hit["kind"])} for hit in seen["negative_list"]],
    }


# What an evidence's label names, by its kind.
_EVIDENCE_LABELS = {
    Evidence.Kind.LIVENESS_FRAME: LIVENESS_ACTION_LABELS,
    Evidence.Kind.CHALLENGE_FRAME: CHALLENGE_LABELS,
}


def evidence_label(evidence: Evidence) -> str:
    """The liveness action or challenge a capture answered, in words."""
    label = _EVIDENCE_LABELS.get(evidence.kind, {}).get(evidence.label)
    return str(label) if label is not None else evidence.label


def security_feature_rows(checks, *, start, end, names: dict[int, str]) -> list[dict]:
    """Each security feature drawn for the call, and when and on which frame it was ticked."""
    categories = dict(SecurityFeature.Category.choices)
    return [
        {
            "name": str(check.feature),
            "category": str(categories.get(check.category, check.category)),
            "document": str(DOCUMENT_KIND_LABELS.get(check.document_kind, check.document_kind)),
            "checked": check.checked,
            "checked_at": format_instant(check.checked_at),
            "checked_offset": call_offset(check.checked_at, start=start, end=end),
            "checked_by": (
                person_name(check.checked_by.user, operator_names=names) if check.checked_by and check.checked else ""
            ),
            "evidence": check.evidence if check.evidence and not check.evidence.erased_at and check.evidence.file else None,
        }
        for check in checks
    ]


def review_page(review: dict, *, call_start: datetime | None) -> dict:
    """operators.compliance.review.session_review's data with what the page
    shows for it. ``call_start`` is the call's time 0 (the recording's, when
    there is one, so the page's offsets are the player's)."""
    session = review["session"]
    end = session.ended_at
    decided_by = [entry["decision"].operator.user for entry in review["participants"] if entry["decision"]]
    names = operator_names_for([*decided_by, session.operator.user if session.operator else None])
    participants = []
    for entry in review["participants"]:
        decision = entry["decision"]
        features = {check.public_id.hex: check for check in entry.get("security_features", [])}
        for evidence in entry["evidence"]:
            evidence.label_display = evidence_label(evidence)
            if evidence.kind == Evidence.Kind.SECURITY_FEATURE and evidence.label in features:
                evidence.label_display = str(features[evidence.label].feature)
        participants.append(
            {
                **entry,
                "step_rows": step_rows(entry["steps"], start=call_start, end=end),
                "check_rows": check_rows(entry["check_results"]),
                "seen_before": seen_before_display(entry.get("seen_before")),
                "recommendation": recommendation_display(entry["recommendation"]),
                "integrity": integrity_display(entry["integrity"]),
                "conditions_rows": [
                    {**row, "when": format_instant(row["at"]), "offset": call_offset(row["at"], start=call_start, end=end)}
                    for row in entry.get("conditions_history", ())
                ],
                "security_feature_rows": security_feature_rows(
                    entry.get("security_features", []), start=call_start, end=end, names=names
                ),
                "decided_by": person_name(decision.operator.user, operator_names=names) if decision else "",
                "decided_at": format_instant(decision.created_at) if decision else "",
                # The four-eyes review (operators.reviews), when the decision was provisional.
                "review": (four_eyes := decision.review_or_none if decision else None),
                "reviewed_by": person_name(four_eyes.reviewer, operator_names=names) if four_eyes else "",
                "reviewed_at": format_instant(four_eyes.created_at) if four_eyes else "",
            }
        )
    return {
        **review,
        "participants": participants,
        "call_start": format_instant(call_start),
        "operator_name": person_name(session.operator.user, operator_names=names) if session.operator else "",
        "timeline_rows": timeline_rows(review["timeline"], start=call_start, end=end),
    }
