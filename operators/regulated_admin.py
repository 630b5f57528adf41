"""Admin of what regulated deployments need from a business (kyc.regulations):
its operators' training attestations per preset (an inline on the operator)
and its question bank for randomised questions."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.models import OperatorTraining
from operators.admin_scope import BusinessScopedAdmin, ParentScopedInline
from workflows.models import BankQuestion


class OperatorTrainingInline(ParentScopedInline):
    """Editable by whoever may change the operator (the business's admin for
    its own operators), scoped with it. Who recorded an attestation is set
    on save (OperatorAdmin.save_formset), never typed in."""

    model = OperatorTraining
    extra = 0
    fields = ["preset", "attested_on", "valid_until", "recorded_by"]
    readonly_fields = ["recorded_by"]
    verbose_name = _("training attestation")
    verbose_name_plural = _("training attestations (operators with the rule “Trained operators” need a current one)")

    def _parent_may_change(self, request, obj):
        return self.admin_site._registry[self.parent_model].has_change_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        return self._parent_may_change(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._parent_may_change(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._parent_may_change(request, obj)


def training_attestations_record_by(formset, user) -> None:
    """Save an OperatorTraining formset, each new or changed attestation
    recorded by ``user``."""
    attestations = formset.save(commit=False)
    for attestation in attestations:
        attestation.recorded_by = user
        attestation.save()
    for attestation in formset.deleted_objects:
        attestation.delete()
    formset.save_m2m()


@admin.register(BankQuestion)
class BankQuestionAdmin(BusinessScopedAdmin):
    """The business's question bank. Retired with ``active``, not deleted:
    the audit trail names the questions each call drew (questions.drawn)."""

    business_admin_may = frozenset({"view", "add", "change"})
    list_display = ["__str__", "business", "category", "answer", "active"]
    list_filter = ["business", "category", "answer", "active"]
    search_fields = ["category"]
    fields = ["business", "category", "ask", "answer", "choices", "active"]
