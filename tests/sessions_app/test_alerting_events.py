"""What sessions tell alerting: refused driver tokens and sessions held for review."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core import events
from sessions_app.authorization import authorize_driver
from sessions_app.events import AUTHORIZATION_REJECTED, SESSION_HELD_FOR_REVIEW
from sessions_app.services import start_session, stop_session
from tests.factories import AccessGroupFactory, ChargingStationFactory, IdTokenFactory


@pytest.fixture
def heard():
    seen: dict[str, list[dict]] = {AUTHORIZATION_REJECTED: [], SESSION_HELD_FOR_REVIEW: []}

    def listen(batch):
        for event in batch:
            seen[event.name].append(event.data)

    for name in seen:
        events.subscribe(name, listen)
    yield seen
    for name in seen:
        events.unsubscribe(name, listen)


@pytest.fixture
def station(org):
    return ChargingStationFactory(organization=org)


@pytest.fixture
def card(org, station):
    group = AccessGroupFactory(organization=org, name="Staff")
    station.site.access_groups.add(group)
    return IdTokenFactory(organization=org, access_groups=[group])


def test_an_unknown_token_at_a_station_is_announced_as_rejected(
    station, heard, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        result = authorize_driver(station, "NOT-A-CARD")
    assert not result.accepted
    assert heard[AUTHORIZATION_REJECTED] == [
        {"organization_id": station.organization_id, "station_id": station.pk, "status": "Invalid"}
    ]


def test_an_accepted_token_is_not_announced(
    station, card, heard, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        result = authorize_driver(station, card.uid)
    assert result.accepted
    assert heard[AUTHORIZATION_REJECTED] == []


def test_a_transaction_started_with_an_unknown_token_is_announced_as_rejected(
    station, heard, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        start_session(
            station, connector_number=1, id_tag="STRANGER", started_at=timezone.now(),
            meter_start=0,
        )  # fmt: skip
    assert [e["station_id"] for e in heard[AUTHORIZATION_REJECTED]] == [station.pk]


def test_a_session_stopped_with_a_meter_below_its_start_is_announced_as_held(
    station, card, heard, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        started = start_session(
            station, connector_number=1, id_tag=card.uid, started_at=timezone.now(),
            meter_start=5_000,
        )  # fmt: skip
        stop_session(
            station,
            transaction_id=started.session.transaction_id,
            stopped_at=timezone.now(),
            meter_stop=1_000,
            reason="Local",
        )
    [held] = heard[SESSION_HELD_FOR_REVIEW]
    assert held["session_id"] == started.session.pk
    assert "below meter start" in held["reason"]


def test_a_plausible_session_is_never_announced_as_held(
    station, card, heard, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        started = start_session(
            station, connector_number=1, id_tag=card.uid,
            started_at=timezone.now() - timedelta(hours=1), meter_start=1_000,
        )  # fmt: skip
        stop_session(
            station,
            transaction_id=started.session.transaction_id,
            stopped_at=timezone.now(),
            meter_stop=5_000,
            reason="Local",
        )
    assert heard[SESSION_HELD_FOR_REVIEW] == []
