"""Per-station usage over a period: utilization, sessions per day, energy, and uptime.

Utilization is the share of the period's connector time that completed sessions occupied:
the time each session ran inside the period, summed per station, over the period's length
times the station's connectors. Sessions per day and energy count the completed sessions that
started in the period, as the rest of the analytics page does. Uptime is the availability
report's own figure, which availability hands in through `register_uptime_source` (it sits
above this app); without it the column is left out.
"""

from collections.abc import Callable
from datetime import date, datetime, timedelta, tzinfo

from django.db.models import (
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Greatest, Least

from sessions_app.choices import SessionState

# Called with the stations (already narrowed to one organization), the first and last local
# day and the time zone; answers each station's uptime (0 to 1, None when nothing was measured).
UptimeSource = Callable[[QuerySet, date, date, tzinfo], dict[int, float | None]]

_uptime_sources: list[UptimeSource] = []


def register_uptime_source(source: UptimeSource) -> UptimeSource:
    """Take stations' uptime from `source` (availability's report); the first registered wins."""
    if source not in _uptime_sources:
        _uptime_sources.append(source)
    return source


def station_usage(
    sessions: QuerySet,
    stations: QuerySet,
    *,
    start_after: datetime,
    start_before: datetime,
    first_day: date,
    last_day: date,
    zone: tzinfo,
    now: datetime,
) -> list[dict]:
    """One row per station: sessions, sessions per day, energy, utilization and uptime."""
    # The period counts up to now: today's future hours were not available to charge in.
    end = min(start_before, now)
    period_seconds = max(0.0, (end - start_after).total_seconds())
    days = (last_day - first_day).days + 1
    started = Q(start__gte=start_after, start__lt=start_before)
    clipped = ExpressionWrapper(
        Least(F("stop"), Value(end, output_field=DateTimeField()))
        - Greatest(F("start"), Value(start_after, output_field=DateTimeField())),
        output_field=DurationField(),
    )
    # A station whose clock put the stop before the start occupied nothing, not less than zero.
    clipped = Greatest(clipped, Value(timedelta(0), output_field=DurationField()))
    # One query for every station: what ran in the period, and what started in it.
    figures = {
        row["station_id"]: row
        for row in sessions.filter(
            state=SessionState.COMPLETED,
            stop__isnull=False,
            start__lt=end,
            stop__gt=start_after,
        )
        .order_by()
        .values("station_id")
        .annotate(
            sessions=Count("pk", filter=started),
            energy_wh=Coalesce(Sum("energy_wh", filter=started), 0),
            occupied=Sum(clipped),
        )
    }
    station_rows = list(
        stations.order_by("site__name", "ocpp_id")
        .annotate(connector_count=Count("connectors"))
        .values("pk", "ocpp_id", "site__name", "connector_count")
    )
    uptimes = _uptime_sources[0](stations, first_day, last_day, zone) if _uptime_sources else None
    rows = []
    for station in station_rows:
        found = figures.get(station["pk"], {})
        occupied = found.get("occupied")
        capacity = period_seconds * max(1, station["connector_count"])
        rows.append(
            {
                "station_id": station["pk"],
                "ocpp_id": station["ocpp_id"],
                "site_name": station["site__name"] or "",
                "connectors": station["connector_count"],
                "sessions": found.get("sessions", 0),
                "sessions_per_day": found.get("sessions", 0) / days,
                "energy_wh": found.get("energy_wh", 0),
                "occupied_seconds": occupied.total_seconds() if occupied else 0.0,
                "utilization": min(1.0, occupied.total_seconds() / capacity)
                if occupied and capacity
                else 0.0,
                "uptime": None if uptimes is None else uptimes.get(station["pk"]),
            }
        )
    return rows


def has_uptime_source() -> bool:
    """Whether an uptime source is registered (the usage table then has an uptime column)."""
    return bool(_uptime_sources)
