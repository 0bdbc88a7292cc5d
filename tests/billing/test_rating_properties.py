"""Properties of rating at the database level, over generated tariffs and sessions."""

import contextlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from billing.choices import AssignmentScope
from billing.engine import TariffError, parse_elements
from billing.models import ChargeDetailRecord, TariffAssignment
from billing.services import rate_session
from sessions_app.choices import AuthMethod, AuthorizationStatus, ReviewOutcome, SessionState
from tests.factories import (
    ChargingSessionFactory,
    ChargingStationFactory,
    MeterValueFactory,
    TariffFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

# Small: every example writes a tariff, sessions, meter values and CDRs.
PROPERTY = settings(
    max_examples=25,
    deadline=None,
    # org and station are built once per test, outside the per-example transaction.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
EPOCH = datetime(2026, 3, 20, tzinfo=UTC)
# The columns two ratings of equal sessions must agree on.
PRICED_FIELDS = (
    "tariff_id",
    "tariff_snapshot",
    "currency",
    "tax_rate",
    "energy_wh",
    "charging_seconds",
    "idle_seconds",
    "components",
    "periods",
    "energy_amount",
    "time_amount",
    "idle_amount",
    "session_fee_amount",
    "price_cap_amount",
    "total_excl_tax",
    "tax_amount",
    "total_incl_tax",
    "reason",
)

prices = st.decimals(min_value=0, max_value=Decimal("3"), places=2).map(str)
clock = st.builds("{:02d}:{:02d}".format, st.integers(0, 23), st.sampled_from([0, 15, 30]))


@st.composite
def elements(draw):
    """1–4 OCPI elements, each pricing some dimensions, some under clock or duration limits."""
    result = []
    for _ in range(draw(st.integers(1, 4))):
        kinds = draw(
            st.lists(
                st.sampled_from(["ENERGY", "TIME", "PARKING_TIME", "FLAT"]),
                min_size=1,
                max_size=4,
                unique=True,
            )
        )
        element = {
            "price_components": [
                {"type": kind, "price": draw(prices), "step_size": draw(st.sampled_from([1, 300]))}
                for kind in kinds
            ]
        }
        restrictions = draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "start_time": clock,
                    "end_time": clock,
                    "max_duration": st.integers(600, 8 * 3600),
                    "min_kwh": st.integers(1, 30).map(str),
                },
            )
        )
        if restrictions:
            element["restrictions"] = restrictions
        result.append(element)
    try:
        parse_elements(result)
    except TariffError:
        # A start equal to the end is refused by the parser, as it is in the API.
        assume(False)
    return result


@st.composite
def usages(draw):
    """A session's start, length, energy and a rising register between start and stop."""
    start = EPOCH + timedelta(minutes=draw(st.integers(0, 14 * 24 * 60)))
    seconds = draw(st.integers(0, 30 * 3600))
    energy_wh = draw(st.integers(0, 90_000))
    count = draw(st.integers(0, 8)) if seconds > 1 else 0
    offsets = sorted(draw(st.sets(st.integers(1, max(1, seconds - 1)), max_size=count)))
    registers = sorted(
        draw(st.lists(st.integers(0, energy_wh), min_size=len(offsets), max_size=len(offsets)))
    )
    readings = [
        (start + timedelta(seconds=offset), register)
        for offset, register in zip(offsets, registers, strict=True)
    ]
    return start, seconds, energy_wh, readings


@st.composite
def tariffs(draw):
    fields = {"elements": draw(elements()), "tax_rate": draw(st.sampled_from(["0", "7", "19"]))}
    low = draw(st.none() | st.decimals(min_value=0, max_value=Decimal("20"), places=2))
    high = draw(st.none() | st.decimals(min_value=0, max_value=Decimal("40"), places=2))
    if low is not None and high is not None and high < low:
        low, high = high, low
    return {**fields, "min_price": low, "max_price": high}


