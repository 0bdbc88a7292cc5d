"""Closing billing periods into invoices: period bounds, selection, grouping, numbers, tax."""

import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, connections, transaction

from billing.choices import AssignmentScope, CdrKind
from billing.engine import round_money
from billing.invoicing import close_due_periods, close_period, period_bounds
from billing.models import (
    BillingPeriod,
    ChargeDetailRecord,
    Invoice,
    InvoiceLine,
    TariffAssignment,
)
from billing.services import rate_session
from organizations.choices import BillingPeriodLength
from roaming.models import RoamingPartner
from sessions_app.choices import SessionState
from tests.factories import (
    ChargingSessionFactory,
    ChargingStationFactory,
    IdTokenFactory,
    TariffFactory,
)

pytestmark = pytest.mark.django_db

# Calendar months of Europe/Berlin (the organizations' default zone), in UTC.
JAN = datetime(2025, 12, 31, 23, tzinfo=UTC)
FEB = datetime(2026, 1, 31, 23, tzinfo=UTC)
MAR = datetime(2026, 2, 28, 23, tzinfo=UTC)
APR = datetime(2026, 3, 31, 22, tzinfo=UTC)
IN_JAN = datetime(2026, 1, 10, 12, tzinfo=UTC)
IN_FEB = datetime(2026, 2, 10, 12, tzinfo=UTC)
IN_MAR = datetime(2026, 3, 10, 12, tzinfo=UTC)


def make_cdr(
    station,
    *,
    at=IN_JAN,
    card=None,
    partner=None,
    excl="10.00",
    rate="19.00",
    currency="EUR",
    energy_wh=10_000,
    id_tag="04A1B2C3",
):
    """A charge CDR of a one-hour session on `station` that stopped at `at`."""
    session = ChargingSessionFactory(
        station=station,
        id_token=card,
        id_tag=card.uid if card else id_tag,
        roaming_partner=partner,
        start=at - timedelta(hours=1),
        stop=at,
        state=SessionState.COMPLETED,
        energy_wh=energy_wh,
    )
    excl = Decimal(excl)
    tax = round_money(excl * Decimal(rate) / 100)
    cdr = ChargeDetailRecord(
        organization=station.organization,
        session=session,
        kind=CdrKind.CHARGE,
        id_token=card,
        roaming_partner=partner,
        currency=currency,
        tax_rate=Decimal(rate),
        energy_wh=energy_wh,
        total_excl_tax=excl,
        tax_amount=tax,
        total_incl_tax=excl + tax,
        accounted_at=at,
    )
    cdr.save()
    return cdr


def make_credit(charge, *, at):
    """A credit CDR cancelling `charge`, accounted at `at`."""
    credit = ChargeDetailRecord(
        organization_id=charge.organization_id,
        session=charge.session,
        kind=CdrKind.CREDIT,
        corrects=charge,
        id_token=charge.id_token,
        roaming_partner=charge.roaming_partner,
        currency=charge.currency,
        tax_rate=charge.tax_rate,
        energy_wh=charge.energy_wh,
        total_excl_tax=-charge.total_excl_tax,
        tax_amount=-charge.tax_amount,
        total_incl_tax=-charge.total_incl_tax,
        reason="Credit: Billing stopped",
        accounted_at=at,
    )
    credit.save()
    return credit


def make_partner(org, name="Plugsurfing", party_id="PLG"):
    return RoamingPartner.objects.create(
        organization=org, name=name, country_code="DE", party_id=party_id
    )


def invoices_of(org):
    return list(Invoice.objects.for_org(org).order_by("sequence"))


def invoiced_cdr_ids(invoice):
    return set(invoice.lines.values_list("cdr_id", flat=True))


# Period bounds ---------------------------------------------------------------------------------


def test_monthly_period_is_the_calendar_month_in_the_organization_time_zone(org):
    start, end = period_bounds(org, datetime(2026, 1, 15, 12, tzinfo=UTC))

    assert (start, end) == (JAN, FEB)
    assert start.tzinfo is UTC and end.tzinfo is UTC


