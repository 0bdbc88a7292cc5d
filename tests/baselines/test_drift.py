"""Drift: desired values beside what 1.6 and 2.0.1 stations report, announced once per change."""

import pytest

from baselines.events import BASELINE_DRIFT_CLEARED, BASELINE_DRIFT_FOUND
from baselines.models import StationDrift
from baselines.notation import parse_settings
from baselines.services import (
    DriftState,
    baselines_for,
    check_drift,
    delete_baseline,
    drift_of,
    drifting_stations,
    refresh_baseline,
    save_baseline,
    values_match,
)
from core.events import subscribe, unsubscribe
from stations.choices import OcppVersion
from tests.baselines.factories_baselines import make_baseline, report_keys, report_variables
from tests.factories import ChargingStationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def station(org):
    return ChargingStationFactory(organization=org, vendor="ABB", model="Terra AC", connectors=1)


@pytest.fixture
def station201(org):
    return ChargingStationFactory(
        organization=org, vendor="ABB", model="Terra DC", ocpp_version=OcppVersion.V201
    )


@pytest.fixture
def announced():
    """The drift events announced, as (name, data) in order."""
    seen = []

    def collect(events):
        seen.extend((event.name, event.data) for event in events)

    for name in (BASELINE_DRIFT_FOUND, BASELINE_DRIFT_CLEARED):
        subscribe(name, collect)
    yield seen
    for name in (BASELINE_DRIFT_FOUND, BASELINE_DRIFT_CLEARED):
        unsubscribe(name, collect)


@pytest.mark.parametrize(
    ("desired", "reported", "same"),
    [
        ("true", "True", True),
        ("60", "60.0", True),
        ("a,b", "a, b", True),
        ("a,b", "b,a", False),
        ("300", "30", False),
        ("Hello", "hello", False),
    ],
)
def test_values_are_compared_as_stations_spell_them(desired, reported, same):
    assert values_match(desired, reported) is same


def test_baselines_match_vendor_and_model_without_regard_to_case(org, other_org, station):
    every_model = make_baseline(org, vendor="abb")
    this_model = make_baseline(org, vendor="ABB", model="terra ac")
    make_baseline(org, vendor="ABB", model="Terra DC")
    make_baseline(org, vendor="Alpitronic")
    make_baseline(other_org, vendor="ABB")
    assert set(baselines_for(station)) == {every_model, this_model}


def test_a_differing_16_key_is_drift_and_an_unreported_one_is_unknown(org, station):
    baseline = make_baseline(org, "HeartbeatInterval = 300\nMeterValueSampleInterval = 60")
    report_keys(station, HeartbeatInterval="900")
    items = {item.setting.label: item for item in drift_of(station, baseline)}
    assert items["HeartbeatInterval"].state == DriftState.DIFFERS
    assert items["HeartbeatInterval"].reported == "900"
    assert items["MeterValueSampleInterval"].state == DriftState.UNKNOWN


def test_201_variables_are_compared_and_16_keys_left_out(org, station201):
    baseline = make_baseline(
        org,
        "HeartbeatInterval = 300\n"
        "OCPPCommCtrlr/HeartbeatInterval = 300\n"
        "ClockCtrlr/TimeSource = NTP",
    )
    report_variables(
        station201,
        ("OCPPCommCtrlr", "HeartbeatInterval", "300"),
        ("ClockCtrlr", "TimeSource", "Heartbeat"),
    )
    states = {item.setting.label: item.state for item in drift_of(station201, baseline)}
    assert states == {
        "OCPPCommCtrlr/HeartbeatInterval": DriftState.MATCHES,
        "ClockCtrlr/TimeSource": DriftState.DIFFERS,
    }


def test_a_stored_configuration_answer_finds_drift_once(org, station, committed, announced):
    baseline = make_baseline(org, "HeartbeatInterval = 300")
    with committed():
        report_keys(station, HeartbeatInterval="900")
    with committed():
        report_keys(station, HeartbeatInterval="900")
    assert announced == [
        (
            BASELINE_DRIFT_FOUND,
            {
                "organization_id": org.pk,
                "station_id": station.pk,
                "baseline_id": baseline.pk,
                "keys": ["HeartbeatInterval"],
            },
        )
    ]
    drift = StationDrift.objects.get()
    assert drift.keys[0]["desired"] == "300" and drift.keys[0]["reported"] == "900"


