import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class DecisionQuerySet(models.QuerySet):
    def for_business(self, business):
        return self.filter(participant__session__business=business)


class Decision(models.Model):
    """The operator's verdict on one participant. Written once; under the
    four-eyes rule (kyc.regulations.FOUR_EYES_REVIEW) an approval is
    ``provisional`` until a second person's Review confirms or overturns it,
    and the Review, not this row, holds the final outcome."""

    class Outcome(models.TextChoices):
        APPROVE = "approve", _("Approved")
        REJECT = "reject", _("Rejected")
        RETRY = "retry", _("Retry")

    class Reason(models.TextChoices):
        VERIFIED = "verified", _("Identity verified")
        DOCUMENT_UNREADABLE = "document_unreadable", _("Document unreadable")
        DOCUMENT_EXPIRED = "document_expired", _("Document expired")
        DOCUMENT_SUSPECTED_FORGERY = "document_suspected_forgery", _("Document suspected forged")
        FACE_MISMATCH = "face_mismatch", _("Face does not match the document")
        LIVENESS_FAILED = "liveness_failed", _("Liveness check failed")
        POOR_CONNECTION = "poor_connection", _("Connection too poor")
        POOR_LIGHTING = "poor_lighting", _("Lighting too poor")
        # The minimum call conditions of the session's rule set were not met
        # (sessions_app.call_conditions): the customer is offered a new try.
        POOR_CONDITIONS = "poor_conditions", _("Aborted: poor conditions")
        CUSTOMER_UNCOOPERATIVE = "customer_uncooperative", _("Customer did not cooperate")
        SUSPECTED_FRAUD = "suspected_fraud", _("Suspected fraud")
        THIRD_PARTY_PRESENT = "third_party_present", _("Third party present or coaching")
        OTHER = "other", _("Other")

    # A reason explains its outcome: an approval says the identity was
    # verified; a rejection or a retry names what went wrong. "Rejected,
    # identity verified" would be a record an auditor cannot read.
    REASONS_BY_OUTCOME = {
        Outcome.APPROVE: (Reason.VERIFIED,),
        Outcome.REJECT: (
            Reason.DOCUMENT_UNREADABLE,
            Reason.DOCUMENT_EXPIRED,
            Reason.DOCUMENT_SUSPECTED_FORGERY,
            Reason.FACE_MISMATCH,
            Reason.LIVENESS_FAILED,
            Reason.CUSTOMER_UNCOOPERATIVE,
            Reason.SUSPECTED_FRAUD,
            Reason.THIRD_PARTY_PRESENT,
            Reason.OTHER,
        ),
        Outcome.RETRY: (
            Reason.DOCUMENT_UNREADABLE,
            Reason.DOCUMENT_EXPIRED,
            Reason.LIVENESS_FAILED,
            Reason.POOR_CONNECTION,
            Reason.POOR_LIGHTING,
            Reason.POOR_CONDITIONS,
            Reason.CUSTOMER_UNCOOPERATIVE,
            Reason.OTHER,
        ),
    }

    @classmethod
    def reason_choices_with_outcomes(cls) -> list[tuple[str, str, str]]:
        """(value, label, the outcomes it belongs to, space-separated): the
        console's reason list, filtered by the chosen outcome in the page."""
        return [
            (reason.value, reason.label, " ".join(o for o, allowed in cls.REASONS_BY_OUTCOME.items() if reason in allowed))
            for reason in cls.Reason
        ]

    participant = models.OneToOneField("sessions_app.Participant", on_delete=models.PROTECT, related_name="decision", verbose_name=_("participant"))
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    reason_code = models.CharField(_("reason"), max_length=40, choices=Reason.choices)
    comment = models.TextField(_("comment"), blank=True)
    shared_with_customer = models.BooleanField(_("shared with the customer"), default=False)
    operator = models.ForeignKey("accounts.Operator", on_delete=models.PROTECT, related_name="decisions", verbose_name=_("operator"))
    # Stays True after the review: it says how the decision was made; whether
    # it is still waiting is ``awaiting_review`` (no Review yet).
    provisional = models.BooleanField(
        _("provisional"),
        default=False,
        help_text=_("An approval under the four-eyes rule: final only once a second person confirms it."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = DecisionQuerySet.as_manager()

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")

    def __str__(self):
        return f"{self.get_outcome_display()} ({self.get_reason_code_display()})"

    @property
    def review_or_none(self):
        try:
            return self.review
        except Review.DoesNotExist:
            return None

    @property
    def awaiting_review(self) -> bool:
        return self.provisional and self.review_or_none is None

    @property
    def final_outcome(self) -> str | None:
        """The outcome that stands: the review's when there is one, the
        operator's when the decision was never provisional, None while it waits."""
        review = self.review_or_none
        if review is not None:
            return review.final_outcome
        return None if self.provisional else self.outcome

    @property
    def final_reason_code(self) -> str | None:
        review = self.review_or_none
        if review is not None:
            return review.final_reason_code
        return None if self.provisional else self.reason_code

    def status_label(self) -> str:
        """What a history or a list says of this decision, in words."""
        if self.awaiting_review:
            return gettext("%(outcome)s, awaiting review") % {"outcome": self.get_outcome_display()}
        review = self.review_or_none
        if review is not None and review.overturned:
            return gettext("%(outcome)s on review") % {"outcome": Decision.Outcome(review.final_outcome).label}
        return str(self.get_outcome_display())


class ReviewQuerySet(models.QuerySet):
    def for_business(self, business):
        return self.filter(decision__participant__session__business=business)


class Review(models.Model):
    """A second person's confirmation or overturning of a provisional
    decision (four-eyes review). One per decision; written once."""

    class Outcome(models.TextChoices):
        CONFIRM = "confirm", _("Confirmed")
        OVERTURN = "overturn", _("Overturned")

    decision = models.OneToOneField(Decision, on_delete=models.PROTECT, related_name="review", verbose_name=_("decision"))
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="decision_reviews", verbose_name=_("reviewer")
    )
    outcome = models.CharField(_("review outcome"), max_length=16, choices=Outcome.choices)
    # The decision that stands after the review: the operator's when
    # confirmed, the reviewer's when overturned.
    final_outcome = models.CharField(_("final outcome"), max_length=16, choices=Decision.Outcome.choices)
    final_reason_code = models.CharField(_("final reason"), max_length=40, choices=Decision.Reason.choices)
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("reviewed at"), auto_now_add=True)

    objects = ReviewQuerySet.as_manager()

    class Meta:
        verbose_name = _("four-eyes review")
        verbose_name_plural = _("four-eyes reviews")

    def __str__(self):
        return f"{self.get_outcome_display()}: {self.get_final_outcome_display()}"

    @property
    def overturned(self) -> bool:
        return self.outcome == self.Outcome.OVERTURN


