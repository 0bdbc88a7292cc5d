"""Sites, stations, their EVSEs and connectors, status history, data transfers, profiles."""

import secrets
import zoneinfo
from decimal import Decimal, InvalidOperation
from functools import cache

from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher, check_password, make_password
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from organizations.models import Organization
from organizations.tenancy import TenantQuerySet
from stations.choices import (
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    ConnectionState,
    ConnectorStatus,
    ConnectorType,
    DataTransferDirection,
    OcppVersion,
    Plan,
    RecurrencyKind,
    RegistrationStatus,
    SecurityProfile,
)


@cache
def _known_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(name: str) -> None:
    """An IANA time zone name this server knows (blank passes: the organization's zone)."""
    if name and name not in _known_time_zones():
        raise ValidationError(
            _("Unknown time zone %(name)s: use an IANA name such as Europe/Stockholm."),
            params={"name": name},
            code="invalid",
        )


class SiteQuerySet(TenantQuerySet):
    """Sites narrowed by organization."""


class Site(models.Model):
    """A location that holds charging stations."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="sites")
    name = models.CharField(_("name"), max_length=200)
    street = models.CharField(_("street"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    country = models.CharField(
        _("country"), max_length=2, blank=True, help_text="ISO 3166-1 alpha-2"
    )
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    provider = models.CharField(_("provider"), max_length=200, blank=True)
    roaming_enabled = models.BooleanField(_("roaming enabled"), default=False)
    scan2pay_enabled = models.BooleanField(_("Scan2Pay enabled"), default=False)
    # Access groups belong to the cards app, a layer above: the relation names it by label and
    # this app never imports it (access_group_model() below reaches it through this field).
    access_groups = models.ManyToManyField(
        "cards.AccessGroup", related_name="sites", blank=True, verbose_name=_("access groups")
    )
    # Blank: the organization's. Wall-clock rules about the site (firmware campaign windows)
    # are read in this zone, so a fleet across time zones updates at each site's night.
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text=_("IANA name, e.g. Europe/Stockholm; blank: the organization's time zone."),
    )
    grid_capacity_kw = models.DecimalField(
        _("grid capacity (kW)"),
        max_digits=9,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    objects = SiteQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="unique_site_name_per_org"
            )
        ]

    def __str__(self):
        return self.name


class ChargingStationQuerySet(TenantQuerySet):
    """Stations narrowed by organization; unassigned (pending) stations belong to none."""

    def unassigned(self):
        """Stations that registered themselves and wait for support staff to assign them."""
        return self.filter(organization__isnull=True)


class StationPasswordHasher(PBKDF2PasswordHasher):
    """PBKDF2 with few rounds: station passwords are machine secrets checked on every connect."""

    # A user's password is guessable and checked once per login, so Django spends ~0.3 s on it.
    # A station's is a long random key (OCPP asks for at least 16 characters) checked on every
    # reconnect, and 20,000 stations reconnect together after an outage: ~0.3 ms each here.
    iterations = 1000


STATION_PASSWORD_HASHER = StationPasswordHasher()


class ChargingStation(models.Model):
    """An EVSE controller: one OCPP connection, identified by its OCPP identity."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="stations",
        null=True,
        blank=True,
        help_text=_("Empty while the station waits in the unassigned pool."),
    )
    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, related_name="stations", null=True, blank=True
    )
    ocpp_id = models.CharField(
        _("OCPP identity"),
        max_length=48,
        unique=True,
        help_text=_("Identity the station connects with: the last segment of its OCPP URL."),
    )
    serial_number = models.CharField(_("serial number"), max_length=50, blank=True)
    vendor = models.CharField(_("vendor"), max_length=50, blank=True)
    model = models.CharField(_("model"), max_length=50, blank=True)
    firmware_version = models.CharField(_("firmware version"), max_length=50, blank=True)
    iccid = models.CharField("ICCID", max_length=20, blank=True)
    imsi = models.CharField("IMSI", max_length=20, blank=True)
    meter_type = models.CharField(_("meter type"), max_length=25, blank=True)
    meter_serial_number = models.CharField(_("meter serial number"), max_length=25, blank=True)
    boot_reason = models.CharField(
        _("boot reason"), max_length=30, blank=True, help_text=_("Why it last booted (2.0.1).")
    )
    ocpp_version = models.CharField(
        _("OCPP version in use"), max_length=12, choices=OcppVersion.choices, blank=True
    )
    security_profile = models.PositiveSmallIntegerField(
        _("security profile"), choices=SecurityProfile.choices, default=SecurityProfile.BASIC
    )
    password_hash = models.CharField(_("Basic-auth password (hashed)"), max_length=256, blank=True)
    registration_status = models.CharField(
        _("registration status"),
        max_length=10,
        choices=RegistrationStatus.choices,
        default=RegistrationStatus.ACCEPTED,
    )
    connection_state = models.CharField(
        _("connection state"),
        max_length=8,
        choices=ConnectionState.choices,
        default=ConnectionState.OFFLINE,
    )
    last_seen = models.DateTimeField(_("last seen"), null=True, blank=True)
    last_boot = models.DateTimeField(_("last boot"), null=True, blank=True)
    connected_since = models.DateTimeField(_("connected since"), null=True, blank=True)
    remote_address = models.CharField(_("remote address"), max_length=64, blank=True)
    # The gateway process holding the socket: when that process stops renewing its lease (it
    # was killed), its stations are marked offline (ocpp_gateway/leases.py).
    gateway_process = models.CharField(
        _("gateway process"), max_length=100, blank=True, db_index=True, editable=False
    )
    heartbeat_interval = models.PositiveIntegerField(
        _("heartbeat interval (s)"), default=300, validators=[MinValueValidator(10)]
    )
    plan = models.CharField(_("plan"), max_length=16, choices=Plan.choices, default=Plan.BUSINESS)
    access_groups = models.ManyToManyField(
        "cards.AccessGroup",
        related_name="stations",
        blank=True,
        verbose_name=_("access groups"),
        help_text=_("Authorized here in addition to the site's access groups."),
    )
    # Connector 0 in OCPP 1.6 is the station itself.
    status = models.CharField(
        _("status"), max_length=16, choices=ConnectorStatus.choices, default=ConnectorStatus.UNKNOWN
    )
    error_code = models.CharField(_("error code"), max_length=50, blank=True)
    vendor_error_code = models.CharField(_("vendor error code"), max_length=50, blank=True)
    status_at = models.DateTimeField(_("status time"), null=True, blank=True)
    diagnostics_status = models.CharField(_("diagnostics status"), max_length=30, blank=True)
    diagnostics_status_at = models.DateTimeField(null=True, blank=True)
    firmware_status = models.CharField(_("firmware status"), max_length=30, blank=True)
    firmware_status_at = models.DateTimeField(null=True, blank=True)
    # What the station's local authorization list holds, as far as it last told us (Accepted):
    # the differential update of SendLocalList is computed against this snapshot.
    local_list_version = models.PositiveIntegerField(_("local list version"), default=0)
    local_list_snapshot = models.JSONField(
        _("local list entries sent"),
        default=dict,
        blank=True,
        help_text=_("idTag → idTagInfo, as last accepted by the station."),
    )
    message_log_enabled = models.BooleanField(
        _("log OCPP messages"),
        default=True,
        help_text=_("Keep every OCPP frame of this station in the message log."),
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    objects = ChargingStationQuerySet.as_manager()

    class Meta:
        ordering = ["ocpp_id"]
        verbose_name = _("charging station")

    def __str__(self):
        return self.ocpp_id

    @property
    def speaks_ocpp2(self) -> bool:
        """Whether it last connected with OCPP 2.0.1 or 2.1 (display messages, certificates…)."""
        return self.ocpp_version in (OcppVersion.V201, OcppVersion.V21)

    def set_password(self, raw_password: str) -> None:
        """Store a Basic-auth password hashed with the station password hasher."""
        self.password_hash = make_password(raw_password, hasher=STATION_PASSWORD_HASHER)

    def check_password(self, raw_password: str) -> bool:
        """Whether the given Basic-auth password matches; an outdated hash is replaced."""
        if not self.password_hash:
            return False
        hasher = STATION_PASSWORD_HASHER
        if self.password_hash.startswith(f"{hasher.algorithm}$"):
            matches = hasher.verify(raw_password, self.password_hash)
            outdated = hasher.must_update(self.password_hash)
        else:
            # Hashed by another of the site's hashers (stations saved before this one existed).
            matches, outdated = check_password(raw_password, self.password_hash), True
        if matches and outdated:
            self.set_password(raw_password)
            ChargingStation.objects.filter(pk=self.pk).update(password_hash=self.password_hash)
        return matches

    @property
    def is_online(self) -> bool:
        return self.connection_state == ConnectionState.ONLINE


class EvseQuerySet(TenantQuerySet):
    """EVSEs narrowed by their station's organization."""

    org_path = "station__organization"


class Evse(models.Model):
    """An EVSE of a station: one vehicle charges at a time, through one of its connectors."""

    station = models.ForeignKey(ChargingStation, on_delete=models.CASCADE, related_name="evses")
    evse_number = models.PositiveSmallIntegerField(
        _("EVSE number"), validators=[MinValueValidator(1)], help_text=_("OCPP evseId, from 1.")
    )
    evse_id = models.CharField(
        _("EVSE identity"), max_length=48, blank=True, help_text="e.g. DE*ABC*E1234*1"
    )

    objects = EvseQuerySet.as_manager()

    class Meta:
        ordering = ["station", "evse_number"]
        verbose_name = "EVSE"
        constraints = [
            models.UniqueConstraint(
                fields=["station", "evse_number"], name="unique_evse_per_station"
            )
        ]

    def __str__(self):
        return self.evse_id or f"{self.station}/{self.evse_number}"


# A connector's pay code (Scan2Pay stickers): lowercase letters and digits without 0/o and 1/l,
# so a code typed from a sticker is never misread; 10 of 32 characters are 50 random bits.
PAY_CODE_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
PAY_CODE_LENGTH = 10


def new_pay_code() -> str:
    """A fresh random pay code for a connector (unguessable, URL-safe, easy to type)."""
    return "".join(secrets.choice(PAY_CODE_ALPHABET) for _ in range(PAY_CODE_LENGTH))


class ConnectorQuerySet(TenantQuerySet):
    """Connectors narrowed by their station's organization."""

    org_path = "station__organization"


class Connector(models.Model):
    """A charge point: one plug of a station, numbered as in OCPP 1.6 (from 1)."""

    station = models.ForeignKey(
        ChargingStation, on_delete=models.CASCADE, related_name="connectors"
    )
    evse = models.ForeignKey(
        Evse, on_delete=models.SET_NULL, related_name="connectors", null=True, blank=True
    )
    # Numbered across the station, as OCPP 1.6 does; 2.0.1 numbers a connector within its EVSE
    # (evse_connector_id), so a 2.0.1 (evseId, connectorId) maps to one row here.
    connector_id = models.PositiveSmallIntegerField(
        _("connector id"), validators=[MinValueValidator(1)]
    )
    evse_connector_id = models.PositiveSmallIntegerField(
        _("connector id within its EVSE"),
        default=1,
        validators=[MinValueValidator(1)],
        help_text=_("OCPP 2.0.1 connectorId, from 1 on each EVSE."),
    )
    connector_type = models.CharField(
        _("connector type"),
        max_length=24,
        choices=ConnectorType.choices,
        default=ConnectorType.TYPE2,
    )
    max_power_kw = models.DecimalField(
        _("max power (kW)"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    status = models.CharField(
        _("status"), max_length=16, choices=ConnectorStatus.choices, default=ConnectorStatus.UNKNOWN
    )
    error_code = models.CharField(_("error code"), max_length=50, blank=True)
    vendor_error_code = models.CharField(_("vendor error code"), max_length=50, blank=True)
    info = models.CharField(_("info"), max_length=50, blank=True)
    status_at = models.DateTimeField(_("status time"), null=True, blank=True)
    # The public Scan2Pay page of this connector is /pay/<pay_code>/ (printed on its sticker).
    pay_code = models.CharField(
        _("pay code"),
        max_length=PAY_CODE_LENGTH,
        unique=True,
        default=new_pay_code,
        editable=False,
        help_text=_("On the connector's Scan2Pay sticker: its public page is /pay/<code>/."),
    )

    objects = ConnectorQuerySet.as_manager()

    class Meta:
        ordering = ["station", "connector_id"]
        indexes = [models.Index(fields=["evse", "evse_connector_id"], name="connector_on_evse")]
        constraints = [
            models.UniqueConstraint(
                fields=["station", "connector_id"], name="unique_connector_per_station"
            )
        ]

    def __str__(self):
        return f"{self.station}#{self.connector_id}"

    @property
    def evse_identity(self) -> str:
        return self.evse.evse_id if self.evse_id else ""


class StatusEventQuerySet(TenantQuerySet):
    """Status history narrowed by the station's organization."""

    org_path = "station__organization"


class StatusEvent(models.Model):
    """One status change reported by a station for itself (connector 0) or a connector."""

    station = models.ForeignKey(
        ChargingStation, on_delete=models.CASCADE, related_name="status_events"
    )
    connector = models.ForeignKey(
        Connector, on_delete=models.CASCADE, related_name="status_events", null=True, blank=True
    )
    connector_number = models.PositiveSmallIntegerField(_("connector id"), default=0)
    status = models.CharField(_("status"), max_length=16)
    error_code = models.CharField(_("error code"), max_length=50, blank=True)
    vendor_error_code = models.CharField(_("vendor error code"), max_length=50, blank=True)
    info = models.CharField(_("info"), max_length=50, blank=True)
    timestamp = models.DateTimeField(_("reported at"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    objects = StatusEventQuerySet.as_manager()

    class Meta:
        ordering = ["-timestamp", "-id"]
        indexes = [models.Index(fields=["station", "-timestamp"], name="statusevent_station_time")]

    def __str__(self):
        when = f"{self.timestamp:%Y-%m-%d %H:%M:%S}"
        return f"{self.station}#{self.connector_number} {self.status} @ {when}"


class ConnectionEventQuerySet(TenantQuerySet):
    """Connection history narrowed by the station's organization."""

    org_path = "station__organization"


class ConnectionEvent(models.Model):
    """A station's socket opened or was gone: the history availability is computed from."""

    station = models.ForeignKey(
        ChargingStation, on_delete=models.CASCADE, related_name="connection_events"
    )
    state = models.CharField(_("state"), max_length=16, choices=ConnectionState.choices)
    at = models.DateTimeField(_("at"))

    objects = ConnectionEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["station", "at"], name="connevent_station_time")]
        verbose_name = _("connection event")
        verbose_name_plural = _("connection events")

    def __str__(self):
        return f"{self.station} {self.state} @ {self.at:%Y-%m-%d %H:%M:%S}"


class StationDataTransferQuerySet(TenantQuerySet):
    """Stored DataTransfer messages narrowed by their station's organization."""

    org_path = "station__organization"


class StationDataTransfer(models.Model):
    """One vendor-specific DataTransfer message, kept with the status it was answered with."""

    station = models.ForeignKey(
        ChargingStation, on_delete=models.CASCADE, related_name="data_transfers"
    )
    direction = models.CharField(
        _("direction"), max_length=3, choices=DataTransferDirection.choices
    )
    vendor_id = models.CharField(_("vendor id"), max_length=255)
    message_id = models.CharField(_("message id"), max_length=50, blank=True)
    # JSON, not text: OCPP 1.6 sends a string, OCPP 2.0.1 any JSON value.
    data = models.JSONField(_("data"), null=True, blank=True)
    status = models.CharField(_("status answered"), max_length=20, blank=True)
    response_data = models.JSONField(_("data answered"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)

    objects = StationDataTransferQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("data transfer")
        indexes = [
            models.Index(fields=["station", "-received_at"], name="datatransfer_station_time")
        ]

    def __str__(self):
        return f"{self.station} {self.direction} {self.vendor_id}/{self.message_id}"


_PERIOD_KEYS = {"start_period", "limit", "number_phases"}
_ONE_DECIMAL = Decimal("0.1")


def _one_decimal(value) -> Decimal | None:
    """The value as a Decimal when it is a number with at most one decimal (OCPP multipleOf 0.1)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    if not number.is_finite() or number != number.quantize(_ONE_DECIMAL):
        return None
    return number


def validate_schedule_periods(periods) -> None:
    """Periods are [{start_period, limit, number_phases?}], from 0, strictly increasing."""
    if not isinstance(periods, list) or not periods:
        raise ValidationError(_("Give at least one schedule period."))
    previous = None
    for index, period in enumerate(periods, start=1):
        if not isinstance(period, dict) or not {"start_period", "limit"} <= set(period):
            raise ValidationError(
                _("Period %(n)d needs start_period and limit."), params={"n": index}
            )
        if set(period) - _PERIOD_KEYS:
            raise ValidationError(
                _("Period %(n)d has unknown keys: %(keys)s."),
                params={"n": index, "keys": ", ".join(sorted(set(period) - _PERIOD_KEYS))},
            )
        start = period["start_period"]
        if type(start) is not int or start < 0:
            raise ValidationError(
                _("Period %(n)d: start_period is whole seconds from 0."), params={"n": index}
            )
        limit = _one_decimal(period["limit"])
        if limit is None or limit < 0:
            raise ValidationError(
                _("Period %(n)d: limit is a number ≥ 0 with at most one decimal."),
                params={"n": index},
            )
        phases = period.get("number_phases")
        if phases is not None and (type(phases) is not int or phases not in (1, 2, 3)):
            raise ValidationError(
                _("Period %(n)d: number_phases is 1, 2 or 3."), params={"n": index}
            )
        # OCPP: the first period starts the schedule, the others follow in order.
        if previous is None and start != 0:
            raise ValidationError(_("The first period starts at 0."))
        if previous is not None and start <= previous:
            raise ValidationError(
                _("Period %(n)d must start after the one before it."), params={"n": index}
            )
        previous = start


class ChargingProfileQuerySet(TenantQuerySet):
    """Charging profiles narrowed by organization."""


class ChargingProfile(models.Model):
    """A smart-charging profile an organization keeps and sends to its stations."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="charging_profiles"
    )
    name = models.CharField(_("name"), max_length=120)
    purpose = models.CharField(
        _("purpose"),
        max_length=24,
        choices=ChargingProfilePurpose.choices,
        default=ChargingProfilePurpose.TX_DEFAULT,
    )
    stack_level = models.PositiveSmallIntegerField(
        _("stack level"),
        default=0,
        help_text=_("Among profiles of the same purpose, the highest level wins."),
    )
    kind = models.CharField(
        _("kind"),
        max_length=10,
        choices=ChargingProfileKind.choices,
        default=ChargingProfileKind.ABSOLUTE,
    )
    recurrency_kind = models.CharField(
        _("recurrency"), max_length=8, choices=RecurrencyKind.choices, blank=True
    )
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_to = models.DateTimeField(_("valid to"), null=True, blank=True)
    charging_rate_unit = models.CharField(
        _("charging rate unit"),
        max_length=1,
        choices=ChargingRateUnit.choices,
        default=ChargingRateUnit.AMPERES,
    )
    duration = models.PositiveIntegerField(
        _("duration (s)"), null=True, blank=True, help_text=_("Empty: the last period lasts.")
    )
    start_schedule = models.DateTimeField(_("schedule start"), null=True, blank=True)
    min_charging_rate = models.DecimalField(
        _("minimum charging rate"),
        max_digits=9,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    schedule_periods = models.JSONField(
        _("schedule periods"),
        default=list,
        validators=[validate_schedule_periods],
        help_text=_('e.g. [{"start_period": 0, "limit": 16.0, "number_phases": 3}]'),
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    objects = ChargingProfileQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("charging profile")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="unique_charging_profile_name_per_org"
            )
        ]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        if self.kind == ChargingProfileKind.RECURRING:
            if not self.recurrency_kind:
                errors["recurrency_kind"] = _("A recurring profile is daily or weekly.")
            if self.start_schedule is None:
                errors["start_schedule"] = _("A recurring profile needs the start it repeats.")
        elif self.recurrency_kind:
            errors["recurrency_kind"] = _("Only recurring profiles have a recurrency.")
        if self.kind == ChargingProfileKind.RELATIVE and self.start_schedule is not None:
            errors["start_schedule"] = _(
                "A relative profile starts with the transaction: leave the start empty."
            )
        if self.valid_from and self.valid_to and self.valid_to <= self.valid_from:
            errors["valid_to"] = _("The end of validity comes after its start.")
        if errors:
            raise ValidationError(errors)


def access_group_model() -> type[models.Model]:
    """The access-group model (cards app, above this one), through the relation Site declares."""
    return Site._meta.get_field("access_groups").related_model


# --- device model: the components and variables a station reports (2.0.1) or its 1.6 keys


class AttributeType(models.TextChoices):
    """Which value of a variable: the actual one, the target, or the lowest/highest settable."""

    ACTUAL = "Actual", _("Actual")
    TARGET = "Target", _("Target")
    MIN_SET = "MinSet", _("Minimum settable")
    MAX_SET = "MaxSet", _("Maximum settable")


class Mutability(models.TextChoices):
    """Whether the operator can read and/or write a variable."""

    READ_ONLY = "ReadOnly", _("Read only")
    WRITE_ONLY = "WriteOnly", _("Write only")
    READ_WRITE = "ReadWrite", _("Read and write")


class VariableSource(models.TextChoices):
    """The message the stored value last came from."""

    REPORT = "report", _("Report (NotifyReport)")
    GET_VARIABLES = "get_variables", _("GetVariables")
    SET_VARIABLES = "set_variables", _("SetVariables")
    CONFIGURATION = "configuration", _("OCPP 1.6 configuration")


class StationVariableQuerySet(TenantQuerySet):
    """Device model variables narrowed by their station's organization."""

    org_path = "station__organization"


class StationVariable(models.Model):
    """One attribute of one variable of one component of a station (a 1.6 key: no component)."""

    station = models.ForeignKey(ChargingStation, on_delete=models.CASCADE, related_name="variables")
    # The key is stored without NULLs ("" and 0 mean "none"): a unique constraint treats NULLs
    # as distinct on SQLite, and bulk upserts need one conflict target on both databases.
    component = models.CharField(
        _("component"), max_length=50, blank=True, help_text=_("Empty for an OCPP 1.6 key.")
    )
    component_instance = models.CharField(_("component instance"), max_length=50, blank=True)
    evse_number = models.PositiveIntegerField(
        _("EVSE"), default=0, help_text=_("0: the component is not on one EVSE.")
    )
    connector_number = models.PositiveIntegerField(
        _("connector on the EVSE"), default=0, help_text=_("0: not on one connector.")
    )
    variable = models.CharField(_("variable"), max_length=50)
    variable_instance = models.CharField(_("variable instance"), max_length=50, blank=True)
    attribute_type = models.CharField(
        _("attribute type"),
        max_length=8,
        choices=AttributeType.choices,
        default=AttributeType.ACTUAL,
    )
    value = models.TextField(_("value"), blank=True)
    mutability = models.CharField(
        _("mutability"), max_length=9, choices=Mutability.choices, blank=True
    )
    persistent = models.BooleanField(_("persistent"), default=False)
    constant = models.BooleanField(_("constant"), default=False)
    data_type = models.CharField(_("data type"), max_length=20, blank=True)
    unit = models.CharField(_("unit"), max_length=16, blank=True)
    min_limit = models.FloatField(_("minimum"), null=True, blank=True)
    max_limit = models.FloatField(_("maximum"), null=True, blank=True)
    values_list = models.TextField(_("allowed values"), blank=True)
    supports_monitoring = models.BooleanField(_("supports monitoring"), default=False)
    source = models.CharField(
        _("source"), max_length=16, choices=VariableSource.choices, default=VariableSource.REPORT
    )
    reported_at = models.DateTimeField(_("reported at"), null=True, blank=True)
    set_value = models.TextField(_("value last set"), blank=True)
    set_status = models.CharField(_("last set result"), max_length=24, blank=True)
    set_status_info = models.TextField(_("last set result details"), blank=True)
    set_at = models.DateTimeField(_("last set at"), null=True, blank=True)

    objects = StationVariableQuerySet.as_manager()

    class Meta:
        ordering = [
            "station",
            "component",
            "component_instance",
            "evse_number",
            "connector_number",
            "variable",
            "variable_instance",
            "attribute_type",
        ]
        verbose_name = _("station variable")
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "station",
                    "component",
                    "component_instance",
                    "evse_number",
                    "connector_number",
                    "variable",
                    "variable_instance",
                    "attribute_type",
                ],
                name="unique_station_variable_attribute",
            )
        ]

    def __str__(self):
        name = f"{self.component}.{self.variable}" if self.component else self.variable
        return f"{name} ({self.attribute_type})"


