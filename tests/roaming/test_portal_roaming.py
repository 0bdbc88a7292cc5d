"""Portal: roaming activity of the last 30 days (both roles), for the organization and one site;
roaming sessions marked with their partner in the sessions pages."""

from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from organizations.choices import Role
from roaming.choices import OurRole
from roaming.models import RoamingActivity, RoamingPartner
from tests.factories import ChargingSessionFactory, ChargingStationFactory, SiteFactory
from tests.portalclients import ROLES, org_url, portal_client

pytestmark = pytest.mark.django_db


def today() -> date:
    """Today in the test organization's time zone (Europe/Berlin, the model's default)."""
    return timezone.now().astimezone(ZoneInfo("Europe/Berlin")).date()


def partner(organization, name, party_id):
    return RoamingPartner.objects.create(
        organization=organization, name=name, country_code="DE", party_id=party_id
    )


def activity(partner, site, days_ago, sessions=1, energy_wh=10000, revenue="5", **fields):
    """A CPO day at our site, or with `site=None` and a `location_id` an eMSP day."""
    if site is not None:
        fields.setdefault("location_id", str(site.pk))
        fields.setdefault("location_name", site.name)
    else:
        fields.setdefault("role", OurRole.EMSP)
    return RoamingActivity.objects.create(
        organization=partner.organization,
        partner=partner,
        site=site,
        date=today() - timedelta(days=days_ago),
        sessions=sessions,
        energy_wh=energy_wh,
        revenue=Decimal(revenue),
        **fields,
    )


def totals(response, role=OurRole.CPO) -> dict[str, tuple]:
    """Partner name -> (sessions, energy Wh, revenue, currency) of one role's totals table."""
    assert response.status_code == 200, response.content[:500]
    return {
        row["partner__name"]: (row["sessions"], row["energy_wh"], row["revenue"], row["currency"])
        for row in response.context["partner_totals"]
        if row["role"] == role
    }


def section(response, role) -> dict:
    return next(part for part in response.context["sections"] if part["role"] == role)


@pytest.fixture
def site(org):
    return SiteFactory(organization=org, name="Depot")


@pytest.fixture
def hubject(org):
    return partner(org, "Hubject", "HBJ")


@pytest.fixture
def viewer(org):
    return portal_client(org, Role.VIEWER)


@pytest.mark.parametrize("role", ROLES)
def test_roaming_activity_renders_for_every_role(org, hubject, site, role):
    activity(hubject, site, 1)
    response = portal_client(org, role).get(org_url(org, "roaming/"))
    assert "Hubject" in totals(response)
    assert response.context["section"] == "roaming"


@pytest.mark.parametrize("role", ROLES)
def test_site_roaming_tab_renders_for_every_role(org, hubject, site, role):
    activity(hubject, site, 1)
    response = portal_client(org, role).get(org_url(org, f"sites/{site.pk}/roaming/"))
    assert "Hubject" in totals(response)
    assert response.context["tab"] == "roaming"


def test_another_organizations_site_roaming_tab_is_404(org, other_org, viewer):
    theirs = SiteFactory(organization=other_org)
    assert viewer.get(org_url(org, f"sites/{theirs.pk}/roaming/")).status_code == 404


def test_an_outsider_gets_404_for_the_roaming_pages(org, other_org, site):
    outsider = portal_client(other_org, Role.OWNER)
    assert outsider.get(org_url(org, "roaming/")).status_code == 404
    assert outsider.get(org_url(org, f"sites/{site.pk}/roaming/")).status_code == 404


