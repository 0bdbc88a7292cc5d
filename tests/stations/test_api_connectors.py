"""Connectors over the API: the flat list and its filters, edits, adding by hand, deletion."""

from datetime import UTC, datetime

import pytest
from rest_framework.test import APIClient

from organizations.choices import Role
from sessions_app.choices import SessionState
from stations.models import Connector, Evse
from tests.apiclients import member
from tests.factories import ChargingSessionFactory, ChargingStationFactory, SiteFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/connectors/"


def api(user):
    """An API client signed in as `user`."""
    client = APIClient()
    client.force_authenticate(user)
    return client


def detail(connector):
    return f"{LIST}{connector.pk}/"


def add_url(station):
    return f"/api/v1/stations/{station.pk}/connectors/"


@pytest.fixture
def viewer(org):
    return api(member((org, Role.VIEWER)))


@pytest.fixture
def admin(org):
    return api(member((org, Role.ADMIN)))


@pytest.fixture
def connector(station):
    return station.connectors.get(connector_id=1)


def listed(response):
    assert response.status_code == 200, response.data
    return [(row["ocpp_id"], row["connector_id"]) for row in response.data["results"]]


# --- Reading -------------------------------------------------------------------------------


def test_a_connector_is_shown_with_its_station_evse_and_live_status(viewer, station, connector):
    Connector.objects.filter(pk=connector.pk).update(
        status="Faulted",
        error_code="GroundFailure",
        info="RCD tripped",
        status_at=datetime(2026, 1, 1, 12, tzinfo=UTC),
        max_power_kw="22.00",
    )
    assert viewer.get(detail(connector)).data == {
        "id": connector.pk,
        "station": station.pk,
        "ocpp_id": "CS-DEMO-1",
        "connector_id": 1,
        "evse_id": f"DE*ABC*E{station.pk}*1",
        "connector_type": "IEC_62196_T2",
        "max_power_kw": "22.00",
        "status": "Faulted",
        # Its station is offline: shown as not available, whatever it last reported.
        "effective_status": "Unavailable",
        "error_code": "GroundFailure",
        "info": "RCD tripped",
        "status_at": "2026-01-01T12:00:00Z",
    }


def test_connectors_are_listed_by_station_then_number(viewer, org, station):
    ChargingStationFactory(organization=org, ocpp_id="CS-A", connectors=1)
    assert listed(viewer.get(LIST)) == [("CS-A", 1), ("CS-DEMO-1", 1), ("CS-DEMO-1", 2)]


def test_connectors_filter_by_status(viewer, station):
    Connector.objects.filter(station=station, connector_id=2).update(status="Charging")
    assert listed(viewer.get(LIST, {"status": "Charging"})) == [("CS-DEMO-1", 2)]


def test_connectors_filter_by_station_site_and_ocpp_identity(viewer, org, station):
    elsewhere = SiteFactory(organization=org)
    other = ChargingStationFactory(organization=org, site=elsewhere, ocpp_id="CS-B", connectors=1)
    assert listed(viewer.get(LIST, {"station": other.pk})) == [("CS-B", 1)]
    assert listed(viewer.get(LIST, {"site": elsewhere.pk})) == [("CS-B", 1)]
    assert listed(viewer.get(LIST, {"ocpp_id": "CS-B"})) == [("CS-B", 1)]


def test_connectors_filter_by_connector_type(viewer, station):
    Connector.objects.filter(station=station, connector_id=1).update(connector_type="CHADEMO")
    assert listed(viewer.get(LIST, {"connector_type": "CHADEMO"})) == [("CS-DEMO-1", 1)]


def test_filtering_by_an_outsiders_station_is_refused_like_an_unknown_one(viewer, other_org):
    theirs = ChargingStationFactory(organization=other_org)
    outsider = viewer.get(LIST, {"station": theirs.pk})
    unknown = viewer.get(LIST, {"station": theirs.pk + 1000})
    assert outsider.status_code == unknown.status_code == 400
    assert outsider.data == unknown.data


def test_an_outsider_lists_none_of_our_connectors(outsider_user, other_org, station):
    ChargingStationFactory(organization=other_org, ocpp_id="CS-THEIRS", connectors=1)
    assert listed(api(outsider_user).get(LIST)) == [("CS-THEIRS", 1)]


# --- Changing ------------------------------------------------------------------------------


def test_an_admin_changes_the_plug_power_and_evse_identity(admin, connector):
    response = admin.patch(
        detail(connector),
        {"connector_type": "IEC_62196_T2_COMBO", "max_power_kw": "150", "evse_id": "DE*ABC*E9*1"},
        format="json",
    )
    assert response.status_code == 200, response.data
    connector.refresh_from_db()
    assert (connector.connector_type, str(connector.max_power_kw)) == (
        "IEC_62196_T2_COMBO",
        "150.00",
    )
    assert connector.evse.evse_id == response.data["evse_id"] == "DE*ABC*E9*1"


