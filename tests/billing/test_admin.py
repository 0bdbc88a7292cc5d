"""The billing admin: tariffs checked by the engine, assignments inside a tariff, read-only
records, and invoices that only change status."""

import json
from datetime import UTC, datetime
from decimal import Decimal

from billing.choices import InvoiceStatus
from billing.models import (
    BillingPeriod,
    ChargeDetailRecord,
    Invoice,
    InvoiceLine,
    Tariff,
    TariffAssignment,
)
from sessions_app.choices import SessionState
from tests.admin.helpers import admin_url, changeform_data
from tests.factories import (
    ChargingSessionFactory,
    ChargingStationFactory,
    SiteFactory,
    TariffFactory,
    UserFactory,
    energy_elements,
)

JAN = datetime(2026, 1, 1, tzinfo=UTC)
FEB = datetime(2026, 2, 1, tzinfo=UTC)
NIGHT = json.dumps(energy_elements("0.2900"))


def add_tariff(client, org, **fields):
    """Submit the tariff add page for `org` with a valid night tariff, `fields` changed."""
    data = changeform_data(client.get(admin_url(Tariff, "add")))
    data.update(organization=org.pk, name="Night", currency="EUR", elements=NIGHT, tax_rate="19")
    data.update(fields)
    return client.post(admin_url(Tariff, "add"), data)


def add_tariff_with_assignment(client, org, **assignment):
    """Submit the tariff add page for `org` with one assignment row typed into the inline."""
    data = changeform_data(client.get(admin_url(Tariff, "add")))
    data.update(organization=org.pk, name="Night", currency="EUR", elements=NIGHT)
    data["assignments-TOTAL_FORMS"] = "1"
    data.update({f"assignments-0-{name}": value for name, value in assignment.items()})
    return client.post(admin_url(Tariff, "add"), data)


def inline_errors(response):
    return [inline.formset.errors for inline in response.context["inline_admin_formsets"]]


def form_errors(response):
    return response.context["adminform"].form.errors


def test_a_tariff_is_added_with_its_elements(superuser_client, org):
    response = add_tariff(superuser_client, org)

    assert response.status_code == 302
    tariff = Tariff.objects.get()
    assert (tariff.organization, tariff.elements) == (org, energy_elements("0.2900"))


def test_bad_elements_are_refused_with_the_engines_messages(superuser_client, org):
    elements = [{"price_components": [{"type": "VOLTS", "price": "1"}], "restrictions": []}]

    response = add_tariff(superuser_client, org, elements=json.dumps(elements))

    assert response.status_code == 200
    assert form_errors(response) == {
        "elements": [
            "elements[0].price_components[0].type: must be one of ENERGY, FLAT, TIME, "
            "PARKING_TIME.",
            "elements[0].restrictions: must be an object.",
        ]
    }
    assert not Tariff.objects.exists()


def test_elements_that_are_no_json_are_refused_without_an_error_page(superuser_client, org):
    response = add_tariff(superuser_client, org, elements="[{'price_components': ")

    assert response.status_code == 200
    assert form_errors(response) == {"elements": ["Enter a valid JSON."]}
    assert not Tariff.objects.exists()


def test_a_maximum_price_below_the_minimum_is_refused(superuser_client, org):
    response = add_tariff(superuser_client, org, min_price="5", max_price="4")

    assert response.status_code == 200
    assert form_errors(response) == {"max_price": ["Must not be below the minimum price."]}


def test_the_change_page_shows_the_elements_indented(superuser_client, org):
    tariff = TariffFactory(organization=org, elements=energy_elements("0.3900"))

    response = superuser_client.get(admin_url(tariff, "change"))

    shown = response.context["adminform"].form["elements"].value()
    assert json.loads(shown) == energy_elements("0.3900")
    assert '\n  {\n    "price_components": [' in shown


def test_assignment_added_inside_a_tariff_takes_the_tariffs_organization(superuser_client, org):
    response = add_tariff_with_assignment(superuser_client, org, scope="organization")

    assert response.status_code == 302
    assignment = TariffAssignment.objects.get()
    assert assignment.tariff.name == "Night"
    assert assignment.organization == org


def test_second_default_tariff_of_an_organization_is_refused_with_a_message(superuser_client, org):
    TariffAssignment.objects.create(
        organization=org, tariff=TariffFactory(organization=org, name="Day"), scope="organization"
    )

    response = add_tariff_with_assignment(superuser_client, org, scope="organization")

    assert response.status_code == 200
    assert inline_errors(response) == [
        [{"scope": ["The organization already has a default tariff: Day (EUR)."]}]
    ]
    assert TariffAssignment.objects.count() == 1


