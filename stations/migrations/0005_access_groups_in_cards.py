# AccessGroup moved to the cards app with its table: only Django's state changes here.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("cards", "0001_initial"),
        ("stations", "0004_station_gateway_process"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="chargingstation",
                    name="access_groups",
                    field=models.ManyToManyField(blank=True, help_text="Authorized here in addition to the site's access groups.", related_name="stations", to="cards.accessgroup", verbose_name="access groups"),
                ),
                migrations.AlterField(
                    model_name="site",
                    name="access_groups",
                    field=models.ManyToManyField(blank=True, related_name="sites", to="cards.accessgroup", verbose_name="access groups"),
                ),
            ],
            database_operations=[],
        ),
    ]
