"""OCPP 1.6 shapes of the platform's neutral values: idTagInfo, charging profiles, local lists."""

import logging
from collections.abc import Mapping
from decimal import Decimal

from ocpp_gateway.utils import format_ocpp_datetime, parse_ocpp_datetime
from sessions_app.authorization import AuthorizationResult
from sessions_app.choices import AuthorizationStatus
from stations.choices import ChargingProfilePurpose
from stations.models import ChargingProfile

logger = logging.getLogger(__name__)

# Dates are RFC 3339 in every OCPP-J version: one parser and one formatter (ocpp_gateway.utils).
parse_datetime = parse_ocpp_datetime
format_datetime = format_ocpp_datetime

# 1.6 IdToken is a CiString20: longer uids and parents cannot go into an idTag field.
ID_TAG_MAX_LENGTH = 20
# The neutral authorization status → 1.6 AuthorizationStatus.
AUTHORIZATION_STATUS = {
    AuthorizationStatus.ACCEPTED: "Accepted",
    AuthorizationStatus.BLOCKED: "Blocked",
    AuthorizationStatus.EXPIRED: "Expired",
    AuthorizationStatus.INVALID: "Invalid",
    AuthorizationStatus.CONCURRENT_TX: "ConcurrentTx",
}
_ONE_DECIMAL = Decimal("0.1")


def id_tag_info(result: AuthorizationResult) -> dict:
    """The idTagInfo object; absent optional keys are left out, not null."""
    # A stored status outside the table (a retransmitted start of an old session) goes as is.
    info = {"status": AUTHORIZATION_STATUS.get(result.status, str(result.status))}
    if result.expires_at is not None:
        info["expiryDate"] = format_ocpp_datetime(result.expires_at)
    if result.parent_id_tag:
        info["parentIdTag"] = result.parent_id_tag
    return info


def charging_profile(
    profile: ChargingProfile, charging_profile_id: int, transaction_id: int | None = None
) -> dict:
    """The csChargingProfiles object of a profile; absent optional keys are left out."""
    if transaction_id is not None and profile.purpose != ChargingProfilePurpose.TX:
        raise ValueError("Only a TxProfile carries a transactionId.")
    periods = schedule_periods(profile)
    schedule = {"chargingRateUnit": profile.charging_rate_unit, "chargingSchedulePeriod": periods}
    if profile.duration is not None:
        schedule["duration"] = profile.duration
    if profile.start_schedule is not None:
        schedule["startSchedule"] = format_ocpp_datetime(profile.start_schedule)
    if profile.min_charging_rate is not None:
        schedule["minChargingRate"] = float(profile.min_charging_rate)
    shaped = {"chargingProfileId": charging_profile_id}
    if transaction_id is not None:
        shaped["transactionId"] = transaction_id
    shaped |= {
        "stackLevel": profile.stack_level,
        "chargingProfilePurpose": profile.purpose,
        "chargingProfileKind": profile.kind,
    }
    if profile.recurrency_kind:
        shaped["recurrencyKind"] = profile.recurrency_kind
    if profile.valid_from is not None:
        shaped["validFrom"] = format_ocpp_datetime(profile.valid_from)
    if profile.valid_to is not None:
        shaped["validTo"] = format_ocpp_datetime(profile.valid_to)
    shaped["chargingSchedule"] = schedule
    return shaped


def schedule_periods(profile: ChargingProfile) -> list[dict]:
    """The chargingSchedulePeriod list of a profile (the same shape in 1.6 and 2.0.1)."""
    periods = []
    for period in profile.schedule_periods:
        entry = {
            "startPeriod": period["start_period"],
            # A float, as JSON numbers go on the wire; one decimal, as the schema demands.
            "limit": float(Decimal(str(period["limit"])).quantize(_ONE_DECIMAL)),
        }
        if period.get("number_phases") is not None:
            entry["numberPhases"] = period["number_phases"]
        periods.append(entry)
    return periods


def local_list_entries(authorizations: Mapping[str, AuthorizationResult]) -> dict[str, dict]:
    """idTag → idTagInfo of every card that fits a 1.6 list, in the order given."""
    entries = {}
    for uid, result in authorizations.items():
        if len(uid) > ID_TAG_MAX_LENGTH or len(result.parent_id_tag) > ID_TAG_MAX_LENGTH:
            # Left out rather than cut: the station asks the CSMS online for such a card.
            logger.info("card %s does not fit a 1.6 local list", uid)
            continue
        entries[uid] = id_tag_info(result)
    return entries


def local_list_changes(held: Mapping[str, dict], wanted: Mapping[str, dict]) -> list[dict]:
    """Differential entries from `held` to `wanted`; an entry without idTagInfo deletes it."""
    changes = []
    for uid in sorted(held.keys() | wanted.keys()):
        if uid not in wanted:
            changes.append({"idTag": uid})
        elif held.get(uid) != wanted[uid]:
            changes.append({"idTag": uid, "idTagInfo": wanted[uid]})
    return changes
