"""The availability engine: how each moment of a period went for one connector (no Django).

Inputs are plain values: the station's connection history, the station's own status history
(connector 0), the connector's status history, and the maintenance windows that cover the
station. Output: the period cut into segments of one bucket each, and the time per bucket
(a `Tally`) for the whole period or for each of its sub-periods (local days, months).
docs/availability.md defines every figure; this module is the one place that computes them.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from enum import StrEnum


class Bucket(StrEnum):
    """Where a moment of a connector's time goes."""

    AVAILABLE = "available"
    FAULTED = "faulted"
    UNAVAILABLE = "unavailable"
    OFFLINE = "offline"
    UNKNOWN = "unknown"
    MAINTENANCE = "maintenance"


# Statuses in which a connector serves a driver or is ready to (OCPP 1.6 and 2.0.1 names).
OPERATIONAL = frozenset(
    {
        "Available",
        "Preparing",
        "Charging",
        "SuspendedEV",
        "SuspendedEVSE",
        "Finishing",
        "Reserved",
        "Occupied",
    }
)
FAULTED = "Faulted"
UNAVAILABLE = "Unavailable"
# The values of the connection history (stations.choices.ConnectionState).
ONLINE = "online"
OFFLINE = "offline"

ZERO = timedelta(0)


@dataclass(frozen=True)
class History:
    """A value over time: the value before the period (None: unknown) and its changes."""

    before: str | None = None
    # (moment, new value); of two changes at the same moment the later in the list wins.
    changes: Sequence[tuple[datetime, str]] = ()


@dataclass(frozen=True)
class Segment:
    """A stretch [start, end) of one bucket."""

    start: datetime
    end: datetime
    bucket: Bucket


def classify(
    connection: str | None,
    station_status: str | None,
    connector_status: str | None,
    in_maintenance: bool,
) -> Bucket:
    """The bucket of one moment, from the values that hold then; the first rule that fits."""
    if in_maintenance:
        return Bucket.MAINTENANCE
    # A station that is not connected cannot be reached, whatever it last said.
    if connection == OFFLINE:
        return Bucket.OFFLINE
    # The station's own Faulted or Unavailable (connector 0) applies to every connector.
    if FAULTED in (station_status, connector_status):
        return Bucket.FAULTED
    if UNAVAILABLE in (station_status, connector_status):
        return Bucket.UNAVAILABLE
    if connector_status in OPERATIONAL:
        return Bucket.AVAILABLE
    return Bucket.UNKNOWN


def _utc(moment: datetime) -> datetime:
    # Aware datetimes that share a tzinfo subtract as wall-clock times, which loses or adds
    # the DST hour: every moment is compared and subtracted in UTC.
    return moment.astimezone(UTC)


def timeline(
    start: datetime,
    end: datetime,
    *,
    connection: History = History(),
    station_status: History = History(),
    connector_status: History = History(),
    maintenance: Iterable[tuple[datetime, datetime]] = (),
) -> list[Segment]:
    """The period [start, end) cut into segments of one bucket each, in time order."""
    start, end = _utc(start), _utc(end)
    if end <= start:
        return []
    values: list[str | None] = []
    # (moment, order, which, value): which is a history's index, or -1 for maintenance
    # (value +1 as a window opens, -1 as it closes).
    events: list[tuple[datetime, int, int, object]] = []
    for which, history in enumerate((connection, station_status, connector_status)):
        value = history.before
        # A stable sort: changes at the same moment keep their order, so the last one wins.
        for at, new in sorted(((_utc(at), new) for at, new in history.changes), key=lambda c: c[0]):
            if at <= start:
                value = new
            elif at < end:
                events.append((at, len(events), which, new))
        values.append(value)
    depth = 0
    for window_start, window_end in maintenance:
        window_start, window_end = _utc(window_start), _utc(window_end)
        if window_end <= start or window_start >= end or window_end <= window_start:
            continue
        if window_start <= start:
            depth += 1
        else:
            events.append((window_start, len(events), -1, 1))
        if window_end < end:
            events.append((window_end, len(events), -1, -1))
    events.sort(key=lambda event: (event[0], event[1]))

    segments: list[Segment] = []
    cursor = start
    bucket = classify(*values, depth > 0)
    index = 0
    while index < len(events):
        moment = events[index][0]
        # Every change at one moment applies before the moment is classified.
        while index < len(events) and events[index][0] == moment:
            _, _, which, value = events[index]
            if which < 0:
                depth += value
            else:
                values[which] = value
            index += 1
        new_bucket = classify(*values, depth > 0)
        if new_bucket != bucket:
            segments.append(Segment(cursor, moment, bucket))
            cursor, bucket = moment, new_bucket
    segments.append(Segment(cursor, end, bucket))
    return segments