# --- The business's integration: API keys, idempotency, webhooks, e-mails ------


class ApiKeyQuerySet(models.QuerySet):
    def for_business(self, business):
        return self.filter(business=business)

    def active(self):
        return self.filter(revoked_at__isnull=True)


class ApiKey(models.Model):
    """A business's key to the integration API.

    Only the SHA-256 of the key is stored: the key is shown once, when it is
    made, and a database leak does not leak working keys. The key has 256
    random bits, so a fast hash is enough (nothing to brute-force). The prefix
    is the visible start of the key, for telling keys apart in lists and logs.
    """

    PREFIX_LENGTH = 12  # "vty_" and 8 characters of the key

    business = models.ForeignKey("accounts.Business", on_delete=models.PROTECT, related_name="api_keys", verbose_name=_("business"))
    name = models.CharField(_("name"), max_length=100, help_text=_("What the key is for, e.g. 'CRM production'."))
    prefix = models.CharField(_("prefix"), max_length=16, editable=False)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("created by"),
    )
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["business", "-created_at"]

    def __str__(self):
        return f"{self.prefix}… ({self.name})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyKeyQuerySet(models.QuerySet):
    def for_business(self, business):
        return self.filter(business=business)


class IdempotencyKey(models.Model):
    """The first answer to a create request that carried an Idempotency-Key.

    The key itself is stored only as a hash, and the answer (it holds the
    customers' links) only encrypted with a key derived from the client's
    Idempotency-Key and SECRET_KEY: the database alone reveals no working link.
    Rows are removed after IDEMPOTENCY_KEY_TTL_HOURS.
    """

    business = models.ForeignKey("accounts.Business", on_delete=models.CASCADE, related_name="+")
    key_hash = models.CharField(max_length=64)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_encrypted = models.TextField()
    session = models.ForeignKey(
        "sessions_app.VerificationSession", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = IdempotencyKeyQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["business", "key_hash"], name="idempotency_key_unique_per_business")
        ]
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")


class WebhookEventQuerySet(models.QuerySet):
    def for_business(self, business):
        return self.filter(business=business)

    def due(self, now):
        return self.filter(state=WebhookEvent.State.PENDING, next_attempt_at__lte=now)


