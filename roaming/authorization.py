"""The roaming authorizer: tokens eMSP partners published, at our roaming sites, as OCPI says.

Asked only for a uid no local card has (sessions_app.authorization runs the chain). A token
counts at a station whose site has roaming switched on, of a partner of the station's own
organization that is registered (active), while the organization plays the CPO role; one
query finds it, so an unknown card costs one query here.

How the token's `whitelist` decides (OCPI 2.2.1 WhitelistType):

- ALWAYS: never asked in real time; the token as published (`valid`) decides.
- ALLOWED: we may choose; we ask the eMSP in real time (its answer decides) and fall back to
  the token as published when no answer comes.
- ALLOWED_OFFLINE: real time "in normal situations"; only "when the CPO cannot get a response
  from the eMSP" is the token allowed without it. No response (unreachable, timeout, or an
  error instead of an AuthorizationInfo) falls back to the token as published, as ALWAYS
  does: "allow" is read as "whitelist", so a token the eMSP published as invalid stays refused.
  With our choice for ALLOWED, the two behave alike.
- NEVER: real time only; no answer refuses.

The eMSP not knowing the token (HTTP 404 / 2004) refuses it, whatever the whitelist. A real-
time answer is reused for a few minutes at the same station, so an OCPP 1.6 Authorize and the
StartTransaction that follows ask once, and the session keeps the authorization_reference
given for that Authorize. Within 15 minutes of the partner's own START_SESSION or RESERVE_NOW
for the token at the station, the token is accepted without asking (OCPI: the eMSP authorized
it when it sent the command; the CPO SHALL NOT ask again), with the command's reference.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Case, Value, When
from django.utils import timezone

from cards.models import normalize_uid
from roaming.choices import (
    CommandResultType,
    CommandType,
    InterfaceRole,
    Module,
    PartnerStatus,
    TokenType,
    WhitelistType,
)
from roaming.models import RoamingCommand, RoamingToken
from roaming.ocpi.client import OcpiClient, PartnerError, module_url
from roaming.ocpi.status import UNKNOWN_TOKEN
from roaming.ocpi.v221 import mapping, schemas
from sessions_app.authorization import AuthorizationResult
from sessions_app.choices import AuthorizationStatus
from stations.models import ChargingStation, Connector

logger = logging.getLogger(__name__)

# How long a real-time answer stands for the same token at the same station.
REALTIME_REUSE = timedelta(minutes=5)
# OCPI 2.2.1 (StartSession, ReserveNow): no real-time authorization for the command's token
# at its charge point within 15 minutes of the command.
COMMAND_GRACE = timedelta(minutes=15)
# OCPP 1.6 carries a parentIdTag of 20 characters at most.
PARENT_ID_TAG_MAX = 20

# OCPI AllowedType → our status (OCPP has no "no credit" or "not here": both refuse).
ALLOWED = {
    "ALLOWED": AuthorizationStatus.ACCEPTED,
    "BLOCKED": AuthorizationStatus.BLOCKED,
    "EXPIRED": AuthorizationStatus.EXPIRED,
    "NO_CREDIT": AuthorizationStatus.INVALID,
    "NOT_ALLOWED": AuthorizationStatus.INVALID,
}
# Marks a token the eMSP says it does not know.
UNKNOWN = "unknown"


def _token(station: ChargingStation, uid: str) -> RoamingToken | None:
    """The partner token with this uid that may be asked about at this station (one query)."""
    roaming_station = ChargingStation.objects.filter(
        pk=station.pk, site__roaming_enabled=True
    ).values("organization_id")
    return (
        RoamingToken.objects.filter(
            uid=uid,
            organization_id__in=roaming_station,
            partner__status=PartnerStatus.ACTIVE,
            organization__roaming_profile__cpo_enabled=True,
        )
        .select_related("partner", "organization__roaming_profile")
        # A uid a station reads is an RFID first; then the newest.
        .order_by(
            Case(When(type=TokenType.RFID, then=Value(0)), default=Value(1)),
            "-last_updated",
            "pk",
        )
        .first()
    )


def _result(token: RoamingToken, status: str, reference: str = "") -> AuthorizationResult:
    group = normalize_uid(token.group_id)
    return AuthorizationResult(
        status=status,
        parent_id_tag=group if len(group) <= PARENT_ID_TAG_MAX else "",
        roaming_partner_id=token.partner_id,
        authorization_reference=reference[:36],
    )


def _as_published(token: RoamingToken) -> AuthorizationResult:
    return _result(
        token, AuthorizationStatus.ACCEPTED if token.valid else AuthorizationStatus.INVALID
    )


def _commanded(token: RoamingToken, station: ChargingStation) -> RoamingCommand | None:
    """The partner's recent START_SESSION or RESERVE_NOW for this token at this station."""
    return (
        RoamingCommand.objects.filter(
            partner_id=token.partner_id,
            station=station,
            command__in=(CommandType.START_SESSION, CommandType.RESERVE_NOW),
            result__in=(CommandResultType.PENDING, CommandResultType.ACCEPTED),
            created__gte=timezone.now() - COMMAND_GRACE,
            request__token__uid__iexact=token.uid,
        )
        .order_by("-created", "-pk")
        .first()
    )


