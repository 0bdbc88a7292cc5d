"""Alert mails: who gets them (preferences, tenancy), what they say, grouping, digest, sweep."""

import threading
from datetime import UTC, datetime
from smtplib import SMTPException

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.urls import reverse

from alerts import notifications, tasks
from alerts.choices import DeliveryStatus, NotificationKind, RuleKind, Severity
from alerts.models import Notification
from alerts.services import Condition, clear_conditions
from organizations.choices import Role
from organizations.models import Membership
from portal.models import UserPreference
from tests.factories import ChargingStationFactory, SiteFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]


def recipients(outbox) -> list[str]:
    return sorted(address for mail in outbox for address in mail.to)


def broker_down(*args, **kwargs):
    raise ConnectionError("broker unreachable")


def test_an_opened_alert_is_mailed_with_station_connector_site_time_and_link(
    org, station, make_member, raise_alerts, fault, mailoutbox
):
    make_member(org, "tech")
    opened = datetime(2026, 1, 15, 13, 5, tzinfo=UTC)

    [alert] = raise_alerts(fault(station, 2, error_code="GroundFailure"), now=opened)

    [mail] = mailoutbox
    assert mail.to == ["tech@example.com"]
    assert mail.subject == "[High] Connector faulted: CS-DEMO-1"
    link = settings.PORTAL_BASE_URL + reverse(
        "alerts:alert-detail", kwargs={"org": org.slug, "pk": alert.pk}
    )
    for line in (
        "High: Connector faulted",
        "Organization: Stadtwerke Demo",
        "Station: CS-DEMO-1",
        "Connector: 2",
        f"Site: {station.site.name}",
        # The organization's zone (Europe/Berlin), not the server's UTC.
        "Opened: 2026-01-15 14:05 CET",
        "Error code: GroundFailure",
        link,
    ):
        assert line in mail.body.splitlines()


def test_members_hear_only_of_alerts_as_severe_as_they_chose(
    org, station, make_member, raise_alerts, fault, mailoutbox
):
    make_member(org, "pager", min_severity=Severity.CRITICAL)
    make_member(org, "everything", min_severity=Severity.LOW, digest_below=Severity.LOW)

    raise_alerts(fault(station, severity=Severity.HIGH))

    assert recipients(mailoutbox) == ["everything@example.com"]


def test_members_without_a_preference_hear_of_high_alerts_at_once(
    org, station, make_member, raise_alerts, fault, mailoutbox
):
    make_member(org, "defaults")

    raise_alerts(fault(station, 1, severity=Severity.MEDIUM))
    assert mailoutbox == []
    raise_alerts(fault(station, 2, severity=Severity.HIGH))

    assert recipients(mailoutbox) == ["defaults@example.com"]


def test_members_limited_to_sites_hear_only_of_their_sites(
    org, station, make_member, raise_alerts, fault, mailoutbox
):
    make_member(org, "here", sites=[station.site])
    make_member(org, "elsewhere", sites=[SiteFactory(organization=org)])
    make_member(org, "anywhere")

    raise_alerts(fault(station))

    assert recipients(mailoutbox) == ["anywhere@example.com", "here@example.com"]


def test_an_alert_without_a_site_reaches_members_limited_to_sites(
    org, make_member, raise_alerts, mailoutbox
):
    make_member(org, "here", sites=[SiteFactory(organization=org)])

    raise_alerts(
        Condition(
            kind=RuleKind.AUTHORIZATION_FAILURES,
            subject="organization",
            organization_id=org.pk,
            severity=Severity.HIGH,
        )
    )

    assert recipients(mailoutbox) == ["here@example.com"]


def test_members_who_switched_mail_off_get_none(
    org, station, make_member, raise_alerts, fault, mailoutbox
):
    make_member(org, "quiet", email_enabled=False, min_severity=Severity.LOW)

    raise_alerts(fault(station, severity=Severity.CRITICAL))

    assert mailoutbox == []
    assert not Notification.objects.exists()


def test_members_without_an_email_address_get_none(
    org, station, make_member, raise_alerts, fault, mailoutbox
):
    make_member(org, "nomail", email="")

    raise_alerts(fault(station))

    assert mailoutbox == []
    assert not Notification.objects.exists()


