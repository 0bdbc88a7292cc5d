"""The invoices page's search: `?q=` over number, holder name, email and roaming partner."""

from datetime import UTC, datetime, timedelta

import pytest

from billing.models import Invoice
from organizations.choices import Role
from tests.portalclients import org_url, portal_client

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, tzinfo=UTC)
INVOICES = "billing/invoices/"


def invoice(org, sequence, **fields):
    return Invoice.objects.create(
        organization=org,
        sequence=sequence,
        number=f"INV-{sequence:04d}",
        currency="EUR",
        period_start=T0,
        period_end=T0 + timedelta(days=31),
        issued_at=T0 + timedelta(days=31 + sequence),
        **fields,
    )


@pytest.fixture
def invoices(org):
    return {
        "erika": invoice(org, 1, holder_name="Erika Mustermann", holder_email="erika@example.com"),
        "max": invoice(org, 2, holder_name="Max Muster", holder_email="max@fleet.example"),
    }


def numbers(response) -> list[str]:
    assert response.status_code == 200, response.content[:300]
    return [row.number for row in response.context["invoices"]]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("erika", ["INV-0001"]),
        ("FLEET.example", ["INV-0002"]),
        ("INV-0002", ["INV-0002"]),
        ("muster", ["INV-0002", "INV-0001"]),
        ("nobody", []),
    ],
)
def test_q_searches_number_holder_and_email(org, invoices, q, expected):
    viewer = portal_client(org, Role.VIEWER)
    assert numbers(viewer.get(org_url(org, INVOICES), {"q": q})) == expected


def test_the_search_box_sends_q_and_shows_what_was_searched(org, invoices):
    html = portal_client(org).get(org_url(org, INVOICES), {"q": "erika"}).content.decode()
    assert 'name="q"' in html
    assert 'value="erika"' in html
    assert "1 invoice matches these filters." in html


def test_the_export_applies_q_too(org, invoices):
    response = portal_client(org).get(org_url(org, "billing/invoices/export.csv"), {"q": "erika"})
    text = b"".join(response.streaming_content).decode()
    assert "INV-0001" in text and "INV-0002" not in text


def test_the_older_search_parameter_still_works(org, invoices):
    assert numbers(portal_client(org).get(org_url(org, INVOICES), {"search": "max"})) == [
        "INV-0002"
    ]


def test_q_never_finds_another_organizations_invoices(org, other_org, invoices):
    invoice(other_org, 1, holder_name="Erika Outsider")
    assert numbers(portal_client(org).get(org_url(org, INVOICES), {"q": "outsider"})) == []
