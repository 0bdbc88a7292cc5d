"""Fleet's subscribers: station reports move campaign rows; campaign events reach open pages."""

from core.events import Event, receiver
from core.live import publish_many
from fleet import services
from fleet.events import CAMPAIGN_EVENTS
from stations.events import STATION_BOOTED, STATION_FIRMWARE_STATUS


@receiver(STATION_FIRMWARE_STATUS)
def follow_firmware_status(events: list[Event]) -> None:
    """A station's firmware progress moves its campaign row (no station is called here)."""
    for event in events:
        services.record_firmware_progress(event["station_id"], event["status"])


@receiver(STATION_BOOTED)
def confirm_version_at_boot(events: list[Event]) -> None:
    """A booting station's reported version confirms or fails its campaign row."""
    services.record_station_boots(event["station_id"] for event in events)


@receiver(*CAMPAIGN_EVENTS)
def show_campaign_progress(events: list[Event]) -> None:
    """The campaign pages refresh their progress ("live-campaign" on the page)."""
    publish_many(
        [
            (
                event["organization_id"],
                {
                    "kind": "campaign",
                    "campaign": event["campaign_id"],
                    "station": event.get("station_id"),
                    "state": event.get("state", ""),
                    "event": event.name,
                },
            )
            for event in events
        ]
    )
