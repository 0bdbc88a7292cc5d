from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ocpp_gateway", "0004_message_log_without_station_fk"),
    ]

    operations = [
        migrations.CreateModel(
            name="GatewayLease",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("holder", models.CharField(max_length=100, unique=True, verbose_name="process")),
                ("started", models.DateTimeField(verbose_name="started")),
                ("expires", models.DateTimeField(db_index=True, verbose_name="expires")),
            ],
            options={
                "verbose_name": "gateway process lease",
                "ordering": ["holder"],
            },
        ),
    ]
