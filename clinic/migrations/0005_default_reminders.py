"""Procedure types that existed before reminder offsets get the defaults seed_clinic gives
new ones: 3 days before (with preparation) and 1 day before."""

from django.db import migrations

DEFAULT_REMINDERS = ((3, True), (1, False))


def add_default_reminders(apps, schema_editor):
    ProcedureType = apps.get_model("clinic", "ProcedureType")
    ReminderOffset = apps.get_model("clinic", "ReminderOffset")
    ReminderOffset.objects.bulk_create(
        ReminderOffset(procedure_type=procedure, days_before=days, include_preparation=prep)
        for procedure in ProcedureType.objects.filter(reminder_offsets__isnull=True)
        for days, prep in DEFAULT_REMINDERS
    )


class Migration(migrations.Migration):
    dependencies = [("clinic", "0004_ledger_topics_attachments_reminders")]

    operations = [migrations.RunPython(add_default_reminders, migrations.RunPython.noop)]
