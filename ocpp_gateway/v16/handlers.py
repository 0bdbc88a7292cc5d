"""OCPP 1.6 handlers: translate each station call into domain services and answer it."""

import logging
from collections.abc import Callable
from datetime import datetime

from django.utils import timezone
from ocpp.v16.enums import (
    ChargePointErrorCode,
    Measurand,
    ReadingContext,
    Reason,
    UnitOfMeasure,
    ValueFormat,
)

from ocpp_gateway.exceptions import PropertyConstraintViolation
from ocpp_gateway.handlers import batched, without_database
from ocpp_gateway.v16.data_transfer import answer_data_transfer
from ocpp_gateway.v16.formats import format_datetime, id_tag_info, parse_datetime
from sessions_app.authorization import authorize_driver
from sessions_app.services import (
    MeterReport,
    SampledValue,
    checked_time,
    parse_meter_value,
    record_meter_reports,
    start_session,
    stop_session,
)
from stations.models import ChargingStation
from stations.services import (
    BootReport,
    BootResult,
    StatusReport,
    record_boots,
    record_diagnostics_status,
    record_firmware_status,
    record_status_reports,
)

logger = logging.getLogger(__name__)

# Connector numbers are stored as SMALLINT; anything beyond is not a real connector.
MAX_CONNECTOR_ID = 32767


def _connector_number(payload: dict, *, allow_station: bool) -> int:
    """The payload's connectorId, checked: 0 means the station itself where that is allowed."""
    number = payload["connectorId"]
    lowest = 0 if allow_station else 1
    if not lowest <= number <= MAX_CONNECTOR_ID:
        raise PropertyConstraintViolation(
            f"connectorId must be between {lowest} and {MAX_CONNECTOR_ID}, got {number}.",
            {"connectorId": number},
        )
    return number


def _optional_timestamp(payload: dict) -> datetime:
    """The payload's timestamp if sent (it is optional in several 1.6 messages), else now."""
    raw = payload.get("timestamp")
    if raw is None:
        return timezone.now()
    # A status time out of the window is the station's clock, not the status: server time.
    return checked_time(parse_datetime(raw), "status", [])


def _sampled_values(meter_values: list[dict], station: ChargingStation) -> list[SampledValue]:
    """1.6 meterValue objects flattened into version-neutral samples, with the 1.6 defaults."""
    samples = []
    for meter_value in meter_values:
        # Out of the plausible window the sample is kept at server time (and logged).
        timestamp = checked_time(parse_datetime(meter_value["timestamp"]), "meter value", [])
        for sampled in meter_value.get("sampledValue", []):
            raw = sampled["value"]
            signed = sampled.get("format") == ValueFormat.signed_data
            value = None if signed else parse_meter_value(raw)
            if value is None and not signed:
                # Keep the row (measurand, time) rather than reject the whole message, which
                # the station would only retry.
                logger.warning(
                    "Station %s sent a meter value that is not a number: %r.",
                    station.ocpp_id,
                    raw[:40],
                )
            samples.append(
                SampledValue(
                    timestamp=timestamp,
                    value=value,
                    measurand=str(
                        sampled.get("measurand", Measurand.energy_active_import_register)
                    ),
                    phase=sampled.get("phase", ""),
                    unit=str(sampled.get("unit", UnitOfMeasure.wh)),
                    context=str(sampled.get("context", ReadingContext.sample_periodic)),
                    location=sampled.get("location", ""),
                    signed_data=raw if signed else "",
                )
            )
    return samples


def _boot_report(station: ChargingStation, payload: dict) -> BootReport:
    """A BootNotification payload as the version-neutral report (no database)."""
    return BootReport(
        station,
        vendor=payload["chargePointVendor"],
        model=payload["chargePointModel"],
        # chargeBoxSerialNumber is the deprecated name some older firmware still sends.
        serial_number=payload.get("chargePointSerialNumber")
        or payload.get("chargeBoxSerialNumber"),
        firmware_version=payload.get("firmwareVersion"),
        iccid=payload.get("iccid"),
        imsi=payload.get("imsi"),
        meter_type=payload.get("meterType"),
        meter_serial_number=payload.get("meterSerialNumber"),
    )


def _boot_answer(result: BootResult) -> dict:
    return {
        "status": str(result.registration_status),
        "currentTime": format_datetime(timezone.now()),
        "interval": result.interval,
    }


@batched(_boot_report, record_boots, _boot_answer)
def on_boot_notification(station: ChargingStation, payload: dict) -> dict:
    """BootNotification: store what the station reports and tell it whether it is accepted."""
    return _boot_answer(record_boots([_boot_report(station, payload)])[0])


