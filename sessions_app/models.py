"""Charging sessions with their meter values, reservations and remote starts."""

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cards.models import IdToken
from organizations.models import Organization
from organizations.tenancy import TenantQuerySet
from sessions_app.choices import (
    AuthMethod,
    AuthorizationStatus,
    RemoteStartStatus,
    ReservationStatus,
    ReviewOutcome,
    SessionState,
    TransactionEventType,
)
from stations.models import ChargingStation, Connector

# No time zone is a day away from UTC: a moment inside these bounds converts to any local time,
# and survives a day added or taken for a calendar, without leaving Python's datetime range.
SAFE_EARLIEST = datetime(1, 1, 3, tzinfo=UTC)
SAFE_LATEST = datetime(9999, 12, 29, tzinfo=UTC)
PLAUSIBLE_SINCE = datetime(2000, 1, 1, tzinfo=UTC)


def within_safe_range(value: datetime | None) -> datetime | None:
    """The moment, moved inside the range every page and report can convert (None stays None)."""
    if value is None or value.tzinfo is None:
        return value
    return min(max(value, SAFE_EARLIEST), SAFE_LATEST)


class SafeDateTimeField(models.DateTimeField):
    """A DateTimeField read back inside the safe range, whatever was written to the column."""

    # Rows written by the ORM, the admin or older code may hold 9999-12-31T23:59Z; shown in
    # Europe/Berlin that is year 10000, which Python cannot hold. Reading through this one
    # place keeps every page, export, API answer and pricing run of such a row working.

    def from_db_value(self, value, expression, connection):
        return within_safe_range(value)


class ChargingSessionQuerySet(TenantQuerySet):
    """Sessions narrowed by organization."""

    def active(self):
        return self.filter(state=SessionState.ACTIVE)

    def ratable(self):
        """Finished sessions that may be priced: not running, stopped, not held for review."""
        return self.exclude(state=SessionState.ACTIVE).filter(
            stop__isnull=False, needs_review=False
        )


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
    start = SafeDateTimeField(_("start"))
    stop = SafeDateTimeField(_("stop"), null=True, blank=True)
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
    # OCPI AuthorizationInfo/StartSession authorization_reference: sent back in the session
    # and CDR pushed to the partner.
    authorization_reference = models.CharField(
        _("authorization reference"), max_length=36, blank=True
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
    # What the platform changed in what the station sent (a timestamp outside the plausible
    # window), as [{"field", "sent", "used"}], so operators see the original.
    corrections = models.JSONField(_("corrections"), default=list, blank=True)
    needs_review = models.BooleanField(
        _("needs review"),
        default=False,
        help_text=_("Implausible readings or a pricing failure: not billed until released."),
    )
    review_reason = models.CharField(_("review reason"), max_length=255, blank=True)
    review_outcome = models.CharField(
        _("review outcome"), max_length=10, choices=ReviewOutcome.choices, blank=True
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    # What OCPP 2.0.1 stations report about their transaction (a 1.6 station leaves them empty).
    charging_state = models.CharField(
        _("charging state"), max_length=16, blank=True, help_text=_("As last reported.")
    )
    number_of_phases_used = models.PositiveSmallIntegerField(
        _("phases used"), null=True, blank=True
    )
    cable_max_current = models.IntegerField(_("cable max current (A)"), null=True, blank=True)
    time_spent_charging = models.PositiveIntegerField(
        _("time spent charging (s)"), null=True, blank=True
    )
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
            models.Index(
                fields=["organization"], condition=Q(needs_review=True), name="session_review"
            ),
            models.Index(fields=["organization", "-start"], name="session_org_start"),
            models.Index(fields=["station", "state"], name="session_station_state"),
        ]

    def __str__(self):
        return f"{self.station} tx {self.transaction_id or self.pk}"

    @property
    def duration(self):
        return (self.stop - self.start) if self.stop else None

    def implausible_readings(self) -> list[str]:
        """Why the recorded times or meter registers cannot be right (empty when plausible)."""
        reasons = []
        if self.corrections:
            fields = sorted({str(c.get("field")) for c in self.corrections if c.get("sent")})
            if fields:
                used_for = ", ".join(fields)
                reasons.append(f"station clock implausible, server time used for {used_for}")
        now = timezone.now()
        # No charging backend has records before 2000; a start ahead of now is a bad clock.
        for field in ("start", "stop"):
            moment = getattr(self, field)
            if moment is not None and not (PLAUSIBLE_SINCE <= moment <= now + timedelta(days=1)):
                reasons.append(f"{field} {moment.isoformat()} is implausible")
        if self.meter_start < 0:
            reasons.append(f"meter start is negative ({self.meter_start} Wh)")
        if self.meter_stop is not None:
            if self.meter_stop < 0:
                reasons.append(f"meter stop is negative ({self.meter_stop} Wh)")
            if self.meter_stop < self.meter_start:
                reasons.append(
                    f"meter stop ({self.meter_stop} Wh) is below meter start "
                    f"({self.meter_start} Wh)"
                )
        if self.stop is None:
            return reasons
        seconds = (self.stop - self.start).total_seconds()
        if seconds < 0:
            reasons.append("the session stops before it starts")
        if seconds > settings.SESSION_MAX_DURATION_HOURS * 3600:
            reasons.append(f"lasted {seconds / 3600:.0f} h, more than plausible")
        max_kw = (self.connector.max_power_kw if self.connector_id else None) or (
            settings.SESSION_DEFAULT_MAX_POWER_KW
        )
        # A tenth over the rating plus one kWh: meters round, and short sessions round most.
        deliverable_wh = float(max_kw) * 1000 * max(seconds, 0) / 3600 * 1.1 + 1000
        if self.energy_wh > deliverable_wh:
            reasons.append(
                f"{self.energy_wh} Wh is more than {max_kw} kW can deliver in {seconds:.0f} s"
            )
        return reasons


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
    timestamp = SafeDateTimeField(_("timestamp"))
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
        constraints = [
            # A station retransmits MeterValues it got no answer to; the copy adds no row.
            models.UniqueConstraint(
                fields=[
                    "station",
                    "connector_number",
                    "timestamp",
                    "measurand",
                    "phase",
                    "location",
                    "context",
                ],
                name="unique_meter_value_sample",
            ),
        ]
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
    expiry = SafeDateTimeField(_("expiry"))
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ReservationStatus.choices,
        default=ReservationStatus.PENDING,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # A reservation a roaming partner asked for (OCPI RESERVE_NOW), and the partner's id of it:
    # the station is told our id, which no other partner's reservation can share.
    roaming_partner = models.ForeignKey(
        "roaming.RoamingPartner",
        on_delete=models.SET_NULL,
        related_name="reservations",
        null=True,
        blank=True,
        verbose_name=_("roaming partner"),
    )
    roaming_reservation_id = models.CharField(
        _("partner's reservation id"), max_length=36, blank=True
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


class RemoteStartQuerySet(TenantQuerySet):
    """Remote starts narrowed by their station's organization."""

    org_path = "station__organization"


class RemoteStart(models.Model):
    """A request that a station start charging for a card, and the session it led to."""

    # Written before the request goes out, whatever the protocol: the station's start may
    # arrive before its answer. Its id is what OCPP 2.0.1 calls remoteStartId.
    station = models.ForeignKey(
        ChargingStation, on_delete=models.CASCADE, related_name="remote_starts"
    )
    connector = models.ForeignKey(
        Connector,
        on_delete=models.CASCADE,
        related_name="remote_starts",
        null=True,
        blank=True,
        help_text=_("Empty: whichever connector the driver plugs into."),
    )
    # The card's uid, not a foreign key: it is what the station's start is matched on.
    id_tag = models.CharField(_("id tag"), max_length=36)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Asked by a roaming partner (OCPI START_SESSION) for its customer: the session it leads to
    # is that partner's and billable, unlike an operator's free remote start.
    roaming_partner = models.ForeignKey(
        "roaming.RoamingPartner",
        on_delete=models.SET_NULL,
        related_name="remote_starts",
        null=True,
        blank=True,
        verbose_name=_("roaming partner"),
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=RemoteStartStatus.choices,
        default=RemoteStartStatus.PENDING,
    )
    session = models.OneToOneField(
        ChargingSession,
        on_delete=models.SET_NULL,
        related_name="remote_start",
        null=True,
        blank=True,
        help_text=_("The session whose start claimed it."),
    )
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)

    objects = RemoteStartQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["station", "created_at"], name="remotestart_station_time")]

    def __str__(self):
        return f"remote start {self.pk} on {self.station} ({self.status})"


