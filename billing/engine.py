"""The pricing engine: an OCPI 2.2.1 tariff applied to a session's usage, in plain Python."""

# How the engine reads OCPI 2.2.1, so that partners recomputing a CDR from the tariff we
# publish get our numbers:
#
# - Parking is time in which no energy was transferred: a stretch between two meter readings
#   whose register advanced by no more than `parking_tolerance_wh` (0 by default: a register
#   that did not move; a tolerance only absorbs meter resolution). Slow trickle charging is
#   charging. Charging or parking is decided per stretch between two readings, never per
#   piece of a stretch cut by a clock or energy restriction.
# - step_size is applied once per session to ENERGY, and once to TIME and PARKING_TIME
#   together (mod_cdrs, "step_size"). Which time dimension carries that one rounding is read
#   in two ways, chosen by `step_size_reading`:
#     "2.2.1"     mod_cdrs: when parking is billed, "step_size is only taken into account for
#                 the total parking duration" (by the last parking component's step); else
#                 the charging time total carries it.
#     "2.2.1-d2"  the 2.2.1-d2 clarification of mod_tariffs: the dimension of the session's
#                 last billed time-based period carries it, by "the step_size of the last
#                 time-based period".
#   Both agree whenever a session ends parked or never parks; they differ when charging
#   resumes after billed parking. The carrying dimension's total is rounded up and the extra
#   is billed on its last line. A step_size of 0 means no rounding (the spec's free-of-charge
#   example uses it).
# - A FLAT fee is charged once for each distinct element whose FLAT component is the one in
#   force (the first matching element with a FLAT component) at some point of the session, as
#   other implementations read it: a fee that becomes active mid-session is due as well.
# - Elements restricted to a reservation (RESERVATION, RESERVATION_EXPIRES) describe what a
#   reservation costs; they never price a charge (price_reservation prices a reservation).
# - A component's vat overrides the tariff's tax rate for that component's lines. Tax is the
#   exact sum of every line's tax, rounded once (the spec's mixed-VAT examples total so).
#   min_price and max_price bound the total excl. tax and, on their own, the total incl. tax
#   ("they both apply"), each bound incl. tax being the bound plus the tariff's tax on it.

import itertools
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ENERGY = "ENERGY"
FLAT = "FLAT"
TIME = "TIME"
PARKING_TIME = "PARKING_TIME"
DIMENSIONS = (ENERGY, FLAT, TIME, PARKING_TIME)
# Not tariff dimensions: the lines that lift a session to the minimum or cap it at the maximum.
MIN_PRICE = "MIN_PRICE"
MAX_PRICE = "MAX_PRICE"
DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
# OCPI ReservationRestrictionType: the element prices a reservation, or one that expired.
RESERVATION = "RESERVATION"
RESERVATION_EXPIRES = "RESERVATION_EXPIRES"
RESERVATION_KINDS = (RESERVATION, RESERVATION_EXPIRES)
# "A reservation can only have: FLAT and TIME TariffDimensions" (OCPI 2.2.1).
RESERVATION_DIMENSIONS = (FLAT, TIME)
# Which time dimension carries the session's one time rounding (see the top of this module).
STEP_SIZE_READING_2_2_1 = "2.2.1"
STEP_SIZE_READING_2_2_1_D2 = "2.2.1-d2"
STEP_SIZE_READINGS = (STEP_SIZE_READING_2_2_1, STEP_SIZE_READING_2_2_1_D2)

# Walking more days than this for clock cuts is no session but a broken record (27 years).
MAX_CLOCK_DAYS = 10_000
CENT = Decimal("0.01")
# Volumes are whole Wh and whole seconds; these turn them into the units prices are quoted in.
VOLUME_UNIT = {ENERGY: "Wh", TIME: "s", PARKING_TIME: "s", FLAT: "session"}
PRICE_UNIT = {ENERGY: "kWh", TIME: "h", PARKING_TIME: "h", FLAT: "session"}
PER_PRICE_UNIT = {ENERGY: 1000, TIME: 3600, PARKING_TIME: 3600, FLAT: 1}

_HH_MM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_UNSUPPORTED = {
    "min_current": "current is not metered for pricing",
    "max_current": "current is not metered for pricing",
}
_RESTRICTION_KEYS = {
    "start_time",
    "end_time",
    "start_date",
    "end_date",
    "min_kwh",
    "max_kwh",
    "min_power",
    "max_power",
    "min_duration",
    "max_duration",
    "day_of_week",
    "reservation",
}


