"""security_event: critical security events and severe device-model events of a station."""

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.choices import RuleKind
from alerts.models import Alert
from stations.models import MonitorSource, MonitorType, VariableMonitor
from stations.station_events import (
    ReportedEvent,
    Target,
    record_security_event,
    record_station_events,
)

SECURITY = RuleKind.SECURITY_EVENT
DOOR = Target(component="Door", variable="Problem", evse=1)


@pytest.fixture
def security_event(committed, station):
    def send(event_type, ago=0):
        with committed():
            return record_security_event(
                station, event_type, timezone.now() - timedelta(seconds=ago)
            )

    return send


@pytest.fixture
def monitor(station):
    """A monitor of the station on the door's Problem variable, of the given severity."""

    def make(severity, monitor_id=7):
        return VariableMonitor.objects.create(
            station=station, monitor_id=monitor_id, component="Door", variable="Problem",
            evse_number=1, type=MonitorType.DELTA, value=1, severity=severity,
            status=MonitorSource.SET,
        )  # fmt: skip

    return make


@pytest.fixture
def notify(committed, station):
    """A NotifyEvent entry about the door raised by monitor 7."""
    counter = iter(range(1, 100))

    def send(cleared=False, target=DOOR, monitor_id=7):
        with committed():
            return record_station_events(
                station,
                [
                    ReportedEvent(
                        event_id=next(counter), timestamp=timezone.now(), trigger="Delta",
                        actual_value="false" if cleared else "true",
                        notification_type="CustomMonitor", target=target, cleared=cleared,
                        monitor_id=monitor_id,
                    )
                ],
            )  # fmt: skip

    return send


def test_a_critical_security_event_opens_an_alert(
    org, station, make_rule, security_event, live_alerts
):
    rule = make_rule(org, SECURITY)
    security_event("TamperDetectionActivated")
    [alert] = live_alerts(SECURITY, org)
    assert (alert.station, alert.rule) == (station, rule)
    assert alert.fingerprint.endswith(f"station:{station.pk}:TamperDetectionActivated")
    assert alert.details["event_type"] == "TamperDetectionActivated"


def test_the_same_security_event_again_counts_on_its_alert(
    org, make_rule, security_event, live_alerts
):
    make_rule(org, SECURITY)
    security_event("InvalidCsmsCertificate", ago=60)
    security_event("InvalidCsmsCertificate")
    security_event("MaintenanceLoginFailed")
    alerts = live_alerts(SECURITY, org)
    assert sorted((a.details["event_type"], a.occurrences) for a in alerts) == [
        ("InvalidCsmsCertificate", 2),
        ("MaintenanceLoginFailed", 1),
    ]


@pytest.mark.parametrize("event_type", ["StartupOfTheDevice", "ResetOrReboot", "VendorHello"])
def test_routine_and_non_critical_security_events_open_nothing(
    org, make_rule, security_event, event_type
):
    make_rule(org, SECURITY)
    security_event(event_type)
    assert not Alert.objects.exists()


def test_an_event_of_a_severe_monitor_opens_an_alert_about_its_variable(
    org, station, make_rule, monitor, notify, live_alerts
):
    make_rule(org, SECURITY)
    monitor(severity=1)
    notify()
    [alert] = live_alerts(SECURITY, org)
    assert alert.fingerprint.endswith(f"station:{station.pk}:Door@1.0/Problem")
    assert (alert.details["component"], alert.details["severity"]) == ("Door", 1)


def test_an_event_of_a_mild_monitor_opens_nothing(org, make_rule, monitor, notify):
    make_rule(org, SECURITY)
    monitor(severity=6)
    notify()
    assert not Alert.objects.exists()


def test_a_severe_event_repeated_counts_on_its_alert(org, make_rule, monitor, notify, live_alerts):
    make_rule(org, SECURITY)
    monitor(severity=2)
    notify()
    notify()
    [alert] = live_alerts(SECURITY, org)
    assert alert.occurrences == 2


def test_a_cleared_event_of_the_same_variable_resolves_the_alert(
    org, make_rule, monitor, notify, live_alerts
):
    make_rule(org, SECURITY)
    monitor(severity=0)
    notify()
    notify(cleared=True)
    assert live_alerts(SECURITY) == []
    assert Alert.objects.get().resolved_at is not None


def test_a_cleared_event_of_another_variable_leaves_the_alert_open(
    org, make_rule, monitor, notify, live_alerts
):
    make_rule(org, SECURITY)
    monitor(severity=0)
    notify()
    notify(cleared=True, target=Target(component="Door", variable="Problem", evse=2))
    assert len(live_alerts(SECURITY, org)) == 1
