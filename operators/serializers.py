"""What the integration API reads and answers (operators.api)."""

from datetime import date, timedelta

from django.conf import settings
from rest_framework import serializers

from accounts.models import Operator
from kyc.regulations import RuleSet
from sessions_app.models import Booking, Participant, VerificationSession, phone_validator
from sessions_app.one_time_code_destinations import mask_phone, one_time_code_destinations_missing
from workflows.check_selectors import participant_checks
from workflows.models import CheckResult, StepState, WorkflowTemplate

MAX_LINK_TTL_HOURS = 30 * 24


# --- input ---------------------------------------------------------------------------


class ParticipantInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, help_text="The customer's full name, shown to the operator.")
    email = serializers.EmailField(
        required=False, allow_blank=True, default="", help_text="Needed when the links are e-mailed."
    )
    phone = serializers.CharField(
        max_length=16,
        required=False,
        allow_blank=True,
        default="",
        validators=[phone_validator],
        help_text=(
            "The customer's mobile number in international form (E.164, e.g. +4915112345678): needed when the "
            "workflow sends the one-time code at the end of the call by SMS."
        ),
    )
    business_reference = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="", help_text="Your own id of this customer."
    )
    language = serializers.ChoiceField(
        choices=[code for code, _name in settings.LANGUAGES],
        required=False,
        allow_blank=True,
        default="",
        help_text="The customer's language for the e-mail and the call page; empty: the browser's.",
    )
    date_of_birth = serializers.DateField(required=False, allow_null=True, default=None)

    def validate_name(self, value):
        if not value.strip():
            raise serializers.ValidationError("This field may not be blank.")
        return value.strip()

    def validate_date_of_birth(self, value):
        if value is not None and not (date(1900, 1, 1) <= value <= date.today()):
            raise serializers.ValidationError("Enter a date of birth between 1900 and today.")
        return value


class SessionCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=VerificationSession.Kind.choices,
        required=False,
        help_text="one_on_one (one participant) or multi_user (2 or more). Default: from the number of participants.",
    )
    workflow = serializers.IntegerField(min_value=1, help_text="The id of one of your workflow templates.")
    participants = ParticipantInputSerializer(many=True, allow_empty=False)
    business_reference = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    redirect_url = serializers.URLField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text="Where the customer's page sends them when the session is over.",
    )
    link_ttl_hours = serializers.IntegerField(
        min_value=1,
        max_value=MAX_LINK_TTL_HOURS,
        required=False,
        default=None,
        allow_null=True,
        help_text="How long the links are valid. Default: the installation's LINK_DEFAULT_TTL_HOURS.",
    )
    send_links = serializers.BooleanField(
        required=False, default=False, help_text="E-mail each participant their link (each needs an e-mail)."
    )
    scheduled_for = serializers.DateTimeField(
        required=False,
        default=None,
        allow_null=True,
        help_text=(
            "Book the call for this time (ISO 8601 with its offset): one of the free slots that "
            "GET /api/v1/slots lists. One-on-one sessions only. The customer gets a calendar invitation by e-mail."
        ),
    )
    operator = serializers.IntegerField(
        required=False,
        default=None,
        allow_null=True,
        min_value=1,
        help_text="With scheduled_for: book the call with this operator (an id from GET /api/v1/slots).",
    )

    def validate_redirect_url(self, value):
        if value and not value.lower().startswith(("https://", "http://")):
            raise serializers.ValidationError("Enter an http or https URL.")
        return value

    def validate_workflow(self, value):
        # The same answer for another business's workflow and for none at all:
        # a business never learns what other businesses have.
        workflow = WorkflowTemplate.objects.for_business(self.context["business"]).filter(pk=value).first()
        if workflow is None:
            raise serializers.ValidationError("Unknown workflow.")
        if not workflow.is_active:
            raise serializers.ValidationError("This workflow is not active.")
        return workflow

    def validate(self, attrs):
        participants = attrs["participants"]
        kind = attrs.get("kind") or (
            VerificationSession.Kind.ONE_ON_ONE if len(participants) == 1 else VerificationSession.Kind.MULTI_USER
        )
        attrs["kind"] = kind
        if kind == VerificationSession.Kind.ONE_ON_ONE and len(participants) != 1:
            raise serializers.ValidationError(
                {"participants": ["A one-on-one session has exactly one participant."]}
            )
        maximum = settings.MULTI_USER_MAX_PARTICIPANTS
        if kind == VerificationSession.Kind.MULTI_USER and not 2 <= len(participants) <= maximum:
            raise serializers.ValidationError(
                {"participants": [f"A multi-user session has 2 to {maximum} participants."]}
            )
        if attrs.get("send_links"):
            missing = {
                str(index): {"email": ["Needed to send the link."]}
                for index, participant in enumerate(participants)
                if not participant.get("email")
            }
            if missing:
                raise serializers.ValidationError({"participants": missing})
        missing = one_time_code_destinations_missing(attrs["workflow"].rule_set(), participants)
        if missing:
            raise serializers.ValidationError({"participants": missing})
        attrs["link_ttl"] = timedelta(hours=attrs["link_ttl_hours"]) if attrs.get("link_ttl_hours") else None
        if attrs.get("operator") is not None and attrs.get("scheduled_for") is None:
            raise serializers.ValidationError({"operator": ["Only with scheduled_for."]})
        if attrs.get("scheduled_for") is not None and kind != VerificationSession.Kind.ONE_ON_ONE:
            raise serializers.ValidationError({"scheduled_for": ["Only one-on-one sessions can be booked."]})
        if attrs.get("operator") is not None:
            operator = Operator.objects.for_business(self.context["business"]).filter(pk=attrs["operator"]).first()
            if operator is None:
                raise serializers.ValidationError({"operator": ["Unknown operator."]})
            attrs["operator"] = operator
        return attrs


class SessionListFilterSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=VerificationSession.State.choices, required=False)
    created_after = serializers.DateTimeField(required=False, help_text="Sessions created at or after this time.")
    created_before = serializers.DateTimeField(required=False, help_text="Sessions created before this time.")
    business_reference = serializers.CharField(
        max_length=200, required=False, help_text="The session's or a participant's business reference, exactly."
    )
    page_size = serializers.IntegerField(min_value=1, max_value=100, required=False)
    cursor = serializers.CharField(required=False, max_length=500, help_text="From a previous page's next/previous.")


# --- output ---------------------------------------------------------------------------


class StepResultSerializer(serializers.ModelSerializer):
    class Meta:
        model = StepState
        fields = ["position", "kind", "state", "started_at", "finished_at"]


class ReviewSerializer(serializers.Serializer):
    """The four-eyes review of a provisional decision: the decision that stands."""

    outcome = serializers.CharField(source="final_outcome", help_text="The outcome that stands after the review.")
    reason_code = serializers.CharField(source="final_reason_code")
    overturned = serializers.BooleanField(help_text="True when the reviewer replaced the approval with a rejection.")
    reviewed_at = serializers.DateTimeField(source="created_at")


class DecisionSerializer(serializers.Serializer):
    outcome = serializers.CharField(help_text="The operator's outcome; under four-eyes review see status and review.")
    reason_code = serializers.CharField()
    decided_at = serializers.DateTimeField(source="created_at")
    shared_with_customer = serializers.BooleanField()
    provisional = serializers.BooleanField(
        help_text="Recorded under the four-eyes rule: a second person confirms or overturns it."
    )
    status = serializers.SerializerMethodField(help_text="provisional (awaiting review) or final.")
    review = serializers.SerializerMethodField()

    def get_status(self, decision) -> str:
        return "provisional" if decision.awaiting_review else "final"

    def get_review(self, decision) -> ReviewSerializer(allow_null=True):
        review = decision.review_or_none
        return ReviewSerializer(review).data if review is not None else None


class CheckEvidenceSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The capture's id.")
    kind = serializers.CharField(help_text="document_front, document_back, face or liveness_frame.")
    source = serializers.CharField(help_text="customer_device (full resolution) or operator_view.")
    label = serializers.CharField(allow_blank=True, help_text="The liveness action, for liveness frames.")


class CheckResultSerializer(serializers.Serializer):
    """What one automated check saw in one capture. Advice for the operator,
    who decides."""

    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=CheckResult.Kind.choices)
    status = serializers.ChoiceField(choices=CheckResult.Status.choices)
    score = serializers.FloatField(allow_null=True, help_text="0 to 1, higher is better; null when not measured.")
    engine = serializers.CharField()
    engine_version = serializers.CharField()
    created_at = serializers.DateTimeField()
    current = serializers.BooleanField(
        help_text="False when a retake (or a newer engine version) replaced this result."
    )
    evidence = CheckEvidenceSerializer()
    details = serializers.DictField(
        help_text="What was read and measured, and the reasons (code, message, advice); for the MRZ the "
        "fields read. Never images or the OCR's raw text. Empty after erasure, apart from reasons: []."
    )


class RecommendationReasonSerializer(serializers.Serializer):
    kind = serializers.CharField()
    status = serializers.CharField(help_text="failed, needs_review, error, missing or pending.")
    code = serializers.CharField()
    message = serializers.CharField()


class RecommendationSerializer(serializers.Serializer):
    """The system's recommendation from the current results. Advice only: it
    fails closed (anything missing, pending or errored makes it review) and
    never decides; the operator's decision is ``decision``."""

    decision = serializers.ChoiceField(choices=["approve", "review", "reject"])
    advisory = serializers.BooleanField(help_text="Always true: the operator decides.")
    reasons = RecommendationReasonSerializer(many=True)
    statuses = serializers.DictField(child=serializers.CharField(), help_text="Status per check kind.")


class ParticipantSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id")
    decision = serializers.SerializerMethodField()
    steps = StepResultSerializer(many=True, read_only=True)
    check_results = serializers.SerializerMethodField(
        help_text="Every automated check result of this participant, oldest first (empty until a capture is checked)."
    )
    recommendation = serializers.SerializerMethodField(
        help_text="The system's recommendation from the current check results: advice, never the decision."
    )
    erased = serializers.SerializerMethodField(help_text="Personal fields were erased under retention.")
    phone = serializers.SerializerMethodField(help_text="The customer's phone number, masked (+49*******5678).")

    class Meta:
        model = Participant
        fields = [
            "id",
            "name",
            "email",
            "phone",
            "business_reference",
            "language",
            "date_of_birth",
            "state",
            "state_changed_at",
            "link_expires_at",
            "link_revoked_at",
            "erased",
            "steps",
            "decision",
            "check_results",
            "recommendation",
        ]

    def get_phone(self, participant) -> str:
        # Shown masked: the business sent it and has it; an answer that is
        # logged or cached somewhere on the way need not carry it whole.
        return mask_phone(participant.phone)

    def get_decision(self, participant) -> DecisionSerializer(allow_null=True):
        decision = getattr(participant, "decision", None)
        return DecisionSerializer(decision).data if decision is not None else None

    def _checks(self, participant) -> dict:
        # Both fields read the same computation.
        cache = self.context.setdefault("_participant_checks", {})
        if participant.pk not in cache:
            cache[participant.pk] = participant_checks(participant, history=True)
        return cache[participant.pk]

    def get_check_results(self, participant) -> CheckResultSerializer(many=True):
        return CheckResultSerializer(self._checks(participant)["results"], many=True).data

    def get_recommendation(self, participant) -> RecommendationSerializer:
        return RecommendationSerializer(self._checks(participant)["recommendation"]).data

    def get_erased(self, participant) -> bool:
        return participant.erased_at is not None


