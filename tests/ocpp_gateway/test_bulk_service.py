"""The bulk command service: validated once, refused as a whole, run and recorded per station."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core import events
from ocpp_gateway.choices import RequestedVia
from ocpp_gateway.events import BULK_RESULT
from ocpp_gateway.models import BulkCommand, BulkCommandResult, BulkResultStatus, CommandLog
from ocpp_gateway.remote.bulk import (
    InvalidBulkParameters,
    close_stale_bulk_results,
    create_bulk_command,
    start_bulk_command,
)
from ocpp_gateway.remote.registry import Actor, CommandForbidden, InvalidCommandParameters
from organizations.choices import Role
from tests.apiclients import member
from tests.factories import ChargingStationFactory
from tests.ocpp_gateway.factories_bulk import go_online, ping_commands  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ping_commands")]


def actor(org, role=Role.OPERATOR):
    return Actor(user=member((org, role)), role=role, via=RequestedVia.USER)


@pytest.fixture
def fleet(org):
    """Three online stations of `org`: one accepts, one rejects, one takes low levels only."""
    stations = [
        ChargingStationFactory(organization=org, ocpp_id=name, connectors=1)
        for name in ("CS-A", "CS-REJ", "CS-PICKY")
    ]
    go_online(*stations)
    return stations


@pytest.fixture
def heard():
    seen = []
    events.subscribe(BULK_RESULT, seen.extend)
    yield seen
    events.unsubscribe(BULK_RESULT, seen.extend)


def run(org, stations, params, who=None, name="test_ping"):
    who = who or actor(org)
    bulk = create_bulk_command(org, name, params, stations, who)
    start_bulk_command(bulk, who)
    return {r.station.ocpp_id: r for r in bulk.results.select_related("station", "command_log")}


def test_each_station_gets_its_own_result_accepted_rejected_or_skipped(org, fleet):
    results = run(org, fleet, {"level": 4})
    assert results["CS-A"].status == BulkResultStatus.ACCEPTED
    assert results["CS-REJ"].status == BulkResultStatus.REJECTED
    assert results["CS-REJ"].reason == "Rejected"
    # Invalid for this station only: its own result, the others ran.
    assert results["CS-PICKY"].status == BulkResultStatus.SKIPPED
    assert "Too high for this station." in results["CS-PICKY"].reason
    assert results["CS-PICKY"].command_log is None


def test_the_answered_results_link_their_command_log(org, fleet):
    results = run(org, fleet, {"level": 1})
    log = results["CS-A"].command_log
    assert (log.station.ocpp_id, log.command, log.payload) == ("CS-A", "test_ping", {"level": 1})
    assert CommandLog.objects.count() == 3


def test_the_bulk_command_is_finished_when_every_station_is(org, fleet):
    results = run(org, fleet, {"level": 1})
    bulk = BulkCommand.objects.get()
    assert bulk.finished_at is not None
    assert all(result.finished_at is not None for result in results.values())


def test_an_offline_station_is_skipped_with_the_reason(org, fleet):
    offline = ChargingStationFactory(organization=org, ocpp_id="CS-OFF")
    results = run(org, [*fleet, offline], {"level": 1})
    assert results["CS-OFF"].status == BulkResultStatus.SKIPPED
    assert results["CS-OFF"].reason == "The station is offline."
    assert not CommandLog.objects.filter(station=offline).exists()


def test_invalid_parameters_for_every_station_refuse_the_whole_and_write_nothing(org, fleet):
    with pytest.raises(InvalidBulkParameters) as refused:
        create_bulk_command(org, "test_ping", {"level": 9}, fleet, actor(org))
    assert "level" in refused.value.errors
    assert not BulkCommand.objects.exists()
    assert not BulkCommandResult.objects.exists()


def test_a_role_below_the_commands_is_refused_before_anything_is_written(org, fleet):
    with pytest.raises(CommandForbidden):
        create_bulk_command(org, "test_admin_ping", {"level": 1}, fleet, actor(org))
    assert not BulkCommand.objects.exists()


def test_an_admin_may_send_the_admin_command(org, fleet):
    results = run(org, fleet, {"level": 1}, actor(org, Role.ADMIN), name="test_admin_ping")
    assert results["CS-A"].status == BulkResultStatus.ACCEPTED


def test_an_unknown_command_is_refused(org, fleet):
    with pytest.raises(InvalidCommandParameters) as refused:
        create_bulk_command(org, "no_such_thing", {}, fleet, actor(org))
    assert "command" in refused.value.errors


def test_stations_of_another_organization_are_refused_and_never_sent_to(org, other_org, fleet):
    theirs = ChargingStationFactory(organization=other_org, ocpp_id="CS-THEIRS")
    go_online(theirs)
    with pytest.raises(InvalidCommandParameters) as refused:
        create_bulk_command(org, "test_ping", {"level": 1}, [*fleet, theirs], actor(org))
    assert "stations" in refused.value.errors
    assert not CommandLog.objects.exists()
    assert not BulkCommand.objects.exists()


def test_an_empty_selection_is_refused(org):
    with pytest.raises(InvalidCommandParameters) as refused:
        create_bulk_command(org, "test_ping", {"level": 1}, [], actor(org))
    assert "stations" in refused.value.errors


def test_every_result_is_announced_and_the_last_says_the_bulk_finished(
    org, fleet, heard, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        run(org, fleet, {"level": 1})
    final = [e for e in heard if e["status"] != BulkResultStatus.SENT]
    assert sorted(e["station_id"] for e in final) == sorted(s.pk for s in fleet)
    assert [e["finished"] for e in final] == [False, False, True]
    assert {e["organization_id"] for e in heard} == {org.pk}


def test_the_requester_is_recorded_as_user_or_api_key(org, fleet):
    who = actor(org)
    run(org, fleet[:1], {"level": 1}, who)
    bulk = BulkCommand.objects.get()
    assert (bulk.requested_by, bulk.api_key, bulk.requested_via) == (who.user, None, "user")


def test_results_a_stopped_process_left_open_are_failed_later(org, fleet):
    bulk = create_bulk_command(org, "test_ping", {"level": 1}, fleet, actor(org))
    BulkCommand.objects.filter(pk=bulk.pk).update(created=timezone.now() - timedelta(hours=7))
    assert close_stale_bulk_results() == 3
    assert set(bulk.results.values_list("status", flat=True)) == {BulkResultStatus.FAILED}
    bulk.refresh_from_db()
    assert bulk.finished_at is not None
    # Idempotent: nothing is left to close.
    assert close_stale_bulk_results() == 0


def test_a_recent_bulk_command_is_not_closed_as_stale(org, fleet):
    create_bulk_command(org, "test_ping", {"level": 1}, fleet, actor(org))
    assert close_stale_bulk_results() == 0


def test_a_raw_call_is_not_sent_in_bulk(org, fleet):
    with pytest.raises(InvalidCommandParameters) as refused:
        create_bulk_command(
            org, "raw_call", {"action": "Reset", "payload": {}}, fleet, actor(org, Role.OWNER)
        )
    assert "command" in refused.value.errors
    assert not BulkCommand.objects.exists()


def test_a_silent_station_fails_with_the_reason_and_a_broken_run_fails_alone(org, fleet):
    silent = ChargingStationFactory(organization=org, ocpp_id="CS-SILENT")
    broken = ChargingStationFactory(organization=org, ocpp_id="CS-BROKEN")
    go_online(silent, broken)
    results = run(org, [*fleet, silent, broken], {"level": 1})
    assert (results["CS-SILENT"].status, results["CS-SILENT"].reason) == (
        BulkResultStatus.FAILED,
        "The station did not answer in time",
    )
    assert results["CS-BROKEN"].status == BulkResultStatus.FAILED
    assert "RuntimeError" in results["CS-BROKEN"].reason
    assert results["CS-A"].status == BulkResultStatus.ACCEPTED
    assert BulkCommand.objects.get().finished_at is not None