def test_the_status_a_station_reports_cannot_be_typed_in(admin, connector):
    response = admin.patch(
        detail(connector),
        {"status": "Available", "error_code": "", "connector_id": 7, "station": 999},
        format="json",
    )
    assert response.status_code == 200
    connector.refresh_from_db()
    assert (connector.status, connector.connector_id) == ("Unknown", 1)


@pytest.mark.parametrize(
    "body",
    [{"max_power_kw": "0"}, {"max_power_kw": "-3"}, {"connector_type": "USB"}],
)
def test_a_bad_connector_field_is_a_field_error(admin, connector, body):
    response = admin.patch(detail(connector), body, format="json")
    assert response.status_code == 400 and list(response.data) == list(body)


def test_an_operator_cannot_change_a_connector(org, connector):
    operator = api(member((org, Role.OPERATOR)))
    response = operator.patch(detail(connector), {"connector_type": "CHADEMO"}, format="json")
    assert response.status_code == 403
    assert Connector.objects.get(pk=connector.pk).connector_type == "IEC_62196_T2"


# --- Adding by hand ------------------------------------------------------------------------


def test_an_admin_adds_a_connector_on_an_evse_of_its_own(admin, station):
    response = admin.post(
        add_url(station),
        {"connector_id": 3, "connector_type": "CHADEMO", "max_power_kw": "50", "evse_id": "E3"},
        format="json",
    )
    assert response.status_code == 201, response.data
    connector = station.connectors.get(connector_id=3)
    assert (connector.evse.evse_number, connector.evse.evse_id) == (3, "E3")
    assert (connector.connector_type, connector.status) == ("CHADEMO", "Unknown")
    assert response.data["id"] == connector.pk and response.data["ocpp_id"] == "CS-DEMO-1"


def test_a_connector_number_the_station_already_has_is_a_field_error(admin, station):
    response = admin.post(add_url(station), {"connector_id": 2}, format="json")
    assert response.status_code == 400
    assert response.data == {
        "connector_id": ["The station already has a connector with this number."]
    }
    assert station.connectors.count() == 2


@pytest.mark.parametrize("number", [0, -1, "two", None])
def test_a_connector_number_below_1_is_a_field_error(admin, station, number):
    response = admin.post(add_url(station), {"connector_id": number}, format="json")
    assert response.status_code == 400 and list(response.data) == ["connector_id"]


def test_the_same_number_on_another_station_is_free(admin, org, station):
    other = ChargingStationFactory(organization=org, connectors=0)
    assert admin.post(add_url(other), {"connector_id": 1}, format="json").status_code == 201


def test_an_operator_cannot_add_a_connector(org, station):
    operator = api(member((org, Role.OPERATOR)))
    assert operator.post(add_url(station), {"connector_id": 3}, format="json").status_code == 403
    assert station.connectors.count() == 2


def test_an_outsider_cannot_add_a_connector_to_our_station(outsider_user, station):
    response = api(outsider_user).post(add_url(station), {"connector_id": 3}, format="json")
    assert response.status_code == 404
    assert station.connectors.count() == 2


# --- Deleting ------------------------------------------------------------------------------


def test_a_connector_never_used_is_deleted_with_its_evse(admin, station, connector):
    evse = connector.evse
    assert admin.delete(detail(connector)).status_code == 204
    assert not Connector.objects.filter(pk=connector.pk).exists()
    assert not Evse.objects.filter(pk=evse.pk).exists()
    assert station.connectors.count() == 1


def test_an_evse_shared_with_another_connector_stays(admin, station, connector):
    Connector.objects.filter(station=station, connector_id=2).update(evse=connector.evse)
    assert admin.delete(detail(connector)).status_code == 204
    assert Evse.objects.filter(pk=connector.evse_id).exists()


def test_a_connector_with_a_running_session_is_a_conflict(admin, station, connector):
    ChargingSessionFactory(station=station, connector=connector, state=SessionState.ACTIVE)
    response = admin.delete(detail(connector))
    assert response.status_code == 409
    assert response.data["detail"] == "A charging session is running on this connector."
    assert Connector.objects.filter(pk=connector.pk).exists()


def test_a_connector_with_past_sessions_is_a_conflict(admin, station, connector):
    ChargingSessionFactory(station=station, connector=connector, state=SessionState.COMPLETED)
    response = admin.delete(detail(connector))
    assert response.status_code == 409 and "kept for billing" in response.data["detail"]
    assert Connector.objects.filter(pk=connector.pk).exists()


def test_an_outsider_changes_and_deletes_none_of_our_connectors(outsider_user, connector):
    outsider = api(outsider_user)
    assert (
        outsider.patch(detail(connector), {"max_power_kw": "1"}, format="json").status_code == 404
    )
    assert outsider.delete(detail(connector)).status_code == 404
    connector.refresh_from_db()
    assert connector.max_power_kw is None
