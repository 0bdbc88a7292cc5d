"""Rating finished sessions in the database: which tariff, the CDR it writes, zeros, credits."""

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import factory
import pytest
from django.db import transaction

from billing import services
from billing.choices import AssignmentScope, CdrKind
from billing.models import ChargeDetailRecord, ImmutableRecord, TariffAssignment
from billing.services import find_tariff, rate_session
from billing.tasks import rate_session as rate_session_task
from roaming.choices import PartnerRole
from roaming.models import RoamingPartner
from sessions_app.choices import AuthMethod, AuthorizationStatus, SessionState
from sessions_app.models import ChargingSession
from sessions_app.selectors import cost_of, with_cost
from sessions_app.services import BillingStopRefused, stop_billing, stop_session
from tests.factories import (
    AccessGroupFactory,
    ChargingSessionFactory,
    ChargingStationFactory,
    IdTokenFactory,
    MeterValueFactory,
    TariffFactory,
    UserFactory,
)

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
AMOUNT_FIELDS = (
    "energy_amount",
    "time_amount",
    "idle_amount",
    "session_fee_amount",
    "price_cap_amount",
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


def element(restrictions=None, **prices):
    """One OCPI tariff element: element(energy="0.39", flat="1.00", start_time="22:00")."""
    components = [{"type": kind.upper(), "price": price} for kind, price in prices.items()]
    raw = {"price_components": components}
    if restrictions:
        raw["restrictions"] = restrictions
    return raw


def make_tariff(org, *elements, **fields):
    """A tariff of `org` without tax unless told, by default 0.39 per kWh."""
    fields.setdefault("tax_rate", "0")
    return TariffFactory(
        organization=org, elements=list(elements) or [element(energy="0.39")], **fields
    )


def assign(tariff, scope=AssignmentScope.ORGANIZATION, **target):
    """Assign `tariff` within its own organization to `scope` (the org default by default)."""
    return TariffAssignmentFactory(tariff=tariff, scope=scope, **target).tariff


def finished_session(station, **kwargs):
    """A completed session on `station` that started at START and lasted one hour."""
    kwargs.setdefault("state", SessionState.COMPLETED)
    kwargs.setdefault("start", START)
    kwargs.setdefault("stop", kwargs["start"] + timedelta(hours=1))
    energy = kwargs.setdefault("energy_wh", 0)
    kwargs.setdefault("meter_stop", kwargs.get("meter_start", 0) + energy)
    return ChargingSessionFactory(station=station, **kwargs)


def amounts(cdr):
    return tuple(getattr(cdr, name) for name in AMOUNT_FIELDS)


def assert_zero_total(cdr):
    assert all(amount == 0 for amount in amounts(cdr))
    assert cdr.components == []


def stored(cdr):
    """Every column of the CDR as the database holds it now."""
    return ChargeDetailRecord.objects.filter(pk=cdr.pk).values().get()


# Amounts --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tariff", "energy_wh", "seconds", "expected"),
    [
        pytest.param(
            {"elements": [element(energy="0.39")], "tax_rate": "19"},
            12345,
            3600,
            # 12.345 kWh × 0.39 = 4.81455; tax 0.9139
            ("4.81", "0", "0", "0", "0", "4.81", "0.91", "5.72"),
            id="energy",
        ),
        pytest.param(
            {"elements": [element(time="3.00")], "tax_rate": "19"},
            5000,
            3725,
            # 3725 s at 3.00 per hour = 3.104166…; tax 0.589
            ("0", "3.10", "0", "0", "0", "3.10", "0.59", "3.69"),
            id="charging time",
        ),
        pytest.param(
            {"elements": [element(flat="0.50")], "tax_rate": "25"},
            0,
            3600,
            # tax 0.125: half up gives 0.13 where banker's rounding would give 0.12
            ("0", "0", "0", "0.50", "0", "0.50", "0.13", "0.63"),
            id="session fee with tax at the half cent",
        ),
        pytest.param(
            {"elements": [element(energy="0.30", time="1.20", flat="0.99")], "tax_rate": "19"},
            20000,
            3600,
            # 6.00 + 1.20 + 0.99 = 8.19; tax 1.5561
            ("6.00", "1.20", "0", "0.99", "0", "8.19", "1.56", "9.75"),
            id="energy, time and fee",
        ),
        pytest.param(
            {"elements": [element(energy="0.30")], "min_price": "5.00"},
            10000,
            3600,
            # 3.00 lifted to the minimum by 2.00
            ("3.00", "0", "0", "0", "2.00", "5.00", "0", "5.00"),
            id="minimum price",
        ),
        pytest.param(
            {"elements": [element(energy="0.30")], "max_price": "5.00"},
            20000,
            3600,
            # 6.00 capped at the maximum by -1.00
            ("6.00", "0", "0", "0", "-1.00", "5.00", "0", "5.00"),
            id="maximum price",
        ),
    ],
)
def test_rate_session_stores_each_amount_of_the_priced_session(
    org, station, tariff, energy_wh, seconds, expected
):
    fields = {"tax_rate": "0", **tariff}
    assign(TariffFactory(organization=org, **fields))
    session = finished_session(
        station, energy_wh=energy_wh, stop=START + timedelta(seconds=seconds)
    )

    rate_session(session.pk)

    cdr = ChargeDetailRecord.objects.get(session=session)
    assert amounts(cdr) == tuple(Decimal(amount) for amount in expected)
    assert cdr.reason == ""


