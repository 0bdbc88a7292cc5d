"""The organization admin: members, slug, invoicing settings."""

from organizations.models import Membership, Organization
from tests.admin.helpers import admin_url, changeform_data
from tests.factories import UserFactory


def test_member_added_inside_the_organization_page_gets_its_role(superuser_client, org):
    user = UserFactory(username="new-colleague")
    data = changeform_data(superuser_client.get(admin_url(org, "change")))
    data.update(
        {
            "memberships-TOTAL_FORMS": "1",
            "memberships-0-user": user.pk,
            "memberships-0-role": "operator",
        }
    )

    response = superuser_client.post(admin_url(org, "change"), data)

    assert response.status_code == 302
    assert Membership.objects.get(user=user).organization == org
    assert Membership.objects.get(user=user).role == "operator"


def test_organization_slug_must_stay_unique(superuser_client, org):
    response = superuser_client.post(
        admin_url(Organization, "add"),
        {
            "name": "Copycat",
            "slug": org.slug,
            "currency": "EUR",
            "timezone": "Europe/Berlin",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200
    assert "slug" in response.context["adminform"].form.errors


def test_invoicing_settings_are_changed_on_the_organization_page(superuser_client, org):
    data = changeform_data(superuser_client.get(admin_url(org, "change")))
    data.update(
        billing_address="Hafenstraße 1\n20457 Hamburg",
        vat_id="DE123456789",
        billing_period="quarterly",
        invoice_prefix="SWN-",
    )

    response = superuser_client.post(admin_url(org, "change"), data)

    assert response.status_code == 302
    org.refresh_from_db()
    assert (org.billing_address, org.vat_id, org.billing_period, org.invoice_prefix) == (
        "Hafenstraße 1\n20457 Hamburg",
        "DE123456789",
        "quarterly",
        "SWN-",
    )


def test_an_invoice_prefix_with_spaces_is_refused(superuser_client, org):
    data = changeform_data(superuser_client.get(admin_url(org, "change")))
    data["invoice_prefix"] = "INV 2026"

    response = superuser_client.post(admin_url(org, "change"), data)

    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == ["invoice_prefix"]
