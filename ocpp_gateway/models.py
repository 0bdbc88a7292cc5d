"""The command log (CSMS-to-station calls) and the OCPP message log."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

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
