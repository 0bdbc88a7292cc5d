"""The availability engine, case by case: which bucket each stretch of a period goes to."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from availability.uptime import (
    Bucket,
    History,
    Segment,
    Tally,
    classify,
    success_rate,
    tally,
    tally_between,
    timeline,
)

T0 = datetime(2026, 5, 4, 0, 0, tzinfo=UTC)
T1 = T0 + timedelta(days=1)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def hours(value: float) -> timedelta:
    return timedelta(hours=value)


@pytest.mark.parametrize(
    ("connection", "station", "connector", "maintenance", "expected"),
    [
        ("online", None, "Available", False, Bucket.AVAILABLE),
        ("online", None, "Charging", False, Bucket.AVAILABLE),
        ("online", None, "Preparing", False, Bucket.AVAILABLE),
        ("online", None, "SuspendedEV", False, Bucket.AVAILABLE),
        ("online", None, "SuspendedEVSE", False, Bucket.AVAILABLE),
        ("online", None, "Finishing", False, Bucket.AVAILABLE),
        ("online", None, "Reserved", False, Bucket.AVAILABLE),
        ("online", None, "Occupied", False, Bucket.AVAILABLE),
        ("online", None, "Faulted", False, Bucket.FAULTED),
        ("online", None, "Unavailable", False, Bucket.UNAVAILABLE),
        ("online", None, "Unknown", False, Bucket.UNKNOWN),
        ("online", None, None, False, Bucket.UNKNOWN),
        ("online", None, "Bogus", False, Bucket.UNKNOWN),
        # The station's own Faulted or Unavailable applies to every connector.
        ("online", "Faulted", "Available", False, Bucket.FAULTED),
        ("online", "Unavailable", "Charging", False, Bucket.UNAVAILABLE),
        ("online", "Unavailable", None, False, Bucket.UNAVAILABLE),
        # Its Available says nothing about a connector that never reported.
        ("online", "Available", None, False, Bucket.UNKNOWN),
        # Faulted outranks Unavailable, wherever each comes from.
        ("online", "Unavailable", "Faulted", False, Bucket.FAULTED),
        ("online", "Faulted", "Unavailable", False, Bucket.FAULTED),
        # Offline outranks any status, even an unknown one.
        ("offline", None, "Available", False, Bucket.OFFLINE),
        ("offline", "Faulted", "Faulted", False, Bucket.OFFLINE),
        ("offline", None, None, False, Bucket.OFFLINE),
        # An unknown connection leaves the status to decide.
        (None, None, "Available", False, Bucket.AVAILABLE),
        (None, None, "Faulted", False, Bucket.FAULTED),
        (None, None, None, False, Bucket.UNKNOWN),
        # Maintenance outranks everything.
        ("offline", "Faulted", "Faulted", True, Bucket.MAINTENANCE),
        (None, None, None, True, Bucket.MAINTENANCE),
        ("online", None, "Available", True, Bucket.MAINTENANCE),
    ],
)
def test_classify_applies_the_rules_in_order(connection, station, connector, maintenance, expected):
    assert classify(connection, station, connector, maintenance) == expected


def durations(segments) -> dict[Bucket, timedelta]:
    found = tally(segments)
    return {bucket: found.time_in(bucket) for bucket in Bucket if found.time_in(bucket)}


CASES = {
    "no data at all is unknown": (
        {},
        {Bucket.UNKNOWN: hours(24)},
    ),
    "a status from before the period holds from its start": (
        {"connector_status": History("Available")},
        {Bucket.AVAILABLE: hours(24)},
    ),
    "a change inside the period splits it": (
        {"connector_status": History("Available", [(at(6), "Faulted"), (at(8), "Available")])},
        {Bucket.AVAILABLE: hours(22), Bucket.FAULTED: hours(2)},
    ),
    "without a status before the period, the time until the first one is unknown": (
        {"connector_status": History(None, [(at(3), "Available")])},
        {Bucket.UNKNOWN: hours(3), Bucket.AVAILABLE: hours(21)},
    ),
    "changes before the period count only through the last of them": (
        {"connector_status": History("Faulted", [(at(-5), "Unavailable"), (at(-1), "Charging")])},
        {Bucket.AVAILABLE: hours(24)},
    ),
    "a change exactly at the start holds from the start": (
        {"connector_status": History("Faulted", [(T0, "Available")])},
        {Bucket.AVAILABLE: hours(24)},
    ),
    "changes after the end are ignored": (
        {"connector_status": History("Available", [(T1, "Faulted"), (at(30), "Faulted")])},
        {Bucket.AVAILABLE: hours(24)},
    ),
    "changes given out of order are put in order": (
        {"connector_status": History("Available", [(at(8), "Available"), (at(6), "Faulted")])},
        {Bucket.AVAILABLE: hours(22), Bucket.FAULTED: hours(2)},
    ),
    "of two changes at one moment the later wins": (
        {"connector_status": History("Available", [(at(6), "Faulted"), (at(6), "Charging")])},
        {Bucket.AVAILABLE: hours(24)},
    ),
    "an offline stretch overrides the status": (
        {
            "connection": History("online", [(at(10), "offline"), (at(13), "online")]),
            "connector_status": History("Charging"),
        },
        {Bucket.AVAILABLE: hours(21), Bucket.OFFLINE: hours(3)},
    ),
    "a station offline since before the period is offline throughout": (
        {"connection": History("offline"), "connector_status": History("Available")},
        {Bucket.OFFLINE: hours(24)},
    ),
    "a station-level fault covers the connector": (
        {
            "station_status": History("Available", [(at(1), "Faulted"), (at(2), "Available")]),
            "connector_status": History("Available"),
        },
        {Bucket.AVAILABLE: hours(23), Bucket.FAULTED: hours(1)},
    ),
    "a station-level unavailability covers the connector": (
        {
            "station_status": History("Unavailable", [(at(12), "Available")]),
            "connector_status": History("Available"),
        },
        {Bucket.UNAVAILABLE: hours(12), Bucket.AVAILABLE: hours(12)},
    ),
    "maintenance is its own bucket, even while offline": (
        {
            "connection": History("offline"),
            "connector_status": History("Available"),
            "maintenance": [(at(2), at(5))],
        },
        {Bucket.OFFLINE: hours(21), Bucket.MAINTENANCE: hours(3)},
    ),
    "overlapping maintenance windows count once": (
        {
            "connector_status": History("Available"),
            "maintenance": [(at(2), at(5)), (at(4), at(6)), (at(5), at(7))],
        },
        {Bucket.AVAILABLE: hours(19), Bucket.MAINTENANCE: hours(5)},
    ),
    "a window reaching beyond the period is cut to it": (
        {
            "connector_status": History("Available"),
            "maintenance": [(at(-3), at(1)), (at(23), at(40))],
        },
        {Bucket.AVAILABLE: hours(22), Bucket.MAINTENANCE: hours(2)},
    ),
    "a window outside the period counts nothing": (
        {"connector_status": History("Available"), "maintenance": [(at(-3), T0), (T1, at(30))]},
        {Bucket.AVAILABLE: hours(24)},
    ),
}


@pytest.mark.parametrize("given", list(CASES), ids=list(CASES))
def test_timeline_tallies_each_case(given):
    arguments, expected = CASES[given]
    assert durations(timeline(T0, T1, **arguments)) == expected


def test_timeline_merges_neighbours_of_the_same_bucket():
    segments = timeline(
        T0, T1, connector_status=History("Available", [(at(3), "Charging"), (at(5), "Available")])
    )
    assert segments == [Segment(T0, T1, Bucket.AVAILABLE)]


def test_timeline_of_an_empty_period_is_empty():
    assert timeline(T1, T0) == []
    assert timeline(T0, T0) == []


def test_timeline_counts_real_time_across_a_dst_change_whatever_the_zone_of_its_inputs():
    berlin = ZoneInfo("Europe/Berlin")
    # 2026-03-29 in Berlin: 00:00 CET is 23:00 UTC the day before; 24:00 CEST is 22:00 UTC.
    start = datetime(2026, 3, 29, tzinfo=berlin)
    end = datetime(2026, 3, 30, tzinfo=berlin)
    found = tally(timeline(start, end, connector_status=History("Available")))
    assert found.period == hours(23)


def test_tally_between_splits_segments_at_the_edges():
    segments = timeline(
        T0,
        T0 + timedelta(days=2),
        connector_status=History("Available", [(at(20), "Faulted"), (at(30), "Available")]),
    )
    first, second = tally_between(segments, [T0, T1, T0 + timedelta(days=2)])
    assert (first.available, first.faulted) == (hours(20), hours(4))
    assert (second.available, second.faulted) == (hours(18), hours(6))


def test_tally_between_leaves_time_outside_the_edges_out():
    segments = timeline(T0, T1, connector_status=History("Available"))
    (middle,) = tally_between(segments, [at(6), at(9)])
    assert middle == Tally(available=hours(3))


def test_uptime_leaves_maintenance_and_unknown_time_out_of_its_denominator():
    figures = Tally(
        available=hours(15),
        faulted=hours(3),
        unavailable=hours(1),
        offline=hours(1),
        unknown=hours(2),
        maintenance=hours(2),
    )
    assert figures.period == hours(24)
    assert figures.measured == hours(20)
    assert figures.uptime == 0.75
    assert figures.share(Bucket.FAULTED) == 3 / 24


def test_uptime_is_none_when_nothing_was_measured():
    assert Tally(unknown=hours(2), maintenance=hours(1)).uptime is None
    assert Tally().uptime is None
    assert Tally().share(Bucket.AVAILABLE) is None


def test_tallies_add_up_bucket_by_bucket():
    total = Tally(available=hours(1), offline=hours(2)) + Tally(available=hours(3))
    assert total == Tally(available=hours(4), offline=hours(2))


def test_whole_seconds_add_up_to_the_rounded_period():
    figures = Tally(
        available=timedelta(seconds=10.6),
        faulted=timedelta(seconds=0.6),
        offline=timedelta(seconds=0.8),
    )
    seconds = figures.whole_seconds()
    assert sum(seconds.values()) == 12
    assert seconds[Bucket.AVAILABLE] == 11
    assert seconds[Bucket.OFFLINE] == 1
    assert seconds[Bucket.FAULTED] == 0


@pytest.mark.parametrize(
    ("attempts", "failed", "expected"), [(0, 0, None), (4, 1, 0.75), (3, 3, 0.0), (5, 0, 1.0)]
)
def test_success_rate_is_the_share_of_attempts_that_did_not_fail(attempts, failed, expected):
    assert success_rate(attempts, failed) == expected