def test_a_moment_just_after_local_midnight_belongs_to_the_next_month(org):
    # 23:30 UTC on 31 January is 00:30 on 1 February in Berlin.
    assert period_bounds(org, datetime(2026, 1, 31, 23, 30, tzinfo=UTC)) == (FEB, MAR)


def test_monthly_period_with_the_spring_dst_change_ends_at_local_midnight(org):
    start, end = period_bounds(org, IN_MAR)

    # Midnight of 1 April is CEST (UTC+2): March is one hour shorter than 31 days.
    assert (start, end) == (MAR, APR)
    assert end - start == timedelta(days=31, hours=-1)


def test_monthly_period_with_the_autumn_dst_change_ends_at_local_midnight(org):
    start, end = period_bounds(org, datetime(2026, 10, 15, tzinfo=UTC))

    assert start == datetime(2026, 9, 30, 22, tzinfo=UTC)
    assert end == datetime(2026, 10, 31, 23, tzinfo=UTC)


def test_weekly_period_runs_from_monday_midnight_local_across_a_dst_change(org):
    org.billing_period = BillingPeriodLength.WEEKLY

    # Sunday 29 March 2026, the day Berlin moves to summer time.
    start, end = period_bounds(org, datetime(2026, 3, 29, 12, tzinfo=UTC))

    assert start == datetime(2026, 3, 22, 23, tzinfo=UTC)  # Monday 23 March 00:00 CET
    assert end == datetime(2026, 3, 29, 22, tzinfo=UTC)  # Monday 30 March 00:00 CEST


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        pytest.param(
            datetime(2026, 5, 10, tzinfo=UTC),
            (datetime(2026, 3, 31, 22, tzinfo=UTC), datetime(2026, 6, 30, 22, tzinfo=UTC)),
            id="second-quarter",
        ),
        pytest.param(
            datetime(2026, 11, 1, tzinfo=UTC),
            (datetime(2026, 9, 30, 22, tzinfo=UTC), datetime(2026, 12, 31, 23, tzinfo=UTC)),
            id="fourth-quarter-ends-in-the-next-year",
        ),
    ],
)
def test_quarterly_period_is_the_calendar_quarter(org, moment, expected):
    org.billing_period = BillingPeriodLength.QUARTERLY

    assert period_bounds(org, moment) == expected


def test_an_unknown_time_zone_falls_back_to_utc(org):
    org.timezone = "Mars/Olympus_Mons"

    assert period_bounds(org, datetime(2026, 1, 15, tzinfo=UTC)) == (
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 2, 1, tzinfo=UTC),
    )


# Numbering ------------------------------------------------------------------------------------


def test_invoices_are_numbered_with_the_prefix_without_gaps_across_closes(org, station):
    org.invoice_prefix = "SWD-"
    org.save()
    make_cdr(station, card=IdTokenFactory(organization=org))
    make_cdr(station, card=IdTokenFactory(organization=org))
    make_cdr(station, at=IN_FEB, card=IdTokenFactory(organization=org))

    close_period(org, JAN, FEB)
    close_period(org, FEB, MAR)

    assert [(i.sequence, i.number) for i in invoices_of(org)] == [
        (1, "SWD-000001"),
        (2, "SWD-000002"),
        (3, "SWD-000003"),
    ]


def test_numbering_is_independent_per_organization(org, other_org, station):
    make_cdr(station, card=IdTokenFactory(organization=org))
    make_cdr(station, card=IdTokenFactory(organization=org))
    outsider_station = ChargingStationFactory(organization=other_org)
    make_cdr(outsider_station, card=IdTokenFactory(organization=other_org))

    close_period(org, JAN, FEB)
    close_period(other_org, JAN, FEB)

    assert [i.number for i in invoices_of(org)] == ["INV-000001", "INV-000002"]
    assert [i.number for i in invoices_of(other_org)] == ["INV-000001"]


