"""Properties of the availability engine over generated histories (hypothesis)."""

from datetime import UTC, datetime, timedelta
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from availability.uptime import ZERO, Bucket, History, tally, tally_between, timeline

SETTINGS = settings(max_examples=100, deadline=None)
START = datetime(2026, 3, 28, 12, tzinfo=UTC)
# Moments from a day before the period to a day after it, to the microsecond.
offsets = st.integers(-86_400_000_000, 4 * 86_400_000_000)
moments = offsets.map(lambda us: START + timedelta(microseconds=us))
STATUSES = [
    "Available",
    "Charging",
    "Faulted",
    "Unavailable",
    "Reserved",
    "Unknown",
    "Occupied",
    "Bogus",
]


def histories(values):
    return st.builds(
        History,
        st.none() | st.sampled_from(values),
        st.lists(st.tuples(moments, st.sampled_from(values)), max_size=12),
    )


@st.composite
def cases(draw):
    length = timedelta(microseconds=draw(st.integers(0, 3 * 86_400_000_000)))
    windows = draw(st.lists(st.tuples(moments, moments), max_size=4))
    return {
        "start": START,
        "end": START + length,
        "connection": draw(histories(["online", "offline"])),
        "station_status": draw(histories(STATUSES)),
        "connector_status": draw(histories(STATUSES)),
        "maintenance": windows,
    }


@SETTINGS
@given(cases())
def test_buckets_add_up_to_the_period_and_none_is_negative(case):
    found = tally(timeline(**case))
    assert found.period == case["end"] - case["start"]
    assert all(found.time_in(bucket) >= ZERO for bucket in Bucket)


@SETTINGS
@given(cases())
def test_shares_add_up_to_one_and_uptime_stays_between_zero_and_one(case):
    found = tally(timeline(**case))
    if found.period == ZERO:
        assert found.uptime is None
        return
    assert abs(sum(found.share(bucket) for bucket in Bucket) - 1) < 1e-9
    assert found.uptime is None or 0 <= found.uptime <= 1


@SETTINGS
@given(cases())
def test_segments_cover_the_period_in_order_without_gaps(case):
    segments = timeline(**case)
    if case["end"] <= case["start"]:
        assert segments == []
        return
    assert segments[0].start == case["start"]
    assert segments[-1].end == case["end"]
    for before, after in pairwise(segments):
        assert before.end == after.start
        assert before.bucket != after.bucket
        assert before.start < before.end


@SETTINGS
@given(cases(), st.lists(offsets, max_size=6))
def test_sub_periods_add_up_to_the_whole(case, cuts):
    segments = timeline(**case)
    inside = sorted(
        {
            moment
            for moment in (START + timedelta(microseconds=us) for us in cuts)
            if case["start"] < moment < case["end"]
        }
    )
    edges = [case["start"], *inside, case["end"]]
    parts = tally_between(segments, edges)
    assert len(parts) == len(edges) - 1
    assert sum(parts[1:], parts[0]) == tally(segments)


@SETTINGS
@given(cases())
def test_whole_seconds_add_up_to_the_rounded_period(case):
    found = tally(timeline(**case))
    seconds = found.whole_seconds()
    assert sum(seconds.values()) == round(found.period / timedelta(seconds=1))
    assert all(value >= 0 for value in seconds.values())
