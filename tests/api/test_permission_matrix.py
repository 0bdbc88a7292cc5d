"""Every API endpoint and method, called by anonymous, each role, an API key and an outsider."""

import pkgutil
from importlib import import_module

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from organizations.choices import Role
from tests.api import matrix
from tests.api.matrix import ROLES, Endpoint, build_world
from tests.factories import OrganizationFactory, make_api_key

pytestmark = pytest.mark.django_db

ENDPOINTS: list[Endpoint] = [
    endpoint
    for module in pkgutil.iter_modules(matrix.__path__)
    for endpoint in import_module(f"{matrix.__name__}.{module.name}").ENDPOINTS
]
# Routes that are not about an organization's data, tested on their own.
OUTSIDE_THE_MATRIX = {("api-root", "get"), ("auth-token", "post")}


def api_routes(patterns=None) -> set[tuple[str, str]]:
    """(URL name, method) of every route under the `api` namespace."""
    if patterns is None:
        patterns = get_resolver().namespace_dict["api"][1].url_patterns
    routes = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            routes |= api_routes(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            actions = getattr(pattern.callback, "actions", None)
            if actions is not None:
                # DRF adds HEAD to a route's actions the first time a GET is served.
                routes |= {(pattern.name, method) for method in actions if method != "head"}
            else:
                view = pattern.callback.view_class
                routes |= {
                    (pattern.name, method)
                    for method in view.http_method_names
                    if hasattr(view, method) and method not in ("options", "head")
                }
    return routes


def test_every_api_route_is_in_the_matrix():
    listed = [(endpoint.name, endpoint.method) for endpoint in ENDPOINTS]
    assert len(listed) == len(set(listed)), "an endpoint is listed twice"
    missing = api_routes() - set(listed) - OUTSIDE_THE_MATRIX
    assert missing == set()
    assert set(listed) - api_routes() == set(), "the matrix lists a route that does not exist"


@pytest.fixture
def world(org, other_org):
    return build_world(org, other_org)


def call(endpoint: Endpoint, world, user=None, api_key=None):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    if api_key is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key}")
    body = endpoint.body(world) if endpoint.body else None
    method = getattr(client, endpoint.method)
    if endpoint.method == "get":
        return method(endpoint.url(world), body)
    return method(endpoint.url(world), body, format=endpoint.format)


def listed_values(response, key):
    data = response.json()
    rows = data["results"] if isinstance(data, dict) and "results" in data else data
    return [row.get(key) for row in rows]


def assert_not_listed(endpoint, world, response):
    assert response.status_code == 200, response.content[:500]
    assert endpoint.ours is not None, f"{endpoint}: a list names `ours`"
    assert endpoint.ours(world) not in listed_values(response, endpoint.key)


# Requests that reach the command service commit for real: channels' database_sync_to_async
# closes a connection it finds inside the test's transaction (on PostgreSQL).
COMMITTING = pytest.mark.django_db(transaction=True)


def by_name(endpoints):
    return pytest.mark.parametrize(
        "endpoint",
        [
            pytest.param(e, id=str(e), marks=[COMMITTING] if e.transactional else [])
            for e in endpoints
        ],
    )


def check_anonymous_is_401(endpoint, world):
    response = call(endpoint, world)
    assert response.status_code == 401


def check_each_role(endpoint, world, role):
    response = call(endpoint, world, user=world.users[role])
    if Role(role).at_least(endpoint.role):
        assert response.status_code in endpoint.ok, response.content[:500]
    elif endpoint.is_flat_list:
        # A list above the caller's role covers none of their rows in this organization.
        assert_not_listed(endpoint, world, response)
    else:
        assert response.status_code == 403, response.content[:500]


def check_an_operator_api_key_acts_as_an_operator(endpoint, world):
    _key, secret = make_api_key(world.org, role=Role.OPERATOR, name="Matrix")
    response = call(endpoint, world, api_key=secret)
    if endpoint.people_only:
        assert response.status_code == 403, response.content[:500]
    elif Role.OPERATOR.at_least(endpoint.role):
        assert response.status_code in endpoint.ok, response.content[:500]
    elif endpoint.is_flat_list:
        assert_not_listed(endpoint, world, response)
    else:
        assert response.status_code == 403, response.content[:500]