def test_invoices_are_numbered_partners_first_then_cards_by_uid_then_currency(org, station):
    late_card = IdTokenFactory(organization=org, uid="04FF")
    early_card = IdTokenFactory(organization=org, uid="04AA")
    partner = make_partner(org)
    make_cdr(station, card=late_card)
    make_cdr(station, card=early_card, currency="USD")
    make_cdr(station, card=early_card, currency="EUR")
    make_cdr(station, partner=partner)

    close_period(org, JAN, FEB)

    assert [(i.roaming_partner_id, i.id_token_id, i.currency) for i in invoices_of(org)] == [
        (partner.pk, None, "EUR"),
        (None, early_card.pk, "EUR"),
        (None, early_card.pk, "USD"),
        (None, late_card.pk, "EUR"),
    ]


# Amounts and tax ------------------------------------------------------------------------------


def test_tax_breakdown_has_one_entry_per_rate_and_totals_are_the_sums_of_lines(org, station):
    card = IdTokenFactory(organization=org)
    make_cdr(station, card=card, excl="10.00", rate="19.00")
    make_cdr(station, card=card, excl="5.55", rate="19.00")
    make_cdr(station, card=card, excl="20.00", rate="7.00")

    close_period(org, JAN, FEB)

    (invoice,) = invoices_of(org)
    assert invoice.tax_breakdown == [
        {"rate": "7.00", "base": "20.00", "tax": "1.40"},
        # 10.00 × 19 % = 1.90 and 5.55 × 19 % = 1.0545 → 1.05: tax is summed per line.
        {"rate": "19.00", "base": "15.55", "tax": "2.95"},
    ]
    lines = list(invoice.lines.all())
    assert invoice.total_excl_tax == sum(line.amount_excl_tax for line in lines) == Decimal("35.55")
    assert invoice.tax_amount == sum(line.tax_amount for line in lines) == Decimal("4.35")
    assert invoice.total_incl_tax == sum(line.amount_incl_tax for line in lines)
    assert invoice.total_incl_tax == Decimal("39.90")


def test_each_line_is_one_session_at_the_cdr_amounts(org, station):
    cdr = make_cdr(station, card=IdTokenFactory(organization=org), excl="4.81", rate="19.00")

    close_period(org, JAN, FEB)

    line = InvoiceLine.objects.get(cdr=cdr)
    assert (line.quantity, line.unit, line.unit_price, line.tax_rate) == (
        Decimal(1),
        "session",
        Decimal("4.81"),
        Decimal("19.00"),
    )
    assert (line.amount_excl_tax, line.tax_amount, line.amount_incl_tax) == (
        Decimal("4.81"),
        Decimal("0.91"),
        Decimal("5.72"),
    )


def test_line_describes_station_local_start_and_energy(org, station):
    # Stopped 12:00 UTC after one hour: started 11:00 UTC, 12:00 in Berlin.
    cdr = make_cdr(station, card=IdTokenFactory(organization=org), energy_wh=12_345)

    close_period(org, JAN, FEB)

    assert InvoiceLine.objects.get(cdr=cdr).description == (
        "Charging session at CS-DEMO-1 on 2026-01-10 12:00, 12.345 kWh"
    )


def test_a_credit_in_the_same_period_is_a_negative_line_on_the_same_invoice(org, station):
    charge = make_cdr(station, card=IdTokenFactory(organization=org), excl="10.00")
    credit = make_credit(charge, at=IN_JAN + timedelta(days=1))

    close_period(org, JAN, FEB)

    (invoice,) = invoices_of(org)
    credit_line = InvoiceLine.objects.get(cdr=credit)
    assert credit_line.invoice == invoice
    assert credit_line.amount_incl_tax == Decimal("-11.90")
    assert credit_line.description.startswith("Credit for charging session at CS-DEMO-1 on")
    assert invoice.total_incl_tax == 0


