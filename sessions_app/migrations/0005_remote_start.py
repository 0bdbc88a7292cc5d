# Remote starts get a record of their own (it was read off the gateway's command log, in OCPP
# 1.6 payload keys). The remote starts already logged are copied over, so one sent just before
# the upgrade is still claimed by the start it leads to, and the claimed ones keep their session.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# CommandLog status → RemoteStart status; pending and accepted ones may still be claimed.
STATUS = {"pending": "pending", "accepted": "accepted", "rejected": "rejected"}


def copy_logged_remote_starts(apps, schema_editor):
    """One RemoteStart per start_charging command logged so far, with its time and claim."""
    CommandLog = apps.get_model("ocpp_gateway", "CommandLog")
    Connector = apps.get_model("stations", "Connector")
    RemoteStart = apps.get_model("sessions_app", "RemoteStart")
    logs = CommandLog.objects.filter(command="start_charging").order_by("created", "pk")
    claimed = set()
    for log in logs.iterator(chunk_size=2000):
        payload = log.payload if isinstance(log.payload, dict) else {}
        connector_id = None
        if payload.get("connectorId") is not None:
            connector_id = (
                Connector.objects.filter(
                    station_id=log.station_id, connector_id=payload["connectorId"]
                )
                .values_list("pk", flat=True)
                .first()
            )
            if connector_id is None:
                continue  # the connector is gone: nothing can claim it any more
        # One session is claimed by one remote start.
        session_id = log.session_id if log.session_id not in claimed else None
        claimed.add(session_id)
        start = RemoteStart.objects.create(
            station_id=log.station_id,
            connector_id=connector_id,
            id_tag=str(payload.get("idTag", "")).strip().upper(),
            requested_by_id=log.requested_by_id,
            status=STATUS.get(log.status, "failed"),
            session_id=session_id,
        )
        # auto_now_add stamped it now; the claim window needs the time it was sent.
        RemoteStart.objects.filter(pk=start.pk).update(created_at=log.created)


class Migration(migrations.Migration):
    dependencies = [
        ("ocpp_gateway", "0002_commandlog_session"),
        ("sessions_app", "0004_id_tokens_in_cards"),
        ("stations", "0004_station_gateway_process"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="RemoteStart",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("id_tag", models.CharField(max_length=36, verbose_name="id tag")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Pending"),
                            ("accepted", "Accepted"),
                            ("rejected", "Rejected"),
                            ("failed", "No answer"),
                        ],
                        default="pending",
                        max_length=10,
                        verbose_name="status",
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(auto_now_add=True, verbose_name="requested at"),
                ),
                (
                    "connector",
                    models.ForeignKey(
                        blank=True,
                        help_text="Empty: whichever connector the driver plugs into.",
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="remote_starts",
                        to="stations.connector",
                    ),
                ),
                (
                    "requested_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "session",
                    models.OneToOneField(
                        blank=True,
                        help_text="The session whose start claimed it.",
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="remote_start",
                        to="sessions_app.chargingsession",
                    ),
                ),
                (
                    "station",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="remote_starts",
                        to="stations.chargingstation",
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-id"],
                "indexes": [
                    models.Index(fields=["station", "created_at"], name="remotestart_station_time")
                ],
            },
        ),
        migrations.RunPython(copy_logged_remote_starts, migrations.RunPython.noop, elidable=True),
    ]
