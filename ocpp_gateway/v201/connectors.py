"""2.0.1 (evseId, connectorId) ↔ the platform's station-wide connector numbers."""

from stations.models import ChargingStation, Connector
from stations.services import connector_on_evse, evse_address

# (station pk, evseId, connectorId) → connector number: a mapping that never changes once a
# connector exists, asked on every status and transaction event.
_numbers: dict[tuple[int, int, int], int] = {}
_MAX_CACHED = 100_000


def connector_number(station: ChargingStation, evse: int, connector: int) -> int:
    """The platform's number of the station's connector `connector` of EVSE `evse`."""
    key = (station.pk, evse, connector)
    number = _numbers.get(key)
    if number is None:
        number = connector_on_evse(station, evse, connector).connector_id
        if len(_numbers) >= _MAX_CACHED:
            _numbers.clear()
        _numbers[key] = number
    return number


def forget(station_id: int) -> None:
    """Drop the cached numbers of a station (its connectors were renumbered or deleted)."""
    for key in [key for key in _numbers if key[0] == station_id]:
        del _numbers[key]


def address_of(station: ChargingStation, number: int) -> tuple[int, int]:
    """(evseId, connectorId) of the station's connector `number` (itself if we know none)."""
    connector = (
        Connector.objects.select_related("evse")
        .filter(station=station, connector_id=number)
        .first()
    )
    if connector is None:
        # A connector the station never reported: one connector per EVSE is the common case.
        return number, 1
    return evse_address(connector)