class DeviceModelReportQuerySet(TenantQuerySet):
    """Report requests narrowed by their station's organization."""

    org_path = "station__organization"


class DeviceModelReport(models.Model):
    """A GetBaseReport/GetReport the platform asked for, and the NotifyReport parts received."""

    station = models.ForeignKey(
        ChargingStation, on_delete=models.CASCADE, related_name="device_model_reports"
    )
    request_id = models.IntegerField(_("request id"))
    # FullInventory, ConfigurationInventory, SummaryInventory, or "Criteria" for a GetReport.
    kind = models.CharField(_("kind"), max_length=24)
    status = models.CharField(_("station's answer"), max_length=24, blank=True)
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    parts = models.PositiveIntegerField(_("parts received"), default=0)
    last_seq_no = models.IntegerField(_("last part number"), null=True, blank=True)
    variables = models.PositiveIntegerField(_("variables received"), default=0)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    objects = DeviceModelReportQuerySet.as_manager()

    class Meta:
        ordering = ["station", "-requested_at"]
        verbose_name = _("device model report")
        constraints = [
            models.UniqueConstraint(
                fields=["station", "request_id"], name="unique_device_model_report_request"
            )
        ]

    def __str__(self):
        return f"{self.kind} #{self.request_id}"


# --- events and monitoring: what a station reports about itself (2.0.1)


