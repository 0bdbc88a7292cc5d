"""Stations that booted before baselines existed have had their first boot already.

Without this, every station in service would count its next boot as its first and receive the
first-boot baselines.
"""

from django.db import migrations


def mark_booted_stations(apps, schema_editor):
    ChargingStation = apps.get_model("stations", "ChargingStation")
    FirstBoot = apps.get_model("baselines", "FirstBoot")
    booted = ChargingStation.objects.filter(
        organization__isnull=False, last_boot__isnull=False
    ).values_list("pk", "organization_id", "last_boot")
    FirstBoot.objects.bulk_create(
        (
            FirstBoot(station_id=pk, organization_id=org, booted_at=at)
            for pk, org, at in booted.iterator()
        ),
        batch_size=1000,
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [("baselines", "0001_initial")]

    operations = [migrations.RunPython(mark_booted_stations, migrations.RunPython.noop)]
