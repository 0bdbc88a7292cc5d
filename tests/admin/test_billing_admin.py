"""The billing admin: tariff assignments inside a tariff, and invoices that only change status."""

from datetime import UTC, datetime

from billing.choices import InvoiceStatus
from billing.models import Invoice, InvoiceLine, Tariff, TariffAssignment
from tests.admin.helpers import admin_url, changeform_data
from tests.factories import SiteFactory, TariffFactory


def add_tariff_with_assignment(client, org, **assignment):
    """Submit the tariff add page for `org` with one assignment row typed into the inline."""
    data = changeform_data(client.get(admin_url(Tariff, "add")))
    data.update(organization=org.pk, name="Night", currency="EUR", price_per_kwh="0.2900")
    data["assignments-TOTAL_FORMS"] = "1"
    data.update({f"assignments-0-{name}": value for name, value in assignment.items()})
    return client.post(admin_url(Tariff, "add"), data)


def inline_errors(response):
    return [inline.formset.errors for inline in response.context["inline_admin_formsets"]]


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
    data.update(organization=org.pk, name="Night", currency="EUR", price_per_kwh="0.2900")
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
