"""OCPI 2.2.1 Tariffs, receiver interface of our eMSP role: what partners charge our drivers.

`{url}/{country_code}/{party_id}/{tariff_id}`: GET, PUT (new or replaced), DELETE (no longer
used); Tariffs have no PATCH in 2.2.1.
"""

from django.urls import re_path

from roaming.choices import Module
from roaming.models import PartnerTariff
from roaming.ocpi.server import Answer
from roaming.ocpi.status import CLIENT_ERROR, not_found
from roaming.ocpi.v221 import schemas
from roaming.ocpi.v221.receiving import ReceiverView, find, same_object, store_tariff


class TariffView(ReceiverView):
    """GET, PUT and DELETE a tariff of a CPO partner."""

    module = Module.TARIFFS
    http_method_names = ["get", "put", "delete"]

    def get(self, request, country_code, party_id, tariff_id):
        party = self.owner(country_code, party_id)
        row = find(PartnerTariff, self.partner, *party, tariff_id)
        if row is None:
            raise not_found(CLIENT_ERROR, f"Unknown tariff {tariff_id}.")
        return row.data

    def put(self, request, country_code, party_id, tariff_id):
        party = self.owner(country_code, party_id)
        body = self.body_object()
        schemas.check("Tariff", body)
        same_object(body, party, {"id": tariff_id})
        _row, created = store_tariff(self.partner, body, profile=self.profile)
        return Answer(None, http_status=201 if created else 200)

    def delete(self, request, country_code, party_id, tariff_id):
        party = self.owner(country_code, party_id)
        row = find(PartnerTariff, self.partner, *party, tariff_id)
        if row is None:
            raise not_found(CLIENT_ERROR, f"Unknown tariff {tariff_id}.")
        row.delete()
        return Answer(None)


urlpatterns = [
    re_path(
        r"^(?P<country_code>[^/]+)/(?P<party_id>[^/]+)/(?P<tariff_id>[^/]+)/?$",
        TariffView.as_view(),
        name="emsp-tariff",
    ),
]