def test_totals_add_up_each_partners_days_and_sites(org, hubject, site, viewer):
    gireve = partner(org, "Gireve", "GIR")
    other_site = SiteFactory(organization=org)
    activity(hubject, site, 1, sessions=2, energy_wh=20000, revenue="8.50")
    activity(hubject, site, 3, sessions=1, energy_wh=5000, revenue="2.25")
    activity(hubject, other_site, 1, sessions=4, energy_wh=1000, revenue="1")
    activity(gireve, site, 2, sessions=3, energy_wh=30000, revenue="12")
    assert totals(viewer.get(org_url(org, "roaming/"))) == {
        "Gireve": (3, 30000, Decimal("12"), "EUR"),
        "Hubject": (7, 26000, Decimal("11.75"), "EUR"),
    }


def test_the_page_shows_the_partner_totals_and_the_grand_total(org, hubject, site, viewer):
    activity(hubject, site, 1, sessions=2, energy_wh=20000, revenue="8.50")
    activity(partner(org, "Gireve", "GIR"), site, 1, sessions=3, energy_wh=1000, revenue="1")
    response = viewer.get(org_url(org, "roaming/"))
    body = response.content.decode()
    assert "DE*HBJ" in body
    assert "9.50 EUR" in body
    totals_of_cpo = section(response, OurRole.CPO)["totals"]
    assert [(t["sessions"], t["energy_wh"]) for t in totals_of_cpo] == [(5, 21000)]


def test_money_in_different_currencies_is_never_added_up(org, hubject, site, viewer):
    activity(hubject, site, 1, revenue="10")
    activity(hubject, site, 2, revenue="30", currency="SEK")
    rows = section(viewer.get(org_url(org, "roaming/")), OurRole.CPO)["totals"]
    assert [(row["currency"], row["revenue"]) for row in rows] == [
        ("EUR", Decimal("10")),
        ("SEK", Decimal("30")),
    ]


def test_the_window_is_the_last_30_days_today_included(org, hubject, site, viewer):
    activity(hubject, site, 0, sessions=1)
    activity(hubject, site, 29, sessions=10)
    activity(hubject, site, 30, sessions=100)
    activity(hubject, site, 90, sessions=1000)
    response = viewer.get(org_url(org, "roaming/"))
    assert totals(response)["Hubject"][0] == 11
    assert [day.date for day in response.context["days"]] == [
        today(),
        today() - timedelta(days=29),
    ]


def test_another_organizations_activity_is_not_shown(org, other_org, hubject, site, viewer):
    activity(hubject, site, 1)
    activity(partner(other_org, "Their hub", "THB"), SiteFactory(organization=other_org), 1)
    assert list(totals(viewer.get(org_url(org, "roaming/")))) == ["Hubject"]


def test_the_site_tab_shows_only_the_sites_activity(org, hubject, site, viewer):
    activity(hubject, site, 1, sessions=2)
    activity(hubject, SiteFactory(organization=org), 1, sessions=5)
    response = viewer.get(org_url(org, f"sites/{site.pk}/roaming/"))
    assert totals(response)["Hubject"][0] == 2
    assert len(response.context["days"]) == 1


def test_the_page_links_to_the_roaming_sessions_of_the_window(org, hubject, site, viewer):
    body = viewer.get(org_url(org, "roaming/")).content.decode()
    first = (today() - timedelta(days=29)).isoformat()
    assert f'href="{org_url(org, "sessions/")}?auth_method=roaming&amp;date_from={first}"' in body


def test_roaming_activity_reads_in_a_fixed_number_of_queries(
    org, hubject, site, viewer, django_assert_max_num_queries
):
    partners = [hubject] + [partner(org, f"Partner {n}", f"P{n:02d}") for n in range(5)]
    sites = [site] + [SiteFactory(organization=org) for _ in range(3)]
    for day in range(10):
        for one in partners:
            for place in sites:
                activity(one, place, day)
            activity(one, None, day, location_id="LOC1", location_name="Amsterdam")
    # Session, user, membership, the totals, the count, the page, the header's switcher.
    with django_assert_max_num_queries(7):
        response = viewer.get(org_url(org, "roaming/"))
    assert len(response.context["days"]) == 50
    assert len(totals(response)) == len(totals(response, OurRole.EMSP)) == 6