class TransactionEventQuerySet(TenantQuerySet):
    """Transaction events narrowed by their session's organization."""

    org_path = "session__organization"


class TransactionEvent(models.Model):
    """One event a station reported about its transaction (OCPP 2.0.1 TransactionEvent)."""

    # Kept so that a retransmission is recognized and answered as the first copy was, and so
    # that a gap in the sequence numbers shows what the station never delivered.
    session = models.ForeignKey(
        ChargingSession, on_delete=models.CASCADE, related_name="transaction_events"
    )
    seq_no = models.BigIntegerField(_("sequence number"))
    event_type = models.CharField(
        _("event type"), max_length=8, choices=TransactionEventType.choices
    )
    trigger_reason = models.CharField(_("trigger reason"), max_length=32)
    charging_state = models.CharField(_("charging state"), max_length=16, blank=True)
    offline = models.BooleanField(
        _("offline"), default=False, help_text=_("It happened while the station was offline.")
    )
    timestamp = SafeDateTimeField(_("timestamp"))
    id_tag = models.CharField(_("id tag"), max_length=36, blank=True, help_text=_("As sent."))
    # None: the event did not say which connector (the EVSE was not known yet).
    connector_number = models.PositiveSmallIntegerField(_("connector id"), null=True, blank=True)
    payload = models.JSONField(_("payload"), default=dict, help_text=_("The event as sent."))
    response = models.JSONField(_("answer"), default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    objects = TransactionEventQuerySet.as_manager()

    class Meta:
        ordering = ["session", "seq_no"]
        verbose_name = _("transaction event")
        constraints = [
            # A retransmitted event (same transaction, same seqNo) adds nothing.
            models.UniqueConstraint(
                fields=["session", "seq_no"], name="unique_transaction_event_seq_no"
            ),
        ]

    def __str__(self):
        return f"{self.session} #{self.seq_no} {self.event_type}"
