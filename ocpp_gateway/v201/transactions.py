"""OCPP 2.0.1 transactions: TransactionEvent, MeterValues, remote start and stop, cost."""

import json
import logging
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from billing.services import preview_price
from cards.models import IdToken, normalize_uid
from ocpp_gateway import intents
from ocpp_gateway.exceptions import PropertyConstraintViolation
from ocpp_gateway.handlers import batched
from ocpp_gateway.intents import Call
from ocpp_gateway.v201 import formats
from ocpp_gateway.v201.connectors import address_of, connector_number
from sessions_app.authorization import INVALID
from sessions_app.models import ChargingSession
from sessions_app.services import (
    ENERGY_IMPORT_REGISTER,
    MeterReport,
    SampledValue,
    TransactionEventReport,
    checked_time,
    parse_meter_value,
    record_meter_reports,
    record_running_updates,
    record_transaction_event,
    remember_event_answer,
)
from stations.models import ChargingStation

logger = logging.getLogger(__name__)

# Connector and EVSE numbers are stored as SMALLINT; sequence numbers as BIGINT.
MAX_NUMBER = 32767
MAX_SEQ_NO = 2**63 - 1
MAX_INT = 2**31 - 1
NO_AUTHORIZATION = "NoAuthorization"
# An Ended event without stoppedReason ended locally (2.0.1: it may be left out only then).
DEFAULT_STOPPED_REASON = "Local"
# The unit a 2.0.1 sampled value has when it names none, by measurand prefix (Part 2, 2.45).
_DEFAULT_UNITS = (
    ("Energy.Active", "Wh"),
    ("Energy.Reactive", "varh"),
    ("Energy.Apparent", "VAh"),
    ("Power.Reactive", "var"),
    ("Power.Factor", ""),
    ("Power", "W"),
    ("Current", "A"),
    ("Voltage", "V"),
    ("Frequency", "Hz"),
    ("SoC", "Percent"),
)
_UNIT_MAX_LENGTH = 12  # MeterValue.unit
# The platform stores 1.6's purpose names; a remote start's profile arrives in 1.6 terms.
_PURPOSE_FROM_16 = {
    "ChargePointMaxProfile": "ChargingStationMaxProfile",
    "TxDefaultProfile": "TxDefaultProfile",
    "TxProfile": "TxProfile",
}


# --- station → CSMS ---------------------------------------------------------------------------


def _bounded(value: int, name: str, low: int, high: int) -> int:
    """A number the station sent, or PropertyConstraintViolation when no row could hold it."""
    if not low <= value <= high:
        raise PropertyConstraintViolation(
            f"{name} must be between {low} and {high}, got {value}.", {name: value}
        )
    return value


def _optional(value: int | None, name: str, high: int, station: ChargingStation) -> int | None:
    """An optional number, dropped (and logged) when it cannot be right, never an error."""
    # An error would make the station resend the whole event, and lose it after a few tries.
    if value is None or 0 <= value <= high:
        return value
    logger.warning("Station %s sent %s %s; ignored.", station.ocpp_id, name, value)
    return None


def _unit(sampled: dict, measurand: str) -> str:
    unit = (sampled.get("unitOfMeasure") or {}).get("unit")
    if unit is None:
        unit = next((u for prefix, u in _DEFAULT_UNITS if measurand.startswith(prefix)), "")
    return unit[:_UNIT_MAX_LENGTH]


def sampled_values(meter_values: list[dict], station: ChargingStation) -> list[SampledValue]:
    """2.0.1 meterValue objects as version-neutral samples, with 2.0.1's defaults."""
    samples = []
    for meter_value in meter_values:
        # Out of the plausible window the sample is kept at server time (and logged).
        timestamp = checked_time(
            formats.parse_datetime(meter_value["timestamp"]), "meter value", []
        )
        for sampled in meter_value["sampledValue"]:
            measurand = sampled.get("measurand", ENERGY_IMPORT_REGISTER)
            multiplier = (sampled.get("unitOfMeasure") or {}).get("multiplier", 0)
            # The value is a number here; the multiplier is a power of ten, applied once.
            value = None
            if -MAX_NUMBER <= multiplier <= MAX_NUMBER:
                value = parse_meter_value(Decimal(str(sampled["value"])).scaleb(multiplier))
            if value is None:
                # Kept without its value: rejecting the message would only make it come back.
                logger.warning(
                    "Station %s sent a meter value out of range: %r (multiplier %r).",
                    station.ocpp_id,
                    sampled["value"],
                    multiplier,
                )
            signed = sampled.get("signedMeterValue")
            samples.append(
                SampledValue(
                    timestamp=timestamp,
                    value=value,
                    measurand=measurand,
                    phase=sampled.get("phase", ""),
                    unit=_unit(sampled, measurand),
                    context=sampled.get("context", "Sample.Periodic"),
                    location=sampled.get("location", ""),
                    # The whole object: the data is useless without its method and key.
                    signed_data=json.dumps(signed, separators=(",", ":")) if signed else "",
                )
            )
    return samples