def _location(station: ChargingStation, connector: Connector | None) -> dict:
    """OCPI LocationReferences of the station (or the connector) asked about."""
    connectors = [connector] if connector is not None else list(station.connectors.all())
    uids = list(dict.fromkeys(mapping.evse_uid(c) for c in connectors))
    return {"location_id": str(station.site_id), "evse_uids": uids}


def _ask(token: RoamingToken, station: ChargingStation, connector: Connector | None):
    """The eMSP's real-time answer: (status, reference), UNKNOWN, or None when none came."""
    key = f"roaming:authorized:{token.pk}:{station.pk}"
    reused = cache.get(key)
    if reused is not None:
        return reused
    partner = token.partner
    base = partner.endpoint(Module.TOKENS, InterfaceRole.SENDER)
    if not base:
        return None
    profile = getattr(token.organization, "roaming_profile", None)
    references = _location(station, connector)
    try:
        reply = OcpiClient(
            partner, our_party=(profile.country_code, profile.party_id) if profile else None
        ).request(
            "POST",
            module_url(base, token.data.get("uid") or token.uid, "authorize"),
            module=Module.TOKENS,
            body=references,
            params={"type": token.type},
            timeout=settings.OCPI_AUTHORIZE_TIMEOUT,
        )
    except PartnerError as failure:
        if failure.http_status == 404 or failure.ocpi_status == UNKNOWN_TOKEN:
            return UNKNOWN
        logger.warning("Real-time authorization of %s at %s failed: %s", token, partner, failure)
        return None
    info = reply.data
    if isinstance(info, list) and len(info) == 1:
        # Some implementations (py_ocpi) wrap the one AuthorizationInfo in a list.
        info = info[0]
    problems = schemas.errors("AuthorizationInfo", info) if isinstance(info, dict) else ["none"]
    if problems or info.get("allowed") not in ALLOWED:
        logger.warning("%s answered no AuthorizationInfo: %s", partner, "; ".join(problems))
        return None
    status = ALLOWED[info["allowed"]]
    allowed_here = (info.get("location") or {}).get("evse_uids") or []
    # Only the EVSEs the driver may use come back: none of ours means not here.
    if (
        status == AuthorizationStatus.ACCEPTED
        and allowed_here
        and not set(allowed_here) & set(references["evse_uids"])
    ):
        status = AuthorizationStatus.INVALID
    answer = (status, str(info.get("authorization_reference") or ""))
    cache.set(key, answer, timeout=REALTIME_REUSE.total_seconds())
    return answer


def roaming_tokens(
    station: ChargingStation, uid: str, *, for_start: bool, connector: Connector | None
) -> AuthorizationResult | None:
    """The answer for a token an eMSP partner published; None for any other uid."""
    token = _token(station, uid)
    if token is None:
        return None
    command = _commanded(token, station)
    if command is not None:
        return _result(
            token,
            AuthorizationStatus.ACCEPTED,
            str(command.request.get("authorization_reference") or ""),
        )
    if token.whitelist == WhitelistType.ALWAYS:
        return _as_published(token)
    answer = _ask(token, station, connector)
    if answer == UNKNOWN:
        return _result(token, AuthorizationStatus.INVALID)
    if answer is not None:
        return _result(token, *answer)
    if token.whitelist == WhitelistType.NEVER:
        return _result(token, AuthorizationStatus.INVALID)
    return _as_published(token)