class TariffError(ValueError):
    """A tariff definition that the engine cannot price with; `messages` say where and why."""

    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


@dataclass(frozen=True)
class PriceComponent:
    """One price of an element: per kWh (ENERGY), per hour (TIME, PARKING_TIME) or per session."""

    type: str
    price: Decimal
    step_size: int = 1
    # The VAT in percent of this component's lines; None: the tariff's tax rate.
    vat: Decimal | None = None


@dataclass(frozen=True)
class Restrictions:
    """When an element applies; every limit that is set must hold (OCPI 2.2.1 semantics)."""

    start_time: time | None = None
    end_time: time | None = None
    start_date: date | None = None
    end_date: date | None = None
    min_kwh: Decimal | None = None
    max_kwh: Decimal | None = None
    min_power: Decimal | None = None
    max_power: Decimal | None = None
    min_duration: int | None = None
    max_duration: int | None = None
    day_of_week: frozenset[int] = frozenset()
    # RESERVATION or RESERVATION_EXPIRES: the element prices a reservation, never a charge.
    reservation: str | None = None

    def matches(self, local: datetime, energy_wh: Fraction, elapsed: Fraction, power_w) -> bool:
        """Whether the element applies at this local time, session energy, duration and power."""
        if not self._matches_clock(local):
            return False
        # Lower limits are inclusive and upper limits exclusive, as OCPI defines them.
        kwh = energy_wh / 1000
        if self.min_kwh is not None and kwh < Fraction(self.min_kwh):
            return False
        if self.max_kwh is not None and kwh >= Fraction(self.max_kwh):
            return False
        if self.min_duration is not None and elapsed < self.min_duration:
            return False
        if self.max_duration is not None and elapsed >= self.max_duration:
            return False
        kw = power_w / 1000
        if self.min_power is not None and kw < Fraction(self.min_power):
            return False
        return not (self.max_power is not None and kw >= Fraction(self.max_power))

    def _matches_clock(self, local: datetime) -> bool:
        if self.day_of_week and local.weekday() not in self.day_of_week:
            return False
        if self.start_date is not None and local.date() < self.start_date:
            return False
        if self.end_date is not None and local.date() >= self.end_date:
            return False
        clock = local.time().replace(tzinfo=None, fold=0)
        start, end = self.start_time, self.end_time
        if end == time(0):
            # "00:00" as the end means the end of the day, not its start (alone or after a start).
            end = None
        if start is not None and end is not None and end <= start:
            # Wraps past midnight (22:00–06:00).
            return clock >= start or clock < end
        if start is not None and clock < start:
            return False
        return not (end is not None and clock >= end)

    def clock_changes(self) -> set[time]:
        """The times of day at which this restriction may start or stop holding."""
        return {t for t in (self.start_time, self.end_time) if t is not None}


@dataclass(frozen=True)
class TariffElement:
    """Price components that apply together, under one set of restrictions."""

    price_components: tuple[PriceComponent, ...]
    restrictions: Restrictions = field(default_factory=Restrictions)

    def component(self, dimension: str) -> PriceComponent | None:
        """This element's price for a dimension, if it has one."""
        for component in self.price_components:
            if component.type == dimension:
                return component
        return None


@dataclass(frozen=True)
class TariffDefinition:
    """A tariff as the engine prices with it: currency, tax rate, elements, price bounds."""

    currency: str
    tax_rate: Decimal
    elements: tuple[TariffElement, ...]
    min_price: Decimal | None = None
    max_price: Decimal | None = None


@dataclass(frozen=True)
class Usage:
    """What a session used: its span, its meter at start and stop, and readings in between."""

    start: datetime
    stop: datetime
    meter_start_wh: int
    meter_stop_wh: int
    # (timestamp, energy register in Wh) in any order; out-of-range or backwards ones are ignored.
    readings: tuple[tuple[datetime, int], ...] = ()
    # Restrictions on time of day, weekday and date are read in the site's local time.
    time_zone: str = "UTC"


