"""OCPI 2.2.1 Sessions, receiver interface of our eMSP role: our drivers' sessions at partners.

`{url}/{country_code}/{party_id}/{session_id}`: GET, PUT, PATCH. A PUT replaces the stored
session, charging periods included; a PATCH replaces the fields it names except
`charging_periods`, whose periods it adds to the stored ones (OCPI 2.2.1, Sessions PATCH).
"""

from django.urls import re_path

from roaming.choices import Module
from roaming.models import PartnerSession
from roaming.ocpi.server import Answer
from roaming.ocpi.status import CLIENT_ERROR, not_found
from roaming.ocpi.v221 import schemas
from roaming.ocpi.v221.receiving import (
    ReceiverView,
    find,
    patch_session,
    same_object,
    store_session,
)


class SessionView(ReceiverView):
    """GET, PUT and PATCH a session of one of our drivers at a CPO partner."""

    module = Module.SESSIONS
    http_method_names = ["get", "put", "patch"]

    def get(self, request, country_code, party_id, session_id):
        party = self.owner(country_code, party_id)
        row = find(PartnerSession, self.partner, *party, session_id)
        if row is None:
            raise not_found(CLIENT_ERROR, f"Unknown session {session_id}.")
        return row.data

    def put(self, request, country_code, party_id, session_id):
        party = self.owner(country_code, party_id)
        body = self.body_object()
        schemas.check("Session", body)
        same_object(body, party, {"id": session_id})
        _row, created = store_session(self.partner, body, profile=self.profile)
        return Answer(None, http_status=201 if created else 200)

    def patch(self, request, country_code, party_id, session_id):
        party = self.owner(country_code, party_id)
        body = self.body_object(required=("last_updated",))
        schemas.check("Session", body, partial=True)
        same_object(body, party, {"id": session_id})
        patch_session(self.partner, party, session_id, body, profile=self.profile)
        return Answer(None)


urlpatterns = [
    re_path(
        r"^(?P<country_code>[^/]+)/(?P<party_id>[^/]+)/(?P<session_id>[^/]+)/?$",
        SessionView.as_view(),
        name="emsp-session",
    ),
]
