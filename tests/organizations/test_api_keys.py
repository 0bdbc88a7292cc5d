"""/api/v1/api-keys/: creating, listing and revoking organization API keys, and using them."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from ocpp_gateway.models import CommandLog
from organizations.api.authentication import LAST_USED_RESOLUTION
from organizations.choices import Role
from organizations.models import OrganizationAPIKey
from organizations.services import RoleAboveOwn, create_api_key
from tests.api.conftest import OFFLINE_OK, throwaway_commands  # noqa: F401
from tests.apiclients import client_for, key_client, member
from tests.factories import ChargingStationFactory, make_api_key

pytestmark = pytest.mark.django_db

FLAT = "/api/v1/api-keys/"


def nested(organization):
    return f"/api/v1/organizations/{organization.pk}/api-keys/"


def detail(api_key, suffix=""):
    return f"{FLAT}{api_key.prefix}/{suffix}"


def results(response):
    assert response.status_code == 200, response.data
    return response.data["results"]


@pytest.fixture
def admin(org):
    return member((org, Role.ADMIN))


@pytest.fixture
def created(client_for_admin, org):
    """A key created over the API: (the 201 answer, the stored key)."""
    response = client_for_admin.post(
        nested(org), {"name": "ERP", "role": "operator"}, format="json"
    )
    assert response.status_code == 201, response.data
    return response, OrganizationAPIKey.objects.get(prefix=response.data["prefix"])


@pytest.fixture
def client_for_admin(admin):
    return client_for(admin)


# Creating


def test_an_admin_creates_a_key_and_the_answer_shows_its_secret_once(created, admin, org):
    response, api_key = created
    assert response.data == {
        "prefix": api_key.prefix,
        "organization": org.pk,
        "name": "ERP",
        "role": "operator",
        "created": response.data["created"],
        "created_by": admin.username,
        "last_used": None,
        "expiry_date": None,
        "revoked": False,
        "revoked_at": None,
        "key": response.data["key"],
    }
    assert response.data["key"].startswith(f"{api_key.prefix}.")
    assert api_key.created_by == admin


def test_only_the_hash_of_the_secret_is_stored(created):
    response, api_key = created
    secret = response.data["key"]
    stored = OrganizationAPIKey.objects.filter(pk=api_key.pk).values().get()
    assert not any(secret in str(value) for value in stored.values())
    assert api_key.is_valid(secret)


def test_no_other_answer_contains_the_secret_or_the_hash(created, client_for_admin, org):
    response, api_key = created
    secret, hashed = response.data["key"], api_key.hashed_key
    answers = [
        client_for_admin.get(FLAT),
        client_for_admin.get(nested(org)),
        client_for_admin.get(detail(api_key)),
        client_for_admin.post(detail(api_key, "revoke/")),
    ]
    for answer in answers:
        assert answer.status_code == 200
        body = answer.content.decode()
        assert secret not in body
        assert hashed not in body
        assert api_key.pk not in body


def test_a_key_may_expire_in_the_future(client_for_admin, org):
    expiry = timezone.now() + timedelta(days=30)
    response = client_for_admin.post(
        nested(org), {"name": "Temp", "role": "viewer", "expiry_date": expiry}, format="json"
    )
    assert response.status_code == 201, response.data
    assert OrganizationAPIKey.objects.get(prefix=response.data["prefix"]).expiry_date == expiry


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "viewer"}, "name"),
        ({"name": "x" * 51, "role": "viewer"}, "name"),
        ({"name": "ERP"}, "role"),
        ({"name": "ERP", "role": "owner"}, "role"),
        ({"name": "ERP", "role": "viewer", "expiry_date": "2020-01-01T00:00:00Z"}, "expiry_date"),
        ({"name": "ERP", "role": "viewer", "expiry_date": "soon"}, "expiry_date"),
    ],
)
def test_a_bad_body_is_a_field_error_and_creates_no_key(client_for_admin, org, body, field):
    response = client_for_admin.post(nested(org), body, format="json")
    assert response.status_code == 400
    assert set(response.data) == {field}
    assert not OrganizationAPIKey.objects.exists()


def test_a_key_is_never_given_a_role_above_its_creators(org, admin):
    with pytest.raises(RoleAboveOwn):
        create_api_key(
            org, name="Sneaky", role=Role.ADMIN, created_by=admin, creator_role=Role.OPERATOR
        )
    assert not OrganizationAPIKey.objects.exists()


def test_an_owner_creates_an_admin_key(org):
    owner = member((org, Role.OWNER))
    response = client_for(owner).post(nested(org), {"name": "Ops", "role": "admin"}, format="json")
    assert response.status_code == 201, response.data
    assert response.data["role"] == "admin"


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OPERATOR])
def test_below_admin_nobody_creates_or_lists_keys(org, role):
    client = client_for(member((org, role)))
    assert client.post(nested(org), {"name": "X", "role": "viewer"}).status_code == 403
    assert client.get(nested(org)).status_code == 403
    assert not OrganizationAPIKey.objects.exists()


def test_an_admin_api_key_may_not_create_keys(org):
    _key, secret = make_api_key(org, role=Role.ADMIN)
    response = key_client(secret).post(nested(org), {"name": "Child", "role": "viewer"})
    assert response.status_code == 403
    assert not OrganizationAPIKey.objects.filter(name="Child").exists()


# Reading


def test_the_flat_list_shows_keys_of_organizations_where_the_caller_is_admin(org, other_org):
    ours, _ = make_api_key(org, name="Ours")
    theirs, _ = make_api_key(other_org, name="Theirs")
    user = member((org, Role.ADMIN), (other_org, Role.OPERATOR))
    client = client_for(user)
    assert [row["prefix"] for row in results(client.get(FLAT))] == [ours.prefix]
    assert client.get(detail(theirs)).status_code == 403


def test_the_list_filters_by_revoked_and_role(org, admin):
    kept, _ = make_api_key(org, role=Role.VIEWER, name="Kept")
    make_api_key(org, role=Role.VIEWER, name="Gone", revoked=True)
    make_api_key(org, role=Role.ADMIN, name="Strong")
    client = client_for(admin)
    live_viewers = results(client.get(FLAT, {"revoked": "false", "role": "viewer"}))
    assert [row["prefix"] for row in live_viewers] == [kept.prefix]


def test_an_admin_api_key_reads_the_keys_of_its_organization(org, other_org):
    make_api_key(other_org, name="Theirs")
    own, secret = make_api_key(org, role=Role.ADMIN, name="Own")
    listed = results(key_client(secret).get(FLAT))
    assert [row["prefix"] for row in listed] == [own.prefix]


def test_an_outsider_gets_404_for_our_key(org, other_org):
    ours, _ = make_api_key(org)
    client = client_for(member((other_org, Role.OWNER)))
    assert client.get(detail(ours)).status_code == 404
    assert client.post(detail(ours, "revoke/")).status_code == 404
    assert client.get(nested(org)).status_code == 404
    ours.refresh_from_db()
    assert not ours.revoked


# Revoking


def test_an_admin_revokes_a_key_and_it_stops_working(org, admin):
    api_key, secret = make_api_key(org, role=Role.VIEWER)
    assert key_client(secret).get(FLAT.replace("api-keys", "members")).status_code == 200
    response = client_for(admin).post(detail(api_key, "revoke/"))
    assert response.status_code == 200, response.data
    assert response.data["revoked"] is True
    api_key.refresh_from_db()
    assert api_key.revoked
    assert abs(api_key.revoked_at - timezone.now()) < timedelta(minutes=1)
    assert key_client(secret).get("/api/v1/members/").status_code == 401


def test_revoking_twice_is_a_conflict(org, admin):
    api_key, _ = make_api_key(org)
    client = client_for(admin)
    assert client.post(detail(api_key, "revoke/")).status_code == 200
    api_key.refresh_from_db()
    first = api_key.revoked_at
    response = client.post(detail(api_key, "revoke/"))
    assert response.status_code == 409
    assert response.data["detail"] == "The API key was revoked already."
    api_key.refresh_from_db()
    assert api_key.revoked_at == first


def test_an_operator_may_not_revoke_a_key(org):
    api_key, _ = make_api_key(org)
    response = client_for(member((org, Role.OPERATOR))).post(detail(api_key, "revoke/"))
    assert response.status_code == 403
    api_key.refresh_from_db()
    assert not api_key.revoked


def test_an_admin_api_key_may_not_revoke_keys_not_even_itself(org):
    api_key, secret = make_api_key(org, role=Role.ADMIN)
    response = key_client(secret).post(detail(api_key, "revoke/"))
    assert response.status_code == 403
    api_key.refresh_from_db()
    assert not api_key.revoked


# Authenticating with a key (organizations.api.authentication)


def test_a_key_acts_with_its_own_role(org):
    _key, secret = make_api_key(org, role=Role.VIEWER)
    client = key_client(secret)
    # A viewer reads members but may not list API keys (admin).
    assert client.get("/api/v1/members/").status_code == 200
    assert client.get(nested(org)).status_code == 403


def test_a_key_works_in_its_own_organization_only(org, other_org):
    theirs = ChargingStationFactory(organization=other_org)
    ours = ChargingStationFactory(organization=org)
    _key, secret = make_api_key(org, role=Role.ADMIN)
    client = key_client(secret)
    assert client.get(f"/api/v1/stations/{ours.pk}/").status_code == 200
    assert client.get(f"/api/v1/stations/{theirs.pk}/").status_code == 404
    assert client.get(nested(other_org)).status_code == 404
    listed = results(client.get("/api/v1/stations/"))
    assert [row["id"] for row in listed] == [ours.pk]


@pytest.mark.parametrize(
    "header",
    [
        "Api-Key nonsense",
        "Api-Key",
        "Api-Key one two",
    ],
)
def test_a_malformed_or_unknown_key_is_401(org, header):
    make_api_key(org)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert client.get("/api/v1/members/").status_code == 401


def test_a_key_with_a_wrong_secret_is_401(org):
    api_key, secret = make_api_key(org)
    wrong = f"{api_key.prefix}.{'x' * (len(secret) - len(api_key.prefix) - 1)}"
    assert key_client(wrong).get("/api/v1/members/").status_code == 401


def test_a_revoked_key_is_401(org):
    _key, secret = make_api_key(org, revoked=True)
    response = key_client(secret).get("/api/v1/members/")
    assert response.status_code == 401
    assert response.data["detail"] == "Invalid or revoked API key."


def test_an_expired_key_is_401(org):
    _key, secret = make_api_key(org, expiry_date=timezone.now() - timedelta(seconds=1))
    response = key_client(secret).get("/api/v1/members/")
    assert response.status_code == 401
    assert response.data["detail"] == "The API key has expired."


def test_a_key_before_its_expiry_works(org):
    _key, secret = make_api_key(org, expiry_date=timezone.now() + timedelta(hours=1))
    assert key_client(secret).get("/api/v1/members/").status_code == 200


def test_a_keys_last_use_is_recorded(org):
    api_key, secret = make_api_key(org)
    assert api_key.last_used is None
    key_client(secret).get("/api/v1/members/")
    api_key.refresh_from_db()
    assert abs(api_key.last_used - timezone.now()) < timedelta(minutes=1)


def test_a_keys_last_use_is_written_at_most_once_a_minute(org):
    api_key, secret = make_api_key(org)
    recent = timezone.now() - LAST_USED_RESOLUTION / 2
    long_ago = timezone.now() - LAST_USED_RESOLUTION * 2
    OrganizationAPIKey.objects.filter(pk=api_key.pk).update(last_used=recent)
    key_client(secret).get("/api/v1/members/")
    api_key.refresh_from_db()
    assert api_key.last_used == recent
    OrganizationAPIKey.objects.filter(pk=api_key.pk).update(last_used=long_ago)
    key_client(secret).get("/api/v1/members/")
    api_key.refresh_from_db()
    assert api_key.last_used > recent


def test_a_failed_authentication_records_no_use(org):
    api_key, secret = make_api_key(org, revoked=True)
    key_client(secret).get("/api/v1/members/")
    api_key.refresh_from_db()
    assert api_key.last_used is None


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("throwaway_commands")
def test_a_command_run_with_a_key_records_the_key(org):
    # restart_station checks that the station is online before the command service runs, so
    # a command that skips that check reaches send_call, which logs the offline station.
    station = ChargingStationFactory(organization=org)
    api_key, secret = make_api_key(org, role=Role.OPERATOR)
    response = key_client(secret).post(
        f"/api/v1/stations/{station.pk}/commands/", {"command": OFFLINE_OK}, format="json"
    )
    assert response.status_code == 409
    log = CommandLog.objects.get()
    assert (log.api_key, log.requested_by, log.requested_via, log.status) == (
        api_key,
        None,
        "api_key",
        "offline",
    )
