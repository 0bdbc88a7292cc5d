"""Charging sessions with their meter values, and reservations."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cms.tenancy import TenantQuerySet
from organizations.models import IdToken, Organization
from sessions_app.choices import AuthMethod, AuthorizationStatus, ReservationStatus, SessionState
from stations.models import ChargingStation, Connector


class ChargingSessionQuerySet(TenantQuerySet):
    """Sessions narrowed by organization."""

    def active(self):
        return self.filter(state=SessionState.ACTIVE)


class ChargingSession(models.Model):
    """One charging session (an OCPP transaction) on one connector."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="charging_sessions"
    )
    station = models.ForeignKey(
        ChargingStation, on_delete=models.PROTECT, related_name="charging_sessions"
    )
    connector = models.ForeignKey(
        Connector, on_delete=models.PROTECT, related_name="charging_sessions"
    )
    id_token = models.ForeignKey(
        IdToken,
        on_delete=models.SET_NULL,
        related_name="charging_sessions",
        null=True,
        blank=True,
        verbose_name=_("card"),
    )
    id_tag = models.CharField(_("id tag"), max_length=36, blank=True, help_text=_("As sent."))
    # 1.6 transaction ids are integers the platform hands out; 2.0.1 stations choose a string.
    transaction_id = models.CharField(_("transaction id"), max_length=36, null=True, blank=True)
    start = models.DateTimeField(_("start"))
    stop = models.DateTimeField(_("stop"), null=True, blank=True)
    meter_start = models.BigIntegerField(_("meter start (Wh)"), default=0)
    meter_stop = models.BigIntegerField(_("meter stop (Wh)"), null=True, blank=True)
    energy_wh = models.BigIntegerField(_("energy (Wh)"), default=0)
    last_power_w = models.IntegerField(_("last power (W)"), null=True, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=SessionState.choices, default=SessionState.ACTIVE
    )
    stop_reason = models.CharField(_("stop reason"), max_length=32, blank=True)
    auth_method = models.CharField(
        _("authorization method"),
        max_length=10,
        choices=AuthMethod.choices,
        default=AuthMethod.RFID,
    )
    auth_status = models.CharField(
        _("authorization status"),
        max_length=12,
        choices=AuthorizationStatus.choices,
        default=AuthorizationStatus.ACCEPTED,
    )
    reservation = models.ForeignKey(
        "sessions_app.Reservation",
        on_delete=models.SET_NULL,
        related_name="charging_sessions",
        null=True,
        blank=True,
    )
    roaming_partner = models.ForeignKey(
        "roaming.RoamingPartner",
        on_delete=models.PROTECT,
        related_name="charging_sessions",
        null=True,
        blank=True,
        verbose_name=_("roaming partner"),
        help_text=_("The partner whose customer charged; it is billed at its published tariff."),
    )
    billable = models.BooleanField(_("billable"), default=True)
    billing_stopped = models.BooleanField(_("billing stopped"), default=False)
    billing_stopped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("billing stopped by"),
    )
    billing_stopped_reason = models.CharField(_("billing stop reason"), max_length=255, blank=True)
    billing_stopped_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = ChargingSessionQuerySet.as_manager()

    class Meta:
        ordering = ["-start", "-id"]
        verbose_name = _("charging session")
        constraints = [
            models.UniqueConstraint(
                fields=["connector"],
                condition=Q(state="active"),
                name="one_active_session_per_connector",
            ),
            models.UniqueConstraint(
                fields=["station", "transaction_id"], name="unique_transaction_id_per_station"
            ),
            models.CheckConstraint(
                condition=Q(energy_wh__gte=0), name="session_energy_not_negative"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "-start"], name="session_org_start"),
            models.Index(fields=["station", "state"], name="session_station_state"),
        ]

    def __str__(self):
        return f"{self.station} tx {self.transaction_id or self.pk}"

    @property
    def duration(self):
        return (self.stop - self.start) if self.stop else None


class MeterValueQuerySet(TenantQuerySet):
    """Meter values narrowed by their station's organization."""

    org_path = "station__organization"


class MeterValue(models.Model):
    """One sampled value, of a session or (without a transaction) of the station."""

    station = models.ForeignKey(
        ChargingStation, on_delete=models.CASCADE, related_name="meter_values"
    )
    session = models.ForeignKey(
        ChargingSession,
        on_delete=models.CASCADE,
        related_name="meter_values",
        null=True,
        blank=True,
    )
    connector_number = models.PositiveSmallIntegerField(_("connector id"), default=0)
    timestamp = models.DateTimeField(_("timestamp"))
    measurand = models.CharField(
        _("measurand"), max_length=48, default="Energy.Active.Import.Register"
    )
    phase = models.CharField(_("phase"), max_length=8, blank=True)
    unit = models.CharField(_("unit"), max_length=12, default="Wh")
    context = models.CharField(_("context"), max_length=24, default="Sample.Periodic")
    location = models.CharField(_("location"), max_length=8, blank=True)
    value = models.DecimalField(_("value"), max_digits=20, decimal_places=6, null=True, blank=True)
    signed_data = models.TextField(_("signed data"), blank=True)

    objects = MeterValueQuerySet.as_manager()

    class Meta:
        ordering = ["timestamp", "id"]
        indexes = [
            models.Index(fields=["session", "timestamp"], name="metervalue_session_time"),
            models.Index(fields=["station", "timestamp"], name="metervalue_station_time"),
        ]

    def __str__(self):
        return f"{self.measurand}={self.value}{self.unit} @ {self.timestamp:%Y-%m-%d %H:%M:%S}"


class ReservationQuerySet(TenantQuerySet):
    """Reservations narrowed by their station's organization."""

    org_path = "station__organization"


class Reservation(models.Model):
    """A connector (or any connector of a station) held for one id token until expiry."""

    station = models.ForeignKey(
        ChargingStation, on_delete=models.CASCADE, related_name="reservations"
    )
    connector = models.ForeignKey(
        Connector,
        on_delete=models.CASCADE,
        related_name="reservations",
        null=True,
        blank=True,
        help_text=_("Empty: any connector of the station."),
    )
    id_token = models.ForeignKey(
        IdToken, on_delete=models.SET_NULL, related_name="reservations", null=True, blank=True
    )
    id_tag = models.CharField(_("id tag"), max_length=36)
    parent_id_tag = models.CharField(_("parent id tag"), max_length=36, blank=True)
    expiry = models.DateTimeField(_("expiry"))
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ReservationStatus.choices,
        default=ReservationStatus.PENDING,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = ReservationQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self):
        return f"reservation {self.pk} on {self.station}"

    @property
    def reservation_id(self) -> int:
        """The OCPP reservationId: the platform-unique primary key."""
        return self.pk
