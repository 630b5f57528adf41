from axes import admin as axes_admin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Business, BusinessStaff, Operator, OperatorTraining, TotpDevice
from accounts.security import user_sessions_end
from operators.admin_scope import BusinessScopedAdmin, ParentScopedInline, request_is_business_admin
from operators.compliance import admin as compliance_admin  # noqa: F401  (registers the sessions' and workflows' models)
from operators.compliance import fraud_admin  # noqa: F401  (registers the fraud flags and the negative list)
from operators.compliance.access import ComplianceReadOnlyAdmin
from operators.integration import api_key_create, api_key_revoke
from operators.regulated_admin import OperatorTrainingInline, training_attestations_record_by
from operators.scheduling_admin import WorkingHoursInline
from operators.models import (
    ApiKey,
    Decision,
    SessionErasure,
    WebhookDelivery,
    WebhookEvent,
)
from operators.routing import operator_languages_label
from operators.webhooks import business_webhook_secret_rotate, webhook_event_resend
from sessions_app.audit import Actor
from workflows.steps import DOCUMENT_KIND_LABELS


@admin.register(Business)
class BusinessAdmin(BusinessScopedAdmin):
    """A business admin changes their own business's webhook URL and whether
    its operators must use a second factor, and rotates its signing secret;
    name, slug and retention are the platform's.

    The signing secret is never displayed, not even read-only: whoever could
    read the page could sign webhooks as Verity. Rotating shows the new one
    once, in the answer to that request, like a new API key."""

    business_admin_may = frozenset({"view", "change"})
    list_display = ["name", "slug", "retention_days", "require_second_factor", "webhook_url", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    fieldsets = [
        (None, {"fields": ["name", "slug", "retention_days", "require_second_factor", "webhook_url", "webhook_signing_secret"]}),
        (_("Routing"), {"fields": ["routing_fallback_seconds"]}),
        (
            _("Booked calls"),
            {
                "fields": [
                    "time_zone",
                    "slot_minutes",
                    "booking_horizon_days",
                    "booked_operator_ring_seconds",
                    "no_show_after_minutes",
                    "reminder_minutes_before",
                ]
            },
        ),
    ]
    actions = ["rotate_webhook_secret"]

    @admin.display(description=_("webhook signing secret"))
    def webhook_signing_secret(self, business):
        return gettext("Not shown. The action “Rotate the webhook signing secret” makes a new one and shows it once.")

    def rows_of_business(self, queryset, business_id):
        return queryset.filter(pk=business_id)

    def get_readonly_fields(self, request, obj=None):
        if request_is_business_admin(request):
            return ["name", "slug", "retention_days", "webhook_signing_secret"]
        return ["webhook_signing_secret"]

    def get_prepopulated_fields(self, request, obj=None):
        # The slug follows the name only where both can be edited.
        return {} if "slug" in self.get_readonly_fields(request, obj) else super().get_prepopulated_fields(request, obj)

    @admin.action(description=_("Rotate the webhook signing secret (the old one stops at once)"), permissions=["change"])
    def rotate_webhook_secret(self, request, queryset):
        # One at a time: the page that shows the secret names its business,
        # and nobody copies secrets out of a list.
        if queryset.count() != 1:
            self.message_user(request, gettext("Select one business: its new secret is shown once."), messages.ERROR)
            return None
        business = queryset.get()
        secret = business_webhook_secret_rotate(business=business, actor=Actor.staff(request.user))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Webhook signing secret rotated"),
            "business": business,
            "secret": secret,
        }
        response = TemplateResponse(request, "admin/accounts/business/secret_rotated.html", context)
        add_never_cache_headers(response)
        return response


@admin.register(BusinessStaff)
class BusinessStaffAdmin(BusinessScopedAdmin):
    """Who works for which business in the admin. Made and removed by
    platform staff (accounts.services.business_staff_add does the groups);
    a business admin sees their own colleagues."""

    business_admin_may = frozenset({"view"})
    list_display = ["user", "business", "created_at"]
    list_filter = ["business"]
    search_fields = ["user__username", "business__name"]
    raw_id_fields = ["user"]


