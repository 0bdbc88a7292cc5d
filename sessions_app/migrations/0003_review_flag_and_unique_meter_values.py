"""Review flag and timestamp corrections of sessions; one meter value row per sample."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import sessions_app.models

# Retransmissions stored before the constraint: keep the first copy of each sample.
DROP_DUPLICATE_METER_VALUES = """
DELETE FROM sessions_app_metervalue WHERE id NOT IN (
    SELECT MIN(id) FROM sessions_app_metervalue
    GROUP BY station_id, connector_number, timestamp, measurand, phase, location, context
)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("sessions_app", "0002_chargingsession_roaming_partner"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="chargingsession",
            name="corrections",
            field=models.JSONField(blank=True, default=list, verbose_name="corrections"),
        ),
        migrations.AddField(
            model_name="chargingsession",
            name="needs_review",
            field=models.BooleanField(
                default=False,
                help_text="Implausible readings or a pricing failure: not billed until released.",
                verbose_name="needs review",
            ),
        ),
        migrations.AddField(
            model_name="chargingsession",
            name="review_outcome",
            field=models.CharField(
                blank=True,
                choices=[("released", "Released as recorded"), ("corrected", "Corrected")],
                max_length=10,
                verbose_name="review outcome",
            ),
        ),
        migrations.AddField(
            model_name="chargingsession",
            name="review_reason",
            field=models.CharField(blank=True, max_length=255, verbose_name="review reason"),
        ),
        migrations.AddField(
            model_name="chargingsession",
            name="reviewed_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="reviewed at"),
        ),
        migrations.AddField(
            model_name="chargingsession",
            name="reviewed_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="reviewed by",
            ),
        ),
        migrations.AlterField(
            model_name="chargingsession",
            name="start",
            field=sessions_app.models.SafeDateTimeField(verbose_name="start"),
        ),
        migrations.AlterField(
            model_name="chargingsession",
            name="stop",
            field=sessions_app.models.SafeDateTimeField(blank=True, null=True, verbose_name="stop"),
        ),
        migrations.AlterField(
            model_name="metervalue",
            name="timestamp",
            field=sessions_app.models.SafeDateTimeField(verbose_name="timestamp"),
        ),
        migrations.AlterField(
            model_name="reservation",
            name="expiry",
            field=sessions_app.models.SafeDateTimeField(verbose_name="expiry"),
        ),
        migrations.AddIndex(
            model_name="chargingsession",
            index=models.Index(
                condition=models.Q(("needs_review", True)),
                fields=["organization"],
                name="session_review",
            ),
        ),
        migrations.RunSQL(DROP_DUPLICATE_METER_VALUES, migrations.RunSQL.noop),
        migrations.AddConstraint(
            model_name="metervalue",
            constraint=models.UniqueConstraint(
                fields=(
                    "station",
                    "connector_number",
                    "timestamp",
                    "measurand",
                    "phase",
                    "location",
                    "context",
                ),
                name="unique_meter_value_sample",
            ),
        ),
    ]