@dataclass(frozen=True)
class Line:
    """One priced line: a volume of a dimension at one element's unit price."""

    dimension: str
    element: int | None
    volume: int
    unit_price: Decimal
    amount: Decimal
    # The VAT in percent on this line: its component's, else the tariff's.
    tax_rate: Decimal = Decimal(0)

    @property
    def quantity(self) -> Decimal:
        """The volume in the unit the price is quoted in (kWh, hours, sessions)."""
        if self.dimension not in PER_PRICE_UNIT:
            return Decimal(1)
        per = PER_PRICE_UNIT[self.dimension]
        # kWh are exact to the Wh; hours are shown to six decimals (the volume is exact).
        places = {ENERGY: Decimal("0.001"), FLAT: Decimal(1)}.get(self.dimension, Decimal("1e-6"))
        return (Decimal(self.volume) / per).quantize(places, rounding=ROUND_HALF_UP)

    def as_json(self) -> dict:
        """The line with Decimals as strings, so stored JSON stays exact."""
        return {
            "component": self.dimension,
            "tariff_element": self.element,
            "volume": self.volume,
            "volume_unit": VOLUME_UNIT.get(self.dimension, ""),
            "quantity": f"{self.quantity:f}",
            "unit": PRICE_UNIT.get(self.dimension, ""),
            "unit_price": f"{self.unit_price:f}",
            "amount": f"{self.amount:f}",
            "tax_rate": f"{self.tax_rate:f}",
        }


@dataclass(frozen=True)
class Period:
    """A stretch of the session priced by the same elements, charging or parked."""

    start: datetime
    end: datetime
    charging: bool
    energy_wh: Fraction
    elements: dict[str, int]

    def as_json(self) -> dict:
        """The period in plain JSON (UTC times, energy to the Wh's third decimal)."""
        energy = Decimal(self.energy_wh.numerator) / Decimal(self.energy_wh.denominator)
        return {
            "start": self.start.isoformat().replace("+00:00", "Z"),
            "end": self.end.isoformat().replace("+00:00", "Z"),
            "charging": self.charging,
            "energy_wh": f"{energy.quantize(Decimal('0.001'), rounding=ROUND_HALF_UP):f}",
            "tariff_elements": self.elements,
        }


@dataclass(frozen=True)
class Price:
    """The engine's answer: lines, periods, volumes and totals of one session (or reservation)."""

    currency: str
    tax_rate: Decimal
    lines: tuple[Line, ...]
    periods: tuple[Period, ...]
    energy_wh: int
    charging_seconds: int
    parking_seconds: int
    total_excl_tax: Decimal
    tax_amount: Decimal
    total_incl_tax: Decimal

    def amount_of(self, *dimensions: str) -> Decimal:
        """The sum of the lines of these dimensions."""
        return sum((line.amount for line in self.lines if line.dimension in dimensions), CENT * 0)


# --- parsing ---------------------------------------------------------------------------------


def parse_elements(data) -> tuple[TariffElement, ...]:
    """OCPI 2.2.1 TariffElement JSON as engine objects; raises TariffError listing every fault."""
    errors: list[str] = []
    if not isinstance(data, list) or not data:
        raise TariffError(["A tariff needs a list of at least one element."])
    elements = []
    for index, raw in enumerate(data):
        where = f"elements[{index}]"
        if not isinstance(raw, dict):
            errors.append(f"{where}: must be an object.")
            continue
        unknown = set(raw) - {"price_components", "restrictions"}
        if unknown:
            errors.append(f"{where}: unknown field(s) {', '.join(sorted(unknown))}.")
        components = _parse_components(raw.get("price_components"), where, errors)
        restrictions = _parse_restrictions(raw.get("restrictions"), where, errors)
        if restrictions.reservation is not None:
            for place, component in enumerate(components):
                if component.type not in RESERVATION_DIMENSIONS:
                    errors.append(
                        f"{where}.price_components[{place}].type: a reservation element "
                        "prices only FLAT and TIME."
                    )
        elements.append(TariffElement(tuple(components), restrictions))
    if errors:
        raise TariffError(errors)
    return tuple(elements)


def _parse_components(raw, where: str, errors: list[str]) -> list[PriceComponent]:
    if not isinstance(raw, list) or not raw:
        errors.append(f"{where}.price_components: needs at least one price component.")
        return []
    components = []
    seen = set()
    for index, item in enumerate(raw):
        here = f"{where}.price_components[{index}]"
        if not isinstance(item, dict):
            errors.append(f"{here}: must be an object.")
            continue
        unknown = set(item) - {"type", "price", "step_size", "vat"}
        if unknown:
            errors.append(f"{here}: unknown field(s) {', '.join(sorted(unknown))}.")
        kind = item.get("type")
        if kind not in DIMENSIONS:
            errors.append(f"{here}.type: must be one of {', '.join(DIMENSIONS)}.")
            continue
        if kind in seen:
            # OCPI uses the first component of a type in an element; a second one is a mistake.
            errors.append(f"{here}.type: {kind} appears twice in this element.")
        seen.add(kind)
        price = _decimal(item.get("price"), f"{here}.price", errors, required=True)
        step = item.get("step_size", 1)
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            # 0 is "no steps": the spec's own free-of-charge example uses it.
            errors.append(f"{here}.step_size: must be a whole number of at least 0.")
            step = 1
        vat = _decimal(item.get("vat"), f"{here}.vat", errors)
        if vat is not None and vat > 100:
            errors.append(f"{here}.vat: must be a percentage from 0 to 100.")
            vat = None
        if price is not None:
            components.append(PriceComponent(kind, price, step, vat))
    return components


