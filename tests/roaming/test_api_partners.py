"""/api/v1/roaming-partners/: writes, OCPI codes, the write-only token, filters, tenancy."""

from datetime import date

import pytest

from organizations.choices import Role
from roaming.models import RoamingActivity, RoamingPartner
from tests.apiclients import client_as
from tests.factories import (
    ChargingSessionFactory,
    ChargingStationFactory,
    SiteFactory,
    TariffFactory,
)

pytestmark = pytest.mark.django_db

LIST = "/api/v1/roaming-partners/"
TOKEN = "ocpi-token-0123456789abcdef"


@pytest.fixture
def admin(org):
    return client_as(org, Role.ADMIN)


@pytest.fixture
def outsider(other_org):
    return client_as(other_org, Role.OWNER)


def create_url(org):
    return f"/api/v1/organizations/{org.pk}/roaming-partners/"


def make_partner(org, **fields):
    fields.setdefault("name", "Hubject")
    fields.setdefault("country_code", "DE")
    fields.setdefault("party_id", "HBJ")
    return RoamingPartner.objects.create(organization=org, **fields)


def ids(response):
    assert response.status_code == 200, response.data
    return [row["id"] for row in response.data["results"]]


@pytest.fixture
def partner(org):
    return make_partner(org, credentials_token=TOKEN)


