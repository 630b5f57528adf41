"""Per-business administration: every ModelAdmin of a business's rows shows
a staff user only the businesses accounts.selectors.staff_scope gives them.

Scope is about *which rows*; what a user may do with them is their model
permissions, or, for a business admin (accounts.selectors.is_business_admin),
the fixed set each admin declares in ``business_admin_may``. Both are checked
in one place (BusinessScopedAdmin._permits), so the list, the detail, change,
delete and history pages, the actions (they act on the scoped queryset), the
raw-id and autocomplete popups (the related model's own scoped list), the
related-field dropdowns and the list filters all agree: another business's
rows do not exist, and neither do its names.
"""

from django.contrib import admin
from django.contrib.admin import RelatedOnlyFieldListFilter

from accounts.selectors import StaffScope, is_business_admin, staff_scope

# Never a lookup in an admin URL (``?webhook_secret__startswith=a`` would
# let the row count spell out a secret one character at a time), whoever asks.
SECRET_FIELD_NAMES = frozenset({"webhook_secret", "key_hash", "secret_encrypted", "password", "link_token_hash"})

ACTIONS = ("view", "add", "change", "delete")


def request_staff_scope(request) -> StaffScope:
    """staff_scope of the request's user, worked out once per request (a
    changelist asks for it once per row's permission check)."""
    scope = getattr(request, "_verity_staff_scope", None)
    if scope is None:
        scope = request._verity_staff_scope = staff_scope(request.user)
    return scope


def request_is_business_admin(request) -> bool:
    answer = getattr(request, "_verity_business_admin", None)
    if answer is None:
        answer = request._verity_business_admin = is_business_admin(request.user)
    return answer


class BusinessScopedAdmin(admin.ModelAdmin):
    """A ModelAdmin of rows that belong to one business.

    Rows are limited with the model's own ``objects.for_business`` (the one
    place each model says how it reaches its business; a model without one
    overrides ``rows_of_business``). ``business_admin_may`` is what a business
    admin may do with their own business's rows (a subset of ACTIONS)."""

    business_admin_may: frozenset = frozenset()

    # --- rows --------------------------------------------------------------------------

    def rows_of_business(self, queryset, business_id: int):
        return queryset.for_business(business_id)

    def scope_queryset(self, request, queryset):
        scope = request_staff_scope(request)
        if scope.everything:
            return queryset
        if scope.business_id is None:
            return queryset.none()
        return self.rows_of_business(queryset, scope.business_id)

    def get_queryset(self, request):
        return self.scope_queryset(request, super().get_queryset(request))

    def in_scope(self, request, obj) -> bool:
        scope = request_staff_scope(request)
        if obj is None or scope.everything:
            return scope.reaches_any
        return self.scope_queryset(request, self.model._default_manager.filter(pk=obj.pk)).exists()

    # --- what the user may do ------------------------------------------------------------

    def role_permits(self, request, action: str, obj=None) -> bool:
        """Without looking at scope: the business admin role, else the user's
        model permissions (a superuser has them all)."""
        if action in self.business_admin_may and request_is_business_admin(request):
            return True
        if action == "add":
            return super().has_add_permission(request)
        return getattr(super(), f"has_{action}_permission")(request, obj)

    def _permits(self, request, action: str, obj=None) -> bool:
        return self.in_scope(request, obj) and self.role_permits(request, action, obj)

    def has_module_permission(self, request):
        return any(self._permits(request, action) for action in ACTIONS)

    def has_view_permission(self, request, obj=None):
        return self._permits(request, "view", obj) or self._permits(request, "change", obj)

    def has_add_permission(self, request):
        return self._permits(request, "add")

    def has_change_permission(self, request, obj=None):
        return self._permits(request, "change", obj)

    def has_delete_permission(self, request, obj=None):
        return self._permits(request, "delete", obj)

    # --- other businesses' names: dropdowns, filters, lookups -------------------------------

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        """A dropdown (or a raw-id field's validation) offers only rows in scope."""
        related_admin = self.admin_site._registry.get(db_field.remote_field.model)
        if isinstance(related_admin, BusinessScopedAdmin) and "queryset" not in kwargs:
            kwargs["queryset"] = related_admin.scope_queryset(request, db_field.remote_field.model._default_manager.all())
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_list_filter(self, request):
        """A related-field filter lists every row of the related table (every
        business's name, every operator); for a user who sees less than every
        business it lists only what the user's own rows point at."""
        list_filter = super().get_list_filter(request)
        if request_staff_scope(request).everything:
            return list_filter
        return [self._scoped_filter(entry) for entry in list_filter]

    def _scoped_filter(self, entry):
        if not isinstance(entry, str):
            return entry
        model, field = self.model, None
        for part in entry.split("__"):
            field = model._meta.get_field(part)
            if not field.is_relation:
                return entry
            model = field.related_model
        return (entry, RelatedOnlyFieldListFilter) if field is not None and field.is_relation else entry

    def lookup_allowed(self, lookup, value, request=None):
        if any(part in SECRET_FIELD_NAMES for part in lookup.split("__")):
            return False
        return super().lookup_allowed(lookup, value, request)


class ParentScopedInline(admin.TabularInline):
    """An inline shown to whoever may view its parent row (which the parent's
    scoped admin has already limited to the user's businesses)."""

    def has_view_permission(self, request, obj=None):
        return self.admin_site._registry[self.parent_model].has_view_permission(request, obj)
