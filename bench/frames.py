"""OCPP 1.6J frames a station sends, pre-serialized: a frame is built by joining strings."""

import json
import re
import time

# Where a value goes in a template: a JSON string "@name@" replaced by the value's JSON text.
_SLOT = re.compile(r'"@(\w+)@"')

VENDOR = "BenchVendor"
MODEL = "BX-22"
FIRMWARE = "1.8.3"
ID_TAG_PREFIX = "BENCH"
SAMPLED_VALUES_PER_METER_VALUE = 10


def identity(index: int) -> str:
    """OCPP identity of bench station `index` (from 1)."""
    return f"BENCH-{index:06d}"


def password(index: int) -> str:
    """Basic-auth password of bench station `index`."""
    return f"bench-pass-{index:06d}-secret"


def id_tag(index: int) -> str:
    """The RFID card of bench station `index` (an OCPP 1.6 idTag: at most 20 characters)."""
    return f"{ID_TAG_PREFIX}{index:06d}"


class Template:
    """A CALL frame serialized once; `render` fills its slots without touching json."""

    __slots__ = ("parts", "slots")

    def __init__(self, action: str, payload: dict):
        text = json.dumps([2, "@id@", action, payload], separators=(",", ":"))
        pieces = _SLOT.split(text)
        self.parts = pieces[0::2]
        self.slots = pieces[1::2]

    def render(self, **values) -> str:
        """The frame with every slot filled: strings are quoted, numbers written as they are."""
        out = [self.parts[0]]
        for slot, part in zip(self.slots, self.parts[1:], strict=True):
            value = values[slot]
            # Slot values are identifiers, numbers and timestamps: nothing that needs escaping.
            out.append(f'"{value}"' if isinstance(value, str) else str(value))
            out.append(part)
        return "".join(out)


def _sampled(measurand, unit, value, phase=None, location="Outlet"):
    sampled = {
        "value": value,
        "context": "Sample.Periodic",
        "format": "Raw",
        "measurand": measurand,
        "location": location,
        "unit": unit,
    }
    if phase:
        sampled["phase"] = phase
    return sampled


# Ten sampled values, as a three-phase AC charger with an ISO 15118 car reports them.
_SAMPLED_VALUES = [
    _sampled("Energy.Active.Import.Register", "Wh", "@energy@"),
    _sampled("Power.Active.Import", "W", "11040"),
    _sampled("Current.Import", "A", "16.0", "L1"),
    _sampled("Current.Import", "A", "15.9", "L2"),
    _sampled("Current.Import", "A", "16.1", "L3"),
    _sampled("Voltage", "V", "230.1", "L1-N"),
    _sampled("Voltage", "V", "229.8", "L2-N"),
    _sampled("Voltage", "V", "231.0", "L3-N"),
    _sampled("SoC", "Percent", "57", location="EV"),
    _sampled("Temperature", "Celsius", "31.5", location="Body"),
]
assert len(_SAMPLED_VALUES) == SAMPLED_VALUES_PER_METER_VALUE

TEMPLATES = {
    "BootNotification": Template(
        "BootNotification",
        {
            "chargePointVendor": VENDOR,
            "chargePointModel": MODEL,
            "chargePointSerialNumber": "@serial@",
            "firmwareVersion": FIRMWARE,
            "meterType": "EM340",
            "meterSerialNumber": "@serial@",
        },
    ),
    "StatusNotification": Template(
        "StatusNotification",
        {
            "connectorId": "@connector@",
            "errorCode": "NoError",
            "status": "@status@",
            "timestamp": "@ts@",
        },
    ),
    "Heartbeat": Template("Heartbeat", {}),
    "Authorize": Template("Authorize", {"idTag": "@tag@"}),
    "StartTransaction": Template(
        "StartTransaction",
        {
            "connectorId": "@connector@",
            "idTag": "@tag@",
            "meterStart": "@meter@",
            "timestamp": "@ts@",
        },
    ),
    "MeterValues": Template(
        "MeterValues",
        {
            "connectorId": "@connector@",
            "transactionId": "@tx@",
            "meterValue": [{"timestamp": "@ts@", "sampledValue": _SAMPLED_VALUES}],
        },
    ),
    "StopTransaction": Template(
        "StopTransaction",
        {
            "transactionId": "@tx@",
            "idTag": "@tag@",
            "meterStop": "@meter@",
            "timestamp": "@ts@",
            "reason": "Local",
        },
    ),
}

_clock = [0, ""]


def now_text() -> str:
    """The current UTC time as OCPP writes it, formatted at most once per second."""
    second = int(time.time())
    if second != _clock[0]:
        _clock[0] = second
        _clock[1] = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(second))
    return _clock[1]


_sample_clock = [0, "", 0]


def sample_time_text() -> str:
    """A distinct UTC time per call, to the microsecond, as a meter samples it."""
    # A station samples a register at most once per instant: readings repeating a time are a
    # retransmission and are stored once, so a generator sending many messages per second per
    # station must give each its own time.
    second = int(time.time())
    if second != _sample_clock[0]:
        _sample_clock[0], _sample_clock[2] = second, 0
        _sample_clock[1] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
    _sample_clock[2] += 1
    return f"{_sample_clock[1]}.{_sample_clock[2]:06d}Z"


def boot_notification(uid: str, index: int) -> str:
    return TEMPLATES["BootNotification"].render(id=uid, serial=f"SN-BENCH-{index:06d}")


def status_notification(uid: str, connector: int, status: str = "Available") -> str:
    return TEMPLATES["StatusNotification"].render(
        id=uid, connector=connector, status=status, ts=now_text()
    )


def heartbeat(uid: str) -> str:
    return TEMPLATES["Heartbeat"].render(id=uid)


def authorize(uid: str, index: int) -> str:
    return TEMPLATES["Authorize"].render(id=uid, tag=id_tag(index))


def start_transaction(uid: str, index: int, connector: int, meter: int) -> str:
    return TEMPLATES["StartTransaction"].render(
        id=uid, connector=connector, tag=id_tag(index), meter=meter, ts=now_text()
    )


def meter_values(uid: str, connector: int, transaction_id: int, energy_wh: int) -> str:
    return TEMPLATES["MeterValues"].render(
        id=uid,
        connector=connector,
        tx=transaction_id,
        ts=sample_time_text(),
        energy=str(energy_wh),
    )


def stop_transaction(uid: str, index: int, transaction_id: int, meter: int) -> str:
    return TEMPLATES["StopTransaction"].render(
        id=uid, tx=transaction_id, tag=id_tag(index), meter=meter, ts=now_text()
    )
