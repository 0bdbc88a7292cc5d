"""GET /api/v1/stations/: fields, connectors, filters, ordering, pagination, query budget."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from core.api.pagination import StableOrderingFilter
from organizations.choices import Role
from stations.api.views import ChargingStationViewSet
from stations.models import ChargingStation, Connector
from tests.apiclients import client_for, member
from tests.factories import ChargingStationFactory, SiteFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/stations/"


@pytest.fixture
def viewer(org):
    return client_for(member((org, Role.VIEWER)))


def ocpp_ids(response):
    assert response.status_code == 200, response.data
    return [row["ocpp_id"] for row in response.data["results"]]


def test_a_station_is_shown_with_its_site_organization_and_connectors(viewer, org, station):
    Connector.objects.filter(station=station, connector_id=1).update(
        connector_type="IEC_62196_T2_COMBO",
        max_power_kw=Decimal("150.00"),
        status="Faulted",
        error_code="GroundFailure",
        status_at=datetime(2026, 1, 1, 12, tzinfo=UTC),
    )
    data = viewer.get(f"{LIST}{station.pk}/").data
    assert {k: data[k] for k in ("id", "ocpp_id", "site", "site_name", "organization")} == {
        "id": station.pk,
        "ocpp_id": "CS-DEMO-1",
        "site": station.site_id,
        "site_name": station.site.name,
        "organization": org.pk,
    }
    assert set(data) == {
        "id",
        "ocpp_id",
        "site",
        "site_name",
        "organization",
        "serial_number",
        "vendor",
        "model",
        "firmware_version",
        "ocpp_version",
        "connection_state",
        "last_seen",
        "registration_status",
        "status",
        "effective_status",
        "plan",
        "security_profile",
        "password_set",
        "access_groups",
        "heartbeat_interval",
        "message_log_enabled",
        "firmware_status",
        "firmware_status_at",
        "diagnostics_status",
        "diagnostics_status_at",
        "connectors",
        "created",
        "updated",
    }
    assert "password" not in data and data["password_set"] is True
    assert data["connectors"][0] == {
        "id": station.connectors.get(connector_id=1).pk,
        "connector_id": 1,
        "evse_id": f"DE*ABC*E{station.pk}*1",
        "connector_type": "IEC_62196_T2_COMBO",
        "max_power_kw": "150.00",
        "status": "Faulted",
        # The station is offline: shown as not available, whatever it last reported.
        "effective_status": "Unavailable",
        "error_code": "GroundFailure",
        "status_at": "2026-01-01T12:00:00Z",
    }
    assert [c["connector_id"] for c in data["connectors"]] == [1, 2]


def test_firmware_and_diagnostics_status_reported_by_the_station_are_shown(viewer, station):
    from ocpp_gateway.v16.handlers import HANDLERS

    HANDLERS["FirmwareStatusNotification"](station, {"status": "Installing"})
    HANDLERS["DiagnosticsStatusNotification"](station, {"status": "UploadFailed"})
    data = viewer.get(f"{LIST}{station.pk}/").data
    assert (data["firmware_status"], data["diagnostics_status"]) == ("Installing", "UploadFailed")
    assert data["firmware_status_at"] and data["diagnostics_status_at"]


def test_a_station_without_a_site_shows_null_site_and_site_name(viewer, org):
    station = ChargingStationFactory(organization=org, site=None)
    data = viewer.get(f"{LIST}{station.pk}/").data
    assert (data["site"], data["site_name"]) == (None, None)


def test_stations_filter_by_site(viewer, org, station):
    other_site = SiteFactory(organization=org)
    ChargingStationFactory(organization=org, site=other_site, ocpp_id="CS-ELSEWHERE")
    assert ocpp_ids(viewer.get(LIST, {"site": other_site.pk})) == ["CS-ELSEWHERE"]


def test_filtering_by_an_outsiders_site_is_refused_like_an_unknown_one(viewer, other_org):
    theirs = SiteFactory(organization=other_org)
    outsider = viewer.get(LIST, {"site": theirs.pk})
    unknown = viewer.get(LIST, {"site": theirs.pk + 1000})
    assert outsider.status_code == unknown.status_code == 400
    assert outsider.data == unknown.data


def test_stations_filter_by_connection_state(viewer, org, station):
    ChargingStationFactory(organization=org, ocpp_id="CS-ONLINE", connection_state="online")
    assert ocpp_ids(viewer.get(LIST, {"connection_state": "online"})) == ["CS-ONLINE"]
    assert ocpp_ids(viewer.get(LIST, {"connection_state": "offline"})) == ["CS-DEMO-1"]


def test_stations_filter_by_ocpp_id(viewer, org, station):
    ChargingStationFactory(organization=org, ocpp_id="CS-OTHER")
    assert ocpp_ids(viewer.get(LIST, {"ocpp_id": "CS-OTHER"})) == ["CS-OTHER"]


def test_the_status_filter_keeps_stations_with_a_connector_in_that_status_once(
    viewer, org, station
):
    both = ChargingStationFactory(organization=org, ocpp_id="CS-BOTH-CHARGING")
    Connector.objects.filter(station=both).update(status="Charging")
    Connector.objects.filter(station=station, connector_id=2).update(status="Faulted")
    assert ocpp_ids(viewer.get(LIST, {"status": "Charging"})) == ["CS-BOTH-CHARGING"]
    assert ocpp_ids(viewer.get(LIST, {"status": "Faulted"})) == ["CS-DEMO-1"]


def test_an_unknown_filter_value_is_a_400(viewer, station):
    response = viewer.get(LIST, {"connection_state": "sleeping"})
    assert response.status_code == 400
    assert "connection_state" in response.data


def test_stations_order_by_last_seen_either_way(viewer, org):
    for ocpp_id, hour in (("CS-A", 3), ("CS-B", 1), ("CS-C", 2)):
        ChargingStationFactory(
            organization=org, ocpp_id=ocpp_id, last_seen=datetime(2026, 1, 1, hour, tzinfo=UTC)
        )
    assert ocpp_ids(viewer.get(LIST, {"ordering": "last_seen"})) == ["CS-B", "CS-C", "CS-A"]
    assert ocpp_ids(viewer.get(LIST, {"ordering": "-last_seen"})) == ["CS-A", "CS-C", "CS-B"]


def test_stations_cannot_be_ordered_by_a_field_not_offered(viewer, org):
    ChargingStationFactory(organization=org, ocpp_id="CS-A", firmware_version="2")
    ChargingStationFactory(organization=org, ocpp_id="CS-B", firmware_version="1")
    # An ordering outside `ordering_fields` is ignored: the default (ocpp_id) applies.
    assert ocpp_ids(viewer.get(LIST, {"ordering": "firmware_version"})) == ["CS-A", "CS-B"]


def test_pages_of_stations_that_tie_on_the_ordering_neither_overlap_nor_skip(viewer, org):
    ChargingStation.objects.bulk_create(
        ChargingStation(organization=org, ocpp_id=f"CS-TIE-{n:02d}") for n in range(7)
    )
    seen = []
    for page in (1, 2, 3):
        seen += ocpp_ids(viewer.get(LIST, {"ordering": "last_seen", "page_size": 3, "page": page}))
    assert sorted(seen) == [f"CS-TIE-{n:02d}" for n in range(7)]


@pytest.mark.parametrize(
    ("asked", "applied"),
    [
        ("last_seen", ["last_seen", "pk"]),
        ("-last_seen", ["-last_seen", "-pk"]),
        ("", ["ocpp_id", "pk"]),
    ],
)
def test_every_ordering_ends_in_the_primary_key(asked, applied):
    request = Request(APIRequestFactory().get(LIST, {"ordering": asked}))
    ordering = StableOrderingFilter().get_ordering(
        request, ChargingStation.objects.all(), ChargingStationViewSet()
    )
    assert ordering == applied


def test_the_page_size_is_50_by_default_and_capped_at_200(viewer, org):
    ChargingStation.objects.bulk_create(
        ChargingStation(organization=org, ocpp_id=f"CS-{n:03d}") for n in range(201)
    )
    assert len(viewer.get(LIST).data["results"]) == 50
    assert len(viewer.get(LIST, {"page_size": 5}).data["results"]) == 5
    capped = viewer.get(LIST, {"page_size": 1000}).data
    assert (capped["count"], len(capped["results"])) == (201, 200)


def test_the_station_list_costs_as_many_queries_for_20_rows_as_for_2(
    viewer, org, django_assert_max_num_queries
):
    ChargingStationFactory.create_batch(2, organization=org)
    # Count, page, connectors (with their EVSEs), access groups.
    with django_assert_max_num_queries(4) as for_two:
        assert len(viewer.get(LIST).data["results"]) == 2
    ChargingStationFactory.create_batch(18, organization=org)
    with django_assert_max_num_queries(len(for_two.captured_queries)):
        response = viewer.get(LIST)
    assert len(response.data["results"]) == 20
    assert all(len(row["connectors"]) == 2 for row in response.data["results"])
