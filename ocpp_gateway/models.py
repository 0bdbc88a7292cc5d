"""The command log (CSMS-to-station calls) and the OCPP message log."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from ocpp_gateway.choices import CommandStatus, Direction, MessageType, RequestedVia
from organizations.tenancy import TenantQuerySet
from stations.models import ChargingStation


class CommandLogQuerySet(TenantQuerySet):
    """Command log rows narrowed by their station's organization."""

    org_path = "station__organization"


class CommandLog(models.Model):
    """One command sent to a station: who asked, what, and what the station answered."""

    station = models.ForeignKey(
        ChargingStation, on_delete=models.CASCADE, related_name="command_logs"
    )
    command = models.CharField(_("command"), max_length=48, help_text=_("e.g. start_charging"))
    action = models.CharField(_("OCPP action"), max_length=48, blank=True)
    payload = models.JSONField(_("payload"), default=dict)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    api_key = models.ForeignKey(
        "organizations.OrganizationAPIKey",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("API key"),
        help_text=_("The organization API key a machine client asked with."),
    )
    requested_via = models.CharField(
        _("requested via"), max_length=10, choices=RequestedVia.choices, default=RequestedVia.USER
    )
    status = models.CharField(
        _("status"), max_length=10, choices=CommandStatus.choices, default=CommandStatus.PENDING
    )
    response = models.JSONField(_("response"), null=True, blank=True)
    # The session a command led to (a remote start claimed by the station's StartTransaction)
    # or acted on; the payload stays exactly what was sent.
    session = models.ForeignKey(
        "sessions_app.ChargingSession",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="command_logs",
    )
    error_code = models.CharField(_("error code"), max_length=40, blank=True)
    error_description = models.CharField(_("error description"), max_length=255, blank=True)
    created = models.DateTimeField(_("requested at"), auto_now_add=True)
    completed = models.DateTimeField(_("completed at"), null=True, blank=True)

    objects = CommandLogQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["station", "-created"], name="commandlog_station_time")]

    def __str__(self):
        return f"{self.command} → {self.station} ({self.status})"


class OcppMessageQuerySet(TenantQuerySet):
    """Message log rows narrowed by their station's organization."""

    org_path = "station__organization"


class OcppMessage(models.Model):
    """One OCPP-J frame in or out, kept for support staff for a configurable retention."""

    station = models.ForeignKey(
        ChargingStation,
        on_delete=models.CASCADE,
        related_name="ocpp_messages",
        null=True,
        blank=True,
        # No database-level foreign key: its check takes FOR KEY SHARE on the station row at
        # every log flush, which deadlocked against session starts locking the same rows.
        db_constraint=False,
    )
    ocpp_id = models.CharField(_("OCPP identity"), max_length=48, db_index=True)
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    message_type = models.PositiveSmallIntegerField(
        _("message type"), choices=MessageType.choices, null=True, blank=True
    )
    action = models.CharField(_("action"), max_length=48, blank=True)
    unique_id = models.CharField(_("unique id"), max_length=64, blank=True)
    payload = models.JSONField(_("payload"), null=True, blank=True)
    raw = models.TextField(
        _("raw frame"), blank=True, help_text=_("Kept when the frame is not valid JSON.")
    )
    created = models.DateTimeField(_("time"), db_index=True)

    objects = OcppMessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("OCPP message")
        indexes = [models.Index(fields=["station", "-created"], name="ocppmessage_station_time")]

    def __str__(self):
        return f"{self.ocpp_id} {self.direction} {self.action} {self.unique_id}"


class GatewayLease(models.Model):
    """A serving gateway process, alive for as long as it keeps renewing `expires`."""

    holder = models.CharField(_("process"), max_length=100, unique=True)
    started = models.DateTimeField(_("started"))
    expires = models.DateTimeField(_("expires"), db_index=True)

    class Meta:
        ordering = ["holder"]
        verbose_name = _("gateway process lease")

    def __str__(self):
        return self.holder


# --- display messages and certificates (OCPP 2.0.1) ---------------------------------------------


class MessagePriority(models.TextChoices):
    """How a display message competes with the others (OCPP 2.0.1 MessagePriorityEnumType)."""

    ALWAYS_FRONT = "AlwaysFront", _("Always in front")
    IN_FRONT = "InFront", _("In front")
    NORMAL_CYCLE = "NormalCycle", _("Normal cycle")


