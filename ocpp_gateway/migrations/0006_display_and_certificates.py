import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ocpp_gateway", "0005_gateway_lease"),
        ("stations", "0006_connector_within_evse"),
    ]

    operations = [
        migrations.CreateModel(
            name="CertificateRequest",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("csr", models.TextField(verbose_name="signing request (PEM)")),
                (
                    "certificate_type",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("ChargingStationCertificate", "Charging station (to the CSMS)"),
                            ("V2GCertificate", "V2G (ISO 15118)"),
                        ],
                        help_text="Empty: for both the CSMS connection and ISO 15118.",
                        max_length=32,
                        verbose_name="type",
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("rejected", "Rejected"),
                            ("signing", "Accepted, being signed"),
                            ("delivered", "Signed and installed"),
                            ("failed", "Failed"),
                        ],
                        max_length=10,
                        verbose_name="status",
                    ),
                ),
                (
                    "provider",
                    models.CharField(
                        help_text="The provider that answered (OCPP_CERTIFICATE_PROVIDER).",
                        max_length=200,
                        verbose_name="certificate provider",
                    ),
                ),
                (
                    "reason_code",
                    models.CharField(blank=True, max_length=20, verbose_name="reason code"),
                ),
                ("detail", models.CharField(blank=True, max_length=512, verbose_name="detail")),
                (
                    "certificate_chain",
                    models.TextField(blank=True, verbose_name="signed chain (PEM)"),
                ),
                ("created", models.DateTimeField(auto_now_add=True, verbose_name="received")),
                ("updated", models.DateTimeField(auto_now=True, verbose_name="updated")),
                (
                    "delivery",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="ocpp_gateway.commandlog",
                        verbose_name="CertificateSigned call",
                    ),
                ),
                (
                    "station",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="certificate_requests",
                        to="stations.chargingstation",
                    ),
                ),
            ],
            options={
                "verbose_name": "certificate signing request",
                "ordering": ["-created", "-id"],
                "indexes": [
                    models.Index(fields=["status", "updated"], name="certrequest_status_updated")
                ],
            },
        ),
        migrations.CreateModel(
            name="DisplayMessage",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "message_id",
                    models.PositiveIntegerField(
                        help_text="The id the station knows the message by.",
                        verbose_name="message id",
                    ),
                ),
                (
                    "priority",
                    models.CharField(
                        choices=[
                            ("AlwaysFront", "Always in front"),
                            ("InFront", "In front"),
                            ("NormalCycle", "Normal cycle"),
                        ],
                        max_length=12,
                        verbose_name="priority",
                    ),
                ),
                (
                    "state",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("Charging", "Charging"),
                            ("Faulted", "Faulted"),
                            ("Idle", "Idle"),
                            ("Unavailable", "Unavailable"),
                        ],
                        help_text="Empty: in every state of the station.",
                        max_length=12,
                        verbose_name="shown in state",
                    ),
                ),
                (
                    "start_time",
                    models.DateTimeField(blank=True, null=True, verbose_name="shown from"),
                ),
                (
                    "end_time",
                    models.DateTimeField(blank=True, null=True, verbose_name="shown until"),
                ),
                (
                    "transaction_id",
                    models.CharField(
                        blank=True,
                        help_text="Shown during this transaction only; the station removes it when it ends.",
                        max_length=36,
                        verbose_name="transaction id",
                    ),
                ),
                ("content", models.TextField(verbose_name="content")),
                (
                    "message_format",
                    models.CharField(
                        choices=[
                            ("ASCII", "ASCII text"),
                            ("HTML", "HTML"),
                            ("URI", "URI"),
                            ("UTF8", "UTF-8 text"),
                        ],
                        max_length=5,
                        verbose_name="format",
                    ),
                ),
                ("language", models.CharField(blank=True, max_length=8, verbose_name="language")),
                ("display", models.JSONField(blank=True, null=True, verbose_name="display")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("accepted", "Accepted by the station"),
                            ("reported", "Reported by the station"),
                            ("rejected", "Refused by the station"),
                            ("cleared", "Cleared"),
                            ("gone", "No longer on the station"),
                        ],
                        max_length=10,
                        verbose_name="status",
                    ),
                ),
                (
                    "answer",
                    models.CharField(
                        blank=True,
                        help_text="The station's answer to the last set or clear of this message.",
                        max_length=30,
                        verbose_name="last answer",
                    ),
                ),
                (
                    "reported_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="last reported"),
                ),
                ("report_request_id", models.IntegerField(blank=True, editable=False, null=True)),
                ("created", models.DateTimeField(auto_now_add=True, verbose_name="created")),
                ("updated", models.DateTimeField(auto_now=True, verbose_name="updated")),
                (
                    "station",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="display_messages",
                        to="stations.chargingstation",
                    ),
                ),
            ],
            options={
                "verbose_name": "display message",
                "ordering": ["station", "message_id"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("station", "message_id"),
                        name="displaymessage_unique_id_per_station",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="StationCertificate",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "certificate_type",
                    models.CharField(
                        choices=[
                            ("CSMSRootCertificate", "CSMS root"),
                            ("ManufacturerRootCertificate", "Manufacturer root"),
                            ("V2GRootCertificate", "V2G root (ISO 15118)"),
                            ("MORootCertificate", "Mobility operator root"),
                            ("V2GCertificateChain", "V2G certificate chain"),
                        ],
                        max_length=32,
                        verbose_name="type",
                    ),
                ),
                (
                    "hash_algorithm",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("SHA256", "SHA-256"),
                            ("SHA384", "SHA-384"),
                            ("SHA512", "SHA-512"),
                        ],
                        max_length=6,
                        verbose_name="hash algorithm",
                    ),
                ),
                (
                    "issuer_name_hash",
                    models.CharField(blank=True, max_length=128, verbose_name="issuer name hash"),
                ),
                (
                    "issuer_key_hash",
                    models.CharField(blank=True, max_length=128, verbose_name="issuer key hash"),
                ),
                (
                    "serial_number",
                    models.CharField(blank=True, max_length=40, verbose_name="serial number"),
                ),
                (
                    "child_certificates",
                    models.JSONField(blank=True, default=list, verbose_name="child certificates"),
                ),
                (
                    "certificate",
                    models.TextField(
                        blank=True,
                        help_text="As the operator installed it.",
                        verbose_name="certificate (PEM)",
                    ),
                ),
                ("subject", models.CharField(blank=True, max_length=255, verbose_name="subject")),
                (
                    "not_after",
                    models.DateTimeField(blank=True, null=True, verbose_name="valid until"),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("installed", "Installed"),
                            ("reported", "Reported by the station"),
                            ("rejected", "Refused by the station"),
                            ("deleted", "Deleted"),
                            ("gone", "No longer on the station"),
                        ],
                        max_length=10,
                        verbose_name="status",
                    ),
                ),
                (
                    "answer",
                    models.CharField(
                        blank=True,
                        help_text="The station's answer to the last install or delete of this certificate.",
                        max_length=30,
                        verbose_name="last answer",
                    ),
                ),
                (
                    "reported_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="last reported"),
                ),
                ("created", models.DateTimeField(auto_now_add=True, verbose_name="created")),
                ("updated", models.DateTimeField(auto_now=True, verbose_name="updated")),
                (
                    "station",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="certificates",
                        to="stations.chargingstation",
                    ),
                ),
            ],
            options={
                "verbose_name": "station certificate",
                "ordering": ["station", "certificate_type", "id"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("issuer_key_hash", ""), _negated=True),
                        fields=(
                            "station",
                            "hash_algorithm",
                            "issuer_name_hash",
                            "issuer_key_hash",
                            "serial_number",
                        ),
                        name="stationcertificate_unique_hash_per_station",
                    )
                ],
            },
        ),
    ]
