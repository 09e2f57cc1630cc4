from django.contrib import admin

from conditions.models import Condition


@admin.register(Condition)
class ConditionAdmin(admin.ModelAdmin):
    list_display = ["name", "body_region", "is_active"]
    list_filter = ["body_region", "is_active"]
    search_fields = ["name", "summary"]
    prepopulated_fields = {"slug": ["name"]}