class MessageState(models.TextChoices):
    """The station state a display message is limited to (OCPP 2.0.1 MessageStateEnumType)."""

    CHARGING = "Charging", _("Charging")
    FAULTED = "Faulted", _("Faulted")
    IDLE = "Idle", _("Idle")
    UNAVAILABLE = "Unavailable", _("Unavailable")


class MessageFormat(models.TextChoices):
    """How the station reads a message's content (OCPP 2.0.1 MessageFormatEnumType)."""

    ASCII = "ASCII", _("ASCII text")
    HTML = "HTML", _("HTML")
    URI = "URI", _("URI")
    UTF8 = "UTF8", _("UTF-8 text")


class DisplayMessageStatus(models.TextChoices):
    """What the platform knows of a display message on its station."""

    ACCEPTED = "accepted", _("Accepted by the station")
    REPORTED = "reported", _("Reported by the station")
    REJECTED = "rejected", _("Refused by the station")
    CLEARED = "cleared", pgettext_lazy("display message removed", "Cleared")
    GONE = "gone", _("No longer on the station")


class DisplayMessageQuerySet(TenantQuerySet):
    """Display messages narrowed by their station's organization."""

    org_path = "station__organization"

    def on_station(self):
        """The messages the station holds as far as it last told us."""
        return self.filter(status__in=DisplayMessage.ON_STATION)


