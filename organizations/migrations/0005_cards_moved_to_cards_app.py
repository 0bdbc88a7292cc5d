# AccessGroup and IdToken live in the cards app now, on the same tables: they leave this app's
# state only, after every relation to them points at the cards app. No table is dropped.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("billing", "0003_cards_in_cards_app"),
        ("cards", "0001_initial"),
        ("organizations", "0004_member_invitations"),
        ("sessions_app", "0004_id_tokens_in_cards"),
        ("stations", "0005_access_groups_in_cards"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name="idtoken", name="access_groups"),
                migrations.RemoveField(model_name="idtoken", name="organization"),
                migrations.DeleteModel(name="AccessGroup"),
                migrations.DeleteModel(name="IdToken"),
            ],
            database_operations=[],
        ),
    ]
