"""Rating finished sessions: which tariff applies, the amounts, zero totals, the Celery task."""

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import factory
import pytest
from django.db import transaction

from billing import services
from billing.choices import AssignmentScope, CdrKind
from billing.models import ChargeDetailRecord, TariffAssignment
from billing.services import find_tariff, rate_session
from billing.tasks import rate_session as rate_session_task
from sessions_app.choices import AuthMethod, AuthorizationStatus, SessionState
from tests.factories import (
    AccessGroupFactory,
    ChargingSessionFactory,
    ChargingStationFactory,
    IdTokenFactory,
    TariffFactory,
    UserFactory,
)

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
AMOUNT_FIELDS = (
    "energy_amount",
    "time_amount",
    "idle_amount",
    "session_fee_amount",
    "total_excl_tax",
    "tax_amount",
    "total_incl_tax",
)


class TariffAssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TariffAssignment

    tariff = factory.SubFactory(TariffFactory)
    organization = factory.SelfAttribute("tariff.organization")
    scope = AssignmentScope.ORGANIZATION


def make_tariff(org, **prices):
    """A tariff of `org` that charges only the given prices (everything else 0)."""
    return TariffFactory(organization=org, **{"price_per_kwh": "0", "tax_rate": "0", **prices})


def assign(tariff, scope=AssignmentScope.ORGANIZATION, **target):
    """Assign `tariff` within its own organization to `scope` (the org default by default)."""
    return TariffAssignmentFactory(tariff=tariff, scope=scope, **target).tariff


def finished_session(station, **kwargs):
    """A completed session on `station` that started at START and lasted one hour."""
    kwargs.setdefault("state", SessionState.COMPLETED)
    kwargs.setdefault("stop", START + timedelta(hours=1))
    return ChargingSessionFactory(station=station, start=START, **kwargs)


def assert_zero_total(cdr):
    assert all(getattr(cdr, field) == 0 for field in AMOUNT_FIELDS)
    assert cdr.components == []


# Pricing --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prices", "energy_wh", "seconds", "expected"),
    [
        pytest.param(
            {"price_per_kwh": "0.39", "tax_rate": "19"},
            12345,
            3600,
            # 12.345 kWh × 0.39 = 4.81455; tax 0.9139
            ("4.81", "0.00", "0.00", "4.81", "0.91", "5.72"),
            id="energy only",
        ),
        pytest.param(
            {"price_per_minute_charging": "0.05", "tax_rate": "19"},
            5000,
            3725,
            # 62.0833 min × 0.05 = 3.104165; tax 0.589
            ("0.00", "3.10", "0.00", "3.10", "0.59", "3.69"),
            id="time only",
        ),
        pytest.param(
            {"session_fee": "1.50", "tax_rate": "19"},
            5000,
            3600,
            # tax 0.285
            ("0.00", "0.00", "1.50", "1.50", "0.29", "1.79"),
            id="fee only",
        ),
        pytest.param(
            {
                "price_per_kwh": "0.30",
                "price_per_minute_charging": "0.02",
                "session_fee": "0.99",
                "tax_rate": "19",
            },
            20000,
            3600,
            # 6.00 + 1.20 + 0.99 = 8.19; tax 1.5561
            ("6.00", "1.20", "0.99", "8.19", "1.56", "9.75"),
            id="all three",
        ),
        pytest.param(
            {"session_fee": "0.50", "tax_rate": "25"},
            0,
            3600,
            # tax 0.125: half up gives 0.13 where banker's rounding would give 0.12
            ("0.00", "0.00", "0.50", "0.50", "0.13", "0.63"),
            id="tax at the half cent rounds up",
        ),
        pytest.param(
            {"price_per_kwh": "0.25", "price_per_minute_charging": "0.05"},
            2500,
            750,
            # 0.625 and 0.625 round to 0.63 each before summing (not 1.25)
            ("0.63", "0.63", "0.00", "1.26", "0.00", "1.26"),
            id="each line rounds at the half cent before summing",
        ),
    ],
)
def test_rate_session_prices_each_line_and_the_tax_rounded_half_up(
    org, station, prices, energy_wh, seconds, expected
):
    assign(make_tariff(org, **prices))
    session = finished_session(
        station, energy_wh=energy_wh, stop=START + timedelta(seconds=seconds)
    )

    rate_session(session.pk)

    cdr = ChargeDetailRecord.objects.get(session=session)
    amounts = (
        cdr.energy_amount,
        cdr.time_amount,
        cdr.session_fee_amount,
        cdr.total_excl_tax,
        cdr.tax_amount,
        cdr.total_incl_tax,
    )
    assert amounts == tuple(Decimal(amount) for amount in expected)
    assert cdr.idle_amount == 0
    assert cdr.zero_reason == ""


