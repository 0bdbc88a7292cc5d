"""Escalation mails: an alert nobody acknowledged in time reaches the next group, once."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from alerts.choices import NotificationKind, RuleKind, Severity
from alerts.models import AlertRule, Notification
from alerts.services import acknowledge_alert, escalate_due_alerts
from organizations.choices import Role

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]

OPENED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def rule(org):
    return AlertRule.objects.create(
        organization=org,
        name="Faults",
        kind=RuleKind.CONNECTOR_FAULTED,
        severity=Severity.HIGH,
        escalate_after_minutes=30,
        escalate_to_role=Role.ADMIN,
    )


@pytest.fixture
def team(org, make_member):
    """An operator and a viewer (below the group), an admin who only wants critical, an owner."""
    make_member(org, "operator", role=Role.OPERATOR)
    make_member(org, "viewer", role=Role.VIEWER)
    make_member(org, "admin", role=Role.ADMIN, min_severity=Severity.CRITICAL)
    make_member(org, "owner", role=Role.OWNER)


@pytest.fixture
def escalate(django_capture_on_commit_callbacks):
    def run(minutes_after_opening: float):
        with (
            time_machine.travel(OPENED + timedelta(minutes=minutes_after_opening), tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            return escalate_due_alerts()

    return run


@pytest.fixture
def alert(station, rule, team, raise_alerts, fault, mailoutbox):
    with time_machine.travel(OPENED, tick=False):
        [alert] = raise_alerts(fault(station, rule=rule))
    mailoutbox.clear()
    return alert


def escalation_recipients(outbox) -> list[str]:
    return sorted(mail.to[0] for mail in outbox if "Not acknowledged" in mail.subject)


def test_an_alert_is_not_escalated_before_its_minutes(alert, escalate, mailoutbox):
    assert escalate(29) == []
    assert mailoutbox == []


def test_an_alert_not_acknowledged_in_time_reaches_the_escalation_group_once(
    alert, escalate, mailoutbox
):
    assert escalate(30) == [alert]
    assert escalate(45) == []
    assert escalate(600) == []

    assert escalation_recipients(mailoutbox) == ["admin@example.com", "owner@example.com"]
    assert Notification.objects.filter(kind=NotificationKind.ESCALATED).count() == 2


def test_the_escalation_group_is_told_whatever_severity_they_chose(alert, escalate, mailoutbox):
    escalate(30)

    # The admin asked for critical alerts only and so never heard of the opening.
    assert not Notification.objects.filter(
        recipient__username="admin", kind=NotificationKind.OPENED
    ).exists()
    assert "admin@example.com" in escalation_recipients(mailoutbox)


def test_members_below_the_escalation_role_are_not_told_of_the_escalation(
    alert, escalate, mailoutbox
):
    escalate(30)

    told = escalation_recipients(mailoutbox)
    assert "operator@example.com" not in told
    assert "viewer@example.com" not in told


def test_the_escalation_mail_says_how_long_nobody_acknowledged(alert, escalate, mailoutbox):
    escalate(30)

    mail = next(m for m in mailoutbox if m.to == ["owner@example.com"])
    assert mail.subject == "[High] Not acknowledged: Connector faulted: CS-DEMO-1"
    assert "High: Connector faulted, not acknowledged for 30 minutes" in mail.body.splitlines()


def test_an_acknowledged_alert_is_never_escalated(alert, admin_user, escalate, mailoutbox):
    with time_machine.travel(OPENED + timedelta(minutes=10), tick=False):
        acknowledge_alert(alert, admin_user, note="On my way")

    assert escalate(30) == []
    assert escalate(120) == []
    assert mailoutbox == []
    assert not Notification.objects.filter(kind=NotificationKind.ESCALATED).exists()


def test_an_escalation_is_never_held_for_the_digest(
    org, station, make_member, raise_alerts, fault, escalate, mailoutbox
):
    calm_rule = AlertRule.objects.create(
        organization=org,
        name="Minor faults",
        kind=RuleKind.CONNECTOR_FAULTED,
        severity=Severity.LOW,
        escalate_after_minutes=30,
        escalate_to_role=Role.OWNER,
    )
    make_member(org, "owner", role=Role.OWNER, min_severity=Severity.LOW)
    with time_machine.travel(OPENED, tick=False):
        raise_alerts(fault(station, rule=calm_rule))
    assert mailoutbox == []  # the opening waits for the digest

    escalate(30)

    assert escalation_recipients(mailoutbox) == ["owner@example.com"]
    assert not Notification.objects.get(kind=NotificationKind.ESCALATED).digest
