"""Business rules of organizations: may this id token charge at this station?"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from ocpp_gateway.utils import format_ocpp_datetime
from organizations.choices import IdTokenStatus
from organizations.models import IdToken, normalize_uid
from sessions_app.choices import AuthorizationStatus, SessionState
from sessions_app.models import ChargingSession
from stations.models import ChargingStation, Connector, Site


@dataclass(frozen=True)
class AuthorizationResult:
    """The answer to "may this id tag charge here?", in OCPP 1.6 idTagInfo terms."""

    status: str
    id_token: IdToken | None = None
    expiry_date: datetime | None = None
    parent_id_tag: str = ""

    @classmethod
    def for_token(cls, status: str, id_token: IdToken | None) -> "AuthorizationResult":
        """A result with the given status that carries the card's expiry and parent, if any."""
        if id_token is None:
            return cls(status=status)
        return cls(
            status=status,
            id_token=id_token,
            expiry_date=id_token.expires_at,
            parent_id_tag=id_token.parent_id_tag,
        )

    @property
    def accepted(self) -> bool:
        """Whether the station may deliver energy for this id tag."""
        return self.status == AuthorizationStatus.ACCEPTED

    def as_id_tag_info(self) -> dict:
        """The OCPP 1.6 idTagInfo object; absent optional keys are left out, not null."""
        info = {"status": str(self.status)}
        if self.expiry_date is not None:
            info["expiryDate"] = format_ocpp_datetime(self.expiry_date)
        if self.parent_id_tag:
            info["parentIdTag"] = self.parent_id_tag
        return info


def card_standing(token: IdToken, now) -> str:
    """The card's own status: Blocked, Expired (by status or date) or Accepted."""
    if token.status == IdTokenStatus.BLOCKED:
        return AuthorizationStatus.BLOCKED
    if token.status == IdTokenStatus.EXPIRED or (
        token.expires_at is not None and token.expires_at <= now
    ):
        return AuthorizationStatus.EXPIRED
    return AuthorizationStatus.ACCEPTED


def authorize_id_tag(
    station: ChargingStation,
    id_tag: str,
    *,
    for_start: bool = False,
    connector: Connector | None = None,
) -> AuthorizationResult:
    """Decide whether an id tag may charge at a station, in one query (stations do this a lot)."""
    uid = normalize_uid(id_tag or "")
    if not uid:
        return AuthorizationResult(status=AuthorizationStatus.INVALID)

    # The organization and the site are reached through the station's row, not the instance
    # the connection loaded: an assignment made while the station is connected counts at once,
    # and a station of the unassigned pool (no organization) matches no card at all.
    station_groups = ChargingStation.access_groups.through.objects.filter(
        chargingstation_id=station.pk
    ).values("accessgroup_id")
    site_groups = Site.access_groups.through.objects.filter(site__stations=station.pk).values(
        "accessgroup_id"
    )
    in_allowed_group = IdToken.access_groups.through.objects.filter(
        idtoken_id=OuterRef("pk")
    ).filter(Q(accessgroup_id__in=station_groups) | Q(accessgroup_id__in=site_groups))
    tokens = IdToken.objects.filter(uid=uid, organization__stations=station.pk).annotate(
        in_allowed_group=Exists(in_allowed_group)
    )
    if for_start:
        active = ChargingSession.objects.filter(id_token=OuterRef("pk"), state=SessionState.ACTIVE)
        if connector is not None:
            # An active session left on the connector being started is superseded by this
            # start (the station lost it, e.g. in a reboot); it must not count against the card.
            active = active.exclude(connector=connector)
        active_count = active.order_by().values("id_token").annotate(n=Count("pk")).values("n")
        tokens = tokens.annotate(
            active_sessions=Coalesce(
                Subquery(active_count[:1], output_field=IntegerField()), Value(0)
            )
        )
    token = tokens.first()

    if token is None:
        # Unknown and another organization's card look the same: nothing leaks across tenants.
        return AuthorizationResult(status=AuthorizationStatus.INVALID)
    status = card_standing(token, timezone.now())
    if status == AuthorizationStatus.ACCEPTED and not token.in_allowed_group:
        status = AuthorizationStatus.INVALID
    elif (
        status == AuthorizationStatus.ACCEPTED
        and for_start
        and token.max_concurrent_transactions is not None
        and token.active_sessions >= token.max_concurrent_transactions
    ):
        status = AuthorizationStatus.CONCURRENT_TX
    return AuthorizationResult.for_token(status, token)
