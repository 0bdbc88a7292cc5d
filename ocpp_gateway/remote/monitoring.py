"""Monitoring, log and customer information commands (OCPP 2.0.1; logs on 1.6 too)."""

import secrets

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ocpp_gateway import intents
from ocpp_gateway.choices import CommandStatus
from ocpp_gateway.models import CommandLog
from ocpp_gateway.remote.charging import send
from ocpp_gateway.remote.maintenance import FileLocationField, open_upload
from ocpp_gateway.remote.registry import CommandContext, CommandSpec, register, speaks_16
from ocpp_gateway.v201.notifications import accepted_monitors, cleared_monitor_ids
from organizations.choices import Role
from stations.models import MonitorSource, MonitorType
from stations.station_events import (
    forget_custom_monitors,
    forget_monitors,
    record_monitors,
)

MONITORING_BASES = ("All", "FactoryDefault", "HardWiredOnly")
MONITORING_CRITERIA = ("ThresholdMonitoring", "DeltaMonitoring", "PeriodicMonitoring")
LOG_TYPES = ("DiagnosticsLog", "SecurityLog")
ID_TOKEN_TYPES = (
    "Central",
    "eMAID",
    "ISO14443",
    "ISO15693",
    "KeyCode",
    "Local",
    "MacAddress",
    "NoAuthorization",
)
HASH_ALGORITHMS = ("SHA256", "SHA384", "SHA512")
# A requestId ties a station's later messages (reports, upload progress) to the request.
_REQUEST_IDS = 2**31 - 1


def new_request_id() -> int:
    """A requestId for a report or upload: positive, 32-bit, and unlike the station's others."""
    return secrets.randbelow(_REQUEST_IDS) + 1


# --- parameters --------------------------------------------------------------------------------


class ComponentVariableParameters(serializers.Serializer):
    """A component of the station's device model (on an EVSE and connector, or not), a variable."""

    component = serializers.CharField(max_length=50)
    component_instance = serializers.CharField(max_length=50, required=False, allow_blank=True)
    # As the device model numbers them: an EVSE id, and a connector id on that EVSE.
    evse_id = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False)
    evse_connector_id = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False)
    variable = serializers.CharField(max_length=50)
    variable_instance = serializers.CharField(max_length=50, required=False, allow_blank=True)

    def validate(self, attrs):
        if "evse_connector_id" in attrs and "evse_id" not in attrs:
            raise serializers.ValidationError(
                {"evse_connector_id": [_("A connector on an EVSE needs its evse_id.")]}
            )
        return attrs


class ComponentCriterionParameters(ComponentVariableParameters):
    """A component, and optionally one of its variables (none: all of them)."""

    variable = serializers.CharField(max_length=50, required=False, allow_blank=True)


def target_of(data: dict) -> intents.ComponentVariable:
    """The neutral component/variable of validated component parameters."""
    return intents.ComponentVariable(
        component=data["component"],
        variable=data.get("variable", ""),
        component_instance=data.get("component_instance", ""),
        variable_instance=data.get("variable_instance", ""),
        evse=data.get("evse_id"),
        connector=data.get("evse_connector_id"),
    )


class MonitorParameters(ComponentVariableParameters):
    """One monitor: what to watch on which variable, how severe, optionally replacing an id."""

    type = serializers.ChoiceField(choices=MonitorType.choices)
    value = serializers.FloatField()
    severity = serializers.IntegerField(min_value=0, max_value=9, help_text=_("0 (danger) to 9."))
    transaction = serializers.BooleanField(default=False)
    id = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False)


class SetVariableMonitoringParameters(serializers.Serializer):
    """SetVariableMonitoring: one or more monitors."""

    monitors = MonitorParameters(many=True, allow_empty=False)


class SetMonitoringBaseParameters(serializers.Serializer):
    """SetMonitoringBase: which monitors are active."""

    monitoring_base = serializers.ChoiceField(choices=MONITORING_BASES, label=_("Monitoring base"))


class SetMonitoringLevelParameters(serializers.Serializer):
    """SetMonitoringLevel: report events of this severity and the more severe ones (lower)."""

    severity = serializers.IntegerField(
        min_value=0, max_value=9, label=_("Severity"), help_text=_("0 (danger) to 9.")
    )


class ClearVariableMonitoringParameters(serializers.Serializer):
    """ClearVariableMonitoring of monitors by id."""

    monitor_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=2**31 - 1),
        allow_empty=False,
        label=_("Monitor ids"),
    )


class GetMonitoringReportParameters(serializers.Serializer):
    """GetMonitoringReport: every monitor, or those matching the criteria and components."""

    monitoring_criteria = serializers.ListField(
        child=serializers.ChoiceField(choices=MONITORING_CRITERIA),
        required=False,
        label=_("Monitoring criteria"),
    )
    components = ComponentCriterionParameters(many=True, required=False)


