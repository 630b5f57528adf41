"""The floor every other app stands on: the business (the tenant that
integrates Verity) and the people who sign in for it, operators and staff.

The tables keep their old names (operators_*): these models lived in the
console's app until the apps were layered (migration accounts 0001).
"""

import base64
import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kyc.egress import egress_url_validate

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


WEBHOOK_SECRET_PREFIX = "whsec_"


def webhook_secret_generate() -> str:
    """A webhook signing secret in the Standard Webhooks form: ``whsec_``
    and the base64 of 32 random bytes, the HMAC key."""
    return WEBHOOK_SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


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

    objects = OperatorQuerySet.as_manager()

    class Meta:
        db_table = "operators_operator"
        verbose_name = _("operator")
        verbose_name_plural = _("operators")

    def __str__(self):
        return f"{self.display_name} ({self.business})"


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