def _event_connector(station: ChargingStation, payload: dict) -> int | None:
    """The connector number of the event's EVSE and connector; None when it names none."""
    evse = payload.get("evse")
    if evse is None:
        return None
    evse_id = _bounded(evse["id"], "evse.id", 1, MAX_NUMBER)
    # An EVSE without connectorId: its first (most EVSEs have one).
    connector = _bounded(evse.get("connectorId", 1), "evse.connectorId", 1, MAX_NUMBER)
    return connector_number(station, evse_id, connector)


def _event_report(station: ChargingStation, payload: dict) -> TransactionEventReport:
    """A TransactionEvent payload as the version-neutral report."""
    info = payload["transactionInfo"]
    event_type = payload["eventType"]
    corrections = []
    field = {"Started": "start", "Ended": "stop"}.get(event_type, "event")
    timestamp = checked_time(formats.parse_datetime(payload["timestamp"]), field, corrections)
    token = payload.get("idToken")
    # A NoAuthorization token names nobody: the transaction has no card to record.
    id_tag = token["idToken"] if token and token["type"] != NO_AUTHORIZATION else None
    return TransactionEventReport(
        transaction_id=info["transactionId"],
        event_type=event_type,
        seq_no=_bounded(payload["seqNo"], "seqNo", 0, MAX_SEQ_NO),
        timestamp=timestamp,
        trigger_reason=payload["triggerReason"],
        connector_number=_event_connector(station, payload),
        id_tag=id_tag,
        stop_token=payload["triggerReason"] == "StopAuthorized",
        charging_state=info.get("chargingState", ""),
        stop_reason=info.get("stoppedReason", DEFAULT_STOPPED_REASON)
        if event_type == "Ended"
        else "",
        remote_start_id=_optional(info.get("remoteStartId"), "remoteStartId", MAX_SEQ_NO, station),
        reservation_id=_optional(
            payload.get("reservationId"), "reservationId", MAX_SEQ_NO, station
        ),
        offline=payload.get("offline", False),
        number_of_phases_used=_optional(
            payload.get("numberOfPhasesUsed"), "numberOfPhasesUsed", MAX_NUMBER, station
        ),
        cable_max_current=_optional(
            payload.get("cableMaxCurrent"), "cableMaxCurrent", MAX_INT, station
        ),
        time_spent_charging=_optional(
            info.get("timeSpentCharging"), "timeSpentCharging", MAX_INT, station
        ),
        samples=sampled_values(payload.get("meterValue", []), station),
        corrections=corrections,
        payload=payload,
    )


def _answer_event(station: ChargingStation, payload: dict, report: TransactionEventReport) -> dict:
    """Record one event on its session and answer it; a retransmission gets the first answer."""
    outcome = record_transaction_event(station, report)
    if outcome.retransmission:
        return outcome.event.response
    answer = {}
    token = payload.get("idToken")
    if token is not None:
        if token["type"] == NO_AUTHORIZATION:
            # Nobody to ask, as in Authorize: the station charges without identification.
            answer["idTokenInfo"] = {"status": "Accepted"}
        else:
            answer["idTokenInfo"] = formats.id_token_info(outcome.authorization or INVALID)
    if outcome.closed:
        cost = session_cost(outcome.session)
        if cost is not None:
            # Sent only when charging has ended; omitted, it means "not free" (2.0.1 E.16).
            answer["totalCost"] = float(cost)
    if outcome.event is not None:
        remember_event_answer(outcome.event, answer)
    return answer


def _write_events(items: list[tuple[ChargingStation, dict]]) -> list[dict]:
    """The answers to many stations' TransactionEvents: plain updates together, the rest alone."""
    reports = [(station, _event_report(station, payload)) for station, payload in items]
    recorded = record_running_updates(reports)
    return [
        {} if index in recorded else _answer_event(station, payload, report)
        for index, ((station, payload), (_, report)) in enumerate(zip(items, reports, strict=True))
    ]


