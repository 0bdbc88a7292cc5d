"""session_stuck and meter_silent: running sessions whose readings stopped or stand still."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from alerts.choices import RuleKind
from alerts.models import Alert
from availability.models import MaintenanceWindow
from sessions_app.models import ChargingSession
from sessions_app.services import SampledValue, record_meter_values, start_session, stop_session
from stations.services import StatusReport, record_status_reports

STUCK = RuleKind.SESSION_STUCK
SILENT = RuleKind.METER_SILENT


@pytest.fixture
def t0():
    return timezone.now().replace(microsecond=0) - timedelta(hours=1)


def at(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def begin(committed, station):
    """A session started on connector 1 at `when`, the connector reported Charging."""

    def start(when, status="Charging"):
        with at(when), committed():
            record_status_reports([StatusReport(station, 1, status)])
            return start_session(
                station, connector_number=1, id_tag="04A1B2C3", started_at=when, meter_start=1000
            ).session

    return start


@pytest.fixture
def reading(committed, station):
    """An energy register reading of the session at `when` (Wh)."""

    def send(session, when, wh, **fields):
        with at(when), committed():
            record_meter_values(
                station,
                connector_number=1,
                samples=[SampledValue(when, Decimal(wh), **fields)],
                transaction_id=session.transaction_id,
            )

    return send


@pytest.fixture
def stop(committed, station):
    def end(session, when):
        with at(when), committed():
            stop_session(
                station,
                transaction_id=session.transaction_id,
                stopped_at=when,
                meter_stop=5000,
                reason="Local",
            )

    return end


@pytest.fixture
def sweep_at(sweep):
    def run(when):
        with at(when):
            return sweep()

    return run


# --- session_stuck ------------------------------------------------------------------------------


def test_a_session_without_readings_for_the_delay_opens_a_stuck_alert(
    org, station, make_rule, begin, sweep_at, live_alerts, t0
):
    rule = make_rule(org, STUCK, delay_minutes=30)
    session = begin(t0)
    sweep_at(t0 + timedelta(minutes=29))
    assert live_alerts(STUCK) == []
    sweep_at(t0 + timedelta(minutes=31))
    [alert] = live_alerts(STUCK, org)
    assert (alert.session, alert.station, alert.rule) == (session, station, rule)
    assert alert.fingerprint.endswith(f"session:{session.pk}")
    assert alert.details["reasons"] == ["no_readings"]


def test_recent_readings_keep_a_session_from_being_stuck(
    org, make_rule, begin, reading, sweep_at, t0
):
    make_rule(org, STUCK, delay_minutes=30)
    session = begin(t0)
    reading(session, t0 + timedelta(minutes=25), 1500)
    sweep_at(t0 + timedelta(minutes=31))
    assert not Alert.objects.exists()
    sweep_at(t0 + timedelta(minutes=56))
    assert Alert.objects.filter(kind=STUCK).count() == 1


def test_a_session_longer_than_the_longest_opens_a_stuck_alert(
    org, make_rule, begin, reading, sweep_at, live_alerts, t0
):
    make_rule(org, STUCK, delay_minutes=30, max_session_hours=2)
    session = begin(t0 - timedelta(hours=2))
    reading(session, t0, 1500)
    sweep_at(t0 + timedelta(minutes=1))
    [alert] = live_alerts(STUCK, org)
    assert alert.details["reasons"] == ["too_long"]


def test_repeated_sweeps_keep_one_stuck_alert(org, make_rule, begin, sweep_at, live_alerts, t0):
    make_rule(org, STUCK, delay_minutes=30)
    begin(t0)
    sweep_at(t0 + timedelta(minutes=31))
    sweep_at(t0 + timedelta(minutes=32))
    [alert] = live_alerts(STUCK, org)
    assert alert.occurrences == 1


def test_stopping_the_session_resolves_its_stuck_alert(
    org, make_rule, begin, stop, sweep_at, live_alerts, t0
):
    make_rule(org, STUCK, delay_minutes=30)
    session = begin(t0)
    sweep_at(t0 + timedelta(minutes=31))
    stop(session, t0 + timedelta(minutes=32))
    assert live_alerts(STUCK) == []


def test_readings_resuming_resolve_the_stuck_alert(
    org, make_rule, begin, reading, sweep_at, live_alerts, t0
):
    make_rule(org, STUCK, delay_minutes=30)
    session = begin(t0)
    sweep_at(t0 + timedelta(minutes=31))
    reading(session, t0 + timedelta(minutes=32), 1500)
    sweep_at(t0 + timedelta(minutes=33))
    assert live_alerts(STUCK) == []


# --- meter_silent -------------------------------------------------------------------------------


def test_a_charging_session_whose_register_stands_still_opens_a_silent_alert(
    org, station, make_rule, begin, reading, sweep_at, live_alerts, t0
):
    rule = make_rule(org, SILENT, delay_minutes=15)
    session = begin(t0)
    for minute in (1, 10, 17):
        reading(session, t0 + timedelta(minutes=minute), 1200)
    sweep_at(t0 + timedelta(minutes=17))
    [alert] = live_alerts(SILENT, org)
    assert (alert.session, alert.station, alert.rule) == (session, station, rule)


def test_a_register_that_advances_opens_no_silent_alert(
    org, make_rule, begin, reading, sweep_at, t0
):
    make_rule(org, SILENT, delay_minutes=15)
    session = begin(t0)
    for minute, wh in ((1, 1200), (10, 1200), (17, 1300)):
        reading(session, t0 + timedelta(minutes=minute), wh)
    sweep_at(t0 + timedelta(minutes=17))
    assert not Alert.objects.exists()


def test_a_per_phase_register_that_advances_opens_no_silent_alert(
    org, make_rule, begin, reading, sweep_at, t0
):
    make_rule(org, SILENT, delay_minutes=15)
    session = begin(t0)
    for minute, wh in ((1, 400), (17, 450)):
        for phase in ("L1", "L2", "L3"):
            reading(session, t0 + timedelta(minutes=minute), wh, phase=phase)
    sweep_at(t0 + timedelta(minutes=17))
    assert not Alert.objects.exists()


def test_a_session_not_charging_opens_no_silent_alert(org, make_rule, begin, reading, sweep_at, t0):
    make_rule(org, SILENT, delay_minutes=15)
    session = begin(t0, status="SuspendedEV")
    for minute in (1, 17):
        reading(session, t0 + timedelta(minutes=minute), 1200)
    sweep_at(t0 + timedelta(minutes=17))
    assert not Alert.objects.exists()


def test_a_2_0_1_session_charging_by_its_transaction_state_is_watched(
    org, make_rule, begin, reading, sweep_at, live_alerts, t0
):
    make_rule(org, SILENT, delay_minutes=15)
    session = begin(t0, status="Occupied")
    ChargingSession.objects.filter(pk=session.pk).update(charging_state="Charging")
    for minute in (1, 17):
        reading(session, t0 + timedelta(minutes=minute), 1200)
    sweep_at(t0 + timedelta(minutes=17))
    assert len(live_alerts(SILENT, org)) == 1


def test_repeated_sweeps_keep_one_silent_alert(
    org, make_rule, begin, reading, sweep_at, live_alerts, t0
):
    make_rule(org, SILENT, delay_minutes=15)
    session = begin(t0)
    for minute in (1, 17):
        reading(session, t0 + timedelta(minutes=minute), 1200)
    sweep_at(t0 + timedelta(minutes=17))
    sweep_at(t0 + timedelta(minutes=18))
    [alert] = live_alerts(SILENT, org)
    assert alert.occurrences == 1


def test_the_register_moving_again_resolves_the_silent_alert(
    org, make_rule, begin, reading, sweep_at, live_alerts, t0
):
    make_rule(org, SILENT, delay_minutes=15)
    session = begin(t0)
    for minute in (1, 17):
        reading(session, t0 + timedelta(minutes=minute), 1200)
    sweep_at(t0 + timedelta(minutes=17))
    reading(session, t0 + timedelta(minutes=18), 1400)
    sweep_at(t0 + timedelta(minutes=18))
    assert live_alerts(SILENT) == []


def test_stopping_the_session_resolves_its_silent_alert(
    org, make_rule, begin, reading, stop, sweep_at, live_alerts, t0
):
    make_rule(org, SILENT, delay_minutes=15)
    session = begin(t0)
    for minute in (1, 17):
        reading(session, t0 + timedelta(minutes=minute), 1200)
    sweep_at(t0 + timedelta(minutes=17))
    stop(session, t0 + timedelta(minutes=18))
    assert live_alerts(SILENT) == []


def test_a_station_under_maintenance_opens_no_silent_alert(
    org, station, make_rule, begin, reading, sweep_at, t0
):
    make_rule(org, SILENT, delay_minutes=15)
    MaintenanceWindow.objects.create(
        organization=org, station=station, starts_at=t0, ends_at=t0 + timedelta(hours=2)
    )
    session = begin(t0)
    for minute in (1, 17):
        reading(session, t0 + timedelta(minutes=minute), 1200)
    sweep_at(t0 + timedelta(minutes=17))
    assert not Alert.objects.exists()
