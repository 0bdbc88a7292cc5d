"""OCPP 2.0.1 shapes of the platform's neutral values: id tokens, charging profiles, local lists."""

from collections.abc import Mapping
from decimal import Decimal

from ocpp_gateway.utils import format_ocpp_datetime, parse_ocpp_datetime
from ocpp_gateway.v16.formats import schedule_periods
from sessions_app.authorization import AuthorizationResult
from sessions_app.choices import AuthorizationStatus
from stations.choices import ChargingProfilePurpose
from stations.models import ChargingProfile

parse_datetime = parse_ocpp_datetime
format_datetime = format_ocpp_datetime

# 2.0.1 IdToken is an identifierString of up to 36 characters, and carries its type.
ID_TOKEN_MAX_LENGTH = 36
# The type a card has when the platform knows no better: most cards are RFID (ISO 14443).
DEFAULT_ID_TOKEN_TYPE = "ISO14443"
# A group id token (the 1.6 parent id tag) is the platform's own identifier of the group.
GROUP_ID_TOKEN_TYPE = "Central"
AUTHORIZATION_STATUS = {
    AuthorizationStatus.ACCEPTED: "Accepted",
    AuthorizationStatus.BLOCKED: "Blocked",
    AuthorizationStatus.EXPIRED: "Expired",
    AuthorizationStatus.INVALID: "Invalid",
    AuthorizationStatus.CONCURRENT_TX: "ConcurrentTx",
}
# The platform's (1.6-named) purposes → 2.0.1's, and back.
PROFILE_PURPOSE = {
    ChargingProfilePurpose.CHARGE_POINT_MAX: "ChargingStationMaxProfile",
    ChargingProfilePurpose.TX_DEFAULT: "TxDefaultProfile",
    ChargingProfilePurpose.TX: "TxProfile",
}
PURPOSE_OF = {value: key for key, value in PROFILE_PURPOSE.items()}
_ONE_DECIMAL = Decimal("0.1")


def id_token(uid: str, token_type: str = DEFAULT_ID_TOKEN_TYPE) -> dict:
    """An IdTokenType object."""
    return {"idToken": uid, "type": token_type}


def id_token_info(result: AuthorizationResult) -> dict:
    """The idTokenInfo object; absent optional keys are left out, not null."""
    info = {"status": AUTHORIZATION_STATUS.get(result.status, str(result.status))}
    if result.expires_at is not None:
        # The station keeps the answer in its cache no longer than the card is valid.
        info["cacheExpiryDateTime"] = format_ocpp_datetime(result.expires_at)
    if result.parent_id_tag:
        info["groupIdToken"] = id_token(result.parent_id_tag, GROUP_ID_TOKEN_TYPE)
    return info


def charging_profile(
    profile: ChargingProfile, charging_profile_id: int, transaction_id: str | None = None
) -> dict:
    """The ChargingProfileType object of a profile; absent optional keys are left out."""
    if transaction_id is not None and profile.purpose != ChargingProfilePurpose.TX:
        raise ValueError("Only a TxProfile carries a transactionId.")
    periods = schedule_periods(profile)
    # 2.0.1 gives each schedule an id; a profile here has one schedule, so the profile's id.
    schedule = {
        "id": charging_profile_id,
        "chargingRateUnit": profile.charging_rate_unit,
        "chargingSchedulePeriod": periods,
    }
    if profile.duration is not None:
        schedule["duration"] = profile.duration
    if profile.start_schedule is not None:
        schedule["startSchedule"] = format_ocpp_datetime(profile.start_schedule)
    if profile.min_charging_rate is not None:
        schedule["minChargingRate"] = float(profile.min_charging_rate)
    shaped = {
        "id": charging_profile_id,
        "stackLevel": profile.stack_level,
        "chargingProfilePurpose": PROFILE_PURPOSE[ChargingProfilePurpose(profile.purpose)],
        "chargingProfileKind": profile.kind,
    }
    if transaction_id is not None:
        shaped["transactionId"] = transaction_id
    if profile.recurrency_kind:
        shaped["recurrencyKind"] = profile.recurrency_kind
    if profile.valid_from is not None:
        shaped["validFrom"] = format_ocpp_datetime(profile.valid_from)
    if profile.valid_to is not None:
        shaped["validTo"] = format_ocpp_datetime(profile.valid_to)
    shaped["chargingSchedule"] = [schedule]
    return shaped


def local_list_entries(authorizations: Mapping[str, AuthorizationResult]) -> dict[str, dict]:
    """idToken → idTokenInfo of every card, in the order given (every uid fits 2.0.1's 36)."""
    return {uid: id_token_info(result) for uid, result in authorizations.items()}


def local_list_changes(held: Mapping[str, dict], wanted: Mapping[str, dict]) -> list[dict]:
    """Differential entries from `held` to `wanted`; an entry without idTokenInfo deletes it."""
    changes = []
    for uid in sorted(held.keys() | wanted.keys()):
        if uid not in wanted:
            changes.append({"idToken": id_token(uid)})
        elif held.get(uid) != wanted[uid]:
            changes.append({"idToken": id_token(uid), "idTokenInfo": wanted[uid]})
    return changes
