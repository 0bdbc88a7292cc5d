"""Failed logins lock one (account, address) pair out for a cooling period, on every login."""

import io
import logging
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.db.models import F
from django.test import AsyncClient, Client, RequestFactory

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-7"
WRONG = "wrong-password-1"
ATTACKER = "203.0.113.7"
ELSEWHERE = "198.51.100.20"
LIMIT = 3


@pytest.fixture(autouse=True)
def small_limit(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    # The token endpoint's own per-address rate (DRF, in the cache) is not what is tested here.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def user():
    return UserFactory(username="ops", password=PASSWORD, is_staff=True)


def portal(client, password, address=ATTACKER, username="ops"):
    return client.post(
        "/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address
    )


def admin(client, password, address=ATTACKER, username="ops"):
    return client.post(
        "/admin/login/", {"username": username, "password": password}, REMOTE_ADDR=address
    )


def browsable_api(client, password, address=ATTACKER, username="ops"):
    return client.post(
        "/api-auth/login/", {"username": username, "password": password}, REMOTE_ADDR=address
    )


def token(client, password, address=ATTACKER, username="ops"):
    return client.post(
        "/api/v1/auth/token/",
        {"username": username, "password": password},
        content_type="application/json",
        REMOTE_ADDR=address,
    )


LOGINS = [
    pytest.param(portal, 302, id="portal"),
    pytest.param(admin, 302, id="admin"),
    pytest.param(browsable_api, 302, id="browsable-api"),
    pytest.param(token, 200, id="token"),
]


@pytest.mark.parametrize(("login", "success"), LOGINS)
def test_each_login_answers_429_once_the_limit_of_failures_is_reached(user, login, success):
    client = Client()
    answers = [login(client, WRONG).status_code for _ in range(LIMIT)]

    assert 429 not in answers[:-1]
    assert answers[-1] == 429
    # Locked: not even the right password gets through from this address.
    assert login(client, PASSWORD).status_code == 429


@pytest.mark.parametrize(("login", "success"), LOGINS)
def test_the_real_user_still_logs_in_from_another_address(user, login, success):
    for _ in range(LIMIT + 2):
        login(Client(), WRONG)

    assert login(Client(), PASSWORD, address=ELSEWHERE).status_code == success


@pytest.mark.parametrize(("login", "success"), LOGINS)
def test_another_account_from_the_same_address_is_not_locked(user, login, success):
    UserFactory(username="colleague", password=PASSWORD, is_staff=True)
    for _ in range(LIMIT):
        login(Client(), WRONG)

    assert login(Client(), PASSWORD, username="colleague").status_code == success


def test_token_failures_count_towards_the_same_lock_as_the_portal(user):
    client = Client()
    for _ in range(LIMIT - 1):
        assert token(client, WRONG).status_code == 400

    assert portal(client, WRONG).status_code == 429
    assert portal(client, PASSWORD).status_code == 429


def test_the_lock_ends_after_the_cooling_period(user):
    client = Client()
    for _ in range(LIMIT):
        portal(client, WRONG)
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=14))
    assert portal(client, PASSWORD).status_code == 429

    # The refused attempt above started the period again: 16 minutes from now it is over.
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=16))

    assert portal(client, PASSWORD).status_code == 302


def test_the_api_lockout_is_json_with_retry_after(user):
    client = Client()
    for _ in range(LIMIT):
        response = token(client, WRONG)

    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "900"
    assert "Too many failed logins" in response.json()["detail"]
    assert "Try again in 15 minutes" in response.json()["detail"]


def test_the_portal_lockout_is_a_readable_page(user):
    client = Client()
    for _ in range(LIMIT):
        response = portal(client, WRONG)

    assert response.status_code == 429
    assert response["Content-Type"].startswith("text/html")
    assert response["Retry-After"] == "900"
    page = response.content.decode()
    assert "<h1>Too many failed logins</h1>" in page
    assert "Try again in 15 minutes." in page


@pytest.mark.django_db(transaction=True)
async def test_the_lockout_is_a_429_under_asgi_too(user):
    # The production servers are ASGI: axes' middleware then runs its async branch.
    client = AsyncClient(REMOTE_ADDR=ATTACKER)
    for _ in range(LIMIT):
        response = await client.post("/accounts/login/", {"username": "ops", "password": WRONG})

    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()


def test_a_successful_login_forgets_the_users_own_earlier_typos(user):
    client = Client()
    for _ in range(LIMIT - 1):
        portal(client, WRONG)
    assert portal(client, PASSWORD).status_code == 302

    assert portal(Client(), WRONG).status_code == 200


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def axes_log():
    """What the axes logger's handler writes, with the summary's clock under the test's hand."""
    handler = logging.getLogger("axes").handlers[0]
    (summary,) = handler.filters
    clock, stream = FakeClock(), io.StringIO()
    previous_clock, previous_stream = summary.clock, handler.setStream(stream)
    summary.clock = clock
    summary.reset()
    yield clock, stream, summary.period
    summary.clock = previous_clock
    summary.reset()
    handler.setStream(previous_stream)


def test_failed_logins_are_logged_as_one_summary_line_per_period(user, axes_log):
    clock, stream, period = axes_log
    UserFactory(username="colleague", password=PASSWORD)
    for address in ("203.0.113.7", "203.0.113.8", "203.0.113.9"):
        for username in ("ops", "colleague"):
            for _ in range(LIMIT):
                portal(Client(), WRONG, address=address, username=username)
    assert len(stream.getvalue().splitlines()) == 1

    clock.now += period
    portal(Client(), WRONG, address=ELSEWHERE)

    first, second = stream.getvalue().splitlines()
    assert first.endswith(
        "Failed web login from 203.0.113.7; further ones are summarised every 60 s."
    )
    assert "Failed web logins in the last 60 s: 18 failures, 6 lockouts, from 3 addresses" in second
    assert "(most: 203.0.113.7 (6), 203.0.113.8 (6), 203.0.113.9 (6))" in second
    assert second.endswith(f"from {ELSEWHERE}; further ones are summarised every 60 s.")
    # Account names are never logged: a username field often holds a mistyped password.
    assert "colleague" not in stream.getvalue()


def test_djangos_line_for_a_refused_login_is_dropped_and_other_429s_are_kept(user):
    client = Client()
    for _ in range(LIMIT):
        locked = portal(client, WRONG)
    console = next(h for h in logging.getLogger().handlers if h.name == "console")
    records = []
    for request in (locked.wsgi_request, RequestFactory().get("/api/v1/")):
        record = logging.LogRecord("django.request", logging.WARNING, "", 0, "x", (), None)
        record.request, record.status_code = request, 429
        records.append(bool(console.filter(record)))

    assert records == [False, True]
