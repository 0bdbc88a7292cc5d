# Connector.pay_code, step 3 of 3: unique, not null, generated for new connectors.

from django.db import migrations, models

import stations.models


class Migration(migrations.Migration):
    dependencies = [
        ("stations", "0014_fill_connector_pay_codes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="connector",
            name="pay_code",
            field=models.CharField(
                default=stations.models.new_pay_code,
                editable=False,
                help_text="On the connector's Scan2Pay sticker: its public page is /pay/<code>/.",
                max_length=10,
                unique=True,
                verbose_name="pay code",
            ),
        ),
    ]
