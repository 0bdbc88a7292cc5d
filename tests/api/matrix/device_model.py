"""Matrix rows of the stations' device model: /stations/{id}/variables/."""

from organizations.choices import Role
from tests.api.matrix import Endpoint

# Its query budget is tested with the device model (tests/stations/test_device_model.py).
ENDPOINTS = [
    Endpoint(
        "station-variables",
        "get",
        lambda w: f"/api/v1/stations/{w.station.pk}/variables/",
        Role.VIEWER,
    ),
]
