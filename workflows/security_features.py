"""Document security features checked while the customer tilts the document
(kyc.regulations.SECURITY_FEATURES; BaFin 3/2017 B.III.2: at least three
features of different categories, chosen at random for each call).

In a participant's document step the operator says which document the
customer holds; ``security_features_choose`` draws the session's minimum of
features from the catalogue (workflows.SecurityFeature), one per category.
The operator asks the customer to tilt the document (the ``tilt_document``
prompt, through the ordinary prompt mechanism) and ticks each feature they
see: ``security_feature_tick`` asks for a still through the capture path and
the first frame stored for it (``security_feature_frame_stored``, a receiver
of workflows.events.evidence_stored) binds the tick to that frame and to the
time in the call. An approval needs the minimum ticked
(``security_features_progress``, read by operators.approval_gates).
"""

import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kyc.ids import uuid_or_none
from kyc.regulations import SECURITY_FEATURES, RuleSet
from sessions_app.audit import Actor, audit_record
from sessions_app.changes import session_mark_changed
from sessions_app.models import AuditEvent, Evidence, Participant
from workflows import steps as kinds
from workflows.models import CaptureRequest, SecurityFeature, SecurityFeatureCheck, StepState
from workflows.services import _locked_step_in_call, capture_request_create

# The prompt code that asks the customer to tilt the document
# (sessions_app.signaling.PROMPT_CODES; its words in sessions_app.ui_strings).
TILT_PROMPT = "tilt_document"
DEFAULT_MINIMUM = 3

# An unpredictable draw: a customer who knew which features come up could
# prepare a forgery good at exactly those.
_random = secrets.SystemRandom()


def security_features_minimum(participant: Participant) -> int | None:
    """How many features this participant's call must check, or None when
    its rule set does not ask for security features."""
    rules = RuleSet.of(participant.session)
    if not rules.has(SECURITY_FEATURES):
        return None
    return int(rules.setting("security_features_minimum") or DEFAULT_MINIMUM)


def _draw(business, document_kind: str, minimum: int) -> list[SecurityFeature]:
    """``minimum`` features of different categories, in random order. In each
    category the business's own entries are drawn from, else the defaults."""
    pools: dict[str, dict[bool, list]] = {}
    for feature in SecurityFeature.objects.available_to(business).filter(active=True, document_kind=document_kind):
        pools.setdefault(feature.category, {True: [], False: []})[feature.business_id is not None].append(feature)
    categories = [category for category in SecurityFeature.Category.values if category in pools]
    if len(categories) < minimum:
        raise ValidationError(
            _(
                "The catalogue has security features of %(found)s categories for %(document)s; this call needs "
                "%(minimum)s of different categories. An administrator can add them under Document security features."
            )
            % {
                "found": len(categories),
                "document": kinds.DOCUMENT_KIND_LABELS.get(document_kind, document_kind),
                "minimum": minimum,
            },
            code="not_enough_features",
        )
    return [_random.choice(pools[c][True] or pools[c][False]) for c in _random.sample(categories, minimum)]


def security_features_choose(*, step: StepState, operator, document_kind: str) -> list[SecurityFeatureCheck]:
    """Draw the participant's features for the document the operator says
    the customer holds. Each document is drawn once per participant, for good:
    asked again for it, even after another document, it returns the same
    features (an operator must not redraw until easy ones come up, also not
    by switching document and back). Another document, before any tick,
    becomes the current one; the draws of the others are kept, not current."""
    actor = Actor.operator(operator)
    with transaction.atomic():
        step = _locked_step_in_call(step, operator)
        participant = step.participant
        if step.kind != kinds.DOCUMENT:
            raise ValidationError(_("Security features are checked in the document step."), code="not_document_step")
        minimum = security_features_minimum(participant)
        if minimum is None:
            raise ValidationError(_("This call does not check security features."), code="not_required")
        if document_kind not in (step.config.get("document_kinds") or []):
            raise ValidationError(_("This workflow does not accept that document."), code="unknown_document")
        drawn = list(participant.security_feature_checks.order_by("document_kind", "position"))
        current = [check for check in drawn if check.current]
        if current and current[0].document_kind == document_kind:
            return current
        if any(check.checked_at for check in current):
            raise ValidationError(
                _("Features of another document were already ticked in this call."), code="already_checked"
            )
        checks = [check for check in drawn if check.document_kind == document_kind]
        if not checks:
            features = _draw(participant.session.business, document_kind, minimum)
            now = timezone.now()
            checks = SecurityFeatureCheck.objects.bulk_create(
                SecurityFeatureCheck(
                    participant=participant,
                    feature=feature,
                    document_kind=document_kind,
                    category=feature.category,
                    position=position,
                    chosen_at=now,
                    current=False,  # made current below, with a document drawn before
                )
                for position, feature in enumerate(features)
            )
        SecurityFeatureCheck.objects.filter(participant=participant).exclude(document_kind=document_kind).update(
            current=False
        )
        SecurityFeatureCheck.objects.filter(participant=participant, document_kind=document_kind).update(current=True)
        for check in checks:
            check.current = True
        audit_record(
            business=participant.session.business,
            session=participant.session,
            participant=participant,
            actor=actor,
            action="security_features.chosen",
            data={
                "document_kind": document_kind,
                "redrawn": bool(current),
                "features": [
                    {"check": str(check.public_id), "feature": check.feature_id, "category": check.category}
                    for check in checks
                ],
            },
        )
        session_mark_changed(participant.session)
    return checks


