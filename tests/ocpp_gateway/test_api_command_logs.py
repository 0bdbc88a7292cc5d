"""GET /api/v1/command-logs/: fields, filters, ordering, query budget."""

from datetime import UTC, datetime

import pytest

from ocpp_gateway.models import CommandLog
from organizations.choices import Role
from tests.apiclients import client_as
from tests.factories import ChargingStationFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/command-logs/"
JAN = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def viewer(org):
    return client_as(org, Role.VIEWER)


def make_log(station, *, created=None, **kwargs):
    kwargs.setdefault("command", "soft_reset")
    kwargs.setdefault("action", "Reset")
    log = CommandLog.objects.create(station=station, **kwargs)
    if created is not None:
        # auto_now_add ignores a value given to create().
        CommandLog.objects.filter(pk=log.pk).update(created=created)
    return log


def ids(response):
    assert response.status_code == 200, response.data
    return [row["id"] for row in response.data["results"]]


def test_a_command_log_row_shows_station_requester_and_outcome(viewer, station, admin_user):
    log = make_log(
        station,
        payload={"type": "Soft"},
        requested_by=admin_user,
        requested_via="api_token",
        status="error",
        response=None,
        error_code="NotImplemented",
        error_description="Reset is not supported",
        created=JAN,
        completed=datetime(2026, 1, 1, 0, 0, 2, tzinfo=UTC),
    )
    assert viewer.get(f"{LIST}{log.pk}/").data == {
        "id": log.pk,
        "station": station.pk,
        "ocpp_id": "CS-DEMO-1",
        "command": "soft_reset",
        "action": "Reset",
        "payload": {"type": "Soft"},
        "requested_by": "org-admin",
        "api_key": None,
        "requested_via": "api_token",
        "status": "error",
        "response": None,
        "error_code": "NotImplemented",
        "error_description": "Reset is not supported",
        "created": "2026-01-01T00:00:00Z",
        "completed": "2026-01-01T00:00:02Z",
    }


def test_a_command_whose_requester_was_deleted_shows_null(viewer, station, admin_user):
    log = make_log(station, requested_by=admin_user)
    admin_user.delete()
    assert viewer.get(f"{LIST}{log.pk}/").data["requested_by"] is None


def test_command_logs_filter_by_status(viewer, station):
    make_log(station, status="accepted")
    timed_out = make_log(station, status="timeout")
    assert ids(viewer.get(LIST, {"status": "timeout"})) == [timed_out.pk]


def test_an_unknown_status_is_a_400(viewer, station):
    response = viewer.get(LIST, {"status": "lost"})
    assert response.status_code == 400
    assert "status" in response.data


def test_command_logs_filter_by_command(viewer, station):
    make_log(station, command="soft_reset")
    unlock = make_log(station, command="unlock_connector", action="UnlockConnector")
    assert ids(viewer.get(LIST, {"command": "unlock_connector"})) == [unlock.pk]


def test_command_logs_filter_by_a_half_open_time_range(viewer, station):
    make_log(station, created=datetime(2025, 12, 31, 23, 59, tzinfo=UTC))
    at_start = make_log(station, created=JAN)
    inside = make_log(station, created=datetime(2026, 1, 15, tzinfo=UTC))
    make_log(station, created=datetime(2026, 2, 1, tzinfo=UTC))
    response = viewer.get(
        LIST, {"created_after": "2026-01-01T00:00:00Z", "created_before": "2026-02-01T00:00:00Z"}
    )
    assert ids(response) == [inside.pk, at_start.pk]


def test_the_time_filters_work_alone(viewer, station):
    old = make_log(station, created=JAN)
    new = make_log(station, created=datetime(2026, 3, 1, tzinfo=UTC))
    assert ids(viewer.get(LIST, {"created_after": "2026-02-01T00:00:00Z"})) == [new.pk]
    assert ids(viewer.get(LIST, {"created_before": "2026-02-01"})) == [old.pk]


def test_a_malformed_time_is_a_400(viewer, station):
    response = viewer.get(LIST, {"created_after": "last tuesday"})
    assert response.status_code == 400
    assert "created_after" in response.data


def test_command_logs_filter_by_station_and_by_ocpp_id(viewer, org, station):
    other = ChargingStationFactory(organization=org, ocpp_id="CS-OTHER")
    ours = make_log(station)
    theirs = make_log(other)
    assert ids(viewer.get(LIST, {"station": other.pk})) == [theirs.pk]
    assert ids(viewer.get(LIST, {"ocpp_id": "CS-DEMO-1"})) == [ours.pk]


def test_filtering_by_an_outsiders_station_is_refused_like_an_unknown_one(viewer, other_org):
    theirs = ChargingStationFactory(organization=other_org)
    make_log(theirs)
    outsider = viewer.get(LIST, {"station": theirs.pk})
    unknown = viewer.get(LIST, {"station": theirs.pk + 1000})
    assert outsider.status_code == unknown.status_code == 400
    assert outsider.data == unknown.data


def test_filtering_by_an_outsiders_ocpp_id_finds_nothing(viewer, other_org, station):
    make_log(ChargingStationFactory(organization=other_org, ocpp_id="CS-OUTSIDER"))
    assert ids(viewer.get(LIST, {"ocpp_id": "CS-OUTSIDER"})) == []


def test_command_logs_are_newest_first_and_can_be_ordered_oldest_first(viewer, station):
    older = make_log(station, created=JAN)
    newer = make_log(station, created=datetime(2026, 1, 2, tzinfo=UTC))
    assert ids(viewer.get(LIST)) == [newer.pk, older.pk]
    assert ids(viewer.get(LIST, {"ordering": "created"})) == [older.pk, newer.pk]


def test_the_command_log_list_costs_as_many_queries_for_20_rows_as_for_2(
    viewer, org, station, admin_user, django_assert_max_num_queries
):
    def add_logs(count):
        for _ in range(count):
            # A station and a requester each: a lazy relation would cost a query per row.
            make_log(
                ChargingStationFactory(organization=org, connectors=0), requested_by=admin_user
            )

    add_logs(2)
    with django_assert_max_num_queries(2) as for_two:
        assert len(viewer.get(LIST).data["results"]) == 2
    add_logs(18)
    with django_assert_max_num_queries(len(for_two.captured_queries)):
        response = viewer.get(LIST)
    assert len(response.data["results"]) == 20
    assert {row["requested_by"] for row in response.data["results"]} == {"org-admin"}
