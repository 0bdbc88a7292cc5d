"""API: baselines with nested settings (admins write, viewers read), drift per station, runs."""

import pytest

from baselines.choices import ResultStatus, RunStatus
from baselines.models import BaselineResult, BaselineRun, ConfigurationBaseline
from organizations.choices import Role
from tests.apiclients import client_as
from tests.baselines.factories_baselines import make_baseline, report_keys
from tests.factories import ChargingStationFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/configuration-baselines/"
RUNS = "/api/v1/baseline-runs/"


def create_url(org):
    return f"/api/v1/organizations/{org.pk}/configuration-baselines/"


def detail_url(baseline, suffix=""):
    return f"{LIST}{baseline.pk}/{suffix}"


BODY = {
    "name": "ABB defaults",
    "vendor": "ABB",
    "model": "",
    "apply_at_first_boot": True,
    "settings": [
        {"variable": "HeartbeatInterval", "value": "300"},
        {
            "component": "EVSE",
            "evse_number": 1,
            "variable": "Power",
            "attribute_type": "MaxSet",
            "value": "22000",
        },
    ],
}


def test_an_admin_creates_a_baseline_with_its_settings(org):
    response = client_as(org, Role.ADMIN).post(create_url(org), BODY, format="json")
    assert response.status_code == 201, response.json()
    baseline = ConfigurationBaseline.objects.get()
    assert baseline.organization == org and baseline.apply_at_first_boot
    assert [s.label for s in baseline.settings.order_by("component")] == [
        "HeartbeatInterval",
        "EVSE@1/Power:MaxSet",
    ]


def test_an_operator_may_not_create_a_baseline(org):
    response = client_as(org, Role.OPERATOR).post(create_url(org), BODY, format="json")
    assert response.status_code == 403
    assert not ConfigurationBaseline.objects.exists()


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ([], "settings"),
        ([{"variable": "HeartbeatInterval", "attribute_type": "Target", "value": "1"}], "settings"),
        ([{"variable": "A", "value": "1"}, {"variable": "A", "value": "2"}], "settings"),
        ([{"variable": "A", "value": "x" * 501}], "settings"),
    ],
)
def test_bad_settings_are_refused_with_field_errors_and_nothing_written(org, items, field):
    response = client_as(org, Role.ADMIN).post(
        create_url(org), {**BODY, "settings": items}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    assert not ConfigurationBaseline.objects.exists()


def test_a_name_taken_in_the_organization_is_refused(org):
    make_baseline(org, name="ABB defaults")
    response = client_as(org, Role.ADMIN).post(create_url(org), BODY, format="json")
    assert response.status_code == 400
    assert "name" in response.json()


def test_updating_replaces_the_settings(org):
    baseline = make_baseline(org, "HeartbeatInterval = 300\nMeterValueSampleInterval = 60")
    response = client_as(org, Role.ADMIN).patch(
        detail_url(baseline),
        {"settings": [{"variable": "HeartbeatInterval", "value": "600"}]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert [str(s) for s in baseline.settings.all()] == ["HeartbeatInterval = 600"]


def test_viewers_list_baselines_with_drifting_counts_in_few_queries(
    org, committed, django_assert_max_num_queries
):
    for _ in range(3):
        make_baseline(org, "HeartbeatInterval = 300")
    station = ChargingStationFactory(organization=org, vendor="ABB", connectors=0)
    with committed():
        report_keys(station, HeartbeatInterval="900")
    client = client_as(org, Role.VIEWER)
    with django_assert_max_num_queries(8):
        response = client.get(LIST)
    assert response.status_code == 200
    assert [row["drifting"] for row in response.json()["results"]] == [1, 1, 1]


def test_the_drift_of_each_matching_station_is_listed(org, committed):
    baseline = make_baseline(org, "HeartbeatInterval = 300")
    drifting = ChargingStationFactory(organization=org, vendor="ABB", ocpp_id="CS-A", connectors=0)
    fine = ChargingStationFactory(organization=org, vendor="abb", ocpp_id="CS-B", connectors=0)
    ChargingStationFactory(organization=org, vendor="Other", connectors=0)
    with committed():
        report_keys(drifting, HeartbeatInterval="900")
        report_keys(fine, HeartbeatInterval="300")
    response = client_as(org).get(detail_url(baseline, "drift/"))
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(r["ocpp_id"], r["drifting"]) for r in rows] == [("CS-A", True), ("CS-B", False)]
    assert rows[0]["settings"][0] | {"reported_at": None} == {
        "key": "HeartbeatInterval",
        "desired": "300",
        "reported": "900",
        "reported_at": None,
        "state": "differs",
    }


def test_runs_are_listed_with_their_results(org):
    baseline = make_baseline(org)
    station = ChargingStationFactory(organization=org, vendor="ABB", connectors=0)
    run = BaselineRun.objects.create(baseline=baseline, station=station, status=RunStatus.PARTIAL)
    BaselineResult.objects.create(
        run=run, variable="HeartbeatInterval", value="300", status=ResultStatus.REJECTED
    )
    response = client_as(org).get(RUNS, {"baseline": baseline.pk})
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["status"] == "partial"
    assert [(r["label"], r["status"]) for r in row["results"]] == [
        ("HeartbeatInterval", "Rejected")
    ]


def test_an_outsider_sees_and_changes_nothing(org, other_org):
    baseline = make_baseline(org)
    outsider = client_as(other_org, Role.OWNER)
    assert outsider.get(LIST).json()["results"] == []
    assert outsider.get(detail_url(baseline)).status_code == 404
    assert outsider.get(detail_url(baseline, "drift/")).status_code == 404
    assert outsider.patch(detail_url(baseline), {"name": "x"}, format="json").status_code == 404
    assert outsider.delete(detail_url(baseline)).status_code == 404
    assert outsider.post(create_url(org), BODY, format="json").status_code == 404
    assert outsider.get(RUNS).json()["results"] == []
    assert ConfigurationBaseline.objects.get().name == baseline.name


def test_an_admin_deletes_a_baseline(org):
    baseline = make_baseline(org)
    assert client_as(org, Role.ADMIN).delete(detail_url(baseline)).status_code == 204
    assert not ConfigurationBaseline.objects.exists()


def test_the_runs_list_costs_the_same_for_many_runs(org, django_assert_max_num_queries):
    baseline = make_baseline(org)
    for _ in range(5):
        station = ChargingStationFactory(organization=org, vendor="ABB", connectors=0)
        run = BaselineRun.objects.create(baseline=baseline, station=station)
        BaselineResult.objects.create(run=run, variable="A", value="1", status="Accepted")
    client = client_as(org)
    with django_assert_max_num_queries(6):
        response = client.get(RUNS)
    assert len(response.json()["results"]) == 5


def test_the_drift_list_costs_the_same_for_many_stations(
    org, committed, django_assert_max_num_queries
):
    baseline = make_baseline(org, "HeartbeatInterval = 300")
    with committed():
        for _ in range(5):
            station = ChargingStationFactory(organization=org, vendor="ABB", connectors=0)
            report_keys(station, HeartbeatInterval="900")
    client = client_as(org)
    with django_assert_max_num_queries(9):
        response = client.get(detail_url(baseline, "drift/"))
    assert [row["drifting"] for row in response.json()["results"]] == [True] * 5