def test_an_invoice_of_credits_only_is_a_negative_credit_note_numbered_in_sequence(org, station):
    charge = make_cdr(station, card=IdTokenFactory(organization=org), excl="10.00")
    close_period(org, JAN, FEB)
    make_credit(charge, at=IN_FEB)

    close_period(org, FEB, MAR)

    first, credit_note = invoices_of(org)
    assert credit_note.sequence == first.sequence + 1
    assert (credit_note.total_excl_tax, credit_note.tax_amount, credit_note.total_incl_tax) == (
        Decimal("-10.00"),
        Decimal("-1.90"),
        Decimal("-11.90"),
    )
    assert credit_note.tax_breakdown == [{"rate": "19.00", "base": "-10.00", "tax": "-1.90"}]


# Closing twice --------------------------------------------------------------------------------


def test_closing_a_period_twice_returns_the_same_period_and_writes_nothing(org, station):
    make_cdr(station, card=IdTokenFactory(organization=org))
    first = close_period(org, JAN, FEB)
    make_cdr(station, at=IN_JAN + timedelta(days=2), card=IdTokenFactory(organization=org))

    again = close_period(org, JAN, FEB)

    assert again.pk == first.pk
    assert again.invoice_count == 1
    assert BillingPeriod.objects.for_org(org).count() == 1
    assert Invoice.objects.for_org(org).count() == 1
    assert InvoiceLine.objects.for_org(org).count() == 1


def test_a_cdr_cannot_get_a_second_invoice_line(org, station):
    cdr = make_cdr(station, card=IdTokenFactory(organization=org))
    close_period(org, JAN, FEB)
    invoice = Invoice.objects.for_org(org).get()

    with pytest.raises(IntegrityError), transaction.atomic():
        InvoiceLine.objects.create(invoice=invoice, cdr=cdr, description="Twice")


def _wait_for_a_backend_blocked_on_a_lock():
    """Return once another PostgreSQL session waits for a lock; fail if none does."""
    deadline = time.monotonic() + 10
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            # pg_stat_activity is a snapshot per transaction; this test's one is still open.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)
    pytest.fail("The second close never waited for the first one's lock.")


