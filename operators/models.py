import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

OPERATORS_GROUP = "operators"
COMPLIANCE_GROUP = "compliance"


class Business(models.Model):
    """The tenant that integrates Verity. Everything else belongs to one."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    retention_days = models.PositiveIntegerField(
        default=365, help_text="Evidence and personal data are erased this many days after a session ends."
    )
    webhook_url = models.URLField(blank=True)
    webhook_secret = models.CharField(max_length=64, default=secrets.token_hex, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "businesses"
        ordering = ["name"]

    def __str__(self):
        return self.name


class OperatorQuerySet(models.QuerySet):
    def for_business(self, business):
        return self.filter(business=business)


class Operator(models.Model):
    """A person who interviews customers, working for one business."""

    class Presence(models.TextChoices):
        AVAILABLE = "available", _("Available")
        BUSY = "busy", _("Busy")
        AWAY = "away", _("Away")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="operator")
    business = models.ForeignKey(Business, on_delete=models.PROTECT, related_name="operators")
    display_name = models.CharField(max_length=120)
    presence = models.CharField(max_length=16, choices=Presence.choices, default=Presence.AWAY)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    objects = OperatorQuerySet.as_manager()

    def __str__(self):
        return f"{self.display_name} ({self.business})"


class DecisionQuerySet(models.QuerySet):
    def for_business(self, business):
        return self.filter(participant__session__business=business)


class Decision(models.Model):
    """The operator's verdict on one participant. Final once written."""

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
        CUSTOMER_UNCOOPERATIVE = "customer_uncooperative", _("Customer did not cooperate")
        SUSPECTED_FRAUD = "suspected_fraud", _("Suspected fraud")
        THIRD_PARTY_PRESENT = "third_party_present", _("Third party present or coaching")
        OTHER = "other", _("Other")

    participant = models.OneToOneField("sessions_app.Participant", on_delete=models.PROTECT, related_name="decision")
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    reason_code = models.CharField(max_length=40, choices=Reason.choices)
    comment = models.TextField(blank=True)
    shared_with_customer = models.BooleanField(default=False)
    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="decisions")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DecisionQuerySet.as_manager()

    def __str__(self):
        return f"{self.get_outcome_display()} ({self.reason_code})"