def test_cdr_stores_snapshot_components_periods_volumes_and_totals(org, station):
    tariff = assign(
        make_tariff(
            org, element(energy="0.30", time="1.20", flat="0.99"), name="Standard", tax_rate="19"
        )
    )
    session = finished_session(station, energy_wh=20000)

    rate_session(session.pk)

    cdr = ChargeDetailRecord.objects.get(session=session)
    assert (cdr.kind, cdr.organization, cdr.tariff, cdr.currency) == (
        CdrKind.CHARGE,
        org,
        tariff,
        "EUR",
    )
    assert cdr.tariff_snapshot == {
        "id": tariff.pk,
        "name": "Standard",
        "currency": "EUR",
        "tax_rate": "19.00",
        "elements": [element(energy="0.30", time="1.20", flat="0.99")],
        "min_price": None,
        "max_price": None,
        "valid_from": None,
        "valid_to": None,
    }
    assert cdr.components == [
        {
            "component": "ENERGY",
            "tariff_element": 0,
            "volume": 20000,
            "volume_unit": "Wh",
            "quantity": "20.000",
            "unit": "kWh",
            "unit_price": "0.30",
            "amount": "6.00",
            "tax_rate": "19.00",
        },
        {
            "component": "TIME",
            "tariff_element": 0,
            "volume": 3600,
            "volume_unit": "s",
            "quantity": "1.000000",
            "unit": "h",
            "unit_price": "1.20",
            "amount": "1.20",
            "tax_rate": "19.00",
        },
        {
            "component": "FLAT",
            "tariff_element": 0,
            "volume": 1,
            "volume_unit": "session",
            "quantity": "1",
            "unit": "session",
            "unit_price": "0.99",
            "amount": "0.99",
            "tax_rate": "19.00",
        },
    ]
    assert cdr.periods == [
        {
            "start": "2026-01-01T12:00:00Z",
            "end": "2026-01-01T13:00:00Z",
            "charging": True,
            "energy_wh": "20000.000",
            "tariff_elements": {"ENERGY": 0, "TIME": 0, "FLAT": 0},
        }
    ]
    assert (cdr.energy_wh, cdr.charging_seconds, cdr.idle_seconds) == (20000, 3600, 0)
    assert (cdr.total_excl_tax, cdr.tax_rate, cdr.tax_amount, cdr.total_incl_tax) == (
        Decimal("8.19"),
        Decimal("19"),
        Decimal("1.56"),
        Decimal("9.75"),
    )
    assert cdr.accounted_at == session.stop


def test_cdr_snapshot_keeps_the_prices_after_the_tariff_changes(org, station):
    tariff = assign(make_tariff(org, element(energy="0.39")))
    session = finished_session(station, energy_wh=1000)
    rate_session(session.pk)

    tariff.elements = [element(energy="0.99")]
    tariff.save()

    cdr = ChargeDetailRecord.objects.get(session=session)
    assert cdr.tariff_snapshot["elements"] == [element(energy="0.39")]


