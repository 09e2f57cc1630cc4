from django.contrib import admin, messages

from referrals.models import (
    Attachment,
    Patient,
    PortalAccessRequest,
    Referral,
    ReferralDiagnosis,
    ReferralEvent,
    ReferringPhysician,
    ReferringPractice,
    ReviewTarget,
)
from referrals.portal_services import physician_invite, practice_deactivate, practice_reactivate


class PhysicianInline(admin.TabularInline):
    model = ReferringPhysician
    extra = 0
    fields = ["first_name", "last_name", "credentials", "npi", "email", "user", "is_active"]
    raw_id_fields = ["user"]


@admin.register(ReferringPractice)
class ReferringPracticeAdmin(admin.ModelAdmin):
    """``is_active`` changes only through the actions: deactivating must also end the
    physicians' sessions and be audited (``practice_deactivate``), which a ticked box would not."""

    list_display = ["name", "city", "phone", "fax", "is_active"]
    list_filter = ["is_active", "state"]
    search_fields = ["name", "city"]
    readonly_fields = ["is_active"]
    inlines = [PhysicianInline]
    actions = ["deactivate", "reactivate"]

    @admin.action(description="Deactivate (ends every physician's portal access and sessions now)",
                  permissions=["change"])  # fmt: skip
    def deactivate(self, request, queryset):
        ended = sum(
            practice_deactivate(practice=practice, actor=request.user) for practice in queryset.filter(is_active=True)
        )
        self.message_user(request, f"Deactivated; {ended} session(s) ended.", messages.SUCCESS)

    @admin.action(description="Reactivate", permissions=["change"])
    def reactivate(self, request, queryset):
        for practice in queryset.filter(is_active=False):
            practice_reactivate(practice=practice, actor=request.user)
        self.message_user(request, "Reactivated.", messages.SUCCESS)


@admin.register(ReferringPhysician)
class ReferringPhysicianAdmin(admin.ModelAdmin):
    list_display = ["__str__", "practice", "npi", "email", "user", "is_active"]
    list_filter = ["is_active", "practice"]
    search_fields = ["first_name", "last_name", "npi", "email", "practice__name"]
    list_select_related = ["practice", "user"]
    raw_id_fields = ["user"]
    actions = ["invite_to_portal"]

    @admin.action(description="Invite to the portal (e-mail a set-password link)")
    def invite_to_portal(self, request, queryset):
        for physician in queryset:
            physician_invite(physician=physician)
        self.message_user(request, f"Invited {queryset.count()} physician(s).", messages.SUCCESS)


@admin.register(PortalAccessRequest)
class PortalAccessRequestAdmin(admin.ModelAdmin):
    """Read-only here: approving means choosing the practice, on ``referrals:access_request``."""

    list_display = ["__str__", "email", "npi", "status", "created_at", "decided_by"]
    list_filter = ["status"]
    search_fields = ["first_name", "last_name", "email", "npi", "practice_name"]
    readonly_fields = ["status", "decided_by", "decided_at", "physician", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    list_display = ["record_number", "last_name", "first_name", "date_of_birth", "phone", "email"]
    search_fields = ["record_number", "last_name", "first_name", "email", "phone"]


class DiagnosisInline(admin.TabularInline):
    model = ReferralDiagnosis
    extra = 0


class AttachmentInline(admin.TabularInline):
    model = Attachment
    extra = 0
    fields = ["original_name", "kind", "content_type", "size", "uploaded_by", "uploaded_at"]
    readonly_fields = fields
    can_delete = False


class EventInline(admin.TabularInline):
    model = ReferralEvent
    extra = 0
    fields = ["at", "kind", "from_status", "to_status", "actor", "text", "visible_to_referrer"]
    readonly_fields = fields
    can_delete = False


@admin.register(Referral)
class ReferralAdmin(admin.ModelAdmin):
    """Read-mostly: status changes go through the triage pages, which keep the timeline."""

    list_display = ["reference", "patient", "referring_physician", "status", "urgency", "received_at", "review_due_at"]
    list_filter = ["status", "urgency", "source"]
    search_fields = ["patient__last_name", "patient__first_name", "patient__record_number"]
    list_select_related = ["patient", "referring_physician"]
    readonly_fields = ["status", "review_due_at", "submission_token", "created_by", "created_at", "updated_at"]
    raw_id_fields = ["patient", "referring_physician", "assigned_to"]
    inlines = [DiagnosisInline, AttachmentInline, EventInline]


@admin.register(ReviewTarget)
class ReviewTargetAdmin(admin.ModelAdmin):
    list_display = ["urgency", "open_days"]