class StationEventKind(models.TextChoices):
    """Where an event came from: a monitored variable (NotifyEvent) or the station's security."""

    NOTIFY = "notify_event", _("Event")
    SECURITY = "security_event", _("Security event")


class EventTrigger(models.TextChoices):
    """Why a NotifyEvent entry was sent."""

    ALERTING = "Alerting", _("Alerting")
    DELTA = "Delta", _("Delta")
    PERIODIC = "Periodic", _("Periodic")


class MonitorType(models.TextChoices):
    """What a variable monitor watches for."""

    UPPER_THRESHOLD = "UpperThreshold", _("Upper threshold")
    LOWER_THRESHOLD = "LowerThreshold", _("Lower threshold")
    DELTA = "Delta", _("Delta")
    PERIODIC = "Periodic", _("Periodic")
    PERIODIC_CLOCK_ALIGNED = "PeriodicClockAligned", _("Periodic, clock aligned")


class MonitorSource(models.TextChoices):
    """How the platform knows of a monitor."""

    SET = "Accepted", _("Set by the platform and accepted")
    REPORTED = "Reported", _("Reported by the station")


# OCPP severities run from 0 (danger) to 9 (debug): a lower number is more severe.
SEVERITY_LEVELS = {
    0: _("Danger"),
    1: _("Hardware failure"),
    2: _("System failure"),
    3: _("Critical"),
    4: _("Error"),
    5: _("Alert"),
    6: _("Warning"),
    7: _("Notice"),
    8: _("Informational"),
    9: _("Debug"),
}


