from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("stations", "0003_charging_profile_local_list"),
    ]

    operations = [
        migrations.AddField(
            model_name="chargingstation",
            name="gateway_process",
            field=models.CharField(
                blank=True,
                db_index=True,
                editable=False,
                max_length=100,
                verbose_name="gateway process",
            ),
        ),
    ]
