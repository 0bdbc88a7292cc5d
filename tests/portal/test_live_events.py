"""The portal's subscribers (portal.events): each domain event becomes the live message of old."""

import asyncio
from datetime import UTC, datetime

import pytest
from channels.layers import get_channel_layer

from core import events, live
from ocpp_gateway.connections import mark_many_disconnected, mark_stations_online
from portal import events as portal_events
from sessions_app.services import start_session, stop_session
from stations.choices import ConnectionState
from stations.events import STATION_STATUS_CHANGED
from stations.services import StatusReport, record_status_reports
from tests.factories import ChargingStationFactory

pytestmark = pytest.mark.django_db

SINCE = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)


def on(loop, coro, timeout=10):
    return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)


@pytest.fixture
def pages(monkeypatch):
    """Open a page of each organization given: the messages its group receives."""
    monkeypatch.setattr(live, "_serving_loop", None)
    loop = live._delivery_loop()
    layer = get_channel_layer()
    opened = []

    def open_page(organization):
        channel = on(loop, layer.new_channel())
        on(loop, layer.group_add(live.organization_group(organization.pk), channel))
        opened.append((organization, channel))
        return lambda: on(loop, layer.receive(channel))

    yield open_page
    for organization, channel in opened:
        on(loop, layer.group_discard(live.organization_group(organization.pk), channel))


def connector_pk(station, number):
    return station.connectors.get(connector_id=number).pk


def test_a_status_batch_is_one_message_per_organization_in_report_order(
    org, other_org, pages, django_capture_on_commit_callbacks
):
    first = ChargingStationFactory(organization=org)
    second = ChargingStationFactory(organization=org)
    theirs = ChargingStationFactory(organization=other_org)
    ours_heard, theirs_heard = pages(org), pages(other_org)

    with django_capture_on_commit_callbacks(execute=True):
        record_status_reports(
            [
                StatusReport(first, 1, "Charging"),
                StatusReport(theirs, 1, "Faulted"),
                StatusReport(second, 0, "Unavailable"),
                StatusReport(first, 2, "Available"),
            ]
        )

    assert ours_heard() == {
        "type": "live.events",
        "events": [
            {"kind": "status", "station": first.pk, "connector": connector_pk(first, 1),
             "status": "Charging"},
            {"kind": "status", "station": second.pk, "connector": None, "status": "Unavailable"},
            {"kind": "status", "station": first.pk, "connector": connector_pk(first, 2),
             "status": "Available"},
        ],
    }  # fmt: skip
    assert theirs_heard()["events"] == [
        {"kind": "status", "station": theirs.pk, "connector": connector_pk(theirs, 1),
         "status": "Faulted"}
    ]  # fmt: skip


def test_a_status_older_than_the_stored_one_is_not_announced(
    org, station, pages, django_capture_on_commit_callbacks
):
    heard = pages(org)
    newer = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    older = datetime(2026, 1, 1, 11, 0, tzinfo=UTC)

    with django_capture_on_commit_callbacks(execute=True):
        record_status_reports([StatusReport(station, 1, "Charging", timestamp=newer)])
        record_status_reports([StatusReport(station, 1, "Available", timestamp=older)])
        record_status_reports([StatusReport(station, 2, "Faulted", timestamp=newer)])

    assert [e["status"] for e in heard()["events"]] == ["Charging"]
    assert [e["status"] for e in heard()["events"]] == ["Faulted"]


def test_a_station_going_offline_and_online_again_is_announced(
    org, station, pages, django_capture_on_commit_callbacks
):
    station.connection_state, station.connected_since = ConnectionState.ONLINE, SINCE
    station.save(update_fields=["connection_state", "connected_since"])
    heard = pages(org)

    with django_capture_on_commit_callbacks(execute=True):
        mark_many_disconnected([(station.pk, SINCE)])
    offline = heard()
    with django_capture_on_commit_callbacks(execute=True):
        mark_stations_online([(station.pk, SINCE)], "gateway-1")

    assert offline["events"] == [{"kind": "connection", "station": station.pk, "state": "offline"}]
    assert heard()["events"] == [{"kind": "connection", "station": station.pk, "state": "online"}]


def test_a_session_start_and_stop_are_announced(
    org, station, pages, django_capture_on_commit_callbacks
):
    heard = pages(org)
    started_at = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    with django_capture_on_commit_callbacks(execute=True):
        session = start_session(
            station, connector_number=1, id_tag="04LIVE", started_at=started_at, meter_start=0
        ).session
    started = heard()
    with django_capture_on_commit_callbacks(execute=True):
        stop_session(
            station,
            transaction_id=session.transaction_id,
            stopped_at=started_at.replace(hour=13),
            meter_stop=5_000,
            reason="Local",
        )

    expected = {
        "kind": "session",
        "station": station.pk,
        "connector": connector_pk(station, 1),
        "session": session.pk,
    }
    assert started["events"] == [expected]
    assert heard()["events"] == [expected]


def test_translating_a_status_batch_reads_nothing_from_the_database(
    org, django_assert_num_queries, monkeypatch
):
    sent = []
    monkeypatch.setattr(portal_events, "publish_many", sent.append)
    batch = [
        events.Event(
            STATION_STATUS_CHANGED,
            {
                "organization_id": org.pk,
                "station_id": n,
                "connector_id": None,
                "status": "Available",
            },
        )
        for n in range(100)
    ]
    # The other subscribers (webhooks, roaming) read who they serve once, then from the cache.
    events.dispatch(batch)
    sent.clear()

    with django_assert_num_queries(0):
        events.dispatch(batch)

    assert len(sent) == 1
    assert len(sent[0]) == 100


def test_the_portal_subscribes_to_the_events_it_shows():
    assert portal_events.show_statuses in events.subscribers("station.status_changed")
    assert portal_events.show_connected in events.subscribers("station.connected")
    assert portal_events.show_disconnected in events.subscribers("station.disconnected")
    assert portal_events.show_sessions in events.subscribers("session.started")
    assert portal_events.show_sessions in events.subscribers("session.stopped")
