"""/api/v1/roaming-partners/ and /roaming-profiles/: writes, OCPI codes, the write-only token,
the registration state and the handshake's actions, filters, tenancy."""

from datetime import UTC, date, datetime

import pytest

from organizations.choices import Role
from roaming.models import (
    ModuleSync,
    OcpiPush,
    RoamingActivity,
    RoamingPartner,
    RoamingProfile,
)
from roaming.ocpi import push, registration, tokens
from roaming.ocpi.registration import RegistrationError
from roaming.ocpi.v221 import receiving
from tests.apiclients import client_as
from tests.factories import (
    ChargingSessionFactory,
    ChargingStationFactory,
    SiteFactory,
    TariffFactory,
)
from tests.roaming.conftest import make_profile

pytestmark = pytest.mark.django_db

LIST = "/api/v1/roaming-partners/"
TOKEN = "ocpi-token-0123456789abcdef"
WHEN = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


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


# --- OCPI registration state and actions -----------------------------------------------------

PROFILES = "/api/v1/roaming-profiles/"


def action_url(partner, action):
    return f"{LIST}{partner.pk}/{action}/"


def register(partner, **fields):
    """The partner as the credentials handshake leaves it."""
    partner.status = "active"
    partner.credentials_token = TOKEN
    partner.incoming_token_hash = tokens.token_hash(f"ours-{partner.pk}")
    partner.incoming_token_hint = "ours"
    partner.version = "2.2.1"
    partner.registered_at = WHEN
    partner.endpoints = [
        {"identifier": "cdrs", "role": "RECEIVER", "url": "https://partner.example/cdrs"}
    ]
    partner.roles = [
        {"role": "EMSP", "country_code": "DE", "party_id": "HBJ", "business_details": {"name": "H"}}
    ]
    for name, value in fields.items():
        setattr(partner, name, value)
    partner.save()
    return partner


@pytest.fixture
def profile(org):
    return make_profile(org, "DE", "ABC")


def test_a_partner_shows_its_registration_modules_and_pushes(admin, org, partner):
    register(partner, last_error="HTTP 500")
    ModuleSync.objects.create(
        organization=org, partner=partner, module="cdrs", last_success_at=WHEN, sent=3
    )
    OcpiPush.objects.create(
        organization=org, partner=partner, module="cdrs", object_key="1", status="failed"
    )
    data = admin.get(f"{LIST}{partner.pk}/").data
    assert (data["version"], data["registered_at"]) == ("2.2.1", "2026-03-01T09:00:00Z")
    assert data["roles"][0]["party_id"] == "HBJ"
    assert data["endpoints"] == partner.endpoints
    assert data["modules"] == [
        {
            "module": "cdrs",
            "interfaces": ["RECEIVER"],
            "last_success_at": "2026-03-01T09:00:00Z",
            "last_failure_at": None,
            "last_error": "",
            "sent": 3,
            "received": 0,
            "healthy": True,
        }
    ]
    assert (data["pushes_owed"], data["pushes_failed"]) == (0, 1)
    assert (data["last_sync"], data["healthy"], data["last_error"]) == (
        "2026-03-01T09:00:00Z",
        True,
        "HTTP 500",
    )
    assert data["has_incoming_token"] is True
    assert "incoming_token_hash" not in data


def test_registration_fields_are_read_only(admin, partner):
    response = admin.patch(
        f"{LIST}{partner.pk}/",
        {"version": "9.9", "registered_at": "2026-01-01T00:00:00Z", "last_error": "x"},
        format="json",
    )
    assert response.status_code == 200
    partner.refresh_from_db()
    assert (partner.version, partner.registered_at, partner.last_error) == ("", None, "")


def test_the_partner_list_reads_in_a_fixed_number_of_queries(
    admin, org, django_assert_max_num_queries
):
    for number in range(8):
        one = register(make_partner(org, party_id=f"P{number:02d}"))
        ModuleSync.objects.create(organization=org, partner=one, module="cdrs")
        OcpiPush.objects.create(organization=org, partner=one, module="cdrs", object_key="1")
    with django_assert_max_num_queries(6):
        assert len(ids(admin.get(LIST))) == 8