def _parse_restrictions(raw, where: str, errors: list[str]) -> Restrictions:
    if raw is None:
        return Restrictions()
    here = f"{where}.restrictions"
    if not isinstance(raw, dict):
        errors.append(f"{here}: must be an object.")
        return Restrictions()
    for key in sorted(set(raw) - _RESTRICTION_KEYS):
        why = _UNSUPPORTED.get(key, "unknown restriction")
        errors.append(f"{here}.{key}: not supported ({why}).")
    values = {
        "start_time": _clock(raw.get("start_time"), f"{here}.start_time", errors),
        "end_time": _clock(raw.get("end_time"), f"{here}.end_time", errors),
        "start_date": _day(raw.get("start_date"), f"{here}.start_date", errors),
        "end_date": _day(raw.get("end_date"), f"{here}.end_date", errors),
        "min_kwh": _decimal(raw.get("min_kwh"), f"{here}.min_kwh", errors),
        "max_kwh": _decimal(raw.get("max_kwh"), f"{here}.max_kwh", errors),
        "min_power": _decimal(raw.get("min_power"), f"{here}.min_power", errors),
        "max_power": _decimal(raw.get("max_power"), f"{here}.max_power", errors),
        "min_duration": _seconds(raw.get("min_duration"), f"{here}.min_duration", errors),
        "max_duration": _seconds(raw.get("max_duration"), f"{here}.max_duration", errors),
    }
    days = raw.get("day_of_week", [])
    if not isinstance(days, list) or any(day not in DAYS for day in days):
        errors.append(f"{here}.day_of_week: must be a list of {', '.join(DAYS)}.")
        days = []
    elif len(set(days)) != len(days):
        errors.append(f"{here}.day_of_week: a day is listed twice.")
    reservation = raw.get("reservation")
    if reservation is not None and reservation not in RESERVATION_KINDS:
        errors.append(f"{here}.reservation: must be one of {', '.join(RESERVATION_KINDS)}.")
        reservation = None
    for low, high in (
        ("start_date", "end_date"),
        ("min_kwh", "max_kwh"),
        ("min_power", "max_power"),
        ("min_duration", "max_duration"),
    ):
        if values[low] is not None and values[high] is not None and values[high] <= values[low]:
            errors.append(f"{here}.{high}: must be greater than {low}.")
    if values["start_time"] is not None and values["start_time"] == values["end_time"]:
        errors.append(f"{here}.end_time: must differ from start_time.")
    return Restrictions(
        **values,
        day_of_week=frozenset(DAYS.index(day) for day in days),
        reservation=reservation,
    )


def _decimal(raw, where: str, errors: list[str], *, required=False) -> Decimal | None:
    if raw is None:
        if required:
            errors.append(f"{where}: is required.")
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        errors.append(f"{where}: must be a number.")
        return None
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        errors.append(f"{where}: must be a number.")
        return None
    if not value.is_finite() or value < 0:
        errors.append(f"{where}: must be a number of at least 0.")
        return None
    if value.as_tuple().exponent < -4 or value >= Decimal(10) ** 8:
        errors.append(f"{where}: at most 8 digits before and 4 after the decimal point.")
        return None
    return value


def _seconds(raw, where: str, errors: list[str]) -> int | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
        errors.append(f"{where}: must be a whole number of seconds, at least 0.")
        return None
    return raw


def _clock(raw, where: str, errors: list[str]) -> time | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not _HH_MM.match(raw):
        errors.append(f"{where}: must be a time of day as HH:MM (00:00–23:59).")
        return None
    hours, minutes = raw.split(":")
    return time(int(hours), int(minutes))


def _day(raw, where: str, errors: list[str]) -> date | None:
    if raw is None:
        return None
    try:
        if not isinstance(raw, str) or not _DATE.match(raw):
            raise ValueError
        return date.fromisoformat(raw)
    except ValueError:
        errors.append(f"{where}: must be a date as YYYY-MM-DD.")
        return None


