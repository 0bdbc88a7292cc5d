"""Matrix rows of what stations hold: display messages, certificates, signing requests."""

from organizations.choices import Role
from tests.api.matrix import Endpoint

# Their query budgets and contents are tested with the features (tests/ocpp_gateway/
# test_v201_display.py and test_v201_certificates.py).
ENDPOINTS = [
    Endpoint(
        f"station-{name}",
        "get",
        lambda w, name=name: f"/api/v1/stations/{w.station.pk}/{name}/",
        Role.VIEWER,
    )
    for name in ("display-messages", "certificates", "certificate-requests")
]
