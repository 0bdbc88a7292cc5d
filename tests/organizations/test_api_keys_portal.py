"""Portal API keys page: admins list, create (the secret shown once) and revoke keys."""

from datetime import timedelta

import pytest
from django.utils import timezone

from organizations.choices import Role
from organizations.models import OrganizationAPIKey
from tests.apiclients import key_client
from tests.factories import make_api_key
from tests.portalclients import org_url, portal_client

pytestmark = pytest.mark.django_db

ADMINS = [Role.ADMIN, Role.OWNER]
BELOW_ADMIN = [Role.VIEWER, Role.OPERATOR]


def keys_url(org):
    return org_url(org, "api-keys/")


def revoke_url(org, api_key):
    return org_url(org, f"api-keys/{api_key.prefix}/revoke/")


# --- Who sees the page -----------------------------------------------------------------------


@pytest.mark.parametrize("role", ADMINS)
def test_admins_see_the_keys_with_prefix_role_and_last_use(org, role):
    used = timezone.now() - timedelta(hours=2)
    api_key, _secret = make_api_key(org, Role.OPERATOR, name="Fleet dashboard", last_used=used)
    page = portal_client(org, role).get(keys_url(org)).content.decode()
    assert "Fleet dashboard" in page
    assert f"{api_key.prefix}…" in page
    assert "Operator" in page
    assert "Never" in page  # no expiry


@pytest.mark.parametrize("role", BELOW_ADMIN)
def test_below_admin_the_keys_page_is_forbidden(org, role):
    make_api_key(org, name="Fleet dashboard")
    response = portal_client(org, role).get(keys_url(org))
    assert response.status_code == 403
    assert "Fleet dashboard" not in response.content.decode()


def test_the_keys_page_of_another_organization_is_404(org, other_org):
    assert portal_client(other_org, Role.OWNER).get(keys_url(org)).status_code == 404


def test_another_organizations_keys_are_not_listed(org, other_org):
    make_api_key(other_org, name="Their secret integration")
    page = portal_client(org, Role.ADMIN).get(keys_url(org)).content.decode()
    assert "Their secret integration" not in page


def test_the_keys_page_stays_within_its_query_budget(org, django_assert_max_num_queries):
    for number in range(5):
        make_api_key(org, name=f"Key {number}")
    client = portal_client(org, Role.ADMIN)
    with django_assert_max_num_queries(6):
        response = client.get(keys_url(org))
    assert response.content.decode().count("data-api-key=") == 5


# --- Creating --------------------------------------------------------------------------------


def test_an_admin_creates_a_key_and_sees_the_working_secret_once(org):
    client = portal_client(org, Role.ADMIN)
    response = client.post(keys_url(org), {"name": "Fleet dashboard", "role": Role.OPERATOR})
    assert response.status_code == 201
    secret = response.context["secret"]
    page = response.content.decode()
    assert secret in page
    assert "shown this once" in page
    # Never from a cache or the back button: the secret leaves with this one answer.
    assert "no-store" in response["Cache-Control"]
    api_key = OrganizationAPIKey.objects.get(organization=org)
    assert (api_key.name, api_key.role) == ("Fleet dashboard", Role.OPERATOR)
    # The secret works against the API, and the list never shows it again.
    assert key_client(secret).get("/api/v1/organizations/").status_code == 200
    assert secret not in client.get(keys_url(org)).content.decode()


def test_a_key_gets_the_expiry_given_in_the_organizations_time_zone(org):
    org.timezone = "Europe/Berlin"
    org.save()
    client = portal_client(org, Role.ADMIN)
    next_year = timezone.now().year + 1
    response = client.post(
        keys_url(org),
        {"name": "Temp", "role": Role.VIEWER, "expiry_date": f"{next_year}-01-15T12:00"},
    )
    assert response.status_code == 201
    expiry = OrganizationAPIKey.objects.get(organization=org).expiry_date
    assert expiry.utctimetuple()[:5] == (next_year, 1, 15, 11, 0)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "", "role": Role.VIEWER}, "name"),
        ({"name": "   ", "role": Role.VIEWER}, "name"),
        ({"name": "x" * 51, "role": Role.VIEWER}, "name"),
        ({"name": "Ok", "role": "root"}, "role"),
        ({"name": "Ok", "role": Role.VIEWER, "expiry_date": "2001-01-01T00:00"}, "expiry_date"),
        ({"name": "Ok", "role": Role.VIEWER, "expiry_date": "tomorrow"}, "expiry_date"),
    ],
)
def test_invalid_key_bodies_get_field_errors_and_create_nothing(org, body, field):
    response = portal_client(org, Role.ADMIN).post(keys_url(org), body)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not OrganizationAPIKey.objects.exists()


def test_an_admin_may_not_create_an_owner_key(org):
    # APIKeyRole has no owner: the choice does not exist.
    response = portal_client(org, Role.ADMIN).post(
        keys_url(org), {"name": "Too much", "role": Role.OWNER}
    )
    assert response.status_code == 400
    assert not OrganizationAPIKey.objects.exists()


@pytest.mark.parametrize("role", BELOW_ADMIN)
def test_below_admin_nobody_creates_a_key(org, role):
    response = portal_client(org, role).post(keys_url(org), {"name": "x", "role": Role.VIEWER})
    assert response.status_code == 403
    assert not OrganizationAPIKey.objects.exists()


def test_an_outsider_creates_no_key_for_us(org, other_org):
    response = portal_client(other_org, Role.OWNER).post(
        keys_url(org), {"name": "x", "role": Role.VIEWER}
    )
    assert response.status_code == 404
    assert not OrganizationAPIKey.objects.exists()


# --- Revoking --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ADMINS)
def test_an_admin_revokes_a_key_and_it_stops_working(org, role):
    api_key, secret = make_api_key(org)
    response = portal_client(org, role).post(revoke_url(org, api_key))
    assert response.status_code == 302
    api_key.refresh_from_db()
    assert api_key.revoked and api_key.revoked_at is not None
    assert key_client(secret).get("/api/v1/organizations/").status_code == 401


def test_revoking_twice_says_so_and_keeps_the_first_revocation(org):
    api_key, _secret = make_api_key(org)
    client = portal_client(org, Role.ADMIN)
    client.post(revoke_url(org, api_key))
    api_key.refresh_from_db()
    first = api_key.revoked_at
    response = client.post(revoke_url(org, api_key), follow=True)
    assert "revoked already" in response.content.decode()
    api_key.refresh_from_db()
    assert api_key.revoked_at == first


@pytest.mark.parametrize("role", BELOW_ADMIN)
def test_below_admin_nobody_revokes_a_key(org, role):
    api_key, _secret = make_api_key(org)
    assert portal_client(org, role).post(revoke_url(org, api_key)).status_code == 403
    api_key.refresh_from_db()
    assert not api_key.revoked


def test_a_key_of_another_organization_cannot_be_revoked_through_ours(org, other_org):
    theirs, _secret = make_api_key(other_org)
    assert portal_client(org, Role.OWNER).post(revoke_url(org, theirs)).status_code == 404
    theirs.refresh_from_db()
    assert not theirs.revoked
