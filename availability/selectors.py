"""Reads of the availability report: histories in a few queries, figures per day or month.

A report covers a set of stations (already narrowed to the caller's organizations) over local
days or months. Whatever the number of stations, it reads the stations, their connectors,
the status and connection changes inside the period, the maintenance windows, and the session
counts: seven queries. The state before the period is the last change before it, read in the
same queries as subqueries (one index lookup per station and connector).
"""

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from operator import itemgetter

from django.db.models import Count, DateField, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from availability import uptime
from availability.choices import Group, Period
from availability.models import MaintenanceRecord, MaintenanceWindow
from core.timezones import day_start, zone_of
from sessions_app.choices import AuthorizationStatus, RemoteStartStatus, SessionState
from sessions_app.models import ChargingSession, RemoteStart
from sessions_app.services import REMOTE_START_WINDOW
from stations.models import ChargingStation, ConnectionEvent, Connector, StatusEvent

# The longest report: a leap year of days, or three years of months.
MAX_DAYS = 366
MAX_MONTHS = 36
# Outside these, time zone arithmetic would overflow Python's datetime.
EARLIEST = date(1970, 1, 1)
LATEST = date(2999, 12, 31)
CHUNK = 2000

# Stop reasons (OCPP 1.6 Reason, 2.0.1 ReasonEnum) that mean the charge point gave up, when a
# session ends with one within QUICK_STOP of its start: the driver never got a charge.
FAULT_STOP_REASONS = (
    "EmergencyStop",
    "PowerLoss",
    "EVDisconnected",
    "GroundFault",
    "OvercurrentFault",
    "PowerQuality",
    "Reboot",
    "HardReset",
    "SoftReset",
    "ImmediateReset",
)
QUICK_STOP = timedelta(minutes=1)


def failed_session() -> Q:
    """Sessions that count as failed starts (docs/availability.md, "Session success rate")."""
    return (
        Q(state=SessionState.FAILED)
        | Q(state=SessionState.COMPLETED, energy_wh__lte=0)
        | Q(
            stop_reason__in=FAULT_STOP_REASONS,
            stop__isnull=False,
            stop__lt=F("start") + QUICK_STOP,
        )
    )


def failed_remote_start(now: datetime) -> Q:
    """Remote starts the station refused, never answered, or accepted without a session."""
    return Q(status__in=(RemoteStartStatus.REJECTED, RemoteStartStatus.FAILED)) | Q(
        status__in=(RemoteStartStatus.PENDING, RemoteStartStatus.ACCEPTED),
        session__isnull=True,
        # Until then a session may still claim it (sessions_app.services).
        created_at__lt=now - REMOTE_START_WINDOW,
    )


# --- the period ------------------------------------------------------------------------------


