"""Reads of charging sessions: their cost, local days, and the analytics buckets."""

import itertools
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import TruncDate
from django.utils import timezone

from core.timezones import day_start
from sessions_app.choices import ReservationStatus, SessionState
from sessions_app.models import ChargingSession, Reservation

# Days outside these hold no session, and time zone arithmetic next to date.min and date.max
# overflows; a filter naming one is taken as the nearest of them.
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2999, 12, 31)
# Wide enough for the sum of a charge and its credits in ChargeDetailRecord's money columns.
MONEY = DecimalField(max_digits=14, decimal_places=4)


class GroupBy:
    """The buckets analytics can count sessions in."""

    DAY = "day"
    SITE = "site"
    STATION = "station"
    CHOICES = (DAY, SITE, STATION)


def with_cost(sessions: QuerySet) -> QuerySet:
    """Sessions annotated with `cost` and `currency`, both None until the session is rated."""
    # A credit CDR corrects an earlier charge and carries its amounts with their own sign
    # (negative), so what the driver owes is the plain sum over every record of the session.
    # The records are reached through the session's reverse relation (`cdrs`): billing sits
    # above sessions_app, so its model is not imported here.
    same = ChargingSession.objects.filter(pk=OuterRef("pk")).order_by()
    total = same.values("pk").annotate(total=Sum("cdrs__total_incl_tax")).values("total")
    # The charge comes first; its credits are in the same currency.
    currency = same.order_by("cdrs__pk").values("cdrs__currency")[:1]
    return sessions.annotate(cost=Subquery(total, output_field=MONEY), currency=Subquery(currency))


def cost_of(session) -> Decimal | None:
    """The `cost` annotation to the 4 decimals of the money columns (SQLite sums in floats)."""
    if session.cost is None:
        return None
    return session.cost.quantize(Decimal(1).scaleb(-MONEY.decimal_places))


def duration_seconds(session) -> int | None:
    """Whole seconds from start to stop; None while the session runs."""
    if session.stop is None:
        return None
    return max(0, int((session.stop - session.start).total_seconds()))


def started_on_or_after(day: date, zones: dict[int, tzinfo]) -> Q:
    """Sessions that started on or after `day` in their own organization's time zone."""
    day = _clamped(day)
    return _per_zone(zones, lambda zone: Q(start__gte=day_start(day, zone)))


def started_on_or_before(day: date, zones: dict[int, tzinfo]) -> Q:
    """Sessions that started on or before `day` (the whole day) in their organization's zone."""
    next_day = _clamped(day) + timedelta(days=1)
    return _per_zone(zones, lambda zone: Q(start__lt=day_start(next_day, zone)))


def _clamped(day: date) -> date:
    return min(max(day, FIRST_DAY), LAST_DAY)


def _per_zone(zones: dict[int, tzinfo], condition) -> Q:
    # One term per distinct zone, not per organization: a user of 40 German organizations
    # gets a single comparison.
    by_zone: dict[tzinfo, list[int]] = {}
    for organization, zone in zones.items():
        by_zone.setdefault(zone, []).append(organization)
    combined = Q(pk__in=[])
    for zone, organizations in by_zone.items():
        combined |= Q(organization__in=organizations) & condition(zone)
    return combined


def session_analytics(
    sessions: QuerySet,
    *,
    group_by: str,
    start_after: datetime,
    start_before: datetime,
    zone: tzinfo,
) -> list[dict]:
    """Completed sessions that started in [start_after, start_before), counted per bucket."""
    # Only completed sessions: a running one has neither its final energy nor a duration yet,
    # and a failed one (never started, or lost by the station) has no reliable figures.
    sessions = sessions.filter(
        state=SessionState.COMPLETED, start__gte=start_after, start__lt=start_before
    ).order_by()
    duration = ExpressionWrapper(F("stop") - F("start"), output_field=DurationField())
    totals = {
        "sessions": Count("pk"),
        "energy_wh": Sum("energy_wh"),
        "duration": Sum(duration),
    }
    if group_by == GroupBy.DAY:
        rows = (
            sessions.annotate(date=TruncDate("start", tzinfo=zone))
            .values("date")
            .annotate(**totals)
        )
        found = {row["date"]: row for row in rows}
        return [
            _bucket(found.get(day, {}), date=day) for day in _days(start_after, start_before, zone)
        ]
    if group_by == GroupBy.SITE:
        rows = (
            sessions.values(site=F("station__site"), site_name=F("station__site__name"))
            .annotate(**totals)
            .order_by(F("site_name").asc(nulls_last=True))
        )
        return [_bucket(row, site=row["site"], site_name=row["site_name"]) for row in rows]
    if group_by == GroupBy.STATION:
        rows = (
            sessions.values(
                "station",
                ocpp_id=F("station__ocpp_id"),
                site=F("station__site"),
                site_name=F("station__site__name"),
            )
            .annotate(**totals)
            .order_by("ocpp_id")
        )
        return [
            _bucket(
                row,
                station=row["station"],
                ocpp_id=row["ocpp_id"],
                site=row["site"],
                site_name=row["site_name"],
            )
            for row in rows
        ]
    raise ValueError(f"Unknown grouping {group_by!r}")


def _days(start_after: datetime, start_before: datetime, zone: tzinfo) -> list[date]:
    """Every local calendar day the half-open range touches, in order."""
    first = start_after.astimezone(zone).date()
    last = (start_before - timedelta(microseconds=1)).astimezone(zone).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _bucket(row: dict, **key) -> dict:
    """One answer row: the bucket's key, then its totals (zeros for a day without sessions)."""
    count = row.get("sessions", 0)
    duration = row.get("duration") or timedelta(0)
    seconds = int(duration.total_seconds())
    return {
        "date": None,
        "site": None,
        "site_name": None,
        "station": None,
        "ocpp_id": None,
        **key,
        "sessions": count,
        "energy_wh": row.get("energy_wh") or 0,
        "duration_seconds": seconds,
        "average_duration_seconds": round(seconds / count) if count else None,
    }


def active_reservations(station, connector=None) -> QuerySet:
    """Reservations the station holds now: accepted by it and not past their expiry."""
    reservations = Reservation.objects.filter(
        station=station, status=ReservationStatus.ACTIVE, expiry__gt=timezone.now()
    )
    if connector is not None:
        reservations = reservations.filter(connector=connector)
    return reservations


# Gaps listed at most: a station that jumps by billions is broken, and the first ones tell.
MAX_MISSING_LISTED = 1000


def missing_event_numbers(session: ChargingSession) -> list[int]:
    """Sequence numbers between the session's first and last event that never arrived."""
    numbers = sorted(session.transaction_events.values_list("seq_no", flat=True))
    missing: list[int] = []
    for lower, upper in itertools.pairwise(numbers):
        missing.extend(range(lower + 1, min(upper, lower + 1 + MAX_MISSING_LISTED)))
        if len(missing) >= MAX_MISSING_LISTED:
            return missing[:MAX_MISSING_LISTED]
    return missing
