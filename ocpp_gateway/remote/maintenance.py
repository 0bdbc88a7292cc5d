"""Maintenance commands: reset, cache, availability, configuration, firmware, lists, profiles."""

import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ocpp_gateway import intents, versions
from ocpp_gateway.choices import CommandStatus
from ocpp_gateway.commands import send_call
from ocpp_gateway.intents import LocalListOutcome
from ocpp_gateway.models import CommandLog
from ocpp_gateway.remote.charging import link_session, send, version_of
from ocpp_gateway.remote.configuration import (
    record_configuration_answer,
    record_configuration_change,
)
from ocpp_gateway.remote.registry import (
    CommandContext,
    CommandNotAllowed,
    CommandSpec,
    ConnectorField,
    only_in_201,
    register,
    speaks_16,
)
from ocpp_gateway.v201.control import TRIGGERABLE_MESSAGES as TRIGGERABLE_MESSAGES_201
from ocpp_gateway.v201.control import trigger_name
from organizations.choices import Role
from sessions_app.authorization import offline_authorizations
from stations.choices import (
    ChargingProfilePurpose,
    ChargingRateUnit,
    DataTransferDirection,
    LocalListUpdateType,
)
from stations.diagnostics import UploadLocationTaken, open_upload_location
from stations.models import ChargingProfile, Connector, Evse
from stations.services import record_data_transfer, record_local_list

# TriggerMessage values a 1.6 station can be asked for, and those that concern one connector.
TRIGGERABLE_MESSAGES = (
    "BootNotification",
    "DiagnosticsStatusNotification",
    "FirmwareStatusNotification",
    "Heartbeat",
    "MeterValues",
    "StatusNotification",
)
PER_CONNECTOR_MESSAGES = ("MeterValues", "StatusNotification")
# 2.0.1 narrows these to an EVSE (its LogStatusNotification is 1.6 DiagnosticsStatusNotification).
PER_CONNECTOR_MESSAGES_201 = ("MeterValues", "StatusNotification", "TransactionEvent")
# Every name the command offers, 1.6's first; each station takes those of its version.
TRIGGER_CHOICES = tuple(dict.fromkeys(TRIGGERABLE_MESSAGES + TRIGGERABLE_MESSAGES_201))
# Where stations fetch firmware and upload diagnostics.
FILE_LOCATION_SCHEMES = ("http", "https", "ftp", "ftps", "sftp")
# No spaces, controls or characters a URI never holds unescaped (RFC 3986).
_URI_CHARACTERS = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+$")


def _connector_number(ctx: CommandContext) -> int:
    """The OCPP connectorId chosen: 0 when the command is for the whole station."""
    return ctx.connector.connector_id if ctx.connector is not None else 0


def validate_file_location(value: str) -> None:
    """An absolute URI with a scheme stations use, as OCPP's anyURI `location` expects."""
    # Django's URLValidator wants a public-looking host (a dot, a known TLD): a depot's own
    # server is often just `app` or `files` on the station network, which is perfectly valid.
    message = _("Enter an absolute URI such as https://files/firmware.bin (%(schemes)s).") % {
        "schemes": ", ".join(FILE_LOCATION_SCHEMES)
    }
    if not _URI_CHARACTERS.match(value):
        raise ValidationError(message, code="invalid")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a port that is not a number in range
    except ValueError:
        raise ValidationError(message, code="invalid") from None
    if parts.scheme.lower() not in FILE_LOCATION_SCHEMES or not parts.hostname:
        raise ValidationError(message, code="invalid")


class FileLocationField(serializers.CharField):
    """A URI a station downloads from or uploads to."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 512)
        kwargs.setdefault("validators", [validate_file_location])
        super().__init__(**kwargs)


class ChargingProfileField(serializers.PrimaryKeyRelatedField):
    """A charging profile of the station's organization, by id; any other id does not exist."""

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", ChargingProfile.objects.none())
        super().__init__(**kwargs)

    def get_queryset(self):
        return ChargingProfile.objects.for_org(self.context["station"].organization_id)


# --- Parameters -------------------------------------------------------------------------------


