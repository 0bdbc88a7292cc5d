"""Which rule applies (station over site over organization), maintenance windows, tenancy."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from alerts.choices import RuleKind, Severity
from alerts.models import Alert
from availability.models import MaintenanceWindow
from core.events import emit
from stations.choices import RegistrationStatus
from stations.events import STATION_STATUS_CHANGED
from stations.models import ChargingStation
from stations.services import BootReport, StatusReport, record_boots, record_status_reports
from tests.factories import ChargingStationFactory, SiteFactory

FAULTED = RuleKind.CONNECTOR_FAULTED


@pytest.fixture
def report(committed):
    def send(station, number, status):
        with committed():
            record_status_reports([StatusReport(station, number, status)])

    return send


@pytest.fixture
def maintenance(org):
    """A maintenance window running now (or from `starts` to `ends`) over a scope."""

    def declare(organization=None, starts=None, ends=None, **scope):
        now = timezone.now()
        return MaintenanceWindow.objects.create(
            organization=organization or org,
            starts_at=starts or now - timedelta(minutes=5),
            ends_at=ends or now + timedelta(hours=1),
            reason="Cable replacement",
            **scope,
        )

    return declare


# --- scope ------------------------------------------------------------------------------------


@pytest.fixture
def scoped_rules(org, station, make_rule):
    return {
        "org": make_rule(org, FAULTED, severity=Severity.LOW),
        "site": make_rule(org, FAULTED, severity=Severity.MEDIUM, site=station.site),
        "station": make_rule(org, FAULTED, severity=Severity.CRITICAL, station=station),
    }


def test_a_station_rule_beats_the_site_and_organization_rules(
    station, scoped_rules, report, live_alerts
):
    report(station, 1, "Faulted")
    [alert] = live_alerts(FAULTED)
    assert (alert.rule, alert.severity) == (scoped_rules["station"], Severity.CRITICAL)


def test_a_site_rule_beats_the_organization_rule(org, station, scoped_rules, report, live_alerts):
    neighbour = ChargingStationFactory(organization=org, site=station.site)
    report(neighbour, 1, "Faulted")
    [alert] = live_alerts(FAULTED)
    assert (alert.rule, alert.severity) == (scoped_rules["site"], Severity.MEDIUM)


def test_the_organization_rule_covers_stations_elsewhere(org, scoped_rules, report, live_alerts):
    elsewhere = ChargingStationFactory(organization=org, site=SiteFactory(organization=org))
    report(elsewhere, 1, "Faulted")
    [alert] = live_alerts(FAULTED)
    assert (alert.rule, alert.severity) == (scoped_rules["org"], Severity.LOW)


def test_a_disabled_rule_opens_nothing(org, station, make_rule, report):
    make_rule(org, FAULTED, enabled=False)
    report(station, 1, "Faulted")
    assert not Alert.objects.exists()


def test_a_disabled_station_rule_leaves_the_broader_rule_in_charge(
    org, station, scoped_rules, report, live_alerts
):
    scoped_rules["station"].enabled = False
    scoped_rules["station"].save()
    report(station, 1, "Faulted")
    [alert] = live_alerts(FAULTED)
    assert alert.rule == scoped_rules["site"]


def test_a_rule_of_another_station_does_not_apply(org, station, make_rule, report):
    make_rule(org, FAULTED, station=ChargingStationFactory(organization=org))
    report(station, 1, "Faulted")
    assert not Alert.objects.exists()


# --- maintenance windows ----------------------------------------------------------------------


@pytest.mark.parametrize("scope", ["organization", "site", "station"])
def test_a_station_under_maintenance_opens_no_fault_alert(
    org, station, make_rule, maintenance, report, scope
):
    make_rule(org, FAULTED)
    maintenance(
        **{"organization": {}, "site": {"site": station.site}, "station": {"station": station}}[
            scope
        ]
    )
    report(station, 1, "Faulted")
    assert not Alert.objects.exists()


def test_maintenance_of_another_station_suppresses_nothing(
    org, station, make_rule, maintenance, report, live_alerts
):
    make_rule(org, FAULTED)
    maintenance(station=ChargingStationFactory(organization=org, site=station.site))
    report(station, 1, "Faulted")
    assert len(live_alerts(FAULTED, org)) == 1


def test_a_window_past_or_to_come_suppresses_nothing(
    org, station, make_rule, maintenance, report, live_alerts
):
    make_rule(org, FAULTED)
    now = timezone.now()
    maintenance(station=station, starts=now - timedelta(hours=3), ends=now - timedelta(hours=1))
    maintenance(station=station, starts=now + timedelta(hours=1), ends=now + timedelta(hours=3))
    report(station, 1, "Faulted")
    assert len(live_alerts(FAULTED, org)) == 1


def test_an_alert_still_resolves_during_maintenance(
    org, station, make_rule, maintenance, report, live_alerts
):
    make_rule(org, FAULTED)
    report(station, 1, "Faulted")
    maintenance(station=station)
    report(station, 1, "Available")
    assert live_alerts(FAULTED) == []


def test_a_fault_lasting_past_the_window_opens_its_alert_then(
    org, station, make_rule, maintenance, report, sweep, live_alerts
):
    make_rule(org, FAULTED)
    now = timezone.now()
    maintenance(station=station, ends=now + timedelta(minutes=30))
    report(station, 1, "Faulted")
    with time_machine.travel(now + timedelta(minutes=10), tick=False):
        sweep()
    assert live_alerts(FAULTED) == []
    with time_machine.travel(now + timedelta(minutes=31), tick=False):
        sweep()
    assert len(live_alerts(FAULTED, org)) == 1


def test_a_station_under_maintenance_opens_no_offline_alert(org, make_rule, maintenance, sweep):
    make_rule(org, RuleKind.STATION_OFFLINE, delay_minutes=15)
    station = ChargingStationFactory(
        organization=org, last_seen=timezone.now() - timedelta(hours=1)
    )
    maintenance(site=station.site)
    sweep()
    assert not Alert.objects.exists()


def test_a_station_under_maintenance_opens_no_rejected_alert(
    org, station, make_rule, maintenance, committed
):
    make_rule(org, RuleKind.STATION_REJECTED)
    ChargingStation.objects.filter(pk=station.pk).update(
        registration_status=RegistrationStatus.REJECTED
    )
    maintenance()
    with committed():
        record_boots([BootReport(station)])
    assert not Alert.objects.exists()


def test_maintenance_of_another_organization_suppresses_nothing(
    org, other_org, station, make_rule, maintenance, report, live_alerts
):
    make_rule(org, FAULTED)
    maintenance(organization=other_org)
    report(station, 1, "Faulted")
    assert len(live_alerts(FAULTED, org)) == 1


# --- tenancy ----------------------------------------------------------------------------------


def test_a_rule_of_another_organization_never_applies_to_our_stations(
    org, other_org, station, make_rule, report
):
    make_rule(other_org, FAULTED)
    report(station, 1, "Faulted")
    assert not Alert.objects.exists()


def test_an_outsider_station_fault_opens_nothing_for_us(
    org, other_org, make_rule, report, live_alerts
):
    make_rule(org, FAULTED)
    make_rule(other_org, FAULTED)
    report(ChargingStationFactory(organization=other_org), 1, "Faulted")
    assert live_alerts(FAULTED, org) == []
    assert len(live_alerts(FAULTED, other_org)) == 1


def test_an_event_naming_another_organization_never_opens_or_clears_ours(
    org, other_org, station, make_rule, report, committed, live_alerts
):
    make_rule(org, FAULTED)
    make_rule(other_org, FAULTED)
    report(station, 1, "Faulted")
    connector = station.connectors.get(connector_id=1)
    with committed():
        for status in ("Available", "Faulted"):
            emit(
                STATION_STATUS_CHANGED, organization_id=other_org.pk, station_id=station.pk,
                connector_id=connector.pk, status=status, error_code="", vendor_error_code="",
            )  # fmt: skip
    assert len(live_alerts(FAULTED, org)) == 1
    assert live_alerts(FAULTED, other_org) == []
