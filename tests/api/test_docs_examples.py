"""The worked examples of docs/api.md, step by step, as a client would run them."""

import csv
import io
from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from billing.invoicing import close_period
from billing.services import rate_session
from cards.models import IdToken
from organizations.choices import Role
from sessions_app.choices import SessionState
from stations.models import ChargingStation
from tests.apiclients import member
from tests.factories import USER_PASSWORD, ChargingSessionFactory

pytestmark = pytest.mark.django_db


def test_the_worked_examples_of_the_api_guide_run_as_written(org, other_org):
    user = member((org, Role.OWNER))
    client = APIClient()

    # Authentication: a token from username and password.
    token = client.post(
        "/api/v1/auth/token/", {"username": user.username, "password": USER_PASSWORD}
    ).json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    organization = client.get("/api/v1/organizations/").json()["results"][0]["id"]
    assert organization == org.pk

    # Create a site and a station.
    site = client.post(
        f"/api/v1/organizations/{organization}/sites/",
        {
            "name": "Depot Nord",
            "street": "Hafenstraße 1",
            "postal_code": "20457",
            "city": "Hamburg",
            "country": "DE",
        },
        format="json",
    )
    assert site.status_code == 201, site.json()
    site = site.json()["id"]
    station = client.post(
        f"/api/v1/organizations/{organization}/stations/",
        {
            "ocpp_id": "HH-NORD-01",
            "site": site,
            "serial_number": "SN-4711",
            "password": "a-long-station-secret-2026",
        },
        format="json",
    )
    assert station.status_code == 201, station.json()

    # Add cards to an access group, one by hand and more from a spreadsheet.
    group = client.post(
        f"/api/v1/organizations/{organization}/access-groups/",
        {"name": "Fleet", "sites": [site]},
        format="json",
    )
    assert group.status_code == 201, group.json()
    group = group.json()["id"]
    card = client.post(
        f"/api/v1/organizations/{organization}/id-tokens/",
        {"uid": "04A1B2C3D4", "label": "Van 7", "holder_name": "Erika Muster"},
        format="json",
    )
    assert card.status_code == 201, card.json()
    added = client.post(
        f"/api/v1/access-groups/{group}/add-cards/", {"uids": ["04A1B2C3D4"]}, format="json"
    )
    assert added.status_code == 200, added.json()
    upload = SimpleUploadedFile(
        "cards.csv", b"uid,label,access_groups\n04FFEE01,Van 8,Fleet\n", content_type="text/csv"
    )
    imported = client.post(
        f"/api/v1/organizations/{organization}/id-tokens/import/",
        {"file": upload},
        format="multipart",
    )
    assert imported.status_code == 200, imported.json()
    assert client.get(f"/api/v1/access-groups/{group}/").json()["card_count"] == 2

    # Find yesterday's sessions, narrow them, export them.
    window = {"start_after": "2026-03-01T00:00:00Z", "start_before": "2026-03-02T00:00:00Z"}
    found = client.get("/api/v1/sessions/", {**window, "ordering": "start"})
    assert found.status_code == 200
    narrowed = client.get(
        "/api/v1/sessions/", {**window, "site": site, "id_tag": "04A1B2C3D4", "state": "completed"}
    )
    assert narrowed.status_code == 200
    export = client.get("/api/v1/sessions/", {**window, "format": "csv"})
    assert export.status_code == 200
    header = next(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert {"transaction_id", "ocpp_id", "id_tag", "start", "stop", "energy_wh"} <= set(header)

    # Start a session remotely. Connectors appear when the station reports them; here by hand.
    station_id = client.get("/api/v1/stations/", {"ocpp_id": "HH-NORD-01"}).json()["results"][0]
    connector = client.post(
        f"/api/v1/stations/{station_id['id']}/connectors/", {"connector_id": 1}, format="json"
    )
    assert connector.status_code == 201, connector.json()
    commands = client.get(f"/api/v1/stations/{station_id['id']}/commands/").json()
    assert "start_charging" in {command["command"] for command in commands}
    started = client.post(
        f"/api/v1/stations/{station_id['id']}/commands/",
        {"command": "start_charging", "id_tag": "04A1B2C3D4", "connector_id": 1},
        format="json",
    )
    # The station has never connected: refused as offline, with the reason.
    assert started.status_code == 409, started.json()
    assert "offline" in started.json()["detail"]

    # Price charging and read the invoices.
    tariff = client.post(
        f"/api/v1/organizations/{organization}/tariffs/",
        {
            "name": "Standard",
            "tax_rate": "19.00",
            "min_price": "1.00",
            "elements": [
                {
                    "price_components": [{"type": "ENERGY", "price": "0.29", "step_size": 1}],
                    "restrictions": {"start_time": "22:00", "end_time": "06:00"},
                },
                {
                    "price_components": [
                        {"type": "ENERGY", "price": "0.39", "step_size": 1},
                        {"type": "PARKING_TIME", "price": "6.00", "step_size": 300},
                    ]
                },
            ],
        },
        format="json",
    )
    assert tariff.status_code == 201, tariff.json()
    tariff = tariff.json()["id"]
    assigned = client.post(
        f"/api/v1/organizations/{organization}/tariff-assignments/",
        {"tariff": tariff, "scope": "organization"},
        format="json",
    )
    assert assigned.status_code == 201, assigned.json()
    published = client.get(f"/api/v1/tariffs/{tariff}/ocpi/?country_code=DE&party_id=ABC")
    assert published.status_code == 200, published.json()
    assert published.json()["elements"][1]["price_components"][0]["vat"] == 19.0

    # A day session of 10 kWh on the card, as the station would report it, then rated.
    session = ChargingSessionFactory(
        station=ChargingStation.objects.get(ocpp_id="HH-NORD-01"),
        id_token=IdToken.objects.get(uid="04A1B2C3D4"),
        id_tag="04A1B2C3D4",
        start=datetime(2026, 3, 2, 9, tzinfo=UTC),
        stop=datetime(2026, 3, 2, 10, tzinfo=UTC),
        meter_start=0,
        meter_stop=10000,
        energy_wh=10000,
        state=SessionState.COMPLETED,
    )
    rate_session(session.pk)
    waiting = client.get("/api/v1/charge-detail-records/", {"has_invoice": "false"}).json()
    assert [(row["session"], row["total_incl_tax"]) for row in waiting["results"]] == [
        (session.pk, "4.6400")
    ]
    close_period(org, datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))

    period = client.get("/api/v1/billing-periods/").json()["results"][0]["id"]
    invoices = client.get("/api/v1/invoices/", {"billing_period": period, "format": "csv"})
    assert invoices.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(invoices.streaming_content).decode())))
    assert [row["total_incl_tax"] for row in rows] == ["4.6400"]
    invoice = client.get("/api/v1/invoices/", {"billing_period": period}).json()["results"][0]
    pdf = client.get(f"/api/v1/invoices/{invoice['id']}/pdf/")
    assert (pdf.status_code, pdf["Content-Type"]) == (200, "application/pdf")
