"""Alerts over the API: fields, filters, acknowledging and resolving, 409 when not live."""

from datetime import timedelta

import pytest

from alerts.choices import AlertAction, AlertState, RuleKind, Severity
from alerts.models import Alert, AlertHistory
from organizations.choices import Role
from tests.alerts.helpers import OPENED, make_alert
from tests.apiclients import client_as, client_for, key_client, member
from tests.factories import ChargingStationFactory, SiteFactory, make_api_key

pytestmark = pytest.mark.django_db

LIST = "/api/v1/alerts/"


@pytest.fixture
def station(org):
    return ChargingStationFactory(
        organization=org, site=SiteFactory(organization=org), ocpp_id="CS-API-1"
    )


@pytest.fixture
def viewer(org):
    return client_as(org, Role.VIEWER)


@pytest.fixture
def operator(org):
    return client_as(org, Role.OPERATOR)


def ids(response):
    assert response.status_code == 200, response.data
    return [row["id"] for row in response.data["results"]]


def test_an_alert_is_shown_with_where_and_how_long(viewer, station):
    alert = make_alert(station, state=AlertState.RESOLVED, details={"error_code": "GroundFailure"})
    AlertHistory.objects.create(alert=alert, action=AlertAction.OPENED, at=OPENED)
    data = viewer.get(f"{LIST}{alert.pk}/").data
    assert {k: data[k] for k in ("kind", "kind_label", "severity", "state", "live")} == {
        "kind": "connector_faulted",
        "kind_label": "Connector faulted",
        "severity": "high",
        "state": "resolved",
        "live": False,
    }
    assert (data["station"], data["ocpp_id"], data["site"]) == (
        station.pk,
        "CS-API-1",
        station.site_id,
    )
    assert data["connector_number"] == 1
    assert data["details"] == {"error_code": "GroundFailure"}
    assert data["duration_seconds"] == 42 * 60
    assert data["resolved_by"] is None
    assert data["history"] == [
        {"action": "opened", "at": "2026-03-02T09:00:00Z", "actor": None, "note": ""}
    ]


def test_the_list_filters_live_alerts(viewer, station):
    live = make_alert(station)
    acknowledged = make_alert(station, state=AlertState.ACKNOWLEDGED)
    make_alert(station, state=AlertState.RESOLVED)
    assert sorted(ids(viewer.get(LIST, {"state": "live"}))) == sorted([live.pk, acknowledged.pk])


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"severity": "low"}, ["low"]),
        ({"min_severity": "high"}, ["critical", "high"]),
        ({"kind": "station_offline"}, ["critical"]),
    ],
)
def test_the_list_filters_by_severity_and_condition(viewer, station, params, expected):
    make_alert(station, severity=Severity.LOW)
    make_alert(station, severity=Severity.HIGH)
    make_alert(station, kind=RuleKind.STATION_OFFLINE, severity=Severity.CRITICAL)
    response = viewer.get(LIST, params)
    assert sorted(row["severity"] for row in response.data["results"]) == expected


def test_the_list_filters_by_station_and_opening_time(viewer, org, station):
    other = ChargingStationFactory(organization=org)
    early = make_alert(station, opened_at=OPENED - timedelta(hours=3))
    late = make_alert(station)
    make_alert(other)
    response = viewer.get(
        LIST, {"station": station.pk, "opened_after": (OPENED - timedelta(hours=1)).isoformat()}
    )
    assert ids(response) == [late.pk]
    assert early.pk in ids(viewer.get(LIST, {"ocpp_id": "CS-API-1"}))


def test_an_unknown_filter_is_a_400(viewer, station):
    response = viewer.get(LIST, {"colour": "red"})
    assert response.status_code == 400
    assert "colour" in response.data


def test_a_station_of_another_organization_is_refused_as_a_filter(viewer, other_org):
    foreign = ChargingStationFactory(organization=other_org)
    response = viewer.get(LIST, {"station": foreign.pk})
    assert response.status_code == 400
    assert "station" in response.data


def test_the_list_shows_none_of_another_organizations_alerts(viewer, other_org, station):
    ours = make_alert(station)
    make_alert(ChargingStationFactory(organization=other_org))
    assert ids(viewer.get(LIST)) == [ours.pk]


def test_the_nested_list_shows_that_organizations_alerts(org, other_org, station):
    make_alert(ChargingStationFactory(organization=other_org))
    ours = make_alert(station)
    both = client_for(member((org, Role.VIEWER), (other_org, Role.VIEWER)))
    assert ids(both.get(f"/api/v1/organizations/{org.pk}/alerts/")) == [ours.pk]
    assert len(ids(both.get(LIST))) == 2


