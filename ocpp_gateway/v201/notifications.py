"""OCPP 2.0.1 events, monitoring, logs and customer information: handlers, calls and answers."""

from collections.abc import Callable
from datetime import datetime

from ocpp_gateway import intents
from ocpp_gateway.exceptions import PropertyConstraintViolation
from ocpp_gateway.intents import Call
from ocpp_gateway.models import CommandLog
from ocpp_gateway.v201.formats import format_datetime, parse_datetime
from stations.models import ChargingStation, MonitorSource
from stations.services import record_diagnostics_status
from stations.station_events import (
    ReportedEvent,
    ReportedMonitor,
    Target,
    forget_monitors_before,
    record_customer_information,
    record_monitors,
    record_security_event,
    record_station_events,
)

# OCPP's integer is 32 bits wide (Part 2, primitive datatypes); ids beyond it are no ids.
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
_LOG_TYPE = {intents.LogKind.DIAGNOSTICS: "DiagnosticsLog", intents.LogKind.SECURITY: "SecurityLog"}
# A cleared monitor is gone from the station: it was cleared, or the station never had it.
_CLEARED = frozenset({"Accepted", "NotFound"})


def _int32(value: int, name: str, lowest: int = _INT32_MIN, highest: int = _INT32_MAX) -> int:
    """An integer the platform can store, else the station's PropertyConstraintViolation."""
    # A JSON number with a zero fraction (1.0) passes the schema's "integer": compare, never
    # look it up in a range (a float there is a linear scan).
    if not lowest <= value <= highest:
        raise PropertyConstraintViolation(f"{name} must be from {lowest} to {highest}.", {})
    return int(value)


def _target(component: dict, variable: dict) -> Target:
    """The device-model address of a ComponentType and a VariableType."""
    evse = component.get("evse") or {}
    return Target(
        component=component["name"],
        variable=variable["name"],
        component_instance=component.get("instance", ""),
        variable_instance=variable.get("instance", ""),
        evse=_int32(evse.get("id", 0), "evse id", lowest=0),
        connector=_int32(evse.get("connectorId", 0), "connectorId", lowest=0),
    )


# --- station → CSMS ----------------------------------------------------------------------------


def _reported_event(entry: dict) -> ReportedEvent:
    cause, monitor = entry.get("cause"), entry.get("variableMonitoringId")
    return ReportedEvent(
        event_id=_int32(entry["eventId"], "eventId"),
        timestamp=parse_datetime(entry["timestamp"]),
        trigger=entry["trigger"],
        actual_value=entry["actualValue"],
        notification_type=entry["eventNotificationType"],
        target=_target(entry["component"], entry["variable"]),
        cause=_int32(cause, "cause") if cause is not None else None,
        tech_code=entry.get("techCode", ""),
        tech_info=entry.get("techInfo", ""),
        cleared=entry.get("cleared", False),
        transaction_id=entry.get("transactionId", ""),
        monitor_id=_int32(monitor, "variableMonitoringId") if monitor is not None else None,
    )


def on_notify_event(station: ChargingStation, payload: dict) -> dict:
    """NotifyEvent: store each event once; a message with tbc is one part of several."""
    # Every part holds whole events: each is stored as it comes, whatever part follows.
    record_station_events(station, [_reported_event(entry) for entry in payload["eventData"]])
    return {}


def on_security_event_notification(station: ChargingStation, payload: dict) -> dict:
    """SecurityEventNotification: store the security event once."""
    record_security_event(
        station, payload["type"], parse_datetime(payload["timestamp"]), payload.get("techInfo", "")
    )
    return {}


def _reported_monitors(monitoring: dict) -> list[ReportedMonitor]:
    target = _target(monitoring["component"], monitoring["variable"])
    monitors = []
    for monitor in monitoring["variableMonitoring"]:
        monitors.append(
            ReportedMonitor(
                monitor_id=_int32(monitor["id"], "id"),
                target=target,
                type=monitor["type"],
                value=monitor["value"],
                severity=_int32(monitor["severity"], "severity", lowest=0, highest=9),
                transaction=monitor["transaction"],
            )
        )
    return monitors


