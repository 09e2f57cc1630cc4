from django.contrib import admin

from conditions.models import Condition, CoverageRule, Pathway, PathwayRule, PathwayStep


@admin.register(Condition)
class ConditionAdmin(admin.ModelAdmin):
    list_display = ["name", "body_region", "is_active"]
    list_filter = ["body_region", "is_active"]
    search_fields = ["name", "summary"]
    prepopulated_fields = {"slug": ["name"]}


class PathwayStepInline(admin.TabularInline):
    model = PathwayStep
    extra = 0
    fields = ["position", "code", "label", "kind", "procedure_type", "action", "specialty"]


class PathwayRuleInline(admin.StackedInline):
    model = PathwayRule
    extra = 0
    fk_name = "pathway"
    fields = [
        ("after_step", "priority"),
        ("relief_at_least", "relief_below", "relief_weeks_at_least", "relief_wore_off"),
        ("pain_at_least", "done_at_least", "done_window_months"),
        ("then", "next_step", "wait_days"),
        "explanation",
    ]


@admin.register(Pathway)
class PathwayAdmin(admin.ModelAdmin):
    list_display = ["name", "condition", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "summary"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [PathwayStepInline, PathwayRuleInline]


@admin.register(CoverageRule)
class CoverageRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "topic", "payer", "kind", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "topic", "payer", "text"]
    filter_horizontal = ["procedure_types", "counted_types"]
