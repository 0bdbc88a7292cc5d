"""OCPI 2.2.1 Locations, sender interface of our CPO role: our roaming sites, pulled and pushed.

Partners GET the list (paginated, filtered on last_updated) or one location, EVSE or
connector. Pushes go through the outbox (`roaming.ocpi.push`) under two kinds of keys:
"<site id>" owes the whole Location (PUT), "<site id>/<EVSE uid>" owes one EVSE's status
(PATCH; a whole PUT while the partner never had the location; REMOVED once the site is no
longer published or the EVSE no longer at it). roaming/publishing.py plans them.
"""

from django.db.models import F, Max, Prefetch, Q
from django.db.models.functions import Coalesce, Greatest
from django.urls import path, re_path
from django.utils import timezone

from roaming.choices import InterfaceRole, Module, PushStatus
from roaming.models import OcpiPush
from roaming.ocpi import push
from roaming.ocpi.client import module_url
from roaming.ocpi.server import OcpiView, paginate
from roaming.ocpi.status import UNKNOWN_LOCATION, not_found
from roaming.ocpi.v221 import schemas
from roaming.ocpi.v221.mapping import (
    REMOVED,
    connector_status,
    connector_to_ocpi,
    cpo_party,
    evse_groups,
    evse_last_updated,
    evse_status_patch,
    evse_to_ocpi,
    location_to_ocpi,
    site_stations,
    tariff_ids_for,
)
from stations.choices import RegistrationStatus
from stations.models import ChargingStation, Connector, Site

LAST_UPDATED = "ocpi_last_updated"


def published_sites(organization_id: int):
    """The organization's published sites, each with its computed last_updated, ready to map."""
    counted = Q(
        stations__organization_id=F("organization_id"),
        stations__registration_status=RegistrationStatus.ACCEPTED,
    )
    stations = (
        ChargingStation.objects.filter(
            organization_id=organization_id, registration_status=RegistrationStatus.ACCEPTED
        )
        .order_by("ocpp_id")
        .prefetch_related(
            Prefetch(
                "connectors",
                queryset=Connector.objects.select_related("evse").order_by("connector_id"),
            )
        )
    )
    return (
        Site.objects.filter(
            organization_id=organization_id,
            roaming_enabled=True,
            latitude__isnull=False,
            longitude__isnull=False,
        )
        .select_related("organization")
        .annotate(
            **{
                LAST_UPDATED: Greatest(
                    "updated",
                    Coalesce(Max("stations__updated", filter=counted), "updated"),
                    Coalesce(Max("stations__connectors__status_at", filter=counted), "updated"),
                )
            }
        )
        .prefetch_related(Prefetch("stations", queryset=stations))
        .order_by("pk")
    )


def find_evse(site: Site, uid: str):
    """(station, connectors) of the site's published EVSE with that uid, or None."""
    for station in site_stations(site):
        connectors = evse_groups(station, station.connectors.all()).get(uid)
        if connectors:
            return station, connectors
    return None


def location_key(site_id) -> str:
    """The outbox key of a whole Location."""
    return str(site_id)


def evse_key(site_id, uid: str) -> str:
    """The outbox key of one EVSE's status."""
    return f"{site_id}/{uid}"


class LocationsView(OcpiView):
    """GET our published locations: the list, one location, one EVSE, one connector."""

    module = Module.LOCATIONS
    http_method_names = ["get"]

    def get(self, request, location_id=None, evse_uid=None, connector_id=None):
        cpo_party(self.profile)
        sites = published_sites(self.organization.pk)
        if location_id is None:
            return paginate(
                request,
                sites,
                lambda site: location_to_ocpi(site, self.profile, self.partner),
                date_field=LAST_UPDATED,
            )
        site = sites.filter(pk=int(location_id)).first() if location_id.isdigit() else None
        if site is None:
            raise not_found(UNKNOWN_LOCATION, f"Unknown location {location_id}.")
        if evse_uid is None:
            return location_to_ocpi(site, self.profile, self.partner)
        found = find_evse(site, evse_uid)
        if found is None:
            raise not_found(UNKNOWN_LOCATION, f"Unknown EVSE {evse_uid} at {location_id}.")
        station, connectors = found
        party = (self.profile.country_code, self.profile.party_id)
        tariff_ids = tariff_ids_for(self.partner)
        if connector_id is None:
            return evse_to_ocpi(station, connectors, party, tariff_ids)
        moment = evse_last_updated(station, connectors)
        for connector in connectors:
            published = connector_to_ocpi(connector, moment, tariff_ids)
            if published["id"] == connector_id:
                return published
        raise not_found(UNKNOWN_LOCATION, f"Unknown connector {connector_id} of {evse_uid}.")


def build_push(owed: OcpiPush, profile) -> push.Call | None:
    """The Location (PUT) or EVSE status (PATCH) owed to a partner, as things stand now."""
    if not profile.cpo_enabled:
        return None
    partner = owed.partner
    base = partner.endpoint(Module.LOCATIONS, InterfaceRole.RECEIVER)
    cc, pid = profile.country_code, profile.party_id
    site_id, _, uid = owed.object_key.partition("/")
    site = published_sites(partner.organization_id).filter(pk=int(site_id)).first()
    found = find_evse(site, uid) if site is not None and uid else None
    # A status the partner could not place (it never had the location) comes as the location.
    whole = site is not None and (not uid or (found and not _location_sent(partner, site_id)))
    if whole:
        body = schemas.check("Location", location_to_ocpi(site, profile, partner))
        return push.Call("PUT", module_url(base, cc, pid, site_id), body)
    if not uid:
        # The site is not published (any more): the pushes of its EVSEs say REMOVED.
        return None
    if found is None:
        body = evse_status_patch(REMOVED, timezone.now())
    else:
        station, connectors = found
        status = connector_status(station, connectors)
        body = evse_status_patch(status, evse_last_updated(station, connectors))
    schemas.check("EVSE", body, partial=True)
    return push.Call("PATCH", module_url(base, cc, pid, site_id, uid), body)


def _location_sent(partner, site_id) -> bool:
    """Whether we ever pushed the location to the partner (an EVSE push may have carried it)."""
    about_site = Q(object_key=location_key(site_id)) | Q(object_key__startswith=f"{site_id}/")
    return (
        OcpiPush.objects.filter(partner=partner, module=Module.LOCATIONS, status=PushStatus.SENT)
        .filter(about_site)
        .exists()
    )


push.register_builder(Module.LOCATIONS, build_push)

_view = LocationsView.as_view()
urlpatterns = [
    path("", _view, name="cpo-locations"),
    re_path(r"^(?P<location_id>[^/]+)/?$", _view),
    re_path(r"^(?P<location_id>[^/]+)/(?P<evse_uid>[^/]+)/?$", _view),
    re_path(r"^(?P<location_id>[^/]+)/(?P<evse_uid>[^/]+)/(?P<connector_id>[^/]+)/?$", _view),
]
