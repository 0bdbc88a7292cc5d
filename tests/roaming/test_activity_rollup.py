"""The roaming activity rollup: real roaming sessions and partners' CDRs per partner, location,
role and local day; idempotent; the only writer of RoamingActivity."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.choices import CdrKind
from billing.models import ChargeDetailRecord
from roaming import activity
from roaming.choices import OurRole, PartnerRole
from roaming.models import PartnerCdr, PartnerLocation, RoamingActivity, RoamingPartner
from roaming.tasks import roll_up_activity
from sessions_app.choices import SessionState
from tests.factories import (
    ChargingSessionFactory,
    ChargingStationFactory,
    OrganizationFactory,
    SiteFactory,
    TariffFactory,
)

pytestmark = pytest.mark.django_db

# 10:00 in Berlin (CET) on March 2, 2026: the window of two days is March 1 and 2.
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MARCH_1 = date(2026, 3, 1)
MARCH_2 = date(2026, 3, 2)


@pytest.fixture
def partner(org):
    return RoamingPartner.objects.create(
        organization=org, name="Mobility NL", country_code="NL", party_id="MSP"
    )


@pytest.fixture
def cpo_partner(org):
    return RoamingPartner.objects.create(
        organization=org,
        name="Charge Net",
        country_code="NL",
        party_id="CPO",
        role=PartnerRole.CPO,
    )


@pytest.fixture
def site(org):
    return SiteFactory(organization=org, name="Depot")


@pytest.fixture
def station(org, site):
    return ChargingStationFactory(organization=org, site=site)


def roaming_session(station, partner, start, energy_wh=10_000, **fields):
    fields.setdefault("state", SessionState.COMPLETED)
    return ChargingSessionFactory(
        station=station,
        roaming_partner=partner,
        start=start,
        stop=start + timedelta(hours=1),
        energy_wh=energy_wh,
        **fields,
    )


def cdr(session, total, currency="EUR", kind=CdrKind.CHARGE, corrects=None):
    return ChargeDetailRecord.objects.create(
        organization=session.organization,
        session=session,
        kind=kind,
        corrects=corrects,
        roaming_partner=session.roaming_partner,
        currency=currency,
        energy_wh=session.energy_wh,
        total_incl_tax=Decimal(total),
    )


def partner_cdr(partner, ocpi_id, start, kwh="12.5", incl="9.00", excl="7.56", **fields):
    return PartnerCdr.objects.create(
        organization=partner.organization,
        partner=partner,
        country_code=partner.country_code,
        party_id=partner.party_id,
        ocpi_id=ocpi_id,
        start=start,
        end=start + timedelta(hours=1),
        kwh=Decimal(kwh),
        currency=fields.pop("currency", "EUR"),
        total_cost_excl_vat=Decimal(excl),
        total_cost_incl_vat=None if incl is None else Decimal(incl),
        last_updated=start,
        location_id=fields.pop("location_id", "LOC1"),
        location_name=fields.pop("location_name", "Amsterdam Zuidas"),
        **fields,
    )


def rows(organization=None):
    """(role, partner name, location id, date, sessions, Wh, revenue, currency) per row."""
    activity_rows = RoamingActivity.objects.all()
    if organization is not None:
        activity_rows = activity_rows.for_org(organization)
    return sorted(
        (
            row.role,
            row.partner.name,
            row.location_id,
            row.date,
            row.sessions,
            row.energy_wh,
            row.revenue,
            row.currency,
        )
        for row in activity_rows.select_related("partner")
    )


def test_partners_sessions_at_our_site_add_up_per_day_with_their_cdr_totals(
    org, partner, station, site
):
    first = roaming_session(station, partner, NOW - timedelta(hours=2), energy_wh=10_000)
    second = roaming_session(station, partner, NOW - timedelta(hours=1), energy_wh=5_500)
    cdr(first, "4.76")
    cdr(second, "2.62")

    activity.roll_up(org, now=NOW)

    assert rows() == [
        (
            OurRole.CPO,
            "Mobility NL",
            str(site.pk),
            MARCH_2,
            2,
            15_500,
            Decimal("7.38"),
            "EUR",
        )
    ]
    row = RoamingActivity.objects.get()
    assert (row.site, row.location_name) == (site, "Depot")


def test_sessions_without_a_partner_are_not_roaming_activity(org, partner, station):
    ChargingSessionFactory(station=station, start=NOW - timedelta(hours=1), energy_wh=9_000)
    activity.roll_up(org, now=NOW)
    assert rows() == []


def test_a_failed_session_is_not_counted(org, partner, station):
    roaming_session(station, partner, NOW - timedelta(hours=1), state=SessionState.FAILED)
    activity.roll_up(org, now=NOW)
    assert rows() == []


def test_a_session_not_rated_yet_counts_with_no_revenue_in_the_tariffs_currency(
    org, partner, station
):
    partner.tariff = TariffFactory(organization=org, currency="SEK")
    partner.save()
    roaming_session(station, partner, NOW - timedelta(hours=1), energy_wh=3_000)
    activity.roll_up(org, now=NOW)
    assert [(r[4], r[5], r[6], r[7]) for r in rows()] == [(1, 3_000, Decimal(0), "SEK")]


def test_a_credit_lowers_the_revenue_of_its_sessions_day(org, partner, station):
    session = roaming_session(station, partner, NOW - timedelta(hours=1))
    charge = cdr(session, "10.00")
    cdr(session, "-4.00", kind=CdrKind.CREDIT, corrects=charge)
    activity.roll_up(org, now=NOW)
    assert [(r[4], r[6]) for r in rows()] == [(1, Decimal("6.00"))]


def test_days_are_the_organizations_local_days(org, partner, station):
    # 23:30 UTC on March 1 is 00:30 on March 2 in Berlin; 22:30 UTC is still March 1 there.
    roaming_session(station, partner, datetime(2026, 3, 1, 23, 30, tzinfo=UTC))
    roaming_session(station, partner, datetime(2026, 3, 1, 22, 30, tzinfo=UTC))
    activity.roll_up(org, now=NOW)
    assert [(r[3], r[4]) for r in rows()] == [(MARCH_1, 1), (MARCH_2, 1)]


def test_each_partner_and_site_gets_its_own_row(org, partner, station, site):
    other_partner = RoamingPartner.objects.create(
        organization=org, name="Hubject", country_code="DE", party_id="HBJ"
    )
    other_station = ChargingStationFactory(
        organization=org, site=SiteFactory(organization=org, name="Garage")
    )
    roaming_session(station, partner, NOW - timedelta(hours=1))
    roaming_session(other_station, partner, NOW - timedelta(hours=1))
    roaming_session(station, other_partner, NOW - timedelta(hours=1))
    activity.roll_up(org, now=NOW)
    assert sorted((r[1], r[2]) for r in rows()) == sorted(
        [
            ("Hubject", str(site.pk)),
            ("Mobility NL", str(other_station.site_id)),
            ("Mobility NL", str(site.pk)),
        ]
    )


def test_our_drivers_at_a_partners_locations_come_from_its_cdrs(org, cpo_partner):
    partner_cdr(cpo_partner, "CDR1", NOW - timedelta(hours=3), kwh="12.3456", incl="9.00")
    partner_cdr(cpo_partner, "CDR2", NOW - timedelta(hours=2), kwh="0.5", incl="1.25")
    partner_cdr(
        cpo_partner, "CDR3", NOW - timedelta(hours=2), location_id="LOC2", location_name="Utrecht"
    )
    activity.roll_up(org, now=NOW)
    assert rows() == [
        (OurRole.EMSP, "Charge Net", "LOC1", MARCH_2, 2, 12_846, Decimal("10.25"), "EUR"),
        (OurRole.EMSP, "Charge Net", "LOC2", MARCH_2, 1, 12_500, Decimal("9.00"), "EUR"),
    ]
    names = dict(RoamingActivity.objects.values_list("location_id", "location_name"))
    assert names == {"LOC1": "Amsterdam Zuidas", "LOC2": "Utrecht"}
    assert not RoamingActivity.objects.filter(site__isnull=False).exists()


def test_a_partner_cdr_without_a_total_incl_vat_counts_its_total_excl_vat(org, cpo_partner):
    partner_cdr(cpo_partner, "CDR1", NOW - timedelta(hours=1), incl=None, excl="7.56")
    activity.roll_up(org, now=NOW)
    assert [r[6] for r in rows()] == [Decimal("7.56")]


def test_a_partner_cdr_without_a_location_name_takes_the_partners_location_name(org, cpo_partner):
    PartnerLocation.objects.create(
        organization=org,
        partner=cpo_partner,
        country_code="NL",
        party_id="CPO",
        ocpi_id="LOC9",
        name="Rotterdam Blaak",
        last_updated=NOW,
    )
    partner_cdr(cpo_partner, "CDR1", NOW - timedelta(hours=1), location_id="LOC9", location_name="")
    activity.roll_up(org, now=NOW)
    assert RoamingActivity.objects.get().location_name == "Rotterdam Blaak"


def test_money_in_different_currencies_makes_separate_rows(org, cpo_partner):
    partner_cdr(cpo_partner, "CDR1", NOW - timedelta(hours=2), incl="9.00")
    partner_cdr(cpo_partner, "CDR2", NOW - timedelta(hours=1), incl="95.00", currency="SEK")
    activity.roll_up(org, now=NOW)
    assert [(r[4], r[6], r[7]) for r in rows()] == [
        (1, Decimal("9.00"), "EUR"),
        (1, Decimal("95.00"), "SEK"),
    ]


def test_both_roles_with_one_hub_are_kept_apart(org, partner, station):
    roaming_session(station, partner, NOW - timedelta(hours=1))
    partner_cdr(partner, "CDR1", NOW - timedelta(hours=1))
    activity.roll_up(org, now=NOW)
    assert sorted(r[0] for r in rows()) == [OurRole.CPO, OurRole.EMSP]


def test_running_the_rollup_again_changes_nothing(org, partner, station, cpo_partner):
    cdr(roaming_session(station, partner, NOW - timedelta(hours=1)), "4.00")
    partner_cdr(cpo_partner, "CDR1", NOW - timedelta(hours=1))
    activity.roll_up(org, now=NOW)
    before = rows()
    activity.roll_up(org, now=NOW)
    assert rows() == before
    assert RoamingActivity.objects.count() == 2


def test_a_rerun_takes_in_what_changed_and_drops_what_went(org, partner, station):
    kept = roaming_session(station, partner, NOW - timedelta(hours=2))
    gone = roaming_session(station, partner, NOW - timedelta(hours=1))
    activity.roll_up(org, now=NOW)
    gone.delete()
    cdr(kept, "3.00")
    activity.roll_up(org, now=NOW)
    assert [(r[4], r[6]) for r in rows()] == [(1, Decimal("3.00"))]


def test_days_outside_the_window_are_left_alone(org, partner, station, site):
    old = RoamingActivity.objects.create(
        organization=org,
        partner=partner,
        site=site,
        location_id=str(site.pk),
        date=MARCH_1 - timedelta(days=5),
        sessions=7,
    )
    activity.roll_up(org, days=2, now=NOW)
    old.refresh_from_db()
    assert old.sessions == 7


def test_an_older_session_rated_late_is_recomputed(org, partner, station):
    # Rated (its CDR written) within the window, though the session began a week ago.
    week_ago = NOW - timedelta(days=7)
    session = roaming_session(station, partner, week_ago)
    activity.roll_up(org, days=2, now=week_ago + timedelta(hours=2))
    cdr(session, "5.00")
    activity.roll_up(org, days=2, now=NOW)
    assert [(r[3], r[6]) for r in rows()] == [(week_ago.date(), Decimal("5.00"))]


def test_an_older_partner_cdr_received_late_is_counted(org, cpo_partner):
    partner_cdr(cpo_partner, "CDR1", NOW - timedelta(days=10))
    activity.roll_up(org, days=2, now=NOW)
    assert [(r[3], r[4]) for r in rows()] == [((NOW - timedelta(days=10)).date(), 1)]


def test_another_organizations_sessions_never_count_for_us(org, other_org, partner, station):
    theirs = RoamingPartner.objects.create(
        organization=other_org, name="Theirs", country_code="DE", party_id="THR"
    )
    roaming_session(ChargingStationFactory(organization=other_org), theirs, NOW)
    roaming_session(station, partner, NOW - timedelta(hours=1))
    activity.roll_up(org, now=NOW)
    assert [r[1] for r in rows()] == ["Mobility NL"]
    assert rows(other_org) == []


def test_the_task_rolls_up_every_organization_with_partners(org, partner, station):
    other = OrganizationFactory()
    their_partner = RoamingPartner.objects.create(
        organization=other, name="Theirs", country_code="DE", party_id="THR"
    )
    now = timezone.now()
    roaming_session(station, partner, now - timedelta(minutes=30))
    roaming_session(ChargingStationFactory(organization=other), their_partner, now)
    assert roll_up_activity() == 2
    assert rows(org)[0][1] == "Mobility NL"
    assert rows(other)[0][1] == "Theirs"


def test_the_task_can_roll_up_one_organization(org, partner, station):
    other = OrganizationFactory()
    their_partner = RoamingPartner.objects.create(
        organization=other, name="Theirs", country_code="DE", party_id="THR"
    )
    now = timezone.now()
    roaming_session(ChargingStationFactory(organization=other), their_partner, now)
    roaming_session(station, partner, now - timedelta(minutes=30))
    assert roll_up_activity(organization_id=org.pk) == 1
    assert rows(other) == []


def test_every_day_since_the_first_roaming_session_can_be_recomputed(org, partner, station):
    long_ago = NOW - timedelta(days=90)
    roaming_session(station, partner, long_ago)
    roaming_session(station, partner, NOW - timedelta(hours=1))
    activity.roll_up_every_day(org, now=NOW)
    assert [r[3] for r in rows()] == [long_ago.date(), MARCH_2]
