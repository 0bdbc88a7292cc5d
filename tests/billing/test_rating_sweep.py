"""The rating sweep: finished sessions whose rating message was lost are rated, once."""

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from billing import services
from billing.choices import CdrKind
from billing.models import ChargeDetailRecord
from billing.tasks import SWEEP_GRACE, rate_unrated_sessions
from sessions_app.choices import SessionState
from sessions_app.models import ChargingSession
from sessions_app.services import SUPERSEDED
from tests.billing.test_rating import assign, finished_session, make_tariff

pytestmark = pytest.mark.django_db


def closed_long_ago(*sessions):
    """Make the sessions look closed before the sweep's grace period (updated is auto_now)."""
    earlier = timezone.now() - SWEEP_GRACE - timedelta(minutes=1)
    ChargingSession.objects.filter(pk__in=[s.pk for s in sessions]).update(updated=earlier)


def charges(session):
    return ChargeDetailRecord.objects.filter(session=session, kind=CdrKind.CHARGE).count()


def test_the_sweep_prices_a_finished_session_whose_rating_was_never_enqueued(station):
    assign(make_tariff(station.organization))
    lost = finished_session(station, energy_wh=10_000)
    closed_long_ago(lost)

    assert rate_unrated_sessions() == 1
    cdr = ChargeDetailRecord.objects.get(session=lost)
    assert cdr.total_incl_tax == Decimal("3.90")


def test_the_sweep_run_again_writes_no_second_record(station):
    lost = finished_session(station, energy_wh=10_000)
    closed_long_ago(lost)

    assert rate_unrated_sessions() == 1
    assert rate_unrated_sessions() == 0
    assert charges(lost) == 1


def test_the_sweep_leaves_rated_running_recent_superseded_and_held_sessions_alone(station):
    rated = finished_session(station)
    services.rate_session(rated.pk)
    running = finished_session(station, state=SessionState.ACTIVE, stop=None)
    superseded = finished_session(station, state=SessionState.FAILED, stop_reason=SUPERSEDED)
    held = finished_session(station, needs_review=True, review_reason="Implausible energy")
    closed_long_ago(rated, running, superseded, held)
    # Closed a moment ago: its own enqueued rating has the first go.
    just_closed = finished_session(station)

    assert rate_unrated_sessions() == 0
    assert [charges(s) for s in (rated, running, superseded, held, just_closed)] == [1, 0, 0, 0, 0]


def test_a_session_the_engine_cannot_price_does_not_keep_the_others_unrated(station, monkeypatch):
    broken, fine = finished_session(station), finished_session(station)
    closed_long_ago(broken, fine)
    rate = services.rate_session

    def rate_or_fail(session_id):
        if session_id == broken.pk:
            raise ValueError("no price for this one")
        return rate(session_id)

    monkeypatch.setattr(services, "rate_session", rate_or_fail)
    assert rate_unrated_sessions() == 1
    assert (charges(broken), charges(fine)) == (0, 1)


def test_no_code_sends_celery_work_except_through_enqueue_after_commit():
    # A bare .delay() after commit fails the committed request when the broker is down
    # (core/enqueue.py); every enqueue goes through the one guarded helper.
    root = Path(__file__).resolve().parents[2]
    offenders = []
    for path in root.glob("*/**/*.py"):
        relative = path.relative_to(root)
        if relative.parts[0] in {".venv", "tests", "bench"} or relative == Path("core/enqueue.py"):
            continue
        if re.search(r"\.(delay|apply_async)\(", path.read_text(encoding="utf-8")):
            offenders.append(str(relative))
    assert offenders == []