class DisplayMessage(models.Model):
    """A message for a station's display: as the operator set it or the station reported it."""

    ON_STATION = (DisplayMessageStatus.ACCEPTED, DisplayMessageStatus.REPORTED)

    station = models.ForeignKey(
        ChargingStation, on_delete=models.CASCADE, related_name="display_messages"
    )
    message_id = models.PositiveIntegerField(
        _("message id"), help_text=_("The id the station knows the message by.")
    )
    priority = models.CharField(_("priority"), max_length=12, choices=MessagePriority.choices)
    state = models.CharField(
        _("shown in state"),
        max_length=12,
        choices=MessageState.choices,
        blank=True,
        help_text=_("Empty: in every state of the station."),
    )
    start_time = models.DateTimeField(_("shown from"), null=True, blank=True)
    end_time = models.DateTimeField(_("shown until"), null=True, blank=True)
    transaction_id = models.CharField(
        _("transaction id"),
        max_length=36,
        blank=True,
        help_text=_("Shown during this transaction only; the station removes it when it ends."),
    )
    content = models.TextField(_("content"))
    message_format = models.CharField(_("format"), max_length=5, choices=MessageFormat.choices)
    language = models.CharField(_("language"), max_length=8, blank=True)
    # The display it is meant for (a ComponentType object), when the station has several.
    display = models.JSONField(_("display"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=DisplayMessageStatus.choices)
    answer = models.CharField(
        _("last answer"),
        max_length=30,
        blank=True,
        help_text=_("The station's answer to the last set or clear of this message."),
    )
    reported_at = models.DateTimeField(_("last reported"), null=True, blank=True)
    # The GetDisplayMessages request that last reported it: a report lists every match, so a
    # match it left out is gone from the station.
    report_request_id = models.IntegerField(null=True, blank=True, editable=False)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    objects = DisplayMessageQuerySet.as_manager()

    class Meta:
        ordering = ["station", "message_id"]
        verbose_name = _("display message")
        constraints = [
            models.UniqueConstraint(
                fields=["station", "message_id"], name="displaymessage_unique_id_per_station"
            )
        ]

    def __str__(self):
        return f"{self.station} #{self.message_id}"

    @property
    def on_station(self) -> bool:
        """Whether the station holds it as far as it last told us."""
        return self.status in self.ON_STATION


class CertificateUse(models.TextChoices):
    """The kinds of certificate a station holds (OCPP 2.0.1 GetCertificateIdUseEnumType)."""

    CSMS_ROOT = "CSMSRootCertificate", _("CSMS root")
    MANUFACTURER_ROOT = "ManufacturerRootCertificate", _("Manufacturer root")
    V2G_ROOT = "V2GRootCertificate", _("V2G root (ISO 15118)")
    MO_ROOT = "MORootCertificate", _("Mobility operator root")
    V2G_CHAIN = "V2GCertificateChain", _("V2G certificate chain")


# The kinds InstallCertificate takes: the roots (a V2G chain comes from a signing request).
INSTALLABLE_CERTIFICATE_USES = (
    CertificateUse.CSMS_ROOT,
    CertificateUse.MANUFACTURER_ROOT,
    CertificateUse.V2G_ROOT,
    CertificateUse.MO_ROOT,
)


class HashAlgorithm(models.TextChoices):
    """The hash of a certificate's issuer name and key (OCPP HashAlgorithmEnumType)."""

    SHA256 = "SHA256", "SHA-256"
    SHA384 = "SHA384", "SHA-384"
    SHA512 = "SHA512", "SHA-512"


class CertificateStatus(models.TextChoices):
    """What the platform knows of a certificate on its station."""

    INSTALLED = "installed", _("Installed")
    REPORTED = "reported", _("Reported by the station")
    REJECTED = "rejected", _("Refused by the station")
    DELETED = "deleted", _("Deleted")
    GONE = "gone", _("No longer on the station")


class StationCertificateQuerySet(TenantQuerySet):
    """Station certificates narrowed by their station's organization."""

    org_path = "station__organization"

    def on_station(self):
        """The certificates the station holds as far as it last told us."""
        return self.filter(status__in=StationCertificate.ON_STATION)


class StationCertificate(models.Model):
    """A certificate on a station: one an operator installed, or one the station listed."""

    ON_STATION = (CertificateStatus.INSTALLED, CertificateStatus.REPORTED)

    station = models.ForeignKey(
        ChargingStation, on_delete=models.CASCADE, related_name="certificates"
    )
    certificate_type = models.CharField(_("type"), max_length=32, choices=CertificateUse.choices)
    # The hash data the station names it by (CertificateHashDataType); empty while unknown (a
    # certificate installed without its issuer's key, until the station lists it).
    hash_algorithm = models.CharField(
        _("hash algorithm"), max_length=6, choices=HashAlgorithm.choices, blank=True
    )
    issuer_name_hash = models.CharField(_("issuer name hash"), max_length=128, blank=True)
    issuer_key_hash = models.CharField(_("issuer key hash"), max_length=128, blank=True)
    serial_number = models.CharField(_("serial number"), max_length=40, blank=True)
    # The hash data of the chain below it, as the station reported (V2GCertificateChain).
    child_certificates = models.JSONField(_("child certificates"), default=list, blank=True)
    certificate = models.TextField(
        _("certificate (PEM)"), blank=True, help_text=_("As the operator installed it.")
    )
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    not_after = models.DateTimeField(_("valid until"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=CertificateStatus.choices)
    answer = models.CharField(
        _("last answer"),
        max_length=30,
        blank=True,
        help_text=_("The station's answer to the last install or delete of this certificate."),
    )
    reported_at = models.DateTimeField(_("last reported"), null=True, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    objects = StationCertificateQuerySet.as_manager()

    class Meta:
        ordering = ["station", "certificate_type", "id"]
        verbose_name = _("station certificate")
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "station",
                    "hash_algorithm",
                    "issuer_name_hash",
                    "issuer_key_hash",
                    "serial_number",
                ],
                condition=~models.Q(issuer_key_hash=""),
                name="stationcertificate_unique_hash_per_station",
            )
        ]

    def __str__(self):
        name = self.subject or self.serial_number or f"#{self.pk}"
        return f"{self.get_certificate_type_display()}: {name}"

    @property
    def on_station(self) -> bool:
        """Whether the station holds it as far as it last told us."""
        return self.status in self.ON_STATION

    @property
    def has_hash_data(self) -> bool:
        """Whether the station can be told which certificate is meant (to delete it)."""
        return bool(self.hash_algorithm and self.issuer_key_hash)

    def hash_data(self) -> dict:
        """The CertificateHashDataType object naming this certificate."""
        return {
            "hashAlgorithm": self.hash_algorithm,
            "issuerNameHash": self.issuer_name_hash,
            "issuerKeyHash": self.issuer_key_hash,
            "serialNumber": self.serial_number,
        }


class CertificateSigningUse(models.TextChoices):
    """What a signed certificate is for (OCPP 2.0.1 CertificateSigningUseEnumType)."""

    CHARGING_STATION = "ChargingStationCertificate", _("Charging station (to the CSMS)")
    V2G = "V2GCertificate", _("V2G (ISO 15118)")


class CertificateRequestStatus(models.TextChoices):
    """Where a station's certificate signing request stands."""

    REJECTED = "rejected", _("Rejected")
    SIGNING = "signing", _("Accepted, being signed")
    DELIVERED = "delivered", _("Signed and installed")
    FAILED = "failed", _("Failed")


class CertificateRequestQuerySet(TenantQuerySet):
    """Certificate signing requests narrowed by their station's organization."""

    org_path = "station__organization"


