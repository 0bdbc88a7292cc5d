"""Properties of the pricing engine over generated tariffs and usage (hypothesis)."""

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from billing.engine import (
    DAYS,
    DIMENSIONS,
    ENERGY,
    FLAT,
    PARKING_TIME,
    PER_PRICE_UNIT,
    STEP_SIZE_READING_2_2_1,
    STEP_SIZE_READINGS,
    TIME,
    TariffDefinition,
    Usage,
    parse_elements,
    price_session,
    round_money,
)

SETTINGS = settings(max_examples=80, deadline=None)

# Clock times that include both DST switch hours and midnight.
CLOCKS = ["00:00", "02:00", "02:30", "03:00", "06:00", "08:00", "12:00", "18:00", "22:00"]
# Days around both 2026 DST switches in Europe/Berlin and America/New_York, and a plain one.
START_DAYS = [
    datetime(2026, 1, 5, tzinfo=UTC),
    datetime(2026, 3, 7, tzinfo=UTC),
    datetime(2026, 3, 28, tzinfo=UTC),
    datetime(2026, 10, 24, tzinfo=UTC),
    datetime(2026, 10, 31, tzinfo=UTC),
]
ZONES = ["UTC", "Europe/Berlin", "America/New_York"]
# 0 is "no steps" (OCPI's free-of-charge example).
STEPS = [0, 1, 1, 1, 15, 60, 300, 500, 1000]
# A component's own VAT, or none (the tariff's rate).
VATS = [None, None, "0", "7", "19.5"]

# Whole ten-thousandths and cents mapped to Decimal: much cheaper to draw than st.decimals.
prices = st.integers(0, 50000).map(lambda n: Decimal(n).scaleb(-4))
money = st.integers(0, 4000).map(lambda n: Decimal(n).scaleb(-2))


@st.composite
def restrictions(draw):
    """Valid OCPI restrictions, each kind present or not."""
    chosen = {}
    if draw(st.booleans()):
        start, end = draw(st.lists(st.sampled_from(CLOCKS), min_size=2, max_size=2, unique=True))
        keep = draw(st.sampled_from(["both", "start", "end"]))
        if keep != "end":
            chosen["start_time"] = start
        if keep != "start":
            chosen["end_time"] = end
    if draw(st.booleans()):
        chosen["day_of_week"] = draw(st.lists(st.sampled_from(DAYS), min_size=1, unique=True))
    if draw(st.integers(0, 3)) == 0:
        first = draw(st.sampled_from(START_DAYS)).date()
        chosen["start_date"] = (first + timedelta(days=draw(st.integers(-1, 1)))).isoformat()
        chosen["end_date"] = (first + timedelta(days=draw(st.integers(2, 4)))).isoformat()
    for low, high, top in (("min_kwh", "max_kwh", 80), ("min_power", "max_power", 50)):
        if draw(st.booleans()):
            limits = sorted(
                draw(st.lists(st.integers(0, top), min_size=2, max_size=2, unique=True))
            )
            keep = draw(st.sampled_from(["both", "min", "max"]))
            if keep != "max":
                chosen[low] = str(limits[0])
            if keep != "min":
                chosen[high] = str(limits[1])
    if draw(st.booleans()):
        limits = sorted(
            draw(st.lists(st.integers(0, 40 * 3600), min_size=2, max_size=2, unique=True))
        )
        chosen["min_duration"], chosen["max_duration"] = limits
    return chosen


@st.composite
def components(draw, *, steps=True, price=prices):
    """One to four price components of distinct types."""
    kinds = draw(st.lists(st.sampled_from(DIMENSIONS), min_size=1, max_size=4, unique=True))
    chosen = []
    for kind in kinds:
        component = {
            "type": kind,
            "price": str(draw(price)),
            "step_size": draw(st.sampled_from(STEPS)) if steps else 1,
        }
        rate = draw(st.sampled_from(VATS))
        if rate is not None:
            component["vat"] = rate
        chosen.append(component)
    return chosen


