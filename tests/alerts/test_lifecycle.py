"""An alert's life: opened once, acknowledged, resolved, reopened after a flap, escalated."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from alerts.choices import AlertAction, AlertState, RuleKind
from alerts.exceptions import AlertNotLive
from alerts.models import Alert
from alerts.services import acknowledge_alert, escalate_due_alerts, resolve_alert
from alerts.tasks import evaluate_alert_rules
from stations.services import StatusReport, record_status_reports

FAULTED = RuleKind.CONNECTOR_FAULTED


@pytest.fixture
def t0():
    return timezone.now().replace(microsecond=0)


def at(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def report(committed, station):
    """Connector 1 of the station reports `status` at `when` (now by default)."""

    def send(status, when=None):
        with at(when or timezone.now()), committed():
            record_status_reports([StatusReport(station, 1, status)])

    return send


@pytest.fixture
def fault_rule(org, make_rule):
    return make_rule(org, FAULTED, escalate_after_minutes=30)


def history(alert) -> list[str]:
    return list(alert.history.order_by("at", "pk").values_list("action", flat=True))


def test_acknowledging_records_who_when_and_the_note(fault_rule, report, admin_user, t0):
    report("Faulted", t0)
    with at(t0 + timedelta(minutes=3)):
        alert = acknowledge_alert(Alert.objects.get(), admin_user, note="Technician on the way")
    alert.refresh_from_db()
    assert alert.state == AlertState.ACKNOWLEDGED
    assert (alert.acknowledged_by, alert.acknowledged_at) == (admin_user, t0 + timedelta(minutes=3))
    assert alert.acknowledge_note == "Technician on the way"
    entry = alert.history.get(action=AlertAction.ACKNOWLEDGED)
    assert (entry.actor, entry.note) == (admin_user, "Technician on the way")


def test_an_acknowledged_alert_resolves_when_its_condition_clears(
    fault_rule, report, admin_user, t0
):
    report("Faulted", t0)
    acknowledge_alert(Alert.objects.get(), admin_user)
    report("Available", t0 + timedelta(minutes=20))
    alert = Alert.objects.get()
    assert (alert.state, alert.resolved_by) == (AlertState.RESOLVED, None)
    assert alert.duration == timedelta(minutes=20)


def test_an_acknowledged_alert_cannot_be_acknowledged_again(fault_rule, report, admin_user):
    report("Faulted")
    acknowledge_alert(Alert.objects.get(), admin_user)
    with pytest.raises(AlertNotLive):
        acknowledge_alert(Alert.objects.get(), admin_user)


def test_resolving_by_hand_records_who_and_why(fault_rule, report, admin_user, t0):
    report("Faulted", t0)
    with at(t0 + timedelta(minutes=5)):
        resolve_alert(Alert.objects.get(), admin_user, note="Replaced the cable")
    alert = Alert.objects.get()
    assert (alert.state, alert.resolved_by) == (AlertState.RESOLVED, admin_user)
    assert alert.resolved_at == t0 + timedelta(minutes=5)
    assert alert.history.get(action=AlertAction.RESOLVED).note == "Replaced the cable"


def test_a_resolved_alert_cannot_be_resolved_again(fault_rule, report, admin_user):
    report("Faulted")
    report("Available")
    with pytest.raises(AlertNotLive):
        resolve_alert(Alert.objects.get(), admin_user)


def test_a_flap_within_the_reopen_window_reopens_the_same_alert(fault_rule, report, settings, t0):
    settings.ALERT_REOPEN_MINUTES = 10
    report("Faulted", t0)
    report("Available", t0 + timedelta(minutes=1))
    report("Faulted", t0 + timedelta(minutes=9))
    alert = Alert.objects.get()
    assert (alert.state, alert.occurrences, alert.resolved_at) == (AlertState.OPEN, 2, None)
    assert history(alert) == [AlertAction.OPENED, AlertAction.RESOLVED, AlertAction.REOPENED]


def test_a_fault_after_the_reopen_window_opens_a_new_alert(fault_rule, report, settings, t0):
    settings.ALERT_REOPEN_MINUTES = 10
    report("Faulted", t0)
    report("Available", t0 + timedelta(minutes=1))
    report("Faulted", t0 + timedelta(minutes=12))
    old, new = Alert.objects.order_by("opened_at")
    assert (old.state, new.state) == (AlertState.RESOLVED, AlertState.OPEN)
    assert new.opened_at == t0 + timedelta(minutes=12)
    assert history(new) == [AlertAction.OPENED]


def test_the_history_keeps_every_step_with_its_time(fault_rule, report, admin_user, t0):
    report("Faulted", t0)
    with at(t0 + timedelta(minutes=2)):
        acknowledge_alert(Alert.objects.get(), admin_user, note="Seen")
    report("Available", t0 + timedelta(minutes=7))
    alert = Alert.objects.get()
    assert list(alert.history.order_by("at", "pk").values_list("action", "at")) == [
        (AlertAction.OPENED, t0),
        (AlertAction.ACKNOWLEDGED, t0 + timedelta(minutes=2)),
        (AlertAction.RESOLVED, t0 + timedelta(minutes=7)),
    ]


# --- escalation ---------------------------------------------------------------------------------


def test_an_alert_is_not_escalated_before_its_rules_time(fault_rule, report, t0):
    report("Faulted", t0)
    with at(t0 + timedelta(minutes=29)):
        assert escalate_due_alerts() == []
    assert Alert.objects.get().escalated_at is None


def test_an_alert_not_acknowledged_in_time_is_escalated_once(fault_rule, report, t0):
    report("Faulted", t0)
    with at(t0 + timedelta(minutes=31)):
        [escalated] = escalate_due_alerts()
    with at(t0 + timedelta(minutes=45)):
        assert escalate_due_alerts() == []
    alert = Alert.objects.get()
    assert escalated == alert
    assert alert.escalated_at == t0 + timedelta(minutes=31)
    assert alert.history.filter(action=AlertAction.ESCALATED).count() == 1


def test_an_acknowledged_alert_is_never_escalated(fault_rule, report, admin_user, t0):
    report("Faulted", t0)
    acknowledge_alert(Alert.objects.get(), admin_user)
    with at(t0 + timedelta(hours=5)):
        assert escalate_due_alerts() == []


def test_an_alert_of_a_rule_without_escalation_is_never_escalated(org, make_rule, report, t0):
    make_rule(org, FAULTED)
    report("Faulted", t0)
    with at(t0 + timedelta(days=2)):
        assert escalate_due_alerts() == []


def test_the_beat_task_escalates_overdue_alerts(fault_rule, report, committed, t0, eager_celery):
    report("Faulted", t0)
    with at(t0 + timedelta(minutes=31)), committed():
        evaluate_alert_rules.delay()
    assert Alert.objects.get().escalated_at == t0 + timedelta(minutes=31)


def test_a_reopened_alert_is_no_longer_acknowledged(fault_rule, report, admin_user, t0):
    report("Faulted", t0)
    acknowledge_alert(Alert.objects.get(), admin_user, note="On it")
    report("Available", t0 + timedelta(minutes=1))
    report("Faulted", t0 + timedelta(minutes=2))
    alert = Alert.objects.get()
    assert alert.state == AlertState.OPEN
    assert (alert.acknowledged_by, alert.acknowledged_at, alert.acknowledge_note) == (
        None,
        None,
        "",
    )