def _full_report_asked_at(station: ChargingStation, request_id: int) -> datetime | None:
    """When the platform asked for every monitor with this requestId (None: not so asked)."""
    asked = (
        CommandLog.objects.filter(
            station=station, action="GetMonitoringReport", payload__requestId=request_id
        )
        .order_by("-created", "-id")
        .values("payload", "created")
        .first()
    )
    if asked is None:
        return None
    payload = asked["payload"]
    if payload.get("monitoringCriteria") or payload.get("componentVariable"):
        return None
    return asked["created"]


def on_notify_monitoring_report(station: ChargingStation, payload: dict) -> dict:
    """NotifyMonitoringReport: store the monitors reported; a full report replaces the others."""
    request_id = _int32(payload["requestId"], "requestId")
    if payload["seqNo"] == 0:
        asked_at = _full_report_asked_at(station, request_id)
        if asked_at is not None:
            # Every monitor the station has is in this report: what it leaves out is gone
            # (a monitor set since the question was asked stays).
            forget_monitors_before(station, asked_at)
    monitors = [
        monitor
        for monitoring in payload.get("monitor", ())
        for monitor in _reported_monitors(monitoring)
    ]
    record_monitors(station, monitors, MonitorSource.REPORTED)
    return {}


def on_log_status_notification(station: ChargingStation, payload: dict) -> dict:
    """LogStatusNotification: the upload status of a log, stored as 1.6 diagnostics status is."""
    record_diagnostics_status(station, payload["status"])
    return {}


def on_notify_customer_information(station: ChargingStation, payload: dict) -> dict:
    """NotifyCustomerInformation: store one part of the customer data a station reported."""
    record_customer_information(
        station,
        request_id=_int32(payload["requestId"], "requestId"),
        seq_no=_int32(payload["seqNo"], "seqNo", lowest=0),
        data=payload["data"],
        more_follows=payload.get("tbc", False),
        generated_at=parse_datetime(payload["generatedAt"]),
    )
    return {}


HANDLERS: dict[str, Callable[[ChargingStation, dict], dict]] = {
    "NotifyEvent": on_notify_event,
    "SecurityEventNotification": on_security_event_notification,
    "NotifyMonitoringReport": on_notify_monitoring_report,
    "LogStatusNotification": on_log_status_notification,
    "NotifyCustomerInformation": on_notify_customer_information,
}


# --- CSMS → station ----------------------------------------------------------------------------


def _component(target: intents.ComponentVariable) -> dict:
    component = {"name": target.component}
    if target.component_instance:
        component["instance"] = target.component_instance
    if target.evse is not None:
        component["evse"] = {"id": target.evse}
        if target.connector is not None:
            component["evse"]["connectorId"] = target.connector
    return component


def _variable(target: intents.ComponentVariable) -> dict:
    variable = {"name": target.variable}
    if target.variable_instance:
        variable["instance"] = target.variable_instance
    return variable


def _set_variable_monitoring(intent: intents.SetVariableMonitoring, station=None) -> Call:
    data = []
    for monitor in intent.monitors:
        entry = {
            "value": monitor.value,
            "type": monitor.type,
            "severity": monitor.severity,
            "component": _component(monitor.target),
            "variable": _variable(monitor.target),
        }
        if monitor.monitor_id is not None:
            entry["id"] = monitor.monitor_id
        if monitor.transaction:
            entry["transaction"] = True
        data.append(entry)
    return Call("SetVariableMonitoring", {"setMonitoringData": data})


def _set_monitoring_base(intent: intents.SetMonitoringBase, station=None) -> Call:
    return Call("SetMonitoringBase", {"monitoringBase": intent.base})


def _set_monitoring_level(intent: intents.SetMonitoringLevel, station=None) -> Call:
    return Call("SetMonitoringLevel", {"severity": intent.severity})


def _clear_variable_monitoring(intent: intents.ClearVariableMonitoring, station=None) -> Call:
    return Call("ClearVariableMonitoring", {"id": list(intent.monitor_ids)})


