"""OCPP 2.0.1 smart charging, firmware and network profiles: station reports in, calls out."""

import math
from collections.abc import Callable
from datetime import datetime

from ocpp_gateway import intents
from ocpp_gateway.choices import CommandStatus
from ocpp_gateway.exceptions import PropertyConstraintViolation
from ocpp_gateway.intents import Call
from ocpp_gateway.models import CommandLog
from ocpp_gateway.v201 import formats
from ocpp_gateway.v201.connectors import address_of
from sessions_app.models import ChargingSession
from stations.models import ChargingStation
from stations.smart_charging import (
    ProfileReport,
    clear_charging_limit,
    record_charging_limit,
    record_ev_charging_needs,
    record_ev_charging_schedule,
    record_publish_firmware_status,
    record_reported_profiles,
)

# A recurring schedule starts again every day or every week.
RECURRENCE_SECONDS = {"Daily": 24 * 3600, "Weekly": 7 * 24 * 3600}
# How many recurrences of a schedule an EV's schedule is checked against, at most.
_MAX_RECURRENCES = 400
# Limits are multiples of 0.1: a smaller difference is rounding, not excess.
_TOLERANCE = 0.05


# OCPP integers are 32-bit: a larger one is refused rather than stored (or not) by the database.
_INT32 = 2**31 - 1


def _whole(value: int | None, name: str, lowest: int = -_INT32 - 1) -> int | None:
    """An integer the station sent, within 32 bits and from `lowest` on (None stays None)."""
    if value is not None and not lowest <= value <= _INT32:
        raise PropertyConstraintViolation(
            f"{name} must lie between {lowest} and {_INT32}, got {value}.", {name: value}
        )
    return value


def _evse(value: int | None, name: str = "evseId") -> int:
    """An evseId the station sent: 0 (or absent) is the station itself."""
    return _whole(value or 0, name, lowest=0)


# --- the station's reports ------------------------------------------------------------------------


def on_notify_charging_limit(station: ChargingStation, payload: dict) -> dict:
    """NotifyChargingLimit: a system beside the CSMS set a limit on the station or an EVSE."""
    limit = payload["chargingLimit"]
    record_charging_limit(
        station,
        limit["chargingLimitSource"],
        _evse(payload.get("evseId")),
        grid_critical=limit.get("isGridCritical"),
        schedules=payload.get("chargingSchedule") or [],
    )
    return {}


def on_cleared_charging_limit(station: ChargingStation, payload: dict) -> dict:
    """ClearedChargingLimit: the source released its limit (without evseId: all it set)."""
    evse = payload.get("evseId")
    clear_charging_limit(
        station, payload["chargingLimitSource"], _evse(evse) if evse is not None else None
    )
    return {}


def _profile_report(profile: dict) -> ProfileReport:
    return ProfileReport(
        profile_id=_whole(profile["id"], "id"),
        purpose=profile["chargingProfilePurpose"],
        stack_level=_whole(profile["stackLevel"], "stackLevel", lowest=0),
        kind=profile["chargingProfileKind"],
        transaction_id=profile.get("transactionId", ""),
        profile=profile,
    )


def on_report_charging_profiles(station: ChargingStation, payload: dict) -> dict:
    """ReportChargingProfiles: one part of the answer to GetChargingProfiles (more if tbc)."""
    record_reported_profiles(
        station,
        _whole(payload["requestId"], "requestId"),
        _evse(payload["evseId"]),
        payload["chargingLimitSource"],
        [_profile_report(profile) for profile in payload["chargingProfile"]],
    )
    return {}


def _energy_amount(needs: dict) -> int | None:
    """The energy the EV asks for in Wh, from its AC or DC parameters."""
    for parameters in ("acChargingParameters", "dcChargingParameters"):
        amount = (needs.get(parameters) or {}).get("energyAmount")
        if amount is not None:
            return max(_whole(amount, "energyAmount"), 0)
    return None


def on_notify_ev_charging_needs(station: ChargingStation, payload: dict) -> dict:
    """NotifyEVChargingNeeds: keep what the EV asked for; the operator answers with a profile."""
    needs = payload["chargingNeeds"]
    departure = needs.get("departureTime")
    record_ev_charging_needs(
        station,
        _evse(payload["evseId"]),
        energy_transfer=needs["requestedEnergyTransfer"],
        needs=needs,
        energy_amount=_energy_amount(needs),
        departure_time=formats.parse_datetime(departure) if departure else None,
        max_schedule_tuples=_whole(payload.get("maxScheduleTuples"), "maxScheduleTuples", 0),
    )
    # Accepted: a TxProfile for the transaction follows (K15), set by the operator or already
    # installed as the EVSE's default; the platform computes no schedule of its own.
    return {"status": "Accepted"}