class RangeError(ValueError):
    """A report range that cannot be answered: which parameter, and why."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field_name = field_name
        self.message = message


def parse_day_or_month(text: str, *, last: bool) -> date:
    """`YYYY-MM-DD`, or `YYYY-MM` (its first day, or its last day when `last`)."""
    text = text.strip()
    try:
        if len(text) == 7:
            first = date.fromisoformat(f"{text}-01")
            return _month_end(first) if last else first
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(_("Give a day (YYYY-MM-DD) or a month (YYYY-MM).")) from None


def _month_end(day: date) -> date:
    return _next_month(day) - timedelta(days=1)


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def resolve_range(
    period: str, first: date | None, last: date | None, zone: tzinfo, now: datetime | None = None
) -> tuple[date, date]:
    """The first and last local day the report covers; defaults and limits applied."""
    today = (now or timezone.now()).astimezone(zone).date()
    for name, value in (("from", first), ("to", last)):
        if value is not None and not EARLIEST <= value <= LATEST:
            raise RangeError(name, _("Give a day between 1970 and 2999."))
    last = last or today
    first = first or last.replace(day=1)
    if period == Period.MONTH:
        first, last = first.replace(day=1), _month_end(last)
    if last < first:
        raise RangeError("to", _("The range ends before it starts."))
    if period == Period.MONTH:
        months = (last.year - first.year) * 12 + last.month - first.month + 1
        if months > MAX_MONTHS:
            raise RangeError(
                "from", _("Per month, a range covers at most %(n)d months.") % {"n": MAX_MONTHS}
            )
    elif (last - first).days + 1 > MAX_DAYS:
        raise RangeError("from", _("Per day, a range covers at most %(n)d days.") % {"n": MAX_DAYS})
    return first, last


@dataclass(frozen=True)
class Span:
    """One time bucket of the report: a local day or month, as the UTC range it covers."""

    label: date  # the bucket's first local day
    start: datetime
    end: datetime  # the bucket's end, or now for the bucket that is still running
    full_end: datetime  # the bucket's end in any case

    @property
    def complete(self) -> bool:
        return self.end == self.full_end


def spans(
    period: str, first: date, last: date, zone: tzinfo, now: datetime | None = None
) -> list[Span]:
    """The days or months from `first` to `last`, each up to now at most; none in the future."""
    now = now or timezone.now()
    step = (lambda day: day + timedelta(days=1)) if period == Period.DAY else _next_month
    day = first if period == Period.DAY else first.replace(day=1)
    found = []
    while day <= last:
        following = step(day)
        start = day_start(day, zone).astimezone(UTC)
        end = day_start(following, zone).astimezone(UTC)
        if start >= now:
            break
        found.append(Span(day, start, min(end, now), end))
        day = following
    return found


# --- figures ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """What a row says for one bucket: time per bucket and the session counts."""

    tally: uptime.Tally = field(default_factory=uptime.Tally)
    attempts: int = 0
    failed: int = 0

    def __add__(self, other: "Figures") -> "Figures":
        return Figures(
            self.tally + other.tally, self.attempts + other.attempts, self.failed + other.failed
        )

    @property
    def success_rate(self) -> float | None:
        return uptime.success_rate(self.attempts, self.failed)


@dataclass
class Line:
    """A connector, station or site (or everything), with its figures per span."""

    level: str
    spans: list[Figures]
    site_id: int | None = None
    site_name: str = ""
    station_id: int | None = None
    ocpp_id: str = ""
    connector_id: int | None = None
    connector_number: int | None = None
    connectors: int = 0
    children: list["Line"] = field(default_factory=list)

    @property
    def total(self) -> Figures:
        """The figures of the whole range."""
        return sum(self.spans, Figures())

    def add(self, child: "Line") -> None:
        """Count a child line (a connector of a station, a station of a site) in this one."""
        self.children.append(child)
        self.connectors += child.connectors
        self.spans = [mine + theirs for mine, theirs in zip(self.spans, child.spans, strict=True)]


@dataclass
class Report:
    """The report over a range: its spans, and lines per site, station and connector."""

    period: str
    zone: tzinfo
    first: date
    last: date
    spans: list[Span]
    sites: list[Line]
    overall: Line

    @property
    def start(self) -> datetime | None:
        return self.spans[0].start if self.spans else None

    @property
    def end(self) -> datetime | None:
        return self.spans[-1].end if self.spans else None

    @property
    def running(self) -> bool:
        """Whether the range reaches now, so its last day or month is counted up to now."""
        return bool(self.spans) and not self.spans[-1].complete

    def lines(self, group: str) -> list[Line]:
        """The sites, the stations or the connectors, in the report's order."""
        if group == Group.SITE:
            return list(self.sites)
        stations = [station for site in self.sites for station in site.children]
        if group == Group.STATION:
            return stations
        return [connector for station in stations for connector in station.children]