class WebhookEvent(models.Model):
    """The outbox: one event for one business, written in the same
    transaction as the change it reports, delivered afterwards until the
    receiver answers 2xx or the retry window closes. ``public_id`` is the
    stable event id every attempt carries, for the receiver to de-duplicate.
    ``body`` is stored as the exact bytes sent, so every attempt signs and
    sends the same body."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed: retries exhausted")

    public_id = models.UUIDField(_("event ID"), default=uuid.uuid4, unique=True, editable=False)
    business = models.ForeignKey("accounts.Business", on_delete=models.PROTECT, related_name="webhook_events", verbose_name=_("business"))
    event_type = models.CharField(_("event type"), max_length=40, db_index=True)
    session = models.ForeignKey(
        "sessions_app.VerificationSession", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("session"),
    )
    participant = models.ForeignKey(
        "sessions_app.Participant", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("participant"),
    )
    body = models.TextField(_("body"))
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # Also the lease of an attempt in progress: a sender pushes it forward
    # before it calls out, so a second sender leaves the event alone.
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)

    objects = WebhookEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "next_attempt_at"])]
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")

    def __str__(self):
        return f"{self.event_type} {self.public_id}"


class WebhookDeliveryQuerySet(models.QuerySet):
    def for_business(self, business):
        return self.filter(event__business=business)


class WebhookDelivery(models.Model):
    """One attempt to deliver one event: the delivery log."""

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("event"))
    attempt = models.PositiveIntegerField(_("attempt"))
    # Each attempt goes to the business's endpoint of that moment.
    url = models.URLField(_("URL"), max_length=500)
    started_at = models.DateTimeField(_("started at"))
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    response_excerpt = models.CharField(_("response excerpt"), max_length=500, blank=True)
    manual = models.BooleanField(_("sent by hand"), default=False, help_text=_("Sent again by hand from the admin."))

    objects = WebhookDeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["event", "attempt"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")

    def __str__(self):
        return gettext("attempt %(attempt)s: %(result)s") % {"attempt": self.attempt, "result": self.status_code or self.error}

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class LinkEmailQuerySet(models.QuerySet):
    def for_business(self, business):
        return self.filter(participant__session__business=business)


class LinkEmail(models.Model):
    """A customer's link e-mail waiting to be sent.

    The link token is held only encrypted and only until the e-mail is out:
    the product otherwise keeps just the token's hash. Sending is idempotent:
    a row that was sent, or whose link was replaced or revoked meanwhile, is
    never sent (again).
    """

    participant = models.ForeignKey("sessions_app.Participant", on_delete=models.PROTECT, related_name="+")
    link_encrypted = models.TextField(blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    # When the next attempt is due; also the lease of an attempt in progress.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    skipped_reason = models.CharField(max_length=40, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)

    objects = LinkEmailQuerySet.as_manager()

    class Meta:
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["sent_at", "next_attempt_at"])]
        verbose_name = _("link e-mail")
        verbose_name_plural = _("link e-mails")

    def __str__(self):
        return f"Link e-mail {self.pk} ({'sent' if self.sent_at else self.skipped_reason or 'pending'})"


class SessionErasureQuerySet(models.QuerySet):
    def for_business(self, business):
        return self.filter(session__business=business)


class SessionErasure(models.Model):
    """A session whose personal data and evidence were erased under the
    business's retention period. What stays is the anonymised record: states,
    timestamps, step outcomes, decisions' codes and the audit trail."""

    session = models.OneToOneField("sessions_app.VerificationSession", on_delete=models.PROTECT, related_name="erasure", verbose_name=_("session"))
    erased_at = models.DateTimeField(_("erased at"), default=timezone.now)
    retention_days = models.PositiveIntegerField(_("retention (days)"))
    participants = models.PositiveIntegerField(_("participants"), default=0)
    evidence_files = models.PositiveIntegerField(_("evidence files"), default=0)

    objects = SessionErasureQuerySet.as_manager()

    class Meta:
        verbose_name = _("session erasure")
        verbose_name_plural = _("session erasures")

    def __str__(self):
        return gettext("Erasure of session %(session)s on %(date)s") % {
            "session": self.session_id,
            "date": f"{self.erased_at:%Y-%m-%d}",
        }


# --- Repeat applicants, the business's negative list, fraud flags --------------


class ApplicantFingerprintQuerySet(models.QuerySet):
    def for_business(self, business):
        return self.filter(business=business)


