"""OCPI 2.2.1 CDRs, receiver interface of our eMSP role: what our drivers' sessions cost.

POST `{url}` with a CDR stores it and answers 201 with a `Location` header where the CPO can
GET it back (`{url}/{country_code}/{party_id}/{cdr_id}`: OCPI leaves that URL to us). CDRs
never change in OCPI: a CDR posted again with the same id is kept as first received and the
answer is 200, success, with the same `Location`.
"""

from urllib.parse import quote

from django.urls import path, re_path

from roaming.choices import Module
from roaming.models import PartnerCdr
from roaming.ocpi import registration
from roaming.ocpi.server import Answer
from roaming.ocpi.status import CLIENT_ERROR, not_found
from roaming.ocpi.v221 import VERSION, schemas
from roaming.ocpi.v221.receiving import ReceiverView, find, store_cdr


def cdr_url(organization, cdr: PartnerCdr) -> str:
    """Where the CPO reads a CDR it posted back from us."""
    parts = "/".join(quote(part, safe="") for part in (cdr.country_code, cdr.party_id, cdr.ocpi_id))
    return f"{registration.version_url(organization, VERSION)}emsp/cdrs/{parts}"


class CdrPostView(ReceiverView):
    """POST a new CDR of one of our drivers' sessions."""

    module = Module.CDRS
    http_method_names = ["post"]

    def post(self, request):
        self.require_emsp()
        body = self.body_object(required=("country_code", "party_id", "id"))
        schemas.check("CDR", body)
        # The CDR's owner is in the object itself: it must be a party the partner speaks for.
        self.owner(str(body["country_code"]), str(body["party_id"]))
        row, created = store_cdr(self.partner, body, profile=self.profile)
        return Answer(
            None,
            http_status=201 if created else 200,
            headers={"Location": cdr_url(self.organization, row)},
        )


class CdrView(ReceiverView):
    """GET a CDR the partner posted, at the URL our POST answer gave it."""

    module = Module.CDRS
    http_method_names = ["get"]

    def get(self, request, country_code, party_id, cdr_id):
        party = self.owner(country_code, party_id)
        row = find(PartnerCdr, self.partner, *party, cdr_id)
        if row is None:
            raise not_found(CLIENT_ERROR, f"Unknown CDR {cdr_id}.")
        return row.data


urlpatterns = [
    path("", CdrPostView.as_view(), name="emsp-cdrs"),
    re_path(
        r"^(?P<country_code>[^/]+)/(?P<party_id>[^/]+)/(?P<cdr_id>[^/]+)/?$",
        CdrView.as_view(),
        name="emsp-cdr",
    ),
]
