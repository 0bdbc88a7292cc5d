"""OCPP 2.0.1 remote control: unlock, reservations, cache, reset, availability, triggers, lists."""

import logging
from collections.abc import Callable
from dataclasses import dataclass

from cards.choices import IdTokenType
from cards.models import IdToken, normalize_uid
from ocpp_gateway import intents
from ocpp_gateway.intents import Call, LocalListOutcome
from ocpp_gateway.v201 import formats
from ocpp_gateway.v201.connectors import address_of
from sessions_app.choices import ReservationStatus
from sessions_app.services import record_reservation_ended
from stations.choices import ConnectorType
from stations.models import ChargingStation

logger = logging.getLogger(__name__)

_RESET_TYPE = {intents.ResetKind.SOFT: "OnIdle", intents.ResetKind.HARD: "Immediate"}
# The platform's plug types (OCPI names) as 2.0.1 ConnectorEnumType spells them.
CONNECTOR_TYPE = {
    ConnectorType.TYPE2: "sType2",
    ConnectorType.TYPE2_CABLE: "cType2",
    ConnectorType.CCS2: "cCCS2",
    ConnectorType.CHADEMO: "cG105",
    ConnectorType.TYPE1: "cType1",
    ConnectorType.CCS1: "cCCS1",
    ConnectorType.SCHUKO: "sCEE-7-7",
}
# The messages a 2.0.1 station can be asked to send (MessageTriggerEnumType).
TRIGGERABLE_MESSAGES = (
    "BootNotification",
    "Heartbeat",
    "StatusNotification",
    "MeterValues",
    "TransactionEvent",
    "FirmwareStatusNotification",
    "LogStatusNotification",
    "PublishFirmwareStatusNotification",
    "SignChargingStationCertificate",
    "SignV2GCertificate",
    "SignCombinedCertificate",
)
# A 1.6 name an operator may still use, and the 2.0.1 message that replaced it.
_TRIGGER_ALIASES = {"DiagnosticsStatusNotification": "LogStatusNotification"}
# Messages about one EVSE: the evse of the request narrows them to it.
PER_EVSE_MESSAGES = ("MeterValues", "StatusNotification", "TransactionEvent")
_LOCAL_LIST_OUTCOME = {
    "Accepted": LocalListOutcome.ACCEPTED,
    "VersionMismatch": LocalListOutcome.VERSION_MISMATCH,
    "Failed": LocalListOutcome.FAILED,
}
_RESERVATION_END = {
    "Expired": ReservationStatus.EXPIRED,
    "Removed": ReservationStatus.CANCELLED,
}


def trigger_name(message: str) -> str:
    """The 2.0.1 requestedMessage of a message name as the remote command offers it."""
    return _TRIGGER_ALIASES.get(message, message)


def _evse(station: ChargingStation, connector: int, *, with_connector: bool = True) -> dict:
    """The EVSEType of one of the station's connectors."""
    evse_id, connector_id = address_of(station, connector)
    return {"id": evse_id, "connectorId": connector_id} if with_connector else {"id": evse_id}


def _token_type(station: ChargingStation, uid: str) -> str:
    """The IdTokenEnumType of a card of the station's organization (RFID if unknown)."""
    found = (
        IdToken.objects.for_org(station.organization_id)
        .filter(uid=normalize_uid(uid))
        .values_list("type", flat=True)
        .first()
    )
    return found or formats.DEFAULT_ID_TOKEN_TYPE


# --- builders ----------------------------------------------------------------------------------


def _unlock_connector(intent: intents.UnlockConnector, station: ChargingStation) -> Call:
    evse_id, connector_id = address_of(station, intent.connector)
    return Call("UnlockConnector", {"evseId": evse_id, "connectorId": connector_id})


def _reserve(intent: intents.Reserve, station: ChargingStation) -> Call:
    payload = {
        "id": intent.reservation_id,
        "expiryDateTime": formats.format_datetime(intent.expires_at),
        "idToken": formats.id_token(intent.id_tag, _token_type(station, intent.id_tag)),
    }
    # 2.0.1 reserves an EVSE; without one, any EVSE of the station (of the type, if given).
    if intent.connector is not None:
        payload["evseId"] = address_of(station, intent.connector)[0]
    if intent.connector_type:
        payload["connectorType"] = CONNECTOR_TYPE[ConnectorType(intent.connector_type)]
    if intent.parent_id_tag:
        # The 1.6 parent id tag is 2.0.1's group id token: a card of the group may use it.
        payload["groupIdToken"] = formats.id_token(
            intent.parent_id_tag, formats.GROUP_ID_TOKEN_TYPE
        )
    return Call("ReserveNow", payload)


def _cancel_reservation(intent: intents.CancelReservation, station: ChargingStation) -> Call:
    return Call("CancelReservation", {"reservationId": intent.reservation_id})


def _clear_cache(intent: intents.ClearCache, station: ChargingStation) -> Call:
    return Call("ClearCache", {})


def _reset(intent: intents.Reset, station: ChargingStation) -> Call:
    # A soft reset waits for running transactions to end (OnIdle); a hard one does not.
    payload = {"type": _RESET_TYPE[intent.kind]}
    if intent.evse is not None:
        payload["evseId"] = intent.evse
    return Call("Reset", payload)