@without_database
def on_heartbeat(station: ChargingStation, payload: dict) -> dict:
    """Heartbeat: give the station our time (the consumer already tracks that it is alive)."""
    return {"currentTime": format_datetime(timezone.now())}


def _status_report(station: ChargingStation, payload: dict) -> StatusReport:
    """A StatusNotification payload as the version-neutral report (no database)."""
    error_code = payload["errorCode"]
    return StatusReport(
        station,
        _connector_number(payload, allow_station=True),
        payload["status"],
        # "NoError" is the 1.6 way of saying there is none; the domain stores no error as "".
        error_code="" if error_code == ChargePointErrorCode.no_error else error_code,
        info=payload.get("info", ""),
        vendor_error_code=payload.get("vendorErrorCode", ""),
        timestamp=_optional_timestamp(payload),
    )


@batched(_status_report, record_status_reports)
def on_status_notification(station: ChargingStation, payload: dict) -> dict:
    """StatusNotification: record the status of the station (connector 0) or a connector."""
    record_status_reports([_status_report(station, payload)])
    return {}


def on_authorize(station: ChargingStation, payload: dict) -> dict:
    """Authorize: answer whether the id tag may charge here."""
    # Authorize precedes a start: answering ConcurrentTx now spares the driver a failed start.
    result = authorize_driver(station, payload["idTag"])
    return {"idTagInfo": id_tag_info(result)}


def on_start_transaction(station: ChargingStation, payload: dict) -> dict:
    """StartTransaction: record the session and hand out its platform-unique transaction id."""
    corrections = []
    started = start_session(
        station,
        connector_number=_connector_number(payload, allow_station=False),
        id_tag=payload["idTag"],
        started_at=checked_time(parse_datetime(payload["timestamp"]), "start", corrections),
        meter_start=payload["meterStart"],
        reservation_id=payload.get("reservationId"),
        corrections=corrections,
    )
    # A station of the unassigned pool has nobody to charge for: Invalid makes it stop, and
    # 0 is an id no session ever has, so its later StopTransaction is answered as unknown.
    transaction_id = int(started.session.transaction_id) if started.session else 0
    return {"transactionId": transaction_id, "idTagInfo": id_tag_info(started.authorization)}


def _meter_report(station: ChargingStation, payload: dict) -> MeterReport:
    """A MeterValues payload as the version-neutral report (no database)."""
    transaction_id = payload.get("transactionId")
    return MeterReport(
        station,
        connector_number=_connector_number(payload, allow_station=True),
        samples=_sampled_values(payload["meterValue"], station),
        transaction_id=str(transaction_id) if transaction_id is not None else None,
    )


@batched(_meter_report, record_meter_reports)
def on_meter_values(station: ChargingStation, payload: dict) -> dict:
    """MeterValues: store every sampled value, on the session when the transaction is known."""
    record_meter_reports([_meter_report(station, payload)])
    return {}


def on_stop_transaction(station: ChargingStation, payload: dict) -> dict:
    """StopTransaction: close the session; unknown or repeated stops are answered all the same."""
    corrections = []
    stopped = stop_session(
        station,
        transaction_id=str(payload["transactionId"]),
        stopped_at=checked_time(parse_datetime(payload["timestamp"]), "stop", corrections),
        corrections=corrections,
        meter_stop=payload["meterStop"],
        # Absent reason means Local in OCPP 1.6.
        reason=str(payload.get("reason", Reason.local)),
        id_tag=payload.get("idTag"),
        samples=_sampled_values(payload.get("transactionData", []), station),
    )
    if stopped.authorization is None:
        return {}
    return {"idTagInfo": id_tag_info(stopped.authorization)}


def on_data_transfer(station: ChargingStation, payload: dict) -> dict:
    """DataTransfer: answer through the vendor registry and keep the message."""
    return answer_data_transfer(station, payload)


def on_diagnostics_status_notification(station: ChargingStation, payload: dict) -> dict:
    """DiagnosticsStatusNotification: store the station's diagnostics upload status."""
    record_diagnostics_status(station, payload["status"])
    return {}


def on_firmware_status_notification(station: ChargingStation, payload: dict) -> dict:
    """FirmwareStatusNotification: store the station's firmware update status."""
    record_firmware_status(station, payload["status"])
    return {}


HANDLERS: dict[str, Callable[[ChargingStation, dict], dict]] = {
    "BootNotification": on_boot_notification,
    "Heartbeat": on_heartbeat,
    "StatusNotification": on_status_notification,
    "Authorize": on_authorize,
    "StartTransaction": on_start_transaction,
    "MeterValues": on_meter_values,
    "StopTransaction": on_stop_transaction,
    "DataTransfer": on_data_transfer,
    "DiagnosticsStatusNotification": on_diagnostics_status_notification,
    "FirmwareStatusNotification": on_firmware_status_notification,
}