def test_a_further_differing_key_is_announced_again(org, station, committed, announced):
    make_baseline(org, "HeartbeatInterval = 300\nMeterValueSampleInterval = 60")
    with committed():
        report_keys(station, HeartbeatInterval="900", MeterValueSampleInterval="60")
    with committed():
        report_keys(station, MeterValueSampleInterval="10")
    assert [data["keys"] for _name, data in announced] == [
        ["HeartbeatInterval"],
        ["HeartbeatInterval", "MeterValueSampleInterval"],
    ]


def test_reporting_the_desired_value_clears_the_drift(org, station, committed, announced):
    baseline = make_baseline(org, "HeartbeatInterval = 300")
    with committed():
        report_keys(station, HeartbeatInterval="900")
    with committed():
        report_keys(station, HeartbeatInterval="300")
    assert announced[-1] == (
        BASELINE_DRIFT_CLEARED,
        {"organization_id": org.pk, "station_id": station.pk, "baseline_id": baseline.pk},
    )
    assert not StationDrift.objects.exists()


def test_a_completed_201_report_is_checked(org, station201, committed, announced):
    make_baseline(org, "OCPPCommCtrlr/HeartbeatInterval = 300")
    with committed():
        report_variables(station201, ("OCPPCommCtrlr", "HeartbeatInterval", "30"))
    assert [data["keys"] for _name, data in announced] == [["OCPPCommCtrlr/HeartbeatInterval"]]


def test_a_baseline_without_drift_detection_finds_nothing(org, station, committed, announced):
    make_baseline(org, "HeartbeatInterval = 300", detect_drift=False)
    with committed():
        report_keys(station, HeartbeatInterval="900")
    assert announced == [] and not StationDrift.objects.exists()


def test_changing_the_baseline_to_the_reported_value_clears_the_drift(
    org, station, committed, announced
):
    baseline = make_baseline(org, "HeartbeatInterval = 300")
    with committed():
        report_keys(station, HeartbeatInterval="900")
    with committed():
        save_baseline(baseline, parse_settings("HeartbeatInterval = 900"))
    assert [name for name, _data in announced] == [BASELINE_DRIFT_FOUND, BASELINE_DRIFT_CLEARED]


def test_deleting_a_baseline_clears_its_drift(org, station, committed, announced):
    baseline = make_baseline(org, "HeartbeatInterval = 300")
    with committed():
        report_keys(station, HeartbeatInterval="900")
    baseline_id = baseline.pk
    with committed():
        delete_baseline(baseline)
    assert announced[-1] == (
        BASELINE_DRIFT_CLEARED,
        {"organization_id": org.pk, "station_id": station.pk, "baseline_id": baseline_id},
    )


def test_another_organizations_baseline_never_judges_a_station(
    org, other_org, station, committed, announced
):
    make_baseline(other_org, "HeartbeatInterval = 300")
    with committed():
        report_keys(station, HeartbeatInterval="900")
    assert announced == []


def test_checking_many_stations_takes_a_fixed_number_of_queries(
    org, committed, django_assert_max_num_queries
):
    make_baseline(org, "HeartbeatInterval = 300\nMeterValueSampleInterval = 60")
    stations = [
        ChargingStationFactory(organization=org, vendor="ABB", connectors=0) for _ in range(20)
    ]
    for station in stations:
        report_keys(station, HeartbeatInterval="900")
    StationDrift.objects.all().delete()
    with django_assert_max_num_queries(10):
        check_drift([s.pk for s in stations])
    assert StationDrift.objects.count() == 20


def test_only_the_baselines_own_matching_stations_count_as_drifting(
    org, other_org, station, committed
):
    baseline = make_baseline(org, "HeartbeatInterval = 300")
    moved = ChargingStationFactory(organization=org, vendor="ABB", ocpp_id="CS-MOVED")
    with committed():
        report_keys(station, HeartbeatInterval="900")
        report_keys(moved, HeartbeatInterval="900")
    assert StationDrift.objects.count() == 2
    # Moved to another organization since it was checked: its drift row is still there.
    type(moved).objects.filter(pk=moved.pk).update(organization=other_org)

    assert list(drifting_stations(baseline)) == [station]


def test_a_station_that_left_the_organization_loses_its_drift_when_rechecked(
    org, other_org, station, committed, announced
):
    baseline = make_baseline(org, "HeartbeatInterval = 300")
    with committed():
        report_keys(station, HeartbeatInterval="900")
    type(station).objects.filter(pk=station.pk).update(organization=other_org)
    with committed():
        refresh_baseline(baseline)

    assert not StationDrift.objects.exists()
    assert announced[-1] == (
        BASELINE_DRIFT_CLEARED,
        {"organization_id": org.pk, "station_id": station.pk, "baseline_id": baseline.pk},
    )