class EvseField(serializers.IntegerField):
    """An OCPP 2.0.1 evseId of the station (1.6 stations have none to give)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("label", _("EVSE"))
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        number = super().to_internal_value(data)
        station = self.context["station"]
        only_in_201(station, _("Choosing an EVSE"))
        if not Evse.objects.filter(station=station, evse_number=number).exists():
            raise serializers.ValidationError(_("The station has no EVSE %(n)d.") % {"n": number})
        return number


class ResetParameters(serializers.Serializer):
    """Reset: soft ends transactions first (2.0.1 OnIdle), hard reboots at once (Immediate)."""

    type = serializers.ChoiceField(choices=["Soft", "Hard"], default="Soft")
    # 2.0.1 resets one EVSE alone; none: the whole station.
    evse_id = EvseField(required=False)


class AvailabilityParameters(serializers.Serializer):
    """ChangeAvailability of one connector, one EVSE (2.0.1) or (0, neither) the whole station."""

    connector_id = ConnectorField(source="connector", required=False, station_allowed=True)
    evse_id = EvseField(required=False)
    type = serializers.ChoiceField(choices=["Operative", "Inoperative"])

    def validate(self, attrs):
        if attrs.get("connector") is not None and attrs.get("evse_id") is not None:
            raise serializers.ValidationError(
                {"evse_id": [_("Give a connector or an EVSE, not both.")]}
            )
        return attrs


class GetConfigurationParameters(serializers.Serializer):
    """GetConfiguration of some keys, or of all when none are given."""

    keys = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, allow_empty=True
    )


class ChangeConfigurationParameters(serializers.Serializer):
    """ChangeConfiguration of one key."""

    key = serializers.CharField(max_length=50)
    # Blank is a value too (e.g. clearing a URL); spaces may matter to the station.
    value = serializers.CharField(max_length=500, allow_blank=True, trim_whitespace=False)


class TriggerMessageParameters(serializers.Serializer):
    """TriggerMessage: ask the station to send one message now."""

    requested_message = serializers.ChoiceField(choices=TRIGGER_CHOICES)
    connector_id = ConnectorField(source="connector", required=False)

    def validate_requested_message(self, value):
        # Every 1.6 name has a 2.0.1 message (trigger_name): only 2.0.1's own are one-version.
        if speaks_16(self.context["station"]) and value not in TRIGGERABLE_MESSAGES:
            raise serializers.ValidationError(
                _("%(message)s is only for OCPP 2.0.1 stations.") % {"message": value}
            )
        return value

    def validate(self, attrs):
        if speaks_16(self.context["station"]):
            per_connector = PER_CONNECTOR_MESSAGES
            message = _("Only MeterValues and StatusNotification are per connector.")
        else:
            per_connector = PER_CONNECTOR_MESSAGES_201
            message = _("Only MeterValues, StatusNotification and TransactionEvent are per EVSE.")
        if attrs.get("connector") and trigger_name(attrs["requested_message"]) not in per_connector:
            raise serializers.ValidationError({"connector_id": [message]})
        return attrs


class UpdateFirmwareParameters(serializers.Serializer):
    """UpdateFirmware: where to fetch the image, from when, how often to retry."""

    location = FileLocationField()
    retrieve_date = serializers.DateTimeField(default=timezone.now)
    retries = serializers.IntegerField(min_value=0, required=False)
    retry_interval = serializers.IntegerField(min_value=0, required=False, help_text="seconds")
    # Secure firmware update (2.0.1): the station checks the image against both.
    signing_certificate = serializers.CharField(
        max_length=5500,
        required=False,
        trim_whitespace=False,
        label=_("Signing certificate (PEM)"),
        help_text="PEM",
    )
    signature = serializers.CharField(
        max_length=800, required=False, label=_("Signature (Base64)"), help_text="Base64"
    )
    install_date = serializers.DateTimeField(required=False, label=_("Install from"))

    def validate(self, attrs):
        given = [n for n in ("signing_certificate", "signature", "install_date") if n in attrs]
        if given and speaks_16(self.context["station"]):
            raise serializers.ValidationError(
                {given[0]: [_("Signed or scheduled installation is only for OCPP 2.0.1 stations.")]}
            )
        signed = {"signing_certificate", "signature"} & set(attrs)
        if len(signed) == 1:
            missing = ({"signing_certificate", "signature"} - signed).pop()
            raise serializers.ValidationError(
                {missing: [_("A signed firmware update needs the certificate and the signature.")]}
            )
        if attrs.get("install_date") and attrs["install_date"] < attrs["retrieve_date"]:
            raise serializers.ValidationError(
                {"install_date": [_("The installation comes after the download.")]}
            )
        return attrs


class GetDiagnosticsParameters(serializers.Serializer):
    """GetDiagnostics: where to upload, which time span, how often to retry."""

    location = FileLocationField()
    start_time = serializers.DateTimeField(required=False)
    stop_time = serializers.DateTimeField(required=False)
    retries = serializers.IntegerField(min_value=0, required=False)
    retry_interval = serializers.IntegerField(min_value=0, required=False, help_text="seconds")

    def validate(self, attrs):
        start, stop = attrs.get("start_time"), attrs.get("stop_time")
        if start and stop and stop <= start:
            raise serializers.ValidationError({"stop_time": [_("The end comes after the start.")]})
        return attrs


class SendLocalListParameters(serializers.Serializer):
    """SendLocalList: the whole list, or only what changed since the station's version."""

    update_type = serializers.ChoiceField(
        choices=LocalListUpdateType.choices, default=LocalListUpdateType.FULL
    )


