"""OCPP 2.0.1 device model: NotifyReport in; GetVariables, SetVariables and reports out."""

from collections.abc import Callable

from ocpp_gateway import intents
from ocpp_gateway.intents import Call
from stations.device_model import (
    ReadValue,
    ReportedVariable,
    ReportPart,
    SetResult,
    VariableAddress,
    record_report_part,
)
from stations.models import ChargingStation


def address(component: dict, variable: dict, attribute_type: str | None) -> VariableAddress:
    """The neutral address of a 2.0.1 component, variable and attribute type."""
    evse = component.get("evse") or {}
    return VariableAddress(
        component=component["name"],
        component_instance=component.get("instance", ""),
        evse_number=evse.get("id", 0),
        connector_number=evse.get("connectorId", 0),
        variable=variable["name"],
        variable_instance=variable.get("instance", ""),
        # Absent means Actual (VariableAttributeType, GetVariableData, SetVariableData).
        attribute_type=attribute_type or "Actual",
    )


def status_info(info: dict | None) -> str:
    """A StatusInfoType as one line: its reason code, then any additional information."""
    if not info:
        return ""
    reason, more = info.get("reasonCode", ""), info.get("additionalInfo", "")
    return f"{reason}: {more}" if more else reason


def _reported_variables(entry: dict) -> list[ReportedVariable]:
    """The attributes of one ReportDataType, each with the variable's characteristics."""
    characteristics = entry.get("variableCharacteristics") or {}
    shared = {
        "data_type": characteristics.get("dataType", ""),
        "unit": characteristics.get("unit", ""),
        "min_limit": characteristics.get("minLimit"),
        "max_limit": characteristics.get("maxLimit"),
        "values_list": characteristics.get("valuesList", ""),
        "supports_monitoring": characteristics.get("supportsMonitoring", False),
    }
    return [
        ReportedVariable(
            address=address(entry["component"], entry["variable"], attribute.get("type")),
            value=attribute.get("value"),
            mutability=attribute.get("mutability", "ReadWrite"),
            persistent=attribute.get("persistent", False),
            constant=attribute.get("constant", False),
            **shared,
        )
        for attribute in entry["variableAttribute"]
    ]


def on_notify_report(station: ChargingStation, payload: dict) -> dict:
    """NotifyReport: store one part of a device model report (more follow while tbc is true)."""
    variables = [
        reported
        for entry in payload.get("reportData") or ()
        for reported in _reported_variables(entry)
    ]
    record_report_part(
        station,
        ReportPart(
            request_id=payload["requestId"],
            seq_no=payload["seqNo"],
            more_follow=payload.get("tbc", False),
            variables=variables,
        ),
    )
    return {}


# --- calls -----------------------------------------------------------------------------------


def component(target: intents.ComponentVariable) -> dict:
    """The ComponentType of a target; absent optional keys are left out."""
    result = {"name": target.component}
    if target.component_instance:
        result["instance"] = target.component_instance
    if target.evse is not None:
        evse = {"id": target.evse}
        if target.connector is not None:
            evse["connectorId"] = target.connector
        result["evse"] = evse
    return result


def variable(target: intents.ComponentVariable) -> dict:
    """The VariableType of a target."""
    result = {"name": target.variable}
    if target.variable_instance:
        result["instance"] = target.variable_instance
    return result


def _get_variables(intent: intents.GetVariables, station=None) -> Call:
    data = []
    for read in intent.reads:
        item = {"component": component(read.target), "variable": variable(read.target)}
        if read.attribute_type != "Actual":
            item["attributeType"] = read.attribute_type
        data.append(item)
    return Call("GetVariables", {"getVariableData": data})


def _set_variables(intent: intents.SetVariables, station=None) -> Call:
    data = []
    for write in intent.writes:
        item = {
            "attributeValue": write.value,
            "component": component(write.target),
            "variable": variable(write.target),
        }
        if write.attribute_type != "Actual":
            item["attributeType"] = write.attribute_type
        data.append(item)
    return Call("SetVariables", {"setVariableData": data})


def _get_base_report(intent: intents.GetBaseReport, station=None) -> Call:
    return Call(
        "GetBaseReport", {"requestId": intent.request_id, "reportBase": str(intent.report_base)}
    )


def _get_report(intent: intents.GetReport, station=None) -> Call:
    payload: dict = {"requestId": intent.request_id}
    if intent.criteria:
        payload["componentCriteria"] = list(intent.criteria)
    if intent.targets:
        payload["componentVariable"] = [
            {"component": component(target), "variable": variable(target)}
            if target.variable
            else {"component": component(target)}
            for target in intent.targets
        ]
    return Call("GetReport", payload)


# --- answers ---------------------------------------------------------------------------------


def read_values(response: dict | None) -> list[ReadValue]:
    """The values a GetVariables answer gives (only those the station accepted to read)."""
    return [
        ReadValue(
            address(result["component"], result["variable"], result.get("attributeType")),
            result.get("attributeValue", ""),
        )
        for result in (response or {}).get("getVariableResult", ())
        if result["attributeStatus"] == "Accepted"
    ]


def read_failures(response: dict | None) -> list[dict]:
    """The GetVariables results the station did not accept (unknown component, variable, …)."""
    return [
        result
        for result in (response or {}).get("getVariableResult", ())
        if result["attributeStatus"] != "Accepted"
    ]


def set_results(intent: intents.SetVariables, response: dict | None) -> list[SetResult]:
    """The station's answer per value of a SetVariables, paired with the value asked for."""
    asked = {}
    for write in intent.writes:
        target = write.target
        key = address(component(target), variable(target), write.attribute_type).key()
        asked[key] = write.value
    results = []
    for result in (response or {}).get("setVariableResult", ()):
        where = address(result["component"], result["variable"], result.get("attributeType"))
        results.append(
            SetResult(
                where,
                asked.get(where.key(), ""),
                result["attributeStatus"],
                status_info(result.get("attributeStatusInfo")),
            )
        )
    return results


def report_status(response: dict | None) -> str:
    """What the station answered to GetBaseReport/GetReport (Accepted, EmptyResultSet, …)."""
    return (response or {}).get("status", "")


HANDLERS: dict[str, Callable[[ChargingStation, dict], dict]] = {
    "NotifyReport": on_notify_report,
}

# intent type → builder(intent, station) -> intents.Call
BUILDERS: dict[type, Callable[..., Call]] = {
    intents.GetVariables: _get_variables,
    intents.SetVariables: _set_variables,
    intents.GetBaseReport: _get_base_report,
    intents.GetReport: _get_report,
}
