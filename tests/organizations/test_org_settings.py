"""Portal organization settings: every member reads them, owners change them (as the API)."""

import pytest

from organizations.choices import BillingPeriodLength, Role
from organizations.models import Organization
from tests.portalclients import ROLES, org_url, portal_client

pytestmark = pytest.mark.django_db

BELOW_OWNER = [Role.VIEWER, Role.OPERATOR, Role.ADMIN]


def settings_url(org):
    return org_url(org, "organization/")


def body(org, **changes):
    """The settings form as the page submits it, with `changes`."""
    fields = {
        "name": org.name,
        "contact_name": org.contact_name,
        "contact_email": org.contact_email,
        "contact_phone": org.contact_phone,
        "billing_address": org.billing_address,
        "vat_id": org.vat_id,
        "timezone": org.timezone,
        "currency": org.currency,
        "billing_period": org.billing_period,
        "invoice_prefix": org.invoice_prefix,
    }
    return {**fields, **changes}


def stored(org):
    return Organization.objects.get(pk=org.pk)


@pytest.mark.parametrize("role", ROLES)
def test_every_member_reads_the_settings(org, role):
    org.contact_email = "ops@example.com"
    org.save()
    response = portal_client(org, role).get(settings_url(org))
    assert response.status_code == 200
    assert "ops@example.com" in response.content.decode()


@pytest.mark.parametrize("role", BELOW_OWNER)
def test_below_owner_the_settings_are_read_only(org, role):
    response = portal_client(org, role).get(settings_url(org))
    form = response.context["form"]
    assert all(field.disabled for field in form.fields.values())
    assert ">Save</button>" not in response.content.decode()


def test_an_owner_changes_contact_invoicing_and_time_zone(org):
    client = portal_client(org, Role.OWNER)
    assert ">Save</button>" in client.get(settings_url(org)).content.decode()
    response = client.post(
        settings_url(org),
        body(
            org,
            name="Stadtwerke Nord",
            contact_email="billing@example.com",
            contact_phone="+49 40 123",
            billing_address="Hafenstraße 1\n20457 Hamburg",
            timezone="America/New_York",
            billing_period=BillingPeriodLength.QUARTERLY,
            invoice_prefix="SWN-",
        ),
    )
    assert response.status_code == 302
    org = stored(org)
    assert org.name == "Stadtwerke Nord"
    assert org.contact_email == "billing@example.com"
    assert org.billing_address == "Hafenstraße 1\n20457 Hamburg"
    assert org.timezone == "America/New_York"
    assert org.billing_period == BillingPeriodLength.QUARTERLY
    assert org.invoice_prefix == "SWN-"


@pytest.mark.parametrize("role", BELOW_OWNER)
def test_below_owner_nobody_changes_the_settings(org, role):
    response = portal_client(org, role).post(settings_url(org), body(org, name="Hijacked"))
    assert response.status_code == 403
    assert stored(org).name == org.name


def test_an_outsider_neither_reads_nor_changes_our_settings(org, other_org):
    client = portal_client(other_org, Role.OWNER)
    assert client.get(settings_url(org)).status_code == 404
    assert client.post(settings_url(org), body(org, name="Hijacked")).status_code == 404
    assert stored(org).name == org.name


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"name": ""}, "name"),
        ({"name": "  "}, "name"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"timezone": ""}, "timezone"),
        ({"currency": "XYZ"}, "currency"),
        ({"currency": "eur"}, "currency"),
        ({"currency": "JPY"}, "currency"),
        ({"contact_email": "not-an-address"}, "contact_email"),
        ({"billing_period": "daily"}, "billing_period"),
        ({"invoice_prefix": "INV <script>"}, "invoice_prefix"),
    ],
)
def test_invalid_settings_get_field_errors_and_nothing_is_written(org, changes, field):
    response = portal_client(org, Role.OWNER).post(
        settings_url(org), body(org, contact_name="Changed too", **changes)
    )
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert stored(org).contact_name == org.contact_name


def test_a_refused_form_leaves_the_header_with_the_stored_name(org):
    response = portal_client(org, Role.OWNER).post(
        settings_url(org), body(org, name="New name", timezone="Nowhere/Zone")
    )
    assert response.status_code == 400
    assert response.context["organization"].name == org.name


def test_changing_the_currency_needs_a_confirmation(org):
    client = portal_client(org, Role.OWNER)
    response = client.post(settings_url(org), body(org, currency="SEK"))
    assert response.status_code == 400
    assert "confirm_currency_change" in response.context["form"].errors
    assert stored(org).currency == "EUR"
    response = client.post(
        settings_url(org), body(org, currency="SEK", confirm_currency_change="on")
    )
    assert response.status_code == 302
    assert stored(org).currency == "SEK"


def test_a_currency_outside_the_list_set_earlier_can_be_kept(org):
    Organization.objects.filter(pk=org.pk).update(currency="ISK")
    org = stored(org)
    response = portal_client(org, Role.OWNER).post(settings_url(org), body(org, vat_id="DE1"))
    assert response.status_code == 302
    assert (stored(org).currency, stored(org).vat_id) == ("ISK", "DE1")


def test_the_navigation_links_the_organization_page(org):
    page = portal_client(org, Role.VIEWER).get(org_url(org)).content.decode()
    assert f'href="{settings_url(org)}"' in page
    assert f'href="{org_url(org, "api-keys/")}"' not in page


def test_admins_find_api_keys_in_the_navigation(org):
    page = portal_client(org, Role.ADMIN).get(org_url(org)).content.decode()
    assert f'href="{org_url(org, "api-keys/")}"' in page