def test_alerts_owed_to_a_member_at_once_go_out_as_one_mail(
    org, make_member, raise_alerts, fault, mailoutbox
):
    make_member(org, "tech")
    make_member(org, "boss", role=Role.OWNER)
    site = SiteFactory(organization=org, name="Depot")
    stations = [
        ChargingStationFactory(organization=org, site=site, ocpp_id=f"DEPOT-{n}") for n in (1, 2, 3)
    ]

    # A site outage: every station's fault in one evaluation.
    raise_alerts(*(fault(s) for s in stations))

    assert recipients(mailoutbox) == ["boss@example.com", "tech@example.com"]
    mail = mailoutbox[0]
    assert mail.subject == "[High] 3 alerts: Connector faulted"
    for ocpp_id in ("DEPOT-1", "DEPOT-2", "DEPOT-3"):
        assert f"Station: {ocpp_id}" in mail.body.splitlines()


def test_the_mail_is_written_in_the_language_each_recipient_chose(
    org, station, make_member, raise_alerts, fault, mailoutbox
):
    german = make_member(org, "deutsch")
    UserPreference.objects.create(user=german, language="de")
    make_member(org, "english")

    raise_alerts(fault(station))

    bodies = {mail.to[0]: mail.body.splitlines() for mail in mailoutbox}
    assert f"Standort: {station.site.name}" in bodies["deutsch@example.com"]
    assert "Organisation: Stadtwerke Demo" in bodies["deutsch@example.com"]
    assert f"Site: {station.site.name}" in bodies["english@example.com"]


def test_low_severity_alerts_wait_for_the_hourly_digest(
    org, station, make_member, raise_alerts, fault, mailoutbox
):
    make_member(org, "calm", min_severity=Severity.LOW)

    raise_alerts(fault(station, 1, severity=Severity.LOW))

    assert mailoutbox == []
    assert Notification.objects.get().digest
    assert notifications.send_pending() == 0


def test_the_digest_is_one_mail_with_every_waiting_alert_sent_once(
    org, station, make_member, raise_alerts, fault, mailoutbox
):
    make_member(org, "calm", min_severity=Severity.LOW)
    raise_alerts(fault(station, 1, severity=Severity.LOW))
    raise_alerts(fault(station, 2, severity=Severity.LOW))

    assert tasks.send_alert_digests() == 1
    assert tasks.send_alert_digests() == 0

    [mail] = mailoutbox
    assert mail.subject == "Alert digest: 2 alerts"
    lines = mail.body.splitlines()
    assert "Connector: 1" in lines
    assert "Connector: 2" in lines
    assert set(Notification.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}


def test_an_alert_at_the_digest_threshold_goes_out_at_once(
    org, station, make_member, raise_alerts, fault, mailoutbox
):
    make_member(org, "calm", min_severity=Severity.LOW, digest_below=Severity.MEDIUM)

    raise_alerts(fault(station, severity=Severity.MEDIUM))

    assert recipients(mailoutbox) == ["calm@example.com"]


def test_a_resolved_alert_is_mailed_only_to_members_told_of_it_who_asked(
    org,
    station,
    make_member,
    raise_alerts,
    fault,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    make_member(org, "closure", notify_resolved=True)
    make_member(org, "openonly")
    make_member(org, "late", notify_resolved=True, min_severity=Severity.CRITICAL)
    [alert] = raise_alerts(fault(station))
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        clear_conditions([alert.fingerprint])

    [mail] = mailoutbox
    assert mail.to == ["closure@example.com"]
    assert mail.subject == "[Resolved] Connector faulted: CS-DEMO-1"
    assert "Resolved: Connector faulted" in mail.body.splitlines()


def test_mails_whose_enqueue_failed_are_sent_by_the_sweep(
    org, station, make_member, raise_alerts, fault, mailoutbox, monkeypatch
):
    make_member(org, "tech")
    monkeypatch.setattr(tasks.send_pending_notifications, "delay", broker_down)

    raise_alerts(fault(station))
    assert mailoutbox == []

    assert tasks.send_pending_notifications() == 1
    assert recipients(mailoutbox) == ["tech@example.com"]


def test_sending_again_sends_nothing_twice(
    org, station, make_member, raise_alerts, fault, mailoutbox
):
    make_member(org, "tech")
    raise_alerts(fault(station))

    assert notifications.send_pending() == 0
    assert notifications.send_digests() == 0
    assert len(mailoutbox) == 1
    row = Notification.objects.get()
    assert (row.status, row.attempts) == (DeliveryStatus.DELIVERED, 1)
    assert row.sent_at is not None


def test_a_failed_send_is_recorded_and_retried_by_the_next_sweep(
    org, station, make_member, raise_alerts, fault, mailoutbox, monkeypatch
):
    make_member(org, "tech")

    def smtp_down(self, fail_silently=False):
        raise SMTPException("421 try again later")

    monkeypatch.setattr(EmailMessage, "send", smtp_down)
    raise_alerts(fault(station))
    row = Notification.objects.get()
    assert (row.status, row.attempts) == (DeliveryStatus.RETRYING, 1)
    assert "421 try again later" in row.last_error

    monkeypatch.undo()
    assert notifications.send_pending() == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (DeliveryStatus.DELIVERED, 2, "")
    assert len(mailoutbox) == 1


def test_a_mail_that_keeps_failing_is_given_up(
    org, station, make_member, raise_alerts, fault, mailoutbox, monkeypatch
):
    make_member(org, "tech")
    monkeypatch.setattr(EmailMessage, "send", broker_down)
    raise_alerts(fault(station))

    for _sweep in range(notifications.MAX_MAIL_ATTEMPTS + 2):
        notifications.send_pending()

    row = Notification.objects.get()
    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, notifications.MAX_MAIL_ATTEMPTS)


