# Tariff.type (OCPI TariffType) and the parking tolerance a CDR was rated with.

from django.db import migrations, models


def tax_each_line(apps, schema_editor):
    """Records priced before VAT per component: every line had the record's one rate."""
    ChargeDetailRecord = apps.get_model("billing", "ChargeDetailRecord")
    for cdr in ChargeDetailRecord.objects.only("components", "tax_rate").iterator():
        components = cdr.components or []
        if all("tax_rate" in line for line in components):
            continue
        for line in components:
            line.setdefault("tax_rate", f"{cdr.tax_rate:.2f}")
        cdr.save(update_fields=["components"])


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0003_cards_in_cards_app"),
    ]

    operations = [
        migrations.AddField(
            model_name="chargedetailrecord",
            name="parking_tolerance_wh",
            field=models.PositiveIntegerField(
                default=0,
                help_text="Time between two meter readings counts as parking when the meter advanced by no more than this.",
                verbose_name="parking tolerance (Wh)",
            ),
        ),
        migrations.AddField(
            model_name="tariff",
            name="type",
            field=models.CharField(
                choices=[
                    ("REGULAR", "Regular (RFID, no charging preference)"),
                    ("AD_HOC_PAYMENT", "Ad hoc payment (card terminal)"),
                    ("PROFILE_CHEAP", "Charging preference: cheap"),
                    ("PROFILE_FAST", "Charging preference: fast"),
                    ("PROFILE_GREEN", "Charging preference: green"),
                ],
                default="REGULAR",
                help_text="Which sessions it prices; published to roaming partners as the OCPI type.",
                max_length=16,
                verbose_name="type",
            ),
        ),
        migrations.AlterField(
            model_name="tariff",
            name="elements",
            field=models.JSONField(
                default=list,
                help_text="OCPI 2.2.1 tariff elements: price components (ENERGY per kWh, TIME and PARKING_TIME per hour, FLAT per session) with step sizes, an optional vat (else the tax rate) and restrictions.",
                verbose_name="elements",
            ),
        ),
        migrations.RunPython(tax_each_line, migrations.RunPython.noop),
    ]
