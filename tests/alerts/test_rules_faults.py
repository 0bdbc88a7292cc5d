"""connector_faulted: a Faulted status report opens an alert, a recovery resolves it."""

import threading
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone

from alerts import rules, tasks
from alerts.choices import AlertState, RuleKind, Severity
from alerts.models import Alert
from alerts.services import resolve_alert
from alerts.subscribers import fault_sender, watch_statuses
from core import events
from stations.events import STATION_STATUS_CHANGED
from stations.models import Connector
from stations.services import StatusReport, record_status_reports
from tests.factories import ChargingStationFactory

FAULTED = RuleKind.CONNECTOR_FAULTED


@pytest.fixture
def report(committed):
    """Record status reports as the gateway's batch does, subscribers run after the commit."""

    def send(*reports):
        with committed():
            record_status_reports(
                [StatusReport(*r[:3], **(r[3] if len(r) > 3 else {})) for r in reports]
            )

    return send


@contextmanager
def alerting_deaf():
    """Alerting's status subscriber does not hear the block (the test hands it the batch)."""
    events.unsubscribe(STATION_STATUS_CHANGED, watch_statuses)
    try:
        yield
    finally:
        events.subscribe(STATION_STATUS_CHANGED, watch_statuses)


@pytest.fixture
def heard():
    """The status events of one batch, as the subscribers get them."""
    batches = []

    def listen(batch):
        batches.append(batch)

    events.subscribe(STATION_STATUS_CHANGED, listen)
    yield batches
    events.unsubscribe(STATION_STATUS_CHANGED, listen)


def test_a_faulted_connector_opens_an_alert_about_it(org, station, make_rule, report, live_alerts):
    rule = make_rule(org, FAULTED, severity=Severity.CRITICAL)
    report((station, 1, "Faulted", {"error_code": "GroundFailure", "vendor_error_code": "E42"}))
    [alert] = live_alerts(FAULTED, org)
    connector = station.connectors.get(connector_id=1)
    assert (alert.connector, alert.station, alert.site_id) == (connector, station, station.site_id)
    assert (alert.rule, alert.severity, alert.state) == (rule, Severity.CRITICAL, AlertState.OPEN)
    assert alert.details["error_code"] == "GroundFailure"
    assert alert.details["vendor_error_code"] == "E42"


def test_a_second_faulted_report_counts_on_the_same_alert(
    org, station, make_rule, report, live_alerts
):
    make_rule(org, FAULTED)
    report((station, 1, "Faulted", {"error_code": "GroundFailure"}))
    report((station, 1, "Faulted", {"error_code": "OverCurrentFailure"}))
    [alert] = live_alerts(FAULTED, org)
    assert alert.occurrences == 2
    assert alert.details["error_code"] == "OverCurrentFailure"


def test_a_recovered_connector_resolves_its_fault_alert(
    org, station, make_rule, report, live_alerts
):
    make_rule(org, FAULTED)
    report((station, 1, "Faulted", {"error_code": "GroundFailure"}))
    report((station, 1, "Available"))
    assert live_alerts(FAULTED) == []
    alert = Alert.objects.get(kind=FAULTED)
    assert alert.state == AlertState.RESOLVED
    assert alert.resolved_by is None
    assert alert.duration is not None


def test_another_connector_recovering_leaves_the_fault_alert_open(
    org, station, make_rule, report, live_alerts
):
    make_rule(org, FAULTED)
    report((station, 1, "Faulted"))
    report((station, 2, "Available"))
    assert len(live_alerts(FAULTED, org)) == 1


def test_faulted_then_available_in_one_batch_leaves_no_alert(
    org, station, make_rule, report, live_alerts
):
    make_rule(org, FAULTED)
    report((station, 1, "Faulted", {"timestamp": timezone.now() - timedelta(seconds=2)}),
           (station, 1, "Available"))  # fmt: skip
    assert live_alerts(FAULTED) == []


def test_a_faulted_station_opens_an_alert_about_the_station_itself(
    org, station, make_rule, report, live_alerts
):
    make_rule(org, FAULTED)
    report((station, 0, "Faulted", {"error_code": "PowerMeterFailure"}))
    [alert] = live_alerts(FAULTED, org)
    assert (alert.station, alert.connector) == (station, None)
    assert alert.fingerprint.endswith(f"station:{station.pk}")
    report((station, 0, "Available"))
    assert live_alerts(FAULTED) == []


def test_a_rule_limited_to_error_codes_ignores_other_codes(
    org, station, make_rule, report, live_alerts
):
    make_rule(org, FAULTED, error_codes="GroundFailure, HighTemperature")
    report((station, 1, "Faulted", {"error_code": "OtherError"}))
    assert live_alerts(FAULTED) == []
    report((station, 2, "Faulted", {"error_code": "HighTemperature"}))
    [alert] = live_alerts(FAULTED, org)
    assert alert.connector == station.connectors.get(connector_id=2)


