"""The organization admin (members, cards, invoicing) and the roaming partner's write-only
token and published tariff."""

from organizations.models import IdToken, Membership, Organization
from roaming.models import RoamingPartner
from tests.admin.helpers import admin_url, changeform_data
from tests.factories import IdTokenFactory, TariffFactory, UserFactory

PARTNER_TOKEN = "partner-token-0123456789abcdef"


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


def test_card_uid_is_stored_upper_cased(superuser_client, org):
    response = superuser_client.post(
        admin_url(IdToken, "add"),
        {"organization": org.pk, "uid": " 04aabbcc ", "type": "ISO14443", "status": "Accepted"},
    )

    assert response.status_code == 302
    assert IdToken.objects.get().uid == "04AABBCC"


def test_card_uid_differing_only_in_case_is_a_duplicate(superuser_client, org):
    IdTokenFactory(organization=org, uid="04AABBCC")

    response = superuser_client.post(
        admin_url(IdToken, "add"),
        {"organization": org.pk, "uid": "04aabbcc", "type": "ISO14443", "status": "Accepted"},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert IdToken.objects.count() == 1


def make_partner(org):
    return RoamingPartner.objects.create(
        organization=org,
        name="Hubject",
        country_code="DE",
        party_id="HBS",
        credentials_token=PARTNER_TOKEN,
    )


def test_partner_page_never_shows_the_credentials_token(superuser_client, org):
    partner = make_partner(org)

    response = superuser_client.get(admin_url(partner, "change"))

    page = response.content.decode()
    assert "credentials_token" not in response.context["adminform"].form.fields
    assert PARTNER_TOKEN not in page
    assert "ending in …cdef" in page


def test_new_credentials_token_replaces_the_old_one(superuser_client, org):
    partner = make_partner(org)
    data = changeform_data(superuser_client.get(admin_url(partner, "change")))
    data["new_credentials_token"] = "a-new-token-from-the-partner"

    response = superuser_client.post(admin_url(partner, "change"), data)

    partner.refresh_from_db()
    assert response.status_code == 302
    assert partner.credentials_token == "a-new-token-from-the-partner"


def test_blank_credentials_token_field_keeps_the_token(superuser_client, org):
    partner = make_partner(org)
    data = changeform_data(superuser_client.get(admin_url(partner, "change")))
    data["status"] = "active"

    response = superuser_client.post(admin_url(partner, "change"), data)

    partner.refresh_from_db()
    assert response.status_code == 302
    assert partner.status == "active"
    assert partner.credentials_token == PARTNER_TOKEN


def test_a_partner_gets_a_tariff_of_its_organization_to_publish(superuser_client, org):
    partner = make_partner(org)
    tariff = TariffFactory(organization=org)
    data = changeform_data(superuser_client.get(admin_url(partner, "change")))
    data["tariff"] = tariff.pk

    response = superuser_client.post(admin_url(partner, "change"), data)

    assert response.status_code == 302
    partner.refresh_from_db()
    assert partner.tariff == tariff


def test_a_tariff_of_another_organization_is_refused_for_a_partner(
    superuser_client, org, other_org
):
    partner = make_partner(org)
    theirs = TariffFactory(organization=other_org, name="Foreign")
    data = changeform_data(superuser_client.get(admin_url(partner, "change")))
    data["tariff"] = theirs.pk

    response = superuser_client.post(admin_url(partner, "change"), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "tariff": ["“Foreign (EUR)” belongs to another organization."]
    }
    partner.refresh_from_db()
    assert partner.tariff is None
