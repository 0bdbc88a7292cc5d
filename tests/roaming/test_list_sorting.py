"""Roaming lists sort by their column headers: partners, and our drivers' CDRs abroad (+ CSV)."""

import csv
import io

import pytest

from organizations.choices import Role
from roaming.models import RoamingPartner
from roaming.ocpi.v221.receiving import store_cdr
from tests.apiclients import client_as
from tests.portalclients import org_url, portal_client
from tests.roaming.emsp_objects import cdr, cpo_partner, emsp_profile

pytestmark = pytest.mark.django_db

ABROAD = "roaming/abroad/"
PARTNERS = "roaming/partners/"


def partner_rows(response) -> list[int]:
    assert response.status_code == 200, response.content[:300]
    return [partner.pk for partner in response.context["partners"]]


def cdr_rows(response) -> list[str]:
    assert response.status_code == 200, response.content[:300]
    return [row.ocpi_id for row in response.context["cdrs"]]


@pytest.fixture
def partners(org):
    return [
        RoamingPartner.objects.create(
            organization=org, country_code=country, party_id=party, name=name
        )
        for name, country, party in [
            ("Beta", "NL", "AAA"),
            ("Alpha", "DE", "ZZZ"),
            ("Gamma", "FR", "MMM"),
        ]
    ]


def test_partners_sort_by_name_and_party_both_ways(org, partners):
    viewer = portal_client(org, Role.VIEWER)
    beta, alpha, gamma = (partner.pk for partner in partners)
    assert partner_rows(viewer.get(org_url(org, PARTNERS))) == [alpha, beta, gamma]
    assert partner_rows(viewer.get(org_url(org, PARTNERS), {"ordering": "-name"})) == [
        gamma,
        beta,
        alpha,
    ]
    assert partner_rows(viewer.get(org_url(org, PARTNERS), {"ordering": "party"})) == [
        alpha,
        gamma,
        beta,
    ]
    # An unknown key falls back to the name.
    assert partner_rows(viewer.get(org_url(org, PARTNERS), {"ordering": "secret"})) == [
        alpha,
        beta,
        gamma,
    ]


def test_the_api_sorts_partners_by_the_same_keys(org, partners):
    viewer = portal_client(org, Role.VIEWER)
    api = client_as(org, Role.VIEWER)
    for key in ("party", "-party", "-name"):
        page = partner_rows(viewer.get(org_url(org, PARTNERS), {"ordering": key}))
        answer = api.get("/api/v1/roaming-partners/", {"ordering": key})
        assert [row["id"] for row in answer.json()["results"]] == page


@pytest.fixture
def abroad(org):
    emsp_profile(org)
    partner = cpo_partner(org, name="Stadtwerke Köln")
    for cdr_id, energy in [("CDR-A", 12.5), ("CDR-B", 40.0), ("CDR-C", 3.0)]:
        store_cdr(partner, cdr(cdr_id, total_energy=energy))
    return partner


def test_cdrs_abroad_sort_by_energy_and_the_csv_follows(org, abroad):
    viewer = portal_client(org, Role.VIEWER)
    assert cdr_rows(viewer.get(org_url(org, ABROAD), {"ordering": "kwh"})) == [
        "CDR-C",
        "CDR-A",
        "CDR-B",
    ]
    assert cdr_rows(viewer.get(org_url(org, ABROAD), {"ordering": "-kwh"})) == [
        "CDR-B",
        "CDR-A",
        "CDR-C",
    ]
    page = viewer.get(org_url(org, ABROAD), {"ordering": "-kwh"}).content.decode()
    assert "abroad/export/?ordering=-kwh" in page
    response = viewer.get(org_url(org, "roaming/abroad/export/"), {"ordering": "-kwh"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    energy = rows[0].index("kwh")
    assert [float(row[energy]) for row in rows[1:]] == [40.0, 12.5, 3.0]
