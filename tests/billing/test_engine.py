"""The pricing engine on hand-computed tables: components, steps, restrictions, bounds, glitches."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from billing.engine import (
    ENERGY,
    FLAT,
    MAX_PRICE,
    MIN_PRICE,
    PARKING_TIME,
    RESERVATION,
    STEP_SIZE_READING_2_2_1,
    STEP_SIZE_READING_2_2_1_D2,
    STEP_SIZE_READINGS,
    TIME,
    TariffDefinition,
    TariffError,
    Usage,
    parse_elements,
    price_reservation,
    price_session,
    round_money,
)

BERLIN = ZoneInfo("Europe/Berlin")
# Monday 5 January 2026; the 3rd and 4th are a Saturday and a Sunday.
MONDAY = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
# Registers start far from zero, so an engine that forgets to subtract meter start shows it.
METER_START = 100_000


def at(day, hour, minute=0, tz=UTC):
    """A moment on a January 2026 day (or a full date) at a wall-clock time in `tz`."""
    if isinstance(day, int):
        day = (2026, 1, day)
    return datetime(*day, hour, minute, tzinfo=tz)


def pc(kind, price, step_size=1):
    """One OCPI price component."""
    return {"type": kind, "price": price, "step_size": step_size}


def el(*components, **restrictions):
    """One OCPI tariff element of these components under these restrictions."""
    element = {"price_components": list(components)}
    if restrictions:
        element["restrictions"] = restrictions
    return element


def tariff(*elements, tax_rate="0", min_price=None, max_price=None):
    """An EUR tariff definition parsed from OCPI elements."""
    return TariffDefinition(
        currency="EUR",
        tax_rate=Decimal(tax_rate),
        elements=parse_elements(list(elements)),
        min_price=None if min_price is None else Decimal(min_price),
        max_price=None if max_price is None else Decimal(max_price),
    )


def usage(start, minutes, wh, readings=(), time_zone="UTC", meter_start=METER_START):
    """`minutes` from `start` using `wh`; readings are (minutes since start, Wh used so far)."""
    # Arithmetic in UTC: adding minutes to a Berlin wall clock would skip or repeat DST hours.
    start = start.astimezone(UTC)
    return Usage(
        start=start,
        stop=start + timedelta(minutes=minutes),
        meter_start_wh=meter_start,
        meter_stop_wh=meter_start + wh,
        readings=tuple((start + timedelta(minutes=m), meter_start + w) for m, w in readings),
        time_zone=time_zone,
    )


def lines_of(price):
    return [(line.dimension, line.element, line.volume, f"{line.amount}") for line in price.lines]


# Components -----------------------------------------------------------------------------------

# Each case: elements, usage, expected lines (dimension, element, volume in Wh/s/1, amount).
COMPONENT_CASES = [
    pytest.param(
        [el(pc(ENERGY, "0.39"))],
        usage(MONDAY, 60, 12345),
        # 12.345 kWh × 0.39 = 4.81455
        [(ENERGY, 0, 12345, "4.81")],
        id="energy-per-kwh",
    ),
    pytest.param(
        [el(pc(TIME, "2.00"))],
        usage(MONDAY, 90, 11000),
        # 1.5 h × 2.00
        [(TIME, 0, 5400, "3.00")],
        id="time-per-hour-while-charging",
    ),
    pytest.param(
        [el(pc(ENERGY, "0.30"), pc(TIME, "1.00"), pc(PARKING_TIME, "6.00"))],
        usage(MONDAY, 90, 10000, readings=[(60, 10000)]),
        # full after 60 min: 1 h charging × 1.00, then 0.5 h parked × 6.00
        [(ENERGY, 0, 10000, "3.00"), (TIME, 0, 3600, "1.00"), (PARKING_TIME, 0, 1800, "3.00")],
        id="parking-after-charging-finishes-until-stop",
    ),
    pytest.param(
        [el(pc(ENERGY, "0.30"), pc(TIME, "2.00"), pc(PARKING_TIME, "1.00"))],
        usage(MONDAY, 120, 10040, readings=[(60, 10000)]),
        # second hour draws 40 Wh (40 W): energy was transferred, so it is charging time.
        # 10.04 kWh × 0.30 = 3.012
        [(ENERGY, 0, 10040, "3.01"), (TIME, 0, 7200, "4.00")],
        id="trickle-charging-is-charging",
    ),
    pytest.param(
        [el(pc(ENERGY, "0.30"), pc(TIME, "2.00"), pc(PARKING_TIME, "1.00"))],
        usage(MONDAY, 120, 10001, readings=[(60, 10000)]),
        # one Wh in the second hour: the register moved, so the car was still charging
        [(ENERGY, 0, 10001, "3.00"), (TIME, 0, 7200, "4.00")],
        id="one-wh-in-an-hour-is-charging",
    ),
    pytest.param(
        [el(pc(ENERGY, "0.30"), pc(TIME, "2.00"), pc(PARKING_TIME, "1.00"))],
        usage(MONDAY, 90, 10000, readings=[(30, 5000), (60, 5000)]),
        # charging 0–30 and 60–90 min (1 h × 2.00), paused 30–60 (0.5 h × 1.00)
        [(ENERGY, 0, 10000, "3.00"), (TIME, 0, 3600, "2.00"), (PARKING_TIME, 0, 1800, "0.50")],
        id="pause-in-the-middle-is-parking",
    ),
    pytest.param(
        [el(pc(FLAT, "1.50"), pc(ENERGY, "0.30"))],
        usage(MONDAY, 180, 3000),
        [(ENERGY, 0, 3000, "0.90"), (FLAT, 0, 1, "1.50")],
        id="flat-once-per-session",
    ),
    pytest.param(
        [el(pc(FLAT, "2.00"), start_time="18:00", end_time="20:00"), el(pc(FLAT, "1.00"))],
        usage(at(5, 17, 30), 120, 1000),
        # element 1's fee is in force at 17:30; element 0's becomes active at 18:00: both due
        [(FLAT, 1, 1, "1.00"), (FLAT, 0, 1, "2.00")],
        id="flat-of-an-element-that-becomes-active-during-the-session",
    ),
    pytest.param(
        [el(pc(FLAT, "2.00"), start_time="18:00", end_time="20:00"), el(pc(FLAT, "1.00"))],
        usage(at(5, 18, 30), 120, 1000),
        # element 0's fee at the start stays due; element 1's comes into force at 20:00
        [(FLAT, 0, 1, "2.00"), (FLAT, 1, 1, "1.00")],
        id="flat-of-the-start-element-and-of-the-one-after-it",
    ),
    pytest.param(
        [el(pc(FLAT, "2.00"), min_power="10"), el(pc(FLAT, "1.00"))],
        usage(MONDAY, 90, 23000, readings=[(30, 11000), (60, 12000)]),
        # fast (22 kW), slow (2 kW), fast again: each element's fee once, however often
        [(FLAT, 0, 1, "2.00"), (FLAT, 1, 1, "1.00")],
        id="flat-of-an-element-in-force-twice-is-charged-once",
    ),
    pytest.param(
        [el(pc(FLAT, "2.00"), start_time="18:00", end_time="20:00"), el(pc(ENERGY, "0.30"))],
        usage(at(5, 20), 60, 1000),
        # no FLAT component is in force from 20:00 to 21:00: no fee
        [(ENERGY, 1, 1000, "0.30")],
        id="flat-never-in-force-is-not-charged",
    ),
]


@pytest.mark.parametrize(("elements", "use", "expected"), COMPONENT_CASES)
def test_each_component_is_priced_per_its_unit(elements, use, expected):
    assert lines_of(price_session(tariff(*elements), use)) == expected


def test_charging_and_parking_seconds_split_the_session():
    price = price_session(
        tariff(el(pc(ENERGY, "0.30"))), usage(MONDAY, 90, 10000, readings=[(30, 5000), (60, 5000)])
    )

    assert (price.energy_wh, price.charging_seconds, price.parking_seconds) == (10000, 3600, 1800)


# Step sizes -----------------------------------------------------------------------------------

STEP_CASES = [
    pytest.param(
        [el(pc(TIME, "6.00", step_size=300))],
        usage(MONDAY, 6, 1000),
        # OCPI 2.2.1 example: 6 minutes in 5-minute blocks bill 10 minutes; 600 s × 6.00 / 3600
        [(TIME, 0, 600, "1.00")],
        id="ocpi-example-300-s-step-bills-6-min-as-10",
    ),
    pytest.param(
        [el(pc(PARKING_TIME, "3.00", step_size=900))],
        usage(MONDAY, 30, 2000, readings=[(10, 2000)]),
        # 20 min parked → 30 min; 1800 s × 3.00 / 3600
        [(PARKING_TIME, 0, 1800, "1.50")],
        id="parking-time-step",
    ),
    pytest.param(
        [el(pc(ENERGY, "0.40", step_size=1000))],
        usage(MONDAY, 60, 12345),
        # 12345 Wh → 13000 Wh; 13 kWh × 0.40
        [(ENERGY, 0, 13000, "5.20")],
        id="energy-step-in-wh",
    ),
    pytest.param(
        [el(pc(ENERGY, "0.40", step_size=1000))],
        usage(MONDAY, 60, 12000),
        [(ENERGY, 0, 12000, "4.80")],
        id="energy-already-on-a-step-is-not-rounded",
    ),
    pytest.param(
        [
            el(pc(ENERGY, "0.20", step_size=1000), max_kwh="5"),
            el(pc(ENERGY, "0.40", step_size=500)),
        ],
        usage(MONDAY, 60, 7200),
        # 7200 Wh → 7500 by the last element's 500 Wh step; the extra 300 Wh at 0.40
        [(ENERGY, 0, 5000, "1.00"), (ENERGY, 1, 2500, "1.00")],
        id="step-of-the-last-element-used",
    ),
    pytest.param(
        [
            el(pc(ENERGY, "0.40", step_size=500), min_kwh="5"),
            el(pc(ENERGY, "0.20", step_size=1000)),
        ],
        usage(MONDAY, 60, 7200),
        # the last element used is listed first: its 500 Wh step applies, not the 1000 Wh one
        [(ENERGY, 1, 5000, "1.00"), (ENERGY, 0, 2500, "1.00")],
        id="step-of-the-last-element-used-even-if-listed-first",
    ),
    pytest.param(
        [
            el(pc(ENERGY, "0.50", step_size=1000), max_power="5"),
            el(pc(ENERGY, "0.30", step_size=100)),
        ],
        usage(MONDAY, 180, 13050, readings=[(60, 2000), (120, 13050)]),
        # 2 kW (element 0), 11.05 kW (element 1), then parked: element 0 matches again but
        # prices no energy, so element 1's 100 Wh step applies: 13050 → 13100 Wh
        [(ENERGY, 0, 2000, "1.00"), (ENERGY, 1, 11100, "3.33")],
        id="step-of-the-last-element-with-energy-not-the-last-matching",
    ),
    pytest.param(
        [
            el(pc(TIME, "6.00", step_size=300), start_time="22:00", end_time="06:00"),
            el(pc(TIME, "3.00", step_size=60)),
        ],
        usage(at(5, 21, 58), 6, 1000),
        # 120 s + 240 s = 360 s → 600 s, rounded on the total; the extra 240 s at night price:
        # 120 × 3.00 / 3600 = 0.10; 480 × 6.00 / 3600 = 0.80
        [(TIME, 1, 120, "0.10"), (TIME, 0, 480, "0.80")],
        id="step-rounds-the-dimension-total-across-a-price-change",
    ),
]


@pytest.mark.parametrize(("elements", "use", "expected"), STEP_CASES)
def test_step_size_rounds_the_dimension_total_up(elements, use, expected):
    assert lines_of(price_session(tariff(*elements), use)) == expected


def test_a_step_size_of_zero_rounds_nothing():
    use = usage(MONDAY, 7, 1234, readings=[(5, 1234)])
    elements = [
        el(pc(ENERGY, "0.40", step_size=0), pc(TIME, "3.60", 0), pc(PARKING_TIME, "7.20", 0))
    ]

    result = price_session(tariff(*elements), use)

    assert lines_of(result) == [
        (ENERGY, 0, 1234, "0.49"),
        (TIME, 0, 300, "0.30"),
        (PARKING_TIME, 0, 120, "0.24"),
    ]


# Charging time and parking share one rounding; which carries it depends on the reading.
# 3.60 per hour is 0.001 per second and 7.20 is 0.002, so amounts show the seconds billed.
TIME_AND_PARKING = [el(pc(TIME, "3.60", step_size=900), pc(PARKING_TIME, "7.20", step_size=300))]

# Each case: elements, usage, {reading: expected lines}.
TIME_STEP_CASES = [
    pytest.param(
        TIME_AND_PARKING,
        usage(MONDAY, 27, 5000, readings=[(20, 5000)]),
        # charged 20 min, parked 7: only the parking total is rounded (420 → 600 s), by both
        {
            STEP_SIZE_READING_2_2_1: [(TIME, 0, 1200, "1.20"), (PARKING_TIME, 0, 600, "1.20")],
            STEP_SIZE_READING_2_2_1_D2: [(TIME, 0, 1200, "1.20"), (PARKING_TIME, 0, 600, "1.20")],
        },
        id="ending-parked-rounds-only-the-parking",
    ),
    pytest.param(
        TIME_AND_PARKING,
        usage(MONDAY, 47, 9000, readings=[(20, 5000), (27, 5000)]),
        # charged 20 min, paused 7, charged 20 more: 2.2.1 rounds the parking (420 → 600 s);
        # 2.2.1-d2 rounds the last time-based period's dimension, charging (2400 → 2700 s)
        {
            STEP_SIZE_READING_2_2_1: [(TIME, 0, 2400, "2.40"), (PARKING_TIME, 0, 600, "1.20")],
            STEP_SIZE_READING_2_2_1_D2: [(TIME, 0, 2700, "2.70"), (PARKING_TIME, 0, 420, "0.84")],
        },
        id="charging-after-a-pause",
    ),
    pytest.param(
        [el(pc(TIME, "3.60", step_size=900))],
        usage(MONDAY, 30, 5000, readings=[(20, 5000)]),
        # parking is free (no component): the charging total carries the step (1200 → 1800 s)
        {
            STEP_SIZE_READING_2_2_1: [(TIME, 0, 1800, "1.80")],
            STEP_SIZE_READING_2_2_1_D2: [(TIME, 0, 1800, "1.80")],
        },
        id="free-parking-leaves-the-step-to-charging",
    ),
    pytest.param(
        [
            el(pc(PARKING_TIME, "7.20", step_size=600), start_time="09:00", end_time="10:10"),
            el(pc(TIME, "3.60", step_size=900)),
        ],
        usage(at(5, 10), 30, 5000, readings=[(5, 5000)]),
        # charged 10:00–10:05, parked until 10:30; parking is priced until 10:10 only (300 s),
        # and the step of that parking component rounds it up to 600 s
        {
            STEP_SIZE_READING_2_2_1: [(TIME, 1, 300, "0.30"), (PARKING_TIME, 0, 600, "1.20")],
            STEP_SIZE_READING_2_2_1_D2: [(TIME, 1, 300, "0.30"), (PARKING_TIME, 0, 600, "1.20")],
        },
        id="parking-that-becomes-free-is-rounded-by-its-last-priced-step",
    ),
]


@pytest.mark.parametrize("reading", STEP_SIZE_READINGS)
@pytest.mark.parametrize(("elements", "use", "expected"), TIME_STEP_CASES)
def test_time_and_parking_are_rounded_once_per_session(elements, use, expected, reading):
    result = price_session(tariff(*elements), use, step_size_reading=reading)

    assert lines_of(result) == expected[reading]


@pytest.mark.parametrize("reading", ["2.2", "2.2.1-D2", ""])
def test_an_unknown_step_size_reading_is_refused(reading):
    with pytest.raises(ValueError, match="step_size_reading"):
        price_session(tariff(el(pc(TIME, "1.00"))), usage(MONDAY, 60, 0), step_size_reading=reading)


# Parking: no energy transferred between two readings (within the meter's resolution) -----------


@pytest.mark.parametrize(
    ("tolerance", "second_hour_wh", "expected"),
    [
        pytest.param(
            0, 0, [(TIME, 0, 3600, "2.00"), (PARKING_TIME, 0, 3600, "1.00")], id="0-still"
        ),
        pytest.param(0, 1, [(TIME, 0, 7200, "4.00")], id="0-one-wh-is-charging"),
        pytest.param(
            5, 5, [(TIME, 0, 3600, "2.00"), (PARKING_TIME, 0, 3600, "1.00")], id="5-up-to-5-wh"
        ),
        pytest.param(5, 6, [(TIME, 0, 7200, "4.00")], id="5-more-than-5-wh-is-charging"),
    ],
)
def test_parking_is_a_stretch_whose_register_moved_no_more_than_the_tolerance(
    tolerance, second_hour_wh, expected
):
    use = usage(MONDAY, 120, 10000 + second_hour_wh, readings=[(60, 10000)])

    result = price_session(
        tariff(el(pc(TIME, "2.00"), pc(PARKING_TIME, "1.00"))), use, parking_tolerance_wh=tolerance
    )

    assert lines_of(result) == expected


def test_a_stretch_cut_by_a_clock_change_is_charging_or_parking_as_a_whole():
    # 2 Wh between the 21:30 and 22:30 readings with a 1 Wh tolerance: charging, although each
    # half on either side of 22:00 moved only 1 Wh.
    use = usage(at(5, 21), 90, 5002, readings=[(30, 5000)])

    result = price_session(tariff(*NIGHT_HOURS), use, parking_tolerance_wh=1)

    assert lines_of(result) == [(TIME, 1, 3600, "3.00"), (TIME, 0, 1800, "0.50")]
    assert (result.charging_seconds, result.parking_seconds) == (5400, 0)


def test_a_negative_parking_tolerance_is_refused():
    with pytest.raises(ValueError, match="parking_tolerance_wh"):
        price_session(tariff(el(pc(TIME, "1.00"))), usage(MONDAY, 60, 0), parking_tolerance_wh=-1)


# Restrictions ---------------------------------------------------------------------------------

DAY_TIME = [el(pc(ENERGY, "0.50"), start_time="08:00", end_time="18:00"), el(pc(ENERGY, "0.30"))]
NIGHT = [el(pc(ENERGY, "0.20"), start_time="22:00", end_time="06:00"), el(pc(ENERGY, "0.40"))]
WEEKEND = [el(pc(ENERGY, "0.25"), day_of_week=["SATURDAY", "SUNDAY"]), el(pc(ENERGY, "0.45"))]
ONE_DAY = [
    el(pc(ENERGY, "0.10"), start_date="2026-01-05", end_date="2026-01-06"),
    el(pc(ENERGY, "0.30")),
]

RESTRICTION_CASES = [
    pytest.param(
        DAY_TIME,
        usage(at(5, 7), 120, 20000),
        [(ENERGY, 1, 10000, "3.00"), (ENERGY, 0, 10000, "5.00")],
        id="start-time-inclusive",
    ),
    pytest.param(
        DAY_TIME,
        usage(at(5, 17), 120, 20000),
        [(ENERGY, 0, 10000, "5.00"), (ENERGY, 1, 10000, "3.00")],
        id="end-time-exclusive",
    ),
    pytest.param(
        NIGHT,
        usage(at(5, 21), 120, 8000),
        [(ENERGY, 1, 4000, "1.60"), (ENERGY, 0, 4000, "0.80")],
        id="window-wrapping-midnight-evening",
    ),
    pytest.param(
        NIGHT,
        usage(at(6, 5), 120, 8000),
        [(ENERGY, 0, 4000, "0.80"), (ENERGY, 1, 4000, "1.60")],
        id="window-wrapping-midnight-morning",
    ),
    pytest.param(
        [el(pc(ENERGY, "0.20"), start_time="20:00", end_time="00:00"), el(pc(ENERGY, "0.40"))],
        usage(at(5, 23), 120, 8000),
        [(ENERGY, 0, 4000, "0.80"), (ENERGY, 1, 4000, "1.60")],
        id="end-time-00:00-is-the-end-of-the-day",
    ),
    pytest.param(
        [el(pc(ENERGY, "0.20"), end_time="00:00"), el(pc(ENERGY, "0.40"))],
        usage(at(5, 10), 60, 1000),
        [(ENERGY, 0, 1000, "0.20")],
        id="end-time-00:00-alone-holds-all-day",
    ),
    pytest.param(
        [el(pc(ENERGY, "0.20"), start_time="23:00"), el(pc(ENERGY, "0.40"))],
        usage(at(5, 22), 180, 6000),
        # 22–23 and 00–01 at 0.40 (4 kWh), 23–24 at 0.20 (2 kWh)
        [(ENERGY, 1, 4000, "1.60"), (ENERGY, 0, 2000, "0.40")],
        id="start-time-alone-holds-until-midnight",
    ),
    pytest.param(
        WEEKEND,
        usage(at(4, 23), 120, 4000),
        [(ENERGY, 0, 2000, "0.50"), (ENERGY, 1, 2000, "0.90")],
        id="day-of-week-sunday-into-monday",
    ),
    pytest.param(
        WEEKEND,
        usage(at(4, 22, 30), 60, 4000, time_zone="Europe/Berlin"),
        # 22:30–23:30 UTC on Sunday is Sunday 23:30 – Monday 00:30 in Berlin
        [(ENERGY, 0, 2000, "0.50"), (ENERGY, 1, 2000, "0.90")],
        id="day-of-week-in-local-time",
    ),
    pytest.param(
        ONE_DAY,
        usage(at(4, 23), 120, 4000),
        [(ENERGY, 1, 2000, "0.60"), (ENERGY, 0, 2000, "0.20")],
        id="start-date-inclusive",
    ),
    pytest.param(
        ONE_DAY,
        usage(at(5, 23), 120, 4000),
        [(ENERGY, 0, 2000, "0.20"), (ENERGY, 1, 2000, "0.60")],
        id="end-date-exclusive",
    ),
    pytest.param(
        [el(pc(ENERGY, "0.50"), max_kwh="5"), el(pc(ENERGY, "0.25"))],
        usage(MONDAY, 60, 9000, readings=[(30, 3000)]),
        # the 5 kWh threshold is crossed between the 3000 Wh and 9000 Wh readings
        [(ENERGY, 0, 5000, "2.50"), (ENERGY, 1, 4000, "1.00")],
        id="max-kwh-splits-energy-at-the-threshold",
    ),
    pytest.param(
        [el(pc(ENERGY, "0.10"), min_kwh="20"), el(pc(ENERGY, "0.40"))],
        usage(MONDAY, 60, 25000),
        [(ENERGY, 1, 20000, "8.00"), (ENERGY, 0, 5000, "0.50")],
        id="min-kwh-inclusive",
    ),
    pytest.param(
        [el(pc(TIME, "6.00"), max_kwh="5"), el(pc(TIME, "3.00"))],
        usage(MONDAY, 60, 9000, readings=[(30, 3000)]),
        # 3000 → 9000 Wh over 30–60 min: 5000 Wh at 30 + 30 × 2000/6000 = 40 min
        [(TIME, 0, 2400, "4.00"), (TIME, 1, 1200, "1.00")],
        id="kwh-threshold-splits-time-by-linear-interpolation",
    ),
    pytest.param(
        [el(pc(TIME, "3.60"), max_kwh="5"), el(pc(TIME, "3.60"))],
        usage(MONDAY, 60, 7000),
        # 5000/7000 × 3600 s = 2571.43 s; whole seconds by largest remainder: 2571 + 1029
        [(TIME, 0, 2571, "2.57"), (TIME, 1, 1029, "1.03")],
        id="kwh-threshold-between-whole-seconds",
    ),
    pytest.param(
        [el(pc(ENERGY, "0.30"), max_duration=3600), el(pc(ENERGY, "0.60"))],
        usage(MONDAY, 120, 10000),
        [(ENERGY, 0, 5000, "1.50"), (ENERGY, 1, 5000, "3.00")],
        id="max-duration-exclusive",
    ),
    pytest.param(
        [el(pc(PARKING_TIME, "12.00"), min_duration=7200), el(pc(ENERGY, "0.30"))],
        usage(MONDAY, 180, 10000, readings=[(60, 10000)]),
        # parked from 1 h; only parking from 2 h on is priced, the hour before is free
        [(ENERGY, 1, 10000, "3.00"), (PARKING_TIME, 0, 3600, "12.00")],
        id="min-duration-inclusive",
    ),
    pytest.param(
        [el(pc(ENERGY, "0.59"), min_power="22"), el(pc(ENERGY, "0.39"))],
        usage(MONDAY, 90, 36000, readings=[(60, 11000)]),
        # 11 kW for 1 h (11 kWh × 0.39), then 50 kW for 0.5 h (25 kWh × 0.59)
        [(ENERGY, 1, 11000, "4.29"), (ENERGY, 0, 25000, "14.75")],
        id="min-power",
    ),
    pytest.param(
        [el(pc(ENERGY, "0.29"), max_power="11"), el(pc(ENERGY, "0.49"))],
        usage(MONDAY, 120, 18000, readings=[(60, 11000)]),
        # exactly 11 kW is not below max_power: 11 kWh × 0.49; then 7 kW: 7 kWh × 0.29
        [(ENERGY, 1, 11000, "5.39"), (ENERGY, 0, 7000, "2.03")],
        id="max-power-exclusive",
    ),
    pytest.param(
        [
            el(pc(ENERGY, "0.10"), start_time="08:00", end_time="18:00", day_of_week=["MONDAY"]),
            el(pc(ENERGY, "0.30")),
        ],
        usage(at(5, 17), 120, 4000),
        # Monday 17–18 meets both; Monday 18–19 fails the time of day
        [(ENERGY, 0, 2000, "0.20"), (ENERGY, 1, 2000, "0.60")],
        id="all-restrictions-must-hold-time-fails",
    ),
    pytest.param(
        [
            el(pc(ENERGY, "0.10"), start_time="08:00", end_time="18:00", day_of_week=["MONDAY"]),
            el(pc(ENERGY, "0.30")),
        ],
        usage(at(4, 9), 60, 4000),
        # Sunday 09–10 meets the time of day but not the day
        [(ENERGY, 1, 4000, "1.20")],
        id="all-restrictions-must-hold-day-fails",
    ),
    pytest.param(
        [el(pc(ENERGY, "0.30")), el(pc(ENERGY, "0.90"))],
        usage(MONDAY, 60, 1000),
        [(ENERGY, 0, 1000, "0.30")],
        id="first-matching-element-wins",
    ),
    pytest.param(
        [el(pc(TIME, "1.00")), el(pc(ENERGY, "0.30"), pc(TIME, "9.00"))],
        usage(MONDAY, 60, 1000),
        [(ENERGY, 1, 1000, "0.30"), (TIME, 0, 3600, "1.00")],
        id="element-without-the-dimension-is-skipped-for-it",
    ),
    pytest.param(
        [el(pc(ENERGY, "0.30"))],
        usage(MONDAY, 120, 5000, readings=[(60, 5000)]),
        [(ENERGY, 0, 5000, "1.50")],
        id="dimension-no-element-prices-is-free",
    ),
    pytest.param(
        [el(pc(ENERGY, "0.30"), day_of_week=["SATURDAY"])],
        usage(MONDAY, 60, 5000),
        [],
        id="no-element-matches-so-nothing-is-priced",
    ),
]


@pytest.mark.parametrize(("elements", "use", "expected"), RESTRICTION_CASES)
def test_restrictions_choose_the_element_per_stretch(elements, use, expected):
    assert lines_of(price_session(tariff(*elements), use)) == expected


# Time of use and daylight saving (Europe/Berlin) ----------------------------------------------

EVENING = [el(pc(ENERGY, "0.25"), start_time="22:00", end_time="06:00"), el(pc(ENERGY, "0.45"))]
NIGHT_HOURS = [el(pc(TIME, "1.00"), start_time="22:00", end_time="06:00"), el(pc(TIME, "3.00"))]
TWO_AM = [el(pc(TIME, "1.00"), start_time="02:00", end_time="03:00"), el(pc(TIME, "3.00"))]
HALF_TWO = [el(pc(TIME, "1.00"), start_time="02:30", end_time="04:00"), el(pc(TIME, "3.00"))]

LOCAL_TIME_CASES = [
    pytest.param(
        EVENING,
        usage(
            at(5, 21, 30, BERLIN), 120, 10000, [(30, 4000), (60, 7000), (90, 9000)], "Europe/Berlin"
        ),
        # 4 kWh before 22:00 by the meter × 0.45; 6 kWh after × 0.25
        [(ENERGY, 1, 4000, "1.80"), (ENERGY, 0, 6000, "1.50")],
        id="21:30-23:30-across-22:00-from-meter-values",
    ),
    pytest.param(
        EVENING,
        usage(at(5, 21, 30, BERLIN), 120, 10000, [(15, 2000), (45, 5000)], "Europe/Berlin"),
        # 2000 + 3000 × 15/30 = 3500 Wh by 22:00: 3.5 × 0.45 = 1.575, 6.5 × 0.25 = 1.625
        [(ENERGY, 1, 3500, "1.58"), (ENERGY, 0, 6500, "1.63")],
        id="22:00-between-two-readings-is-interpolated",
    ),
    pytest.param(
        NIGHT_HOURS,
        usage(at((2026, 3, 28), 21, 0, BERLIN), 540, 90000, time_zone="Europe/Berlin"),
        # 21:00 CET → 07:00 CEST is 9 h; 22:00–06:00 that night lasts 7 h (02:00 is skipped)
        [(TIME, 1, 7200, "6.00"), (TIME, 0, 25200, "7.00")],
        id="spring-forward-night-has-seven-night-hours",
    ),
    pytest.param(
        NIGHT_HOURS,
        usage(at((2026, 10, 24), 21, 0, BERLIN), 660, 110000, time_zone="Europe/Berlin"),
        # 21:00 CEST → 07:00 CET is 11 h; 22:00–06:00 that night lasts 9 h (02:00 repeats)
        [(TIME, 1, 7200, "6.00"), (TIME, 0, 32400, "9.00")],
        id="fall-back-night-has-nine-night-hours",
    ),
    pytest.param(
        TWO_AM,
        usage(at((2026, 3, 29), 0, 0, BERLIN), 240, 40000, time_zone="Europe/Berlin"),
        # 00:00 CET → 05:00 CEST: 02:00–03:00 does not exist that night
        [(TIME, 1, 14400, "12.00")],
        id="hour-skipped-in-spring-is-never-priced",
    ),
    pytest.param(
        TWO_AM,
        usage(at((2026, 10, 25), 1, 0, BERLIN), 240, 40000, time_zone="Europe/Berlin"),
        # 01:00 CEST → 04:00 CET: 02:00–03:00 happens twice, 2 h × 1.00; 2 h × 3.00 around it
        [(TIME, 1, 7200, "6.00"), (TIME, 0, 7200, "2.00")],
        id="hour-repeated-in-autumn-is-priced-twice",
    ),
    pytest.param(
        HALF_TWO,
        usage(at((2026, 3, 29), 0, 0, BERLIN), 240, 40000, time_zone="Europe/Berlin"),
        # 01:59:59 CET is followed by 03:00 CEST: the window opens at the switch; 03–04 CEST
        [(TIME, 1, 10800, "9.00"), (TIME, 0, 3600, "1.00")],
        id="window-starting-in-the-skipped-hour-opens-at-the-switch",
    ),
    pytest.param(
        HALF_TWO,
        usage(at((2026, 10, 25), 1, 0, BERLIN), 270, 45000, time_zone="Europe/Berlin"),
        # 01:00 CEST → 04:30 CET; in: 02:30–03:00 CEST and 02:30–04:00 CET (2 h × 1.00);
        # out: 01:00–02:30 CEST, 02:00–02:30 CET after the switch, 04:00–04:30 (2.5 h × 3.00)
        [(TIME, 1, 9000, "7.50"), (TIME, 0, 7200, "2.00")],
        id="window-closes-at-the-autumn-switch-and-reopens",
    ),
]


@pytest.mark.parametrize(("elements", "use", "expected"), LOCAL_TIME_CASES)
def test_time_of_use_follows_the_local_wall_clock(elements, use, expected):
    assert lines_of(price_session(tariff(*elements), use)) == expected


def test_periods_show_the_two_prices_of_a_session_across_a_price_change():
    use = usage(at(5, 21, 30, BERLIN), 120, 10000, [(30, 4000)], "Europe/Berlin")

    periods = price_session(tariff(*EVENING), use).periods

    assert [(p.start, p.end, p.charging, p.energy_wh, p.elements) for p in periods] == [
        (at(5, 20, 30), at(5, 21), True, 4000, {ENERGY: 1}),
        (at(5, 21), at(5, 22, 30), True, 6000, {ENERGY: 0}),
    ]


# Price bounds, tax and rounding ---------------------------------------------------------------

BOUND_CASES = [
    pytest.param(
        "0.30",
        "1.00",
        None,
        1000,
        [(ENERGY, 0, 1000, "0.30"), (MIN_PRICE, None, 1, "0.70")],
        "1.00",
        id="min-price-lifts",
    ),
    pytest.param(
        "0.30",
        "1.00",
        None,
        0,
        [(MIN_PRICE, None, 1, "1.00")],
        "1.00",
        id="min-price-lifts-a-session-without-energy",
    ),
    pytest.param(
        "0.50",
        None,
        "20.00",
        50000,
        [(ENERGY, 0, 50000, "25.00"), (MAX_PRICE, None, 1, "-5.00")],
        "20.00",
        id="max-price-caps",
    ),
    pytest.param(
        "0.50", "1.00", "20.00", 10000, [(ENERGY, 0, 10000, "5.00")], "5.00", id="between-bounds"
    ),
    pytest.param(
        "0.50", "5.00", "5.00", 10000, [(ENERGY, 0, 10000, "5.00")], "5.00", id="on-both-bounds"
    ),
]


@pytest.mark.parametrize(
    ("price", "min_price", "max_price", "wh", "expected", "total"), BOUND_CASES
)
def test_min_price_lifts_and_max_price_caps_the_total(
    price, min_price, max_price, wh, expected, total
):
    definition = tariff(el(pc(ENERGY, price)), min_price=min_price, max_price=max_price)

    result = price_session(definition, usage(MONDAY, 60, wh))

    assert (lines_of(result), result.total_excl_tax) == (expected, Decimal(total))


TAX_CASES = [
    pytest.param(
        [el(pc(ENERGY, "0.39"))],
        None,
        12345,
        "19",
        # 4.81 × 19% = 0.9139
        ("4.81", "0.91", "5.72"),
        id="tax-on-the-rounded-total",
    ),
    pytest.param(
        [el(pc(ENERGY, "0.25"))],
        None,
        10000,
        "5",
        # 2.50 × 5% = 0.125: half a cent rounds away from zero
        ("2.50", "0.13", "2.63"),
        id="tax-half-cent-rounds-up",
    ),
    pytest.param(
        [el(pc(ENERGY, "0.10"), max_kwh="1"), el(pc(ENERGY, "0.10"))],
        None,
        2000,
        "5",
        # two lines of 0.10: 0.20 × 5% = 0.01 (per line it would be 2 × 0.005 → 0.02)
        ("0.20", "0.01", "0.21"),
        id="tax-rounded-once-on-the-total-not-per-line",
    ),
    pytest.param(
        [el(pc(ENERGY, "0.30"))],
        "1.00",
        1000,
        "19",
        # the minimum price is excl. tax: 1.00 × 19%
        ("1.00", "0.19", "1.19"),
        id="tax-on-a-total-lifted-to-the-minimum",
    ),
]


@pytest.mark.parametrize(("elements", "min_price", "wh", "tax_rate", "expected"), TAX_CASES)
def test_tax_is_rounded_once_on_the_total_excluding_tax(
    elements, min_price, wh, tax_rate, expected
):
    definition = tariff(*elements, tax_rate=tax_rate, min_price=min_price)

    result = price_session(definition, usage(MONDAY, 60, wh))

    assert (result.total_excl_tax, result.tax_amount, result.total_incl_tax) == tuple(
        Decimal(value) for value in expected
    )


def vat(kind, price, rate, step_size=1):
    """An OCPI price component with its own VAT."""
    return {**pc(kind, price, step_size), "vat": rate}


# Each case: elements, tariff tax rate, bounds, Wh, expected (excl., tax, incl.).
VAT_CASES = [
    pytest.param(
        [el(vat(FLAT, "0.50", 20), vat(ENERGY, "0.25", 10))],
        "19",
        {},
        20000,
        # 0.50 × 20% + 5.00 × 10%; the tariff's 19% applies to neither
        ("5.50", "0.60", "6.10"),
        id="component-vat-overrides-the-tariff-rate",
    ),
    pytest.param(
        [el(vat(FLAT, "0.50", 20), pc(ENERGY, "0.25"))],
        "19",
        {},
        20000,
        # 0.50 × 20% + 5.00 × 19% (the tariff's rate for the component without one)
        ("5.50", "1.05", "6.55"),
        id="component-without-vat-takes-the-tariff-rate",
    ),
    pytest.param(
        [el(vat(FLAT, "2.50", 15), vat(ENERGY, "0.25", 20))],
        "0",
        {},
        11000,
        # 0.375 + 0.55 = 0.925 rounded once: 0.93 (0.38 + 0.55 = 0.93 per line, the same here)
        ("5.25", "0.93", "6.18"),
        id="mixed-vat-summed-exactly",
    ),
    pytest.param(
        [el(vat(FLAT, "2.50", 15), vat(ENERGY, "2.50", 15))],
        "0",
        {},
        1000,
        # 0.375 + 0.375 = 0.75 exactly; per line it would be 0.38 + 0.38 = 0.76
        ("5.00", "0.75", "5.75"),
        id="tax-not-rounded-per-line",
    ),
    pytest.param(
        [el(vat(FLAT, "0.50", 20), vat(ENERGY, "0.25", 10))],
        "10",
        {"max_price": "10"},
        50000,
        # capped at 10.00 excl. (tax 0.10 + 1.25 - 0.30 = 1.05) and at 11.00 incl. tax
        ("10.00", "1.00", "11.00"),
        id="max-price-caps-the-total-incl-tax-too",
    ),
    pytest.param(
        [el(vat(ENERGY, "0.30", 25))],
        "10",
        {"min_price": "1.00"},
        5000,
        # 1.50 × 25% = 0.375: above the minimum both ways
        ("1.50", "0.38", "1.88"),
        id="above-min-price-nothing-changes",
    ),
    pytest.param(
        [el(vat(ENERGY, "0.30", 0))],
        "10",
        {"min_price": "1.00"},
        5000,
        # 1.50 excl. at 0% is above 1.00 excl. and above 1.10 incl.: nothing lifted
        ("1.50", "0.00", "1.50"),
        id="min-price-incl-tax-already-met",
    ),
    pytest.param(
        [el(vat(ENERGY, "0.21", 0))],
        "10",
        {"min_price": "1.00"},
        5000,
        # 1.05 excl. at 0% passes the minimum excl. but not 1.10 incl.: lifted to 1.10
        ("1.05", "0.05", "1.10"),
        id="min-price-lifts-the-total-incl-tax",
    ),
]


@pytest.mark.parametrize(("elements", "tax_rate", "bounds", "wh", "expected"), VAT_CASES)
def test_each_component_is_taxed_at_its_own_vat(elements, tax_rate, bounds, wh, expected):
    definition = tariff(*elements, tax_rate=tax_rate, **bounds)

    result = price_session(definition, usage(MONDAY, 60, wh))

    assert (result.total_excl_tax, result.tax_amount, result.total_incl_tax) == tuple(
        Decimal(value) for value in expected
    )


def test_each_line_records_the_vat_it_is_taxed_at():
    definition = tariff(el(vat(FLAT, "0.50", 20), pc(ENERGY, "0.25")), tax_rate="19")

    lines = price_session(definition, usage(MONDAY, 60, 1000)).lines

    assert [(line.dimension, line.tax_rate) for line in lines] == [
        (ENERGY, Decimal(19)),
        (FLAT, Decimal(20)),
    ]


def test_a_line_is_rounded_once_not_per_stretch():
    # Ten stretches of 1001 Wh at 0.3333: 0.33 each if rounded per stretch (3.30 in all).
    readings = [(6 * i, 1001 * i) for i in range(1, 10)]

    result = price_session(tariff(el(pc(ENERGY, "0.3333"))), usage(MONDAY, 60, 10010, readings))

    # 10.010 kWh × 0.3333 = 3.336333
    assert lines_of(result) == [(ENERGY, 0, 10010, "3.34")]


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        pytest.param(Decimal("0.005"), "0.01", id="half-up"),
        pytest.param(Decimal("-0.005"), "-0.01", id="negative-half-away-from-zero"),
        pytest.param(Decimal("0.0049999"), "0.00", id="below-half-down"),
        pytest.param(Decimal("0.125"), "0.13", id="half-not-to-even"),
        pytest.param(Fraction(1, 3), "0.33", id="fraction"),
        pytest.param(Decimal("-2.675"), "-2.68", id="negative"),
        pytest.param(0, "0.00", id="zero-has-two-places"),
    ],
)
def test_round_money_rounds_half_away_from_zero_to_the_cent(amount, expected):
    assert f"{round_money(amount)}" == expected


def test_line_as_json_keeps_decimals_exact():
    line = price_session(tariff(el(pc(ENERGY, "0.3900"))), usage(MONDAY, 60, 12345)).lines[0]

    assert line.as_json() == {
        "component": ENERGY,
        "tariff_element": 0,
        "volume": 12345,
        "volume_unit": "Wh",
        "quantity": "12.345",
        "unit": "kWh",
        "unit_price": "0.3900",
        "amount": "4.81",
        "tax_rate": "0",
    }


# Meter glitches -------------------------------------------------------------------------------

ALL_DIMENSIONS = [el(pc(ENERGY, "0.30"), pc(TIME, "1.20"), pc(PARKING_TIME, "2.40"))]

# Each case: usage, expected lines, (energy Wh, charging s, parking s).
GLITCH_CASES = [
    pytest.param(
        usage(MONDAY, 90, 10000, readings=[(60, 10000), (30, 5000)]),
        [(ENERGY, 0, 10000, "3.00"), (TIME, 0, 3600, "1.20"), (PARKING_TIME, 0, 1800, "1.20")],
        (10000, 3600, 1800),
        id="readings-out-of-order",
    ),
    pytest.param(
        usage(MONDAY, 90, 10000, readings=[(-10, 3000), (60, 10000), (100, 20000)]),
        [(ENERGY, 0, 10000, "3.00"), (TIME, 0, 3600, "1.20"), (PARKING_TIME, 0, 1800, "1.20")],
        (10000, 3600, 1800),
        id="readings-before-start-and-after-stop-are-ignored",
    ),
    pytest.param(
        usage(MONDAY, 60, 8000, readings=[(30, 6000), (45, 4000)]),
        # the register is held at 6000 until it passes it: 30–45 min draw nothing (parked);
        # 45 min charging × 1.20 = 0.90, 15 min parked × 2.40 = 0.60
        [(ENERGY, 0, 8000, "2.40"), (TIME, 0, 2700, "0.90"), (PARKING_TIME, 0, 900, "0.60")],
        (8000, 2700, 900),
        id="register-going-backwards",
    ),
    pytest.param(
        usage(MONDAY, 60, 8000, readings=[(30, 99999)]),
        # clamped to meter stop: all 8000 Wh in the first 30 min, parked after
        [(ENERGY, 0, 8000, "2.40"), (TIME, 0, 1800, "0.60"), (PARKING_TIME, 0, 1800, "1.20")],
        (8000, 1800, 1800),
        id="register-above-meter-stop",
    ),
    pytest.param(
        usage(MONDAY, 60, 8000, readings=[(30, -500)]),
        # clamped to meter start: nothing in the first 30 min, all 8000 Wh after
        [(ENERGY, 0, 8000, "2.40"), (TIME, 0, 1800, "0.60"), (PARKING_TIME, 0, 1800, "1.20")],
        (8000, 1800, 1800),
        id="register-below-meter-start",
    ),
    pytest.param(
        usage(MONDAY, 60, -500),
        [(PARKING_TIME, 0, 3600, "2.40")],
        (0, 0, 3600),
        id="meter-stop-below-meter-start-is-no-energy",
    ),
    pytest.param(
        usage(MONDAY, 0, 500, readings=[(0, 200)]),
        [(ENERGY, 0, 500, "0.15")],
        (500, 0, 0),
        id="zero-length-session",
    ),
    pytest.param(
        usage(MONDAY, -10, 500),
        [(ENERGY, 0, 500, "0.15")],
        (500, 0, 0),
        id="stop-before-start-is-zero-length",
    ),
    pytest.param(
        usage(MONDAY, 60, 8000),
        [(ENERGY, 0, 8000, "2.40"), (TIME, 0, 3600, "1.20")],
        (8000, 3600, 0),
        id="no-readings-is-linear",
    ),
]


@pytest.mark.parametrize(("use", "expected", "volumes"), GLITCH_CASES)
def test_meter_glitches_keep_energy_at_meter_stop_minus_meter_start(use, expected, volumes):
    result = price_session(tariff(*ALL_DIMENSIONS), use)

    assert lines_of(result) == expected
    assert (result.energy_wh, result.charging_seconds, result.parking_seconds) == volumes


def test_a_register_above_meter_stop_never_makes_energy_run_backwards():
    use = usage(MONDAY, 60, 8000, readings=[(30, 99999)])

    periods = price_session(tariff(*ALL_DIMENSIONS), use).periods

    assert [(p.charging, p.energy_wh) for p in periods] == [(True, 8000), (False, 0)]


def test_readings_with_the_same_timestamp_price_the_same_in_any_order():
    definition = tariff(*ALL_DIMENSIONS)
    forward = usage(MONDAY, 60, 8000, readings=[(30, 10), (30, 6000)])
    backward = usage(MONDAY, 60, 8000, readings=[(30, 6000), (30, 10)])

    assert price_session(definition, forward) == price_session(definition, backward)


def test_flat_fee_is_charged_for_a_zero_length_session():
    result = price_session(tariff(el(pc(FLAT, "1.00"), pc(TIME, "3.00"))), usage(MONDAY, 0, 0))

    assert lines_of(result) == [(FLAT, 0, 1, "1.00")]


# Reservations -----------------------------------------------------------------------------------

RESERVED = [
    el(pc(FLAT, "2.00"), pc(TIME, "6.00", step_size=300), reservation=RESERVATION),
    el(pc(TIME, "9.00"), reservation="RESERVATION_EXPIRES"),
    el(pc(FLAT, "1.00"), pc(ENERGY, "0.30"), pc(TIME, "1.20")),
]


def test_reservation_elements_never_price_a_charge():
    result = price_session(tariff(*RESERVED), usage(MONDAY, 60, 10000))

    assert lines_of(result) == [
        (ENERGY, 2, 10000, "3.00"),
        (TIME, 2, 3600, "1.20"),
        (FLAT, 2, 1, "1.00"),
    ]


def test_a_tariff_of_reservation_elements_alone_prices_a_charge_at_nothing():
    result = price_session(tariff(*RESERVED[:2]), usage(MONDAY, 60, 10000))

    assert (lines_of(result), result.total_incl_tax) == ([], Decimal("0.00"))


def test_a_reservation_is_priced_by_its_fee_and_its_time_in_steps():
    start = at(5, 9)

    result = price_reservation(
        tariff(*RESERVED, tax_rate="20"), start, start + timedelta(minutes=13)
    )

    # 13 minutes in 5-minute steps: 15 minutes × 6.00 per hour; the charge's elements play no part
    assert lines_of(result) == [(TIME, 0, 900, "1.50"), (FLAT, 0, 1, "2.00")]
    assert (result.total_excl_tax, result.tax_amount, result.total_incl_tax) == (
        Decimal("3.50"),
        Decimal("0.70"),
        Decimal("4.20"),
    )


def test_an_expired_reservation_takes_the_expiry_price_and_falls_back_for_the_rest():
    start = at(5, 9)

    result = price_reservation(tariff(*RESERVED), start, start + timedelta(hours=1), expired=True)

    # TIME from the RESERVATION_EXPIRES element, the fee from the RESERVATION element
    assert lines_of(result) == [(TIME, 1, 3600, "9.00"), (FLAT, 0, 1, "2.00")]


def test_a_reservation_reads_clock_restrictions_in_local_time():
    elements = [
        el(pc(TIME, "12.00"), reservation=RESERVATION, start_time="18:00"),
        el(pc(TIME, "6.00"), reservation=RESERVATION),
    ]
    start = at(5, 17, 30, BERLIN)

    result = price_reservation(
        tariff(*elements), start, start + timedelta(hours=1), time_zone="Europe/Berlin"
    )

    assert lines_of(result) == [(TIME, 1, 1800, "3.00"), (TIME, 0, 1800, "6.00")]


def test_a_reservation_is_not_bounded_by_the_sessions_minimum_price():
    start = at(5, 9)
    definition = tariff(*RESERVED, min_price="5.00")

    result = price_reservation(definition, start, start + timedelta(minutes=5))

    assert (lines_of(result), result.total_excl_tax) == (
        [(TIME, 0, 300, "0.50"), (FLAT, 0, 1, "2.00")],
        Decimal("2.50"),
    )


# Parsing --------------------------------------------------------------------------------------


def test_parse_elements_reads_every_field():
    (element,) = parse_elements(
        [
            el(
                pc(ENERGY, "0.3900", step_size=1000),
                {"type": PARKING_TIME, "price": 2},
                start_time="22:00",
                end_time="06:00",
                start_date="2026-01-01",
                end_date="2026-02-01",
                min_kwh=0.5,
                max_kwh="50",
                min_power=1,
                max_power="22.5",
                min_duration=0,
                max_duration=7200,
                day_of_week=["MONDAY", "SUNDAY"],
            )
        ]
    )

    energy, parking = element.price_components
    r = element.restrictions
    assert (energy.vat, parking.vat) == (None, None)
    assert (energy.type, energy.price, energy.step_size) == (ENERGY, Decimal("0.3900"), 1000)
    assert (parking.type, parking.price, parking.step_size) == (PARKING_TIME, Decimal(2), 1)
    assert (r.start_time.isoformat(), r.end_time.isoformat()) == ("22:00:00", "06:00:00")
    assert (r.start_date.isoformat(), r.end_date.isoformat()) == ("2026-01-01", "2026-02-01")
    assert (r.min_kwh, r.max_kwh) == (Decimal("0.5"), Decimal(50))
    assert (r.min_power, r.max_power) == (Decimal(1), Decimal("22.5"))
    assert (r.min_duration, r.max_duration) == (0, 7200)
    assert r.day_of_week == frozenset({0, 6})


E0 = "elements[0]"
C0 = "elements[0].price_components[0]"
R0 = "elements[0].restrictions"
ANY_DAY = "MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY"
HH_MM = "must be a time of day as HH:MM (00:00–23:59)."
GREATER = "must be greater than"


def restricted(**restrictions):
    return [el(pc(ENERGY, "0.30"), **restrictions)]


def component(**fields):
    return [{"price_components": [fields]}]


PARSE_ERRORS = [
    pytest.param(
        {"price_components": []}, ["A tariff needs a list of at least one element."], id="non-list"
    ),
    pytest.param([], ["A tariff needs a list of at least one element."], id="empty-list"),
    pytest.param(["ENERGY"], [f"{E0}: must be an object."], id="element-not-an-object"),
    pytest.param(
        [{**el(pc(ENERGY, "1")), "tariff_id": "x"}],
        [f"{E0}: unknown field(s) tariff_id."],
        id="unknown-element-field",
    ),
    pytest.param(
        [{}], [f"{E0}.price_components: needs at least one price component."], id="no-components"
    ),
    pytest.param(
        [{"price_components": []}],
        [f"{E0}.price_components: needs at least one price component."],
        id="empty-components",
    ),
    pytest.param(
        [{"price_components": ["ENERGY"]}], [f"{C0}: must be an object."], id="component-not-object"
    ),
    pytest.param(
        component(type="KWH", price="1"),
        [f"{C0}.type: must be one of ENERGY, FLAT, TIME, PARKING_TIME."],
        id="bad-type",
    ),
    pytest.param(
        component(price="1"),
        [f"{C0}.type: must be one of ENERGY, FLAT, TIME, PARKING_TIME."],
        id="missing-type",
    ),
    pytest.param(
        [el(pc(ENERGY, "1"), pc(ENERGY, "2"))],
        [f"{E0}.price_components[1].type: ENERGY appears twice in this element."],
        id="type-twice",
    ),
    pytest.param(
        component(type=ENERGY, price="-0.01"),
        [f"{C0}.price: must be a number of at least 0."],
        id="negative-price",
    ),
    pytest.param(
        component(type=ENERGY, price="0.12345"),
        [f"{C0}.price: at most 8 digits before and 4 after the decimal point."],
        id="five-decimals",
    ),
    pytest.param(
        component(type=ENERGY, price=100000000),
        [f"{C0}.price: at most 8 digits before and 4 after the decimal point."],
        id="nine-digits",
    ),
    pytest.param(
        component(type=ENERGY, price="NaN"),
        [f"{C0}.price: must be a number of at least 0."],
        id="nan-price",
    ),
    pytest.param(
        component(type=ENERGY, price="cheap"), [f"{C0}.price: must be a number."], id="text-price"
    ),
    pytest.param(
        component(type=ENERGY, price=True), [f"{C0}.price: must be a number."], id="boolean-price"
    ),
    pytest.param(
        component(type=ENERGY, price=[1]), [f"{C0}.price: must be a number."], id="list-price"
    ),
    pytest.param(component(type=ENERGY), [f"{C0}.price: is required."], id="missing-price"),
    pytest.param(
        component(type=TIME, price="1", step_size=-1),
        [f"{C0}.step_size: must be a whole number of at least 0."],
        id="step-size-negative",
    ),
    pytest.param(
        component(type=TIME, price="1", step_size=1.5),
        [f"{C0}.step_size: must be a whole number of at least 0."],
        id="step-size-fraction",
    ),
    pytest.param(
        component(type=TIME, price="1", step_size="300"),
        [f"{C0}.step_size: must be a whole number of at least 0."],
        id="step-size-text",
    ),
    pytest.param(
        component(type=TIME, price="1", step_size=True),
        [f"{C0}.step_size: must be a whole number of at least 0."],
        id="step-size-boolean",
    ),
    pytest.param(
        component(type=ENERGY, price="1", currency="EUR"),
        [f"{C0}: unknown field(s) currency."],
        id="unknown-component-field",
    ),
    pytest.param(
        component(type=ENERGY, price="1", vat=-1),
        [f"{C0}.vat: must be a number of at least 0."],
        id="vat-negative",
    ),
    pytest.param(
        component(type=ENERGY, price="1", vat="101"),
        [f"{C0}.vat: must be a percentage from 0 to 100."],
        id="vat-above-100",
    ),
    pytest.param(
        component(type=ENERGY, price="1", vat="nineteen"),
        [f"{C0}.vat: must be a number."],
        id="vat-text",
    ),
    pytest.param(
        [{**el(pc(ENERGY, "1")), "restrictions": []}],
        [f"{R0}: must be an object."],
        id="restrictions-not-object",
    ),
    pytest.param(
        restricted(min_current=16),
        [f"{R0}.min_current: not supported (current is not metered for pricing)."],
        id="min-current-refused",
    ),
    pytest.param(
        restricted(max_current=32),
        [f"{R0}.max_current: not supported (current is not metered for pricing)."],
        id="max-current-refused",
    ),
    pytest.param(
        [el(pc(TIME, "1"), reservation="RESERVED")],
        [f"{R0}.reservation: must be one of RESERVATION, RESERVATION_EXPIRES."],
        id="reservation-unknown-kind",
    ),
    pytest.param(
        [el(pc(FLAT, "1"), pc(ENERGY, "1"), pc(PARKING_TIME, "1"), reservation="RESERVATION")],
        [
            f"{E0}.price_components[1].type: a reservation element prices only FLAT and TIME.",
            f"{E0}.price_components[2].type: a reservation element prices only FLAT and TIME.",
        ],
        id="reservation-element-pricing-energy-or-parking",
    ),
    pytest.param(
        restricted(weekday="MONDAY"),
        [f"{R0}.weekday: not supported (unknown restriction)."],
        id="unknown-restriction",
    ),
    pytest.param(restricted(start_time="24:00"), [f"{R0}.start_time: {HH_MM}"], id="hour-24"),
    pytest.param(restricted(start_time="7:00"), [f"{R0}.start_time: {HH_MM}"], id="one-digit-hour"),
    pytest.param(restricted(end_time="12:60"), [f"{R0}.end_time: {HH_MM}"], id="minute-60"),
    pytest.param(restricted(end_time=1200), [f"{R0}.end_time: {HH_MM}"], id="time-not-text"),
    pytest.param(
        restricted(start_time="12:00:00"), [f"{R0}.start_time: {HH_MM}"], id="time-with-seconds"
    ),
    pytest.param(
        restricted(start_date="2026-02-30"),
        [f"{R0}.start_date: must be a date as YYYY-MM-DD."],
        id="no-such-date",
    ),
    pytest.param(
        restricted(end_date="01.02.2026"),
        [f"{R0}.end_date: must be a date as YYYY-MM-DD."],
        id="date-format",
    ),
    pytest.param(
        restricted(end_date=20260201),
        [f"{R0}.end_date: must be a date as YYYY-MM-DD."],
        id="date-not-text",
    ),
    pytest.param(
        restricted(day_of_week=["FUNDAY"]),
        [f"{R0}.day_of_week: must be a list of {ANY_DAY}."],
        id="unknown-day",
    ),
    pytest.param(
        restricted(day_of_week="MONDAY"),
        [f"{R0}.day_of_week: must be a list of {ANY_DAY}."],
        id="day-not-in-a-list",
    ),
    pytest.param(
        restricted(day_of_week=["monday"]),
        [f"{R0}.day_of_week: must be a list of {ANY_DAY}."],
        id="day-in-lower-case",
    ),
    pytest.param(
        restricted(day_of_week=["MONDAY", "MONDAY"]),
        [f"{R0}.day_of_week: a day is listed twice."],
        id="day-twice",
    ),
    pytest.param(
        restricted(min_kwh="-1"),
        [f"{R0}.min_kwh: must be a number of at least 0."],
        id="negative-kwh",
    ),
    pytest.param(
        restricted(max_power="lots"), [f"{R0}.max_power: must be a number."], id="power-not-number"
    ),
    pytest.param(
        restricted(min_duration=-1),
        [f"{R0}.min_duration: must be a whole number of seconds, at least 0."],
        id="negative-duration",
    ),
    pytest.param(
        restricted(max_duration=1.5),
        [f"{R0}.max_duration: must be a whole number of seconds, at least 0."],
        id="fractional-duration",
    ),
    pytest.param(
        restricted(min_kwh="5", max_kwh="5"),
        [f"{R0}.max_kwh: {GREATER} min_kwh."],
        id="min-kwh-equal-max",
    ),
    pytest.param(
        restricted(min_power=22, max_power=11),
        [f"{R0}.max_power: {GREATER} min_power."],
        id="min-power-above-max",
    ),
    pytest.param(
        restricted(min_duration=600, max_duration=600),
        [f"{R0}.max_duration: {GREATER} min_duration."],
        id="min-duration-equal-max",
    ),
    pytest.param(
        restricted(start_date="2026-02-01", end_date="2026-01-01"),
        [f"{R0}.end_date: {GREATER} start_date."],
        id="start-date-after-end",
    ),
    pytest.param(
        restricted(start_time="08:00", end_time="08:00"),
        [f"{R0}.end_time: must differ from start_time."],
        id="start-time-equal-end",
    ),
    pytest.param(
        [el(pc(ENERGY, "-1")), {**el(pc(TIME, "1")), "restrictions": {"min_current": 6}}],
        [
            f"{C0}.price: must be a number of at least 0.",
            "elements[1].restrictions.min_current: not supported "
            "(current is not metered for pricing).",
        ],
        id="every-fault-listed",
    ),
]


@pytest.mark.parametrize(("data", "messages"), PARSE_ERRORS)
def test_parse_elements_says_where_and_why_it_refuses(data, messages):
    with pytest.raises(TariffError) as refused:
        parse_elements(data)

    assert refused.value.messages == messages


def test_parse_elements_reads_vat_step_size_zero_and_reservation():
    (element,) = parse_elements(
        [el(vat(TIME, "5.00", "20.5", step_size=0), pc(FLAT, "2"), reservation=RESERVATION)]
    )

    time_component, flat_component = element.price_components
    assert (time_component.vat, time_component.step_size) == (Decimal("20.5"), 0)
    assert flat_component.vat is None
    assert element.restrictions.reservation == RESERVATION