@st.composite
def tariffs(draw, *, restricted=True, steps=True, price=prices, bounds=True):
    """A valid tariff definition, parsed from generated OCPI elements."""
    elements = []
    for _ in range(draw(st.integers(1, 4))):
        element = {"price_components": draw(components(steps=steps, price=price))}
        if restricted and draw(st.booleans()):
            element["restrictions"] = draw(restrictions())
        elements.append(element)
    return TariffDefinition(
        currency="EUR",
        tax_rate=draw(st.sampled_from([Decimal(0), Decimal(7), Decimal(19), Decimal("20.5")])),
        elements=parse_elements(elements),
        min_price=draw(st.none() | money) if bounds else None,
        max_price=draw(st.none() | money) if bounds else None,
    )


@st.composite
def usages(draw, *, max_readings=10, cut_points=False):
    """A session of up to 30 h with non-decreasing readings, in whole seconds."""
    start = draw(st.sampled_from(START_DAYS)) + timedelta(seconds=draw(st.integers(0, 2 * 86400)))
    if cut_points:
        # At least one reading, each strictly inside the session and in a second of its own.
        duration = draw(st.integers(2, 30 * 3600))
        moments = st.integers(1, duration - 1)
        offsets = draw(st.lists(moments, min_size=1, max_size=max_readings, unique=True))
    else:
        # Readings may fall on the start, the stop or share a second.
        duration = draw(st.integers(0, 30 * 3600))
        offsets = draw(st.lists(st.integers(0, duration), max_size=max_readings))
    offsets.sort()
    meter_start = draw(st.integers(0, 10**7))
    register = meter_start
    readings = []
    for offset in offsets:
        # Mostly charging, sometimes standing still (parking), now and then a trickle.
        register += draw(st.sampled_from([0, 0, 1, 20]) | st.integers(0, 30000))
        readings.append((start + timedelta(seconds=offset), register))
    meter_stop = register + draw(st.integers(0, 30000))
    return Usage(
        start=start,
        stop=start + timedelta(seconds=duration),
        meter_start_wh=meter_start,
        meter_stop_wh=meter_stop,
        readings=tuple(readings),
        time_zone=draw(st.sampled_from(ZONES)),
    )


def seconds(usage):
    return int((usage.stop - usage.start).total_seconds())


@SETTINGS
@given(tariffs(), usages())
def test_total_is_never_negative_and_includes_exactly_its_tax(tariff, usage):
    price = price_session(tariff, usage)

    assert price.total_excl_tax >= 0
    assert price.tax_amount >= 0
    assert price.total_incl_tax == price.total_excl_tax + price.tax_amount


@SETTINGS
@given(tariffs(steps=False), usages())
def test_energy_lines_and_unpriced_energy_add_up_to_the_metered_energy(tariff, usage):
    price = price_session(tariff, usage)

    priced = sum(line.volume for line in price.lines if line.dimension == ENERGY)
    unpriced = sum(p.energy_wh for p in price.periods if ENERGY not in p.elements)
    # Whole Wh: the unpriced rest is the exact unpriced energy rounded one way or the other.
    assert math.floor(unpriced) <= price.energy_wh - priced <= math.ceil(unpriced)
    assert price.energy_wh == usage.meter_stop_wh - usage.meter_start_wh


@SETTINGS
@given(tariffs(), usages())
def test_energy_steps_only_add_less_than_one_step(tariff, usage):
    price = price_session(tariff, usage)

    energy_lines = [line for line in price.lines if line.dimension == ENERGY]
    priced = sum(line.volume for line in energy_lines)
    unpriced = sum(p.energy_wh for p in price.periods if ENERGY not in p.elements)
    # A step of 0 rounds nothing, as a step of 1 does for whole Wh.
    steps = [
        max(1, tariff.elements[line.element].component(ENERGY).step_size) for line in energy_lines
    ]
    # The priced part rounded up to the step of one element used, never by a full step.
    assert priced + math.ceil(unpriced) >= price.energy_wh
    assert priced - (price.energy_wh - math.floor(unpriced)) < max(steps, default=1)
    assert not energy_lines or any(priced % step == 0 for step in steps)