def availability_report(
    stations: QuerySet,
    *,
    period: str,
    first: date,
    last: date,
    zone: tzinfo,
    now: datetime | None = None,
) -> Report:
    """Availability and session success of `stations` (narrowed by the caller) per span."""
    now = now or timezone.now()
    found_spans = spans(period, first, last, zone, now)
    if not found_spans:
        return Report(period, zone, first, last, [], [], Line("total", []))
    start, end = found_spans[0].start, found_spans[-1].end
    ids = stations.order_by().values("pk")
    history = _Histories(ids, start, end)
    sessions = _session_counts(ids, start, end, zone, period, found_spans, now)
    edges = [span.start for span in found_spans] + [end]
    empty = [Figures() for _ in found_spans]

    sites: dict[int | None, Line] = {}
    overall = Line("total", list(empty))
    for station in history.stations:
        station_id, site_id = station["pk"], station["site_id"]
        names = {
            "site_id": site_id,
            "site_name": station["site__name"] or "",
            "station_id": station_id,
            "ocpp_id": station["ocpp_id"],
        }
        if site_id not in sites:
            sites[site_id] = Line(
                Group.SITE, list(empty), site_id=site_id, site_name=names["site_name"]
            )
        station_line = Line(Group.STATION, list(empty), **names)
        connection = uptime.History(
            station["connection_before"], history.connection_changes.get(station_id, ())
        )
        station_status = uptime.History(
            station["status_before"], history.status_changes.get((station_id, 0), ())
        )
        maintenance = history.windows_covering(station)
        for connector in history.connectors_of.get(station_id, ()):
            number = connector["connector_id"]
            segments = uptime.timeline(
                start,
                end,
                connection=connection,
                station_status=station_status,
                connector_status=uptime.History(
                    connector["status_before"], history.status_changes.get((station_id, number), ())
                ),
                maintenance=maintenance,
            )
            counts = sessions.get((station_id, connector["pk"]), {})
            tallies = uptime.tally_between(segments, edges)
            station_line.add(
                Line(
                    Group.CONNECTOR,
                    [Figures(one, *counts.get(i, (0, 0))) for i, one in enumerate(tallies)],
                    connector_id=connector["pk"],
                    connector_number=number,
                    connectors=1,
                    **names,
                )
            )
        # Remote starts that named no connector count for the station (and its site) only.
        unassigned = sessions.get((station_id, None), {})
        station_line.spans = [
            figures + Figures(uptime.Tally(), *unassigned.get(i, (0, 0)))
            for i, figures in enumerate(station_line.spans)
        ]
        sites[site_id].add(station_line)
    for site in sites.values():
        overall.add(site)
    return Report(period, zone, first, last, found_spans, list(sites.values()), overall)


def _last_status_before(start: datetime, station, number) -> Subquery:
    """The status of the last report before `start` of a station's connector (0: itself)."""
    return Subquery(
        StatusEvent.objects.filter(station=station, connector_number=number, timestamp__lt=start)
        .order_by("-timestamp", "-id")
        .values("status")[:1]
    )


class _Histories:
    """Everything the engine needs about the stations, read in five queries."""

    def __init__(self, ids: QuerySet, start: datetime, end: datetime):
        self.stations = list(
            ChargingStation.objects.filter(pk__in=ids)
            .annotate(
                status_before=_last_status_before(start, OuterRef("pk"), 0),
                connection_before=Subquery(
                    ConnectionEvent.objects.filter(station=OuterRef("pk"), at__lt=start)
                    .order_by("-at", "-id")
                    .values("state")[:1]
                ),
            )
            .order_by(F("site__name").asc(nulls_last=True), "site_id", "ocpp_id", "pk")
            .values(
                "pk",
                "ocpp_id",
                "organization_id",
                "site_id",
                "site__name",
                "status_before",
                "connection_before",
            )
        )
        self.connectors_of: dict[int, list[dict]] = defaultdict(list)
        for connector in (
            Connector.objects.filter(station__in=ids)
            .annotate(
                status_before=_last_status_before(
                    start, OuterRef("station"), OuterRef("connector_id")
                )
            )
            .order_by("station", "connector_id")
            .values("pk", "station_id", "connector_id", "status_before")
        ):
            self.connectors_of[connector["station_id"]].append(connector)
        self.status_changes: dict[tuple[int, int], list] = defaultdict(list)
        for station_id, number, status, at in (
            StatusEvent.objects.filter(station__in=ids, timestamp__gte=start, timestamp__lt=end)
            .order_by("timestamp", "id")
            .values_list("station_id", "connector_number", "status", "timestamp")
            .iterator(chunk_size=CHUNK)
        ):
            self.status_changes[(station_id, number)].append((at, status))
        self.connection_changes: dict[int, list] = defaultdict(list)
        for station_id, state, at in (
            ConnectionEvent.objects.filter(station__in=ids, at__gte=start, at__lt=end)
            .order_by("at", "id")
            .values_list("station_id", "state", "at")
            .iterator(chunk_size=CHUNK)
        ):
            self.connection_changes[station_id].append((at, state))
        organizations = {station["organization_id"] for station in self.stations}
        self.windows = list(
            MaintenanceWindow.objects.filter(organization__in=organizations)
            .overlapping(start, end)
            .values("organization_id", "site_id", "station_id", "starts_at", "ends_at")
        )

    def windows_covering(self, station: dict) -> list[tuple[datetime, datetime]]:
        """The maintenance windows that apply to a station (see MaintenanceWindow.covers)."""
        return [
            (window["starts_at"], window["ends_at"])
            for window in self.windows
            if window["organization_id"] == station["organization_id"]
            and (
                window["station_id"] == station["pk"]
                if window["station_id"]
                else window["site_id"] == station["site_id"]
                if window["site_id"]
                else True
            )
        ]