def test_cdr_lists_each_component_with_exact_strings(org, station):
    assign(
        make_tariff(
            org,
            price_per_kwh="0.30",
            price_per_minute_charging="0.02",
            price_per_minute_idle="0.10",
            session_fee="0.99",
        )
    )
    session = finished_session(station, energy_wh=20000, stop=START + timedelta(seconds=3725))

    cdr = rate_session(session.pk)

    cdr.refresh_from_db()
    assert cdr.components == [
        {
            "component": "energy",
            "quantity": "20.000",
            "unit": "kWh",
            "unit_price": "0.3000",
            "amount": "6.00",
        },
        {
            "component": "charging_time",
            "quantity": "62.0833",
            "unit": "min",
            "unit_price": "0.0200",
            "amount": "1.24",
        },
        {
            "component": "idle_time",
            "quantity": "0.0000",
            "unit": "min",
            "unit_price": "0.1000",
            "amount": "0.00",
        },
        {
            "component": "session_fee",
            "quantity": "1",
            "unit": "session",
            "unit_price": "0.9900",
            "amount": "0.99",
        },
    ]


def test_cdr_records_energy_and_charging_time_and_no_idle_time_yet(org, station):
    assign(make_tariff(org, price_per_minute_idle="0.10"))
    session = finished_session(station, energy_wh=7654, stop=START + timedelta(minutes=90))

    cdr = rate_session(session.pk)

    assert (cdr.energy_wh, cdr.charging_seconds, cdr.idle_seconds) == (7654, 5400, 0)
    assert cdr.idle_amount == 0
    assert (cdr.organization, cdr.kind) == (org, CdrKind.CHARGE)


def test_cdr_keeps_a_snapshot_of_the_tariff_prices_as_strings(org, station):
    tariff = assign(
        make_tariff(
            org,
            name="Standard AC",
            currency="EUR",
            price_per_kwh="0.39",
            price_per_minute_charging="0.02",
            price_per_minute_idle="0.10",
            session_fee="0.99",
            tax_rate="19",
        )
    )
    session = finished_session(station, energy_wh=1000)

    cdr = rate_session(session.pk)
    tariff.price_per_kwh = Decimal("0.59")
    tariff.save()

    cdr.refresh_from_db()
    assert cdr.tariff == tariff
    assert cdr.tariff_snapshot == {
        "id": tariff.pk,
        "name": "Standard AC",
        "currency": "EUR",
        "price_per_kwh": "0.3900",
        "price_per_minute_charging": "0.0200",
        "price_per_minute_idle": "0.1000",
        "session_fee": "0.9900",
        "tax_rate": "19.00",
    }


def test_cdr_currency_is_the_tariffs(org, station):
    assign(make_tariff(org, currency="CHF", price_per_kwh="0.50"))
    session = finished_session(station, energy_wh=1000)

    assert rate_session(session.pk).currency == "CHF"


def test_cdr_without_tariff_takes_the_organizations_currency(org, station):
    org.currency = "SEK"
    org.save()
    session = finished_session(station, energy_wh=1000)

    assert rate_session(session.pk).currency == "SEK"


# Which tariff applies -------------------------------------------------------------------------

ACCESS_GROUP = AssignmentScope.ACCESS_GROUP
STATION = AssignmentScope.STATION
SITE = AssignmentScope.SITE
ORGANIZATION = AssignmentScope.ORGANIZATION


@pytest.mark.parametrize(
    ("winner", "loser"),
    [
        pytest.param(ACCESS_GROUP, STATION, id="access group beats station"),
        pytest.param(STATION, SITE, id="station beats site"),
        pytest.param(SITE, ORGANIZATION, id="site beats organization default"),
    ],
)
def test_find_tariff_prefers_the_more_specific_assignment(org, station, winner, loser):
    group = AccessGroupFactory(organization=org)
    card = IdTokenFactory(organization=org, access_groups=[group])
    targets = {
        ACCESS_GROUP: {"access_group": group},
        STATION: {"station": station},
        SITE: {"site": station.site},
        ORGANIZATION: {},
    }
    # The loser gets the lower id, so an answer by id order alone would pick it.
    assign(make_tariff(org, name=str(loser)), loser, **targets[loser])
    expected = assign(make_tariff(org, name=str(winner)), winner, **targets[winner])
    session = finished_session(station, id_token=card)

    assert find_tariff(session) == expected