class OperatorForm(forms.ModelForm):
    """The operator's routing skills as ticks: languages the product ships,
    the document types a workflow's document step offers, and the business's
    own workflows (operators.routing reads them)."""

    languages = forms.TypedMultipleChoiceField(
        label=_("languages"),
        choices=settings.LANGUAGES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Calls in these languages are offered to this operator first."),
    )
    document_kinds = forms.TypedMultipleChoiceField(
        label=_("document types"),
        choices=list(DOCUMENT_KIND_LABELS.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Identity documents this operator is trained to examine."),
    )

    class Meta:
        model = Operator
        fields = "__all__"
        widgets = {"trained_workflows": forms.CheckboxSelectMultiple}

    def clean(self):
        cleaned = super().clean()
        business = cleaned.get("business") or getattr(self.instance, "business", None)
        workflows = cleaned.get("trained_workflows")
        if business is not None and workflows is not None:
            foreign = [workflow.name for workflow in workflows if workflow.business_id != business.pk]
            if foreign:
                self.add_error(
                    "trained_workflows",
                    gettext("These workflows belong to another business: %(names)s.") % {"names": ", ".join(foreign)},
                )
        return cleaned


@admin.register(Operator)
class OperatorAdmin(BusinessScopedAdmin):
    business_admin_may = frozenset({"view", "change"})
    form = OperatorForm
    list_display = ["display_name", "user", "business", "presence", "languages_shown", "last_seen_at"]
    list_filter = ["business", "presence"]
    search_fields = ["display_name", "user__username", "user__email"]
    raw_id_fields = ["user"]
    actions = ["end_sessions"]
    fields = ["user", "business", "display_name", "presence", "languages", "document_kinds", "trained_workflows"]
    inlines = [WorkingHoursInline, OperatorTrainingInline]

    def save_formset(self, request, form, formset, change):
        if formset.model is OperatorTraining:
            training_attestations_record_by(formset, request.user)
        else:
            super().save_formset(request, form, formset, change)

    @admin.display(description=_("languages"))
    def languages_shown(self, operator):
        return operator_languages_label(operator) or "–"

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        # Only workflows of businesses the user sees; the form's clean()
        # keeps them to the operator's own business.
        if db_field.name == "trained_workflows":
            related_admin = self.admin_site._registry[db_field.remote_field.model]
            kwargs["queryset"] = related_admin.scope_queryset(request, db_field.remote_field.model._default_manager.all())
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        # Which user and business an operator is stays the platform's: a
        # business admin re-pointing ``user`` could take over any account.
        if request_is_business_admin(request):
            return ["user", "business"]
        return []

    @admin.action(
        description=_("End this operator's sessions (signed out everywhere, sockets close)"), permissions=["change"]
    )
    def end_sessions(self, request, queryset):
        ended = sum(user_sessions_end(user=operator.user, by=request.user) for operator in queryset.select_related("user"))
        operators = queryset.count()
        # Two numbers, two plurals: one sentence each, so each language can say its own.
        self.message_user(
            request,
            " ".join(
                [
                    ngettext("Ended %(count)s sign-in session.", "Ended %(count)s sign-in sessions.", ended) % {"count": ended},
                    ngettext("Operators signed out: %(count)s.", "Operators signed out: %(count)s.", operators)
                    % {"count": operators},
                ]
            ),
            messages.SUCCESS,
        )


@admin.register(TotpDevice)
class TotpDeviceAdmin(BusinessScopedAdmin):
    """Who uses two-step sign-in. Deleting a device lets a user who lost the
    phone sign in with the password and enrol again; nothing else changes here.
    Platform staff's matter: a business admin has no role here."""

    list_display = ["user", "confirmed_at", "created_at"]
    search_fields = ["user__username"]
    fields = ["user", "confirmed_at", "created_at"]
    readonly_fields = fields

    def rows_of_business(self, queryset, business_id):
        # A device belongs to a user; it is a business's through its operator.
        return queryset.filter(user__operator__business=business_id)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Decision)
class DecisionAdmin(ComplianceReadOnlyAdmin):
    list_display = ["participant", "outcome", "reason_code", "operator", "shared_with_customer", "created_at"]
    list_filter = ["outcome", "reason_code", "operator__business", "operator", "created_at"]
    search_fields = ["participant__name", "participant__business_reference", "comment"]
    raw_id_fields = ["participant", "operator"]
    date_hierarchy = "created_at"
    list_select_related = ["participant__session__business", "operator"]


@admin.register(SessionErasure)
class SessionErasureAdmin(ComplianceReadOnlyAdmin):
    """What retention erased: ids and counts only, nothing to audit."""

    audit_views = False
    list_display = ["session", "erased_at", "retention_days", "participants", "evidence_files"]
    list_filter = ["session__business", "erased_at"]
    raw_id_fields = ["session"]


