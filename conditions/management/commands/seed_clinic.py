"""Load the clinic's starting data. Lives in conditions, the lowest layer that may import
both the clinic's models and the conditions'."""

from django.core.management.base import BaseCommand
from django.db import transaction

from clinic.seeding import seed_clinic_reference_data
from conditions.seeding import seed_conditions, seed_coverage_rules, seed_pathways


class Command(BaseCommand):
    help = (
        "Create the clinic's starting data (location, hours, holidays, procedure types, conditions, pathways, "
        "coverage rules). Idempotent."
    )

    @transaction.atomic
    def handle(self, *args, **options):
        created = seed_clinic_reference_data()
        created["conditions"] = seed_conditions()
        created["pathways"] = seed_pathways()
        created["coverage rules"] = seed_coverage_rules()
        summary = ", ".join(f"{count} {what}" for what, count in created.items())
        self.stdout.write(self.style.SUCCESS(f"seed_clinic: created {summary}."))
