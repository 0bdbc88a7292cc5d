"""OCPP 1.6 CSMS-to-station calls: a neutral intent → action and payload; an answer → outcome."""

from collections.abc import Callable
from dataclasses import dataclass

from ocpp_gateway import intents
from ocpp_gateway.choices import CommandStatus
from ocpp_gateway.intents import Call, LocalListOutcome
from ocpp_gateway.v16 import formats

# CALLRESULT statuses that mean the station does what was asked.
ACCEPTED_STATUSES = frozenset({"Accepted", "Unlocked", "Scheduled", "RebootRequired"})
_RESET_TYPE = {intents.ResetKind.SOFT: "Soft", intents.ResetKind.HARD: "Hard"}
_LOCAL_LIST_OUTCOME = {
    "Accepted": LocalListOutcome.ACCEPTED,
    "VersionMismatch": LocalListOutcome.VERSION_MISMATCH,
    "Failed": LocalListOutcome.FAILED,
    "NotSupported": LocalListOutcome.NOT_SUPPORTED,
}


def _without_none(payload: dict) -> dict:
    """Optional OCPP fields are left out, never sent as null."""
    return {key: value for key, value in payload.items() if value is not None}


def _time(value) -> str | None:
    return formats.format_datetime(value) if value is not None else None


def _station_or(connector: int | None) -> int:
    """connectorId 0 is the station itself."""
    return connector if connector is not None else 0


def _start_charging(intent: intents.StartCharging) -> Call:
    # 1.6 has no remoteStartId: the session is matched to the RemoteStart by card and connector.
    payload = {"idTag": intent.id_tag}
    if intent.connector is not None:
        payload["connectorId"] = intent.connector
    if intent.profile is not None:
        payload["chargingProfile"] = intent.profile
    return Call("RemoteStartTransaction", payload)


def _stop_charging(intent: intents.StopCharging) -> Call:
    # 1.6 transaction ids are the integers this platform handed out.
    return Call("RemoteStopTransaction", {"transactionId": int(intent.transaction_id)})


def _unlock_connector(intent: intents.UnlockConnector) -> Call:
    return Call("UnlockConnector", {"connectorId": intent.connector})


def _reserve(intent: intents.Reserve) -> Call:
    if intent.connector_type:
        raise intents.NotInVersion("ReserveNow by connector type", "ocpp1.6")
    payload = {
        # 0 reserves any connector of the station (TC_049).
        "connectorId": _station_or(intent.connector),
        "expiryDate": formats.format_datetime(intent.expires_at),
        "idTag": intent.id_tag,
        "reservationId": intent.reservation_id,
    }
    if intent.parent_id_tag:
        payload["parentIdTag"] = intent.parent_id_tag
    return Call("ReserveNow", payload)


def _cancel_reservation(intent: intents.CancelReservation) -> Call:
    return Call("CancelReservation", {"reservationId": intent.reservation_id})


def _clear_cache(intent: intents.ClearCache) -> Call:
    return Call("ClearCache", {})


def _reset(intent: intents.Reset) -> Call:
    # A 1.6 station restarts as a whole; dropping the EVSE would restart more than was asked.
    if intent.evse is not None:
        raise intents.NotInVersion("Reset of one EVSE", "ocpp1.6")
    return Call("Reset", {"type": _RESET_TYPE[intent.kind]})


def _change_availability(intent: intents.ChangeAvailability) -> Call:
    if intent.evse is not None:
        raise intents.NotInVersion("ChangeAvailability of one EVSE", "ocpp1.6")
    kind = "Operative" if intent.operative else "Inoperative"
    return Call("ChangeAvailability", {"connectorId": _station_or(intent.connector), "type": kind})


def _get_configuration(intent: intents.GetConfiguration) -> Call:
    return Call("GetConfiguration", {"key": list(intent.keys)} if intent.keys else {})


def _change_configuration(intent: intents.ChangeConfiguration) -> Call:
    return Call("ChangeConfiguration", {"key": intent.key, "value": intent.value})


def _trigger_message(intent: intents.TriggerMessage) -> Call:
    payload = {"requestedMessage": intent.message}
    if intent.connector is not None:
        payload["connectorId"] = intent.connector
    return Call("TriggerMessage", payload)


def _update_firmware(intent: intents.UpdateFirmware) -> Call:
    payload = {
        "location": intent.location,
        "retrieveDate": formats.format_datetime(intent.retrieve_at),
        "retries": intent.retries,
        "retryInterval": intent.retry_interval,
    }
    return Call("UpdateFirmware", _without_none(payload))


def _get_diagnostics(intent: intents.GetDiagnostics) -> Call:
    payload = {
        "location": intent.location,
        "startTime": _time(intent.start),
        "stopTime": _time(intent.stop),
        "retries": intent.retries,
        "retryInterval": intent.retry_interval,
    }
    return Call("GetDiagnostics", _without_none(payload))