class SetChargingProfileParameters(serializers.Serializer):
    """SetChargingProfile: one of the organization's profiles, on a connector or the station."""

    profile = ChargingProfileField()
    connector_id = ConnectorField(source="connector", required=False, station_allowed=True)
    # 1.6 numbers transactions, 2.0.1 names them (up to 36 characters).
    transaction_id = serializers.CharField(max_length=36, required=False)

    def validate(self, attrs):
        purpose, connector = attrs["profile"].purpose, attrs.get("connector")
        if purpose == ChargingProfilePurpose.CHARGE_POINT_MAX and connector is not None:
            raise serializers.ValidationError(
                {"connector_id": [_("A ChargePointMaxProfile limits the whole station: use 0.")]}
            )
        if purpose == ChargingProfilePurpose.TX and connector is None:
            raise serializers.ValidationError(
                {"connector_id": [_("A TxProfile limits a transaction: give its connector.")]}
            )
        if "transaction_id" in attrs and purpose != ChargingProfilePurpose.TX:
            raise serializers.ValidationError(
                {"transaction_id": [_("Only a TxProfile is set for one transaction.")]}
            )
        return attrs


class ClearChargingProfileParameters(serializers.Serializer):
    """ClearChargingProfile: every criterion left out matches all profiles."""

    profile = ChargingProfileField(required=False)
    # A number, not a Connector: 0 (the station's own profiles) and absent (any) differ here.
    connector_id = serializers.IntegerField(min_value=0, required=False)
    purpose = serializers.ChoiceField(choices=ChargingProfilePurpose.choices, required=False)
    stack_level = serializers.IntegerField(min_value=0, required=False)

    def validate_connector_id(self, value):
        station = self.context["station"]
        if value and not Connector.objects.filter(station=station, connector_id=value).exists():
            raise serializers.ValidationError(
                _("The station has no connector %(n)d.") % {"n": value}
            )
        return value


class CompositeScheduleParameters(serializers.Serializer):
    """GetCompositeSchedule: the limits the station will apply over the next `duration` seconds."""

    connector_id = ConnectorField(source="connector", required=False, station_allowed=True)
    duration = serializers.IntegerField(min_value=1, help_text="seconds")
    charging_rate_unit = serializers.ChoiceField(choices=ChargingRateUnit.choices, required=False)


class DataTransferParameters(serializers.Serializer):
    """DataTransfer to the station: a vendor-specific message."""

    vendor_id = serializers.CharField(max_length=255)
    message_id = serializers.CharField(max_length=50, required=False, allow_blank=True)
    data = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)


# --- Rules ------------------------------------------------------------------------------------


def last_local_list_needs_full(ctx: CommandContext) -> str | None:
    """A differential list after the station reported another version would fail again."""
    if ctx.params.get("update_type", LocalListUpdateType.FULL) != LocalListUpdateType.DIFFERENTIAL:
        return None
    last = (
        CommandLog.objects.filter(
            station=ctx.station, command="send_local_list", response__isnull=False
        )
        .order_by("-created", "-id")
        .first()
    )
    if last is None:
        return None
    try:
        calls = versions.for_station(ctx.station).calls
    except versions.UnsupportedVersion as error:
        return str(error)
    if calls.local_list_outcome(last.response) == LocalListOutcome.VERSION_MISMATCH:
        return _("The station holds another list version: send a Full list first.")
    return None