def _get_monitoring_report(intent: intents.GetMonitoringReport, station=None) -> Call:
    payload = {"requestId": intent.request_id}
    if intent.criteria:
        payload["monitoringCriteria"] = list(intent.criteria)
    if intent.targets:
        payload["componentVariable"] = [
            {"component": _component(target), "variable": _variable(target)}
            if target.variable
            else {"component": _component(target)}
            for target in intent.targets
        ]
    return Call("GetMonitoringReport", payload)


def _get_log(intent: intents.GetLog, station=None) -> Call:
    log = {"remoteLocation": intent.location}
    if intent.oldest is not None:
        log["oldestTimestamp"] = format_datetime(intent.oldest)
    if intent.latest is not None:
        log["latestTimestamp"] = format_datetime(intent.latest)
    payload = {"log": log, "logType": _LOG_TYPE[intent.kind], "requestId": intent.request_id}
    if intent.retries is not None:
        payload["retries"] = intent.retries
    if intent.retry_interval is not None:
        payload["retryInterval"] = intent.retry_interval
    return Call("GetLog", payload)


def _customer_information(intent: intents.CustomerInformation, station=None) -> Call:
    payload = {"requestId": intent.request_id, "report": intent.report, "clear": intent.clear}
    if intent.customer_identifier:
        payload["customerIdentifier"] = intent.customer_identifier
    if intent.id_token:
        payload["idToken"] = {"idToken": intent.id_token, "type": intent.id_token_type}
    if intent.certificate is not None:
        payload["customerCertificate"] = {
            "hashAlgorithm": intent.certificate.algorithm,
            "issuerNameHash": intent.certificate.issuer_name_hash,
            "issuerKeyHash": intent.certificate.issuer_key_hash,
            "serialNumber": intent.certificate.serial_number,
        }
    return Call("CustomerInformation", payload)


# intent type → builder(intent, station) -> intents.Call
BUILDERS: dict[type, Callable[..., Call]] = {
    intents.SetVariableMonitoring: _set_variable_monitoring,
    intents.SetMonitoringBase: _set_monitoring_base,
    intents.SetMonitoringLevel: _set_monitoring_level,
    intents.ClearVariableMonitoring: _clear_variable_monitoring,
    intents.GetMonitoringReport: _get_monitoring_report,
    intents.GetLog: _get_log,
    intents.CustomerInformation: _customer_information,
}


# --- the station's answers ---------------------------------------------------------------------


def accepted_monitors(
    intent: intents.SetVariableMonitoring, response: dict | None
) -> list[ReportedMonitor]:
    """The monitors a SetVariableMonitoring answer accepted, with the values that were asked."""
    asked = list(intent.monitors)
    accepted = []
    for index, result in enumerate((response or {}).get("setMonitoringResult", ())):
        if result.get("status") != "Accepted" or result.get("id") is None:
            continue
        target = _target(result["component"], result["variable"])
        # The answer repeats everything but the value: find the setting it answers, in order.
        candidates = asked[index : index + 1] + asked
        setting = next((s for s in candidates if _answers(result, target, s)), None)
        if setting is None:
            continue
        accepted.append(
            ReportedMonitor(
                monitor_id=result["id"],
                target=target,
                type=setting.type,
                value=setting.value,
                severity=setting.severity,
                transaction=setting.transaction,
            )
        )
    return accepted


def _answers(result: dict, target: Target, setting: intents.MonitorSetting) -> bool:
    asked = setting.target
    return (
        (target.component, target.component_instance, target.variable, target.variable_instance)
        == (asked.component, asked.component_instance, asked.variable, asked.variable_instance)
        and target.evse == (asked.evse or 0)
        and target.connector == (asked.connector or 0)
        and result.get("type") == setting.type
        and result.get("severity") == setting.severity
    )


def cleared_monitor_ids(response: dict | None) -> list[int]:
    """The monitors a ClearVariableMonitoring answer says the station no longer has."""
    return [
        result["id"]
        for result in (response or {}).get("clearMonitoringResult", ())
        if result.get("status") in _CLEARED
    ]
