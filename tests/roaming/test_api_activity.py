"""/api/v1/roaming-activity/: fields of both roles, filters, ordering, read-only, tenancy."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from organizations.choices import Role
from roaming.choices import OurRole
from roaming.models import RoamingActivity, RoamingPartner
from tests.apiclients import client_as
from tests.factories import SiteFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/roaming-activity/"
MARCH_2 = date(2026, 3, 2)


@pytest.fixture
def viewer(org):
    return client_as(org, Role.VIEWER)


@pytest.fixture
def partner(org):
    return RoamingPartner.objects.create(
        organization=org, name="Hubject", country_code="DE", party_id="HBJ"
    )


@pytest.fixture
def site(org):
    return SiteFactory(organization=org, name="Depot")


def make_activity(partner, site, day, **fields):
    if site is not None:
        fields.setdefault("location_id", str(site.pk))
        fields.setdefault("location_name", site.name)
    return RoamingActivity.objects.create(
        organization=partner.organization, partner=partner, site=site, date=day, **fields
    )


def ids(response):
    assert response.status_code == 200, response.data
    return [row["id"] for row in response.data["results"]]


def test_a_day_of_activity_shows_partner_site_and_totals(viewer, org, partner, site):
    activity = make_activity(
        partner, site, MARCH_2, sessions=3, energy_wh=30000, revenue=Decimal("12.5")
    )
    assert viewer.get(f"{LIST}{activity.pk}/").data == {
        "id": activity.pk,
        "organization": org.pk,
        "partner": partner.pk,
        "partner_name": "Hubject",
        "role": "CPO",
        "site": site.pk,
        "site_name": "Depot",
        "location_id": str(site.pk),
        "location_name": "Depot",
        "date": "2026-03-02",
        "sessions": 3,
        "energy_wh": 30000,
        "revenue": "12.5000",
        "currency": "EUR",
    }


def test_every_day_is_listed_newest_first_unless_narrowed(viewer, partner, site):
    # The portal shows the last 30 days; the API leaves the range to the client.
    long_ago = make_activity(partner, site, date.today() - timedelta(days=400))
    today = make_activity(partner, site, date.today())
    assert ids(viewer.get(LIST)) == [today.pk, long_ago.pk]


def test_activity_orders_by_date_ascending_on_request(viewer, partner, site):
    later = make_activity(partner, site, MARCH_2)
    earlier = make_activity(partner, site, MARCH_2 - timedelta(days=1))
    assert ids(viewer.get(LIST, {"ordering": "date"})) == [earlier.pk, later.pk]


def test_activity_filters_by_partner(viewer, org, partner, site):
    make_activity(partner, site, MARCH_2)
    other = RoamingPartner.objects.create(
        organization=org, name="Gireve", country_code="FR", party_id="GIR"
    )
    wanted = make_activity(other, site, MARCH_2)
    assert ids(viewer.get(LIST, {"partner": other.pk})) == [wanted.pk]


def test_activity_filters_by_site(viewer, org, partner, site):
    make_activity(partner, site, MARCH_2)
    other_site = SiteFactory(organization=org)
    wanted = make_activity(partner, other_site, MARCH_2)
    assert ids(viewer.get(LIST, {"site": other_site.pk})) == [wanted.pk]


def test_the_date_range_is_half_open(viewer, partner, site):
    first = make_activity(partner, site, date(2026, 3, 1))
    second = make_activity(partner, site, MARCH_2)
    make_activity(partner, site, date(2026, 3, 3))
    found = ids(viewer.get(LIST, {"date_after": "2026-03-01", "date_before": "2026-03-03"}))
    assert found == [second.pk, first.pk]


def test_a_partner_of_another_organization_in_a_filter_is_a_400(viewer, other_org, partner):
    theirs = RoamingPartner.objects.create(
        organization=other_org, name="Theirs", country_code="DE", party_id="THR"
    )
    response = viewer.get(LIST, {"partner": theirs.pk})
    assert response.status_code == 400
    assert "partner" in response.data


def test_a_malformed_date_is_a_400(viewer):
    response = viewer.get(LIST, {"date_after": "2026-13-01"})
    assert response.status_code == 400
    assert "date_after" in response.data


def test_activity_is_read_only(org, partner, site):
    owner = client_as(org, Role.OWNER)
    activity = make_activity(partner, site, MARCH_2, sessions=3)
    response = owner.patch(f"{LIST}{activity.pk}/", {"sessions": 99}, format="json")
    assert response.status_code == 405
    assert owner.delete(f"{LIST}{activity.pk}/").status_code == 405
    activity.refresh_from_db()
    assert activity.sessions == 3


def test_an_outsider_sees_no_activity_of_ours(other_org, partner, site):
    activity = make_activity(partner, site, MARCH_2)
    outsider = client_as(other_org, Role.OWNER)
    assert outsider.get(LIST).data["results"] == []
    assert outsider.get(f"{LIST}{activity.pk}/").status_code == 404


def test_a_day_of_our_drivers_at_a_partners_location_has_no_site(viewer, partner):
    activity = make_activity(
        partner,
        None,
        MARCH_2,
        role=OurRole.EMSP,
        location_id="NLDCN-AMS-01",
        location_name="Amsterdam Zuidas",
        sessions=1,
        energy_wh=12500,
        revenue=Decimal("9.00"),
    )
    data = viewer.get(f"{LIST}{activity.pk}/").data
    assert (data["role"], data["site"], data["site_name"]) == ("EMSP", None, None)
    assert (data["location_id"], data["location_name"]) == ("NLDCN-AMS-01", "Amsterdam Zuidas")


def test_the_activity_list_reads_in_a_fixed_number_of_queries(
    viewer, org, django_assert_max_num_queries
):
    for number in range(6):
        partner = RoamingPartner.objects.create(
            organization=org, name=f"P{number}", country_code="NL", party_id=f"P{number:02d}"
        )
        make_activity(partner, SiteFactory(organization=org), MARCH_2)
        make_activity(partner, None, MARCH_2, role=OurRole.EMSP, location_id="L1")
    with django_assert_max_num_queries(6):
        assert len(ids(viewer.get(LIST))) == 12