@admin.register(ApiKey)
class ApiKeyAdmin(BusinessScopedAdmin):
    """Keys are made here and shown once; only their hash is kept. Revoke,
    never delete: the key's history stays visible."""

    business_admin_may = frozenset({"view", "add", "change"})
    list_display = ["prefix", "name", "business", "created_at", "created_by", "last_used_at", "revoked_at"]
    list_filter = ["business", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["prefix", "name", "business__name"]
    actions = ["revoke_keys"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["business", "name"]
        return ["business", "name", "prefix", "created_at", "created_by", "last_used_at", "revoked_at"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["business", "prefix", "created_at", "created_by", "last_used_at", "revoked_at"]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["name"])
            return
        api_key, raw_key = api_key_create(business=obj.business, name=obj.name, created_by=request.user)
        obj.pk = api_key.pk
        obj.prefix, obj.key_hash, obj.created_at = api_key.prefix, api_key.key_hash, api_key.created_at
        # Shown once, in the answer to this request; never stored, never in a
        # message (messages may live in a cookie).
        request.verity_new_api_key = raw_key

    def response_add(self, request, obj, post_url_continue=None):
        raw_key = getattr(request, "verity_new_api_key", None)
        if raw_key is None:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("API key created"),
            "api_key": obj,
            "raw_key": raw_key,
        }
        return TemplateResponse(request, "admin/operators/apikey/created.html", context)

    @admin.action(description=_("Revoke the selected keys"), permissions=["change"])
    def revoke_keys(self, request, queryset):
        for api_key in queryset.filter(revoked_at__isnull=True):
            api_key_revoke(api_key=api_key, actor=Actor.staff(request.user))
        self.message_user(request, gettext("Revoked."), messages.SUCCESS)


class WebhookDeliveryInline(ParentScopedInline):
    model = WebhookDelivery
    extra = 0
    can_delete = False
    fields = ["attempt", "started_at", "url", "status_code", "error", "duration_ms", "response_excerpt", "manual"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookEvent)
class WebhookEventAdmin(BusinessScopedAdmin):
    """The outbox and its delivery log, with a manual re-send."""

    business_admin_may = frozenset({"view"})
    list_display = ["public_id", "event_type", "business", "state", "attempts", "created_at", "next_attempt_at", "last_error"]
    list_filter = ["state", "event_type", "business"]
    search_fields = ["public_id", "session__public_id"]
    readonly_fields = [
        "public_id",
        "business",
        "event_type",
        "session",
        "participant",
        "state",
        "attempts",
        "created_at",
        "next_attempt_at",
        "delivered_at",
        "last_error",
        "body",
    ]
    fields = readonly_fields
    inlines = [WebhookDeliveryInline]
    actions = ["resend"]
    list_select_related = ["business"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # an event is what happened; only re-sending it is an action

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Send again now (same event id)"), permissions=["resend"])
    def resend(self, request, queryset):
        results = [webhook_event_resend(event=event) for event in queryset[:50]]
        ok = sum(1 for delivery in results if delivery.succeeded)
        level = messages.SUCCESS if ok == len(results) else messages.WARNING
        sent = ngettext(
            "Sent %(count)s event at %(time)s.", "Sent %(count)s events at %(time)s.", len(results)
        ) % {"count": len(results), "time": f"{timezone.localtime():%H:%M:%S}"}
        answered = gettext("Answered with 2xx: %(count)s.") % {"count": ok}
        self.message_user(request, f"{sent} {answered}", level)

    def has_resend_permission(self, request):
        return self.in_scope(request, None) and (
            request_is_business_admin(request) or request.user.has_perm("operators.change_webhookevent")
        )


# --- Sign-in lockouts (django-axes): superusers only ------------------------------------
# The attempts name usernames and client addresses of every business's
# people: platform staff (superusers) see them, not compliance reviewers
# nor anyone given model permissions. A superuser deletes an AccessAttempt
# to lift a lockout early.


class _SuperusersOnly:
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser


@admin.register(AccessAttempt)
class SignInAttemptAdmin(_SuperusersOnly, axes_admin.AccessAttemptAdmin):
    pass


@admin.register(AccessFailureLog)
class SignInFailureAdmin(_SuperusersOnly, axes_admin.AccessFailureLogAdmin):
    pass


@admin.register(AccessLog)
class SignInLogAdmin(_SuperusersOnly, axes_admin.AccessLogAdmin):
    pass