# --- pricing ---------------------------------------------------------------------------------


def price_session(
    tariff: TariffDefinition,
    usage: Usage,
    *,
    step_size_reading: str = STEP_SIZE_READING_2_2_1,
    parking_tolerance_wh: int = 0,
) -> Price:
    """Price a session's usage with a tariff: exact, deterministic, rounded once per line."""
    if step_size_reading not in STEP_SIZE_READINGS:
        raise ValueError(f"step_size_reading must be one of {', '.join(STEP_SIZE_READINGS)}")
    if parking_tolerance_wh < 0:
        raise ValueError("parking_tolerance_wh must be at least 0")
    charge_elements = [
        index
        for index, element in enumerate(tariff.elements)
        if element.restrictions.reservation is None
    ]
    measured = _measure(
        tariff,
        usage,
        charge_elements,
        reservation=False,
        step_size_reading=step_size_reading,
        parking_tolerance_wh=parking_tolerance_wh,
    )
    lines = list(measured.lines)
    subtotal = sum((line.amount for line in lines), Decimal("0.00"))
    lines.extend(_bound_lines(tariff, subtotal))
    return _totalled(tariff, measured, lines, bounded=True)


def price_reservation(
    tariff: TariffDefinition,
    start: datetime,
    stop: datetime,
    *,
    expired: bool = False,
    time_zone: str = "UTC",
) -> Price:
    """Price a reservation's time from the tariff's reservation elements (OCPI 2.2.1)."""
    # A reservation that expired is priced by its RESERVATION_EXPIRES elements first: "the
    # time based cost of an expired reservation will be calculated based on the
    # RESERVATION_EXPIRES TariffElement"; a dimension they do not price falls back to the
    # RESERVATION elements (tariff_17: the expiry fee plus the reserved time). Restrictions
    # are read over the reservation's own time; it transfers no energy. min_price and
    # max_price bound a charging session, not a reservation.
    kinds = (RESERVATION_EXPIRES, RESERVATION) if expired else (RESERVATION,)
    candidates = [
        index
        for kind in kinds
        for index, element in enumerate(tariff.elements)
        if element.restrictions.reservation == kind
    ]
    usage = Usage(start=start, stop=stop, meter_start_wh=0, meter_stop_wh=0, time_zone=time_zone)
    measured = _measure(
        tariff,
        usage,
        candidates,
        reservation=True,
        step_size_reading=STEP_SIZE_READING_2_2_1,
        parking_tolerance_wh=0,
    )
    return _totalled(tariff, measured, list(measured.lines), bounded=False)


@dataclass(frozen=True)
class _Measured:
    """Lines before price bounds and totals, with the periods and volumes behind them."""

    lines: tuple[Line, ...]
    periods: tuple[Period, ...]
    energy_wh: int
    charging_seconds: int
    parking_seconds: int