def _change_availability(intent: intents.ChangeAvailability, station: ChargingStation) -> Call:
    payload = {"operationalStatus": "Operative" if intent.operative else "Inoperative"}
    if intent.connector is not None:
        payload["evse"] = _evse(station, intent.connector)
    elif intent.evse is not None:
        payload["evse"] = {"id": intent.evse}
    return Call("ChangeAvailability", payload)


def _trigger_message(intent: intents.TriggerMessage, station: ChargingStation) -> Call:
    message = trigger_name(intent.message)
    payload = {"requestedMessage": message}
    if intent.connector is not None:
        # A status is a connector's; meter values and transactions are the EVSE's.
        payload["evse"] = _evse(
            station, intent.connector, with_connector=message == "StatusNotification"
        )
    return Call("TriggerMessage", payload)


def _send_local_list(intent: intents.SendLocalList, station: ChargingStation) -> Call:
    return local_list_update(intent).call


def _get_local_list_version(intent: intents.GetLocalListVersion, station: ChargingStation) -> Call:
    return Call("GetLocalListVersion", {})


def _data_transfer(intent: intents.DataTransfer, station: ChargingStation) -> Call:
    payload = {"vendorId": intent.vendor_id}
    if intent.message_id:
        payload["messageId"] = intent.message_id
    if intent.data is not None:
        payload["data"] = intent.data
    return Call("DataTransfer", payload)


BUILDERS: dict[type, Callable[..., Call]] = {
    intents.UnlockConnector: _unlock_connector,
    intents.Reserve: _reserve,
    intents.CancelReservation: _cancel_reservation,
    intents.ClearCache: _clear_cache,
    intents.Reset: _reset,
    intents.ChangeAvailability: _change_availability,
    intents.TriggerMessage: _trigger_message,
    intents.SendLocalList: _send_local_list,
    intents.GetLocalListVersion: _get_local_list_version,
    intents.DataTransfer: _data_transfer,
}


# --- local lists ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LocalListUpdate:
    """One SendLocalList: the call, and the list the station holds once it accepts it."""

    call: Call
    version: int
    # Every entry the station then holds: idToken → idTokenInfo (the snapshot to keep).
    entries: dict[str, dict]


def _token_types(authorizations) -> dict[str, str]:
    """uid → the IdTokenEnumType of its card, where the authorization names one."""
    types = {}
    for uid, result in authorizations.items():
        card = getattr(result, "id_token", None)
        if card is not None and card.type in IdTokenType.values:
            types[uid] = card.type
    return types


def local_list_update(intent: intents.SendLocalList) -> LocalListUpdate:
    """The next SendLocalList, versioned after the one the station last accepted."""
    entries = formats.local_list_entries(intent.authorizations)
    if intent.full:
        changes = [
            {"idToken": formats.id_token(uid), "idTokenInfo": info} for uid, info in entries.items()
        ]
    else:
        changes = formats.local_list_changes(intent.held_entries or {}, entries)
    # Each token as its card's type, so the station matches it to what the driver presents;
    # one removed from the platform is named as the default type, all that is known of it.
    types = _token_types(intent.authorizations)
    for change in changes:
        token = change["idToken"]
        token["type"] = types.get(token["idToken"], token["type"])
    # A station refuses a differential update whose version is not above its own.
    version = intent.held_version + 1
    payload = {"versionNumber": version, "updateType": "Full" if intent.full else "Differential"}
    if changes:
        # The schema wants at least one entry: an empty full list is sent without any.
        payload["localAuthorizationList"] = changes
    return LocalListUpdate(Call("SendLocalList", payload), version, entries)


# --- the station's answers -------------------------------------------------------------------


def local_list_outcome(response: dict | None) -> LocalListOutcome:
    """What the station did with a SendLocalList, from its answer (None: no answer came)."""
    if response is None:
        return LocalListOutcome.NO_ANSWER
    return _LOCAL_LIST_OUTCOME.get(response.get("status"), LocalListOutcome.FAILED)


def data_transfer_answer(response: dict | None) -> intents.DataTransferAnswer:
    """The status word and data a station answered a DataTransfer with."""
    response = response or {}
    return intents.DataTransferAnswer(response.get("status", ""), response.get("data"))


# --- handlers ----------------------------------------------------------------------------------


def on_reservation_status_update(station: ChargingStation, payload: dict) -> dict:
    """ReservationStatusUpdate: the station no longer holds a reservation (expired or removed)."""
    reservation_id, status = payload["reservationId"], payload["reservationUpdateStatus"]
    if not record_reservation_ended(station, reservation_id, _RESERVATION_END[status]):
        # Unknown, another station's, or already used or ended: nothing to change.
        logger.info(
            "Station %s reported reservation %s %s; no such open reservation.",
            station.ocpp_id,
            reservation_id,
            status,
        )
    return {}


HANDLERS: dict[str, Callable[[ChargingStation, dict], dict]] = {
    "ReservationStatusUpdate": on_reservation_status_update,
}
