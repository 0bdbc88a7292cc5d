"""Baselines' subscribers: stored station settings are compared with the baselines."""

from baselines import services
from core.events import Event, receiver
from stations.events import STATION_VARIABLES_STORED


@receiver(STATION_VARIABLES_STORED)
def check_stored_settings(events: list[Event]) -> None:
    """A station's settings were stored: check its drift from the baselines that match it."""
    # Stations in the unassigned pool match no organization's baseline.
    ids = {e["station_id"] for e in events if e.get("organization_id") is not None}
    if ids:
        services.check_drift(ids)