def _measure(
    tariff: TariffDefinition,
    usage: Usage,
    candidates: list[int],
    *,
    reservation: bool,
    step_size_reading: str,
    parking_tolerance_wh: int,
) -> _Measured:
    """Lines, periods and volumes of a usage, priced by the candidate elements in order."""
    try:
        zone = ZoneInfo(usage.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    # Whole seconds in UTC: a duration is priced by the second, never by a clock's fraction.
    start = usage.start.astimezone(UTC).replace(microsecond=0)
    stop = max(start, usage.stop.astimezone(UTC).replace(microsecond=0))
    total_s = int((stop - start).total_seconds())
    total_wh = max(0, usage.meter_stop_wh - usage.meter_start_wh)
    points = _energy_points(usage, start, total_s, total_wh)
    candidate_elements = [tariff.elements[index] for index in candidates]
    clock_cuts = _clock_cuts(candidate_elements, start, stop, zone)

    buckets: dict[tuple[str, int | None], Fraction] = {}
    last_use: dict[tuple[str, int | None], int] = {}
    flat_elements: list[int] = []
    periods: list[Period] = []
    charging_s = parking_s = Fraction(0)
    stretches = _intervals(points, clock_cuts, candidate_elements, parking_tolerance_wh)
    for order, (a, b, e_a, e_b, charging) in enumerate(stretches):
        duration = b - a
        energy = e_b - e_a
        power_w = energy * 3600 / duration if duration else Fraction(0)
        moment = _at(start, a).astimezone(zone)
        matching = [
            index
            for index in candidates
            if tariff.elements[index].restrictions.matches(moment, e_a, a, power_w)
        ]
        used: dict[str, int] = {}
        # A reservation's whole time is reserved time, priced as TIME (OCPI 2.2.1).
        time_dimension = TIME if charging or reservation else PARKING_TIME
        for dimension, volume in ((ENERGY, energy), (time_dimension, duration)):
            index = _first_with(tariff.elements, matching, dimension)
            key = (dimension, index)
            buckets[key] = buckets.get(key, Fraction(0)) + volume
            if index is not None and volume:
                last_use[key] = order
                used[dimension] = index
        flat = _first_with(tariff.elements, matching, FLAT)
        if flat is not None and flat not in flat_elements:
            # Each element's fee once, from the moment its FLAT component is in force.
            flat_elements.append(flat)
            used[FLAT] = flat
        if charging:
            charging_s += duration
        elif not reservation:
            # A reservation transfers no energy, yet its time is reserved, not parked.
            parking_s += duration
        _extend_periods(periods, start, a, b, charging, energy, used)

    return _Measured(
        lines=tuple(_lines(tariff, buckets, last_use, flat_elements, step_size_reading)),
        periods=tuple(periods),
        energy_wh=total_wh,
        charging_seconds=int(charging_s),
        parking_seconds=int(parking_s),
    )


def _totalled(
    tariff: TariffDefinition, measured: _Measured, lines: list[Line], *, bounded: bool
) -> Price:
    """The price with these lines and their totals: tax summed exactly per line, rounded once."""
    priced = [line for line in lines if line.dimension not in (MIN_PRICE, MAX_PRICE)]
    subtotal = sum((line.amount for line in priced), Decimal("0.00"))
    exact_tax = sum((Fraction(line.amount) * Fraction(line.tax_rate) / 100 for line in priced), 0)
    total_incl = subtotal + round_money(exact_tax)
    if bounded:
        # A bound line moves the total excl. tax; the bounds incl. tax hold on their own, so no
        # rate is guessed for a bound over lines of mixed VAT.
        total_incl = _bounded_incl_tax(tariff, total_incl)
    total_excl = sum((line.amount for line in lines), Decimal("0.00"))
    return Price(
        currency=tariff.currency,
        tax_rate=tariff.tax_rate,
        lines=tuple(lines),
        periods=measured.periods,
        energy_wh=measured.energy_wh,
        charging_seconds=measured.charging_seconds,
        parking_seconds=measured.parking_seconds,
        total_excl_tax=total_excl,
        tax_amount=total_incl - total_excl,
        total_incl_tax=total_incl,
    )


def round_money(amount) -> Decimal:
    """An exact amount rounded to the cent, half away from zero (billing's one rounding rule)."""
    exact = Fraction(amount) * 100
    magnitude = math.floor(abs(exact) + Fraction(1, 2))
    cents = magnitude if exact >= 0 else -magnitude
    return (Decimal(cents) / 100).quantize(CENT)


def _at(start: datetime, offset: Fraction) -> datetime:
    return start + timedelta(microseconds=math.floor(offset * 1_000_000))


def _energy_points(usage: Usage, start: datetime, total_s: int, total_wh: int) -> list:
    """(seconds since start, Wh since start): from (0, 0) to (end, total), never decreasing."""
    points = [(0, Fraction(0))]
    if total_s == 0:
        return [(0, Fraction(0)), (0, Fraction(total_wh))]
    latest = 0
    # Sorted by register too, so two readings with one timestamp give the same answer in any order.
    for stamp, register in sorted(usage.readings):
        offset = (stamp.astimezone(UTC) - start) // timedelta(seconds=1)
        if offset <= points[-1][0] or offset >= total_s:
            continue
        # A register that runs backwards or past the final reading is a meter glitch: clamp it,
        # so the session's energy is always exactly meter stop minus meter start.
        latest = min(total_wh, max(latest, register - usage.meter_start_wh))
        points.append((offset, Fraction(latest)))
    points.append((total_s, Fraction(total_wh)))
    return points


def _clock_cuts(elements: Sequence[TariffElement], start: datetime, stop: datetime, zone) -> set:
    """Offsets (s) in the session where a restriction on clock, date or duration may flip."""
    cuts: set[int] = set()
    total = int((stop - start).total_seconds())
    for element in elements:
        for limit in (element.restrictions.min_duration, element.restrictions.max_duration):
            if limit is not None and 0 < limit < total:
                cuts.add(limit)
    if not any(_depends_on_clock(element.restrictions) for element in elements):
        # Nothing flips with the clock or the calendar: no need to walk the session's days
        # (a stored 1970 → 2099 session would be 47,000 of them).
        return cuts
    clocks = {time(0, 0)}
    for element in elements:
        clocks |= element.restrictions.clock_changes()
    first = start.astimezone(zone).date() - timedelta(days=1)
    last = stop.astimezone(zone).date() + timedelta(days=1)
    if (last - first).days > MAX_CLOCK_DAYS:
        raise ValueError(f"a session over {MAX_CLOCK_DAYS} days cannot be priced by the clock")
    day = first
    while day <= last:
        for clock in clocks:
            # Both readings of a wall time that occurs twice (autumn) are candidate changes.
            for fold in (0, 1):
                moment = datetime.combine(day, clock, tzinfo=zone).replace(fold=fold)
                _add_cut(cuts, start, total, moment)
        _add_cut(cuts, start, total, _offset_change(day, zone))
        day += timedelta(days=1)
    return cuts


def _depends_on_clock(restrictions: Restrictions) -> bool:
    """Whether the restriction's outcome can change with the time of day or the date."""
    return bool(
        restrictions.clock_changes()
        or restrictions.day_of_week
        or restrictions.start_date is not None
        or restrictions.end_date is not None
    )


def _add_cut(cuts: set, start: datetime, total: int, moment: datetime | None) -> None:
    if moment is None:
        return
    offset = (moment.astimezone(UTC) - start) // timedelta(seconds=1)
    if 0 < offset < total:
        cuts.add(offset)


def _offset_change(day: date, zone) -> datetime | None:
    """The instant on this local day when the UTC offset changes (a DST switch), if any."""
    low = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    high = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    if low.astimezone(zone).utcoffset() == high.astimezone(zone).utcoffset():
        return None
    # Wall times in a spring gap do not exist, so a clock restriction changes at the switch.
    while (high - low) > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).utcoffset() == low.astimezone(zone).utcoffset():
            low = middle
        else:
            high = middle
    return high.replace(microsecond=0)


