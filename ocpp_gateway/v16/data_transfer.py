"""Registry of vendor extensions answering OCPP 1.6 DataTransfer requests from stations."""

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from ocpp.v16.enums import DataTransferStatus

from stations.models import ChargingStation

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