def test_time_of_use_across_a_22h_price_change_is_priced_in_two_parts_from_stored_readings(
    org, station
):
    # 21:30–22:30 in Berlin (UTC+1 in January): 0.39 until 22:00, then 0.29.
    assign(
        make_tariff(
            org,
            element({"start_time": "22:00", "end_time": "06:00"}, energy="0.29"),
            element(energy="0.39"),
            tax_rate="19",
        )
    )
    start = datetime(2026, 1, 15, 20, 30, tzinfo=UTC)
    session = finished_session(
        station, start=start, meter_start=100_000, energy_wh=10_000, meter_stop=110_000
    )
    at = {minutes: start + timedelta(minutes=minutes) for minutes in (15, 30, 45)}
    # 21:45 per phase in kWh (34 + 34 + 34 = 102 kWh), 22:00 as a total in Wh, 22:15 in kWh.
    for phase in ("L1", "L2", "L3"):
        MeterValueFactory(session=session, timestamp=at[15], phase=phase, unit="kWh", value="34")
    MeterValueFactory(session=session, timestamp=at[30], value="104000")
    MeterValueFactory(session=session, timestamp=at[45], unit="kWh", value="107.000")
    # Not an energy register: never read as one.
    MeterValueFactory(
        session=session, timestamp=at[30], measurand="Power.Active.Import", value="999999"
    )

    cdr = rate_session(session.pk)

    # 4 kWh before 22:00 (a linear guess over the hour would say 5), 6 kWh after.
    lines = [(line["tariff_element"], line["volume"], line["amount"]) for line in cdr.components]
    assert lines == [(1, 4000, "1.56"), (0, 6000, "1.74")]
    assert [(p["start"], p["end"], p["tariff_elements"]) for p in cdr.periods] == [
        ("2026-01-15T20:30:00Z", "2026-01-15T21:00:00Z", {"ENERGY": 1}),
        ("2026-01-15T21:00:00Z", "2026-01-15T21:30:00Z", {"ENERGY": 0}),
    ]
    # 3.30 excl. tax; tax 0.627
    assert (cdr.total_excl_tax, cdr.tax_amount, cdr.total_incl_tax) == (
        Decimal("3.30"),
        Decimal("0.63"),
        Decimal("3.93"),
    )


def test_idle_time_after_charging_finished_is_billed_as_parking_time(org, station):
    assign(make_tariff(org, element(energy="0.39", parking_time="6.00")))
    session = finished_session(station, energy_wh=11_000, stop=START + timedelta(hours=2))
    # Full after an hour: the register stands still while the car stays plugged in.
    MeterValueFactory(session=session, timestamp=START + timedelta(hours=1), value="11000")
    MeterValueFactory(session=session, timestamp=START + timedelta(minutes=90), value="11000")

    cdr = rate_session(session.pk)

    assert (cdr.charging_seconds, cdr.idle_seconds) == (3600, 3600)
    # 11 kWh × 0.39 = 4.29; one idle hour × 6.00
    assert (cdr.energy_amount, cdr.idle_amount, cdr.total_incl_tax) == (
        Decimal("4.29"),
        Decimal("6.00"),
        Decimal("10.29"),
    )
    assert [p["charging"] for p in cdr.periods] == [True, False]


def test_session_without_meter_stop_is_priced_on_its_recorded_energy(org, station):
    assign(make_tariff(org, element(energy="0.39")))
    session = finished_session(station, energy_wh=10_000, meter_stop=None)

    assert rate_session(session.pk).total_incl_tax == Decimal("3.90")


def test_cdr_currency_is_the_tariffs(org, station):
    assign(make_tariff(org, currency="CHF"))
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


def test_card_group_tariff_prices_the_session_over_the_organization_default(org, station):
    group = AccessGroupFactory(organization=org)
    card = IdTokenFactory(organization=org, access_groups=[group])
    assign(make_tariff(org, element(energy="0.39")))
    assign(make_tariff(org, element(energy="0.19")), ACCESS_GROUP, access_group=group)
    session = finished_session(station, id_token=card, energy_wh=10_000)

    assert rate_session(session.pk).total_incl_tax == Decimal("1.90")


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
    foreign_tariff = make_tariff(other_org, element(energy="9.99"))
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


