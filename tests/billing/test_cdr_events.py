"""Billing announces each charge record it writes, and each session it holds back."""

from datetime import UTC, datetime, timedelta

import pytest

from billing import services
from billing.events import CDR_CREATED
from billing.models import TariffAssignment
from core import events
from sessions_app.events import SESSION_HELD_FOR_REVIEW
from sessions_app.services import stop_session
from tests.factories import ChargingSessionFactory, TariffFactory, energy_elements

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def heard():
    seen: dict[str, list[dict]] = {CDR_CREATED: [], SESSION_HELD_FOR_REVIEW: []}

    def listen(batch):
        for event in batch:
            seen[event.name].append(event.data)

    for name in seen:
        events.subscribe(name, listen)
    yield seen
    for name in seen:
        events.unsubscribe(name, listen)


@pytest.fixture
def tariff(org):
    tariff = TariffFactory(organization=org, elements=energy_elements("0.40"), tax_rate="0")
    TariffAssignment.objects.create(organization=org, tariff=tariff, scope="organization")
    return tariff


def stopped_session(station):
    session = ChargingSessionFactory(station=station, start=START)
    stop_session(
        station,
        transaction_id=session.transaction_id,
        stopped_at=START + timedelta(hours=1),
        meter_stop=10_000,
        reason="Local",
    )
    return session


def test_a_rated_session_announces_its_charge_record_once(
    station, tariff, heard, django_capture_on_commit_callbacks
):
    session = stopped_session(station)
    with django_capture_on_commit_callbacks(execute=True):
        cdr = services.rate_session(session.pk)
        again = services.rate_session(session.pk)
    assert again.pk == cdr.pk
    assert heard[CDR_CREATED] == [
        {
            "organization_id": session.organization_id,
            "session_id": session.pk,
            "cdr_id": cdr.pk,
            "total": "4.00",
            "currency": cdr.currency,
        }
    ]


def test_a_session_billing_cannot_price_is_announced_as_held(
    station, tariff, heard, monkeypatch, django_capture_on_commit_callbacks
):
    session = stopped_session(station)

    def broken(*args, **kwargs):
        raise ValueError("no price")

    monkeypatch.setattr(services, "_priced_record", broken)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.rate_session(session.pk) is None
    assert heard[CDR_CREATED] == []
    assert [e["session_id"] for e in heard[SESSION_HELD_FOR_REVIEW]] == [session.pk]
    assert "no price" in heard[SESSION_HELD_FOR_REVIEW][0]["reason"]