def _intervals(
    points, clock_cuts: set, elements: Sequence[TariffElement], parking_tolerance_wh: int
) -> Iterable[tuple]:
    """(start s, end s, Wh at start, Wh at end, charging) of stretches no restriction flips in."""
    if points[-1][0] == 0:
        energy = points[-1][1] - points[0][1]
        yield 0, Fraction(0), points[0][1], points[-1][1], energy > parking_tolerance_wh
        return
    thresholds = sorted(
        {
            Fraction(limit) * 1000
            for element in elements
            for limit in (element.restrictions.min_kwh, element.restrictions.max_kwh)
            if limit is not None
        }
    )
    cuts = sorted(clock_cuts)
    position = 0
    for (s0, e0), (s1, e1) in itertools.pairwise(points):
        # Parking is a stretch between two readings in which the register did not move (by
        # more than the meter's resolution); pieces of it cut by the clock stay what it is.
        charging = e1 - e0 > parking_tolerance_wh
        inner = set()
        while position < len(cuts) and cuts[position] < s1:
            if cuts[position] > s0:
                inner.add(Fraction(cuts[position]))
            position += 1
        for wh in thresholds:
            if e0 < wh < e1:
                # Energy grows linearly between two readings: the threshold is crossed here.
                inner.add(s0 + (wh - e0) * (s1 - s0) / (e1 - e0))
        edges = [Fraction(s0), *sorted(inner), Fraction(s1)]
        slope = (e1 - e0) / (s1 - s0)
        for a, b in itertools.pairwise(edges):
            yield a, b, e0 + slope * (a - s0), e0 + slope * (b - s0), charging


def _first_with(elements, matching: list[int], dimension: str) -> int | None:
    """The first matching element that prices this dimension (OCPI: first match wins)."""
    for index in matching:
        if elements[index].component(dimension) is not None:
            return index
    return None


def _extend_periods(periods, start, a, b, charging, energy, used) -> None:
    if periods and periods[-1].charging == charging and periods[-1].elements == used:
        last = periods[-1]
        periods[-1] = Period(last.start, _at(start, b), charging, last.energy_wh + energy, used)
    else:
        periods.append(Period(_at(start, a), _at(start, b), charging, energy, used))