class StationEventQuerySet(TenantQuerySet):
    """Station events narrowed by their station's organization."""

    org_path = "station__organization"


class StationEvent(models.Model):
    """One event a station reported: a NotifyEvent entry or a SecurityEventNotification."""

    station = models.ForeignKey(
        ChargingStation, on_delete=models.CASCADE, related_name="station_events"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=StationEventKind.choices)
    timestamp = models.DateTimeField(_("occurred at"))
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    # A NotifyEvent entry: the station's event id, why and what, on which component/variable.
    event_id = models.IntegerField(_("event id"), null=True, blank=True)
    trigger = models.CharField(
        _("trigger"), max_length=16, choices=EventTrigger.choices, blank=True
    )
    cause = models.IntegerField(
        _("cause"), null=True, blank=True, help_text=_("The event id that led to this one.")
    )
    actual_value = models.TextField(_("actual value"), blank=True)
    tech_code = models.CharField(_("technical code"), max_length=50, blank=True)
    tech_info = models.TextField(_("technical information"), blank=True)
    cleared = models.BooleanField(
        _("cleared"), default=False, help_text=_("The monitored situation has returned to normal.")
    )
    transaction_id = models.CharField(_("transaction id"), max_length=36, blank=True)
    variable_monitoring_id = models.IntegerField(_("monitor id"), null=True, blank=True)
    event_notification_type = models.CharField(_("notification type"), max_length=24, blank=True)
    component = models.CharField(_("component"), max_length=50, blank=True)
    component_instance = models.CharField(_("component instance"), max_length=50, blank=True)
    evse_number = models.PositiveIntegerField(
        _("EVSE"), default=0, help_text=_("0: the component is not on one EVSE.")
    )
    connector_number = models.PositiveIntegerField(
        _("connector on the EVSE"), default=0, help_text=_("0: not on one connector.")
    )
    variable = models.CharField(_("variable"), max_length=50, blank=True)
    variable_instance = models.CharField(_("variable instance"), max_length=50, blank=True)
    # The severity of the monitor that raised it, as the platform knew that monitor then.
    severity = models.PositiveSmallIntegerField(_("severity"), null=True, blank=True)
    # A SecurityEventNotification: its type and whether OCPP lists that type as critical.
    type = models.CharField(_("security event type"), max_length=50, blank=True)
    critical = models.BooleanField(_("critical"), default=False)

    objects = StationEventQuerySet.as_manager()

    class Meta:
        ordering = ["-timestamp", "-id"]
        verbose_name = _("station event")
        indexes = [models.Index(fields=["station", "-timestamp"], name="stationevent_station_time")]
        constraints = [
            # A retransmitted NotifyEvent or SecurityEventNotification stores nothing twice.
            models.UniqueConstraint(
                fields=["station", "event_id", "timestamp"],
                condition=models.Q(kind="notify_event"),
                name="unique_station_notify_event",
            ),
            models.UniqueConstraint(
                fields=["station", "type", "timestamp"],
                condition=models.Q(kind="security_event"),
                name="unique_station_security_event",
            ),
        ]

    def __str__(self):
        what = self.type if self.kind == StationEventKind.SECURITY else self.subject
        return f"{self.station} {what} @ {self.timestamp:%Y-%m-%d %H:%M:%S}"

    @property
    def subject(self) -> str:
        """Component.variable the event is about (empty for a security event)."""
        if not self.component:
            return ""
        return f"{self.component}.{self.variable}" if self.variable else self.component

    @property
    def severity_label(self) -> str:
        """The severity's OCPP name, or empty when the platform does not know it."""
        return str(SEVERITY_LEVELS.get(self.severity, "")) if self.severity is not None else ""


