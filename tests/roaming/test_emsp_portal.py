"""Portal pages of our eMSP role: charging abroad (CDRs, sessions, CSV) and partner locations."""

import csv
import io
from decimal import Decimal

import pytest

from organizations.choices import Role
from roaming.ocpi.v221.receiving import store_cdr, store_location, store_session
from tests.factories import IdTokenFactory
from tests.portalclients import ROLES, org_url, portal_client
from tests.roaming.emsp_objects import cdr, cpo_partner, emsp_profile, evse, location, session

pytestmark = pytest.mark.django_db

ABROAD = "roaming/abroad/"
LOCATIONS = "roaming/partner-locations/"


@pytest.fixture
def partner(org):
    emsp_profile(org)
    return cpo_partner(org, name="Stadtwerke Köln")


@pytest.fixture
def other_partner(org):
    return cpo_partner(org, token="second-cpo-token-0123456789", party=("FR", "TTT"), name="Izivia")


@pytest.fixture
def outsiders_cdr(other_org):
    theirs = cpo_partner(other_org, token="outsider-cpo-token-0123456789", name="Secret CPO")
    return store_cdr(theirs, cdr("SECRET-CDR"))[0]


def rows(response, table: str) -> list[str]:
    """The data-* keys of one table's rows on the page."""
    page = response.content.decode()
    marker = {"abroad-cdrs": "data-cdr", "partner-locations": "data-location"}[table]
    return [part.split('"')[0] for part in page.split(f'{marker}="')[1:]]


@pytest.mark.parametrize("role", ROLES)
def test_every_member_sees_where_our_drivers_charged_and_at_what_cost(org, partner, role):
    IdTokenFactory(organization=org, uid="04A1B2C3D4E5F6", label="Fleet car 1", roaming=True)
    store_cdr(partner, cdr("C1"))
    store_session(partner, session("S1"))
    response = portal_client(org, role).get(org_url(org, ABROAD))
    assert response.status_code == 200
    assert rows(response, "abroad-cdrs") == ["C1"]
    totals = response.context["partner_totals"]
    assert [(t["partner__name"], t["cdrs"], t["incl_vat"]) for t in totals] == [
        ("Stadtwerke Köln", 1, Decimal("6.25"))
    ]
    page = response.content.decode()
    assert "Fleet car 1" in page
    assert 'data-session="S1"' in page


def test_the_page_filters_by_partner_and_month(org, partner, other_partner):
    store_cdr(partner, cdr("MARCH"))
    store_cdr(partner, cdr("APRIL", start_date_time="2026-04-03T10:00:00Z"))
    store_cdr(other_partner, cdr("IZIVIA", party=("FR", "TTT")))
    client = portal_client(org)
    by_month = client.get(org_url(org, ABROAD), {"month": "2026-04"})
    assert rows(by_month, "abroad-cdrs") == ["APRIL"]
    by_partner = client.get(org_url(org, ABROAD), {"partner": other_partner.pk})
    assert rows(by_partner, "abroad-cdrs") == ["IZIVIA"]


def test_a_bad_filter_shows_its_error_and_no_rows(org, partner, outsiders_cdr):
    store_cdr(partner, cdr("C1"))
    client = portal_client(org)
    bad_month = client.get(org_url(org, ABROAD), {"month": "March"})
    assert bad_month.status_code == 400
    assert rows(bad_month, "abroad-cdrs") == []
    # Another organization's partner is no valid choice: it is not shown, not even its CDRs.
    theirs = client.get(org_url(org, ABROAD), {"partner": outsiders_cdr.partner_id})
    assert theirs.status_code == 400
    assert "SECRET-CDR" not in theirs.content.decode()


def test_the_csv_export_has_the_filtered_cdrs(org, partner, other_partner, outsiders_cdr):
    store_cdr(partner, cdr("C1"))
    store_cdr(other_partner, cdr("IZIVIA", party=("FR", "TTT")))
    response = portal_client(org).get(
        org_url(org, "roaming/abroad/export/"), {"partner": partner.pk}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    content = b"".join(response.streaming_content).decode()
    exported = list(csv.DictReader(io.StringIO(content)))
    assert [(r["cdr_id"], r["partner"], r["total_cost_incl_vat"]) for r in exported] == [
        ("C1", "Stadtwerke Köln", "6.2500")
    ]


def test_the_csv_export_of_a_bad_filter_is_a_400(org, partner):
    response = portal_client(org).get(org_url(org, "roaming/abroad/export/"), {"month": "x"})
    assert response.status_code == 400


def test_the_page_shows_nothing_of_another_organization(org, partner, outsiders_cdr):
    response = portal_client(org).get(org_url(org, ABROAD))
    assert "SECRET-CDR" not in response.content.decode()
    assert "Secret CPO" not in response.content.decode()


@pytest.mark.parametrize("path", [ABROAD, "roaming/abroad/export/", LOCATIONS])
def test_an_outsider_gets_404(org, partner, other_org, path):
    store_cdr(partner, cdr("C1"))
    assert portal_client(other_org, Role.OWNER).get(org_url(org, path)).status_code == 404


def test_partner_locations_list_name_city_and_evses_in_service(org, partner):
    removed = evse("EVSE-3", status="REMOVED")
    store_location(partner, location("LOC1", evses=[evse("EVSE-1"), evse("EVSE-2"), removed]))
    store_location(partner, location("LOC2", name="Hafen", city="Hamburg", evses=[]))
    response = portal_client(org).get(org_url(org, LOCATIONS))
    assert response.status_code == 200
    assert rows(response, "partner-locations") == ["LOC2", "LOC1"]
    counts = {loc.ocpi_id: loc.evse_count for loc in response.context["locations"]}
    assert counts == {"LOC1": 2, "LOC2": 0}
    assert "Hamburg" in response.content.decode()


def test_partner_locations_are_searched_by_name_or_city(org, partner, other_org):
    store_location(partner, location("LOC1"))
    store_location(partner, location("LOC2", name="Hafen", city="Hamburg"))
    theirs = cpo_partner(other_org, token="outsider-cpo-token-0123456789")
    store_location(theirs, location("THEIRS", city="Hamburg"))
    response = portal_client(org).get(org_url(org, LOCATIONS), {"search": "hamb"})
    assert rows(response, "partner-locations") == ["LOC2"]


@pytest.mark.parametrize("path", [ABROAD, LOCATIONS])
def test_the_pages_queries_do_not_grow_with_rows(org, partner, path, django_assert_max_num_queries):
    client = portal_client(org)
    IdTokenFactory(organization=org, uid="04A1B2C3D4E5F6", roaming=True)

    def add(number):
        store_cdr(partner, cdr(f"C{number}"))
        store_session(partner, session(f"S{number}"))
        store_location(partner, location(f"L{number}"))

    add(0)
    with django_assert_max_num_queries(100) as few:
        assert client.get(org_url(org, path)).status_code == 200
    for number in range(1, 8):
        add(number)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(org_url(org, path)).status_code == 200