def check_an_outsider_sees_and_changes_nothing(endpoint, world):
    # The outsider owns their own organization with rows of every kind, so lists are not empty.
    build_world(world.other_org, OrganizationFactory(), "X")
    response = call(endpoint, world, user=world.outsider)
    if endpoint.outsider_ok is not None:
        assert response.status_code in endpoint.outsider_ok, response.content[:500]
    elif endpoint.is_flat_list:
        assert_not_listed(endpoint, world, response)
    else:
        assert response.status_code == 404, response.content[:500]


def check_list_queries_do_not_grow_with_the_page(endpoint, world):
    owner = world.users[Role.OWNER]
    with CaptureQueriesContext(connection) as few:
        assert call(endpoint, world, user=owner).status_code == 200
    endpoint.more(world, 6)
    with CaptureQueriesContext(connection) as many:
        response = call(endpoint, world, user=owner)
    assert response.status_code == 200
    assert len(listed_values(response, endpoint.key)) >= 7, "`more` added rows this list shows"
    assert len(many.captured_queries) == len(few.captured_queries), [
        q["sql"] for q in many.captured_queries
    ]


# Endpoints whose requests commit (COMMITTING) get a world of their own per test; the others
# share one world per class, each test rolled back to it (Django's setUpTestData, for the
# ~2,000 calls here: building a world per call was most of this file's time).
OWN_WORLD = [endpoint for endpoint in ENDPOINTS if endpoint.transactional]
SHARED = [endpoint for endpoint in ENDPOINTS if not endpoint.transactional]


@by_name(OWN_WORLD)
def test_anonymous_is_401(endpoint, world):
    check_anonymous_is_401(endpoint, world)


@by_name(OWN_WORLD)
@pytest.mark.parametrize("role", ROLES)
def test_each_role(endpoint, world, role):
    check_each_role(endpoint, world, role)


@by_name(OWN_WORLD)
def test_an_operator_api_key_acts_as_an_operator(endpoint, world):
    check_an_operator_api_key_acts_as_an_operator(endpoint, world)


@by_name(OWN_WORLD)
def test_an_outsider_sees_and_changes_nothing(endpoint, world):
    check_an_outsider_sees_and_changes_nothing(endpoint, world)


@pytest.fixture(scope="class")
def shared_world(django_db_setup, django_db_blocker):
    """One world for a class of tests; each test runs in a savepoint rolled back after it."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield build_world(OrganizationFactory(), OrganizationFactory())
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.mark.django_db
class TestOnASharedWorld:
    """The same checks for every endpoint whose request does not commit."""

    @by_name(SHARED)
    def test_anonymous_is_401(self, endpoint, shared_world, db):
        check_anonymous_is_401(endpoint, shared_world)

    @by_name(SHARED)
    @pytest.mark.parametrize("role", ROLES)
    def test_each_role(self, endpoint, shared_world, db, role):
        check_each_role(endpoint, shared_world, role)

    @by_name(SHARED)
    def test_an_operator_api_key_acts_as_an_operator(self, endpoint, shared_world, db):
        check_an_operator_api_key_acts_as_an_operator(endpoint, shared_world)

    @by_name(SHARED)
    def test_an_outsider_sees_and_changes_nothing(self, endpoint, shared_world, db):
        check_an_outsider_sees_and_changes_nothing(endpoint, shared_world)

    @by_name([e for e in SHARED if e.method == "get" and e.more])
    def test_list_queries_do_not_grow_with_the_page(self, endpoint, shared_world, db):
        check_list_queries_do_not_grow_with_the_page(endpoint, shared_world)


LISTS = [endpoint for endpoint in ENDPOINTS if endpoint.method == "get" and endpoint.more]


def test_every_list_has_a_query_budget():
    lists = {e.name for e in ENDPOINTS if e.method == "get" and e.name.endswith("-list")}
    assert lists - {e.name for e in LISTS} == set()


def test_every_list_budget_runs_on_the_shared_world():
    # Lists are read-only: none commits, so all of them are checked in TestOnASharedWorld.
    assert [str(e) for e in LISTS if e.transactional] == []