def tilt_prompt_shown(participant: Participant) -> bool:
    """Whether the customer's page confirmed showing the tilt prompt since
    the current features were drawn: a tick must follow the customer tilting
    for these features, not a tilt shown before anyone knew which ones to
    look for. False before any draw."""
    drawn_at = (
        participant.security_feature_checks.filter(current=True)
        .order_by("chosen_at")
        .values_list("chosen_at", flat=True)
        .first()
    )
    if drawn_at is None:
        return False
    return AuditEvent.objects.filter(
        participant=participant, action="prompt.confirmed", data__prompt=TILT_PROMPT, created_at__gte=drawn_at
    ).exists()


def security_feature_tick(*, step: StepState, operator, check_id: str) -> CaptureRequest:
    """The operator sees the feature: a still is asked for through the
    capture path (the customer's full-resolution frame and the one the
    operator's page received), and the first one stored binds the tick
    (``security_feature_frame_stored``). Refused for a feature of another
    participant, one already ticked, and before the customer's page showed
    the tilt prompt."""
    with transaction.atomic():
        step = _locked_step_in_call(step, operator)
        participant = step.participant
        check = (
            SecurityFeatureCheck.objects.select_for_update()
            .filter(public_id=uuid_or_none(check_id), participant=participant, current=True)
            .first()
        )
        if check is None:
            raise ValidationError(_("No such security feature in this call."), code="unknown_feature")
        if check.checked_at:
            raise ValidationError(_("That security feature is already ticked."), code="already_checked")
        if not tilt_prompt_shown(participant):
            raise ValidationError(
                _("Ask the customer to tilt the document first: a feature is ticked while they tilt it."),
                code="tilt_first",
            )
        capture = capture_request_create(step=step, operator=operator, kind=Evidence.Kind.SECURITY_FEATURE)
        capture.label = check.public_id.hex
        capture.save(update_fields=["label"])
        check.capture = capture
        check.checked_by = operator
        check.save(update_fields=["capture", "checked_by"])
    return capture


def security_feature_frame_stored(sender, *, capture: CaptureRequest, evidence: Evidence, **kwargs) -> None:
    """A frame of a tick's capture is stored (in evidence_store_image's
    transaction): the first binds the tick; a customer's full-resolution frame
    arriving after the operator's replaces it as the tick's evidence."""
    if capture.kind != Evidence.Kind.SECURITY_FEATURE:
        return
    check = SecurityFeatureCheck.objects.select_for_update().filter(capture=capture).first()
    if check is None:
        return
    if check.checked_at is None:
        session = evidence.session
        check.checked_at = evidence.created_at or timezone.now()
        check.evidence = evidence
        check.offset_seconds = (
            round((check.checked_at - session.answered_at).total_seconds(), 1) if session.answered_at else None
        )
        check.save(update_fields=["checked_at", "evidence", "offset_seconds"])
        audit_record(
            business=session.business,
            session=session,
            participant=evidence.participant,
            actor=Actor.operator(check.checked_by) if check.checked_by else Actor.system(),
            action="security_feature.checked",
            data={
                "check": str(check.public_id),
                "feature": check.feature_id,
                "category": check.category,
                "evidence": str(evidence.public_id),
                "offset_seconds": check.offset_seconds,
            },
        )
    elif (
        evidence.source == Evidence.Source.CUSTOMER_DEVICE
        and check.evidence_id
        and Evidence.objects.filter(pk=check.evidence_id, source=Evidence.Source.OPERATOR_VIEW).exists()
    ):
        check.evidence = evidence
        check.save(update_fields=["evidence"])


@dataclass(frozen=True)
class SecurityFeaturesProgress:
    checked: int
    required: int

    @property
    def met(self) -> bool:
        return self.checked >= self.required


def security_features_progress(participant: Participant) -> SecurityFeaturesProgress | None:
    """Ticked features against the minimum, or None when the call does not check any."""
    minimum = security_features_minimum(participant)
    if minimum is None:
        return None
    checked = SecurityFeatureCheck.objects.filter(
        participant=participant, current=True, checked_at__isnull=False, evidence__isnull=False
    ).count()
    return SecurityFeaturesProgress(checked=checked, required=minimum)

