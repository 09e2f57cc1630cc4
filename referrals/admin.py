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
from referrals.portal_services import access_request_approve, access_request_reject, physician_invite


class PhysicianInline(admin.TabularInline):
    model = ReferringPhysician
    extra = 0
    fields = ["first_name", "last_name", "credentials", "npi", "email", "user", "is_active"]
    raw_id_fields = ["user"]


@admin.register(ReferringPractice)
class ReferringPracticeAdmin(admin.ModelAdmin):
    list_display = ["name", "city", "phone", "fax", "is_active"]
    list_filter = ["is_active", "state"]
    search_fields = ["name", "city"]
    inlines = [PhysicianInline]


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
    list_display = ["__str__", "email", "npi", "status", "created_at", "decided_by"]
    list_filter = ["status"]
    search_fields = ["first_name", "last_name", "email", "npi", "practice_name"]
    readonly_fields = ["status", "decided_by", "decided_at", "physician", "created_at"]
    actions = ["approve_and_invite", "reject"]

    @admin.action(description="Approve and invite")
    def approve_and_invite(self, request, queryset):
        for access_request in queryset:
            try:
                access_request_approve(access_request=access_request, actor=request.user)
            except ValueError as exc:
                self.message_user(request, f"{access_request}: {exc}", messages.WARNING)
            else:
                self.message_user(request, f"{access_request}: approved and invited.", messages.SUCCESS)

    @admin.action(description="Reject")
    def reject(self, request, queryset):
        for access_request in queryset:
            access_request_reject(access_request=access_request, actor=request.user)


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