def test_issue_token_answers_token_a_once_with_our_versions_url(admin, org, partner, profile):
    response = admin.post(action_url(partner, "issue-token"))
    assert response.status_code == 200, response.data
    assert response.data["versions_url"] == registration.versions_url(org)
    partner.refresh_from_db()
    assert partner.incoming_token_hash == tokens.token_hash(response.data["token"])
    assert response.data["token"] not in admin.get(f"{LIST}{partner.pk}/").content.decode()


def test_issue_token_for_a_registered_partner_is_a_409(admin, partner, profile):
    register(partner)
    response = admin.post(action_url(partner, "issue-token"))
    assert response.status_code == 409
    assert "rotate the tokens" in response.data["detail"]


def test_issue_token_without_a_roaming_profile_is_a_409(admin, partner):
    response = admin.post(action_url(partner, "issue-token"))
    assert response.status_code == 409
    partner.refresh_from_db()
    assert partner.incoming_token_hash is None


def test_connect_with_a_bad_body_names_the_fields(admin, partner, profile):
    response = admin.post(action_url(partner, "connect"), {"versions_url": "nope"}, format="json")
    assert response.status_code == 400
    assert set(response.data) == {"versions_url", "token"}


def test_connect_hands_url_and_token_to_the_handshake(admin, partner, profile, monkeypatch):
    def connect(partner, *, url, token_a):
        assert (url, token_a) == ("https://partner.example/versions", "token-a")
        register(partner)
        return partner

    monkeypatch.setattr(registration, "connect", connect)
    response = admin.post(
        action_url(partner, "connect"),
        {"versions_url": "https://partner.example/versions", "token": "token-a"},
        format="json",
    )
    assert response.status_code == 200, response.data
    assert (response.data["status"], response.data["version"]) == ("active", "2.2.1")
    assert "token-a" not in response.content.decode()


def test_a_partner_refusing_the_connection_is_a_400_with_its_reason(
    admin, partner, profile, monkeypatch
):
    def refuse(partner, *, url, token_a):
        raise RegistrationError("HTTP 401: unknown token")

    monkeypatch.setattr(registration, "connect", refuse)
    response = admin.post(
        action_url(partner, "connect"),
        {"versions_url": "https://partner.example/versions", "token": "x"},
        format="json",
    )
    assert response.status_code == 400
    assert response.data == {"versions_url": ["HTTP 401: unknown token"]}


def test_rotating_an_unregistered_partner_is_a_409(admin, partner, profile):
    assert admin.post(action_url(partner, "rotate")).status_code == 409


def test_sync_answers_what_was_pulled_per_module(admin, partner, profile, monkeypatch):
    register(partner)
    monkeypatch.setattr(
        receiving,
        "pull_partner_data",
        lambda p: [
            receiving.Pulled("locations", stored=2),
            receiving.Pulled("cdrs", error="HTTP 500"),
        ],
    )
    response = admin.post(action_url(partner, "sync"))
    assert response.status_code == 200, response.data
    assert response.data == {"pulled": {"locations": 2, "cdrs": 0}, "errors": {"cdrs": "HTTP 500"}}


def test_sync_of_an_unregistered_partner_is_a_409(admin, partner, profile):
    assert admin.post(action_url(partner, "sync")).status_code == 409