def _session_counts(
    ids: QuerySet,
    start: datetime,
    end: datetime,
    zone: tzinfo,
    period: str,
    found_spans: list[Span],
    now: datetime,
) -> dict[tuple[int, int | None], dict[int, tuple[int, int]]]:
    """(station, connector) → span index → (attempts, failed): two grouped queries."""
    index_of = {span.label: index for index, span in enumerate(found_spans)}

    def bucket(moment: str):
        if period == Period.DAY:
            return TruncDate(moment, tzinfo=zone)
        return TruncMonth(moment, tzinfo=zone, output_field=DateField())

    counts: dict = defaultdict(lambda: defaultdict(lambda: (0, 0)))
    sessions = (
        ChargingSession.objects.filter(station__in=ids, start__gte=start, start__lt=end)
        # A card the authorization refused is no attempt the charge point could fail.
        .filter(auth_status=AuthorizationStatus.ACCEPTED)
        .annotate(bucket=bucket("start"))
        .values("station_id", "connector_id", "bucket")
        .annotate(attempts=Count("pk"), failed=Count("pk", filter=failed_session()))
        .order_by()
    )
    remote_starts = (
        RemoteStart.objects.filter(station__in=ids, created_at__gte=start, created_at__lt=end)
        .filter(failed_remote_start(now))
        .annotate(bucket=bucket("created_at"))
        .values("station_id", "connector_id", "bucket")
        .annotate(attempts=Count("pk"), failed=Count("pk"))
        .order_by()
    )
    for rows in (sessions, remote_starts):
        for row in rows:
            index = index_of.get(_as_date(row["bucket"]))
            if index is None:
                continue
            key = (row["station_id"], row["connector_id"])
            attempts, failed = counts[key][index]
            counts[key][index] = (attempts + row["attempts"], failed + row["failed"])
    return counts


