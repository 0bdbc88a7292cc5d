"""/api/v1/organizations/: the caller's organizations, creating one, and changing it (owner)."""

from unittest import mock

import pytest

from organizations.choices import Role
from organizations.models import Membership, Organization
from organizations.services import create_organization
from tests.apiclients import client_for, key_client, member
from tests.factories import OrganizationFactory, UserFactory, make_api_key

pytestmark = pytest.mark.django_db

LIST = "/api/v1/organizations/"


def detail(organization):
    return f"{LIST}{organization.pk}/"


def results(response):
    assert response.status_code == 200, response.data
    return response.data["results"]


@pytest.fixture
def owner(org):
    return member((org, Role.OWNER))


# Reading


def test_an_organization_is_shown_with_its_fields_and_the_callers_role(org):
    org.contact_email = "ops@example.com"
    org.save()
    data = client_for(member((org, Role.OPERATOR))).get(detail(org)).data
    assert data == {
        "id": org.pk,
        "name": "Stadtwerke Demo",
        "slug": "stadtwerke-demo",
        "currency": "EUR",
        "timezone": "Europe/Berlin",
        "contact_name": "",
        "contact_email": "ops@example.com",
        "contact_phone": "",
        "billing_address": "",
        "vat_id": "",
        "billing_period": "monthly",
        "invoice_prefix": "INV-",
        "diagnostics_retention_days": None,
        "role": "operator",
        "created": data["created"],
        "updated": data["updated"],
    }


def test_the_list_is_the_union_of_the_callers_organizations_each_with_its_own_role(org, other_org):
    OrganizationFactory(name="Nobody's")
    user = member((org, Role.VIEWER), (other_org, Role.OWNER))
    listed = results(client_for(user).get(LIST))
    assert [(row["name"], row["role"]) for row in listed] == [
        ("Outsider GmbH", "owner"),
        ("Stadtwerke Demo", "viewer"),
    ]


def test_an_organization_the_caller_is_not_in_is_404(org, other_org):
    user = member((other_org, Role.OWNER))
    assert client_for(user).get(detail(org)).status_code == 404


def test_the_list_filters_by_the_callers_role_and_by_name(org, other_org):
    user = member((org, Role.VIEWER), (other_org, Role.ADMIN))
    client = client_for(user)
    assert [row["id"] for row in results(client.get(LIST, {"role": "admin"}))] == [other_org.pk]
    assert [row["id"] for row in results(client.get(LIST, {"name": "stadt"}))] == [org.pk]


def test_the_list_orders_by_creation_when_asked(org, other_org):
    user = member((org, Role.VIEWER), (other_org, Role.VIEWER))
    listed = results(client_for(user).get(LIST, {"ordering": "-created"}))
    assert [row["id"] for row in listed] == [other_org.pk, org.pk]


def test_an_api_key_sees_its_own_organization_only_with_the_keys_role(org, other_org):
    _key, secret = make_api_key(org, role=Role.OPERATOR)
    client = key_client(secret)
    listed = results(client.get(LIST))
    assert [(row["id"], row["role"]) for row in listed] == [(org.pk, "operator")]
    assert client.get(detail(other_org)).status_code == 404


# Creating


def test_a_signed_in_person_creates_an_organization_and_becomes_its_owner(db):
    user = UserFactory()
    response = client_for(user).post(
        LIST,
        {"name": "Neue Energie", "currency": "CHF", "timezone": "Europe/Zurich"},
        format="json",
    )
    assert response.status_code == 201, response.data
    created = Organization.objects.get(pk=response.data["id"])
    assert (created.name, created.slug, created.currency, created.timezone) == (
        "Neue Energie",
        "neue-energie",
        "CHF",
        "Europe/Zurich",
    )
    assert response.data["role"] == "owner"
    assert Membership.objects.get(organization=created).user == user
    assert Membership.objects.get(organization=created).role == Role.OWNER


def test_a_derived_slug_that_is_taken_gets_a_number(org):
    OrganizationFactory(name="Other", slug="stadtwerke-demo-2")
    response = client_for(UserFactory()).post(LIST, {"name": "Stadtwerke Demo"}, format="json")
    assert response.status_code == 201, response.data
    assert response.data["slug"] == "stadtwerke-demo-3"


def test_a_given_slug_that_is_taken_is_a_field_error(org):
    response = client_for(UserFactory()).post(
        LIST, {"name": "Copycat", "slug": "stadtwerke-demo"}, format="json"
    )
    assert response.status_code == 400
    assert set(response.data) == {"slug"}
    assert not Organization.objects.filter(name="Copycat").exists()


def test_creating_without_a_name_is_a_field_error(db):
    response = client_for(UserFactory()).post(LIST, {}, format="json")
    assert response.status_code == 400
    assert set(response.data) == {"name"}
    assert not Organization.objects.exists()


def test_an_api_key_may_not_create_an_organization(org):
    _key, secret = make_api_key(org, role=Role.ADMIN)
    response = key_client(secret).post(LIST, {"name": "Machine made"}, format="json")
    assert response.status_code == 403
    assert not Organization.objects.filter(name="Machine made").exists()


def test_the_organization_and_its_owner_are_created_together_or_not_at_all(db):
    user = UserFactory()
    with (
        mock.patch.object(Membership.objects, "create", side_effect=RuntimeError("disk full")),
        pytest.raises(RuntimeError),
    ):
        create_organization(user, name="Half made")
    assert not Organization.objects.filter(name="Half made").exists()


