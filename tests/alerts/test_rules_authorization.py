"""authorization_failures: refused tokens counted per station within the rule's window."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from alerts.choices import RuleKind
from alerts.models import Alert
from sessions_app.authorization import authorize_driver
from tests.factories import ChargingStationFactory

FAILURES = RuleKind.AUTHORIZATION_FAILURES


@pytest.fixture
def refuse(committed):
    """A driver presents unknown cards at the station `times` times."""

    def present(station, times=1):
        with committed():
            for n in range(times):
                assert not authorize_driver(station, f"UNKNOWN{n}").accepted

    return present


@pytest.fixture
def start():
    return timezone.now().replace(second=0, microsecond=0)


def test_failures_below_the_count_open_nothing(org, station, make_rule, refuse):
    make_rule(org, FAILURES, failure_count=3, window_minutes=10)
    refuse(station, 2)
    assert not Alert.objects.exists()


def test_reaching_the_count_within_the_window_opens_an_alert(
    org, station, make_rule, refuse, live_alerts, start
):
    rule = make_rule(org, FAILURES, failure_count=3, window_minutes=10)
    with time_machine.travel(start, tick=False):
        refuse(station, 2)
    with time_machine.travel(start + timedelta(minutes=9), tick=False):
        refuse(station)
    [alert] = live_alerts(FAILURES, org)
    assert (alert.station, alert.rule) == (station, rule)
    assert alert.details == {"count": 3, "window_minutes": 10}


def test_failures_spread_wider_than_the_window_open_nothing(org, station, make_rule, refuse, start):
    make_rule(org, FAILURES, failure_count=3, window_minutes=10)
    with time_machine.travel(start, tick=False):
        refuse(station, 2)
    with time_machine.travel(start + timedelta(minutes=11), tick=False):
        refuse(station)
    assert not Alert.objects.exists()


def test_failures_at_two_stations_are_counted_apart(org, station, make_rule, refuse):
    make_rule(org, FAILURES, failure_count=3, window_minutes=10)
    refuse(station, 2)
    refuse(ChargingStationFactory(organization=org), 2)
    assert not Alert.objects.exists()


def test_further_failures_count_on_the_same_alert(org, station, make_rule, refuse, live_alerts):
    make_rule(org, FAILURES, failure_count=3, window_minutes=10)
    refuse(station, 3)
    refuse(station)
    [alert] = live_alerts(FAILURES, org)
    assert alert.occurrences == 2
    assert alert.details["count"] == 4


def test_the_sweep_resolves_the_alert_once_the_window_holds_fewer_failures(
    org, station, make_rule, refuse, sweep, live_alerts, start
):
    make_rule(org, FAILURES, failure_count=3, window_minutes=10)
    with time_machine.travel(start, tick=False):
        refuse(station, 3)
    with time_machine.travel(start + timedelta(minutes=5), tick=False):
        sweep()
        assert len(live_alerts(FAILURES, org)) == 1
    with time_machine.travel(start + timedelta(minutes=11), tick=False):
        sweep()
    assert live_alerts(FAILURES) == []
