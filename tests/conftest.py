"""Shared fixtures: an organization with an admin, an outsider organization, a station."""

import os
import shutil
import tempfile
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import TransactionTestCase, override_settings
from django.utils import translation

from alerts.webhooks import _ORGANIZATIONS_KEY as ORGANIZATIONS_WITH_WEBHOOKS
from ocpp_gateway.throttle import auth_throttle
from organizations.choices import Role
from roaming.publishing import CPO_ORGANIZATIONS_KEY
from tests import cleanup
from tests.factories import (
    ChargingStationFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
)

# The live ASGI server and the DB helper for async tests, for every test package.
from tests.ocpp_gateway.conftest import db_call, ocpp_server  # noqa: F401
from tests.stripefake import localstripe_server, stripe_fake  # noqa: F401


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """On SQLite the test database is a file in WAL mode, as `make run` uses it, not memory."""
    # Django's in-memory test database shares one cache between threads, and that cache refuses
    # (never waits for) a read of a table another thread is writing: the real-socket tests, where
    # the gateway writes while the test reads, failed at random with "database table is locked".
    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.sqlite3":
        yield
        return
    ram = Path("/dev/shm")
    folder = Path(
        tempfile.mkdtemp(prefix="cms-test-db-", dir=ram)
        if ram.is_dir() and os.access(ram, os.W_OK)
        else tmp_path_factory.mktemp("db")
    )
    database["TEST"] = {**database.get("TEST", {}), "NAME": str(folder / "test.sqlite3")}
    yield
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def quick_transactional_cleanup():
    """Transactional tests end with DELETE rather than a flush (tests/cleanup.py)."""
    with mock.patch.object(TransactionTestCase, "_fixture_teardown", cleanup.fixture_teardown):
        yield


@pytest.fixture(scope="session", autouse=True)
def media_root(tmp_path_factory):
    """Uploaded files (diagnostics) land in a temporary folder, never in the checkout's media/."""
    with override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")):
        yield


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Hash passwords cheaply in tests; production keeps Django's slow default."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def wide_timestamp_window(settings):
    """Fixtures date sessions in 2026: the plausibility window must not age them out."""
    # Tests of the window itself narrow it again (tests/ocpp_gateway/test_implausible_data.py).
    settings.OCPP_TIMESTAMP_MAX_AGE_DAYS = 365_000


@pytest.fixture(autouse=True)
def default_language():
    """Every test starts and ends in the default language: a request leaves its own active."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def fresh_station_auth_throttle():
    """Every test starts with no failed station handshakes counted (all come from 127.0.0.1)."""
    auth_throttle.reset()
    yield
    auth_throttle.reset()


@pytest.fixture(autouse=True)
def no_cached_organization_sets():
    """Sets cached across requests (who has webhooks, who roams) never outlive a test's rows."""
    # A rolled-back test leaves them naming organizations that no longer exist, and the next
    # test would skip (or make) a query by them. Only these keys: the Redis pass shares its
    # database with the broker, so the whole cache is not cleared.
    cache.delete_many([ORGANIZATIONS_WITH_WEBHOOKS, CPO_ORGANIZATIONS_KEY])
    yield


@pytest.fixture
def org(db):
    return OrganizationFactory(name="Stadtwerke Demo", slug="stadtwerke-demo")


@pytest.fixture
def other_org(db):
    """An outsider organization that must never see or change anything of `org`."""
    return OrganizationFactory(name="Outsider GmbH", slug="outsider")


@pytest.fixture
def admin_user(org):
    user = UserFactory(username="org-admin")
    MembershipFactory(user=user, organization=org, role=Role.ADMIN)
    return user


@pytest.fixture
def outsider_user(other_org):
    user = UserFactory(username="outsider-admin")
    MembershipFactory(user=user, organization=other_org, role=Role.OWNER)
    return user


@pytest.fixture
def admin_client(client, admin_user):
    """A Django test client logged in as an admin of `org`."""
    client.force_login(admin_user)
    return client


@pytest.fixture
def station(org):
    return ChargingStationFactory(organization=org, ocpp_id="CS-DEMO-1")


@pytest.fixture
def superuser_client(client, db):
    """A Django test client logged in as support staff (superuser) for the Django admin."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_superuser("support", "support@example.com", "x" * 12)
    client.force_login(user)
    return client


@pytest.fixture
def eager_celery():
    """Run tasks in-process even when REDIS_URL points the suite at a real broker."""
    from cms.celery import app as celery_app

    keys = ("task_always_eager", "task_eager_propagates")
    previous = {key: celery_app.conf[key] for key in keys}
    celery_app.conf.update(dict.fromkeys(keys, True))
    yield
    celery_app.conf.update(previous)
