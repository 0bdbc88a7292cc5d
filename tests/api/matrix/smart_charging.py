"""Matrix rows of what stations reported about smart charging: /stations/{id}/smart-charging/."""

from organizations.choices import Role
from tests.api.matrix import Endpoint

ENDPOINTS = [
    Endpoint(
        "station-smart-charging",
        "get",
        lambda w: f"/api/v1/stations/{w.station.pk}/smart-charging/",
        Role.VIEWER,
    ),
]