def test_find_tariff_falls_back_to_the_organization_default(org, station):
    default = assign(make_tariff(org))
    neighbour = ChargingStationFactory(organization=org)
    assign(make_tariff(org), STATION, station=neighbour)
    assign(make_tariff(org), SITE, site=neighbour.site)

    assert find_tariff(finished_session(station)) == default


def test_find_tariff_ignores_access_groups_when_the_session_has_no_card(org, station):
    group = AccessGroupFactory(organization=org)
    IdTokenFactory(organization=org, access_groups=[group])
    assign(make_tariff(org), ACCESS_GROUP, access_group=group)
    site_tariff = assign(make_tariff(org), SITE, site=station.site)

    assert find_tariff(finished_session(station, id_token=None)) == site_tariff


def test_find_tariff_picks_the_lowest_assignment_id_when_the_card_is_in_several_groups(
    org, station
):
    first_group = AccessGroupFactory(organization=org)
    second_group = AccessGroupFactory(organization=org)
    card = IdTokenFactory(organization=org, access_groups=[first_group, second_group])
    # Assigned in the opposite order of the groups (and of the tariff names), so neither can
    # explain the answer.
    expected = assign(make_tariff(org, name="A"), ACCESS_GROUP, access_group=second_group)
    assign(make_tariff(org, name="0"), ACCESS_GROUP, access_group=first_group)

    assert find_tariff(finished_session(station, id_token=card)) == expected


@pytest.mark.parametrize(
    "wrong_data",
    [
        "own assignment points at another organization's tariff",
        "another organization assigns its tariff to our station",
        "card is in another organization's priced access group",
    ],
)
def test_find_tariff_never_uses_a_tariff_of_another_organization(
    org, other_org, station, wrong_data
):
    default = assign(make_tariff(org))
    foreign_tariff = make_tariff(other_org, price_per_kwh="9.99")
    card = IdTokenFactory(organization=org)
    if wrong_data == "own assignment points at another organization's tariff":
        TariffAssignment.objects.create(
            organization=org, tariff=foreign_tariff, scope=STATION, station=station
        )
    elif wrong_data == "another organization assigns its tariff to our station":
        assign(foreign_tariff, STATION, station=station)
    else:
        foreign_group = AccessGroupFactory(organization=other_org)
        card.access_groups.add(foreign_group)
        assign(foreign_tariff, ACCESS_GROUP, access_group=foreign_group)

    assert find_tariff(finished_session(station, id_token=card)) == default


@pytest.mark.parametrize(
    ("valid_from", "valid_to", "applies"),
    [
        pytest.param(None, None, True, id="open-ended applies"),
        pytest.param(START - timedelta(days=1), START + timedelta(days=1), True, id="enclosing"),
        pytest.param(START, None, True, id="starting at the session start applies"),
        pytest.param(START - timedelta(days=2), START - timedelta(days=1), False, id="expired"),
        pytest.param(START + timedelta(seconds=1), None, False, id="not yet valid"),
        pytest.param(None, START, False, id="ending at the session start does not apply"),
    ],
)
def test_find_tariff_uses_only_tariffs_valid_at_the_session_start(
    org, station, valid_from, valid_to, applies
):
    default = assign(make_tariff(org))
    station_tariff = assign(
        make_tariff(org, valid_from=valid_from, valid_to=valid_to), STATION, station=station
    )

    expected = station_tariff if applies else default
    assert find_tariff(finished_session(station)) == expected


# Idempotence ----------------------------------------------------------------------------------


def test_rating_twice_keeps_one_cdr_with_the_first_amounts(org, station):
    tariff = assign(make_tariff(org, price_per_kwh="0.39"))
    session = finished_session(station, energy_wh=10000)
    first = rate_session(session.pk)
    tariff.price_per_kwh = Decimal("0.99")
    tariff.save()

    second = rate_session(session.pk)

    assert second.pk == first.pk
    assert ChargeDetailRecord.objects.filter(session=session).count() == 1
    assert second.total_incl_tax == first.total_incl_tax == Decimal("3.90")


def test_rating_returns_the_concurrent_runs_cdr_when_it_inserted_first(org, station, monkeypatch):
    assign(make_tariff(org, price_per_kwh="0.39"))
    session = finished_session(station, energy_wh=10000)
    winner = rate_session(session.pk)
    lookup = services._charge_record_of
    calls = []

    def lookup_missing_the_first_time(session):
        """The other run's CDR appears only after this run has checked for one."""
        calls.append(session)
        return None if len(calls) == 1 else lookup(session)

    monkeypatch.setattr(services, "_charge_record_of", lookup_missing_the_first_time)

    assert rate_session(session.pk) == winner
    assert len(calls) == 2
    assert ChargeDetailRecord.objects.filter(session=session).count() == 1