@SETTINGS
@given(tariffs(), usages())
def test_periods_energy_adds_up_to_the_metered_energy(tariff, usage):
    price = price_session(tariff, usage)

    assert sum(p.energy_wh for p in price.periods) == usage.meter_stop_wh - usage.meter_start_wh


@SETTINGS
@given(tariffs(), usages())
def test_charging_and_parking_seconds_add_up_to_the_session(tariff, usage):
    price = price_session(tariff, usage)

    assert price.charging_seconds + price.parking_seconds == seconds(usage)


def split(usage, index):
    """The session cut in two at one of its readings."""
    moment, register = usage.readings[index]
    first = Usage(
        usage.start, moment, usage.meter_start_wh, register, usage.readings[:index], usage.time_zone
    )
    second = Usage(
        moment,
        usage.stop,
        register,
        usage.meter_stop_wh,
        usage.readings[index + 1 :],
        usage.time_zone,
    )
    return first, second


def volume_of(price, dimension):
    return sum(line.volume for line in price.lines if line.dimension == dimension)


@st.composite
def split_cases(draw, tariff_strategy):
    """A tariff, a session with readings inside it, and the index of the reading to cut at."""
    usage = draw(usages(max_readings=8, cut_points=True))
    return draw(tariff_strategy), usage, draw(st.integers(0, len(usage.readings) - 1))


@SETTINGS
@given(split_cases(tariffs()))
def test_a_session_split_at_a_meter_value_keeps_its_energy_and_seconds(case):
    tariff, usage, index = case
    whole = price_session(tariff, usage)
    parts = [price_session(tariff, part) for part in split(usage, index)]

    assert sum(part.energy_wh for part in parts) == whole.energy_wh
    assert sum(part.charging_seconds for part in parts) == whole.charging_seconds
    assert sum(part.parking_seconds for part in parts) == whole.parking_seconds


@SETTINGS
@given(split_cases(tariffs(restricted=False, steps=False, bounds=False)))
def test_a_split_session_bills_the_same_volumes_on_an_unrestricted_tariff(case):
    tariff, usage, index = case
    # Without restrictions one element prices each dimension throughout, and without steps or
    # bounds nothing depends on where the session ends; only a session fee is per session.
    whole = price_session(tariff, usage)
    parts = [price_session(tariff, part) for part in split(usage, index)]

    for dimension in (ENERGY, TIME, PARKING_TIME):
        split_volume = sum(volume_of(part, dimension) for part in parts)
        assert split_volume == volume_of(whole, dimension), dimension


@SETTINGS
@given(tariffs(price=st.just(Decimal(0)), bounds=False), usages())
def test_a_free_tariff_totals_zero(tariff, usage):
    price = price_session(tariff, usage)

    assert (price.total_excl_tax, price.tax_amount, price.total_incl_tax) == (0, 0, 0)


@SETTINGS
@given(usages(), st.sampled_from([Decimal(0), Decimal(19)]))
def test_an_empty_definition_totals_zero(usage, tax_rate):
    price = price_session(TariffDefinition("EUR", tax_rate, ()), usage)

    assert (price.lines, price.total_incl_tax) == ((), 0)


@SETTINGS
@given(tariffs(), usages(), st.data())
def test_pricing_is_deterministic_whatever_the_order_of_the_readings(tariff, usage, data):
    shuffled = Usage(
        usage.start,
        usage.stop,
        usage.meter_start_wh,
        usage.meter_stop_wh,
        tuple(data.draw(st.permutations(usage.readings))),
        usage.time_zone,
    )

    first = price_session(tariff, usage)

    assert price_session(tariff, usage) == first
    assert price_session(tariff, shuffled) == first