def test_an_admin_registers_a_partner_in_the_organization_of_the_url(admin, org, other_org):
    response = admin.post(
        create_url(org),
        {
            "name": "e-clearing",
            "country_code": "NL",
            "party_id": "ECN",
            "role": "HUB",
            "versions_url": "https://ocpi.example.com/versions",
            "credentials_token": TOKEN,
            "organization": other_org.pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.data
    partner = RoamingPartner.objects.get(pk=response.data["id"])
    assert partner.organization == org
    assert (partner.country_code, partner.party_id, partner.role) == ("NL", "ECN", "HUB")
    assert partner.credentials_token == TOKEN
    assert partner.status == "pending"
    assert (partner.tariff, response.data["tariff"]) == (None, None)


def test_an_admin_publishes_a_tariff_of_the_organization_to_a_partner(admin, org, partner):
    tariff = TariffFactory(organization=org)
    response = admin.patch(f"{LIST}{partner.pk}/", {"tariff": tariff.pk}, format="json")
    assert response.status_code == 200, response.data
    assert response.data["tariff"] == tariff.pk
    partner.refresh_from_db()
    assert partner.tariff == tariff


def test_a_null_tariff_stops_publishing_one(admin, org, partner):
    partner.tariff = TariffFactory(organization=org)
    partner.save()
    response = admin.patch(f"{LIST}{partner.pk}/", {"tariff": None}, format="json")
    assert response.status_code == 200, response.data
    partner.refresh_from_db()
    assert partner.tariff is None


def test_a_tariff_of_another_organization_is_refused_like_an_unknown_one(admin, other_org, partner):
    theirs = TariffFactory(organization=other_org)
    missing = theirs.pk + 1000
    for pk in (theirs.pk, missing):
        response = admin.patch(f"{LIST}{partner.pk}/", {"tariff": pk}, format="json")
        assert response.status_code == 400
        assert response.data == {"tariff": [f'No tariff "{pk}" in this organization.']}
    partner.refresh_from_db()
    assert partner.tariff is None


def test_the_credentials_token_is_never_returned(admin, org, partner):
    for response in (
        admin.get(f"{LIST}{partner.pk}/"),
        admin.patch(f"{LIST}{partner.pk}/", {"name": "Renamed"}, format="json"),
        admin.post(
            create_url(org),
            {"name": "B", "country_code": "FR", "party_id": "ABC", "credentials_token": TOKEN},
            format="json",
        ),
    ):
        assert response.status_code in (200, 201), response.data
        assert "credentials_token" not in response.data
        assert TOKEN not in response.content.decode()
        assert response.data["has_credentials_token"] is True
    assert TOKEN not in admin.get(LIST).content.decode()


def test_a_partner_without_token_says_so(admin, org):
    partner = make_partner(org)
    assert admin.get(f"{LIST}{partner.pk}/").data["has_credentials_token"] is False


def test_a_token_of_zero_counts_as_a_token(admin, org):
    partner = make_partner(org, credentials_token="0")
    assert admin.get(f"{LIST}{partner.pk}/").data["has_credentials_token"] is True


def test_a_patch_without_token_keeps_it(admin, partner):
    admin.patch(f"{LIST}{partner.pk}/", {"status": "active"}, format="json")
    partner.refresh_from_db()
    assert (partner.status, partner.credentials_token) == ("active", TOKEN)


def test_a_new_token_replaces_the_old_one(admin, partner):
    admin.patch(f"{LIST}{partner.pk}/", {"credentials_token": "fresh-token"}, format="json")
    partner.refresh_from_db()
    assert partner.credentials_token == "fresh-token"


def test_an_empty_token_removes_it(admin, partner):
    response = admin.patch(f"{LIST}{partner.pk}/", {"credentials_token": ""}, format="json")
    assert response.data["has_credentials_token"] is False
    partner.refresh_from_db()
    assert partner.credentials_token == ""


@pytest.mark.parametrize("country_code", ["de", "DEU", "D1", "D"])
def test_a_country_code_that_is_not_two_capital_letters_is_a_field_error(admin, org, country_code):
    response = admin.post(
        create_url(org),
        {"name": "X", "country_code": country_code, "party_id": "ABC"},
        format="json",
    )
    assert response.status_code == 400
    assert "country_code" in response.data
    assert not RoamingPartner.objects.exists()


@pytest.mark.parametrize("party_id", ["abc", "AB", "ABCD", "A-C"])
def test_a_party_id_that_is_not_three_capitals_or_digits_is_a_field_error(admin, org, party_id):
    response = admin.post(
        create_url(org), {"name": "X", "country_code": "DE", "party_id": party_id}, format="json"
    )
    assert response.status_code == 400
    assert "party_id" in response.data


def test_a_party_id_of_digits_is_accepted(admin, org):
    response = admin.post(
        create_url(org), {"name": "X", "country_code": "DE", "party_id": "A12"}, format="json"
    )
    assert response.status_code == 201, response.data


def test_the_same_party_and_role_twice_in_an_organization_is_a_field_error(admin, org, partner):
    response = admin.post(
        create_url(org),
        {"name": "Again", "country_code": "DE", "party_id": "HBJ", "role": "EMSP"},
        format="json",
    )
    assert response.status_code == 400
    assert response.data == {"party_id": ["The organization already has a EMSP partner DE*HBJ."]}
    assert RoamingPartner.objects.count() == 1


def test_the_same_party_in_another_role_is_another_partner(admin, org, partner):
    response = admin.post(
        create_url(org),
        {"name": "Hubject CPO", "country_code": "DE", "party_id": "HBJ", "role": "CPO"},
        format="json",
    )
    assert response.status_code == 201, response.data


def test_the_same_party_in_another_organization_does_not_clash(admin, org, other_org):
    make_partner(other_org)
    response = admin.post(
        create_url(org), {"name": "Hubject", "country_code": "DE", "party_id": "HBJ"}, format="json"
    )
    assert response.status_code == 201, response.data


def test_changing_a_partner_into_an_existing_party_is_a_field_error(admin, org, partner):
    other = make_partner(org, name="Other", party_id="OTH")
    response = admin.patch(f"{LIST}{other.pk}/", {"party_id": "HBJ"}, format="json")
    assert response.status_code == 400
    assert list(response.data) == ["party_id"]
    other.refresh_from_db()
    assert other.party_id == "OTH"


def test_a_partner_keeps_its_own_party_when_renamed(admin, partner):
    response = admin.put(
        f"{LIST}{partner.pk}/",
        {"name": "Hubject GmbH", "country_code": "DE", "party_id": "HBJ"},
        format="json",
    )
    assert response.status_code == 200, response.data


def test_deleting_a_partner_removes_its_activity(admin, org, partner):
    RoamingActivity.objects.create(
        organization=org, partner=partner, site=SiteFactory(organization=org), date=date.today()
    )
    assert admin.delete(f"{LIST}{partner.pk}/").status_code == 204
    assert not RoamingPartner.objects.exists()
    assert not RoamingActivity.objects.exists()


def test_a_partner_with_charging_sessions_is_not_deleted(admin, org, partner):
    ChargingSessionFactory(
        station=ChargingStationFactory(organization=org), roaming_partner=partner
    )
    response = admin.delete(f"{LIST}{partner.pk}/")
    assert response.status_code == 409
    assert "Suspend the partner instead" in response.data["detail"]
    assert RoamingPartner.objects.filter(pk=partner.pk).exists()


def test_an_operator_cannot_change_a_partner(org, partner):
    operator = client_as(org, Role.OPERATOR)
    response = operator.patch(f"{LIST}{partner.pk}/", {"status": "active"}, format="json")
    assert response.status_code == 403
    partner.refresh_from_db()
    assert partner.status == "pending"


def test_partners_filter_by_role_status_and_country(admin, org, partner):
    cpo = make_partner(org, party_id="CPO", role="CPO", status="active", country_code="NL")
    assert ids(admin.get(LIST, {"role": "CPO"})) == [cpo.pk]
    assert ids(admin.get(LIST, {"status": "pending"})) == [partner.pk]
    assert ids(admin.get(LIST, {"country_code": "NL"})) == [cpo.pk]


def test_an_outsider_can_neither_see_nor_change_nor_add_our_partners(outsider, org, partner):
    assert outsider.get(LIST).data["results"] == []
    assert outsider.get(f"{LIST}{partner.pk}/").status_code == 404
    assert outsider.patch(f"{LIST}{partner.pk}/", {"credentials_token": "x"}).status_code == 404
    assert outsider.delete(f"{LIST}{partner.pk}/").status_code == 404
    response = outsider.post(
        create_url(org), {"name": "X", "country_code": "DE", "party_id": "XXX"}
    )
    assert response.status_code == 404
    assert list(RoamingPartner.objects.all()) == [partner]
    partner.refresh_from_db()
    assert partner.credentials_token == TOKEN
