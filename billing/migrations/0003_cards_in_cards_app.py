# IdToken and AccessGroup moved to the cards app with their tables: only Django's state changes.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("billing", "0002_ocpi_tariffs_invoicing"),
        ("cards", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="chargedetailrecord",
                    name="id_token",
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="cdrs", to="cards.idtoken"),
                ),
                migrations.AlterField(
                    model_name="invoice",
                    name="id_token",
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="invoices", to="cards.idtoken"),
                ),
                migrations.AlterField(
                    model_name="tariffassignment",
                    name="access_group",
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="cards.accessgroup"),
                ),
            ],
            database_operations=[],
        ),
    ]
