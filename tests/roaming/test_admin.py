"""The roaming partner admin: its write-only credentials token and published tariff."""

from roaming.models import RoamingPartner
from tests.admin.helpers import admin_url, changeform_data
from tests.factories import TariffFactory

PARTNER_TOKEN = "partner-token-0123456789abcdef"


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
