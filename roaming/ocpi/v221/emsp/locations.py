"""OCPI 2.2.1 Locations, receiver interface of our eMSP role: CPO partners push their locations.

`{url}/{country_code}/{party_id}/{location_id}[/{evse_uid}[/{connector_id}]]`: GET, PUT and
PATCH at each of the three levels. A PUT of an EVSE or connector replaces that part inside the
stored location, a PATCH merges into it; either stamps the parents with the part's
`last_updated`, as OCPI asks. A part of a location we do not have is 2003 (unknown location).
"""

from django.urls import re_path

from roaming.choices import Module
from roaming.models import PartnerLocation
from roaming.ocpi.server import Answer
from roaming.ocpi.status import UNKNOWN_LOCATION, not_found
from roaming.ocpi.v221 import schemas
from roaming.ocpi.v221.receiving import (
    ReceiverView,
    change_location,
    child,
    find,
    same_object,
    store_location,
)


class LocationView(ReceiverView):
    """GET, PUT and PATCH a partner's location, one of its EVSEs, or one of their connectors."""

    module = Module.LOCATIONS
    http_method_names = ["get", "put", "patch"]

    def get(self, request, country_code, party_id, location_id, evse_uid=None, connector_id=None):
        party = self.owner(country_code, party_id)
        row = find(PartnerLocation, self.partner, *party, location_id)
        if row is None:
            raise not_found(UNKNOWN_LOCATION, f"Unknown location {location_id}.")
        if evse_uid is None:
            return row.data
        evse = child(row.data.get("evses"), "uid", evse_uid)
        if evse is None:
            raise not_found(UNKNOWN_LOCATION, f"Unknown EVSE {evse_uid}.")
        if connector_id is None:
            return evse
        connector = child(evse.get("connectors"), "id", connector_id)
        if connector is None:
            raise not_found(UNKNOWN_LOCATION, f"Unknown connector {connector_id}.")
        return connector

    def put(self, request, country_code, party_id, location_id, evse_uid=None, connector_id=None):
        party = self.owner(country_code, party_id)
        body = self.body_object()
        if evse_uid is None:
            schemas.check("Location", body)
            same_object(body, party, {"id": location_id})
            _row, created = store_location(self.partner, body, profile=self.profile)
        else:
            name, ids = self._part(evse_uid, connector_id)
            body = self.body_object(required=(*ids, "last_updated"))
            schemas.check(name, body)
            same_object(body, party, ids)
            created = change_location(
                self.partner,
                party,
                location_id,
                body,
                evse_uid=evse_uid,
                connector_id=connector_id,
            )
        return Answer(None, http_status=201 if created else 200)

    def patch(self, request, country_code, party_id, location_id, evse_uid=None, connector_id=None):
        party = self.owner(country_code, party_id)
        # OCPI: every PATCH carries last_updated (2001 without it).
        body = self.body_object(required=("last_updated",))
        _name, ids = self._part(evse_uid, connector_id)
        # Checked once merged, as a whole: a PATCH may name an EVSE or connector by its id
        # with only the fields that changed, which no partial schema of the parent accepts.
        same_object(body, party, {"id": location_id} if evse_uid is None else ids)
        change_location(
            self.partner,
            party,
            location_id,
            body,
            evse_uid=evse_uid,
            connector_id=connector_id,
            patch=True,
        )
        return Answer(None)

    @staticmethod
    def _part(evse_uid, connector_id) -> tuple[str, dict]:
        """The OCPI object a URL names below the location, and its id as the URL gives it."""
        if evse_uid is None:
            return "Location", {}
        if connector_id is None:
            return "EVSE", {"uid": evse_uid}
        return "Connector", {"id": connector_id}


urlpatterns = [
    re_path(
        r"^(?P<country_code>[^/]+)/(?P<party_id>[^/]+)/(?P<location_id>[^/]+)"
        r"(?:/(?P<evse_uid>[^/]+)(?:/(?P<connector_id>[^/]+))?)?/?$",
        LocationView.as_view(),
        name="emsp-location",
    ),
]