class ParticipantLinkSerializer(ParticipantSerializer):
    link = serializers.SerializerMethodField(help_text="The participant's link. Shown in this answer only.")

    class Meta(ParticipantSerializer.Meta):
        fields = [*ParticipantSerializer.Meta.fields, "link"]

    def get_link(self, participant) -> str:
        return self.context["links"][participant.pk]


class WorkflowRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class BookingSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=Booking.State.choices, help_text="booked, cancelled or no_show.")
    scheduled_for = serializers.DateTimeField(source="starts_at")
    ends_at = serializers.DateTimeField()
    operator = serializers.IntegerField(source="operator_id", allow_null=True, help_text="The booked operator's id.")
    customer_time_zone = serializers.CharField(help_text="The zone the customer booked in (IANA name), or empty.")
    reminder_sent_at = serializers.DateTimeField(allow_null=True)
    no_show_at = serializers.DateTimeField(allow_null=True, help_text="When the customer was recorded as a no-show.")


class SlotSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    free = serializers.IntegerField(help_text="How many more calls can be booked at this time.")
    operators = serializers.ListField(
        child=serializers.IntegerField(), source="operator_ids", help_text="Ids of the operators free then."
    )


class SlotListSerializer(serializers.Serializer):
    time_zone = serializers.CharField(help_text="The business's time zone (working hours are in it).")
    slot_minutes = serializers.IntegerField()
    results = SlotSerializer(many=True)


class SessionSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id")
    workflow = WorkflowRefSerializer()
    call_duration_seconds = serializers.SerializerMethodField(
        help_text="From the operator answering to the end (or now, while the call runs); null before."
    )
    participants = ParticipantSerializer(many=True, read_only=True)
    booking = serializers.SerializerMethodField(help_text="The booked call, if one was ever booked; null otherwise.")
    preset = serializers.CharField(
        read_only=True, help_text="The regulatory preset the session runs under (copied from its workflow when created)."
    )
    rules = serializers.SerializerMethodField(
        help_text="The codes of the regulatory rules the session runs under (its own snapshot, sorted)."
    )

    class Meta:
        model = VerificationSession
        fields = [
            "id",
            "kind",
            "state",
            "business_reference",
            "redirect_url",
            "workflow",
            "preset",
            "rules",
            "created_at",
            "waiting_at",
            "answered_at",
            "ended_at",
            "state_changed_at",
            "call_duration_seconds",
            "booking",
            "participants",
        ]

    def get_booking(self, session) -> BookingSerializer(allow_null=True):
        try:
            booking = session.booking
        except Booking.DoesNotExist:
            return None
        return BookingSerializer(booking).data

    def get_rules(self, session) -> list[str]:
        return sorted(RuleSet.of(session).rules)

    def get_call_duration_seconds(self, session) -> int | None:
        duration = session.call_duration
        return int(duration.total_seconds()) if duration is not None else None


class SessionCreatedSerializer(SessionSerializer):
    participants = serializers.SerializerMethodField()

    class Meta(SessionSerializer.Meta):
        fields = SessionSerializer.Meta.fields

    def get_participants(self, session) -> ParticipantLinkSerializer(many=True):
        participants = sorted(self.context["participants"], key=lambda participant: participant.position)
        return ParticipantLinkSerializer(participants, many=True, context=self.context).data


class ParticipantLinkSentSerializer(serializers.Serializer):
    participant = ParticipantSerializer()
    link = serializers.CharField(help_text="The new link (the previous one no longer works).")
    email_queued = serializers.BooleanField()


class ProblemSerializer(serializers.Serializer):
    """Every error the API answers (RFC 9457 problem details, plus a stable code)."""

    type = serializers.CharField(help_text="A URI naming the problem: urn:verity:problem:<code>.")
    code = serializers.CharField(help_text="Stable machine-readable code, e.g. validation_error, not_found.")
    title = serializers.CharField()
    detail = serializers.CharField()
    status = serializers.IntegerField()
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="For validation errors: the field (dotted path, e.g. participants.0.email) and its messages.",
    )
