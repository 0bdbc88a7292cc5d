"""Matrix rows of what stations reported as events, monitors and customer information."""

from organizations.choices import Role
from tests.api.matrix import Endpoint

ENDPOINTS = [
    Endpoint(
        "station-events",
        "get",
        lambda w: f"/api/v1/stations/{w.station.pk}/events/",
        Role.VIEWER,
    ),
    Endpoint(
        "station-monitors",
        "get",
        lambda w: f"/api/v1/stations/{w.station.pk}/monitors/",
        Role.VIEWER,
    ),
    Endpoint(
        "station-customer-information",
        "get",
        lambda w: f"/api/v1/stations/{w.station.pk}/customer-information/?request_id=1",
        Role.ADMIN,
    ),
]