class VariableMonitorQuerySet(TenantQuerySet):
    """Variable monitors narrowed by their station's organization."""

    org_path = "station__organization"


class VariableMonitor(models.Model):
    """A monitor a station has on a variable, as the platform set it or the station reported it."""

    station = models.ForeignKey(
        ChargingStation, on_delete=models.CASCADE, related_name="variable_monitors"
    )
    monitor_id = models.IntegerField(_("monitor id"))
    component = models.CharField(_("component"), max_length=50)
    component_instance = models.CharField(_("component instance"), max_length=50, blank=True)
    evse_number = models.PositiveIntegerField(
        _("EVSE"), default=0, help_text=_("0: the component is not on one EVSE.")
    )
    connector_number = models.PositiveIntegerField(
        _("connector on the EVSE"), default=0, help_text=_("0: not on one connector.")
    )
    variable = models.CharField(_("variable"), max_length=50)
    variable_instance = models.CharField(_("variable instance"), max_length=50, blank=True)
    transaction = models.BooleanField(_("during transactions only"), default=False)
    type = models.CharField(_("type"), max_length=20, choices=MonitorType.choices)
    value = models.FloatField(_("value"))
    severity = models.PositiveSmallIntegerField(
        _("severity"), validators=[MaxValueValidator(9)], help_text=_("0 (danger) to 9 (debug).")
    )
    status = models.CharField(_("source"), max_length=10, choices=MonitorSource.choices)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    objects = VariableMonitorQuerySet.as_manager()

    class Meta:
        ordering = ["station", "monitor_id"]
        verbose_name = _("variable monitor")
        constraints = [
            models.UniqueConstraint(
                fields=["station", "monitor_id"], name="unique_station_variable_monitor"
            )
        ]

    def __str__(self):
        return f"#{self.monitor_id} {self.component}.{self.variable} {self.type} {self.value:g}"


