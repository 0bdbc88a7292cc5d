"""GET /api/v1/sessions/?format=csv: columns, filters, defused formulas, streamed in bulk."""

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from billing.models import ChargeDetailRecord
from organizations.choices import Role
from sessions_app.models import ChargingSession
from tests.apiclients import member
from tests.factories import ChargingSessionFactory, ChargingStationFactory, IdTokenFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/sessions/"
MAR_2 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HEADER = [
    "id",
    "transaction_id",
    "ocpp_id",
    "site_name",
    "connector_id",
    "evse_id",
    "id_tag",
    "id_token_label",
    "auth_method",
    "start",
    "stop",
    "duration_seconds",
    "energy_wh",
    "state",
    "stop_reason",
    "billing_stopped",
    "needs_review",
    "review_reason",
    "cost",
    "currency",
]


@pytest.fixture
def viewer(org):
    client = APIClient()
    client.force_authenticate(member((org, Role.VIEWER)))
    return client


def export(client, **params) -> list[list[str]]:
    """The streamed CSV as rows, header first."""
    response = client.get(LIST, {"format": "csv", **params})
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv"
    assert response.streaming
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


def completed(station, start=MAR_2, **fields):
    return ChargingSessionFactory(
        station=station,
        start=start,
        stop=start + timedelta(minutes=90),
        state="completed",
        stop_reason="Local",
        energy_wh=fields.pop("energy_wh", 12000),
        **fields,
    )


def test_the_export_has_one_line_per_session_under_the_json_field_names(viewer, org, station):
    card = IdTokenFactory(organization=org, uid="04AABB", label="Erika")
    session = completed(station, id_token=card, id_tag="04AABB", transaction_id="4711")
    ChargeDetailRecord.objects.create(
        organization=org, session=session, currency="EUR", total_incl_tax=Decimal("5.5692")
    )

    header, row = export(viewer)

    assert header == HEADER
    assert dict(zip(header, row, strict=True)) == {
        "id": str(session.pk),
        "transaction_id": "4711",
        "ocpp_id": "CS-DEMO-1",
        "site_name": station.site.name,
        "connector_id": "1",
        "evse_id": f"DE*ABC*E{station.pk}*1",
        "id_tag": "04AABB",
        "id_token_label": "Erika",
        "auth_method": "rfid",
        "start": "2026-03-02T09:00:00+00:00",
        "stop": "2026-03-02T10:30:00+00:00",
        "duration_seconds": "5400",
        "energy_wh": "12000",
        "state": "completed",
        "stop_reason": "Local",
        "billing_stopped": "false",
        "needs_review": "false",
        "review_reason": "",
        "cost": "5.5692",
        "currency": "EUR",
    }


def test_a_running_unrated_session_leaves_stop_duration_and_cost_empty(viewer, station):
    ChargingSessionFactory(station=station, id_token=None)
    _, row = export(viewer)
    values = dict(zip(HEADER, row, strict=True))
    assert [values[k] for k in ("stop", "duration_seconds", "cost", "currency")] == ["", "", "", ""]
    assert values["id_token_label"] == ""


def test_the_export_takes_the_list_filters(viewer, station):
    completed(station, start=MAR_2 - timedelta(days=1), transaction_id="old")
    completed(station, start=MAR_2, transaction_id="new")
    ChargingSessionFactory(station=station, transaction_id="running")

    rows = export(viewer, start_after="2026-03-02T00:00:00Z", state="completed")

    assert [row[1] for row in rows[1:]] == ["new"]


def test_an_id_tag_that_looks_like_a_formula_is_defused(viewer, station):
    completed(station, id_tag='=HYPERLINK("http://x")')
    _, row = export(viewer)
    assert dict(zip(HEADER, row, strict=True))["id_tag"] == '\'=HYPERLINK("http://x")'


def test_the_export_leaves_out_other_organizations_sessions(viewer, station, other_org):
    completed(station, transaction_id="ours")
    completed(ChargingStationFactory(organization=other_org), transaction_id="theirs")
    assert [row[1] for row in export(viewer)[1:]] == ["ours"]


def test_bad_filters_are_a_400_before_anything_streams(viewer):
    response = viewer.get(LIST, {"format": "csv", "state": "paused"})
    assert (response.status_code, response.streaming) == (400, False)
    assert list(response.json()) == ["state"]


def add_sessions(station, count, first_number):
    cards = IdTokenFactory.create_batch(2, organization=station.organization)
    ChargingSession.objects.bulk_create(
        ChargingSession(
            organization=station.organization,
            station=station,
            connector=station.connectors.first(),
            id_token=cards[number % 2],
            id_tag=cards[number % 2].uid,
            transaction_id=str(number),
            start=MAR_2 - timedelta(minutes=number),
            stop=MAR_2 - timedelta(minutes=number) + timedelta(seconds=30),
            state="completed",
            energy_wh=number,
        )
        for number in range(first_number, first_number + count)
    )


def counted_export(client) -> tuple[int, list[list[str]]]:
    """The exported rows and how many queries streaming them took."""
    with CaptureQueriesContext(connection) as queries:
        rows = export(client)
    return len(queries.captured_queries), rows


def test_exporting_thousands_of_sessions_takes_a_bounded_number_of_queries(viewer, station):
    add_sessions(station, 3, first_number=1)
    few_queries, few_rows = counted_export(viewer)
    add_sessions(station, 2997, first_number=4)

    many_queries, many_rows = counted_export(viewer)

    assert len(few_rows) - 1 == 3
    assert len(many_rows) - 1 == 3000
    # Neither one query per row nor per card: the rows stream from one query, a chunk at a time.
    assert many_queries <= few_queries + 2
    assert many_queries < 10