def test_a_rule_limited_to_vendor_error_codes_ignores_other_vendor_codes(
    org, station, make_rule, report, live_alerts
):
    make_rule(org, FAULTED, vendor_error_codes="E42")
    report((station, 1, "Faulted", {"error_code": "OtherError", "vendor_error_code": "E7"}))
    assert live_alerts(FAULTED) == []
    report((station, 1, "Faulted", {"error_code": "OtherError", "vendor_error_code": "E42"}))
    assert len(live_alerts(FAULTED, org)) == 1


def test_a_station_in_the_unassigned_pool_opens_nothing(org, make_rule, report):
    make_rule(org, FAULTED)
    pooled = ChargingStationFactory(organization=None, site=None)
    report((pooled, 1, "Faulted"))
    assert not Alert.objects.exists()


def test_a_delayed_rule_opens_only_once_the_fault_lasted_that_long(
    org, station, make_rule, report, sweep, live_alerts
):
    make_rule(org, FAULTED, delay_minutes=10)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        report((station, 1, "Faulted"))
        assert live_alerts(FAULTED) == []
    with time_machine.travel(start + timedelta(minutes=9), tick=False):
        sweep()
        assert live_alerts(FAULTED) == []
    with time_machine.travel(start + timedelta(minutes=11), tick=False):
        sweep()
        assert len(live_alerts(FAULTED, org)) == 1


def test_a_delayed_fault_that_recovered_in_time_opens_nothing(
    org, station, make_rule, report, sweep, live_alerts
):
    make_rule(org, FAULTED, delay_minutes=10)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        report((station, 1, "Faulted"))
    with time_machine.travel(start + timedelta(minutes=5), tick=False):
        report((station, 1, "Available"))
    with time_machine.travel(start + timedelta(minutes=11), tick=False):
        sweep()
    assert not Alert.objects.exists()


def test_the_sweep_counts_nothing_more_on_a_live_fault_alert(
    org, station, make_rule, report, sweep, live_alerts
):
    make_rule(org, FAULTED)
    report((station, 1, "Faulted"))
    sweep()
    sweep()
    [alert] = live_alerts(FAULTED, org)
    assert alert.occurrences == 1


def test_the_sweep_resolves_a_fault_whose_recovery_went_unheard(
    org, station, make_rule, report, sweep, live_alerts
):
    make_rule(org, FAULTED)
    report((station, 1, "Faulted"))
    # Recovered without the subscriber hearing it (a crash between commit and subscriber).
    Connector.objects.filter(station=station, connector_id=1).update(status="Available")
    sweep()
    assert live_alerts(FAULTED) == []


def test_a_batch_without_faults_or_live_alerts_costs_no_query(
    org, station, make_rule, heard, committed, django_assert_num_queries
):
    make_rule(org, FAULTED)
    with committed():
        record_status_reports([StatusReport(station, n, "Charging") for n in (1, 2)])
    [batch] = heard
    with django_assert_num_queries(0):
        assert rules.fault_subjects(batch) == ([], [])


def test_a_batch_recovering_nothing_costs_no_query_while_a_fault_alert_is_live(
    org, station, make_rule, report, heard, django_assert_num_queries, live_alerts
):
    make_rule(org, FAULTED)
    report((station, 1, "Faulted"))
    other = ChargingStationFactory(organization=org)
    report((other, 1, "Available"), (other, 2, "Charging"))
    with django_assert_num_queries(0):
        assert rules.fault_subjects(heard[-1]) == ([], [])
    assert len(live_alerts(FAULTED, org)) == 1


def test_a_recovery_of_a_connector_with_a_live_alert_is_handed_on_without_a_query(
    org, station, make_rule, report, heard, django_assert_num_queries
):
    make_rule(org, FAULTED)
    report((station, 1, "Faulted"))
    with alerting_deaf():
        report((station, 1, "Available"), (station, 2, "Available"))
    connector = station.connectors.get(connector_id=1)
    with django_assert_num_queries(0):
        assert rules.fault_subjects(heard[-1]) == ([connector.pk], [])


def test_without_a_readable_cache_the_database_is_asked(
    org, station, make_rule, report, heard, monkeypatch, django_assert_num_queries
):
    make_rule(org, FAULTED)
    report((station, 1, "Faulted"))
    with alerting_deaf():
        report((station, 1, "Available"), (station, 2, "Available"))

    def unreachable(*args, **kwargs):
        raise ConnectionError("Redis is away")

    connector = station.connectors.get(connector_id=1)
    rules.forget_marks()
    monkeypatch.setattr(cache, "get_many", unreachable)
    with django_assert_num_queries(1):
        assert rules.fault_subjects(heard[-1]) == ([connector.pk], [])


