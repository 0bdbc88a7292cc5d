"""OCPP 2.0.1 frames a station sends, pre-serialized like frames.py's 1.6 ones.

The same stations, cards, clock and ten sampled values as frames.py; a transaction is
TransactionEvent Started / Updated / Ended with a transaction id the station chooses.
"""

from bench.frames import (
    FIRMWARE,
    MODEL,
    SAMPLED_VALUES_PER_METER_VALUE,
    VENDOR,
    Template,
    id_tag,
    now_text,
    sample_time_text,
)

SUBPROTOCOL = "ocpp2.0.1"
# The bench stations have two EVSEs with one connector each (provision.py).
CONNECTOR_ON_EVSE = 1
TRANSACTION_EVSE = 1


def transaction_id(identity: str, number: int) -> str:
    """The id a 2.0.1 station gives its `number`th transaction (at most 36 characters)."""
    return f"{identity}-{number}"


def _sampled(measurand, unit, value, phase=None, location="Outlet", context="Sample.Periodic"):
    # 2.0.1 drops 1.6's format, writes the value as a number and the unit as unitOfMeasure.
    sampled = {
        "value": value,
        "context": context,
        "measurand": measurand,
        "location": location,
        "unitOfMeasure": {"unit": unit},
    }
    if phase:
        sampled["phase"] = phase
    return sampled


# frames.py's ten values of a three-phase AC charger with an ISO 15118 car, as 2.0.1 writes them;
# 2.0.1 has no Temperature measurand (the device model reports it), so the tenth is Frequency.
_SAMPLED_VALUES = [
    _sampled("Energy.Active.Import.Register", "Wh", "@energy@"),
    _sampled("Power.Active.Import", "W", 11040),
    _sampled("Current.Import", "A", 16.0, "L1"),
    _sampled("Current.Import", "A", 15.9, "L2"),
    _sampled("Current.Import", "A", 16.1, "L3"),
    _sampled("Voltage", "V", 230.1, "L1-N"),
    _sampled("Voltage", "V", 229.8, "L2-N"),
    _sampled("Voltage", "V", 231.0, "L3-N"),
    _sampled("SoC", "Percent", 57, location="EV"),
    _sampled("Frequency", "Hz", 50.0),
]
assert len(_SAMPLED_VALUES) == SAMPLED_VALUES_PER_METER_VALUE

_ID_TOKEN = {"idToken": "@tag@", "type": "ISO14443"}


def _register(context: str) -> list[dict]:
    """The energy register alone, as a station reads it when a transaction begins or ends."""
    return [
        {
            "timestamp": "@ts@",
            "sampledValue": [
                _sampled("Energy.Active.Import.Register", "Wh", "@meter@", context=context)
            ],
        }
    ]


TEMPLATES = {
    "BootNotification": Template(
        "BootNotification",
        {
            "chargingStation": {
                "model": MODEL,
                "vendorName": VENDOR,
                "serialNumber": "@serial@",
                "firmwareVersion": FIRMWARE,
            },
            "reason": "PowerUp",
        },
    ),
    "StatusNotification": Template(
        "StatusNotification",
        {
            "timestamp": "@ts@",
            "connectorStatus": "@status@",
            "evseId": "@evse@",
            "connectorId": CONNECTOR_ON_EVSE,
        },
    ),
    "Heartbeat": Template("Heartbeat", {}),
    "Authorize": Template("Authorize", {"idToken": _ID_TOKEN}),
    "TransactionEvent.Started": Template(
        "TransactionEvent",
        {
            "eventType": "Started",
            "timestamp": "@ts@",
            "triggerReason": "Authorized",
            "seqNo": 0,
            "transactionInfo": {"transactionId": "@tx@", "chargingState": "EVConnected"},
            "evse": {"id": TRANSACTION_EVSE, "connectorId": CONNECTOR_ON_EVSE},
            "idToken": _ID_TOKEN,
            "meterValue": _register("Transaction.Begin"),
        },
    ),
    "TransactionEvent.Updated": Template(
        "TransactionEvent",
        {
            "eventType": "Updated",
            "timestamp": "@ts@",
            "triggerReason": "MeterValuePeriodic",
            "seqNo": "@seq@",
            "transactionInfo": {"transactionId": "@tx@", "chargingState": "Charging"},
            "meterValue": [{"timestamp": "@ts@", "sampledValue": _SAMPLED_VALUES}],
        },
    ),
    "TransactionEvent.Ended": Template(
        "TransactionEvent",
        {
            "eventType": "Ended",
            "timestamp": "@ts@",
            "triggerReason": "StopAuthorized",
            "seqNo": "@seq@",
            "transactionInfo": {
                "transactionId": "@tx@",
                "chargingState": "EVConnected",
                "stoppedReason": "Local",
            },
            "idToken": _ID_TOKEN,
            "meterValue": _register("Transaction.End"),
        },
    ),
}


def boot_notification(uid: str, index: int) -> str:
    return TEMPLATES["BootNotification"].render(id=uid, serial=f"SN-BENCH-{index:06d}")


def status_notification(uid: str, evse: int, status: str = "Available") -> str:
    """The status of the one connector of EVSE `evse`: Available, Occupied, ..."""
    return TEMPLATES["StatusNotification"].render(id=uid, evse=evse, status=status, ts=now_text())


def heartbeat(uid: str) -> str:
    return TEMPLATES["Heartbeat"].render(id=uid)


def authorize(uid: str, index: int) -> str:
    return TEMPLATES["Authorize"].render(id=uid, tag=id_tag(index))


# Every event gets its own sample time: a reading repeating a time is a retransmission.


def transaction_started(uid: str, index: int, transaction: str, meter: int) -> str:
    """Started (seqNo 0) on EVSE 1 by the station's card, with the register it began at."""
    return TEMPLATES["TransactionEvent.Started"].render(
        id=uid, ts=sample_time_text(), tx=transaction, tag=id_tag(index), meter=meter
    )


def transaction_updated(uid: str, transaction: str, seq_no: int, energy_wh: int) -> str:
    """Updated by the periodic meter sample: one meterValue with ten sampled values."""
    return TEMPLATES["TransactionEvent.Updated"].render(
        id=uid, ts=sample_time_text(), seq=seq_no, tx=transaction, energy=energy_wh
    )


def transaction_ended(uid: str, index: int, transaction: str, seq_no: int, meter: int) -> str:
    """Ended by the same card at the station (stoppedReason Local), with the final register."""
    return TEMPLATES["TransactionEvent.Ended"].render(
        id=uid, ts=sample_time_text(), seq=seq_no, tx=transaction, tag=id_tag(index), meter=meter
    )
