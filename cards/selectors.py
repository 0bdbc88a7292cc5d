"""Reads of the cards app for other pages: can any card charge at a site or a station?"""

from dataclasses import dataclass

from django.db.models import Exists, Q
from django.utils import timezone

from cards.choices import IdTokenStatus
from cards.models import AccessGroup, IdToken
from stations.models import ChargingStation, Site

SITE_GROUPS = Site.access_groups.through
STATION_GROUPS = ChargingStation.access_groups.through
CARD_GROUPS = IdToken.access_groups.through


@dataclass(frozen=True)
class CardReach:
    """Whether access groups open a place, and whether they hold a card that may charge now."""

    # "site" or "station": what the page shows, for its wording and its link.
    place: str
    has_groups: bool
    has_active_cards: bool

    @property
    def closed(self) -> bool:
        """No card of the organization can start charging here."""
        return not self.has_active_cards


def _reach(place: str, row_model, pk: int, site_groups, station_groups) -> CardReach:
    """One query: does any group open the place, and does any of them hold an active card?"""
    # Both answers as EXISTS columns of the place's own row, so the page pays one query.
    now = timezone.now()
    opening = Q(accessgroup_id__in=site_groups) | Q(accessgroup_id__in=station_groups)
    # The standing of cards.services.card_standing, as a filter: Accepted and not past expiry.
    active = CARD_GROUPS.objects.filter(opening, idtoken__status=IdTokenStatus.ACCEPTED).filter(
        Q(idtoken__expires_at__isnull=True) | Q(idtoken__expires_at__gt=now)
    )
    groups = AccessGroup.objects.filter(Q(pk__in=site_groups) | Q(pk__in=station_groups))
    has_groups, has_cards = (
        row_model.objects.filter(pk=pk)
        .annotate(has_groups=Exists(groups), has_cards=Exists(active))
        .values_list("has_groups", "has_cards")
        .get()
    )
    return CardReach(place=place, has_groups=has_groups, has_active_cards=has_cards)


def site_card_reach(site: Site) -> CardReach:
    """Cards reach a site through its own groups or those of any of its stations."""
    return _reach(
        "site",
        Site,
        site.pk,
        SITE_GROUPS.objects.filter(site_id=site.pk).values("accessgroup_id"),
        STATION_GROUPS.objects.filter(chargingstation__site_id=site.pk).values("accessgroup_id"),
    )


def station_card_reach(station: ChargingStation) -> CardReach:
    """Cards reach a station through its own groups or its site's, as authorization reads it."""
    return _reach(
        "station",
        ChargingStation,
        station.pk,
        SITE_GROUPS.objects.filter(site__stations=station.pk).values("accessgroup_id"),
        STATION_GROUPS.objects.filter(chargingstation_id=station.pk).values("accessgroup_id"),
    )


def site_access_notice(site, organization) -> dict:
    """Every tab of a site page (stations.pages): whether cards can charge there."""
    return {"card_reach": site_card_reach(site)}


def station_access_panel(view) -> dict:
    """The station page (stations.pages): whether cards can charge there."""
    return {"card_reach": station_card_reach(view.get_station())}
