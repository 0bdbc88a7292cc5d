"""Closing billing periods from Celery beat and from the close_billing_periods command."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from billing.invoicing import period_bounds
from billing.models import BillingPeriod, Invoice, InvoiceLine
from billing.tasks import close_billing_periods
from cms.celery import app as celery_app
from tests.billing.test_invoicing import make_cdr
from tests.factories import ChargingStationFactory, IdTokenFactory

pytestmark = pytest.mark.django_db

# Long past, so the wall clock of the test run never decides which of these periods ended.
IN_JAN_2024 = datetime(2024, 1, 10, 12, tzinfo=UTC)
IN_FEB_2024 = datetime(2024, 2, 10, 12, tzinfo=UTC)


def run_command(*args) -> str:
    out = StringIO()
    call_command("close_billing_periods", *args, stdout=out)
    return out.getvalue()


# Celery --------------------------------------------------------------------------------------


def test_task_invoices_ended_periods_and_returns_how_many_it_closed(org, station, eager_celery):
    cdr = make_cdr(
        station, card=IdTokenFactory(organization=org), at=timezone.now() - timedelta(days=70)
    )

    closed = close_billing_periods.delay().get()

    assert closed == BillingPeriod.objects.for_org(org).count() >= 1
    assert InvoiceLine.objects.filter(cdr=cdr).exists()


def test_task_never_closes_the_running_period(org, station, eager_celery):
    make_cdr(station, card=IdTokenFactory(organization=org), at=timezone.now() - timedelta(days=70))
    running = make_cdr(station, card=IdTokenFactory(organization=org), at=timezone.now())

    close_billing_periods.delay().get()

    running_start, _ = period_bounds(org, timezone.now())
    assert not BillingPeriod.objects.for_org(org).filter(end__gt=running_start).exists()
    assert not InvoiceLine.objects.filter(cdr=running).exists()


def test_task_run_again_closes_nothing(org, station, eager_celery):
    make_cdr(station, card=IdTokenFactory(organization=org), at=timezone.now() - timedelta(days=70))
    close_billing_periods.delay().get()
    invoices = Invoice.objects.for_org(org).count()

    assert close_billing_periods.delay().get() == 0
    assert Invoice.objects.for_org(org).count() == invoices


def test_beat_runs_the_task_hourly_at_five_past():
    entry = settings.CELERY_BEAT_SCHEDULE["close-billing-periods"]

    assert entry["task"] == close_billing_periods.name
    assert entry["task"] in celery_app.tasks
    assert entry["schedule"] == crontab(minute=5)


# Management command ---------------------------------------------------------------------------


def test_command_closes_the_periods_ended_by_until(org, station):
    card = IdTokenFactory(organization=org)
    make_cdr(station, card=card, at=IN_JAN_2024)
    february = make_cdr(station, card=card, at=IN_FEB_2024)

    output = run_command("--until", "2024-02-15")

    assert "stadtwerke-demo 2024-01-01..2024-01-31: 1 invoice(s) INV-000001" in output
    assert "Closed 1 billing period(s)." in output
    assert not InvoiceLine.objects.filter(cdr=february).exists()


def test_command_for_one_organization_leaves_the_others_alone(org, other_org, station):
    make_cdr(station, card=IdTokenFactory(organization=org), at=IN_JAN_2024)
    outsider_station = ChargingStationFactory(organization=other_org)
    make_cdr(outsider_station, card=IdTokenFactory(organization=other_org), at=IN_JAN_2024)

    output = run_command("--organization", org.slug, "--until", "2024-02-01")

    assert output.splitlines()[0].startswith("stadtwerke-demo 2024-01-01..2024-01-31")
    assert not BillingPeriod.objects.for_org(other_org).exists()
    assert not Invoice.objects.for_org(other_org).exists()


def test_command_without_options_closes_every_organization_up_to_now(org, other_org, station):
    make_cdr(station, card=IdTokenFactory(organization=org), at=IN_JAN_2024)
    outsider_station = ChargingStationFactory(organization=other_org)
    make_cdr(outsider_station, card=IdTokenFactory(organization=other_org), at=IN_JAN_2024)

    run_command()

    for organization in (org, other_org):
        last_end = BillingPeriod.objects.for_org(organization).order_by("-end").first().end
        assert last_end == period_bounds(organization, timezone.now())[0]


def test_command_says_so_when_nothing_is_due(org):
    assert run_command().strip() == "No billing period was due."


def test_command_rejects_an_unknown_organization(org):
    with pytest.raises(CommandError, match="nobody"):
        run_command("--organization", "nobody")


def test_command_rejects_an_until_that_is_not_a_date(org):
    with pytest.raises(CommandError, match="not a date"):
        run_command("--until", "15.02.2024")


def test_until_is_a_day_in_the_organization_time_zone(org, station):
    org.timezone = "America/New_York"
    org.save()
    make_cdr(station, card=IdTokenFactory(organization=org), at=IN_JAN_2024)

    output = run_command("--until", "2024-02-01")

    # January ends at 05:00 UTC on 1 February, in New York; read in UTC it would still be open.
    assert "stadtwerke-demo 2024-01-01..2024-01-31" in output
    assert BillingPeriod.objects.for_org(org).get().end == datetime(2024, 2, 1, 5, tzinfo=UTC)
