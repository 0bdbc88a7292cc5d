"""Billing's subscribers and hooks: a stopped or reviewed session is rated, a stop is credited."""

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from billing import services, tasks
from billing import subscribers as billing_events
from billing.models import ChargeDetailRecord, TariffAssignment
from core import events
from sessions_app import hooks
from sessions_app.events import SESSION_BILLING_STOPPED, SESSION_REVIEWED, SESSION_STOPPED
from sessions_app.services import release_session, stop_billing, stop_session
from tests.factories import (
    ChargingSessionFactory,
    TariffFactory,
    UserFactory,
    energy_elements,
)

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def enqueued(monkeypatch):
    """The session ids whose rating was sent to the broker (nothing is run)."""
    sent = []
    monkeypatch.setattr(tasks.rate_session, "delay", sent.append)
    return sent


@pytest.fixture
def tariff(org):
    tariff = TariffFactory(organization=org, elements=energy_elements("0.40"), tax_rate="0")
    TariffAssignment.objects.create(organization=org, tariff=tariff, scope="organization")
    return tariff


def stop(station, session):
    return stop_session(
        station,
        transaction_id=session.transaction_id,
        stopped_at=START + timedelta(hours=1),
        meter_stop=10_000,
        reason="Local",
    )


def test_billing_subscribes_its_rating_to_stopped_and_reviewed_sessions():
    assert billing_events.rate_sessions in events.subscribers(SESSION_STOPPED)
    assert billing_events.rate_sessions in events.subscribers(SESSION_REVIEWED)
    assert services.credit_session in hooks.billing_stop_hooks


def test_a_stopped_session_is_sent_to_rating_once_committed(
    station, enqueued, django_capture_on_commit_callbacks
):
    session = ChargingSessionFactory(station=station, start=START)

    with django_capture_on_commit_callbacks(execute=True):
        stop(station, session)
        assert enqueued == []

    assert enqueued == [session.pk]


def test_a_released_session_is_sent_to_rating_once_committed(
    station, enqueued, django_capture_on_commit_callbacks
):
    session = ChargingSessionFactory(
        station=station, start=START, stop=START + timedelta(hours=1), state="completed"
    )
    session.needs_review = True
    session.save(update_fields=["needs_review"])

    with django_capture_on_commit_callbacks(execute=True):
        release_session(session, user=UserFactory())

    assert enqueued == [session.pk]


def test_a_batch_of_stops_sends_each_session_to_rating(enqueued):
    events.dispatch(
        [
            events.Event(SESSION_STOPPED, {"organization_id": 1, "session_id": pk})
            for pk in (11, 12, 13)
        ]
    )

    assert enqueued == [11, 12, 13]


def test_a_broker_outage_is_logged_and_left_to_the_sweep(monkeypatch, caplog):
    def broker_down(pk):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.rate_session, "delay", broker_down)

    with caplog.at_level(logging.ERROR):
        billing_events.rate_sessions(
            [events.Event(SESSION_STOPPED, {"organization_id": 1, "session_id": 5})]
        )

    assert "sweep" in caplog.text


def test_stopping_billing_commits_the_credit_with_the_stop(
    org, station, tariff, django_capture_on_commit_callbacks
):
    session = ChargingSessionFactory(station=station, start=START)
    stop(station, session)
    charge = services.rate_session(session.pk)
    heard = []
    events.subscribe(SESSION_BILLING_STOPPED, heard.extend)
    try:
        with django_capture_on_commit_callbacks() as callbacks:
            stop_billing(session, user=UserFactory(), reason="Wrong card")
            # Written in the stop's own transaction, before anything is committed.
            credit = ChargeDetailRecord.objects.get(session=session, kind="credit")
        for callback in callbacks:
            callback()
    finally:
        events.unsubscribe(SESSION_BILLING_STOPPED, heard.extend)

    assert (charge.total_incl_tax, credit.total_incl_tax) == (Decimal("4.00"), Decimal("-4.00"))
    assert [event.data for event in heard] == [
        {"organization_id": org.pk, "session_id": session.pk}
    ]


def test_a_failing_credit_leaves_billing_running(station, tariff):
    session = ChargingSessionFactory(station=station, start=START)
    stop(station, session)
    services.rate_session(session.pk)

    def broken(session):
        raise RuntimeError("credit failed")

    registered = list(hooks.billing_stop_hooks)
    hooks.billing_stop_hooks[:] = [broken]
    try:
        with pytest.raises(RuntimeError):
            stop_billing(session, user=UserFactory(), reason="Wrong card")
    finally:
        hooks.billing_stop_hooks[:] = registered

    session.refresh_from_db()
    assert (session.billing_stopped, session.billable) == (False, True)