def _as_date(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value


# --- rows ------------------------------------------------------------------------------------

SECONDS = [f"{bucket}_seconds" for bucket in uptime.Bucket]
SHARES = [f"{bucket}_share" for bucket in uptime.Bucket]
COLUMNS = [
    "period",
    "date",
    "start",
    "end",
    "site",
    "site_name",
    "station",
    "ocpp_id",
    "connector",
    "connector_number",
    "connectors",
    "period_seconds",
    *SECONDS,
    *SHARES,
    "uptime",
    "sessions",
    "failed_sessions",
    "success_rate",
]

# For core.api.csv: each column read from the row dictionaries report_rows yields.
CSV_COLUMNS = [(name, itemgetter(name)) for name in COLUMNS]


def _ratio(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def figures_row(figures: Figures) -> dict:
    """A row's figures as plain numbers: whole seconds, shares and rates from 0 to 1."""
    seconds = figures.tally.whole_seconds()
    row = {"period_seconds": sum(seconds.values())}
    row.update({f"{bucket}_seconds": seconds[bucket] for bucket in uptime.Bucket})
    row.update({f"{bucket}_share": _ratio(figures.tally.share(bucket)) for bucket in uptime.Bucket})
    row.update(
        uptime=_ratio(figures.tally.uptime),
        sessions=figures.attempts,
        failed_sessions=figures.failed,
        success_rate=_ratio(figures.success_rate),
    )
    return row


def report_rows(report: Report, group: str) -> Iterator[dict]:
    """One row per line of `group` and span, in the report's order (the API's and CSV's rows)."""
    for line in report.lines(group):
        for span, figures in zip(report.spans, line.spans, strict=True):
            yield {
                "period": report.period,
                "date": span.label,
                "start": span.start,
                "end": span.end,
                "site": line.site_id,
                "site_name": line.site_name or None,
                "station": line.station_id,
                "ocpp_id": line.ocpp_id or None,
                "connector": line.connector_id,
                "connector_number": line.connector_number,
                "connectors": line.connectors,
                **figures_row(figures),
            }


# --- maintenance due ---------------------------------------------------------------------------

# Planned windows the overview shows per station, soonest first.
UPCOMING_WINDOWS = 3


@dataclass
class DueLine:
    """One station in the overview of what is due: its last maintenance, next due, windows."""

    station: ChargingStation
    last: MaintenanceRecord | None = None
    next_due: date | None = None
    due_record: MaintenanceRecord | None = None
    today: date | None = None
    windows: list = field(default_factory=list)

    @property
    def overdue(self) -> bool:
        """Whether the next maintenance was due before today (the organization's local day)."""
        return self.next_due is not None and self.next_due < self.today

    @property
    def days_left(self) -> int | None:
        """Days until the next maintenance is due (negative: overdue), None when nothing is due."""
        return None if self.next_due is None else (self.next_due - self.today).days

    @property
    def due_label(self) -> str:
        """The due state in words (the page never says it by colour alone)."""
        days = self.days_left
        if days is None:
            return _("Nothing due")
        if days < 0:
            return ngettext("Overdue by %(days)d day", "Overdue by %(days)d days", -days) % {
                "days": -days
            }
        if days == 0:
            return _("Due today")
        return ngettext("Due in %(days)d day", "Due in %(days)d days", days) % {"days": days}

    def sort_key(self):
        # Overdue first (the earliest due date), then the rest by due date, then never due.
        return (self.next_due is None, self.next_due or LATEST, self.station.ocpp_id)


def latest_records_per_kind(stations: QuerySet) -> QuerySet:
    """Each station's latest record of each kind: the one whose next_due counts."""
    latest = (
        MaintenanceRecord.objects.filter(station=OuterRef("station"), kind=OuterRef("kind"))
        .order_by("-performed_at", "-id")
        .values("pk")[:1]
    )
    return (
        MaintenanceRecord.objects.filter(station__in=stations)
        .annotate(latest_of_kind=Subquery(latest))
        .filter(pk=F("latest_of_kind"))
        .select_related("performed_by")
    )


def maintenance_due(stations: QuerySet, now: datetime | None = None) -> list[DueLine]:
    """What is due per station (already narrowed to the caller), overdue first: three queries."""
    now = now or timezone.now()
    rows = list(stations.select_related("site", "organization").order_by("ocpp_id"))
    lines = {}
    for station in rows:
        today = now.astimezone(zone_of(station.organization)).date()
        lines[station.pk] = DueLine(station=station, today=today)
    if not lines:
        return []
    for record in latest_records_per_kind(stations):
        line = lines[record.station_id]
        if line.last is None or (record.performed_at, record.pk) > (
            line.last.performed_at,
            line.last.pk,
        ):
            line.last = record
        if record.next_due is not None and (
            line.next_due is None or record.next_due < line.next_due
        ):
            line.next_due, line.due_record = record.next_due, record
    windows = MaintenanceWindow.objects.filter(
        organization__in={station.organization_id for station in rows}, ends_at__gt=now
    ).order_by("starts_at", "pk")
    for window in windows:
        for line in lines.values():
            if len(line.windows) < UPCOMING_WINDOWS and window.covers(line.station):
                line.windows.append(window)
    return sorted(lines.values(), key=DueLine.sort_key)


DUE_CSV_COLUMNS = [
    ("station", lambda line: line.station.pk),
    ("ocpp_id", lambda line: line.station.ocpp_id),
    ("site", lambda line: line.station.site.name if line.station.site_id else ""),
    ("last_kind", lambda line: line.last.kind if line.last else ""),
    ("last_performed_at", lambda line: line.last.performed_at if line.last else None),
    ("last_performed_by", lambda line: line.last.performer if line.last else ""),
    ("next_due", lambda line: line.next_due),
    ("next_due_kind", lambda line: line.due_record.kind if line.due_record else ""),
    ("overdue", lambda line: line.overdue),
    ("next_window_starts_at", lambda line: line.windows[0].starts_at if line.windows else None),
    ("next_window_ends_at", lambda line: line.windows[0].ends_at if line.windows else None),
]
