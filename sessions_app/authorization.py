"""The authorization chain: may this id token charge at this station? Each authorizer in turn.

The answer is neutral (`AuthorizationResult`); each OCPP version formats it (1.6: idTagInfo,
in ocpp_gateway/v16/formats.py). Local cards answer first. Roaming partners' tokens and payment
sessions plug in later with `register_authorizer`, called from their app's `AppConfig.ready()`.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from cards.models import AccessGroup, IdToken, normalize_uid
from cards.services import card_standing
from core.events import emit
from sessions_app.choices import AuthorizationStatus, SessionState
from sessions_app.events import AUTHORIZATION_REJECTED
from sessions_app.models import ChargingSession
from stations.models import ChargingStation, Connector, Site


@dataclass(frozen=True, slots=True)
class AuthorizationResult:
    """The answer to "may this id token charge here?", in no protocol's terms."""

    status: str  # an AuthorizationStatus
    id_token: IdToken | None = None
    expires_at: datetime | None = None
    parent_id_tag: str = ""
    # A roaming partner's token (roaming.authorization): the session is that partner's
    # customer's, billed at its tariff; the eMSP's reference goes into the session it pushes.
    roaming_partner_id: int | None = None
    authorization_reference: str = ""

    @classmethod
    def for_token(cls, status: str, id_token: IdToken | None) -> "AuthorizationResult":
        """A result with the given status that carries the card's expiry and parent, if any."""
        if id_token is None:
            return cls(status=status)
        return cls(
            status=status,
            id_token=id_token,
            expires_at=id_token.expires_at,
            parent_id_tag=id_token.parent_id_tag,
        )

    @property
    def accepted(self) -> bool:
        """Whether the station may deliver energy for this id token."""
        return self.status == AuthorizationStatus.ACCEPTED


INVALID = AuthorizationResult(status=AuthorizationStatus.INVALID)

# `authorizer(station, uid, for_start=..., connector=...)`: the answer for a token it knows,
# or None to leave the token to the next authorizer. `uid` is normalized and never empty.
Authorizer = Callable[..., AuthorizationResult | None]


def local_cards(
    station: ChargingStation, uid: str, *, for_start: bool, connector: Connector | None
) -> AuthorizationResult | None:
    """The organization's own cards, in one query (stations ask a lot); None for any other."""
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
        return None
    status = AuthorizationStatus(card_standing(token, timezone.now()))
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


_authorizers: list[Authorizer] = [local_cards]


def register_authorizer(authorizer: Authorizer) -> None:
    """Ask `authorizer` about the tokens the ones before it do not know (from AppConfig.ready)."""
    if authorizer not in _authorizers:
        _authorizers.append(authorizer)


def unregister_authorizer(authorizer: Authorizer) -> None:
    """Stop asking `authorizer` (an app switched off, or a test that plugged one in)."""
    if authorizer in _authorizers and authorizer is not local_cards:
        _authorizers.remove(authorizer)


def authorize(
    station: ChargingStation,
    id_token_uid: str,
    *,
    for_start: bool = False,
    connector: Connector | None = None,
) -> AuthorizationResult:
    """Whether an id token may charge at a station: the first authorizer that knows it answers."""
    # for_start adds the concurrency check (ConcurrentTx); `connector` is the one being started.
    uid = normalize_uid(id_token_uid or "")
    if not uid:
        return INVALID
    for authorizer in _authorizers:
        result = authorizer(station, uid, for_start=for_start, connector=connector)
        if result is not None:
            return result
    return INVALID


def authorize_driver(
    station: ChargingStation, id_token_uid: str, *, connector: Connector | None = None
) -> AuthorizationResult:
    """A driver's token presented at the station: `authorize` for a start, refusals announced."""
    result = authorize(station, id_token_uid, for_start=True, connector=connector)
    if not result.accepted:
        # Alerting counts refusals per station (a broken reader, someone trying cards).
        emit(
            AUTHORIZATION_REJECTED,
            organization_id=station.organization_id,
            station_id=station.pk,
            status=result.status,
        )
    return result


# --- what a station may accept offline (its local authorization list) -------------------------


def authorized_tokens(station: ChargingStation) -> QuerySet[IdToken]:
    """Cards of the station's organization in a group authorized at the station or its site."""
    groups = AccessGroup.objects.filter(Q(stations=station.pk) | Q(sites__stations=station.pk))
    # The organization comes from the station's row, as in local_cards: a group of another
    # organization linked by mistake admits none of its cards here.
    return (
        IdToken.objects.filter(organization__stations=station.pk, access_groups__in=groups)
        .distinct()
        .order_by("uid")
    )


def offline_authorizations(
    station: ChargingStation, now: datetime | None = None
) -> dict[str, AuthorizationResult]:
    """uid → the answer the station may apply without asking: local cards, concurrency aside."""
    now = now or timezone.now()
    return {
        token.uid: AuthorizationResult.for_token(
            AuthorizationStatus(card_standing(token, now)), token
        )
        for token in authorized_tokens(station)
    }
