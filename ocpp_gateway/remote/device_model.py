"""Device model commands: read and write variables, ask for reports; 1.6 configuration keys too.

What a station answers is stored per variable (stations.device_model), so the portal's device
model page and the API show the last value read, reported or set, with the station's answer.
"""

import logging

from celery import shared_task
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.enqueue import enqueue_now
from core.events import receiver
from ocpp_gateway import intents
from ocpp_gateway.choices import CommandStatus, RequestedVia
from ocpp_gateway.models import CommandLog
from ocpp_gateway.remote.charging import send
from ocpp_gateway.remote.registry import (
    Actor,
    CommandContext,
    CommandNotAllowed,
    CommandSpec,
    execute_command,
    register,
)
from ocpp_gateway.v201 import device_model as v201
from organizations.choices import Role
from stations.choices import OcppVersion
from stations.device_model import (
    VariableAddress,
    items_per_message,
    record_read_values,
    record_report_answer,
    record_set_results,
    start_report,
)
from stations.events import STATION_BOOTED
from stations.models import AttributeType, ChargingStation, VariableSource

logger = logging.getLogger(__name__)

# The domain event of an accepted BootNotification (organization_id, station_id,
# registration_status), which stations.services.record_boots emits.
REPORT_CRITERIA = ("Active", "Available", "Enabled", "Problem")
# The most variables one command takes; the station's own ItemsPerMessage splits them further.
MAX_VARIABLES = 1000
# OCPP 2.0.1 SetVariableData.attributeValue and 1.6 ChangeConfiguration value.
MAX_SET_VALUE_LENGTH = 1000
# Whoever asks the platform's own questions (the report refreshed at boot).
SYSTEM = Actor(role=Role.OWNER, via=RequestedVia.SYSTEM)
FAMILY_201 = (OcppVersion.V201, OcppVersion.V21)


# --- parameters ------------------------------------------------------------------------------


class ComponentParameters(serializers.Serializer):
    """A component (on an EVSE and connector, or not) and optionally one of its variables."""

    component = serializers.CharField(max_length=50)
    component_instance = serializers.CharField(max_length=50, required=False, allow_blank=True)
    evse_id = serializers.IntegerField(min_value=0, required=False)
    connector_id = serializers.IntegerField(
        min_value=1, required=False, help_text="The connector's number on its EVSE."
    )
    variable = serializers.CharField(max_length=50, required=False, allow_blank=True)
    variable_instance = serializers.CharField(max_length=50, required=False, allow_blank=True)

    def validate(self, attrs):
        if "connector_id" in attrs and "evse_id" not in attrs:
            raise serializers.ValidationError(
                {"connector_id": [_("A connector is numbered on its EVSE: give evse_id too.")]}
            )
        if attrs.get("variable_instance") and not attrs.get("variable"):
            raise serializers.ValidationError(
                {"variable_instance": [_("An instance of which variable? Give variable too.")]}
            )
        return attrs


class VariableParameters(ComponentParameters):
    """One attribute of one variable."""

    variable = serializers.CharField(max_length=50)
    attribute_type = serializers.ChoiceField(
        choices=AttributeType.choices, default=AttributeType.ACTUAL
    )


class VariableValueParameters(VariableParameters):
    """A value for one attribute of one variable."""

    # Blank is a value too; spaces may matter to the station.
    value = serializers.CharField(
        max_length=MAX_SET_VALUE_LENGTH, allow_blank=True, trim_whitespace=False
    )


class GetVariablesParameters(serializers.Serializer):
    """GetVariables: the attributes to read."""

    variables = serializers.ListField(
        child=VariableParameters(), min_length=1, max_length=MAX_VARIABLES
    )


class SetVariablesParameters(serializers.Serializer):
    """SetVariables: the values to write."""

    variables = serializers.ListField(
        child=VariableValueParameters(), min_length=1, max_length=MAX_VARIABLES
    )


class GetBaseReportParameters(serializers.Serializer):
    """GetBaseReport: which predefined report."""

    report_base = serializers.ChoiceField(
        choices=[(base.value, base.value) for base in intents.ReportBase],
        default=intents.ReportBase.FULL_INVENTORY.value,
        label=_("Report"),
    )


class GetReportParameters(serializers.Serializer):
    """GetReport: the variables of components matching criteria, and/or those named."""

    criteria = serializers.ListField(
        child=serializers.ChoiceField(choices=REPORT_CRITERIA), required=False, max_length=4
    )
    components = serializers.ListField(
        child=ComponentParameters(), required=False, max_length=MAX_VARIABLES
    )


# --- from parameters to intents ----------------------------------------------------------------


def target_of(data: dict) -> intents.ComponentVariable:
    """The neutral component/variable named by validated parameters."""
    return intents.ComponentVariable(
        component=data["component"],
        variable=data.get("variable") or "",
        component_instance=data.get("component_instance") or "",
        variable_instance=data.get("variable_instance") or "",
        evse=data.get("evse_id"),
        connector=data.get("connector_id"),
    )


def address_of(target: intents.ComponentVariable, attribute_type: str) -> VariableAddress:
    """Where a target's attribute is stored."""
    return VariableAddress(
        component=target.component,
        variable=target.variable,
        component_instance=target.component_instance,
        evse_number=target.evse or 0,
        connector_number=target.connector or 0,
        variable_instance=target.variable_instance,
        attribute_type=attribute_type,
    )


def _chunks(items: tuple, size: int | None) -> list[tuple]:
    if not size:
        return [items]
    return [items[start : start + size] for start in range(0, len(items), size)]