def test_tariff_that_ends_during_the_session_still_prices_all_of_it(org, station):
    assign(make_tariff(org, element(energy="0.99")))
    assign(
        make_tariff(org, element(energy="0.39"), valid_to=START + timedelta(minutes=30)),
        STATION,
        station=station,
    )
    session = finished_session(station, energy_wh=10_000)

    assert rate_session(session.pk).total_incl_tax == Decimal("3.90")


# Roaming --------------------------------------------------------------------------------------


def roaming_partner(org, tariff=None):
    return RoamingPartner.objects.create(
        organization=org,
        name="Partner eMSP",
        country_code="NL",
        party_id="PRT",
        role=PartnerRole.EMSP,
        tariff=tariff,
    )


def test_roaming_session_is_priced_with_the_partners_published_tariff(org, station):
    assign(make_tariff(org, element(energy="0.39")))
    published = make_tariff(org, element(energy="0.49", flat="0.50"), name="Roaming")
    partner = roaming_partner(org, published)
    session = finished_session(station, roaming_partner=partner, id_token=None, energy_wh=10_000)

    cdr = rate_session(session.pk)

    assert (cdr.tariff, cdr.roaming_partner) == (published, partner)
    assert cdr.total_incl_tax == Decimal("5.40")


def test_roaming_session_is_zero_with_the_reason_when_the_partner_has_no_tariff(org, station):
    assign(make_tariff(org, element(energy="0.39")))
    partner = roaming_partner(org)
    session = finished_session(station, roaming_partner=partner, energy_wh=10_000)

    cdr = rate_session(session.pk)

    assert_zero_total(cdr)
    assert cdr.roaming_partner == partner
    assert cdr.reason.startswith("Roaming partner Partner eMSP (NL*PRT) has no published tariff")


# Sessions that are free of charge -------------------------------------------------------------


@pytest.mark.parametrize(
    ("session_fields", "reason"),
    [
        pytest.param(
            # As start_session records an operator's "Start charging": remote and unbillable.
            {"auth_method": AuthMethod.REMOTE, "billable": False},
            "Started remotely by an operator; operator starts are never billed",
            id="remote-started by an operator",
        ),
        pytest.param(
            {"auth_status": AuthorizationStatus.BLOCKED, "billable": False},
            "Id tag was not accepted (Blocked)",
            id="id tag not accepted",
        ),
        pytest.param({"billable": False}, "Session is not billable", id="not billable"),
    ],
)
def test_free_session_gets_a_zero_cdr_with_its_own_reason(org, station, session_fields, reason):
    assign(make_tariff(org, element(energy="0.39", flat="1.00"), tax_rate="19"))
    session = finished_session(station, energy_wh=10_000, **session_fields)

    cdr = rate_session(session.pk)

    assert_zero_total(cdr)
    assert cdr.reason == reason
    # The volumes are kept, so the free session is still explained.
    assert (cdr.energy_wh, cdr.charging_seconds) == (10_000, 3600)


def test_billing_stopped_session_gets_a_zero_cdr_naming_who_stopped_it_and_why(org, station):
    assign(make_tariff(org, element(energy="0.39")))
    dispatcher = UserFactory(username="dispatcher-anna")
    session = finished_session(
        station,
        energy_wh=10_000,
        billable=False,
        billing_stopped=True,
        billing_stopped_by=dispatcher,
        billing_stopped_reason="Station delivered no power",
    )

    cdr = rate_session(session.pk)

    assert_zero_total(cdr)
    assert cdr.reason == "Billing stopped by dispatcher-anna: Station delivered no power"
    assert cdr.billing_stopped_by == dispatcher


def test_session_without_a_tariff_gets_a_zero_cdr(org, station):
    session = finished_session(station, energy_wh=10_000)

    cdr = rate_session(session.pk)

    assert_zero_total(cdr)
    assert (cdr.tariff, cdr.tariff_snapshot) == (None, {})
    assert cdr.reason == "No tariff applies to this session"


