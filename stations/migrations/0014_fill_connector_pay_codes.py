# Connector.pay_code, step 2 of 3: a random code for every existing connector.
# Separate from the schema changes: PostgreSQL refuses to alter a table with pending trigger
# events of the same transaction (Django's "migrations that add unique fields").

import secrets

from django.db import migrations

ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
LENGTH = 10


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def fill_pay_codes(apps, schema_editor):
    Connector = apps.get_model("stations", "Connector")
    taken = set(
        Connector.objects.exclude(pay_code__isnull=True).values_list("pay_code", flat=True)
    )
    pending = list(Connector.objects.filter(pay_code__isnull=True).only("pk"))
    for connector in pending:
        code = new_code()
        while code in taken:
            code = new_code()
        taken.add(code)
        connector.pay_code = code
    # A few statements for a whole fleet, not one per connector.
    Connector.objects.bulk_update(pending, ["pay_code"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("stations", "0013_connector_pay_code"),
    ]

    operations = [
        migrations.RunPython(fill_pay_codes, migrations.RunPython.noop),
    ]