def test_rate_session_logs_and_returns_none_for_an_unknown_session(db, caplog):
    with caplog.at_level(logging.WARNING, logger="billing.services"):
        assert rate_session(999_999) is None

    assert "999999" in caplog.text
    assert not ChargeDetailRecord.objects.exists()


def test_task_returns_none_for_an_unknown_session(db, eager_celery):
    assert rate_session_task.delay(999_999).get() is None


# Sessions that are free of charge -------------------------------------------------------------


@pytest.mark.parametrize(
    ("session_fields", "reason"),
    [
        pytest.param({"billable": False}, "not billable", id="not billable"),
        pytest.param(
            {"auth_method": AuthMethod.REMOTE},
            "operator",
            id="remote-started by an operator",
        ),
        pytest.param(
            {"auth_status": AuthorizationStatus.BLOCKED},
            "not accepted (Blocked)",
            id="id tag not accepted",
        ),
    ],
)
def test_free_session_gets_a_zero_cdr_with_the_reason(org, station, session_fields, reason):
    assign(make_tariff(org, price_per_kwh="0.39", session_fee="1.00", tax_rate="19"))
    session = finished_session(station, energy_wh=10000, **session_fields)

    cdr = rate_session(session.pk)

    assert_zero_total(cdr)
    assert reason in cdr.zero_reason


def test_stopped_billing_gives_a_zero_cdr_naming_who_stopped_it_and_why(org, station):
    assign(make_tariff(org, price_per_kwh="0.39"))
    dispatcher = UserFactory(username="dispatcher-anna")
    session = finished_session(
        station,
        energy_wh=10000,
        billing_stopped=True,
        billing_stopped_by=dispatcher,
        billing_stopped_reason="Station delivered no power",
    )

    cdr = rate_session(session.pk)

    assert_zero_total(cdr)
    assert "dispatcher-anna" in cdr.zero_reason
    assert "Station delivered no power" in cdr.zero_reason


def test_session_without_a_tariff_gets_a_zero_cdr(org, station):
    session = finished_session(station, energy_wh=10000)

    cdr = rate_session(session.pk)

    assert_zero_total(cdr)
    assert cdr.tariff is None
    assert cdr.tariff_snapshot == {}
    assert "No tariff" in cdr.zero_reason


# Which sessions are rated ---------------------------------------------------------------------


def test_active_session_writes_nothing(org, station):
    assign(make_tariff(org, price_per_kwh="0.39"))
    session = finished_session(station, energy_wh=10000, state=SessionState.ACTIVE, stop=None)

    assert rate_session(session.pk) is None
    assert not ChargeDetailRecord.objects.exists()


def test_failed_session_without_a_stop_time_writes_nothing(org, station):
    assign(make_tariff(org, price_per_kwh="0.39"))
    session = finished_session(station, state=SessionState.FAILED, stop=None)

    assert rate_session(session.pk) is None
    assert not ChargeDetailRecord.objects.exists()


def test_failed_session_with_a_stop_time_is_rated(org, station):
    assign(make_tariff(org, price_per_kwh="0.39"))
    session = finished_session(station, energy_wh=10000, state=SessionState.FAILED)

    assert rate_session(session.pk).total_excl_tax == Decimal("3.90")


# The Celery task ------------------------------------------------------------------------------


def test_task_enqueued_on_commit_writes_the_cdr_after_commit(
    org, station, eager_celery, django_capture_on_commit_callbacks
):
    assign(make_tariff(org, price_per_kwh="0.39"))

    with django_capture_on_commit_callbacks(execute=True):
        session = finished_session(station, energy_wh=10000)
        transaction.on_commit(lambda: rate_session_task.delay(session.pk))
        assert not ChargeDetailRecord.objects.exists()

    cdr = ChargeDetailRecord.objects.get(session=session, kind=CdrKind.CHARGE)
    assert cdr.total_excl_tax == Decimal("3.90")


def test_task_returns_the_id_of_the_cdr(org, station, eager_celery):
    assign(make_tariff(org, price_per_kwh="0.39"))
    session = finished_session(station, energy_wh=10000)

    cdr_id = rate_session_task.delay(session.pk).get()

    assert ChargeDetailRecord.objects.get(pk=cdr_id).session == session