class GetLogParameters(serializers.Serializer):
    """GetLog (1.6: GetDiagnostics): which log, where to upload, which span, how to retry."""

    log_type = serializers.ChoiceField(choices=LOG_TYPES, default="DiagnosticsLog", label=_("Log"))
    location = FileLocationField()
    oldest_timestamp = serializers.DateTimeField(required=False, label=_("From"))
    latest_timestamp = serializers.DateTimeField(required=False, label=_("Until"))
    retries = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False)
    retry_interval = serializers.IntegerField(
        min_value=0, max_value=2**31 - 1, required=False, help_text="seconds"
    )

    def validate_log_type(self, value):
        if value == "SecurityLog" and speaks_16(self.context["station"]):
            raise serializers.ValidationError(_("OCPP 1.6 stations have no security log to send."))
        return value

    def validate(self, attrs):
        oldest, latest = attrs.get("oldest_timestamp"), attrs.get("latest_timestamp")
        if oldest and latest and latest <= oldest:
            raise serializers.ValidationError(
                {"latest_timestamp": [_("The end comes after the start.")]}
            )
        return attrs


class CertificateHashParameters(serializers.Serializer):
    """A customer's certificate by its hashes."""

    hash_algorithm = serializers.ChoiceField(choices=HASH_ALGORITHMS)
    issuer_name_hash = serializers.CharField(max_length=128)
    issuer_key_hash = serializers.CharField(max_length=128)
    serial_number = serializers.CharField(max_length=40)


class CustomerInformationParameters(serializers.Serializer):
    """CustomerInformation: report and/or clear the data of a customer, named one way."""

    report = serializers.BooleanField(default=True)
    clear = serializers.BooleanField(default=False)
    customer_identifier = serializers.CharField(
        max_length=64, required=False, label=_("Customer identifier")
    )
    id_token = serializers.CharField(max_length=36, required=False, label=_("Id token"))
    id_token_type = serializers.ChoiceField(
        choices=ID_TOKEN_TYPES, default="ISO14443", label=_("Id token type")
    )
    customer_certificate = CertificateHashParameters(required=False)

    def validate(self, attrs):
        if not attrs["report"] and not attrs["clear"]:
            raise serializers.ValidationError(_("Ask for a report, a clearing, or both."))
        named = [
            name
            for name in ("customer_identifier", "id_token", "customer_certificate")
            if attrs.get(name)
        ]
        if len(named) != 1:
            raise serializers.ValidationError(
                _("Name the customer one way: an identifier, an id token or a certificate.")
            )
        return attrs


# --- runners -----------------------------------------------------------------------------------


def set_variable_monitoring(ctx: CommandContext) -> CommandLog:
    """SetVariableMonitoring; the monitors the station accepts are kept with their ids."""
    intent = intents.SetVariableMonitoring(
        tuple(
            intents.MonitorSetting(
                target=target_of(monitor),
                type=monitor["type"],
                value=monitor["value"],
                severity=monitor["severity"],
                transaction=monitor["transaction"],
                monitor_id=monitor.get("id"),
            )
            for monitor in ctx.params["monitors"]
        )
    )
    log = send(ctx, "set_variable_monitoring", intent)
    if log.status == CommandStatus.ACCEPTED:
        record_monitors(ctx.station, accepted_monitors(intent, log.response), MonitorSource.SET)
    return log


def set_monitoring_base(ctx: CommandContext) -> CommandLog:
    """SetMonitoringBase; the monitors the station then drops are forgotten."""
    base = ctx.params["monitoring_base"]
    log = send(ctx, "set_monitoring_base", intents.SetMonitoringBase(base))
    if log.status == CommandStatus.ACCEPTED:
        # FactoryDefault removes the custom monitors (the ones set through the CSMS);
        # HardWiredOnly leaves only monitors nobody can set, which a new report shows.
        if base == "FactoryDefault":
            forget_custom_monitors(ctx.station)
        elif base == "HardWiredOnly":
            forget_monitors(ctx.station)
    return log


def set_monitoring_level(ctx: CommandContext) -> CommandLog:
    """SetMonitoringLevel: the station reports events of this severity and worse."""
    return send(ctx, "set_monitoring_level", intents.SetMonitoringLevel(ctx.params["severity"]))


def clear_variable_monitoring(ctx: CommandContext) -> CommandLog:
    """ClearVariableMonitoring; the monitors the station no longer has are forgotten."""
    intent = intents.ClearVariableMonitoring(tuple(ctx.params["monitor_ids"]))
    log = send(ctx, "clear_variable_monitoring", intent)
    if log.status == CommandStatus.ACCEPTED:
        forget_monitors(ctx.station, cleared_monitor_ids(log.response))
    return log