def tx_profile_needs_its_transaction(ctx: CommandContext) -> str | None:
    """A TxProfile is only accepted for the transaction running on its connector."""
    profile = ctx.params.get("profile")
    if profile is None or profile.purpose != ChargingProfilePurpose.TX:
        return None
    session = ctx.active_session()
    if session is None:
        return _("No transaction is running on connector %(n)d: a TxProfile needs one.") % {
            "n": _connector_number(ctx)
        }
    if speaks_16(ctx.station) and not (session.transaction_id or "").isdigit():
        # OCPP 1.6 transaction ids are integers; a session begun over 2.0.1 has none.
        return _("The running transaction has no OCPP 1.6 transaction id.")
    wanted = ctx.params.get("transaction_id")
    if wanted is not None and str(wanted) != session.transaction_id:
        return _("Transaction %(tx)s is not the one running on connector %(n)d.") % {
            "tx": wanted,
            "n": _connector_number(ctx),
        }
    return None


# --- Runners ----------------------------------------------------------------------------------


def clear_rfid_cache(ctx: CommandContext) -> CommandLog:
    """ClearCache: the station forgets the cards it authorized online."""
    return send(ctx, "clear_rfid_cache", intents.ClearCache())


def restart_station(ctx: CommandContext) -> CommandLog:
    """Reset, soft or hard."""
    kind = intents.ResetKind.HARD if ctx.params["type"] == "Hard" else intents.ResetKind.SOFT
    return send(ctx, "restart_station", intents.Reset(kind, evse=ctx.params.get("evse_id")))


def change_availability(ctx: CommandContext) -> CommandLog:
    """ChangeAvailability; Scheduled (after the running transaction) counts as accepted."""
    connector = ctx.connector.connector_id if ctx.connector is not None else None
    intent = intents.ChangeAvailability(
        ctx.params["type"] == "Operative", connector, evse=ctx.params.get("evse_id")
    )
    return send(ctx, "change_availability", intent)


def get_configuration(ctx: CommandContext) -> CommandLog:
    """GetConfiguration of the given keys, or all."""
    intent = intents.GetConfiguration(tuple(ctx.params.get("keys") or ()))
    log = send(ctx, "get_configuration", intent)
    # Kept with the station's device model: one page shows 1.6 keys and 2.0.1 variables.
    record_configuration_answer(ctx.station, intent.keys, log)
    return log


def change_configuration(ctx: CommandContext) -> CommandLog:
    """ChangeConfiguration of one key."""
    intent = intents.ChangeConfiguration(ctx.params["key"], ctx.params["value"])
    log = send(ctx, "change_configuration", intent)
    record_configuration_change(ctx.station, intent.key, intent.value, log)
    return log


def trigger_message(ctx: CommandContext) -> CommandLog:
    """TriggerMessage; the message itself arrives as a normal station-to-CSMS call."""
    connector = ctx.connector.connector_id if ctx.connector is not None else None
    intent = intents.TriggerMessage(ctx.params["requested_message"], connector)
    return send(ctx, "trigger_message", intent)


def update_firmware(ctx: CommandContext) -> CommandLog:
    """UpdateFirmware; progress arrives as FirmwareStatusNotification."""
    intent = intents.UpdateFirmware(
        location=ctx.params["location"],
        retrieve_at=ctx.params["retrieve_date"],
        retries=ctx.params.get("retries"),
        retry_interval=ctx.params.get("retry_interval"),
        signing_certificate=ctx.params.get("signing_certificate", ""),
        signature=ctx.params.get("signature", ""),
        install_at=ctx.params.get("install_date"),
        request_id=intents.new_request_id(),
    )
    return send(ctx, "update_firmware", intent)


def open_upload(ctx: CommandContext, name: str) -> None:
    """Let the station upload to the location given, when it is one of the CSMS's own."""
    # The portal offers a fresh upload URL of this station's; it opens only once sent.
    try:
        open_upload_location(
            ctx.station, ctx.params["location"], command=name, requested_by=ctx.person
        )
    except UploadLocationTaken:
        raise CommandNotAllowed(_("This upload location belongs to another station.")) from None


def get_diagnostics(ctx: CommandContext) -> CommandLog:
    """GetDiagnostics; progress arrives as DiagnosticsStatusNotification."""
    open_upload(ctx, "get_diagnostics")
    intent = intents.GetDiagnostics(
        location=ctx.params["location"],
        start=ctx.params.get("start_time"),
        stop=ctx.params.get("stop_time"),
        retries=ctx.params.get("retries"),
        retry_interval=ctx.params.get("retry_interval"),
    )
    return send(ctx, "get_diagnostics", intent)