class CertificateRequest(models.Model):
    """A certificate signing request (SignCertificate) from a station, and how it was answered."""

    station = models.ForeignKey(
        ChargingStation, on_delete=models.CASCADE, related_name="certificate_requests"
    )
    csr = models.TextField(_("signing request (PEM)"))
    certificate_type = models.CharField(
        _("type"),
        max_length=32,
        choices=CertificateSigningUse.choices,
        blank=True,
        help_text=_("Empty: for both the CSMS connection and ISO 15118."),
    )
    status = models.CharField(_("status"), max_length=10, choices=CertificateRequestStatus.choices)
    provider = models.CharField(
        _("certificate provider"),
        max_length=200,
        help_text=_("The provider that answered (OCPP_CERTIFICATE_PROVIDER)."),
    )
    reason_code = models.CharField(_("reason code"), max_length=20, blank=True)
    detail = models.CharField(_("detail"), max_length=512, blank=True)
    certificate_chain = models.TextField(_("signed chain (PEM)"), blank=True)
    delivery = models.ForeignKey(
        CommandLog,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("CertificateSigned call"),
    )
    created = models.DateTimeField(_("received"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    objects = CertificateRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("certificate signing request")
        indexes = [
            models.Index(fields=["status", "updated"], name="certrequest_status_updated"),
        ]

    def __str__(self):
        return f"{self.station} {self.certificate_type or 'CSR'} ({self.status})"


# --- bulk commands --------------------------------------------------------------------------------


class BulkResultStatus(models.TextChoices):
    """What became of a bulk command on one station."""

    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent, waiting for the answer")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")


class BulkCommandQuerySet(TenantQuerySet):
    """Bulk commands of an organization."""

    def with_counts(self):
        """Annotated with `station_count` and `<status>_count` of their results."""
        counts = {
            f"{status}_count": models.Count("results", filter=models.Q(results__status=status))
            for status in BulkResultStatus.values
        }
        return self.annotate(station_count=models.Count("results"), **counts)


class BulkCommand(models.Model):
    """One remote command sent to a selection of an organization's stations."""

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="bulk_commands"
    )
    command = models.CharField(_("command"), max_length=48)
    # As given (before each station's own validation); a fresh upload location per station is
    # added at run time when `own_upload_location` is set, so no token is ever stored.
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    own_upload_location = models.BooleanField(
        _("upload to this CSMS"),
        default=False,
        help_text=_("Each station got its own upload URL of this CSMS."),
    )
    site = models.ForeignKey(
        "stations.Site",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("site"),
        help_text=_("Set when every station of a site was asked."),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    api_key = models.ForeignKey(
        "organizations.OrganizationAPIKey",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("API key"),
    )
    requested_via = models.CharField(
        _("requested via"), max_length=10, choices=RequestedVia.choices, default=RequestedVia.USER
    )
    created = models.DateTimeField(_("requested at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = BulkCommandQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("bulk command")
        indexes = [models.Index(fields=["organization", "-created"], name="bulkcommand_org_time")]

    def __str__(self):
        return f"{self.command} × {self.organization} ({self.created:%Y-%m-%d %H:%M})"


class BulkCommandResultQuerySet(TenantQuerySet):
    """Per-station results narrowed by their bulk command's organization."""

    org_path = "bulk__organization"


class BulkCommandResult(models.Model):
    """What became of a bulk command on one station."""

    bulk = models.ForeignKey(BulkCommand, on_delete=models.CASCADE, related_name="results")
    station = models.ForeignKey(
        ChargingStation, on_delete=models.CASCADE, related_name="bulk_command_results"
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=BulkResultStatus.choices,
        default=BulkResultStatus.PENDING,
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    command_log = models.ForeignKey(
        CommandLog,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("command log"),
    )
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = BulkCommandResultQuerySet.as_manager()

    class Meta:
        ordering = ["bulk", "station__ocpp_id", "id"]
        verbose_name = _("bulk command result")
        constraints = [
            models.UniqueConstraint(fields=["bulk", "station"], name="bulkresult_once_per_station")
        ]
        indexes = [models.Index(fields=["status", "bulk"], name="bulkresult_status")]

    def __str__(self):
        return f"{self.bulk_id} {self.station} ({self.status})"

    @property
    def done(self) -> bool:
        """Whether the station's outcome is final."""
        return self.status not in (BulkResultStatus.PENDING, BulkResultStatus.SENT)
