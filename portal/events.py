"""The portal's live updates: domain events become the messages open pages receive.

Each subscriber gets one emit's batch and hands it to `core.live.publish_many`, which sends
one message per organization: a status batch of 500 reports stays one message per tenant.
"""

from alerts.events import ALERT_ACKNOWLEDGED, ALERT_ESCALATED, ALERT_OPENED, ALERT_RESOLVED
from alerts.selectors import live_counts
from core.events import Event, receiver
from core.live import publish_many
from ocpp_gateway.events import BULK_RESULT, COMMAND_FINISHED
from sessions_app.events import SESSION_STARTED, SESSION_STOPPED
from stations.events import (
    STATION_CONNECTED,
    STATION_DIAGNOSTICS_FILE_RECEIVED,
    STATION_DIAGNOSTICS_STATUS,
    STATION_DISCONNECTED,
    STATION_FIRMWARE_STATUS,
    STATION_STATUS_CHANGED,
)


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


@receiver(ALERT_OPENED, ALERT_ACKNOWLEDGED, ALERT_ESCALATED, ALERT_RESOLVED)
def show_alerts(events: list[Event]) -> None:
    """An alert opened, changed or resolved: the counts in the navigation and the dashboard."""
    # Counted once the alert's transaction has committed: two queries for the whole batch.
    counts = live_counts(event["organization_id"] for event in events)
    publish_many(
        [
            (
                event["organization_id"],
                {
                    "kind": "alerts",
                    **counts[event["organization_id"]],
                    "alert": event["alert_id"],
                    "state": event["state"],
                    "severity": event["severity"],
                    "station": event["station_id"],
                },
            )
            for event in events
            # A platform alert (an unknown identity knocking) has no organization to tell.
            if event["organization_id"] is not None
        ]
    )


@receiver(COMMAND_FINISHED)
def show_command_outcomes(events: list[Event]) -> None:
    """A command's outcome is recorded: the station page's waiting panel and command log."""
    publish_many(
        [
            (
                event["organization_id"],
                {
                    "kind": "command",
                    "station": event["station_id"],
                    "log": event["command_log_id"],
                    "status": event["status"],
                },
            )
            for event in events
        ]
    )


@receiver(BULK_RESULT)
def show_bulk_results(events: list[Event]) -> None:
    """A station's result of a bulk command changed: the bulk command's result table."""
    publish_many(
        [
            (
                event["organization_id"],
                {
                    "kind": "bulk",
                    "bulk": event["bulk_id"],
                    "result": event["result_id"],
                    "station": event["station_id"],
                    "status": event["status"],
                    "finished": event["finished"],
                },
            )
            for event in events
        ]
    )


@receiver(STATION_FIRMWARE_STATUS, STATION_DIAGNOSTICS_STATUS, STATION_DIAGNOSTICS_FILE_RECEIVED)
def show_firmware_progress(events: list[Event]) -> None:
    """Firmware or diagnostics progress, or an uploaded file: the station page's section."""
    publish_many(
        [
            (event["organization_id"], {"kind": "firmware", "station": event["station_id"]})
            for event in events
        ]
    )
