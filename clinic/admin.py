from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from clinic import outbox
from clinic.models import (
    AuditEvent,
    Closure,
    FollowUpCheck,
    HolidayRule,
    Location,
    OpeningRange,
    OutgoingMessage,
    ProcedureType,
    Provider,
    ReminderOffset,
    Room,
    RoomCapability,
    User,
    WeekdayHours,
)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Superusers only may change accounts here. Clinic admins may look, and manage people in
    the product (``clinic:users``: invite, roles, deactivate, password link), which never
    grants the superuser or staff flag or a raw permission, nor sets a password. So for them
    every change, the add form and the password form are refused, whatever is posted."""

    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "role_names", "is_active", "last_login"]
    list_filter = ["groups", "is_active", "is_staff"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name")}),
        (_("Roles"), {"fields": ("groups", "is_active", "is_staff", "is_superuser", "user_permissions")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    # What a clinic admin sees: no flags, groups, permissions or password.
    viewer_fieldsets = (
        (None, {"fields": ("email",)}),
        (_("Personal info"), {"fields": ("first_name", "last_name")}),
        (_("Status"), {"fields": ("is_active",)}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    filter_horizontal = ["groups", "user_permissions"]

    @admin.display(description="Roles")
    def role_names(self, user: User) -> str:
        return ", ".join(group.name for group in user.groups.all())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    def get_fieldsets(self, request, obj=None):
        if obj is not None and not request.user.is_superuser:
            return self.viewer_fieldsets
        return super().get_fieldsets(request, obj)

    def has_add_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        # Django's password form (user_change_password) asks this too.
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser


class WeekdayHoursInline(admin.TabularInline):
    model = WeekdayHours
    extra = 0
    max_num = 7
    fields = ["weekday", "mode", "summary"]
    readonly_fields = ["summary"]
    show_change_link = True


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["name", "city", "phone", "time_zone", "slot_grid_minutes", "is_active"]
    list_filter = ["is_active", "time_zone"]
    search_fields = ["name", "city", "street"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [WeekdayHoursInline]


class OpeningRangeInline(admin.TabularInline):
    model = OpeningRange
    extra = 1


@admin.register(WeekdayHours)
class WeekdayHoursAdmin(admin.ModelAdmin):
    list_display = ["location", "weekday", "mode", "summary"]
    list_filter = ["location", "mode", "weekday"]
    inlines = [OpeningRangeInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("location").prefetch_related("ranges")


@admin.register(HolidayRule)
class HolidayRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name"]


@admin.register(Closure)
class ClosureAdmin(admin.ModelAdmin):
    list_display = ["reason", "start_date", "end_date", "location", "kind", "is_active"]
    list_filter = ["kind", "is_active", "location"]
    search_fields = ["reason"]
    date_hierarchy = "start_date"
    list_select_related = ["location"]


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ["display_name", "credentials", "npi", "user", "is_active"]
    list_filter = ["is_active", "locations"]
    search_fields = ["display_name", "npi", "user__email"]
    filter_horizontal = ["locations"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]


@admin.register(RoomCapability)
class RoomCapabilityAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["name", "location", "capability_names", "is_active"]
    list_filter = ["location", "capabilities", "is_active"]
    search_fields = ["name"]
    filter_horizontal = ["capabilities"]
    list_select_related = ["location"]

    @admin.display(description="Capabilities")
    def capability_names(self, room: Room) -> str:
        return ", ".join(c.name for c in room.capabilities.all())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("capabilities")


class FollowUpCheckInline(admin.TabularInline):
    model = FollowUpCheck
    extra = 0


class ReminderOffsetInline(admin.TabularInline):
    model = ReminderOffset
    extra = 0


@admin.register(ProcedureType)
class ProcedureTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "duration_minutes", "turnover_minutes", "sedation", "is_active"]
    list_filter = ["kind", "sedation", "requires_imaging", "requires_prior_authorization", "is_active", "locations"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["required_capabilities", "locations"]
    inlines = [ReminderOffsetInline, FollowUpCheckInline]
    fieldsets = (
        (None, {"fields": ("name", "slug", "kind", "color", "is_active")}),
        ("Timing", {"fields": ("duration_minutes", "turnover_minutes")}),
        ("Where", {"fields": ("required_capabilities", "locations")}),
        ("Patient preparation", {"fields": ("sedation", "driver", "fasting_hours", "preparation")}),
        ("Before booking", {"fields": ("requires_imaging", "requires_prior_authorization")}),
    )


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The PHI access log: searchable, never editable."""

    list_display = ["at", "actor_label", "action", "object_type", "object_id", "ip_address", "summary"]
    list_filter = ["action", "object_type"]
    search_fields = ["actor_label", "object_id", "summary", "ip_address"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OutgoingMessage)
class OutgoingMessageAdmin(admin.ModelAdmin):
    """The ledger, read-only: find a message by status, kind, due date or recipient; resend
    failed ones (the same service as the staff page, so a resend is owed once)."""

    list_display = ["due_at", "kind", "to_email", "status", "attempts", "sent_at", "topic", "last_error"]
    list_filter = ["status", "kind", ("due_at", admin.DateFieldListFilter)]
    search_fields = ["to_email", "key", "topic", "subject"]
    date_hierarchy = "due_at"
    actions = ["resend"]
    readonly_fields = [f.name for f in OutgoingMessage._meta.fields]
    list_per_page = 50

    def get_queryset(self, request):
        # The bodies and attachments are large and not in the list; the detail page loads them.
        return super().get_queryset(request).defer("body_text", "body_html", "attachments")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Resend failed messages", permissions=["change"])
    def resend(self, request, queryset):
        failed = queryset.filter(status=OutgoingMessage.Status.FAILED).values_list("pk", flat=True)
        count = sum(outbox.message_resend(message_id=pk, actor=request.user) for pk in failed)
        skipped = queryset.count() - count
        self.message_user(request, f"{count} message(s) queued again; {skipped} skipped (only failed ones resend).")
