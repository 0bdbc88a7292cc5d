"""OCPP 2.1 handlers: 2.0.1's, plus the calls 2.1 adds that the platform models."""

from collections.abc import Callable
from decimal import Decimal

from billing.payments import TerminalSettlement, record_terminal_settlement
from ocpp_gateway.exceptions import PropertyConstraintViolation
from ocpp_gateway.v201.formats import parse_datetime
from ocpp_gateway.v201.handlers import HANDLERS as V201_HANDLERS
from stations.models import ChargingStation

# What a money column holds (12 digits, 4 of them decimals).
MONEY_LIMIT = Decimal("100000000")


def on_notify_settlement(station: ChargingStation, payload: dict) -> dict:
    """NotifySettlement: the station's own payment terminal took (or failed) a payment."""
    # JSON numbers: read through their text, so 12.3 is 12.3 and not a binary fraction.
    amount = Decimal(str(payload["settlementAmount"]))
    if not MONEY_LIMIT > amount >= 0:
        raise PropertyConstraintViolation(
            f"settlementAmount {payload['settlementAmount']} is not an amount this CSMS keeps"
        )
    record_terminal_settlement(
        TerminalSettlement(
            station_id=station.pk,
            psp_reference=payload["pspRef"],
            status=payload["status"],
            amount=amount,
            settled_at=parse_datetime(payload["settlementTime"]),
            transaction_id=payload.get("transactionId", ""),
            status_info=payload.get("statusInfo", ""),
            receipt_id=payload.get("receiptId", ""),
            receipt_url=payload.get("receiptUrl", ""),
        )
    )
    # The terminal's own receipt, if it named one, is the driver's: nothing to hand back.
    return {}


HANDLERS: dict[str, Callable[[ChargingStation, dict], dict]] = {
    **V201_HANDLERS,
    "NotifySettlement": on_notify_settlement,
}
