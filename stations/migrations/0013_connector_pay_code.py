# Connector.pay_code, step 1 of 3: the column, nullable (0014 fills it, 0015 makes it unique).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("stations", "0012_site_time_zone"),
    ]

    operations = [
        migrations.AddField(
            model_name="connector",
            name="pay_code",
            field=models.CharField(editable=False, max_length=10, null=True),
        ),
    ]