def _close_in_a_thread(org, start, end):
    """Start close_period on its own connection; the result dict gets 'period' or 'error'."""
    result = {}

    def run():
        try:
            result["period"] = close_period(org, start, end)
        except Exception as error:
            result["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, result


def _require_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip(
            "Needs PostgreSQL: SQLite has no row locks (select_for_update is a no-op) and "
            "serializes whole-database writes instead, so there is no race to observe."
        )


@pytest.mark.django_db(transaction=True)
def test_a_close_racing_the_same_close_waits_and_returns_its_period(org, station):
    _require_postgresql()
    make_cdr(station, card=IdTokenFactory(organization=org))

    with transaction.atomic():
        first = close_period(org, JAN, FEB)
        # Until this block commits, the first close holds the organization lock.
        thread, result = _close_in_a_thread(org, JAN, FEB)
        _wait_for_a_backend_blocked_on_a_lock()
    thread.join(timeout=30)

    assert not thread.is_alive()
    assert "error" not in result, result.get("error")
    assert result["period"].pk == first.pk
    assert Invoice.objects.for_org(org).count() == 1
    assert InvoiceLine.objects.for_org(org).count() == 1


@pytest.mark.django_db(transaction=True)
def test_closes_of_two_periods_racing_get_consecutive_numbers(org, station):
    _require_postgresql()
    make_cdr(station, card=IdTokenFactory(organization=org))
    make_cdr(station, at=IN_FEB, card=IdTokenFactory(organization=org))

    with transaction.atomic():
        close_period(org, JAN, FEB)
        thread, result = _close_in_a_thread(org, FEB, MAR)
        _wait_for_a_backend_blocked_on_a_lock()
    thread.join(timeout=30)

    assert not thread.is_alive()
    assert "error" not in result, result.get("error")
    assert [i.sequence for i in invoices_of(org)] == [1, 2]


# Which records, on which invoice --------------------------------------------------------------


def test_zero_total_cdrs_are_never_invoiced(org, station):
    card = IdTokenFactory(organization=org)
    free = make_cdr(station, card=card, excl="0.00")
    make_cdr(station, card=IdTokenFactory(organization=org), excl="0.00")

    period = close_period(org, JAN, FEB)

    assert period.invoice_count == 0
    assert not Invoice.objects.for_org(org).exists()
    assert not InvoiceLine.objects.filter(cdr=free).exists()


def test_cdrs_accounted_after_the_period_end_wait_for_the_next_period(org, station):
    card = IdTokenFactory(organization=org)
    # 23:30 UTC on 31 January is already February in Berlin.
    after = make_cdr(station, card=card, at=datetime(2026, 1, 31, 23, 30, tzinfo=UTC))

    close_period(org, JAN, FEB)
    assert not InvoiceLine.objects.filter(cdr=after).exists()
    close_period(org, FEB, MAR)

    assert InvoiceLine.objects.get(cdr=after).invoice.period_start == FEB


def test_a_late_cdr_of_an_earlier_period_lands_in_the_next_close(org, station):
    card = IdTokenFactory(organization=org)
    close_period(org, JAN, FEB)
    # Rated after January was closed, e.g. the station sent its transaction late.
    late = make_cdr(station, card=card, at=IN_JAN)

    close_period(org, FEB, MAR)

    invoice = InvoiceLine.objects.get(cdr=late).invoice
    assert (invoice.period_start, invoice.period_end) == (FEB, MAR)


def test_cdrs_are_grouped_per_card(org, station):
    erika = IdTokenFactory(organization=org, holder_name="Erika", holder_email="e@example.com")
    max_ = IdTokenFactory(organization=org, holder_name="Max")
    erikas = {make_cdr(station, card=erika).pk, make_cdr(station, card=erika).pk}
    maxs = {make_cdr(station, card=max_).pk}

    close_period(org, JAN, FEB)

    by_card = {i.id_token_id: i for i in invoices_of(org)}
    assert set(by_card) == {erika.pk, max_.pk}
    assert invoiced_cdr_ids(by_card[erika.pk]) == erikas
    assert invoiced_cdr_ids(by_card[max_.pk]) == maxs
    assert (by_card[erika.pk].holder_name, by_card[erika.pk].holder_email) == (
        "Erika",
        "e@example.com",
    )


def test_roaming_cdrs_are_grouped_per_partner_whatever_the_card(org, station):
    partner = make_partner(org)
    card = IdTokenFactory(organization=org)
    roaming = {
        make_cdr(station, partner=partner).pk,
        make_cdr(station, partner=partner, card=card).pk,
    }
    own = make_cdr(station, card=card)

    close_period(org, JAN, FEB)

    partner_invoice = Invoice.objects.for_org(org).get(roaming_partner=partner)
    assert partner_invoice.id_token is None
    assert partner_invoice.holder_name == "Plugsurfing"
    assert invoiced_cdr_ids(partner_invoice) == roaming
    assert InvoiceLine.objects.get(cdr=own).invoice.roaming_partner is None


def test_cdrs_are_grouped_per_currency(org, station):
    card = IdTokenFactory(organization=org)
    euro = make_cdr(station, card=card, currency="EUR")
    franc = make_cdr(station, card=card, currency="CHF")

    close_period(org, JAN, FEB)

    by_currency = {i.currency: i for i in invoices_of(org)}
    assert set(by_currency) == {"EUR", "CHF"}
    assert invoiced_cdr_ids(by_currency["EUR"]) == {euro.pk}
    assert invoiced_cdr_ids(by_currency["CHF"]) == {franc.pk}


def test_cdrs_without_card_or_partner_are_invoiced_per_id_tag(org, station):
    first = make_cdr(station, id_tag="UNKNOWN1")
    second = make_cdr(station, id_tag="UNKNOWN1")
    other = make_cdr(station, id_tag="UNKNOWN2")

    close_period(org, JAN, FEB)

    by_holder = {i.holder_name: i for i in invoices_of(org)}
    assert set(by_holder) == {"UNKNOWN1", "UNKNOWN2"}
    assert invoiced_cdr_ids(by_holder["UNKNOWN1"]) == {first.pk, second.pk}
    assert invoiced_cdr_ids(by_holder["UNKNOWN2"]) == {other.pk}
    assert by_holder["UNKNOWN1"].id_token is None
    assert by_holder["UNKNOWN1"].roaming_partner is None


def test_an_outsider_organizations_cdrs_never_appear_on_this_organizations_invoices(
    org, other_org, station
):
    outsider_station = ChargingStationFactory(organization=other_org)
    outsider_cdr = make_cdr(outsider_station, card=IdTokenFactory(organization=other_org))
    own = make_cdr(station, card=IdTokenFactory(organization=org))

    close_period(org, JAN, FEB)

    assert InvoiceLine.objects.for_org(org).get().cdr == own
    assert not InvoiceLine.objects.filter(cdr=outsider_cdr).exists()
    assert not Invoice.objects.for_org(other_org).exists()
    assert not BillingPeriod.objects.for_org(other_org).exists()


def test_invoice_keeps_a_snapshot_of_the_issuer_and_the_period(org, station):
    org.billing_address = "Hauptstr. 1\n10115 Berlin"
    org.vat_id = "DE123456789"
    org.contact_email = "billing@stadtwerke.example"
    org.save()
    make_cdr(station, card=IdTokenFactory(organization=org))

    period = close_period(org, JAN, FEB)
    org.name = "Renamed GmbH"
    org.save()

    invoice = Invoice.objects.for_org(org).get()
    assert invoice.issuer == {
        "name": "Stadtwerke Demo",
        "billing_address": "Hauptstr. 1\n10115 Berlin",
        "vat_id": "DE123456789",
        "contact_name": org.contact_name,
        "contact_email": "billing@stadtwerke.example",
        "contact_phone": org.contact_phone,
    }
    assert invoice.billing_period == period
    assert (invoice.period_start, invoice.period_end) == (JAN, FEB)
    assert (period.start, period.end, period.invoice_count) == (JAN, FEB, 1)


def test_a_rated_session_is_invoiced_at_its_cdr_total(org, station):
    tariff = TariffFactory(organization=org)  # 0.39 per kWh excl. 19 % tax
    TariffAssignment.objects.create(
        organization=org, tariff=tariff, scope=AssignmentScope.ORGANIZATION
    )
    card = IdTokenFactory(organization=org)
    session = ChargingSessionFactory(
        station=station,
        id_token=card,
        id_tag=card.uid,
        start=IN_JAN,
        stop=IN_JAN + timedelta(hours=1),
        state=SessionState.COMPLETED,
        meter_start=0,
        meter_stop=20_000,
        energy_wh=20_000,
    )
    cdr = rate_session(session.pk)

    close_period(org, JAN, FEB)

    line = InvoiceLine.objects.get(cdr=cdr)
    assert line.amount_incl_tax == cdr.total_incl_tax == Decimal("9.28")  # 7.80 + 1.48
    assert line.invoice.id_token == card


def test_closing_fifty_records_of_five_accounts_takes_a_fixed_number_of_queries(
    org, station, django_assert_max_num_queries
):
    cards = [IdTokenFactory(organization=org) for _ in range(5)]
    for number in range(50):
        make_cdr(station, card=cards[number % 5], at=IN_JAN + timedelta(minutes=number))

    # Lock, closed check, records, period, last number, invoices, lines, plus the savepoint
    # pair: the same budget would hold for 5 records or 5,000 (lines are bulk-inserted).
    with django_assert_max_num_queries(9):
        close_period(org, JAN, FEB)

    assert InvoiceLine.objects.for_org(org).count() == 50
    assert Invoice.objects.for_org(org).count() == 5


# Closing what is due --------------------------------------------------------------------------


def test_close_due_periods_closes_every_ended_period_but_not_the_running_one(org, station):
    card = IdTokenFactory(organization=org)
    make_cdr(station, card=card, at=IN_JAN)
    make_cdr(station, card=card, at=IN_FEB)
    running = make_cdr(station, card=card, at=IN_MAR)

    closed = close_due_periods(now=IN_MAR + timedelta(days=1))

    assert [(p.start, p.end) for p in closed] == [(JAN, FEB), (FEB, MAR)]
    assert not BillingPeriod.objects.for_org(org).filter(start=MAR).exists()
    assert not InvoiceLine.objects.filter(cdr=running).exists()


def test_close_due_periods_closes_a_period_that_ended_exactly_now(org, station):
    make_cdr(station, card=IdTokenFactory(organization=org), at=IN_JAN)

    closed = close_due_periods(now=FEB)

    assert [(p.start, p.end) for p in closed] == [(JAN, FEB)]


def test_close_due_periods_closes_nothing_twice(org, station):
    make_cdr(station, card=IdTokenFactory(organization=org), at=IN_JAN)
    close_due_periods(now=IN_MAR)

    assert close_due_periods(now=IN_MAR) == []
    assert BillingPeriod.objects.for_org(org).count() == 2
    assert Invoice.objects.for_org(org).count() == 1


def test_close_due_periods_continues_after_the_last_closed_period(org, station):
    card = IdTokenFactory(organization=org)
    close_period(org, JAN, FEB)
    late = make_cdr(station, card=card, at=IN_JAN)

    closed = close_due_periods(now=APR)

    # February is closed even though nothing was accounted in it: the late January record.
    assert [(p.start, p.end) for p in closed] == [(FEB, MAR), (MAR, APR)]
    assert InvoiceLine.objects.get(cdr=late).invoice.billing_period == closed[0]


def test_close_due_periods_leaves_organizations_without_records_alone(org, other_org, station):
    make_cdr(station, card=IdTokenFactory(organization=org), excl="0.00")

    assert close_due_periods(now=APR) == []
    assert not BillingPeriod.objects.exists()


def test_close_due_periods_follows_each_organizations_period_length(org, other_org, station):
    other_org.billing_period = BillingPeriodLength.WEEKLY
    other_org.save()
    make_cdr(station, card=IdTokenFactory(organization=org), at=IN_JAN)
    outsider_station = ChargingStationFactory(organization=other_org)
    # Saturday 10 January; the week closes on Monday 12 January 00:00 Berlin.
    make_cdr(outsider_station, card=IdTokenFactory(organization=other_org), at=IN_JAN)

    close_due_periods(now=datetime(2026, 1, 20, tzinfo=UTC))

    assert not BillingPeriod.objects.for_org(org).exists()
    assert [(p.start, p.end) for p in BillingPeriod.objects.for_org(other_org)] == [
        (datetime(2026, 1, 11, 23, tzinfo=UTC), datetime(2026, 1, 18, 23, tzinfo=UTC)),
        (datetime(2026, 1, 4, 23, tzinfo=UTC), datetime(2026, 1, 11, 23, tzinfo=UTC)),
    ]


def test_after_a_switch_to_weekly_the_first_week_starts_where_the_last_month_ended(org, station):
    close_period(org, JAN, FEB)
    org.billing_period = BillingPeriodLength.WEEKLY
    org.save()

    closed = close_due_periods(now=datetime(2026, 2, 10, tzinfo=UTC))

    # 1 February 2026 is a Sunday: a one-day period up to Monday, then a full week.
    assert [(p.start, p.end) for p in closed] == [
        (FEB, datetime(2026, 2, 1, 23, tzinfo=UTC)),
        (datetime(2026, 2, 1, 23, tzinfo=UTC), datetime(2026, 2, 8, 23, tzinfo=UTC)),
    ]
