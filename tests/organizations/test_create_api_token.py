"""Personal API tokens: `manage.py create_api_token` and `POST /api/v1/auth/token/`."""

from io import StringIO
from unittest import mock

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from organizations.choices import Role
from tests.apiclients import member
from tests.factories import USER_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"


def create_api_token(*args):
    out = StringIO()
    call_command("create_api_token", *args, stdout=out)
    return out.getvalue().strip()


def token_client(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture(autouse=True)
def empty_throttle_cache():
    """Throttle counts live in the cache: each test starts, and leaves, with none."""
    cache.clear()
    yield
    cache.clear()


# manage.py create_api_token


def test_the_command_prints_the_users_token(org):
    user = member((org, Role.VIEWER))
    printed = create_api_token(user.username)
    assert printed == Token.objects.get(user=user).key
    assert token_client(printed).get("/api/v1/organizations/").status_code == 200


def test_the_command_prints_the_same_token_twice(db):
    user = UserFactory()
    assert create_api_token(user.username) == create_api_token(user.username)
    assert Token.objects.filter(user=user).count() == 1


def test_rotate_replaces_the_token_and_the_old_one_stops_working(org):
    user = member((org, Role.VIEWER))
    old = create_api_token(user.username)
    new = create_api_token(user.username, "--rotate")
    assert new != old
    assert Token.objects.get(user=user).key == new
    assert token_client(old).get("/api/v1/organizations/").status_code == 401
    assert token_client(new).get("/api/v1/organizations/").status_code == 200


def test_an_unknown_user_is_an_error(db):
    with pytest.raises(CommandError, match="No user 'ghost'"):
        create_api_token("ghost")
    assert not Token.objects.exists()


def test_an_inactive_user_is_an_error(db):
    UserFactory(username="left", is_active=False)
    with pytest.raises(CommandError, match="inactive"):
        create_api_token("left")
    assert not Token.objects.exists()


# POST /api/v1/auth/token/


def test_username_and_password_give_a_token_that_authenticates(org):
    user = member((org, Role.VIEWER))
    response = APIClient().post(
        TOKEN_URL, {"username": user.username, "password": USER_PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.data
    assert response.data == {"token": Token.objects.get(user=user).key}
    listed = token_client(response.data["token"]).get("/api/v1/organizations/")
    assert [row["id"] for row in listed.data["results"]] == [org.pk]


def test_the_endpoint_and_the_command_give_the_same_token(db):
    user = UserFactory()
    printed = create_api_token(user.username)
    response = APIClient().post(
        TOKEN_URL, {"username": user.username, "password": USER_PASSWORD}, format="json"
    )
    assert response.data["token"] == printed


def test_a_wrong_password_is_400_and_gives_no_token(db):
    user = UserFactory()
    response = APIClient().post(
        TOKEN_URL, {"username": user.username, "password": "wrong"}, format="json"
    )
    assert response.status_code == 400
    assert "token" not in response.data
    assert not Token.objects.exists()


def test_a_made_up_token_is_401(db):
    assert token_client("0" * 40).get("/api/v1/organizations/").status_code == 401


def test_the_token_endpoint_is_throttled_after_its_rate(db):
    user = UserFactory()
    body = {"username": user.username, "password": "wrong"}
    # DRF reads the rates when the throttle class is defined, so settings cannot lower them.
    with mock.patch.dict(ScopedRateThrottle.THROTTLE_RATES, {"auth-token": "2/min"}):
        client = APIClient()
        statuses = [client.post(TOKEN_URL, body, format="json").status_code for _ in range(3)]
        # The right password does not get through either once the rate is used up.
        right = client.post(
            TOKEN_URL, {"username": user.username, "password": USER_PASSWORD}, format="json"
        )
    assert statuses == [400, 400, 429]
    assert right.status_code == 429
    assert "Retry-After" in right
    assert not Token.objects.exists()
