"""Registry of vendor extensions answering the DataTransfer requests of stations (1.6 and 2.0.1)."""

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from ocpp.v16.enums import DataTransferStatus

from stations.models import ChargingStation
from stations.services import record_data_transfer

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DataTransferReply:
    """What a vendor handler answers: a DataTransfer status and optional data."""

    status: str = DataTransferStatus.accepted
    data: str | None = None


class UnknownMessageId(Exception):
    """Raised by a vendor handler for a messageId it does not implement."""


VendorHandler = Callable[[ChargingStation, str | None, str | None], DataTransferReply]

_vendor_handlers: dict[str, VendorHandler] = {}


def _key(vendor_id: str) -> str:
    """vendorId is a CiString in OCPP 1.6: compare it case-insensitively."""
    return vendor_id.strip().casefold()


def register_vendor_handler(vendor_id: str, func: VendorHandler) -> None:
    """Let `func(station, message_id, data) -> DataTransferReply` answer a vendor's messages."""
    _vendor_handlers[_key(vendor_id)] = func


def dispatch_data_transfer(
    station: ChargingStation, vendor_id: str, message_id: str | None, data: str | None
) -> DataTransferReply:
    """Answer a DataTransfer through the vendor's handler, or say the vendor is unknown."""
    func = _vendor_handlers.get(_key(vendor_id))
    if func is None:
        return DataTransferReply(status=DataTransferStatus.unknown_vendor_id)
    try:
        # A savepoint of its own: a failing extension takes back its writes, nothing else.
        with transaction.atomic():
            reply = func(station, message_id, data)
    except UnknownMessageId:
        return DataTransferReply(status=DataTransferStatus.unknown_message_id)
    except Exception:
        # A broken extension must not cost the station its answer: Rejected is a valid one.
        logger.exception(
            "DataTransfer handler of vendor %r failed for station %s.", vendor_id, station.ocpp_id
        )
        return DataTransferReply(status=DataTransferStatus.rejected)
    return reply


def answer_data_transfer(station: ChargingStation, payload: dict) -> dict:
    """A station's DataTransfer answered through the registry and kept (1.6 and 2.0.1 alike)."""
    vendor_id, message_id, data = payload["vendorId"], payload.get("messageId"), payload.get("data")
    # The reply and its record succeed or fail together, like every other handler's writes.
    with transaction.atomic():
        reply = dispatch_data_transfer(station, vendor_id, message_id, data)
        record_data_transfer(
            station,
            vendor_id=vendor_id,
            message_id=message_id or "",
            data=data,
            status=str(reply.status),
            response_data=reply.data,
        )
    response = {"status": str(reply.status)}
    if reply.data is not None:
        response["data"] = reply.data
    return response