def send_local_list(ctx: CommandContext) -> CommandLog:
    """SendLocalList; the version and entries are kept only when the station accepts them."""
    station = ctx.station
    calls = version_of(ctx).calls
    # The differential is computed against what is stored now, not what the caller loaded.
    station.refresh_from_db(fields=["local_list_version", "local_list_snapshot"])
    update = calls.local_list_update(
        intents.SendLocalList(
            full=ctx.params["update_type"] == LocalListUpdateType.FULL,
            authorizations=offline_authorizations(station),
            held_version=station.local_list_version,
            held_entries=station.local_list_snapshot or {},
        )
    )
    log = send_call(
        station,
        *update.call,
        command="send_local_list",
        requested_by=ctx.user,
        via=ctx.via,
    )
    outcome = calls.local_list_outcome(log.response)
    if outcome == LocalListOutcome.ACCEPTED:
        record_local_list(station, update.version, update.entries)
    elif outcome == LocalListOutcome.VERSION_MISMATCH:
        log.error_description = str(
            _("The station holds another list version: send a Full list next.")
        )
        log.save(update_fields=["error_description"])
    return log


def get_local_list_version(ctx: CommandContext) -> CommandLog:
    """GetLocalListVersion: -1 means no local list support, 0 an empty list."""
    return send(ctx, "get_local_list_version", intents.GetLocalListVersion())


def set_charging_profile(ctx: CommandContext) -> CommandLog:
    """SetChargingProfile with the profile's id as chargingProfileId."""
    profile: ChargingProfile = ctx.params["profile"]
    session = None
    if profile.purpose == ChargingProfilePurpose.TX:
        # The rule checked that this is the transaction asked for, if one was.
        session = ctx.active_session()
    intent = intents.SetChargingProfile(
        profile,
        connector=ctx.connector.connector_id if ctx.connector is not None else None,
        transaction_id=session.transaction_id if session is not None else None,
    )
    log = send(ctx, "set_charging_profile", intent)
    # A TxProfile acts on the running session: its log names it, as a stop does.
    return link_session(log, session) if session is not None else log


def clear_charging_profile(ctx: CommandContext) -> CommandLog:
    """ClearChargingProfile of the profiles matching every criterion given."""
    profile = ctx.params.get("profile")
    intent = intents.ClearChargingProfile(
        profile_id=profile.pk if profile is not None else None,
        connector=ctx.params.get("connector_id"),
        purpose=ctx.params.get("purpose"),
        stack_level=ctx.params.get("stack_level"),
    )
    return send(ctx, "clear_charging_profile", intent)


def get_composite_schedule(ctx: CommandContext) -> CommandLog:
    """GetCompositeSchedule of a connector or (0) the station."""
    intent = intents.GetCompositeSchedule(
        duration=ctx.params["duration"],
        connector=ctx.connector.connector_id if ctx.connector is not None else None,
        rate_unit=ctx.params.get("charging_rate_unit"),
    )
    return send(ctx, "get_composite_schedule", intent)


def data_transfer(ctx: CommandContext) -> CommandLog:
    """DataTransfer to the station, kept with the data transfers it sent us."""
    intent = intents.DataTransfer(
        vendor_id=ctx.params["vendor_id"],
        message_id=ctx.params.get("message_id") or "",
        data=ctx.params.get("data"),
    )
    log = send(ctx, "data_transfer", intent)
    # A message that never left (station offline) is no data transfer.
    if log.status != CommandStatus.OFFLINE:
        answer = version_of(ctx).calls.data_transfer_answer(log.response)
        record_data_transfer(
            ctx.station,
            vendor_id=intent.vendor_id,
            message_id=intent.message_id,
            data=intent.data,
            status=answer.status,
            response_data=answer.data,
            direction=DataTransferDirection.OUT,
        )
    return log