def test_another_organizations_alert_is_404(other_org, station):
    alert = make_alert(station)
    outsider = client_as(other_org, Role.OWNER)
    assert outsider.get(f"{LIST}{alert.pk}/").status_code == 404
    assert outsider.post(f"{LIST}{alert.pk}/acknowledge/", {}, format="json").status_code == 404
    assert outsider.post(f"{LIST}{alert.pk}/resolve/", {}, format="json").status_code == 404
    alert.refresh_from_db()
    assert alert.state == AlertState.OPEN


def test_a_platform_alert_is_seen_by_no_member(viewer):
    Alert.objects.create(
        organization=None,
        kind=RuleKind.STATION_REJECTED,
        severity=Severity.MEDIUM,
        fingerprint="0:station_rejected:identity:ROGUE",
        opened_at=OPENED,
        last_seen_at=OPENED,
        details={"identity": "ROGUE"},
    )
    assert ids(viewer.get(LIST)) == []


def test_an_operator_acknowledges_with_a_note(operator, station):
    alert = make_alert(station)
    response = operator.post(f"{LIST}{alert.pk}/acknowledge/", {"note": "On my way"}, format="json")
    assert response.status_code == 200, response.data
    assert response.data["state"] == "acknowledged"
    assert response.data["acknowledge_note"] == "On my way"
    assert response.data["acknowledged_by"] is not None
    assert response.data["history"][-1]["action"] == "acknowledged"


def test_an_operator_resolves_by_hand(operator, station):
    alert = make_alert(station)
    response = operator.post(f"{LIST}{alert.pk}/resolve/", {}, format="json")
    assert response.status_code == 200, response.data
    assert response.data["state"] == "resolved"
    assert response.data["resolved_at"] is not None
    assert response.data["duration_seconds"] is not None


def test_acknowledging_a_resolved_alert_is_409_with_the_reason(operator, station):
    alert = make_alert(station, state=AlertState.RESOLVED)
    response = operator.post(f"{LIST}{alert.pk}/acknowledge/", {}, format="json")
    assert response.status_code == 409
    assert response.data == {"detail": "The alert is resolved already."}


def test_acknowledging_twice_is_409(operator, station):
    alert = make_alert(station)
    operator.post(f"{LIST}{alert.pk}/acknowledge/", {}, format="json")
    response = operator.post(f"{LIST}{alert.pk}/acknowledge/", {}, format="json")
    assert response.status_code == 409
    assert response.data == {"detail": "The alert is acknowledged already."}


def test_resolving_a_resolved_alert_is_409(operator, station):
    alert = make_alert(station, state=AlertState.RESOLVED)
    response = operator.post(f"{LIST}{alert.pk}/resolve/", {}, format="json")
    assert response.status_code == 409


def test_a_note_that_is_not_text_is_a_field_error(operator, station):
    alert = make_alert(station)
    response = operator.post(f"{LIST}{alert.pk}/acknowledge/", {"note": ["x"]}, format="json")
    assert response.status_code == 400
    assert "note" in response.data
    alert.refresh_from_db()
    assert alert.state == AlertState.OPEN


def test_a_viewer_may_not_acknowledge(viewer, station):
    alert = make_alert(station)
    assert viewer.post(f"{LIST}{alert.pk}/acknowledge/", {}, format="json").status_code == 403


def test_an_api_key_acknowledges_and_is_named_in_the_history(org, station):
    alert = make_alert(station)
    _key, secret = make_api_key(org, role=Role.OPERATOR, name="Ticketing")
    response = key_client(secret).post(
        f"{LIST}{alert.pk}/acknowledge/", {"note": "Ticket 42"}, format="json"
    )
    assert response.status_code == 200, response.data
    step = alert.history.get(action=AlertAction.ACKNOWLEDGED)
    assert step.actor is None
    assert step.note.startswith("API key Ticketing")
    assert step.note.endswith(": Ticket 42")


def test_the_list_reads_a_page_in_a_fixed_number_of_queries(
    viewer, org, station, django_assert_max_num_queries
):
    make_alert(station, state=AlertState.ACKNOWLEDGED, acknowledged_by=member((org, Role.ADMIN)))
    with django_assert_max_num_queries(4) as few:
        assert len(ids(viewer.get(LIST))) == 1
    for number in range(10):
        other = ChargingStationFactory(organization=org, ocpp_id=f"CS-Q-{number}")
        make_alert(other, state=AlertState.RESOLVED, resolved_by=member((org, Role.OPERATOR)))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(ids(viewer.get(LIST))) == 11
