"""start_failed: remote starts refused, unanswered, or accepted without a session in time."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from alerts.choices import RuleKind
from alerts.models import Alert
from sessions_app.choices import RemoteStartStatus
from sessions_app.services import record_remote_start_answer, request_remote_start, start_session

START_FAILED = RuleKind.START_FAILED


@pytest.fixture
def t0():
    return timezone.now().replace(microsecond=0) - timedelta(minutes=30)


def at(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def remote_start(station):
    """An operator's remote start at `when` on connector 1 (None: any), answered `status`."""

    def request(when, status, connector_number=1):
        connector = (
            station.connectors.get(connector_id=connector_number) if connector_number else None
        )
        with at(when):
            start = request_remote_start(station, id_tag="04A1B2C3", connector=connector)
            return record_remote_start_answer(start, status)

    return request


@pytest.fixture
def session_started(committed, station):
    def start(when, connector_number=1):
        with at(when), committed():
            return start_session(
                station,
                connector_number=connector_number,
                id_tag="DRIVER01",
                started_at=when,
                meter_start=0,
            ).session

    return start


@pytest.fixture
def sweep_at(sweep):
    def run(when):
        with at(when):
            return sweep()

    return run


def test_an_accepted_start_without_a_session_in_time_opens_an_alert(
    org, station, make_rule, remote_start, sweep_at, live_alerts, t0
):
    rule = make_rule(org, START_FAILED, start_timeout_seconds=120)
    start = remote_start(t0, RemoteStartStatus.ACCEPTED)
    sweep_at(t0 + timedelta(seconds=110))
    assert live_alerts(START_FAILED) == []
    sweep_at(t0 + timedelta(seconds=130))
    [alert] = live_alerts(START_FAILED, org)
    connector = station.connectors.get(connector_id=1)
    assert (alert.connector, alert.station, alert.rule) == (connector, station, rule)
    assert alert.details == {"remote_start_ids": [start.pk], "status": "accepted"}


def test_an_accepted_start_that_led_to_a_session_opens_nothing(
    org, make_rule, remote_start, session_started, sweep_at, t0
):
    make_rule(org, START_FAILED, start_timeout_seconds=120)
    remote_start(t0, RemoteStartStatus.ACCEPTED)
    session_started(t0 + timedelta(seconds=30))
    sweep_at(t0 + timedelta(minutes=5))
    assert not Alert.objects.exists()


@pytest.mark.parametrize("status", [RemoteStartStatus.REJECTED, RemoteStartStatus.FAILED])
def test_a_refused_or_unanswered_start_opens_an_alert_at_once(
    org, make_rule, remote_start, sweep_at, live_alerts, t0, status
):
    make_rule(org, START_FAILED)
    remote_start(t0, status)
    sweep_at(t0 + timedelta(seconds=5))
    [alert] = live_alerts(START_FAILED, org)
    assert alert.details["status"] == status


def test_a_start_on_any_connector_is_an_alert_about_the_station(
    org, station, make_rule, remote_start, sweep_at, live_alerts, t0
):
    make_rule(org, START_FAILED)
    remote_start(t0, RemoteStartStatus.REJECTED, connector_number=None)
    sweep_at(t0 + timedelta(seconds=5))
    [alert] = live_alerts(START_FAILED, org)
    assert (alert.station, alert.connector) == (station, None)


def test_repeated_failures_on_a_connector_count_on_one_alert(
    org, make_rule, remote_start, sweep_at, live_alerts, t0
):
    make_rule(org, START_FAILED)
    first = remote_start(t0, RemoteStartStatus.REJECTED)
    sweep_at(t0 + timedelta(minutes=1))
    sweep_at(t0 + timedelta(minutes=2))
    second = remote_start(t0 + timedelta(minutes=3), RemoteStartStatus.REJECTED)
    sweep_at(t0 + timedelta(minutes=4))
    sweep_at(t0 + timedelta(minutes=5))
    [alert] = live_alerts(START_FAILED, org)
    assert alert.occurrences == 2
    assert alert.details["remote_start_ids"] == [first.pk, second.pk]


def test_the_next_session_at_the_connector_resolves_the_alert(
    org, make_rule, remote_start, session_started, sweep_at, live_alerts, t0
):
    make_rule(org, START_FAILED)
    remote_start(t0, RemoteStartStatus.REJECTED)
    sweep_at(t0 + timedelta(minutes=1))
    session_started(t0 + timedelta(minutes=2))
    assert live_alerts(START_FAILED) == []
    # The failure before that session is history: the sweep does not open it again.
    sweep_at(t0 + timedelta(minutes=3))
    assert live_alerts(START_FAILED) == []


def test_a_session_at_another_connector_leaves_the_alert_open(
    org, make_rule, remote_start, session_started, sweep_at, live_alerts, t0
):
    make_rule(org, START_FAILED)
    remote_start(t0, RemoteStartStatus.REJECTED)
    sweep_at(t0 + timedelta(minutes=1))
    session_started(t0 + timedelta(minutes=2), connector_number=2)
    sweep_at(t0 + timedelta(minutes=3))
    assert len(live_alerts(START_FAILED, org)) == 1


def test_failures_older_than_an_hour_open_nothing(org, make_rule, remote_start, sweep_at, t0):
    make_rule(org, START_FAILED)
    remote_start(t0, RemoteStartStatus.REJECTED)
    sweep_at(t0 + timedelta(minutes=61))
    assert not Alert.objects.exists()


def test_a_session_at_another_connector_does_not_hide_a_failure(
    org, station, make_rule, remote_start, session_started, sweep_at, live_alerts, t0
):
    make_rule(org, START_FAILED)
    remote_start(t0, RemoteStartStatus.REJECTED)
    session_started(t0 + timedelta(minutes=1), connector_number=2)
    sweep_at(t0 + timedelta(minutes=2))
    [alert] = live_alerts(START_FAILED, org)
    assert alert.connector == station.connectors.get(connector_id=1)