@SETTINGS
@given(tariffs(), usages())
def test_every_line_is_its_volume_at_its_unit_price_rounded_once(tariff, usage):
    price = price_session(tariff, usage)

    for line in price.lines:
        exact = Fraction(line.volume) * Fraction(line.unit_price)
        assert line.amount == round_money(exact / PER_PRICE_UNIT.get(line.dimension, 1))


@st.composite
def glitchy_usages(draw):
    """A session whose readings are in any order, out of range, or running backwards."""
    usage = draw(usages())
    span = seconds(usage)
    readings = draw(
        st.lists(
            st.tuples(
                st.integers(-3600, span + 3600).map(lambda s: usage.start + timedelta(seconds=s)),
                st.integers(usage.meter_start_wh - 5000, usage.meter_stop_wh + 5000),
            ),
            max_size=10,
        )
    )
    meter_stop = draw(st.integers(usage.meter_start_wh - 1000, usage.meter_stop_wh))
    return Usage(
        usage.start, usage.stop, usage.meter_start_wh, meter_stop, tuple(readings), usage.time_zone
    )


@SETTINGS
@given(tariffs(), glitchy_usages())
def test_meter_glitches_never_change_the_session_energy(tariff, usage):
    price = price_session(tariff, usage)

    metered = max(0, usage.meter_stop_wh - usage.meter_start_wh)
    assert price.energy_wh == metered
    assert sum(p.energy_wh for p in price.periods) == metered
    assert all(0 <= p.energy_wh <= metered for p in price.periods)
    assert all(line.volume >= 0 for line in price.lines)
    assert price.charging_seconds + price.parking_seconds == seconds(usage)
    assert price.total_excl_tax >= 0


readings = st.sampled_from(STEP_SIZE_READINGS)
tolerances = st.sampled_from([0, 0, 1, 50])


@SETTINGS
@given(tariffs(restricted=False), usages(), readings, tolerances)
def test_time_and_parking_are_rounded_up_once_by_less_than_a_step(
    tariff, usage, reading, tolerance
):
    price = price_session(tariff, usage, step_size_reading=reading, parking_tolerance_wh=tolerance)

    # Unrestricted: the first element with a dimension prices all of it, so the exact priced
    # seconds are the charging (TIME) and parking (PARKING_TIME) seconds themselves.
    extra = {}
    for dimension, exact in ((TIME, price.charging_seconds), (PARKING_TIME, price.parking_seconds)):
        lines = [line for line in price.lines if line.dimension == dimension]
        if lines:
            (line,) = lines
            step = max(1, tariff.elements[line.element].component(dimension).step_size)
            extra[dimension] = line.volume - exact
            assert 0 <= extra[dimension] < step, dimension
    # Once per session for both together: at most one of them was rounded up.
    assert sum(1 for value in extra.values() if value) <= 1
    if reading == STEP_SIZE_READING_2_2_1 and PARKING_TIME in extra:
        # mod_cdrs: with parking billed, charging time is never rounded.
        assert extra.get(TIME, 0) == 0


@SETTINGS
@given(tariffs(), usages(), readings)
def test_each_session_fee_is_charged_at_most_once_per_element(tariff, usage, reading):
    price = price_session(tariff, usage, step_size_reading=reading)

    fees = [line.element for line in price.lines if line.dimension == FLAT]
    assert len(fees) == len(set(fees))
    assert all(line.volume == 1 for line in price.lines if line.dimension == FLAT)


@SETTINGS
@given(tariffs(), usages(), tolerances)
def test_a_wider_parking_tolerance_never_turns_parking_into_charging(tariff, usage, tolerance):
    strict = price_session(tariff, usage)
    tolerant = price_session(tariff, usage, parking_tolerance_wh=tolerance)

    assert tolerant.parking_seconds >= strict.parking_seconds
    assert tolerant.charging_seconds + tolerant.parking_seconds == seconds(usage)