def test_a_station_text_cannot_add_lines_to_the_mail(
    org, station, make_member, raise_alerts, fault, mailoutbox
):
    make_member(org, "tech")

    raise_alerts(fault(station, info="Overheated\nLink: http://evil.example/phish"))

    lines = mailoutbox[0].body.splitlines()
    assert "Info: Overheated Link: http://evil.example/phish" in lines
    assert "Link: http://evil.example/phish" not in lines


def test_members_of_another_organization_never_get_our_alerts(
    org, other_org, station, make_member, raise_alerts, fault, mailoutbox
):
    make_member(other_org, "outsider", min_severity=Severity.LOW, digest_below=Severity.LOW)
    make_member(org, "ours")
    theirs = ChargingStationFactory(organization=other_org)

    raise_alerts(fault(station, severity=Severity.CRITICAL))
    assert recipients(mailoutbox) == ["ours@example.com"]

    mailoutbox.clear()
    raise_alerts(fault(theirs, severity=Severity.CRITICAL))
    assert recipients(mailoutbox) == ["outsider@example.com"]


def test_a_member_who_left_before_the_mail_went_out_gets_nothing(
    org, station, make_member, raise_alerts, fault, mailoutbox, monkeypatch
):
    leaver = make_member(org, "leaver")
    monkeypatch.setattr(tasks.send_pending_notifications, "delay", broker_down)
    raise_alerts(fault(station))

    Membership.objects.filter(user=leaver).delete()
    assert notifications.send_pending() == 0

    assert mailoutbox == []
    assert Notification.objects.get().status == DeliveryStatus.FAILED


def test_a_platform_alert_reaches_support_staff_in_their_digest_only(
    org, make_member, raise_alerts, mailoutbox
):
    make_member(org, "tenant", min_severity=Severity.LOW, digest_below=Severity.LOW)
    get_user_model().objects.create_superuser("support", "support@example.com", "x" * 12)

    raise_alerts(
        Condition(
            kind=RuleKind.STATION_REJECTED,
            subject="identity:SCANNER-1",
            organization_id=None,
            details={"identity": "SCANNER-1"},
        )
    )
    assert mailoutbox == []
    assert notifications.send_digests() == 1

    [mail] = mailoutbox
    assert mail.to == ["support@example.com"]
    assert "Identity: SCANNER-1" in mail.body.splitlines()
    assert Notification.objects.get().kind == NotificationKind.OPENED


@pytest.mark.django_db(transaction=True)
def test_a_second_worker_skips_the_mails_another_is_sending(
    org, station, make_member, raise_alerts, fault, mailoutbox, monkeypatch
):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (SQLite has a single writer)")
    make_member(org, "tech")
    monkeypatch.setattr(tasks.send_pending_notifications, "delay", broker_down)
    raise_alerts(fault(station))
    sent_by_other = []

    def other_worker():
        try:
            sent_by_other.append(notifications.send_pending())
        finally:
            connection.close()

    with transaction.atomic():
        # This worker is mid-send: it holds the recipient's rows.
        list(Notification.objects.select_for_update())
        worker = threading.Thread(target=other_worker)
        worker.start()
        worker.join(timeout=10)

    assert sent_by_other == [0]
    assert mailoutbox == []