class ApplicantFingerprint(models.Model):
    """What identifies one participant across the business's sessions: the
    normalised document number and name + birth date read from the MRZ, and
    the face descriptor the face-match check computed (128 floats; never an
    image). Written as the checks' results are stored
    (operators.repeat_applicants), deleted with the session's personal data
    (operators.compliance.retention.session_erase)."""

    business = models.ForeignKey("accounts.Business", on_delete=models.CASCADE, related_name="+", verbose_name=_("business"))
    session = models.ForeignKey("sessions_app.VerificationSession", on_delete=models.CASCADE, related_name="+", verbose_name=_("session"))
    participant = models.OneToOneField("sessions_app.Participant", on_delete=models.CASCADE, related_name="fingerprint", verbose_name=_("participant"))
    document_number = models.CharField(_("document number"), max_length=40, blank=True, db_index=True)
    document_country = models.CharField(_("issuing country"), max_length=3, blank=True)
    document_type = models.CharField(_("document type"), max_length=4, blank=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    # float32 little-endian, 128 × 4 bytes: the face engine's descriptor.
    face_descriptor = models.BinaryField(_("face descriptor"), null=True, blank=True)
    # The earlier fingerprints this one matched when it was written:
    # {"<fingerprint id>": ["document", "name_birth_date", "face"]}. Kept so a
    # call's state (pushed on every change) reads matches, not a face scan.
    matches = models.JSONField(_("matches"), default=dict, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ApplicantFingerprintQuerySet.as_manager()

    class Meta:
        verbose_name = _("applicant fingerprint")
        verbose_name_plural = _("applicant fingerprints")
        indexes = [models.Index(fields=["business", "name", "birth_date"])]


class NegativeListEntryQuerySet(models.QuerySet):
    def for_business(self, business):
        return self.filter(business=business)


class NegativeListEntry(models.Model):
    """One entry of the business's own negative list. Its value is the
    business's, kept after the session it came from is erased: a face taken
    from a session is a copy of that session's descriptor, made when the
    entry was added. Its value is written in one spelling by
    operators.repeat_applicants.negative_list_entry_normalise (the admin's
    form and the API call it)."""

    class Kind(models.TextChoices):
        DOCUMENT_NUMBER = "document_number", _("Document number")
        NAME_BIRTH_DATE = "name_birth_date", _("Name and date of birth")
        FACE = "face", _("Face from a session")

    business = models.ForeignKey("accounts.Business", on_delete=models.CASCADE, related_name="negative_list", verbose_name=_("business"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    document_number = models.CharField(_("document number"), max_length=40, blank=True, db_index=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    source_session = models.ForeignKey(
        "sessions_app.VerificationSession", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("session the face is taken from"),
    )
    face_descriptor = models.BinaryField(_("face descriptor"), null=True, blank=True, editable=False)
    reason = models.CharField(_("reason"), max_length=300)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("added by"))
    added_at = models.DateTimeField(_("added at"), default=timezone.now)

    objects = NegativeListEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("negative list entry")
        verbose_name_plural = _("negative list")

    def __str__(self):
        return f"{self.get_kind_display()}: {self.reason}"


class FraudFlagQuerySet(models.QuerySet):
    def for_business(self, business):
        return self.filter(session__business=business)

    def open(self):
        return self.filter(cleared_at__isnull=True)


class FraudFlag(models.Model):
    """An operator's suspicion of fraud in a session. Never deleted: a flag
    is cleared, by a second staff member, with a note."""

    class Reason(models.TextChoices):
        SUSPECTED_INJECTION = "suspected_injection", _("Suspected video injection")
        THIRD_PERSON_PROMPTING = "third_person_prompting", _("A third person prompting")
        SECOND_FACE_OR_VOICE = "second_face_or_voice", _("A second face or voice")
        FORGED_DOCUMENT = "forged_document", _("Forged document")
        OTHER = "other", _("Other")

    public_id = models.UUIDField(_("public ID"), default=uuid.uuid4, unique=True, editable=False)
    session = models.ForeignKey("sessions_app.VerificationSession", on_delete=models.PROTECT, related_name="fraud_flags", verbose_name=_("session"))
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("raised by"))
    reason = models.CharField(_("reason"), max_length=32, choices=Reason.choices)
    note = models.TextField(_("note"), blank=True)
    raised_at = models.DateTimeField(_("raised at"), default=timezone.now)
    cleared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("cleared by"))
    cleared_at = models.DateTimeField(_("cleared at"), null=True, blank=True)
    clear_note = models.TextField(_("note on clearing"), blank=True)

    objects = FraudFlagQuerySet.as_manager()

    class Meta:
        verbose_name = _("fraud flag")
        verbose_name_plural = _("fraud flags")

    def __str__(self):
        return f"{self.get_reason_display()} ({self.raised_at:%Y-%m-%d %H:%M})"