# Changing


def test_the_owner_changes_the_organization(org, owner):
    response = client_for(owner).patch(
        detail(org),
        {
            "name": "Stadtwerke Nord",
            "slug": "stadtwerke-nord",
            "currency": "DKK",
            "timezone": "Europe/Copenhagen",
            "contact_name": "Ops desk",
            "contact_email": "ops@example.com",
            "contact_phone": "+45 1234",
        },
        format="json",
    )
    assert response.status_code == 200, response.data
    org.refresh_from_db()
    assert (org.name, org.slug, org.currency, org.timezone) == (
        "Stadtwerke Nord",
        "stadtwerke-nord",
        "DKK",
        "Europe/Copenhagen",
    )
    assert (org.contact_name, org.contact_email, org.contact_phone) == (
        "Ops desk",
        "ops@example.com",
        "+45 1234",
    )
    assert response.data["role"] == "owner"


def test_a_put_replaces_the_fields_and_keeps_the_slug_when_left_out(org, owner):
    response = client_for(owner).put(
        detail(org), {"name": "Renamed", "currency": "EUR", "timezone": "UTC"}, format="json"
    )
    assert response.status_code == 200, response.data
    org.refresh_from_db()
    assert (org.name, org.slug, org.timezone) == ("Renamed", "stadtwerke-demo", "UTC")


def test_a_put_without_a_name_is_a_field_error(org, owner):
    response = client_for(owner).put(detail(org), {"timezone": "UTC"}, format="json")
    assert response.status_code == 400
    assert set(response.data) == {"name"}


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OPERATOR, Role.ADMIN])
def test_only_the_owner_may_change_the_organization(org, role):
    response = client_for(member((org, role))).patch(
        detail(org), {"name": "Hijacked"}, format="json"
    )
    assert response.status_code == 403
    org.refresh_from_db()
    assert org.name == "Stadtwerke Demo"


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "europe/berlin", "", "../etc/passwd"])
def test_an_unknown_time_zone_is_a_field_error(org, owner, zone):
    response = client_for(owner).patch(detail(org), {"timezone": zone}, format="json")
    assert response.status_code == 400
    assert set(response.data) == {"timezone"}
    org.refresh_from_db()
    assert org.timezone == "Europe/Berlin"


@pytest.mark.parametrize("currency", ["eur", "EURO", "E1R", ""])
def test_a_currency_that_is_not_three_capital_letters_is_a_field_error(org, owner, currency):
    response = client_for(owner).patch(detail(org), {"currency": currency}, format="json")
    assert response.status_code == 400
    assert set(response.data) == {"currency"}


def test_the_owner_sets_the_invoicing_details(org, owner):
    response = client_for(owner).patch(
        detail(org),
        {
            "billing_address": "Hafenstraße 1\n20457 Hamburg",
            "vat_id": "DE123456789",
            "billing_period": "quarterly",
            "invoice_prefix": "SWD/",
        },
        format="json",
    )
    assert response.status_code == 200, response.data
    org.refresh_from_db()
    assert (org.billing_address, org.vat_id, org.billing_period, org.invoice_prefix) == (
        "Hafenstraße 1\n20457 Hamburg",
        "DE123456789",
        "quarterly",
        "SWD/",
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("billing_period", "yearly"),
        ("invoice_prefix", "INV 2026"),
        ("invoice_prefix", "A-VERY-LONG-PREFIX"),
    ],
)
def test_an_unknown_billing_period_or_a_bad_invoice_prefix_is_a_field_error(
    org, owner, field, value
):
    response = client_for(owner).patch(detail(org), {field: value}, format="json")
    assert response.status_code == 400
    assert list(response.data) == [field]
    org.refresh_from_db()
    assert (org.billing_period, org.invoice_prefix) == ("monthly", "INV-")


def test_an_admin_may_not_change_the_invoicing_details(org):
    response = client_for(member((org, Role.ADMIN))).patch(
        detail(org), {"vat_id": "DE999999999"}, format="json"
    )
    assert response.status_code == 403
    org.refresh_from_db()
    assert org.vat_id == ""


def test_a_slug_of_another_organization_is_a_field_error(org, other_org, owner):
    response = client_for(owner).patch(detail(org), {"slug": other_org.slug}, format="json")
    assert response.status_code == 400
    assert set(response.data) == {"slug"}


def test_keeping_the_own_slug_is_no_error(org, owner):
    response = client_for(owner).patch(detail(org), {"slug": org.slug}, format="json")
    assert response.status_code == 200, response.data


def test_an_organization_cannot_be_deleted_over_the_api(org, owner):
    # TenantViewSet refuses a method without an action before DRF would answer 405.
    assert client_for(owner).delete(detail(org)).status_code == 405
    assert Organization.objects.filter(pk=org.pk).exists()


def test_an_admin_api_key_may_not_change_the_organization(org):
    _key, secret = make_api_key(org, role=Role.ADMIN)
    response = key_client(secret).patch(detail(org), {"name": "By machine"}, format="json")
    assert response.status_code == 403
    org.refresh_from_db()
    assert org.name == "Stadtwerke Demo"


def test_an_outsider_changes_nothing_and_gets_404(org, other_org):
    outsider = member((other_org, Role.OWNER))
    response = client_for(outsider).patch(detail(org), {"name": "Taken over"}, format="json")
    assert response.status_code == 404
    org.refresh_from_db()
    assert org.name == "Stadtwerke Demo"