class CustomerInformationPartQuerySet(TenantQuerySet):
    """Customer information parts narrowed by their station's organization."""

    org_path = "station__organization"


class CustomerInformationPart(models.Model):
    """One part of what a station reported about a customer (NotifyCustomerInformation)."""

    station = models.ForeignKey(
        ChargingStation, on_delete=models.CASCADE, related_name="customer_information"
    )
    request_id = models.IntegerField(_("request id"))
    seq_no = models.PositiveIntegerField(_("part number"))
    data = models.TextField(_("data"), blank=True)
    more_follows = models.BooleanField(_("more parts follow"), default=False)
    generated_at = models.DateTimeField(_("generated at"))
    received_at = models.DateTimeField(_("received at"), default=timezone.now)

    objects = CustomerInformationPartQuerySet.as_manager()

    class Meta:
        ordering = ["station", "-request_id", "seq_no"]
        verbose_name = _("customer information part")
        constraints = [
            # A retransmitted part is stored once.
            models.UniqueConstraint(
                fields=["station", "request_id", "seq_no"], name="unique_customer_information_part"
            )
        ]

    def __str__(self):
        return f"{self.station} #{self.request_id}/{self.seq_no}"


# --- smart charging and firmware publication: what a 2.0.1 station reports


class ChargingLimitSource(models.TextChoices):
    """Who set a charging limit or profile (2.0.1's values; 2.1 allows others, kept as sent)."""

    CSO = "CSO", _("Charging station operator (this platform)")
    EMS = "EMS", _("Energy management system")
    SO = "SO", _("System operator")
    OTHER = "Other", _("Other")


