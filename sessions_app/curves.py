"""A session's power, energy and state of charge over time, from its meter values, as charts."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal

from django.utils import formats
from django.utils.translation import gettext as _

from core.charts import Chart, Series, render_chart
from sessions_app.models import MeterValue
from sessions_app.services import POWER_ACTIVE_IMPORT, energy_readings

SOC = "SoC"
_TO_W = {"W": Decimal(1), "kW": Decimal(1000)}
_PHASES = ("L1", "L2", "L3")
# A long session has tens of thousands of samples; a chart a few hundred pixels wide needs this.
MAX_POINTS = 240
# Candidate x-axis steps, shortest first; the first giving few enough labels is used.
TIME_STEPS = [timedelta(minutes=m) for m in (1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440)]


@dataclass(frozen=True)
class Curve:
    """Points (time, value) of one measure, oldest first."""

    points: list[tuple[datetime, float]]

    @property
    def last(self) -> float | None:
        return self.points[-1][1] if self.points else None


@dataclass(frozen=True)
class SessionCurves:
    """Power in kW, energy charged in kWh and state of charge in %, each possibly empty."""

    power: Curve
    energy: Curve
    soc: Curve

    def __bool__(self) -> bool:
        return bool(self.power.points or self.energy.points or self.soc.points)


def session_curves(session) -> SessionCurves:
    """The session's curves: two queries whatever the number of meter values."""
    energy = [
        (moment, max(0, wh - session.meter_start) / 1000) for moment, wh in energy_readings(session)
    ]
    power: dict[datetime, dict] = defaultdict(dict)
    soc: dict[datetime, float] = {}
    rows = (
        MeterValue.objects.filter(session=session, measurand__in=(POWER_ACTIVE_IMPORT, SOC))
        .exclude(value=None)
        .order_by("timestamp", "pk")
        .values_list("timestamp", "measurand", "value", "phase", "unit", "location")
    )
    for moment, measurand, value, phase, unit, location in rows:
        if measurand == SOC:
            soc[moment] = float(value)
        elif unit in _TO_W and location != "EV":
            # Outlet (or unspecified) is what the vehicle got: it wins over Inlet.
            rank = 0 if location in ("", "Outlet") else 1
            power[moment].setdefault(rank, []).append((phase, value * _TO_W[unit]))
    return SessionCurves(
        power=Curve(_thin(sorted(_power_points(power)))),
        energy=Curve(_thin(energy, average=False)),
        soc=Curve(_thin(sorted(soc.items()), average=False)),
    )


def _power_points(power: dict[datetime, dict]):
    """One total in kW per moment: the phase-less value, else L1+L2+L3."""
    for moment, by_rank in power.items():
        samples = by_rank[min(by_rank)]
        totals = [value for phase, value in samples if not phase]
        if totals:
            yield moment, float(totals[-1]) / 1000
            continue
        per_phase = {phase.removesuffix("-N"): v for phase, v in samples}
        known = [v for phase, v in per_phase.items() if phase in _PHASES]
        if known:
            yield moment, float(sum(known)) / 1000


def _thin(points: list[tuple[datetime, float]], *, average=True) -> list:
    """At most MAX_POINTS points: consecutive ones merged (averaged, or the last kept)."""
    if len(points) <= MAX_POINTS:
        return list(points)
    size = -(-len(points) // MAX_POINTS)
    thinned = []
    for i in range(0, len(points), size):
        chunk = points[i : i + size]
        value = sum(v for _m, v in chunk) / len(chunk) if average else chunk[-1][1]
        thinned.append((chunk[-1][0], value))
    return thinned


def time_ticks(start: datetime, end: datetime, zone: tzinfo) -> list:
    """Round local clock times between start and end, as (position, label, wide, narrow)."""
    span = (end - start).total_seconds()
    if span <= 0:
        return []
    step = next((s for s in TIME_STEPS if span / s.total_seconds() <= 6), None)
    if step is None:
        # Longer than six days (a station's clock that says year 9999): whole days, six ticks.
        step = timedelta(days=-(-span // (6 * 86_400)))
    local = start.astimezone(zone)
    seconds = step.total_seconds()
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    offset = (local - midnight).total_seconds()
    moment = midnight + timedelta(seconds=-(-offset // seconds) * seconds)
    ticks = []
    while moment <= end:
        position = (moment - start).total_seconds() / span
        if step < timedelta(days=1):
            label = formats.time_format(moment, "TIME_FORMAT")
        else:
            label = formats.date_format(moment, "SHORT_DATE_FORMAT")
        ticks.append([position, label, True, False])
        try:
            moment += step
        except OverflowError:
            # The next tick would be past year 9999: the axis ends here.
            break
    for i, tick in enumerate(ticks):
        tick[3] = i % 2 == 0
    return [tuple(tick) for tick in ticks]


def _clock(moment: datetime, zone: tzinfo) -> str:
    return formats.time_format(moment.astimezone(zone), "TIME_FORMAT")


def curve_charts(session, curves: SessionCurves, zone: tzinfo, now: datetime) -> list[Chart]:
    """Power, energy charged and state of charge over the session, one chart each."""
    start = session.start
    moments = [m for curve in (curves.power, curves.energy, curves.soc) for m, _v in curve.points]
    end = max([session.stop or now, *moments])
    span = (end - start).total_seconds() or 1
    ticks = time_ticks(start, end, zone)
    time_title = _("Time")
    charts = []
    for curve, title, unit, decimals in (
        (curves.power, _("Power"), _("kW"), 2),
        (curves.energy, _("Energy charged"), _("kWh"), 2),
        (curves.soc, _("State of charge"), _("%"), 0),
    ):
        if not curve.points:
            continue
        charts.append(
            render_chart(
                "line",
                title=title,
                x_title=time_title,
                y_title=unit,
                labels=[_clock(moment, zone) for moment, _v in curve.points],
                series=[Series(f"{title} ({unit})", [v for _m, v in curve.points])],
                formatter=lambda value, d=decimals: formats.number_format(value, d, use_l10n=True),
                positions=[max(0.0, (m - start).total_seconds() / span) for m, _v in curve.points],
                x_ticks=ticks,
            )
        )
    return charts
