"""Helpers of the availability tests: history rows written as a station and the gateway would."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from stations.models import ConnectionEvent, StatusEvent

BERLIN = ZoneInfo("Europe/Berlin")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def status(station, number: int, value: str, at: datetime) -> StatusEvent:
    """A status report of connector `number` (0: the station itself)."""
    connector = station.connectors.filter(connector_id=number).first() if number else None
    return StatusEvent.objects.create(
        station=station, connector=connector, connector_number=number, status=value, timestamp=at
    )


def connection(station, state: str, at: datetime) -> ConnectionEvent:
    return ConnectionEvent.objects.create(station=station, state=state, at=at)
