"""OCPP 2.0.1 handlers: translate each station call into domain services and answer it."""

import logging
from collections.abc import Callable

from django.utils import timezone

from ocpp_gateway.exceptions import PropertyConstraintViolation
from ocpp_gateway.handlers import batched, without_database
from ocpp_gateway.v16.data_transfer import answer_data_transfer
from ocpp_gateway.v201 import (
    control,
    device_model,
    display,
    notifications,
    security,
    smart_charging,
    transactions,
)
from ocpp_gateway.v201.connectors import connector_number
from ocpp_gateway.v201.formats import format_datetime, id_token_info, parse_datetime
from sessions_app.authorization import authorize_driver
from sessions_app.services import checked_time
from stations.models import ChargingStation
from stations.services import (
    BootReport,
    BootResult,
    StatusReport,
    record_boots,
    record_firmware_status,
    record_status_reports,
)

logger = logging.getLogger(__name__)


def _boot_report(station: ChargingStation, payload: dict) -> BootReport:
    """A BootNotification payload as the version-neutral report (no database)."""
    reported = payload["chargingStation"]
    modem = reported.get("modem") or {}
    return BootReport(
        station,
        vendor=reported["vendorName"],
        model=reported["model"],
        serial_number=reported.get("serialNumber"),
        firmware_version=reported.get("firmwareVersion"),
        iccid=modem.get("iccid"),
        imsi=modem.get("imsi"),
        boot_reason=payload["reason"],
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


def _status_received(station: ChargingStation, payload: dict) -> tuple[ChargingStation, dict]:
    """A StatusNotification checked on the event loop; its connector is found in the write."""
    evse, connector = payload["evseId"], payload["connectorId"]
    if evse < 1 or connector < 1:
        raise PropertyConstraintViolation(
            f"evseId and connectorId start at 1, got {evse} and {connector}.",
            {"evseId": evse, "connectorId": connector},
        )
    return station, payload


def _write_statuses(items: list[tuple[ChargingStation, dict]]) -> list[bool]:
    """Record many stations' statuses at once, each on the platform's connector."""
    reports = [
        StatusReport(
            station,
            connector_number(station, payload["evseId"], payload["connectorId"]),
            payload["connectorStatus"],
            # A status time out of the window is the station's clock, not the status.
            timestamp=checked_time(parse_datetime(payload["timestamp"]), "status", []),
        )
        for station, payload in items
    ]
    return record_status_reports(reports)


@batched(_status_received, _write_statuses)
def on_status_notification(station: ChargingStation, payload: dict) -> dict:
    """StatusNotification: record the status of one connector of one EVSE."""
    _write_statuses([_status_received(station, payload)])
    return {}


def on_authorize(station: ChargingStation, payload: dict) -> dict:
    """Authorize: answer whether the id token may charge here."""
    token = payload["idToken"]
    # 2.0.1 sends an empty idToken with type NoAuthorization for free charging: nobody to ask.
    if token["type"] == "NoAuthorization":
        return {"idTokenInfo": {"status": "Accepted"}}
    response = {"idTokenInfo": id_token_info(authorize_driver(station, token["idToken"]))}
    if "iso15118CertificateHashData" in payload or "certificate" in payload:
        # Contract certificates are checked by the certificate provider, if one is configured.
        response["certificateStatus"] = security.contract_certificate_status(station, payload)
    return response


def on_data_transfer(station: ChargingStation, payload: dict) -> dict:
    """DataTransfer: answer through the vendor registry and keep the message."""
    return answer_data_transfer(station, payload)


def on_firmware_status_notification(station: ChargingStation, payload: dict) -> dict:
    """FirmwareStatusNotification: store the station's firmware update status."""
    record_firmware_status(station, payload["status"])
    return {}


HANDLERS: dict[str, Callable[[ChargingStation, dict], dict]] = {
    "BootNotification": on_boot_notification,
    "Heartbeat": on_heartbeat,
    "StatusNotification": on_status_notification,
    "Authorize": on_authorize,
    "DataTransfer": on_data_transfer,
    "FirmwareStatusNotification": on_firmware_status_notification,
    **transactions.HANDLERS,
    **device_model.HANDLERS,
    **smart_charging.HANDLERS,
    **notifications.HANDLERS,
    **security.HANDLERS,
    **display.HANDLERS,
    **control.HANDLERS,
}