def on_notify_ev_charging_schedule(station: ChargingStation, payload: dict) -> dict:
    """NotifyEVChargingSchedule: accept the EV's schedule if it keeps within what we set."""
    evse = _evse(payload["evseId"])
    time_base = formats.parse_datetime(payload["timeBase"])
    schedule = payload["chargingSchedule"]
    limit = transaction_profile_sent(station, evse)
    # K16.FR.06/07: a schedule above the CSMS's limits is rejected (the operator renegotiates).
    within = limit is None or not schedule_exceeds(schedule, time_base, limit)
    status = "Accepted" if within else "Rejected"
    record_ev_charging_schedule(station, evse, schedule, time_base, status)
    return {"status": status}


def on_publish_firmware_status_notification(station: ChargingStation, payload: dict) -> dict:
    """PublishFirmwareStatusNotification: progress of a local controller's publication."""
    record_publish_firmware_status(
        station,
        payload["status"],
        request_id=_whole(payload.get("requestId"), "requestId"),
        locations=payload.get("location"),
    )
    return {}


HANDLERS: dict[str, Callable[[ChargingStation, dict], dict]] = {
    "NotifyChargingLimit": on_notify_charging_limit,
    "ClearedChargingLimit": on_cleared_charging_limit,
    "ReportChargingProfiles": on_report_charging_profiles,
    "NotifyEVChargingNeeds": on_notify_ev_charging_needs,
    "NotifyEVChargingSchedule": on_notify_ev_charging_schedule,
    "PublishFirmwareStatusNotification": on_publish_firmware_status_notification,
}


# --- does an EV's schedule keep within the CSMS's? -----------------------------------------------


def transaction_profile_sent(station: ChargingStation, evse: int) -> dict | None:
    """The TxProfile the station last accepted from us for the transaction on `evse`, if any."""
    running = (
        ChargingSession.objects.active()
        .filter(station=station, connector__evse__evse_number=evse)
        .values_list("transaction_id", flat=True)
        .first()
    )
    sent = CommandLog.objects.filter(
        station=station,
        action="SetChargingProfile",
        status=CommandStatus.ACCEPTED,
        payload__evseId=evse,
        payload__chargingProfile__chargingProfilePurpose="TxProfile",
    ).order_by("-created", "-id")
    for payload in sent.values_list("payload", flat=True)[:20]:
        profile = payload["chargingProfile"]
        # A profile for an earlier transaction on this EVSE no longer applies.
        if running is None or profile.get("transactionId") == running:
            return profile
    return None


def _limit_at(periods: list[dict], offset: float) -> float:
    """The limit of the period in effect `offset` seconds into a schedule (periods from 0)."""
    current = periods[0]["limit"]
    for period in periods:
        if period["startPeriod"] > offset:
            break
        current = period["limit"]
    return current


def schedule_exceeds(ev_schedule: dict, time_base: datetime, profile: dict) -> bool:
    """Whether an EV's schedule (from `time_base`) asks more than `profile` allows at any time."""
    schedule = profile["chargingSchedule"][0]
    if schedule["chargingRateUnit"] != ev_schedule["chargingRateUnit"]:
        # Amperes and watts compare only with a voltage and phases neither side states.
        return False
    csms_periods = sorted(schedule["chargingSchedulePeriod"], key=lambda p: p["startPeriod"])
    ev_periods = sorted(ev_schedule["chargingSchedulePeriod"], key=lambda p: p["startPeriod"])
    start = schedule.get("startSchedule")
    # A relative profile starts when charging does, which is when the EV's schedule starts.
    anchor = (
        (formats.parse_datetime(start) - time_base).total_seconds()
        if start and profile["chargingProfileKind"] != "Relative"
        else 0.0
    )
    recurrence = (
        RECURRENCE_SECONDS.get(profile.get("recurrencyKind", ""))
        if profile["chargingProfileKind"] == "Recurring"
        else None
    )
    duration = schedule.get("duration")

    def csms_limit(moment: float) -> float | None:
        offset = moment - anchor
        if recurrence:
            offset %= recurrence
        elif offset < 0:
            return None  # the CSMS's schedule has not begun
        if duration is not None and offset >= duration:
            return None  # ... or is over
        return _limit_at(csms_periods, offset)

    ev_end = ev_schedule.get("duration")
    if ev_end is not None:
        horizon = float(ev_end)
    elif recurrence:
        # After the EV's last change, one more recurrence shows every limit it meets.
        horizon = max(ev_periods[-1]["startPeriod"], 0) + recurrence
    else:
        horizon = math.inf
    # Both limits are steps: checking where either changes covers every moment.
    moments = {float(p["startPeriod"]) for p in ev_periods}
    boundaries = [p["startPeriod"] for p in csms_periods] + ([duration] if duration else [])
    first = math.floor(-anchor / recurrence) - 1 if recurrence else 0
    for repeat in range(first, first + (_MAX_RECURRENCES if recurrence else 1)):
        base = anchor + repeat * (recurrence or 0)
        if base >= horizon:
            break
        moments.update(base + b for b in boundaries if 0 <= base + b < horizon)
    for moment in sorted(moments):
        allowed = csms_limit(moment)
        if allowed is not None and _limit_at(ev_periods, moment) > allowed + _TOLERANCE:
            return True
    return False


# --- calls to the station -------------------------------------------------------------------------


