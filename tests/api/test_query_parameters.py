"""Every read endpoint refuses a query parameter it does not read, and reads those it documents."""

import re

import pytest
from drf_spectacular.generators import SchemaGenerator

from organizations.choices import Role
from tests.apiclients import member
from tests.factories import ChargingSessionFactory, ChargingStationFactory

pytestmark = pytest.mark.django_db

UNKNOWN = "Unknown query parameter"
# No row has it: detail routes then answer 404 once their parameters are accepted.
MISSING_ID = "987654321"


def read_operations():
    """(path, documented query parameter names) of every GET in the published schema."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, operations in sorted(schema["paths"].items()):
        if "get" in operations:
            parameters = operations["get"].get("parameters", [])
            yield path, sorted(p["name"] for p in parameters if p["in"] == "query")


def as_params(operations):
    """Test parameters named after the path."""
    for path, documented in operations:
        yield pytest.param(path, documented, id=path)


READ_OPERATIONS = list(read_operations())


def url_of(path, org):
    # Any other id in the path ({id}, {file_id}) names a row that does not exist.
    return re.sub(r"\{\w+\}", MISSING_ID, path.replace("{organization_pk}", str(org.pk)))


@pytest.mark.parametrize(("path", "documented"), list(as_params(READ_OPERATIONS)))
def test_an_unknown_query_parameter_is_a_400_naming_it(client_for, org, path, documented):
    owner = client_for(member((org, Role.OWNER)))

    response = owner.get(url_of(path, org), {"colour": "red"})

    assert response.status_code == 400, response.content
    errors = response.json()
    assert list(errors) == ["colour"]
    assert UNKNOWN in errors["colour"][0]
    # The message lists what the endpoint does read, for the client to correct its call.
    assert all(name in errors["colour"][0] for name in documented)


@pytest.mark.parametrize(("path", "documented"), list(as_params(READ_OPERATIONS)))
def test_every_documented_query_parameter_is_read(client_for, org, path, documented):
    owner = client_for(member((org, Role.OWNER)))

    # Empty values: each filter then filters nothing, so only an unknown name could be a 400.
    response = owner.get(url_of(path, org), dict.fromkeys(documented, ""))

    assert UNKNOWN not in response.content.decode(), response.content


def test_an_unknown_parameter_is_refused_before_any_row_is_read(client_for, org):
    viewer = client_for(member((org, Role.VIEWER)))

    response = viewer.get("/api/v1/sessions/", {"transactionid": "17", "state": "active"})

    assert response.status_code == 400
    assert list(response.json()) == ["transactionid"]


def test_an_anonymous_caller_with_an_unknown_parameter_is_still_a_401(client):
    assert client.get("/api/v1/sessions/", {"colour": "red"}).status_code == 401


def test_sessions_filter_by_the_stations_transaction_id(client_for, org):
    station = ChargingStationFactory(organization=org)
    wanted = ChargingSessionFactory(station=station, transaction_id="4711", state="completed")
    ChargingSessionFactory(station=station, transaction_id="4712", state="completed")
    viewer = client_for(member((org, Role.VIEWER)))

    response = viewer.get("/api/v1/sessions/", {"transaction_id": "4711"})

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [wanted.pk]


def test_a_transaction_id_of_another_organization_finds_nothing(client_for, org, other_org):
    ChargingSessionFactory(
        station=ChargingStationFactory(organization=other_org), transaction_id="4711"
    )
    viewer = client_for(member((org, Role.VIEWER)))

    response = viewer.get("/api/v1/sessions/", {"transaction_id": "4711"})

    assert (response.status_code, response.json()["results"]) == (200, [])
