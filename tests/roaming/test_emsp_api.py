"""API of our eMSP role: partner sessions, CDRs, locations, tariffs (read-only) and reconcile."""

from decimal import Decimal

import pytest

from organizations.choices import Role
from roaming.choices import ReconciliationState
from roaming.models import PartnerCdr
from roaming.ocpi.v221.receiving import store_cdr, store_location, store_session, store_tariff
from tests.apiclients import client_as
from tests.factories import IdTokenFactory
from tests.roaming.emsp_objects import (
    cdr,
    cpo_partner,
    emsp_profile,
    evse,
    location,
    session,
    tariff,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def partner(org):
    emsp_profile(org)
    return cpo_partner(org)


@pytest.fixture
def viewer(org):
    return client_as(org, Role.VIEWER)


@pytest.fixture
def admin(org):
    return client_as(org, Role.ADMIN)


@pytest.fixture
def outsider(other_org):
    return client_as(other_org, Role.OWNER)


@pytest.fixture
def theirs(other_org):
    """A CPO partner of the outsider organization, with a CDR."""
    partner = cpo_partner(other_org, token="outsider-cpo-token-0123456789")
    store_cdr(partner, cdr("SECRET"))
    return partner


def ids(response, key="ocpi_id"):
    assert response.status_code == 200, response.data
    return [row[key] for row in response.data["results"]]


def test_cdrs_are_listed_for_members_of_their_organization_only(viewer, partner, theirs):
    card = IdTokenFactory(organization=partner.organization, uid="04A1B2C3D4E5F6")
    store_cdr(partner, cdr("C1"))
    response = viewer.get("/api/v1/partner-cdrs/")
    assert ids(response) == ["C1"]
    row = response.data["results"][0]
    assert (row["partner_name"], row["id_token"], row["total_cost_incl_vat"]) == (
        partner.name,
        card.pk,
        "6.2500",
    )
    assert "data" not in row


def test_a_cdr_detail_has_the_ocpi_object_and_an_outsider_gets_404(viewer, outsider, partner):
    row, _ = store_cdr(partner, cdr("C1"))
    detail = viewer.get(f"/api/v1/partner-cdrs/{row.pk}/")
    assert detail.status_code == 200
    assert detail.data["data"]["cdr_location"]["id"] == "LOC1"
    assert outsider.get(f"/api/v1/partner-cdrs/{row.pk}/").status_code == 404


def test_cdrs_filter_by_partner_start_and_reconciliation(viewer, partner, org):
    second = cpo_partner(org, token="second-cpo-token-0123456789", party=("FR", "TTT"))
    store_cdr(partner, cdr("MARCH"))
    store_cdr(partner, cdr("APRIL", start_date_time="2026-04-02T10:00:00Z"))
    store_cdr(second, cdr("IZIVIA", party=("FR", "TTT")))
    PartnerCdr.objects.filter(ocpi_id="MARCH").update(reconciliation=ReconciliationState.DISPUTED)
    assert ids(viewer.get("/api/v1/partner-cdrs/", {"partner": second.pk})) == ["IZIVIA"]
    april = viewer.get("/api/v1/partner-cdrs/", {"start_after": "2026-04-01T00:00:00Z"})
    assert ids(april) == ["APRIL"]
    disputed = viewer.get("/api/v1/partner-cdrs/", {"reconciliation": "disputed"})
    assert ids(disputed) == ["MARCH"]


def test_a_partner_of_another_organization_is_no_valid_filter(viewer, partner, theirs):
    response = viewer.get("/api/v1/partner-cdrs/", {"partner": theirs.pk})
    assert response.status_code == 400
    assert "partner" in response.data


def test_the_cdr_list_exports_csv(viewer, partner):
    store_cdr(partner, cdr("C1"))
    response = viewer.get("/api/v1/partner-cdrs/", {"format": "csv"})
    assert response.status_code == 200
    content = b"".join(response.streaming_content).decode()
    assert content.splitlines()[1].split(",")[5] == "C1"


@pytest.mark.parametrize(
    ("path", "make"),
    [
        ("partner-cdrs", lambda p, n: store_cdr(p, cdr(f"C{n}"))),
        ("partner-sessions", lambda p, n: store_session(p, session(f"S{n}"))),
        ("partner-locations", lambda p, n: store_location(p, location(f"L{n}"))),
        ("partner-tariffs", lambda p, n: store_tariff(p, tariff(f"T{n}"))),
    ],
)
def test_list_queries_do_not_grow_with_rows(
    viewer, partner, path, make, django_assert_max_num_queries
):
    make(partner, 0)
    with django_assert_max_num_queries(100) as few:
        assert viewer.get(f"/api/v1/{path}/").status_code == 200
    for number in range(1, 6):
        make(partner, number)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = viewer.get(f"/api/v1/{path}/")
    assert len(response.data["results"]) == 6


def test_sessions_are_listed_with_their_card_and_cost(viewer, partner, theirs):
    card = IdTokenFactory(organization=partner.organization, uid="04A1B2C3D4E5F6")
    store_session(partner, session("S1"))
    store_session(theirs, session("THEIRS"))
    response = viewer.get("/api/v1/partner-sessions/")
    assert ids(response) == ["S1"]
    row = response.data["results"][0]
    assert (row["id_token"], row["status"], row["kwh"]) == (card.pk, "ACTIVE", "5.0000")
    assert viewer.get("/api/v1/partner-sessions/", {"status": "COMPLETED"}).data["count"] == 0


def test_locations_are_listed_with_their_evses_in_service(viewer, partner):
    store_location(partner, location("L1", evses=[evse("E-1"), evse("E-2", status="REMOVED")]))
    response = viewer.get("/api/v1/partner-locations/", {"search": "köln"})
    assert ids(response) == ["L1"]
    assert response.data["results"][0]["evse_count"] == 1


def test_tariffs_are_listed_and_shown_with_their_elements(viewer, partner, outsider):
    row, _ = store_tariff(partner, tariff("T1"))
    assert ids(viewer.get("/api/v1/partner-tariffs/", {"currency": "EUR"})) == ["T1"]
    detail = viewer.get(f"/api/v1/partner-tariffs/{row.pk}/")
    assert detail.data["data"]["elements"][0]["price_components"][0]["price"] == 0.42
    assert outsider.get(f"/api/v1/partner-tariffs/{row.pk}/").status_code == 404


def test_received_objects_cannot_be_written_through_the_api(admin, partner):
    row, _ = store_cdr(partner, cdr("C1"))
    assert admin.patch(f"/api/v1/partner-cdrs/{row.pk}/", {"kwh": "1"}).status_code == 405
    assert admin.delete(f"/api/v1/partner-cdrs/{row.pk}/").status_code == 405


# --- reconcile ------------------------------------------------------------------------------


def reconcile(client, partner, body):
    return client.post(f"/api/v1/roaming-partners/{partner.pk}/reconcile/", body, format="json")


INVOICE = {
    "month": "2026-03",
    "invoice_reference": "INV-7",
    "lines": [
        {"cdr_id": "C1", "amount": "6.25"},
        {"cdr_id": "C2", "amount": "4.00", "invoice_reference": "INV-7b"},
        {"cdr_id": "GHOST", "amount": "1"},
    ],
}


def test_an_admin_reconciles_an_invoice(admin, partner):
    store_cdr(partner, cdr("C1"))
    store_cdr(partner, cdr("C2"))
    store_cdr(partner, cdr("C3"))
    response = reconcile(admin, partner, INVOICE)
    assert response.status_code == 200, response.data
    data = response.data
    assert [row["cdr_id"] for row in data["matched"]] == ["C1"]
    assert [(r["cdr_id"], r["difference"]) for r in data["disputed"]] == [("C2", "-2.2500")]
    assert [row["cdr_id"] for row in data["unknown"]] == ["GHOST"]
    assert [row["cdr_id"] for row in data["not_invoiced"]] == ["C3"]
    stored = PartnerCdr.objects.get(ocpi_id="C2")
    assert (stored.reconciliation, stored.invoiced_amount, stored.invoice_reference) == (
        ReconciliationState.DISPUTED,
        Decimal("4"),
        "INV-7b",
    )
    assert PartnerCdr.objects.get(ocpi_id="C1").invoice_reference == "INV-7"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**INVOICE, "month": "March"}, "month"),
        ({**INVOICE, "lines": []}, "lines"),
        ({**INVOICE, "lines": [{"cdr_id": "C1", "amount": "lots"}]}, "lines"),
        ({**INVOICE, "lines": [{"cdr_id": "C1", "amount": "1"}] * 2}, "lines"),
        ({**INVOICE, "basis": "gross"}, "basis"),
    ],
)
def test_a_bad_invoice_body_is_a_400_naming_the_field_and_changes_nothing(
    admin, partner, body, field
):
    store_cdr(partner, cdr("C1"))
    response = reconcile(admin, partner, body)
    assert response.status_code == 400
    assert field in response.data
    assert PartnerCdr.objects.get().reconciliation == ReconciliationState.OPEN


def test_only_admins_reconcile_and_outsiders_get_404(viewer, outsider, partner):
    store_cdr(partner, cdr("C1"))
    assert reconcile(viewer, partner, INVOICE).status_code == 403
    assert reconcile(outsider, partner, INVOICE).status_code == 404
    assert PartnerCdr.objects.get().reconciliation == ReconciliationState.OPEN
