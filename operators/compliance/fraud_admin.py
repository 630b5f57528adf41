"""Compliance's side of fraud: the flags operators raised (cleared here by a
second staff member, never deleted), and the business's negative list
(kept by its compliance staff and business admins)."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from operators.admin_scope import BusinessScopedAdmin, request_is_business_admin, request_staff_scope
from operators.compliance.access import ComplianceReadOnlyAdmin, is_compliance_reviewer
from operators.fraud_flags import fraud_flag_clear
from operators.models import FraudFlag, NegativeListEntry
from operators.repeat_applicants import negative_list_entry_normalise, negative_list_entry_save


class FraudFlagClearForm(forms.ModelForm):
    """Clearing is the one change: the note, and the service's rules (not the
    person who raised it, not twice) as this form's errors."""

    class Meta:
        model = FraudFlag
        fields = ["clear_note"]

    user = None  # set by FraudFlagAdmin.get_form

    def clean(self):
        cleaned = super().clean()
        try:
            self.instance = fraud_flag_clear(flag=self.instance, user=self.user, note=cleaned.get("clear_note", ""))
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, errors in error.error_dict.items():
                    self.add_error(field if field in self.fields else None, errors)
            else:
                self.add_error(None, error)
        return cleaned


class FraudFlagOpenFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("yes", _("Open")), ("no", _("Cleared"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(cleared_at__isnull=True)
        if self.value() == "no":
            return queryset.filter(cleared_at__isnull=False)
        return queryset


@admin.register(FraudFlag)
class FraudFlagAdmin(ComplianceReadOnlyAdmin):
    list_display = ["session_link", "reason", "raised_by", "raised_at", "cleared_by", "cleared_at"]
    list_filter = [FraudFlagOpenFilter, "reason", "session__business", "raised_at"]
    list_select_related = ["session", "raised_by", "cleared_by"]
    date_hierarchy = "raised_at"
    form = FraudFlagClearForm
    readonly = ["session_link", "reason", "note", "raised_by", "raised_at", "cleared_by", "cleared_at"]

    def role_permits(self, request, action: str, obj=None) -> bool:
        # Compliance clears (a change); nobody adds here (operators raise
        # flags in the console) and nobody deletes: the record stays.
        if action == "change":
            return is_compliance_reviewer(request.user)
        if action in ("add", "delete"):
            return False
        return super().role_permits(request, action, obj)

    def get_fields(self, request, obj=None):
        return [*self.readonly, "clear_note"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.cleared_at is not None:
            return [*self.readonly, "clear_note"]
        return self.readonly

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"user": request.user})

    def save_model(self, request, obj, form, change):
        # fraud_flag_clear saved it, with its audit event and webhook, when
        # the form was validated.
        return None

    @admin.display(description=_("session"), ordering="session__created_at")
    def session_link(self, flag):
        url = reverse("admin:sessions_app_verificationsession_review", args=[flag.session_id])
        return format_html('<a href="{}">{}</a>', url, flag.session.public_id)


class NegativeListEntryForm(forms.ModelForm):
    class Meta:
        model = NegativeListEntry
        fields = ["business", "kind", "document_number", "name", "birth_date", "source_session", "reason"]

    def _post_clean(self):
        super()._post_clean()
        if self.errors:
            return
        try:
            negative_list_entry_normalise(self.instance)
        except ValidationError as error:
            self._update_errors(error)


@admin.register(NegativeListEntry)
class NegativeListEntryAdmin(BusinessScopedAdmin):
    form = NegativeListEntryForm
    list_display = ["kind", "document_number", "name", "birth_date", "reason", "business", "added_by", "added_at"]
    list_filter = ["kind", "business", "added_at"]
    search_fields = ["document_number", "name", "reason"]
    raw_id_fields = ["source_session"]
    readonly_fields = ["added_by", "added_at"]

    def role_permits(self, request, action: str, obj=None) -> bool:
        # The business's list: its compliance staff and its admins keep it.
        # A platform-wide compliance reviewer (linked to no business) reads
        # every business's list, as they read everything else, and changes
        # none of it: only superusers edit across businesses.
        if request_is_business_admin(request):
            return True
        user = request.user
        if not is_compliance_reviewer(user):
            return False
        return action == "view" or user.is_superuser or request_staff_scope(request).business_id is not None

    def save_model(self, request, obj, form, change):
        negative_list_entry_save(entry=obj, user=request.user, created=not change)
