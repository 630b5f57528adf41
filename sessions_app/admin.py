from django.contrib import admin

from sessions_app.models import (
    AuditEvent,
    Evidence,
    Participant,
    TermsAcceptance,
    VerificationSession,
)


class ParticipantInline(admin.TabularInline):
    model = Participant
    extra = 0
    fields = ["name", "email", "business_reference", "language", "state", "link_expires_at", "link_revoked_at"]
    readonly_fields = fields
    show_change_link = True


@admin.register(VerificationSession)
class VerificationSessionAdmin(admin.ModelAdmin):
    list_display = ["public_id", "business", "kind", "state", "operator", "business_reference", "created_at", "answered_at", "ended_at"]
    list_filter = ["business", "state", "kind", "operator", "created_at"]
    search_fields = ["business_reference", "participants__name", "participants__email", "participants__business_reference"]
    readonly_fields = ["public_id", "state", "state_changed_at", "waiting_at", "answered_at", "ended_at", "state_version"]
    date_hierarchy = "created_at"
    inlines = [ParticipantInline]


@admin.register(Participant)
class ParticipantAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "session", "state", "language", "link_expires_at", "link_revoked_at"]
    list_filter = ["state", "language", "session__business"]
    search_fields = ["name", "email", "business_reference"]
    readonly_fields = ["public_id", "link_token_hash", "state", "state_changed_at", "last_seen_at"]
    raw_id_fields = ["session"]


@admin.register(TermsAcceptance)
class TermsAcceptanceAdmin(admin.ModelAdmin):
    list_display = ["participant", "terms_version", "accepted_at", "ip_address"]
    list_filter = ["terms_version", "participant__session__business"]
    search_fields = ["participant__name", "participant__email"]
    raw_id_fields = ["participant"]


@admin.register(Evidence)
class EvidenceAdmin(admin.ModelAdmin):
    list_display = ["public_id", "session", "participant", "kind", "source", "content_type", "size", "sha256", "created_at"]
    list_filter = ["kind", "source", "session__business"]
    search_fields = ["sha256", "participant__name"]
    raw_id_fields = ["session", "participant", "step"]
    readonly_fields = ["sha256", "size", "content_type", "file"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["business", "sequence", "created_at", "action", "actor_kind", "actor_user", "session", "participant"]
    list_filter = ["business", "action", "actor_kind"]
    search_fields = ["action", "session__public_id"]
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