def test_our_drivers_at_partners_locations_are_a_section_of_their_own(org, hubject, site, viewer):
    activity(hubject, site, 1, sessions=2, revenue="8")
    activity(hubject, None, 1, sessions=1, revenue="3", location_id="LOC1", location_name="Zuidas")
    response = viewer.get(org_url(org, "roaming/"))
    assert totals(response, OurRole.EMSP) == {"Hubject": (1, 10000, Decimal("3"), "EUR")}
    # What partners owe us and what we owe them are never added up.
    assert [t["revenue"] for t in section(response, OurRole.CPO)["totals"]] == [Decimal("8")]
    assert [t["revenue"] for t in section(response, OurRole.EMSP)["totals"]] == [Decimal("3")]
    body = response.content.decode()
    assert "Our drivers at partners&#x27; locations" in body
    assert "Zuidas" in body


def test_the_site_tab_shows_only_partners_drivers_at_the_site(org, hubject, site, viewer):
    activity(hubject, site, 1, sessions=2)
    activity(hubject, None, 1, sessions=5, location_id="LOC1")
    response = viewer.get(org_url(org, f"sites/{site.pk}/roaming/"))
    assert [part["role"] for part in response.context["sections"]] == [OurRole.CPO]
    assert [day.role for day in response.context["days"]] == [OurRole.CPO]


def test_a_partner_row_links_to_the_partners_page(org, hubject, site, viewer):
    activity(hubject, site, 1)
    body = viewer.get(org_url(org, "roaming/")).content.decode()
    assert f'href="{org_url(org, f"roaming/partners/{hubject.pk}/")}"' in body


def finished_session(station, **fields):
    """A completed session (a connector has at most one active session)."""
    start = timezone.now() - timedelta(hours=2)
    return ChargingSessionFactory(
        station=station, state="completed", start=start, stop=start + timedelta(hours=1), **fields
    )


@pytest.fixture
def roaming_session(org, hubject, site):
    station = ChargingStationFactory(organization=org, site=site)
    return finished_session(
        station, roaming_partner=hubject, id_tag="DEHBJC12345", auth_method="roaming"
    )


def test_the_session_list_marks_roaming_sessions_with_their_partner(org, roaming_session, viewer):
    finished_session(roaming_session.station)
    body = viewer.get(org_url(org, "sessions/")).content.decode()
    assert body.count("data-roaming-partner=") == 1
    assert f'data-roaming-partner="{roaming_session.roaming_partner_id}"' in body
    assert "Hubject" in body


def test_the_sites_session_list_marks_roaming_sessions(org, site, roaming_session, viewer):
    body = viewer.get(org_url(org, f"sites/{site.pk}/sessions/")).content.decode()
    assert f'data-roaming-partner="{roaming_session.roaming_partner_id}"' in body


def test_the_session_page_names_and_links_its_roaming_partner(org, roaming_session, viewer):
    body = viewer.get(org_url(org, f"sessions/{roaming_session.pk}/")).content.decode()
    partner_url = org_url(org, f"roaming/partners/{roaming_session.roaming_partner_id}/")
    assert f'<a href="{partner_url}">Hubject</a>' in body


def test_marking_roaming_partners_costs_no_query_per_session(
    org, hubject, site, viewer, django_assert_max_num_queries
):
    station = ChargingStationFactory(organization=org, site=site)
    partners = [hubject] + [partner(org, f"Partner {n}", f"R{n:02d}") for n in range(4)]

    def listed():
        with django_assert_max_num_queries(20) as captured:
            response = viewer.get(org_url(org, "sessions/"))
        assert response.status_code == 200
        return len(captured.captured_queries)

    for one in partners[:1]:
        finished_session(station, roaming_partner=one)
    few = listed()
    for one in partners[1:]:
        finished_session(station, roaming_partner=one)
    assert listed() == few