class ReportedChargingProfileQuerySet(TenantQuerySet):
    """Reported charging profiles narrowed by their station's organization."""

    org_path = "station__organization"


class ReportedChargingProfile(models.Model):
    """A charging profile a station said it has installed, in answer to GetChargingProfiles."""

    station = models.ForeignKey(
        ChargingStation, on_delete=models.CASCADE, related_name="reported_charging_profiles"
    )
    # The GetChargingProfiles request the report answered: its parts share it.
    request_id = models.IntegerField(_("request id"))
    evse_number = models.PositiveIntegerField(_("EVSE"), default=0, help_text=_("0: the station."))
    source = models.CharField(_("set by"), max_length=20, choices=ChargingLimitSource.choices)
    profile_id = models.IntegerField(_("profile id"))
    # 2.0.1's names: ChargingStationMaxProfile, TxDefaultProfile, TxProfile, or
    # ChargingStationExternalConstraints (set by a system beside the CSMS).
    purpose = models.CharField(_("purpose"), max_length=40)
    stack_level = models.PositiveIntegerField(_("stack level"), default=0)
    kind = models.CharField(_("kind"), max_length=10)
    transaction_id = models.CharField(_("transaction id"), max_length=36, blank=True)
    profile = models.JSONField(_("profile as reported"), default=dict)
    reported_at = models.DateTimeField(_("reported at"), default=timezone.now)

    objects = ReportedChargingProfileQuerySet.as_manager()

    class Meta:
        ordering = ["station", "evse_number", "purpose", "-stack_level", "profile_id"]
        verbose_name = _("reported charging profile")
        constraints = [
            models.UniqueConstraint(
                fields=["station", "request_id", "evse_number", "source", "profile_id"],
                name="unique_reported_charging_profile",
            )
        ]

    def __str__(self):
        return f"{self.station} #{self.evse_number} {self.purpose} {self.profile_id}"


class ExternalChargingLimitQuerySet(TenantQuerySet):
    """External charging limits narrowed by their station's organization."""

    org_path = "station__organization"

    def active(self):
        """Limits the station has not reported cleared."""
        return self.filter(cleared_at__isnull=True)


class ExternalChargingLimit(models.Model):
    """A limit a system beside the CSMS put on a station or an EVSE (NotifyChargingLimit)."""

    station = models.ForeignKey(
        ChargingStation, on_delete=models.CASCADE, related_name="external_charging_limits"
    )
    evse_number = models.PositiveIntegerField(_("EVSE"), default=0, help_text=_("0: the station."))
    source = models.CharField(_("set by"), max_length=20, choices=ChargingLimitSource.choices)
    grid_critical = models.BooleanField(_("grid critical"), null=True, blank=True)
    # The ChargingScheduleType objects the station reported, as it reported them.
    schedules = models.JSONField(_("schedules"), default=list, blank=True)
    reported_at = models.DateTimeField(_("reported at"), default=timezone.now)
    cleared_at = models.DateTimeField(_("cleared at"), null=True, blank=True)

    objects = ExternalChargingLimitQuerySet.as_manager()

    class Meta:
        ordering = ["station", "-reported_at", "-id"]
        verbose_name = _("external charging limit")
        constraints = [
            models.UniqueConstraint(
                fields=["station", "evse_number", "source"],
                condition=models.Q(cleared_at__isnull=True),
                name="one_active_external_limit_per_source",
            )
        ]

    def __str__(self):
        return f"{self.station} #{self.evse_number} {self.source}"


class EVChargingNeedsQuerySet(TenantQuerySet):
    """EV charging needs narrowed by their station's organization."""

    org_path = "station__organization"


