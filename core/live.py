"""Live updates: domain services publish small events; open portal pages receive them."""

import asyncio
import logging
import threading
from collections import defaultdict

from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

# The loop that serves this process's WebSockets. The in-memory channel layer's queues belong
# to it, so events raised in another thread (the gateway's database thread) are handed to it.
_serving_loop: asyncio.AbstractEventLoop | None = None


def organization_group(organization_id: int) -> str:
    """The channel-layer group of one organization's open portal pages."""
    return f"portal.org.{organization_id}"


def bind_serving_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Remember the loop that serves WebSockets in this process."""
    global _serving_loop
    _serving_loop = loop


def bound_serving_loop() -> asyncio.AbstractEventLoop | None:
    """The loop bound to serve this process's WebSockets, while it runs; else None."""
    loop = _serving_loop
    return loop if loop is not None and loop.is_running() else None


def publish(organization_id: int | None, kind: str, **data) -> None:
    """Send one event to the organization's open pages once the current transaction commits."""
    publish_many([(organization_id, {"kind": kind, **data})])


def publish_many(events: list[tuple[int | None, dict]]) -> None:
    """Send events (organization id, event) after commit, one message per organization."""
    grouped: dict[int, list[dict]] = defaultdict(list)
    for organization_id, event in events:
        # An unassigned station belongs to no organization: nobody watches it in the portal.
        if organization_id is not None:
            grouped[organization_id].append(event)
    if grouped:
        transaction.on_commit(lambda: _deliver(grouped))


def _deliver(grouped: dict[int, list[dict]]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return

    async def send_all():
        for organization_id, events in grouped.items():
            try:
                await layer.group_send(
                    organization_group(organization_id), {"type": "live.events", "events": events}
                )
            except Exception:
                # A lost live update costs a stale badge until the next one, never the write.
                logger.exception("live update for organization %s not delivered", organization_id)

    loop = _serving_loop if _serving_loop is not None and _serving_loop.is_running() else None
    if loop is None:
        loop = _delivery_loop()
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        loop.create_task(send_all())
    else:
        # Fire and forget: the writer (often the gateway's database thread) never waits.
        asyncio.run_coroutine_threadsafe(send_all(), loop)


_own_loop: asyncio.AbstractEventLoop | None = None
_own_loop_lock = threading.Lock()


def _delivery_loop() -> asyncio.AbstractEventLoop:
    """A loop of this module's own, for processes that serve no sockets (workers, commands)."""
    # One long-lived loop keeps one channel-layer connection; a fresh loop per event (what
    # async_to_sync would make in a plain thread) would open a Redis connection per event.
    global _own_loop
    with _own_loop_lock:
        if _own_loop is None or _own_loop.is_closed():
            _own_loop = asyncio.new_event_loop()
            threading.Thread(target=_own_loop.run_forever, name="portal-live", daemon=True).start()
        return _own_loop
