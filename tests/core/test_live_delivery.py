"""Live events from a process that serves no sockets (a worker, a command) still go out."""

import asyncio

import pytest
from channels.layers import get_channel_layer

from core import live

pytestmark = pytest.mark.django_db


def on(loop, coro, timeout=10):
    return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)


def test_an_event_written_outside_any_server_reaches_the_organizations_group(
    org, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(live, "_serving_loop", None)
    loop = live._delivery_loop()
    layer = get_channel_layer()
    page = on(loop, layer.new_channel())
    on(loop, layer.group_add(live.organization_group(org.pk), page))
    try:
        with django_capture_on_commit_callbacks(execute=True):
            live.publish(org.pk, "status", station=1, connector=2, status="Charging")
        message = on(loop, layer.receive(page))
    finally:
        on(loop, layer.group_discard(live.organization_group(org.pk), page))
    assert message["events"] == [
        {"kind": "status", "station": 1, "connector": 2, "status": "Charging"}
    ]


def test_the_delivery_loop_is_made_once_and_reused(monkeypatch):
    monkeypatch.setattr(live, "_serving_loop", None)
    assert live._delivery_loop() is live._delivery_loop()
    assert live._delivery_loop().is_running()


def test_nothing_is_sent_before_the_transaction_commits(org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        live.publish(org.pk, "session", station=1, connector=2, session=3)
    assert len(callbacks) == 1


def test_an_unassigned_station_publishes_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        live.publish(None, "status", station=1, connector=None, status="Available")
    assert callbacks == []