def _lines(
    tariff: TariffDefinition, buckets: dict, last_use: dict, flat_elements: list[int], reading: str
) -> list[Line]:
    """Whole-unit volumes per element, the session's step roundings applied, each line rounded."""
    volumes: dict = {}
    for dimension in (ENERGY, TIME, PARKING_TIME):
        keys = [key for key in buckets if key[0] == dimension]
        volumes.update(_whole_units({key: buckets[key] for key in keys}))
    priced = {key: volume for key, volume in volumes.items() if key[1] is not None and volume > 0}
    for carrier in _step_carriers(priced, last_use, reading):
        dimension, index = carrier
        # step_size 0: no steps.
        step = max(1, tariff.elements[index].component(dimension).step_size)
        total = sum(volume for key, volume in priced.items() if key[0] == dimension)
        priced[carrier] += -total % step
    lines = [
        _line(tariff, dimension, index, volume)
        for wanted in (ENERGY, TIME, PARKING_TIME)
        for (dimension, index), volume in priced.items()
        if dimension == wanted
    ]
    lines.extend(_line(tariff, FLAT, index, 1) for index in flat_elements)
    return lines


def _step_carriers(priced: dict, last_use: dict, reading: str) -> list[tuple[str, int]]:
    """The lines whose step rounds the session: one for energy, one for time and parking."""

    def last_of(*dimensions):
        keys = [key for key in priced if key[0] in dimensions]
        return max(keys, key=lambda key: last_use.get(key, -1), default=None)

    # OCPI 2.2.1: the step size of the last element used for a dimension rounds the
    # dimension's whole volume up; the extra volume is billed at that element's price.
    if reading == STEP_SIZE_READING_2_2_1:
        # mod_cdrs: with TIME and PARKING_TIME both used, only the parking total is rounded.
        time_carrier = last_of(PARKING_TIME) or last_of(TIME)
    else:
        # 2.2.1-d2: the step of the last time-based period rounds that period's dimension.
        time_carrier = last_of(TIME, PARKING_TIME)
    return [carrier for carrier in (last_of(ENERGY), time_carrier) if carrier is not None]


def _whole_units(volumes: dict) -> dict:
    """Fractions to whole units summing to the rounded total (largest remainder, then order)."""
    floors = {key: math.floor(value) for key, value in volumes.items()}
    missing = round(sum(volumes.values())) - sum(floors.values())
    by_remainder = sorted(volumes, key=lambda key: -(volumes[key] - floors[key]))
    for key in by_remainder[: max(0, missing)]:
        floors[key] += 1
    return floors


def _line(tariff: TariffDefinition, dimension: str, element: int, volume: int) -> Line:
    component = tariff.elements[element].component(dimension)
    amount = round_money(Fraction(volume) * Fraction(component.price) / PER_PRICE_UNIT[dimension])
    rate = tariff.tax_rate if component.vat is None else component.vat
    return Line(dimension, element, volume, component.price, amount, Decimal(rate))


def _bound_lines(tariff: TariffDefinition, subtotal: Decimal) -> list[Line]:
    """A line lifting the subtotal to the minimum price, or one capping it at the maximum."""
    rate = Decimal(tariff.tax_rate)
    if tariff.min_price is not None and subtotal < round_money(tariff.min_price):
        lift = round_money(tariff.min_price) - subtotal
        return [Line(MIN_PRICE, None, 1, lift, lift, rate)]
    if tariff.max_price is not None and subtotal > round_money(tariff.max_price):
        cap = round_money(tariff.max_price) - subtotal
        return [Line(MAX_PRICE, None, 1, cap, cap, rate)]
    return []


def _bounded_incl_tax(tariff: TariffDefinition, total_incl: Decimal) -> Decimal:
    """The total incl. tax held within the bounds incl. tax (the bound plus the tariff's tax)."""
    # OCPI 2.2.1: "they both apply": with mixed VAT the total incl. tax may pass a bound that
    # the total excl. tax does not (tariff_6: 50 kWh cost 10.00 excl. and 11.00 incl. VAT).
    if tariff.max_price is not None:
        total_incl = min(total_incl, _with_tariff_tax(tariff, tariff.max_price))
    if tariff.min_price is not None:
        total_incl = max(total_incl, _with_tariff_tax(tariff, tariff.min_price))
    return total_incl


def _with_tariff_tax(tariff: TariffDefinition, excl_tax) -> Decimal:
    """A price bound incl. tax, as roaming publishes it: the bound plus the tariff's tax on it."""
    excl = round_money(excl_tax)
    return excl + round_money(Fraction(excl) * Fraction(tariff.tax_rate) / 100)