def _failed(log: CommandLog) -> bool:
    """The call got no answer to read (offline, timeout, a CALLERROR)."""
    return log.response is None or log.status not in (
        CommandStatus.ACCEPTED,
        CommandStatus.REJECTED,
    )


# --- runners ---------------------------------------------------------------------------------


def get_variables(ctx: CommandContext) -> CommandLog:
    """GetVariables, split to the station's ItemsPerMessageGetVariables; values are stored."""
    reads = tuple(
        intents.VariableRead(target_of(item), item["attribute_type"])
        for item in ctx.params["variables"]
    )
    log = None
    for chunk in _chunks(reads, items_per_message(ctx.station, "GetVariables")):
        log = send(ctx, "get_variables", intents.GetVariables(chunk))
        if _failed(log):
            break
        record_read_values(
            ctx.station, v201.read_values(log.response), VariableSource.GET_VARIABLES
        )
    return log


def set_variables(ctx: CommandContext) -> CommandLog:
    """SetVariables, split to the station's ItemsPerMessageSetVariables; answers are stored."""
    writes = tuple(
        intents.VariableWrite(target_of(item), item["value"], item["attribute_type"])
        for item in ctx.params["variables"]
    )
    log = None
    for chunk in _chunks(writes, items_per_message(ctx.station, "SetVariables")):
        intent = intents.SetVariables(chunk)
        log = send(ctx, "set_variables", intent)
        if _failed(log):
            break
        record_set_results(
            ctx.station, v201.set_results(intent, log.response), VariableSource.SET_VARIABLES
        )
    return log


def _report(ctx: CommandContext, name: str, kind: str, build) -> CommandLog:
    """Send a report request under a fresh requestId and keep the station's answer to it."""
    report = start_report(ctx.station, kind)
    log = send(ctx, name, build(report.request_id))
    status = v201.report_status(log.response) if log.response else str(log.status)
    record_report_answer(report, status)
    return log


def get_base_report(ctx: CommandContext) -> CommandLog:
    """GetBaseReport; the report arrives as NotifyReport parts, stored as they come."""
    base = intents.ReportBase(ctx.params["report_base"])
    return _report(
        ctx,
        "get_base_report",
        base.value,
        lambda request_id: intents.GetBaseReport(request_id, base),
    )


def get_report(ctx: CommandContext) -> CommandLog:
    """GetReport of the components matching the criteria and/or named."""
    criteria = tuple(ctx.params.get("criteria") or ())
    targets = tuple(target_of(item) for item in ctx.params.get("components") or ())
    return _report(
        ctx,
        "get_report",
        "Custom",
        lambda request_id: intents.GetReport(request_id, criteria, targets),
    )


# --- refreshed at boot -----------------------------------------------------------------------


@shared_task
def refresh_device_model(station_id: int) -> str:
    """Ask a 2.0.1 station for its FullInventory (after its boot); the outcome's status."""
    station = ChargingStation.objects.filter(pk=station_id, ocpp_version__in=FAMILY_201).first()
    if station is None:
        return "gone"
    try:
        log = execute_command(
            station, "get_base_report", {"report_base": "FullInventory"}, actor=SYSTEM
        )
    except CommandNotAllowed as refusal:
        # Offline again, or no longer 2.0.1: the next boot asks again.
        return str(refusal.reason)
    return log.status


@receiver(STATION_BOOTED)
def refresh_after_boot(events) -> None:
    """After a 2.0.1 station's accepted boot, ask for its full device model (a Celery task)."""
    ids = [
        event["station_id"] for event in events if event.get("registration_status") == "Accepted"
    ]
    if not ids:
        return
    # Celery's own setting, not Django's: that is what decides whether the task runs here.
    if refresh_device_model.app.conf.task_always_eager:
        # Without a worker the task would run here, in the gateway's database thread after the
        # boot's commit, and wait for the station while the station waits for its boot answer.
        logger.info("no Celery worker: device models of booted stations are not refreshed")
        return
    booted = ChargingStation.objects.filter(pk__in=ids, ocpp_version__in=FAMILY_201)
    for station_id in booted.values_list("pk", flat=True):
        enqueue_now(refresh_device_model, station_id)


register(
    CommandSpec(
        name="get_variables",
        label=_("Get variables"),
        run=get_variables,
        params=GetVariablesParameters,
        intents=(intents.GetVariables,),
        min_role=Role.OPERATOR,
        description=_(
            "Read variables of the station's device model; split into as many requests as the "
            "station's ItemsPerMessage allows. The values are kept with the station."
        ),
    )
)
register(
    CommandSpec(
        name="set_variables",
        label=_("Set variables"),
        run=set_variables,
        params=SetVariablesParameters,
        intents=(intents.SetVariables,),
        min_role=Role.ADMIN,
        description=_("Write variables of the station; its answer is kept for each one."),
    )
)
register(
    CommandSpec(
        name="get_base_report",
        label=_("Get base report"),
        run=get_base_report,
        params=GetBaseReportParameters,
        intents=(intents.GetBaseReport,),
        min_role=Role.OPERATOR,
        description=_(
            "Ask for the station's device model (full, configuration or summary); it arrives "
            "in parts and is kept with the station."
        ),
    )
)
register(
    CommandSpec(
        name="get_report",
        label=_("Get custom report"),
        run=get_report,
        params=GetReportParameters,
        intents=(intents.GetReport,),
        min_role=Role.OPERATOR,
        description=_(
            "Ask for the variables of the components matching criteria (Active, Available, "
            "Enabled, Problem) and/or of the components and variables named."
        ),
    )
)
