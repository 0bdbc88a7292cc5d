# Permissions granted on cards and groups, and admin history, point at the content types of
# the app the models came from: rename those to this app instead of starting new ones.

from django.db import migrations

MODELS = ["accessgroup", "idtoken"]


def relabel(apps, old, new):
    content_type = apps.get_model("contenttypes", "ContentType")
    taken = set(
        content_type.objects.filter(app_label=new, model__in=MODELS).values_list("model", flat=True)
    )
    content_type.objects.filter(app_label=old, model__in=set(MODELS) - taken).update(
        app_label=new
    )


def forwards(apps, schema_editor):
    relabel(apps, "organizations", "cards")


def backwards(apps, schema_editor):
    relabel(apps, "cards", "organizations")


class Migration(migrations.Migration):

    dependencies = [
        ("cards", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
