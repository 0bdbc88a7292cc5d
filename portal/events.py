"""The portal's live updates: domain events become the messages open pages receive.

Each subscriber gets one emit's batch and hands it to `core.live.publish_many`, which sends
one message per organization: a status batch of 500 reports stays one message per tenant.
"""

from core.events import Event, receiver
from core.live import publish_many
from sessions_app.events import SESSION_STARTED, SESSION_STOPPED
from stations.events import STATION_CONNECTED, STATION_DISCONNECTED, STATION_STATUS_CHANGED


@receiver(STATION_STATUS_CHANGED)
def show_statuses(events: list[Event]) -> None:
    """A station's or connector's new status, for its badges."""
    publish_many(
        [
            (
                event["organization_id"],
                {
                    "kind": "status",
                    "station": event["station_id"],
                    "connector": event["connector_id"],
                    "status": event["status"],
                },
            )
            for event in events
        ]
    )


@receiver(STATION_CONNECTED)
def show_connected(events: list[Event]) -> None:
    """Stations whose socket opened: online."""
    _show_connection(events, "online")


@receiver(STATION_DISCONNECTED)
def show_disconnected(events: list[Event]) -> None:
    """Stations whose socket is gone: offline."""
    _show_connection(events, "offline")


def _show_connection(events: list[Event], state: str) -> None:
    publish_many(
        [
            (
                event["organization_id"],
                {"kind": "connection", "station": event["station_id"], "state": state},
            )
            for event in events
        ]
    )


@receiver(SESSION_STARTED, SESSION_STOPPED)
def show_sessions(events: list[Event]) -> None:
    """A session began or ended: the pages listing it refresh."""
    publish_many(
        [
            (
                event["organization_id"],
                {
                    "kind": "session",
                    "station": event["station_id"],
                    "connector": event["connector_id"],
                    "session": event["session_id"],
                },
            )
            for event in events
        ]
    )
