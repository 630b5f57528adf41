"""Reads of a participant's workflow for the call's pages: what the
customer's page should capture now, and the steps, captures and checks the
operator's panel shows. Added to the call's state through
sessions_app.selectors.call_state_extend (WorkflowsConfig.ready)."""

from django.urls import reverse

from kyc.texts import texts_by_language
from sessions_app.models import Evidence, Participant
from workflows.check_selectors import participant_checks
from workflows.models import CaptureRequest
from workflows.security_features import security_features_minimum, tilt_prompt_shown
from workflows.services import capture_frames_expected


def pending_capture_for_customer(participant: Participant) -> dict | None:
    """The capture the customer's page should take now, if any: the newest
    request not yet answered from the customer's own camera."""
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


def participant_state_for_customer(participant: Participant) -> dict:
    return {"capture": pending_capture_for_customer(participant)}


def participant_state_for_operator(participant: Participant) -> dict:
    # The automated checks' results ride on the operator's state: a stored
    # result marks the session changed (workflows.check_services.
    # check_result_store), like any other change.
    return {
        "steps": [
            {"position": s.position, "kind": s.kind, "state": s.state, "config": s.config, "data": s.data}
            for s in participant.steps.all()
        ],
        "capture": pending_capture_for_customer(participant),
        "checks": participant_checks(participant),
        "security_features": security_features_for_operator(participant),
    }


def security_features_for_operator(participant: Participant) -> dict | None:
    """The features drawn for the call, with their names and what to look
    for in every language (the console picks its own), and whether the
    customer's page has shown the tilt prompt (ticks wait for it). None when
    the call's rule set does not check security features."""
    minimum = security_features_minimum(participant)
    if minimum is None:
        return None
    checks = list(
        participant.security_feature_checks.filter(current=True).select_related("feature", "evidence").order_by("position")
    )
    return {
        "minimum": minimum,
        "document_kind": checks[0].document_kind if checks else None,
        "tilt_shown": tilt_prompt_shown(participant),
        "features": [
            {
                "id": check.public_id.hex,
                "category": check.category,
                "name": texts_by_language(check.feature.name, default_language="en"),
                "instruction": texts_by_language(check.feature.instruction, default_language="en"),
                "checked": check.checked,
                "pending": bool(check.capture_id and not check.checked_at),
                "checked_at": check.checked_at.isoformat() if check.checked_at else None,
                "offset_seconds": check.offset_seconds,
                "evidence_url": (
                    reverse("operators:evidence", args=[check.evidence.public_id.hex]) if check.evidence else None
                ),
            }
            for check in checks
        ],
    }