def get_monitoring_report(ctx: CommandContext) -> CommandLog:
    """GetMonitoringReport; the monitors arrive as NotifyMonitoringReport."""
    intent = intents.GetMonitoringReport(
        request_id=new_request_id(),
        criteria=tuple(ctx.params.get("monitoring_criteria") or ()),
        targets=tuple(target_of(target) for target in ctx.params.get("components") or ()),
    )
    return send(ctx, "get_monitoring_report", intent)


def get_log(ctx: CommandContext) -> CommandLog:
    """GetLog (1.6: GetDiagnostics); upload progress is stored as the diagnostics status."""
    params = ctx.params
    open_upload(ctx, "get_log")
    if speaks_16(ctx.station):
        # 1.6 uploads its diagnostics log only (the parameters refused a security log).
        intent = intents.GetDiagnostics(
            location=params["location"],
            start=params.get("oldest_timestamp"),
            stop=params.get("latest_timestamp"),
            retries=params.get("retries"),
            retry_interval=params.get("retry_interval"),
        )
    else:
        intent = intents.GetLog(
            request_id=new_request_id(),
            location=params["location"],
            kind=(
                intents.LogKind.SECURITY
                if params["log_type"] == "SecurityLog"
                else intents.LogKind.DIAGNOSTICS
            ),
            oldest=params.get("oldest_timestamp"),
            latest=params.get("latest_timestamp"),
            retries=params.get("retries"),
            retry_interval=params.get("retry_interval"),
        )
    return send(ctx, "get_log", intent)


def customer_information(ctx: CommandContext) -> CommandLog:
    """CustomerInformation; a report arrives as NotifyCustomerInformation, kept by request id."""
    params = ctx.params
    certificate = params.get("customer_certificate")
    intent = intents.CustomerInformation(
        request_id=new_request_id(),
        report=params["report"],
        clear=params["clear"],
        customer_identifier=params.get("customer_identifier", ""),
        id_token=params.get("id_token", ""),
        id_token_type=params["id_token_type"] if params.get("id_token") else "",
        certificate=(
            intents.CertificateHash(
                algorithm=certificate["hash_algorithm"],
                issuer_name_hash=certificate["issuer_name_hash"],
                issuer_key_hash=certificate["issuer_key_hash"],
                serial_number=certificate["serial_number"],
            )
            if certificate
            else None
        ),
    )
    return send(ctx, "customer_information", intent)


register(
    CommandSpec(
        name="set_variable_monitoring",
        label=_("Set variable monitoring"),
        run=set_variable_monitoring,
        params=SetVariableMonitoringParameters,
        intents=(intents.SetVariableMonitoring,),
        min_role=Role.ADMIN,
        description=_(
            "Install monitors on variables of the station: thresholds, deltas or periodic "
            "reports, each with a severity. The station answers per monitor."
        ),
    )
)
register(
    CommandSpec(
        name="set_monitoring_base",
        label=_("Set monitoring base"),
        run=set_monitoring_base,
        params=SetMonitoringBaseParameters,
        intents=(intents.SetMonitoringBase,),
        min_role=Role.ADMIN,
        description=_(
            "All monitors, the manufacturer's defaults (removes the ones set here), or only "
            "the hard-wired ones."
        ),
    )
)
register(
    CommandSpec(
        name="set_monitoring_level",
        label=_("Set monitoring level"),
        run=set_monitoring_level,
        params=SetMonitoringLevelParameters,
        intents=(intents.SetMonitoringLevel,),
        min_role=Role.ADMIN,
        description=_("Report only events of this severity or worse (0 danger ... 9 debug)."),
    )
)
register(
    CommandSpec(
        name="clear_variable_monitoring",
        label=_("Clear variable monitoring"),
        run=clear_variable_monitoring,
        params=ClearVariableMonitoringParameters,
        intents=(intents.ClearVariableMonitoring,),
        min_role=Role.ADMIN,
        description=_("Remove monitors by their ids; the station answers per monitor."),
    )
)
register(
    CommandSpec(
        name="get_monitoring_report",
        label=_("Get monitoring report"),
        run=get_monitoring_report,
        params=GetMonitoringReportParameters,
        intents=(intents.GetMonitoringReport,),
        min_role=Role.OPERATOR,
        description=_(
            "The station reports its monitors (all, or by criteria and components); they "
            "replace the ones stored when all were asked for."
        ),
    )
)
register(
    CommandSpec(
        name="get_log",
        label=_("Get log"),
        run=get_log,
        params=GetLogParameters,
        min_role=Role.ADMIN,
        description=_(
            "The station uploads its diagnostics log (OCPP 1.6: GetDiagnostics) or its "
            "security log (2.0.1) to the location given."
        ),
    )
)
register(
    CommandSpec(
        name="customer_information",
        label=_("Customer information"),
        run=customer_information,
        params=CustomerInformationParameters,
        intents=(intents.CustomerInformation,),
        min_role=Role.ADMIN,
        description=_(
            "Ask what the station keeps about one customer (by identifier, card or "
            "certificate), and/or have it cleared."
        ),
    )
)