def test_a_fault_alert_resolved_by_hand_stops_costing_tasks(
    org, station, make_rule, report, heard, admin_user, committed
):
    make_rule(org, FAULTED)
    report((station, 1, "Faulted"))
    resolve_alert(Alert.objects.get(), admin_user)
    report((station, 1, "Available"))
    # The first recovery is looked at (the mark outlived the alert), the next ones are not.
    report((station, 1, "Charging"))
    assert rules.fault_subjects(heard[-1]) == ([], [])


def test_a_faulted_report_is_handed_on_without_a_query(
    org, station, make_rule, heard, committed, django_assert_num_queries
):
    make_rule(org, FAULTED)
    with committed():
        record_status_reports(
            [StatusReport(station, 1, "Faulted"), StatusReport(station, 0, "Faulted")]
        )
    connector = station.connectors.get(connector_id=1)
    with django_assert_num_queries(0):
        assert rules.fault_subjects(heard[0]) == ([connector.pk], [station.pk])


def test_a_fault_over_before_its_task_ran_opens_nothing(org, station, make_rule, committed):
    make_rule(org, FAULTED)
    with committed():
        record_status_reports([StatusReport(station, 1, "Available")])
    # The task of an earlier Faulted report runs late: the connector is fine by now.
    assert rules.evaluate_faults([station.connectors.get(connector_id=1).pk]) == 0
    assert not Alert.objects.exists()


def test_the_status_batch_enqueues_one_task_for_its_faults(
    org, station, make_rule, committed, monkeypatch
):
    make_rule(org, FAULTED)
    sent = []
    monkeypatch.setattr(tasks.evaluate_faults, "delay", lambda *args: sent.append(args))
    other = ChargingStationFactory(organization=org)
    with committed():
        record_status_reports(
            [StatusReport(s, n, "Faulted") for s in (station, other) for n in (1, 2)]
        )
    [(connector_ids, station_ids)] = sent
    assert len(connector_ids) == 4 and station_ids == []
    assert not Alert.objects.exists()


def test_the_sweep_restores_fault_marks_the_cache_lost(
    org, station, make_rule, report, heard, sweep
):
    make_rule(org, FAULTED)
    report((station, 1, "Faulted"))
    cache.clear()
    rules.forget_marks()
    sweep()
    with alerting_deaf():
        report((station, 1, "Available"))
    assert rules.fault_subjects(heard[-1]) == ([station.connectors.get(connector_id=1).pk], [])


def test_marks_written_by_another_process_count_once_this_copy_is_old(
    org, station, make_rule, heard, committed, monkeypatch
):
    make_rule(org, FAULTED)
    connector = station.connectors.get(connector_id=1)
    with alerting_deaf(), committed():
        record_status_reports([StatusReport(station, 1, "Available")])
    assert rules.fault_subjects(heard[-1]) == ([], [])
    # A worker opened the connector's fault alert meanwhile.
    cache.set(rules._faults_key(org.pk), {f"connector:{connector.pk}"})
    assert rules.fault_subjects(heard[-1]) == ([], [])
    monkeypatch.setattr(rules, "MARKS_MEMO_SECONDS", 0)
    assert rules.fault_subjects(heard[-1]) == ([connector.pk], [])


@pytest.fixture
def broker_tasks(eager_celery, monkeypatch):
    """Tasks go to a broker (recorded here, never run), as in a deployment with workers."""
    monkeypatch.setitem(tasks.evaluate_faults.app.conf, "task_always_eager", False)
    sent, gate = [], threading.Event()
    gate.set()

    def delay(*args):
        gate.wait(5)
        sent.append(args)

    monkeypatch.setattr(tasks.evaluate_faults, "delay", delay)
    return sent, gate


def test_a_deployment_sends_the_task_from_the_sender_thread(
    org, station, make_rule, committed, broker_tasks
):
    sent, _gate = broker_tasks
    with committed():
        record_status_reports([StatusReport(station, 1, "Faulted")])
    fault_sender.wait_sent()
    assert sent == [([station.connectors.get(connector_id=1).pk], [])]
    assert not Alert.objects.exists()


def test_batches_queued_during_a_slow_publish_share_one_task(org, make_rule, broker_tasks):
    sent, gate = broker_tasks
    gate.clear()
    fault_sender.send([1], [])
    time.sleep(0.1)  # the sender is now stuck publishing the first
    fault_sender.send([2], [7])
    fault_sender.send([3], [])
    gate.set()
    fault_sender.wait_sent()
    assert sent == [([1], []), ([2, 3], [7])]