def _send_local_list(intent: intents.SendLocalList) -> Call:
    return local_list_update(intent).call


def _get_local_list_version(intent: intents.GetLocalListVersion) -> Call:
    return Call("GetLocalListVersion", {})


def _set_charging_profile(intent: intents.SetChargingProfile) -> Call:
    transaction_id = int(intent.transaction_id) if intent.transaction_id is not None else None
    payload = {
        "connectorId": _station_or(intent.connector),
        "csChargingProfiles": formats.charging_profile(
            intent.profile, intent.profile.pk, transaction_id=transaction_id
        ),
    }
    return Call("SetChargingProfile", payload)


def _clear_charging_profile(intent: intents.ClearChargingProfile) -> Call:
    payload = {
        "id": intent.profile_id,
        "connectorId": intent.connector,
        "chargingProfilePurpose": intent.purpose,
        "stackLevel": intent.stack_level,
    }
    return Call("ClearChargingProfile", _without_none(payload))


def _get_composite_schedule(intent: intents.GetCompositeSchedule) -> Call:
    payload = {
        "connectorId": _station_or(intent.connector),
        "duration": intent.duration,
        "chargingRateUnit": intent.rate_unit,
    }
    return Call("GetCompositeSchedule", _without_none(payload))


def _data_transfer(intent: intents.DataTransfer) -> Call:
    payload = {
        "vendorId": intent.vendor_id,
        "messageId": intent.message_id or None,
        "data": intent.data,
    }
    return Call("DataTransfer", _without_none(payload))


_BUILDERS: dict[type, Callable[..., Call]] = {
    intents.StartCharging: _start_charging,
    intents.StopCharging: _stop_charging,
    intents.UnlockConnector: _unlock_connector,
    intents.Reserve: _reserve,
    intents.CancelReservation: _cancel_reservation,
    intents.ClearCache: _clear_cache,
    intents.Reset: _reset,
    intents.ChangeAvailability: _change_availability,
    intents.GetConfiguration: _get_configuration,
    intents.ChangeConfiguration: _change_configuration,
    intents.TriggerMessage: _trigger_message,
    intents.UpdateFirmware: _update_firmware,
    intents.GetDiagnostics: _get_diagnostics,
    intents.SendLocalList: _send_local_list,
    intents.GetLocalListVersion: _get_local_list_version,
    intents.SetChargingProfile: _set_charging_profile,
    intents.ClearChargingProfile: _clear_charging_profile,
    intents.GetCompositeSchedule: _get_composite_schedule,
    intents.DataTransfer: _data_transfer,
}


def supports(intent_type: type) -> bool:
    """Whether 1.6 has a call for this kind of intent."""
    return intent_type in _BUILDERS


def build(intent, station=None) -> Call:
    """The 1.6 call that carries out a neutral intent (1.6 needs no station to spell one)."""
    try:
        builder = _BUILDERS[type(intent)]
    except KeyError:
        raise intents.NotInVersion(type(intent).__name__, "ocpp1.6") from None
    return builder(intent)


@dataclass(frozen=True)
class LocalListUpdate:
    """One SendLocalList: the call, and the list the station holds once it accepts it."""

    call: Call
    version: int
    # Every entry the station then holds: idTag → idTagInfo (the snapshot to keep).
    entries: dict[str, dict]


def local_list_update(intent: intents.SendLocalList) -> LocalListUpdate:
    """The next SendLocalList, versioned after the one the station last accepted."""
    entries = formats.local_list_entries(intent.authorizations)
    if intent.full:
        changes = [{"idTag": uid, "idTagInfo": info} for uid, info in entries.items()]
    else:
        changes = formats.local_list_changes(intent.held_entries or {}, entries)
    # A station refuses a differential update whose version is not above its own.
    version = intent.held_version + 1
    payload = {
        "listVersion": version,
        "updateType": "Full" if intent.full else "Differential",
        "localAuthorizationList": changes,
    }
    return LocalListUpdate(Call("SendLocalList", payload), version, entries)


# --- the station's answers -------------------------------------------------------------------


def command_status(response: dict) -> str:
    """Accepted or rejected, from the `status` of a CALLRESULT (none means accepted)."""
    status = response.get("status")
    if status is None or status in ACCEPTED_STATUSES:
        return CommandStatus.ACCEPTED
    return CommandStatus.REJECTED


def local_list_outcome(response: dict | None) -> LocalListOutcome:
    """What the station did with a SendLocalList, from its answer (None: no answer came)."""
    if response is None:
        return LocalListOutcome.NO_ANSWER
    return _LOCAL_LIST_OUTCOME.get(response.get("status"), LocalListOutcome.FAILED)


def data_transfer_answer(response: dict | None) -> intents.DataTransferAnswer:
    """The status word and data a station answered a DataTransfer with."""
    response = response or {}
    return intents.DataTransferAnswer(response.get("status", ""), response.get("data"))