register(
    CommandSpec(
        name="clear_rfid_cache",
        label=_("Clear RFID cache"),
        run=clear_rfid_cache,
        intents=(intents.ClearCache,),
        min_role=Role.OPERATOR,
        description=_("The station forgets the cards it authorized online (ClearCache)."),
    )
)
register(
    CommandSpec(
        name="restart_station",
        label=_("Restart station"),
        run=restart_station,
        params=ResetParameters,
        intents=(intents.Reset,),
        min_role=Role.OPERATOR,
        description=_("Soft: ends transactions and restarts the software. Hard: reboots."),
    )
)
register(
    CommandSpec(
        name="change_availability",
        label=_("Change availability"),
        run=change_availability,
        params=AvailabilityParameters,
        intents=(intents.ChangeAvailability,),
        min_role=Role.OPERATOR,
        description=_(
            "Make a connector or (0) the whole station operative or inoperative; with a "
            "transaction running, the station does so when it ends."
        ),
    )
)
register(
    CommandSpec(
        name="get_configuration",
        label=_("Get configuration"),
        run=get_configuration,
        params=GetConfigurationParameters,
        # 2.0.1 stations are read through get_variables / get_base_report instead.
        intents=(intents.GetConfiguration,),
        min_role=Role.OPERATOR,
        description=_("Read the station's configuration keys (all, or the ones given)."),
    )
)
register(
    CommandSpec(
        name="change_configuration",
        label=_("Change configuration"),
        run=change_configuration,
        params=ChangeConfigurationParameters,
        intents=(intents.ChangeConfiguration,),
        min_role=Role.ADMIN,
        description=_("Set one configuration key of the station."),
    )
)
register(
    CommandSpec(
        name="trigger_message",
        label=_("Trigger message"),
        run=trigger_message,
        params=TriggerMessageParameters,
        intents=(intents.TriggerMessage,),
        min_role=Role.OPERATOR,
        description=_("Ask the station to send a message now (status, meter values, ...)."),
    )
)
register(
    CommandSpec(
        name="update_firmware",
        label=_("Update firmware"),
        run=update_firmware,
        params=UpdateFirmwareParameters,
        intents=(intents.UpdateFirmware,),
        min_role=Role.ADMIN,
        description=_("The station downloads and installs the firmware at the location given."),
    )
)
register(
    CommandSpec(
        name="get_diagnostics",
        label=_("Get diagnostics"),
        run=get_diagnostics,
        params=GetDiagnosticsParameters,
        intents=(intents.GetDiagnostics,),
        min_role=Role.ADMIN,
        description=_("The station uploads a diagnostics file to the location given."),
    )
)
register(
    CommandSpec(
        name="send_local_list",
        label=_("Send local authorization list"),
        run=send_local_list,
        params=SendLocalListParameters,
        rule=last_local_list_needs_full,
        intents=(intents.SendLocalList,),
        min_role=Role.OPERATOR,
        description=_(
            "Send the cards authorized at the station, for when it is offline: the whole list, "
            "or only the changes since the version it holds. Lists are not split: a station "
            "whose SendLocalListMaxLength is smaller than the list refuses it."
        ),
    )
)
register(
    CommandSpec(
        name="get_local_list_version",
        label=_("Get local list version"),
        run=get_local_list_version,
        intents=(intents.GetLocalListVersion,),
        min_role=Role.OPERATOR,
        description=_("The version of the station's local list (-1: not supported, 0: empty)."),
    )
)
register(
    CommandSpec(
        name="set_charging_profile",
        label=_("Set charging profile"),
        run=set_charging_profile,
        params=SetChargingProfileParameters,
        rule=tx_profile_needs_its_transaction,
        intents=(intents.SetChargingProfile,),
        min_role=Role.ADMIN,
        description=_("Send one of the organization's charging profiles to the station."),
    )
)
register(
    CommandSpec(
        name="clear_charging_profile",
        label=_("Clear charging profile"),
        run=clear_charging_profile,
        params=ClearChargingProfileParameters,
        intents=(intents.ClearChargingProfile,),
        min_role=Role.ADMIN,
        description=_("Remove the charging profiles that match every criterion given."),
    )
)
register(
    CommandSpec(
        name="get_composite_schedule",
        label=_("Get composite schedule"),
        run=get_composite_schedule,
        params=CompositeScheduleParameters,
        intents=(intents.GetCompositeSchedule,),
        min_role=Role.OPERATOR,
        description=_("The limits the station will apply, all its profiles combined."),
    )
)
register(
    CommandSpec(
        name="data_transfer",
        label=_("Data transfer"),
        run=data_transfer,
        params=DataTransferParameters,
        intents=(intents.DataTransfer,),
        min_role=Role.ADMIN,
        description=_("Send a vendor-specific message to the station."),
    )
)