def test_retry_pushes_owes_the_failed_ones_again(
    admin, org, partner, monkeypatch, django_capture_on_commit_callbacks
):
    register(partner)
    sent = []
    monkeypatch.setattr(push, "deliver", lambda push_id: sent.append(push_id) or "sent")
    failed = OcpiPush.objects.create(
        organization=org, partner=partner, module="cdrs", object_key="3", status="failed"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(action_url(partner, "retry-pushes"))
    assert response.data == {"retried": 1}
    failed.refresh_from_db()
    assert failed.status == "pending"
    assert sent == [failed.pk]


@pytest.mark.parametrize(
    "action", ["issue-token", "connect", "rotate", "unregister", "sync", "retry-pushes"]
)
def test_an_operator_cannot_act_on_a_partner(org, partner, profile, action):
    operator = client_as(org, Role.OPERATOR)
    assert operator.post(action_url(partner, action), {}, format="json").status_code == 403
    partner.refresh_from_db()
    assert partner.incoming_token_hash is None


@pytest.mark.parametrize(
    "action", ["issue-token", "connect", "rotate", "unregister", "sync", "retry-pushes"]
)
def test_an_outsider_acting_on_our_partner_gets_404(outsider, partner, profile, action):
    assert outsider.post(action_url(partner, action), {}, format="json").status_code == 404
    partner.refresh_from_db()
    assert partner.incoming_token_hash is None


def test_rotation_through_the_api_replaces_both_tokens(ocpi_pair, live_server):
    admin_of_cpo = client_as(ocpi_pair.cpo, Role.ADMIN)
    old = ocpi_pair.cpo_at_emsp.credentials_token
    response = admin_of_cpo.post(action_url(ocpi_pair.emsp_at_cpo, "rotate"))
    assert response.status_code == 200, response.data
    pair = ocpi_pair.refresh()
    assert pair.cpo_at_emsp.credentials_token != old
    assert pair.emsp_at_cpo.status == pair.cpo_at_emsp.status == "active"
    assert TOKEN not in response.content.decode()


def test_unregistering_through_the_api_ends_it_on_both_sides(ocpi_pair, live_server):
    admin_of_emsp = client_as(ocpi_pair.emsp, Role.ADMIN)
    response = admin_of_emsp.post(action_url(ocpi_pair.cpo_at_emsp, "unregister"))
    assert response.status_code == 200, response.data
    assert (response.data["status"], response.data["has_credentials_token"]) == ("pending", False)
    pair = ocpi_pair.refresh()
    assert pair.emsp_at_cpo.status == "pending"
    assert pair.emsp_at_cpo.incoming_token_hash is None


# --- our roaming profile ---------------------------------------------------------------------


def profiles_url(org):
    return f"/api/v1/organizations/{org.pk}/roaming-profiles/"


def test_an_admin_creates_the_organizations_roaming_profile(admin, org):
    response = admin.post(
        profiles_url(org),
        {"country_code": "DE", "party_id": "ABC", "name": "Stadtwerke", "emsp_enabled": False},
        format="json",
    )
    assert response.status_code == 201, response.data
    assert response.data["roles"] == ["CPO"]
    assert response.data["versions_url"] == registration.versions_url(org)
    assert RoamingProfile.objects.get().organization == org


def test_a_second_profile_for_an_organization_is_a_409(admin, org, profile):
    response = admin.post(
        profiles_url(org), {"country_code": "DE", "party_id": "XYZ"}, format="json"
    )
    assert response.status_code == 409


def test_a_party_another_organization_holds_is_a_400(admin, org, other_org):
    make_profile(other_org, "DE", "ABC")
    response = admin.post(
        profiles_url(org), {"country_code": "DE", "party_id": "ABC"}, format="json"
    )
    assert response.status_code == 400
    assert not RoamingProfile.objects.filter(organization=org).exists()


@pytest.mark.parametrize(("field", "value"), [("country_code", "de"), ("party_id", "AB")])
def test_a_malformed_party_is_a_field_error(admin, org, field, value):
    body = {"country_code": "DE", "party_id": "ABC", field: value}
    response = admin.post(profiles_url(org), body, format="json")
    assert response.status_code == 400
    assert field in response.data


def test_an_admin_changes_the_profile_a_viewer_reads_it(admin, org, profile):
    response = admin.patch(f"{PROFILES}{profile.pk}/", {"cpo_enabled": False}, format="json")
    assert response.status_code == 200, response.data
    viewer = client_as(org, Role.VIEWER)
    assert viewer.get(f"{PROFILES}{profile.pk}/").data["roles"] == ["EMSP"]
    assert viewer.patch(f"{PROFILES}{profile.pk}/", {"name": "x"}, format="json").status_code == 403


def test_an_outsider_neither_sees_nor_changes_nor_creates_our_profile(outsider, org, profile):
    assert outsider.get(PROFILES).data["results"] == []
    assert outsider.get(f"{PROFILES}{profile.pk}/").status_code == 404
    assert (
        outsider.patch(f"{PROFILES}{profile.pk}/", {"name": "x"}, format="json").status_code == 404
    )
    response = outsider.post(
        profiles_url(org), {"country_code": "FR", "party_id": "OUT"}, format="json"
    )
    assert response.status_code == 404
    assert list(RoamingProfile.objects.all()) == [profile]
