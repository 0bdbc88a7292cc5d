"""The bulk commands API: 201 with results, 400 with field errors, roles, outsiders refused."""

import pytest

from ocpp_gateway.models import BulkCommand, BulkCommandResult, BulkResultStatus, CommandLog
from organizations.choices import Role
from tests.apiclients import client_as, client_for, key_client, member
from tests.factories import ChargingStationFactory, SiteFactory, make_api_key
from tests.ocpp_gateway.factories_bulk import go_online, ping_commands  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ping_commands")]

URL = "/api/v1/bulk-commands/"


def nested(org):
    return f"/api/v1/organizations/{org.pk}/bulk-commands/"


@pytest.fixture
def stations(org):
    site = SiteFactory(organization=org, name="Depot")
    made = [
        ChargingStationFactory(organization=org, site=site, ocpp_id=name, connectors=1)
        for name in ("CS-A", "CS-REJ")
    ]
    go_online(*made)
    return made


@pytest.fixture
def theirs(other_org):
    station = ChargingStationFactory(organization=other_org, ocpp_id="CS-THEIRS")
    go_online(station)
    return station


def post(client, body, url=URL):
    return client.post(url, body, format="json")


def test_an_operator_sends_a_command_to_stations_and_gets_201_with_the_results(org, stations):
    response = post(
        client_as(org, Role.OPERATOR),
        {"command": "test_ping", "params": {"level": 2}, "stations": [s.pk for s in stations]},
    )
    assert response.status_code == 201
    body = response.json()
    bulk = BulkCommand.objects.get()
    assert body["url"].endswith(f"/api/v1/bulk-commands/{bulk.pk}/")
    assert response["Location"] == body["url"]
    assert body["organization"] == org.pk
    outcome = {r["ocpp_id"]: r["status"] for r in body["results"]}
    assert outcome == {"CS-A": BulkResultStatus.ACCEPTED, "CS-REJ": BulkResultStatus.REJECTED}


def test_a_whole_site_can_be_named_instead_of_stations(org, stations):
    site = stations[0].site
    response = post(
        client_as(org, Role.OPERATOR),
        {"command": "test_ping", "params": {"level": 1}, "site": site.pk},
    )
    assert response.status_code == 201
    assert response.json()["site"] == site.pk
    assert BulkCommandResult.objects.count() == 2


def test_an_api_key_sends_a_bulk_command_and_is_recorded(org, stations):
    _key, secret = make_api_key(org, Role.OPERATOR)
    response = post(
        key_client(secret),
        {"command": "test_ping", "params": {"level": 1}, "stations": [stations[0].pk]},
    )
    assert response.status_code == 201
    bulk = BulkCommand.objects.get()
    assert bulk.requested_by is None
    assert bulk.api_key is not None
    assert bulk.requested_via == "api_key"


def test_invalid_parameters_are_400_with_field_errors_and_nothing_is_written(org, stations):
    response = post(
        client_as(org, Role.OPERATOR),
        {"command": "test_ping", "params": {"level": 9}, "stations": [s.pk for s in stations]},
    )
    assert response.status_code == 400
    assert "level" in response.json()["params"]
    assert not BulkCommand.objects.exists()
    assert not CommandLog.objects.exists()


def test_an_unknown_command_is_400(org, stations):
    response = post(
        client_as(org, Role.OPERATOR), {"command": "nope", "stations": [stations[0].pk]}
    )
    assert response.status_code == 400
    assert "command" in response.json()


def test_stations_and_site_together_are_400(org, stations):
    response = post(
        client_as(org, Role.OPERATOR),
        {"command": "test_ping", "stations": [stations[0].pk], "site": stations[0].site_id},
    )
    assert response.status_code == 400
    assert "stations" in response.json()


def test_a_viewer_may_not_send_bulk_commands(org, stations):
    response = post(
        client_as(org, Role.VIEWER),
        {"command": "test_ping", "params": {"level": 1}, "stations": [stations[0].pk]},
    )
    assert response.status_code == 403
    assert not BulkCommand.objects.exists()


def test_an_operator_may_not_send_an_admin_command(org, stations):
    response = post(
        client_as(org, Role.OPERATOR),
        {"command": "test_admin_ping", "params": {"level": 1}, "stations": [stations[0].pk]},
    )
    assert response.status_code == 403
    assert not BulkCommand.objects.exists()


def test_a_station_of_another_organization_is_400_and_nobody_is_sent_anything(
    org, stations, theirs
):
    response = post(
        client_as(org, Role.OWNER),
        {"command": "test_ping", "params": {"level": 1}, "stations": [stations[0].pk, theirs.pk]},
    )
    assert response.status_code == 400
    assert str(theirs.pk) in response.json()["stations"][0]
    assert not CommandLog.objects.exists()
    assert not BulkCommand.objects.exists()


def test_a_site_of_another_organization_is_400(org, stations, theirs):
    response = post(client_as(org, Role.OWNER), {"command": "test_ping", "site": theirs.site_id})
    assert response.status_code == 400
    assert not CommandLog.objects.exists()


def test_posting_under_another_organization_is_404(org, other_org, theirs):
    response = post(
        client_as(org, Role.OWNER),
        {"command": "test_ping", "params": {"level": 1}, "stations": [theirs.pk]},
        nested(other_org),
    )
    assert response.status_code == 404
    assert not CommandLog.objects.exists()


def test_a_member_of_several_organizations_posts_under_one(org, other_org, stations):
    client = client_for(member((org, Role.OPERATOR), (other_org, Role.OPERATOR)))
    body = {"command": "test_ping", "params": {"level": 1}, "stations": [stations[0].pk]}
    assert post(client, body).status_code == 400
    response = post(client, body, nested(org))
    assert response.status_code == 201
    assert BulkCommand.objects.get().organization == org


def test_an_outsider_neither_lists_nor_reads_the_bulk_commands(org, other_org, stations):
    post(
        client_as(org, Role.OPERATOR),
        {"command": "test_ping", "params": {"level": 1}, "stations": [stations[0].pk]},
    )
    bulk = BulkCommand.objects.get()
    outsider = client_as(other_org, Role.OWNER)
    assert outsider.get(URL).json()["results"] == []
    assert outsider.get(f"{URL}{bulk.pk}/").status_code == 404


def test_a_viewer_reads_the_list_with_the_results_in_few_queries(
    org, stations, django_assert_max_num_queries
):
    sender = client_as(org, Role.OPERATOR)
    for _ in range(3):
        post(
            sender,
            {"command": "test_ping", "params": {"level": 1}, "stations": [s.pk for s in stations]},
        )
    viewer = client_as(org, Role.VIEWER)
    with django_assert_max_num_queries(8):
        response = viewer.get(URL)
    assert response.status_code == 200
    listed = response.json()["results"]
    assert len(listed) == 3
    assert all(len(bulk["results"]) == 2 for bulk in listed)


def test_a_bulk_command_is_read_with_its_results(org, stations):
    post(
        client_as(org, Role.OPERATOR),
        {"command": "test_ping", "params": {"level": 1}, "stations": [stations[0].pk]},
    )
    bulk = BulkCommand.objects.get()
    body = client_as(org, Role.VIEWER).get(f"{URL}{bulk.pk}/").json()
    assert body["command"] == "test_ping"
    assert body["params"] == {"level": 1}
    [result] = body["results"]
    assert (result["station"], result["status"]) == (stations[0].pk, "accepted")
    assert result["command_log"] == CommandLog.objects.get().pk
