"""station_offline: the sweep opens it after the rule's delay; a connection resolves it."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from alerts.choices import AlertState, RuleKind
from alerts.models import Alert
from ocpp_gateway.connections import (
    Credentials,
    Handshake,
    mark_many_disconnected,
    open_connections,
)
from stations.choices import ConnectionState
from stations.models import ChargingStation
from tests.factories import STATION_PASSWORD, ChargingStationFactory

OFFLINE = RuleKind.STATION_OFFLINE


@pytest.fixture
def connect(committed):
    """Open a station's connection as the gateway's handshake batch does; its time."""

    def open_(station):
        with committed():
            [(_, since)] = open_connections(
                [
                    Handshake(
                        station.ocpp_id,
                        Credentials(station.ocpp_id, STATION_PASSWORD),
                        "ocpp1.6",
                        "a:1",
                    )
                ]
            )
        return since

    return open_


@pytest.fixture
def disconnect(committed):
    def close(station, since):
        with committed():
            mark_many_disconnected([(station.pk, since)])

    return close


@pytest.fixture
def start():
    return timezone.now().replace(microsecond=0)


def at(moment):
    return time_machine.travel(moment, tick=False)


def test_a_station_offline_longer_than_the_delay_opens_an_alert(
    org, station, make_rule, connect, disconnect, sweep, live_alerts, start
):
    rule = make_rule(org, OFFLINE, delay_minutes=15)
    with at(start):
        disconnect(station, connect(station))
    with at(start + timedelta(minutes=16)):
        sweep()
    [alert] = live_alerts(OFFLINE, org)
    assert (alert.station, alert.site_id, alert.rule) == (station, station.site_id, rule)
    assert alert.details["offline_since"] == start.isoformat()


def test_a_station_offline_shorter_than_the_delay_opens_nothing(
    org, station, make_rule, connect, disconnect, sweep, start
):
    make_rule(org, OFFLINE, delay_minutes=15)
    with at(start):
        disconnect(station, connect(station))
    with at(start + timedelta(minutes=14)):
        sweep()
    assert not Alert.objects.exists()


def test_the_offline_time_counts_from_the_last_disconnection(
    org, station, make_rule, connect, disconnect, sweep, start
):
    make_rule(org, OFFLINE, delay_minutes=15)
    with at(start):
        disconnect(station, connect(station))
    with at(start + timedelta(minutes=10)):
        disconnect(station, connect(station))
    with at(start + timedelta(minutes=20)):
        sweep()
    assert not Alert.objects.exists()


def test_without_connection_history_the_last_seen_time_counts(org, make_rule, sweep, live_alerts):
    make_rule(org, OFFLINE, delay_minutes=15)
    station = ChargingStationFactory(
        organization=org, last_seen=timezone.now() - timedelta(minutes=30)
    )
    sweep()
    assert [a.station for a in live_alerts(OFFLINE, org)] == [station]


def test_a_station_never_seen_is_not_offline(org, make_rule, sweep):
    make_rule(org, OFFLINE, delay_minutes=0)
    ChargingStationFactory(organization=org, last_seen=None)
    sweep()
    assert not Alert.objects.exists()


def test_a_station_in_the_unassigned_pool_is_not_offline(org, make_rule, sweep):
    make_rule(org, OFFLINE, delay_minutes=0)
    ChargingStationFactory(
        organization=None, site=None, last_seen=timezone.now() - timedelta(hours=1)
    )
    sweep()
    assert not Alert.objects.exists()


def test_repeated_sweeps_keep_one_alert_for_an_offline_station(org, make_rule, sweep, live_alerts):
    make_rule(org, OFFLINE, delay_minutes=15)
    ChargingStationFactory(organization=org, last_seen=timezone.now() - timedelta(minutes=30))
    sweep()
    sweep()
    [alert] = live_alerts(OFFLINE, org)
    assert alert.occurrences == 1


def test_a_connection_resolves_the_offline_alert_at_once(
    org, station, make_rule, connect, disconnect, sweep, live_alerts, start
):
    make_rule(org, OFFLINE, delay_minutes=15)
    with at(start):
        disconnect(station, connect(station))
    with at(start + timedelta(minutes=16)):
        sweep()
        connect(station)
    assert live_alerts(OFFLINE) == []
    alert = Alert.objects.get(kind=OFFLINE)
    assert (alert.state, alert.resolved_at) == (AlertState.RESOLVED, start + timedelta(minutes=16))


def test_a_station_flapping_within_the_reopen_window_keeps_one_alert(
    org, station, make_rule, connect, disconnect, sweep, live_alerts, start
):
    make_rule(org, OFFLINE, delay_minutes=1)
    with at(start):
        disconnect(station, connect(station))
    with at(start + timedelta(minutes=2)):
        sweep()
        disconnect(station, connect(station))
    with at(start + timedelta(minutes=4)):
        sweep()
    [alert] = live_alerts(OFFLINE, org)
    assert alert.occurrences == 2
    assert Alert.objects.count() == 1


def test_the_sweep_resolves_a_station_online_again(org, make_rule, sweep, live_alerts):
    make_rule(org, OFFLINE, delay_minutes=15)
    station = ChargingStationFactory(
        organization=org, last_seen=timezone.now() - timedelta(minutes=30)
    )
    sweep()
    # Back online without the subscriber hearing it (a lease reconciliation, a lost call).
    ChargingStation.objects.filter(pk=station.pk).update(connection_state=ConnectionState.ONLINE)
    sweep()
    assert live_alerts(OFFLINE) == []