FREE = {
    "remote start": {"auth_method": AuthMethod.REMOTE, "billable": False},
    "id tag not accepted": {"auth_status": AuthorizationStatus.INVALID, "billable": False},
    "not billable": {"billable": False},
    "billing stopped": {"billable": False, "billing_stopped": True},
}


@contextlib.contextmanager
def rolled_back():
    """One example's rows: written in a transaction that is always rolled back."""
    # pytest-django's `db` wraps the whole test, not each example; without this, the rows of
    # one example would be seen by the next.
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def priced_session(org, station, tariff_fields, usage, **session_fields):
    """A finished session on a new org default tariff, with its register readings stored."""
    tariff = TariffFactory(organization=org, **tariff_fields)
    TariffAssignment.objects.update_or_create(
        organization=org, scope=AssignmentScope.ORGANIZATION, defaults={"tariff": tariff}
    )
    return session_like(station, usage, **session_fields)


def session_like(station, usage, **session_fields):
    """A finished session with this usage, on whatever tariff applies."""
    start, seconds, energy_wh, readings = usage
    session = ChargingSessionFactory(
        station=station,
        start=start,
        stop=start + timedelta(seconds=seconds),
        state=SessionState.COMPLETED,
        meter_start=1_000,
        meter_stop=1_000 + energy_wh,
        energy_wh=energy_wh,
        # Drawn usages may be physically impossible (90 kWh in a second), which holds a
        # session for review; released by a person, it is priced as recorded, as here.
        review_outcome=ReviewOutcome.RELEASED,
        **session_fields,
    )
    for moment, register in readings:
        MeterValueFactory(session=session, timestamp=moment, value=1_000 + register)
    return session


@PROPERTY
@given(tariff=tariffs(), usage=usages(), free=st.sampled_from(sorted(FREE)))
def test_a_free_or_billing_stopped_session_totals_zero(org, station, tariff, usage, free):
    with rolled_back():
        fields = dict(FREE[free])
        if free == "billing stopped":
            fields["billing_stopped_by"] = UserFactory(username="dispatcher")
            fields["billing_stopped_reason"] = "Test"
        session = priced_session(org, station, tariff, usage, **fields)

        cdr = rate_session(session.pk)

        assert (cdr.total_excl_tax, cdr.tax_amount, cdr.total_incl_tax) == (0, 0, 0)
        assert cdr.components == []
        assert cdr.reason


@PROPERTY
@given(tariff=tariffs(), usage=usages())
def test_the_same_session_priced_twice_gives_the_same_cdr(org, station, tariff, usage):
    with rolled_back():
        session = priced_session(org, station, tariff, usage)
        # On a second station: one station has one sample per connector and moment.
        twin = session_like(ChargingStationFactory(organization=org), usage)

        first = rate_session(session.pk)
        again = rate_session(session.pk)
        of_twin = rate_session(twin.pk)

        rows = ChargeDetailRecord.objects.filter(pk__in=[first.pk, of_twin.pk])
        stored = {row["session_id"]: row for row in rows.values()}
        assert again.pk == first.pk
        assert ChargeDetailRecord.objects.filter(session=session).count() == 1
        assert {name: stored[session.pk][name] for name in PRICED_FIELDS} == {
            name: stored[twin.pk][name] for name in PRICED_FIELDS
        }


@PROPERTY
@given(tariff=tariffs(), usage=usages())
def test_a_rated_total_is_never_negative_and_is_the_sum_of_its_lines(org, station, tariff, usage):
    with rolled_back():
        session = priced_session(org, station, tariff, usage)

        cdr = rate_session(session.pk)

        lines = sum((Decimal(line["amount"]) for line in cdr.components), Decimal(0))
        parts = (
            cdr.energy_amount,
            cdr.time_amount,
            cdr.idle_amount,
            cdr.session_fee_amount,
            cdr.price_cap_amount,
        )
        assert cdr.total_incl_tax >= 0
        assert cdr.total_excl_tax == lines == sum(parts)
        assert cdr.total_incl_tax == cdr.total_excl_tax + cdr.tax_amount
