"""station_rejected: rejected boots, refused credentials, unknown identities knocking."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from alerts.choices import AlertState, RuleKind, Severity
from alerts.models import Alert
from ocpp_gateway.connections import Credentials, Handshake, open_connections
from stations.choices import RegistrationStatus
from stations.models import ChargingStation
from stations.services import BootReport, record_boots
from tests.factories import STATION_PASSWORD, ChargingStationFactory

REJECTED = RuleKind.STATION_REJECTED


@pytest.fixture
def boot(committed):
    def send(station):
        with committed():
            return record_boots([BootReport(station, vendor="ACME", model="X1")])[0]

    return send


@pytest.fixture
def knock(committed):
    """A WebSocket handshake as the gateway's batch authenticates it."""

    def connect(identity, password=STATION_PASSWORD):
        with committed():
            return open_connections(
                [Handshake(identity, Credentials(identity, password), "ocpp1.6", "a:1")]
            )[0]

    return connect


def reject(station):
    ChargingStation.objects.filter(pk=station.pk).update(
        registration_status=RegistrationStatus.REJECTED
    )


def accept(station):
    ChargingStation.objects.filter(pk=station.pk).update(
        registration_status=RegistrationStatus.ACCEPTED
    )


def test_a_rejected_boot_opens_an_alert_about_the_station(
    org, station, make_rule, boot, live_alerts
):
    rule = make_rule(org, REJECTED)
    reject(station)
    assert boot(station).registration_status == RegistrationStatus.REJECTED
    [alert] = live_alerts(REJECTED, org)
    assert (alert.station, alert.rule, alert.details["reason"]) == (station, rule, "boot_rejected")


def test_a_second_rejected_boot_counts_on_the_same_alert(
    org, station, make_rule, boot, live_alerts
):
    make_rule(org, REJECTED)
    reject(station)
    boot(station)
    boot(station)
    [alert] = live_alerts(REJECTED, org)
    assert alert.occurrences == 2


def test_an_accepted_boot_resolves_the_rejected_alert(org, station, make_rule, boot, live_alerts):
    make_rule(org, REJECTED)
    reject(station)
    boot(station)
    accept(station)
    boot(station)
    assert live_alerts(REJECTED) == []
    assert Alert.objects.get().state == AlertState.RESOLVED


def test_a_pending_boot_in_the_pool_opens_nothing(org, make_rule, boot):
    make_rule(org, REJECTED)
    boot(ChargingStationFactory(organization=None, site=None))
    assert not Alert.objects.exists()


def test_wrong_credentials_of_our_station_open_an_alert_for_us(
    org, station, make_rule, knock, live_alerts
):
    make_rule(org, REJECTED)
    knock(station.ocpp_id, password="not-the-password")
    [alert] = live_alerts(REJECTED, org)
    assert alert.station == station
    assert alert.details == {"reason": "wrong_credentials", "identity": station.ocpp_id}


def test_a_successful_connection_resolves_the_wrong_credentials_alert(
    org, station, make_rule, knock, live_alerts
):
    make_rule(org, REJECTED)
    knock(station.ocpp_id, password="not-the-password")
    knock(station.ocpp_id)
    assert live_alerts(REJECTED) == []


def test_a_connection_leaves_a_rejected_boot_alert_open(
    org, station, make_rule, boot, knock, live_alerts
):
    make_rule(org, REJECTED)
    reject(station)
    boot(station)
    knock(station.ocpp_id)
    assert len(live_alerts(REJECTED, org)) == 1


def test_an_unknown_identity_opens_a_platform_alert_no_organization_sees(
    org, make_rule, knock, live_alerts
):
    make_rule(org, REJECTED)
    knock("STRANGER-1")
    [alert] = live_alerts(REJECTED)
    assert (alert.organization, alert.rule, alert.severity) == (None, None, Severity.MEDIUM)
    assert alert.details == {"reason": "unknown_identity", "identity": "STRANGER-1"}
    assert live_alerts(REJECTED, org) == []


def test_an_unknown_identity_knocking_again_counts_on_its_platform_alert(db, knock, live_alerts):
    knock("STRANGER-1")
    knock("STRANGER-1")
    knock("STRANGER-2")
    alerts = live_alerts(REJECTED)
    assert sorted((a.details["identity"], a.occurrences) for a in alerts) == [
        ("STRANGER-1", 2),
        ("STRANGER-2", 1),
    ]


def test_a_platform_alert_resolves_when_its_identity_connects_as_a_known_station(
    org, knock, live_alerts
):
    knock("NEWCOMER-1")
    ChargingStationFactory(organization=org, ocpp_id="NEWCOMER-1")
    knock("NEWCOMER-1")
    assert live_alerts(REJECTED) == []


def test_a_platform_alert_resolves_after_a_day_without_attempts(db, knock, sweep, live_alerts):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        knock("STRANGER-1")
    with time_machine.travel(start + timedelta(hours=23), tick=False):
        sweep()
        assert len(live_alerts(REJECTED)) == 1
    with time_machine.travel(start + timedelta(hours=25), tick=False):
        sweep()
    assert live_alerts(REJECTED) == []
