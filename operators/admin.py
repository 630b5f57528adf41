from django.contrib import admin

from operators.models import Business, Decision, Operator


@admin.register(Business)
class BusinessAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "retention_days", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Operator)
class OperatorAdmin(admin.ModelAdmin):
    list_display = ["display_name", "user", "business", "presence", "last_seen_at"]
    list_filter = ["business", "presence"]
    search_fields = ["display_name", "user__username", "user__email"]
    raw_id_fields = ["user"]


@admin.register(Decision)
class DecisionAdmin(admin.ModelAdmin):
    list_display = ["participant", "outcome", "reason_code", "operator", "shared_with_customer", "created_at"]
    list_filter = ["outcome", "reason_code", "operator__business", "created_at"]
    search_fields = ["participant__name", "participant__business_reference", "comment"]
    raw_id_fields = ["participant", "operator"]
    date_hierarchy = "created_at"