# Which sessions are rated ---------------------------------------------------------------------


def test_active_session_writes_nothing(org, station):
    assign(make_tariff(org))
    session = finished_session(station, energy_wh=10_000, state=SessionState.ACTIVE, stop=None)

    assert rate_session(session.pk) is None
    assert not ChargeDetailRecord.objects.exists()


def test_failed_session_without_a_stop_time_writes_nothing(org, station):
    assign(make_tariff(org))
    session = finished_session(station, state=SessionState.FAILED, stop=None)

    assert rate_session(session.pk) is None
    assert not ChargeDetailRecord.objects.exists()


def test_failed_session_with_a_stop_time_is_rated(org, station):
    assign(make_tariff(org))
    session = finished_session(station, energy_wh=10_000, state=SessionState.FAILED)

    assert rate_session(session.pk).total_excl_tax == Decimal("3.90")


def test_rate_session_logs_and_returns_none_for_an_unknown_session(db, caplog):
    with caplog.at_level(logging.WARNING, logger="billing.services"):
        assert rate_session(999_999) is None

    assert "999999" in caplog.text
    assert not ChargeDetailRecord.objects.exists()


# Written once ---------------------------------------------------------------------------------


def test_rating_again_changes_nothing_even_after_the_tariff_changed(org, station):
    tariff = assign(make_tariff(org, element(energy="0.39")))
    session = finished_session(station, energy_wh=10_000)
    first = rate_session(session.pk)
    before = stored(first)
    tariff.elements = [element(energy="0.99")]
    tariff.save()

    second = rate_session(session.pk)

    assert second.pk == first.pk
    assert stored(second) == before
    assert ChargeDetailRecord.objects.filter(session=session).count() == 1


def test_rating_returns_the_concurrent_runs_cdr_when_it_inserted_first(org, station, monkeypatch):
    assign(make_tariff(org))
    session = finished_session(station, energy_wh=10_000)
    winner = rate_session(session.pk)
    lookup = services._charge_record_of
    calls = []

    def lookup_missing_the_first_time(session):
        """The other run's CDR appears only after this run has checked for one."""
        calls.append(session)
        return None if len(calls) == 1 else lookup(session)

    monkeypatch.setattr(services, "_charge_record_of", lookup_missing_the_first_time)

    assert rate_session(session.pk) == winner
    # The lookup was asked (and missed), so the answer came from the insert that collided.
    assert len(calls) == 1
    assert ChargeDetailRecord.objects.filter(session=session).count() == 1


def test_a_stored_cdr_cannot_be_saved_again(org, station):
    assign(make_tariff(org))
    cdr = rate_session(finished_session(station, energy_wh=10_000).pk)
    before = stored(cdr)
    cdr.total_incl_tax = Decimal("0")

    with pytest.raises(ImmutableRecord):
        cdr.save()

    assert stored(cdr) == before


# Stopping billing after rating: a credit ------------------------------------------------------


@pytest.fixture
def dispatcher(db):
    return UserFactory(username="dispatcher-anna")


@pytest.fixture
def rated(org, station):
    """A finished session rated 3.90 + 0.74 tax."""
    assign(make_tariff(org, element(energy="0.39"), tax_rate="19"))
    session = finished_session(station, energy_wh=10_000)
    rate_session(session.pk)
    return session


def test_stopping_billing_of_a_rated_session_writes_one_credit_negating_the_charge(
    rated, dispatcher
):
    charge = ChargeDetailRecord.objects.get(session=rated, kind=CdrKind.CHARGE)

    stopped = stop_billing(rated, user=dispatcher, reason="Wrong card charged")

    credit = ChargeDetailRecord.objects.get(session=rated, kind=CdrKind.CREDIT)
    assert credit.corrects == charge
    assert amounts(credit) == tuple(-amount for amount in amounts(charge))
    assert credit.total_incl_tax == Decimal("-4.64")
    assert [line["amount"] for line in credit.components] == ["-3.90"]
    assert credit.reason == "Credit: Billing stopped by dispatcher-anna: Wrong card charged"
    assert credit.billing_stopped_by == dispatcher
    assert credit.accounted_at == stopped.billing_stopped_at


