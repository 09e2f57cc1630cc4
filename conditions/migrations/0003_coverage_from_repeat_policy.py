"""Each procedure type's repeat policy (repeat_min_days, repeat_max_per_year) becomes
coverage rules before clinic drops the fields: an interval rule and a yearly rule per type,
default payer, each region on its own. A type a default rule of the same kind already checks
(e.g. an LCD rule seeded by seed_clinic) keeps that rule instead."""

from django.db import migrations

TEXT = "Clinic policy (was the procedure type's repeat policy): {what}."


def forwards(apps, schema_editor):
    ProcedureType = apps.get_model("clinic", "ProcedureType")
    CoverageRule = apps.get_model("conditions", "CoverageRule")
    for pt in ProcedureType.objects.all():
        wanted = []
        if pt.repeat_min_days:
            wanted.append(("interval", "min_interval", {"min_days": pt.repeat_min_days},
                           f"at least {pt.repeat_min_days} days apart", f"{pt.name}: {pt.repeat_min_days} days apart"))
        if pt.repeat_max_per_year:
            wanted.append(("yearly", "max_sessions", {"max_count": pt.repeat_max_per_year, "window_months": 12},
                           f"at most {pt.repeat_max_per_year} in 12 months",
                           f"{pt.name}: at most {pt.repeat_max_per_year} a year"))
        for suffix, kind, fields, what, name in wanted:
            topic = f"clinic-{pt.slug}-{suffix}"[:60]
            covered = CoverageRule.objects.filter(kind=kind, payer="", procedure_types=pt, is_active=True).exists()
            if covered or CoverageRule.objects.filter(topic=topic, payer="").exists():
                continue
            rule = CoverageRule.objects.create(
                topic=topic, name=name[:120], kind=kind, payer="", region_grouping="each",
                text=TEXT.format(what=what), **fields,
            )  # fmt: skip
            rule.procedure_types.add(pt)


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0009_procedure_site_and_levels"),
        ("conditions", "0002_pathways_and_coverage_rules"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