class EVChargingNeeds(models.Model):
    """What an EV asked an EVSE for over ISO 15118, and the schedule it then proposed."""

    station = models.ForeignKey(
        ChargingStation, on_delete=models.CASCADE, related_name="ev_charging_needs"
    )
    evse_number = models.PositiveIntegerField(_("EVSE"))
    # DC, AC_single_phase, AC_two_phase or AC_three_phase; empty: only a schedule was reported.
    energy_transfer = models.CharField(_("energy transfer"), max_length=20, blank=True)
    energy_amount = models.PositiveIntegerField(_("energy asked for (Wh)"), null=True, blank=True)
    departure_time = models.DateTimeField(_("departure time"), null=True, blank=True)
    max_schedule_tuples = models.PositiveIntegerField(
        _("most schedule periods the EV takes"), null=True, blank=True
    )
    needs = models.JSONField(_("needs as reported"), default=dict, blank=True)
    reported_at = models.DateTimeField(_("reported at"), default=timezone.now)
    # NotifyEVChargingSchedule: the EV's schedule, from `schedule_time_base` on, and our answer.
    schedule = models.JSONField(_("EV's schedule"), null=True, blank=True)
    schedule_time_base = models.DateTimeField(_("schedule time base"), null=True, blank=True)
    schedule_status = models.CharField(_("schedule answer"), max_length=10, blank=True)
    schedule_reported_at = models.DateTimeField(_("schedule reported at"), null=True, blank=True)

    objects = EVChargingNeedsQuerySet.as_manager()

    class Meta:
        ordering = ["station", "-reported_at", "-id"]
        verbose_name = _("EV charging needs")
        verbose_name_plural = _("EV charging needs")
        indexes = [
            models.Index(fields=["station", "evse_number", "-reported_at"], name="ev_needs_evse")
        ]

    def __str__(self):
        return f"{self.station} #{self.evse_number} {self.energy_transfer}"


class FirmwarePublicationQuerySet(TenantQuerySet):
    """Firmware publications narrowed by their station's organization."""

    org_path = "station__organization"


class FirmwarePublication(models.Model):
    """Firmware a local controller was asked to serve to its stations (PublishFirmware)."""

    station = models.ForeignKey(
        ChargingStation, on_delete=models.CASCADE, related_name="firmware_publications"
    )
    # The id the controller's PublishFirmwareStatusNotifications carry (none: not ours).
    request_id = models.IntegerField(_("request id"), null=True, blank=True)
    location = models.CharField(_("downloaded from"), max_length=512, blank=True)
    checksum = models.CharField(_("MD5 checksum"), max_length=32, blank=True)
    # The last PublishFirmwareStatusEnumType the controller reported (empty: none yet).
    status = models.CharField(_("status"), max_length=20, blank=True)
    status_at = models.DateTimeField(_("status time"), null=True, blank=True)
    # Where the controller serves the image once Published.
    published_locations = models.JSONField(_("published at"), default=list, blank=True)
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    unpublished_at = models.DateTimeField(_("unpublished at"), null=True, blank=True)

    objects = FirmwarePublicationQuerySet.as_manager()

    class Meta:
        ordering = ["station", "-requested_at", "-id"]
        verbose_name = _("firmware publication")

    def __str__(self):
        return f"{self.station} {self.checksum or self.request_id}"


# --- diagnostics and log files stations upload (GetDiagnostics, GetLog) ------------------------


class DiagnosticsRequestQuerySet(TenantQuerySet):
    """Diagnostics upload requests narrowed by their station's organization."""

    org_path = "station__organization"


class DiagnosticsRequest(models.Model):
    """A place a station may upload diagnostics to: an unguessable token with an expiry."""

    station = models.ForeignKey(
        ChargingStation, on_delete=models.CASCADE, related_name="diagnostics_requests"
    )
    # SHA-256 of the token in the upload URL: the URL itself is never stored.
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True)
    command = models.CharField(_("command"), max_length=48, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created = models.DateTimeField(_("requested at"), default=timezone.now)
    expires_at = models.DateTimeField(_("upload allowed until"))

    objects = DiagnosticsRequestQuerySet.as_manager()

    class Meta:
        ordering = ["station", "-created", "-id"]
        verbose_name = _("diagnostics request")

    def __str__(self):
        return f"{self.station} {self.command} {self.created:%Y-%m-%d %H:%M}"

    @property
    def expired(self) -> bool:
        """Whether the station may no longer upload for it."""
        return self.expires_at <= timezone.now()


class DiagnosticsFileQuerySet(TenantQuerySet):
    """Uploaded diagnostics files narrowed by their station's organization."""

    org_path = "station__organization"


class DiagnosticsFile(models.Model):
    """A diagnostics or log file a station uploaded, kept through Django's storage."""

    station = models.ForeignKey(
        ChargingStation, on_delete=models.CASCADE, related_name="diagnostics_files"
    )
    request = models.ForeignKey(
        DiagnosticsRequest,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="files",
        verbose_name=_("request"),
    )
    file = models.FileField(_("file"), upload_to="diagnostics/%Y/%m/", max_length=255)
    original_name = models.CharField(_("file name"), max_length=255, blank=True)
    size = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    received = models.DateTimeField(_("received at"), default=timezone.now)

    objects = DiagnosticsFileQuerySet.as_manager()

    class Meta:
        ordering = ["station", "-received", "-id"]
        verbose_name = _("diagnostics file")
        indexes = [models.Index(fields=["station", "-received"], name="diagfile_station_time")]

    def __str__(self):
        return self.original_name or self.file.name