@dataclass(frozen=True)
class Tally:
    """Time per bucket; added up over connectors it is connector-time."""

    available: timedelta = ZERO
    faulted: timedelta = ZERO
    unavailable: timedelta = ZERO
    offline: timedelta = ZERO
    unknown: timedelta = ZERO
    maintenance: timedelta = ZERO

    @classmethod
    def of(cls, durations: dict) -> "Tally":
        """A tally from {bucket: duration}."""
        return cls(**{str(bucket): duration for bucket, duration in durations.items()})

    def __add__(self, other: "Tally") -> "Tally":
        return Tally(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )

    def time_in(self, bucket: Bucket) -> timedelta:
        """The time in one bucket."""
        return getattr(self, str(bucket))

    @property
    def period(self) -> timedelta:
        """All the time tallied: the buckets add up to it exactly."""
        return sum((getattr(self, f.name) for f in fields(self)), ZERO)

    @property
    def measured(self) -> timedelta:
        """The uptime's denominator: the period without maintenance and without unknown time."""
        return self.period - self.maintenance - self.unknown

    @property
    def uptime(self) -> float | None:
        """Operational time over measured time (0 to 1); None when nothing was measured."""
        measured = self.measured
        return self.available / measured if measured > ZERO else None

    def share(self, bucket: Bucket) -> float | None:
        """One bucket's share of the period (0 to 1); None for an empty period."""
        period = self.period
        return self.time_in(bucket) / period if period > ZERO else None

    def whole_seconds(self) -> dict[Bucket, int]:
        """Each bucket in whole seconds, rounded so that they add up to the rounded period."""
        # Largest remainder: a bucket of 0.6 s and one of 0.4 s become 1 and 0, not 1 and 0.
        # In whole microseconds, so that equal remainders compare equal.
        second = timedelta(seconds=1)
        floors = {bucket: self.time_in(bucket) // second for bucket in Bucket}
        remainders = {bucket: self.time_in(bucket) % second for bucket in Bucket}
        target = round(self.period / second)
        missing = target - sum(floors.values())
        by_remainder = sorted(Bucket, key=lambda bucket: -remainders[bucket])
        for bucket in by_remainder[: max(0, missing)]:
            floors[bucket] += 1
        return floors


def tally(segments: Iterable[Segment]) -> Tally:
    """The time per bucket of a whole timeline."""
    durations = dict.fromkeys(Bucket, ZERO)
    for segment in segments:
        durations[segment.bucket] += segment.end - segment.start
    return Tally.of(durations)


def tally_between(segments: Sequence[Segment], edges: Sequence[datetime]) -> list[Tally]:
    """The time per bucket within each [edges[i], edges[i + 1]); edges in time order."""
    edges = [_utc(edge) for edge in edges]
    totals = [dict.fromkeys(Bucket, ZERO) for _ in range(max(0, len(edges) - 1))]
    first = 0
    for segment in segments:
        # Segments come in time order, so the first sub-period a segment can touch only moves on.
        while first < len(totals) and edges[first + 1] <= segment.start:
            first += 1
        index = first
        while index < len(totals) and edges[index] < segment.end:
            overlap = min(segment.end, edges[index + 1]) - max(segment.start, edges[index])
            if overlap > ZERO:
                totals[index][segment.bucket] += overlap
            index += 1
    return [Tally.of(durations) for durations in totals]


def success_rate(attempts: int, failed: int) -> float | None:
    """The share of attempts that did not fail (0 to 1); None without attempts."""
    return (attempts - failed) / attempts if attempts else None
