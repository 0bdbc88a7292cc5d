# IdToken moved to the cards app with its table: only Django's state changes here.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("cards", "0001_initial"),
        ("sessions_app", "0003_review_flag_and_unique_meter_values"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="chargingsession",
                    name="id_token",
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="charging_sessions", to="cards.idtoken", verbose_name="card"),
                ),
                migrations.AlterField(
                    model_name="reservation",
                    name="id_token",
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="reservations", to="cards.idtoken"),
                ),
            ],
            database_operations=[],
        ),
    ]