def test_stopping_billing_never_edits_the_charge(rated, dispatcher):
    charge = ChargeDetailRecord.objects.get(session=rated, kind=CdrKind.CHARGE)
    before = stored(charge)

    stop_billing(rated, user=dispatcher, reason="Wrong card charged")

    assert stored(charge) == before


def test_the_session_costs_nothing_after_its_charge_was_credited(rated, dispatcher):
    stop_billing(rated, user=dispatcher, reason="Wrong card charged")

    session = with_cost(ChargingSession.objects.filter(pk=rated.pk)).get()
    assert (cost_of(session), session.currency) == (Decimal("0"), "EUR")


def test_stopping_billing_twice_is_refused_and_credits_once(rated, dispatcher):
    stop_billing(rated, user=dispatcher, reason="Wrong card charged")

    with pytest.raises(BillingStopRefused):
        stop_billing(rated, user=dispatcher, reason="Again")

    assert ChargeDetailRecord.objects.filter(session=rated, kind=CdrKind.CREDIT).count() == 1


def test_stopping_billing_of_a_session_rated_zero_writes_no_credit(org, station, dispatcher):
    session = finished_session(station, energy_wh=10_000)
    assert rate_session(session.pk).total_incl_tax == 0

    stop_billing(session, user=dispatcher, reason="No tariff anyway")

    assert list(ChargeDetailRecord.objects.values_list("kind", flat=True)) == [CdrKind.CHARGE]


def test_stopping_billing_before_rating_writes_no_credit_and_a_zero_charge(
    org, station, dispatcher
):
    assign(make_tariff(org))
    session = finished_session(station, energy_wh=10_000)
    stop_billing(session, user=dispatcher, reason="Wrong card charged")

    cdr = rate_session(session.pk)

    assert_zero_total(cdr)
    assert list(ChargeDetailRecord.objects.values_list("kind", flat=True)) == [CdrKind.CHARGE]


# Enqueued by the stop -------------------------------------------------------------------------


def test_a_stop_enqueues_rating_after_commit_exactly_once(
    org, station, eager_celery, django_capture_on_commit_callbacks, monkeypatch
):
    assign(make_tariff(org))
    session = ChargingSessionFactory(station=station, start=START, transaction_id="9001")
    enqueued = []
    delay = rate_session_task.delay
    monkeypatch.setattr(rate_session_task, "delay", lambda pk: enqueued.append(pk) or delay(pk))
    stop = {
        "transaction_id": "9001",
        "stopped_at": START + timedelta(hours=1),
        "meter_stop": 10_000,
        "reason": "Local",
    }

    with django_capture_on_commit_callbacks() as callbacks:
        stop_session(station, **stop)
        # The station repeats its StopTransaction: nothing more to rate.
        stop_session(station, **stop)
    assert (enqueued, ChargeDetailRecord.objects.exists()) == ([], False)
    for callback in callbacks:
        callback()

    assert enqueued == [session.pk]
    assert ChargeDetailRecord.objects.get(session=session).total_incl_tax == Decimal("3.90")


def test_task_enqueued_on_commit_writes_the_cdr_after_commit(
    org, station, eager_celery, django_capture_on_commit_callbacks
):
    assign(make_tariff(org))

    with django_capture_on_commit_callbacks(execute=True):
        session = finished_session(station, energy_wh=10_000)
        transaction.on_commit(lambda: rate_session_task.delay(session.pk))
        assert not ChargeDetailRecord.objects.exists()

    cdr = ChargeDetailRecord.objects.get(session=session, kind=CdrKind.CHARGE)
    assert cdr.total_excl_tax == Decimal("3.90")


def test_task_returns_the_id_of_the_cdr(org, station, eager_celery):
    assign(make_tariff(org))
    session = finished_session(station, energy_wh=10_000)

    cdr_id = rate_session_task.delay(session.pk).get()

    assert ChargeDetailRecord.objects.get(pk=cdr_id).session == session


def test_task_returns_none_for_an_unknown_session(db, eager_celery):
    assert rate_session_task.delay(999_999).get() is None
