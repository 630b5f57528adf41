"""Admin of booked calls: operators' working hours (inline on the operator),
and the bookings themselves, read-only (they change through the customer's
link page and the API, which e-mail the customer and tell the webhook; an
edit here would do neither)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.models import WorkingHours
from operators.admin_scope import ParentScopedInline
from operators.compliance.access import ComplianceReadOnlyAdmin
from sessions_app.models import Booking


class WorkingHoursInline(ParentScopedInline):
    """Editable by whoever may change the operator (the business's admin for
    its own operators): the rows are the operator's, scoped with it."""

    model = WorkingHours
    extra = 0
    fields = ["weekday", "start", "end"]
    verbose_name = _("working hours (business's time zone)")

    def _parent_may_change(self, request, obj):
        return self.admin_site._registry[self.parent_model].has_change_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        return self._parent_may_change(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._parent_may_change(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._parent_may_change(request, obj)


@admin.register(Booking)
class BookingAdmin(ComplianceReadOnlyAdmin):
    business_admin_may = frozenset({"view"})
    audit_views = False  # times, states and ids: no personal data
    list_display = ["session_id_", "business", "state", "starts_at", "operator", "reminder_sent_at", "no_show_at"]
    list_filter = ["state", ("session__business", admin.RelatedOnlyFieldListFilter)]
    readonly_fields = [f.name for f in Booking._meta.fields]
    list_select_related = ["session__business", "operator"]
    date_hierarchy = "starts_at"

    @admin.display(description=_("session"))
    def session_id_(self, booking):
        return booking.session.public_id

    @admin.display(description=_("business"))
    def business(self, booking):
        return booking.session.business

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
