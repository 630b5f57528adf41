"""The floor every other app stands on: the business (the tenant that
integrates Verity) and the people who sign in for it, operators and staff.

The tables keep their old names (operators_*): these models lived in the
console's app until the apps were layered (migration accounts 0001).
"""

import base64
import secrets
import uuid
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kyc import regulations
from kyc.egress import egress_url_validate
from kyc.languages import language_primary

OPERATORS_GROUP = "operators"
COMPLIANCE_GROUP = "compliance"
# A business's own staff who administer it in the admin (BusinessStaff links
# them to that one business): its sessions, API keys, webhook, operators and
# workflows, nobody else's.
BUSINESS_ADMINS_GROUP = "business_admins"
# Staff who are not tied to one business and see every business in the admin
# (what they may do there is still their model permissions). Superusers are
# platform staff without the group.
PLATFORM_STAFF_GROUP = "platform_staff"
# Staff who watch the floor on the supervisor dashboard (operators.supervisor):
# linked to one business (BusinessStaff), that business's figures only;
# unlinked, every business's. They change nothing.
SUPERVISORS_GROUP = "supervisors"
# Staff who confirm or overturn a provisional approval (the four-eyes rule,
# operators.reviews): linked to one business (BusinessStaff), that business's
# decisions only. The group is created by operators' migration 0009.
REVIEWERS_GROUP = "reviewers"


WEBHOOK_SECRET_PREFIX = "whsec_"



def webhook_secret_generate() -> str:
    """A webhook signing secret in the Standard Webhooks form: ``whsec_``
    and the base64 of 32 random bytes, the HMAC key."""
    return WEBHOOK_SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def time_zone_validate(value: str) -> None:
    """An IANA zone name zoneinfo knows ("Europe/Berlin"), nothing else: a
    fixed offset would be wrong half the year."""
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(_("Not a time zone name such as Europe/Berlin.")) from None


# The product's first businesses and both its languages are German-speaking:
# Berlin is the right default for them, and a business elsewhere sets its own.
DEFAULT_TIME_ZONE = "Europe/Berlin"


