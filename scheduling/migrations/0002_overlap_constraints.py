"""Exclusion constraints against overlapping bookings, on PostgreSQL only."""

from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations

from scheduling.constraints import add_overlap_constraints, remove_overlap_constraints


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0001_initial")]

    operations = [
        # btree_gist lets one GiST index combine "same provider" (=) with "ranges overlap"
        # (&&). CreateExtension does nothing on other databases.
        BtreeGistExtension(),
        migrations.RunPython(add_overlap_constraints, remove_overlap_constraints),
    ]