def _without_none(payload: dict) -> dict:
    """Optional OCPP fields are left out, never sent as null."""
    return {key: value for key, value in payload.items() if value is not None}


def _evse_of(station: ChargingStation, connector: int | None) -> int:
    """The evseId of a station-wide connector number; 0 (the station) for none."""
    if not connector:
        return 0
    return address_of(station, connector)[0]


def _purpose(purpose: str | None) -> str | None:
    """A purpose in 2.0.1's words, whether given in the platform's (1.6) or in 2.0.1's."""
    if purpose is None:
        return None
    return formats.PROFILE_PURPOSE.get(purpose, purpose)


def _time(value: datetime | None) -> str | None:
    return formats.format_datetime(value) if value is not None else None


def _set_charging_profile(intent: intents.SetChargingProfile, station: ChargingStation) -> Call:
    payload = {
        "evseId": _evse_of(station, intent.connector),
        "chargingProfile": formats.charging_profile(
            intent.profile, intent.profile.pk, intent.transaction_id
        ),
    }
    return Call("SetChargingProfile", payload)


def _clear_charging_profile(intent: intents.ClearChargingProfile, station: ChargingStation) -> Call:
    criteria = _without_none(
        {
            # The intent's 0 is the station's own profiles, as 2.0.1's evseId 0 is.
            "evseId": _evse_of(station, intent.connector) if intent.connector is not None else None,
            "chargingProfilePurpose": _purpose(intent.purpose),
            "stackLevel": intent.stack_level,
        }
    )
    payload = {"chargingProfileId": intent.profile_id}
    if criteria:
        payload["chargingProfileCriteria"] = criteria
    return Call("ClearChargingProfile", _without_none(payload))


def _get_composite_schedule(intent: intents.GetCompositeSchedule, station: ChargingStation) -> Call:
    payload = {
        "duration": intent.duration,
        "evseId": _evse_of(station, intent.connector),
        "chargingRateUnit": intent.rate_unit,
    }
    return Call("GetCompositeSchedule", _without_none(payload))


def _get_charging_profiles(intent: intents.GetChargingProfiles, station: ChargingStation) -> Call:
    criteria = _without_none(
        {
            "chargingProfilePurpose": _purpose(intent.purpose),
            "stackLevel": intent.stack_level,
            "chargingProfileId": list(intent.profile_ids) or None,
            "chargingLimitSource": list(intent.sources) or None,
        }
    )
    payload = {"requestId": intent.request_id, "evseId": intent.evse, "chargingProfile": criteria}
    return Call("GetChargingProfiles", _without_none(payload))


def _update_firmware(intent: intents.UpdateFirmware, station: ChargingStation) -> Call:
    firmware = _without_none(
        {
            "location": intent.location,
            "retrieveDateTime": formats.format_datetime(intent.retrieve_at),
            "installDateTime": _time(intent.install_at),
            "signingCertificate": intent.signing_certificate or None,
            "signature": intent.signature or None,
        }
    )
    request_id = intent.request_id if intent.request_id is not None else intents.new_request_id()
    payload = {
        "requestId": request_id,
        "firmware": firmware,
        "retries": intent.retries,
        "retryInterval": intent.retry_interval,
    }
    return Call("UpdateFirmware", _without_none(payload))


def _set_network_profile(intent: intents.SetNetworkProfile, station: ChargingStation) -> Call:
    profile = intent.profile
    connection = _without_none(
        {
            "ocppVersion": profile.ocpp_version,
            "ocppTransport": profile.transport,
            "ocppCsmsUrl": profile.csms_url,
            "messageTimeout": profile.message_timeout,
            "securityProfile": profile.security_profile,
            "ocppInterface": profile.interface,
            "apn": dict(profile.apn) if profile.apn else None,
            "vpn": dict(profile.vpn) if profile.vpn else None,
        }
    )
    return Call(
        "SetNetworkProfile", {"configurationSlot": intent.slot, "connectionData": connection}
    )


def _publish_firmware(intent: intents.PublishFirmware, station: ChargingStation) -> Call:
    payload = {
        "location": intent.location,
        "checksum": intent.checksum,
        "requestId": intent.request_id,
        "retries": intent.retries,
        "retryInterval": intent.retry_interval,
    }
    return Call("PublishFirmware", _without_none(payload))


def _unpublish_firmware(intent: intents.UnpublishFirmware, station: ChargingStation) -> Call:
    return Call("UnpublishFirmware", {"checksum": intent.checksum})


# intent type → builder(intent, station) -> intents.Call
BUILDERS: dict[type, Callable[..., Call]] = {
    intents.SetChargingProfile: _set_charging_profile,
    intents.ClearChargingProfile: _clear_charging_profile,
    intents.GetCompositeSchedule: _get_composite_schedule,
    intents.GetChargingProfiles: _get_charging_profiles,
    intents.UpdateFirmware: _update_firmware,
    intents.SetNetworkProfile: _set_network_profile,
    intents.PublishFirmware: _publish_firmware,
    intents.UnpublishFirmware: _unpublish_firmware,
}