class Business(models.Model):
    """The tenant that integrates Verity. Everything else belongs to one."""

    public_id = models.UUIDField(_("public ID"), default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), unique=True)
    retention_days = models.PositiveIntegerField(
        _("retention (days)"),
        default=365, help_text=_("Evidence and personal data are erased this many days after a session ends.")
    )
    # Checked against the egress policy (kyc/egress.py) when saved through a
    # form, and again at every delivery.
    webhook_url = models.URLField(_("webhook URL"), blank=True, validators=[egress_url_validate])
    require_second_factor = models.BooleanField(
        _("second factor required"),
        default=False,
        help_text=_("Operators must set up two-step sign-in (an authenticator app) before they reach the console."),
    )
    # whsec_<base64 key>. Secrets made before Standard Webhooks were hex
    # strings used as they were; migration 0002 rewrote each as whsec_ and
    # the base64 of those same bytes, so the key did not change.
    # The supervisor dashboard's service level: the share of calls answered
    # within this many seconds (the page may ask for another N).
    sla_seconds = models.PositiveIntegerField(
        _("service level (seconds)"),
        default=60,
        help_text=_("The supervisor dashboard counts a call as answered in time when an operator answered within this many seconds."),
    )
    webhook_secret = models.CharField(_("webhook signing secret"), max_length=100, default=webhook_secret_generate, editable=False)
    # Routing (operators/routing.py): a waiting call is offered first to the
    # operators who fit it, to every operator once it has waited this long.
    # 0 keeps today's behaviour for a business that never set it up.
    routing_fallback_seconds = models.PositiveIntegerField(
        _("routing fallback (seconds)"),
        default=0,
        help_text=_(
            "A waiting call is offered first to operators who speak its language and are trained for its "
            "workflow; after this many seconds to every operator. 0 offers every call to every operator at once."
        ),
    )
    # --- booked calls (sessions_app.scheduling) ---
    time_zone = models.CharField(
        _("time zone"), max_length=64, default=DEFAULT_TIME_ZONE, validators=[time_zone_validate],
        help_text=_("The zone the operators' working hours are in, e.g. Europe/Berlin."),
    )
    slot_minutes = models.PositiveSmallIntegerField(
        _("length of a booked call (minutes)"), default=30, validators=[MinValueValidator(5), MaxValueValidator(240)]
    )
    booking_horizon_days = models.PositiveSmallIntegerField(
        _("booking horizon (days)"), default=14, validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text=_("How many days ahead a customer may book a call."),
    )
    booked_operator_ring_seconds = models.PositiveIntegerField(
        _("booked operator first (seconds)"), default=120, validators=[MaxValueValidator(3600)],
        help_text=_("For this long after the customer joins, a booked call is offered only to the booked operator, then to everyone."),
    )
    no_show_after_minutes = models.PositiveSmallIntegerField(
        _("no-show after (minutes)"), default=15, validators=[MinValueValidator(1), MaxValueValidator(240)],
        help_text=_("A customer who has not joined this long after the booked time is recorded as a no-show."),
    )
    reminder_minutes_before = models.PositiveSmallIntegerField(
        _("reminder (minutes before)"), default=60, validators=[MinValueValidator(5), MaxValueValidator(2880)],
        help_text=_("When the reminder e-mail goes out before a booked call."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        db_table = "operators_business"
        verbose_name = _("business")
        verbose_name_plural = _("businesses")
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

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="operator", verbose_name=_("user"))
    business = models.ForeignKey(Business, on_delete=models.PROTECT, related_name="operators", verbose_name=_("business"))
    display_name = models.CharField(_("display name"), max_length=120)
    presence = models.CharField(_("presence"), max_length=16, choices=Presence.choices, default=Presence.AWAY)
    last_seen_at = models.DateTimeField(_("last seen at"), null=True, blank=True)
    # Skills the queue routes by (operators/routing.py). Language codes of
    # settings.LANGUAGES; document kinds of workflows.steps.DOCUMENT_KINDS
    # (kept as codes: this floor does not import the workflows).
    languages = models.JSONField(_("languages"), default=list, blank=True)
    document_kinds = models.JSONField(_("document types"), default=list, blank=True)
    # A string reference, not an import: the floor below the workflows may
    # name their table, and routing (the console's floor) reads it.
    trained_workflows = models.ManyToManyField(
        "workflows.WorkflowTemplate",
        blank=True,
        related_name="trained_operators",
        verbose_name=_("trained for workflows"),
    )

    objects = OperatorQuerySet.as_manager()

    class Meta:
        db_table = "operators_operator"
        verbose_name = _("operator")
        verbose_name_plural = _("operators")

    def __str__(self):
        return f"{self.display_name} ({self.business})"

    def speaks(self, language: str) -> bool:
        """Whether the operator speaks ``language`` ("de-at" counts as "de")."""
        return language_primary(language) in {language_primary(code) for code in self.languages or ()}


class WorkingHoursQuerySet(models.QuerySet):
    def for_business(self, business):
        return self.filter(operator__business=business)


class WorkingHours(models.Model):
    """When an operator takes booked calls on one weekday, in the business's
    time zone (a wall-clock time: 09:00 stays 09:00 across a DST change)."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    operator = models.ForeignKey(Operator, on_delete=models.CASCADE, related_name="working_hours", verbose_name=_("operator"))
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start = models.TimeField(_("from"))
    end = models.TimeField(_("until"))

    objects = WorkingHoursQuerySet.as_manager()

    class Meta:
        ordering = ["operator", "weekday", "start"]
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="working_hours_end_after_start")
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"

    def clean(self):
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValidationError({"end": _("The end must be after the start.")})


def _today():
    return timezone.localdate()


def _one_year_from_today():
    today = timezone.localdate()
    try:
        return today.replace(year=today.year + 1)
    except ValueError:  # 29 February
        return today.replace(year=today.year + 1, day=28)


class OperatorTrainingQuerySet(models.QuerySet):
    def for_business(self, business):
        return self.filter(operator__business=business)

    def current(self, on):
        """Attestations valid on the date ``on``."""
        return self.filter(attested_on__lte=on, valid_until__gte=on)


class OperatorTraining(models.Model):
    """An operator's attested training for one regulatory preset
    (kyc.regulations): with the OPERATOR_TRAINING rule, only operators with a
    current attestation for the session's preset are offered its calls
    (operators.routing). Valid a year by default: BaFin asks for training
    repeated at least yearly."""

    operator = models.ForeignKey(Operator, on_delete=models.CASCADE, related_name="trainings", verbose_name=_("operator"))
    preset = models.CharField(_("regulatory preset"), max_length=32, choices=regulations.PRESET_CHOICES)
    attested_on = models.DateField(_("attested on"), default=_today)
    valid_until = models.DateField(_("valid until"), default=_one_year_from_today)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = OperatorTrainingQuerySet.as_manager()

    class Meta:
        ordering = ["operator", "preset", "-valid_until"]
        verbose_name = _("training attestation")
        verbose_name_plural = _("training attestations")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_until__gte=models.F("attested_on")), name="operator_training_valid_after_attested"
            )
        ]

    def __str__(self):
        return f"{self.operator} – {self.get_preset_display()} ({self.valid_until})"

    def clean(self):
        if self.attested_on and self.valid_until and self.valid_until < self.attested_on:
            raise ValidationError({"valid_until": gettext("The attestation cannot end before it was given.")})


class BusinessStaffQuerySet(models.QuerySet):
    def for_business(self, business):
        return self.filter(business=business)


class BusinessStaff(models.Model):
    """A staff user who works for one business: its business admin
    (BUSINESS_ADMINS_GROUP), its own compliance officer (COMPLIANCE_GROUP) or
    its supervisor (SUPERVISORS_GROUP).
    The admin shows such a user that business's rows only; staff without this
    link are platform-wide (accounts.selectors.staff_scope). One business per
    user, so "which business" never has two answers."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="business_staff", verbose_name=_("user"))
    business = models.ForeignKey(Business, on_delete=models.PROTECT, related_name="staff", verbose_name=_("business"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = BusinessStaffQuerySet.as_manager()

    class Meta:
        verbose_name = _("business staff member")
        verbose_name_plural = _("business staff")

    def __str__(self):
        return f"{self.user} ({self.business})"


# --- Staff sign-in: second factor and the sessions an admin can end ------------


class TotpDevice(models.Model):
    """A user's authenticator app (TOTP, RFC 6238): optional, per user. Once
    confirmed, the password alone no longer signs the user in.

    The secret is held encrypted under a key derived from SECRET_KEY
    (kyc.crypto): a copy of the database alone cannot make codes.
    Changing SECRET_KEY therefore invalidates every device; an admin deletes
    the device and the user enrols again. ``last_used_step`` refuses a code
    that was already used (a code read over a shoulder is worth nothing)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="totp_device", verbose_name=_("user"))
    secret_encrypted = models.TextField(_("encrypted secret"), editable=False)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True, editable=False)
    last_used_step = models.BigIntegerField(_("last used step"), default=0, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        db_table = "operators_totpdevice"
        verbose_name = _("TOTP device")
        verbose_name_plural = _("TOTP devices")

    def __str__(self):
        state = gettext("confirmed") if self.confirmed_at else gettext("enrolling")
        return gettext("TOTP of %(user)s (%(state)s)") % {"user": self.user, "state": state}


class LoginSession(models.Model):
    """A Django session a user signed in with, so an admin can end them all
    (the session store itself cannot be searched by user)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    session_key = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "operators_loginsession"
        verbose_name = _("sign-in session")
        verbose_name_plural = _("sign-in sessions")

    def __str__(self):
        return gettext("Session of %(user)s since %(at)s") % {"user": self.user, "at": f"{self.created_at:%Y-%m-%d %H:%M}"}