def test_second_default_tariff_is_refused_on_the_assignment_page_too(superuser_client, org):
    TariffAssignment.objects.create(
        organization=org, tariff=TariffFactory(organization=org, name="Day"), scope="organization"
    )

    response = superuser_client.post(
        admin_url(TariffAssignment, "add"),
        {
            "organization": org.pk,
            "tariff": TariffFactory(organization=org).pk,
            "scope": "organization",
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "scope": ["The organization already has a default tariff: Day (EUR)."]
    }


def test_two_default_assignments_in_one_submission_are_refused(superuser_client, org):
    data = changeform_data(superuser_client.get(admin_url(Tariff, "add")))
    data.update(organization=org.pk, name="Night", currency="EUR", elements=NIGHT)
    data.update(
        {
            "assignments-TOTAL_FORMS": "2",
            "assignments-0-scope": "organization",
            "assignments-1-scope": "organization",
        }
    )

    response = superuser_client.post(admin_url(Tariff, "add"), data)

    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.non_form_errors() == ["An organization has one default tariff at most."]
    assert not Tariff.objects.exists()


def test_assignment_to_a_site_of_another_organization_is_refused(superuser_client, org, other_org):
    foreign_site = SiteFactory(organization=other_org, name="Foreign depot")

    response = add_tariff_with_assignment(superuser_client, org, scope="site", site=foreign_site.pk)

    assert response.status_code == 200
    assert inline_errors(response) == [
        [{"site": ["“Foreign depot” belongs to another organization."]}]
    ]
    assert not Tariff.objects.exists()


def test_assignment_scope_names_the_target_it_needs(superuser_client, org):
    tariff = TariffFactory(organization=org)

    response = superuser_client.post(
        admin_url(TariffAssignment, "add"),
        {"organization": org.pk, "tariff": tariff.pk, "scope": "site"},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"site": ["Required for this scope."]}


def test_assignment_scope_refuses_a_target_it_does_not_use(superuser_client, org):
    tariff = TariffFactory(organization=org)
    site = SiteFactory(organization=org)

    response = superuser_client.post(
        admin_url(TariffAssignment, "add"),
        {"organization": org.pk, "tariff": tariff.pk, "scope": "organization", "site": site.pk},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"site": ["Leave empty for this scope."]}


def test_issued_invoice_only_changes_its_status(superuser_client, org):
    invoice = Invoice.objects.create(
        organization=org,
        sequence=7,
        number="2026-0007",
        holder_name="Erika Mustermann",
        period_start=datetime(2026, 1, 1, tzinfo=UTC),
        period_end=datetime(2026, 2, 1, tzinfo=UTC),
        currency="EUR",
        total_incl_tax="11.90",
    )
    InvoiceLine.objects.create(invoice=invoice, description="Charging 10 kWh")
    response = superuser_client.get(admin_url(invoice, "change"))
    assert list(response.context["adminform"].form.fields) == ["status"]
    data = changeform_data(response)
    data.update(status=InvoiceStatus.PAID, number="HACKED", holder_name="Someone else")

    response = superuser_client.post(admin_url(invoice, "change"), data)

    invoice.refresh_from_db()
    assert response.status_code == 302
    assert invoice.status == InvoiceStatus.PAID
    assert invoice.number == "2026-0007"
    assert invoice.holder_name == "Erika Mustermann"
    assert invoice.lines.get().description == "Charging 10 kWh"


def make_cdr(org, **fields):
    session = ChargingSessionFactory(
        station=ChargingStationFactory(organization=org),
        state=SessionState.COMPLETED,
        stop=JAN,
    )
    return ChargeDetailRecord.objects.create(
        organization=org, session=session, currency="EUR", accounted_at=JAN, **fields
    )


def test_a_cdr_page_shows_the_credit_it_is_and_why_without_a_form(superuser_client, org):
    charge = make_cdr(org, total_incl_tax=Decimal("5.57"))
    credit = make_cdr(
        org,
        kind="credit",
        corrects=charge,
        total_incl_tax=Decimal("-5.57"),
        reason="Credit: Billing stopped by erika: Meter fault",
        billing_stopped_by=UserFactory(username="erika"),
    )

    response = superuser_client.get(admin_url(credit, "change"))

    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    shown = {
        field.field["name"]
        for fieldset in response.context["adminform"]
        for line in fieldset
        for field in line
    }
    assert {
        "kind",
        "corrects",
        "id_token",
        "roaming_partner",
        "components",
        "periods",
        "price_cap_amount",
        "reason",
        "billing_stopped_by",
        "accounted_at",
    } <= shown
    page = response.content.decode()
    assert "Credit: Billing stopped by erika: Meter fault" in page


def test_a_billing_period_shows_its_invoices_and_cannot_be_changed(superuser_client, org):
    period = BillingPeriod.objects.create(organization=org, start=JAN, end=FEB, invoice_count=1)
    Invoice.objects.create(
        organization=org,
        billing_period=period,
        sequence=1,
        number="INV-000001",
        period_start=JAN,
        period_end=FEB,
        currency="EUR",
    )

    response = superuser_client.get(admin_url(period, "change"))

    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert "INV-000001" in response.content.decode()
    assert superuser_client.post(admin_url(period, "delete"), {"post": "yes"}).status_code == 403
    assert BillingPeriod.objects.filter(pk=period.pk).exists()


def test_an_invoice_page_shows_its_issuer_period_and_tax_per_rate(superuser_client, org):
    period = BillingPeriod.objects.create(organization=org, start=JAN, end=FEB, invoice_count=1)
    invoice = Invoice.objects.create(
        organization=org,
        billing_period=period,
        sequence=1,
        number="INV-000001",
        period_start=JAN,
        period_end=FEB,
        currency="EUR",
        issuer={"name": "Stadtwerke Nord", "vat_id": "DE123456789"},
        tax_breakdown=[{"rate": "19.00", "base": "10.00", "tax": "1.90"}],
    )

    response = superuser_client.get(admin_url(invoice, "change"))

    page = response.content.decode()
    assert "DE123456789" in page
    assert "1.90" in page
    assert admin_url(period, "change") in page