def _received(station: ChargingStation, payload: dict) -> tuple[ChargingStation, dict]:
    # Reading the payload needs the database (connector numbers): it is done in the write.
    return station, payload


def _as_is(answer: dict) -> dict:
    return answer


@batched(_received, _write_events, _as_is)
def on_transaction_event(station: ChargingStation, payload: dict) -> dict:
    """TransactionEvent: record the event on its session; a retransmission gets the first answer."""
    return _write_events([(station, payload)])[0]


def on_meter_values(station: ChargingStation, payload: dict) -> dict:
    """MeterValues: values outside a transaction, of an EVSE or (evseId 0) the station's meter."""
    evse_id = _bounded(payload["evseId"], "evseId", 0, MAX_NUMBER)
    number = connector_number(station, evse_id, 1) if evse_id else 0
    samples = sampled_values(payload["meterValue"], station)
    record_meter_reports([MeterReport(station, connector_number=number, samples=samples)])
    return {}


# --- what a session costs ---------------------------------------------------------------------


def session_cost(session: ChargingSession, until: datetime | None = None) -> Decimal | None:
    """What the session costs, tax included, as billing will rate it; None if it cannot tell."""
    # Billing's own preview: the same tariff, rules and engine as the CDR written after commit.
    return preview_price(session, until)


# --- CSMS → station ---------------------------------------------------------------------------


def charging_profile_from_16(profile: dict) -> dict:
    """A 1.6 csChargingProfiles object as a 2.0.1 ChargingProfileType."""
    # What has no 2.0.1 spelling is passed on as it is, for the schema check to refuse.
    shaped = {
        ("id" if key == "chargingProfileId" else key): value for key, value in profile.items()
    }
    purpose = shaped.get("chargingProfilePurpose")
    if isinstance(purpose, str):
        shaped["chargingProfilePurpose"] = _PURPOSE_FROM_16.get(purpose, purpose)
    schedule = shaped.get("chargingSchedule")
    if isinstance(schedule, dict):
        # 2.0.1 profiles hold a list of schedules, each with an id: this one has the profile's.
        shaped["chargingSchedule"] = [{"id": shaped.get("id"), **schedule}]
    return shaped


def _id_token_type(station: ChargingStation | None, uid: str) -> str:
    """The type of the station organization's card with this uid (ISO 14443 if unknown)."""
    if station is None or station.organization_id is None:
        return formats.DEFAULT_ID_TOKEN_TYPE
    found = (
        IdToken.objects.for_org(station.organization_id)
        .filter(uid=normalize_uid(uid))
        .values_list("type", flat=True)
        .first()
    )
    return found or formats.DEFAULT_ID_TOKEN_TYPE


def _request_start_transaction(intent: intents.StartCharging, station=None) -> Call:
    payload = {
        # None only while the call is built to be checked, before the remote start is recorded.
        "remoteStartId": intent.remote_start_id if intent.remote_start_id is not None else 0,
        "idToken": formats.id_token(intent.id_tag, _id_token_type(station, intent.id_tag)),
    }
    if intent.connector is not None:
        evse_id = address_of(station, intent.connector)[0] if station else intent.connector
        payload["evseId"] = evse_id
    if intent.profile is not None:
        payload["chargingProfile"] = charging_profile_from_16(intent.profile)
    return Call("RequestStartTransaction", payload)


def _request_stop_transaction(intent: intents.StopCharging, station=None) -> Call:
    return Call("RequestStopTransaction", {"transactionId": intent.transaction_id})


def _get_transaction_status(intent: intents.GetTransactionStatus, station=None) -> Call:
    if intent.transaction_id is None:
        return Call("GetTransactionStatus", {})
    return Call("GetTransactionStatus", {"transactionId": intent.transaction_id})


def _cost_updated(intent: intents.CostUpdated, station=None) -> Call:
    payload = {"totalCost": float(intent.total_cost), "transactionId": intent.transaction_id}
    return Call("CostUpdated", payload)


HANDLERS: dict[str, Callable[[ChargingStation, dict], dict]] = {
    "TransactionEvent": on_transaction_event,
    "MeterValues": on_meter_values,
}

# intent type → builder(intent, station) -> intents.Call
BUILDERS: dict[type, Callable[..., Call]] = {
    intents.StartCharging: _request_start_transaction,
    intents.StopCharging: _request_stop_transaction,
    intents.GetTransactionStatus: _get_transaction_status,
    intents.CostUpdated: _cost_updated,
}
