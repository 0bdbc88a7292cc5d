"""Portal: roaming activity of the last 30 days, for the organization and for one site."""

from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from organizations.choices import Role
from roaming.models import RoamingActivity, RoamingPartner
from tests.factories import SiteFactory
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


def totals(response) -> dict[str, tuple]:
    """Partner name -> (sessions, energy Wh, revenue, currency) of the totals table."""
    assert response.status_code == 200, response.content[:500]
    return {
        row["partner__name"]: (row["sessions"], row["energy_wh"], row["revenue"], row["currency"])
        for row in response.context["partner_totals"]
    }


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
    assert [(t["sessions"], t["energy_wh"]) for t in response.context["totals"]] == [(5, 21000)]


def test_money_in_different_currencies_is_never_added_up(org, hubject, site, viewer):
    activity(hubject, site, 1, revenue="10")
    activity(hubject, site, 2, revenue="30", currency="SEK")
    rows = viewer.get(org_url(org, "roaming/")).context["totals"]
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
    # Session, user, membership, the totals, the count, the page, the header's switcher.
    with django_assert_max_num_queries(7):
        response = viewer.get(org_url(org, "roaming/"))
    assert len(response.context["days"]) == 50
    assert len(totals(response)) == 6
