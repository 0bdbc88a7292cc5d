"""Migration 0005 copies the remote starts logged as commands into RemoteStart records."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("sessions_app", "0004_id_tokens_in_cards")]
AFTER = [("sessions_app", "0005_remote_start")]
SENT = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    # The models as the database has them now: each app at its newest applied migration (apps
    # that depend on a later migration of the pinned one were unapplied with it).
    executor.loader.build_graph()
    applied = set(executor.loader.applied_migrations)
    graph = executor.loader.graph
    newest = [
        node
        for node in applied
        if node in graph.nodes
        and not any(child.key in applied for child in graph.node_map[node].children)
    ]
    return executor.loader.project_state(newest).apps


@pytest.fixture
def old_apps(transactional_db):
    apps = migrate(BEFORE)
    yield apps
    # Leave the database at the newest state for the tests after this one.
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_logged_remote_starts_become_records_with_their_time_claim_and_status(old_apps):
    Organization = old_apps.get_model("organizations", "Organization")
    Station = old_apps.get_model("stations", "ChargingStation")
    Connector = old_apps.get_model("stations", "Connector")
    Session = old_apps.get_model("sessions_app", "ChargingSession")
    CommandLog = old_apps.get_model("ocpp_gateway", "CommandLog")
    org = Organization.objects.create(name="Old", slug="old")
    station = Station.objects.create(organization=org, ocpp_id="OLD-1")
    connector = Connector.objects.create(station=station, connector_id=1)
    session = Session.objects.create(
        organization=org, station=station, connector=connector, start=SENT, id_tag="04C0FFEE01"
    )

    def logged(status, payload, **fields):
        log = CommandLog.objects.create(
            station=station, command="start_charging", payload=payload, status=status, **fields
        )
        CommandLog.objects.filter(pk=log.pk).update(created=SENT)
        return log

    logged("accepted", {"idTag": "04C0FFEE01", "connectorId": 1}, session=session)
    logged("pending", {"idTag": "04c0ffee02"})
    logged("rejected", {"idTag": "04C0FFEE03"})
    logged("timeout", {"idTag": "04C0FFEE04"})
    logged("accepted", {"idTag": "04C0FFEE05", "connectorId": 9})  # a connector since removed
    CommandLog.objects.create(station=station, command="stop_charging", payload={})

    new_apps = migrate(AFTER)

    RemoteStart = new_apps.get_model("sessions_app", "RemoteStart")
    copied = {
        start.id_tag: (start.status, start.connector_id, start.session_id, start.created_at)
        for start in RemoteStart.objects.all()
    }
    assert copied == {
        "04C0FFEE01": ("accepted", connector.pk, session.pk, SENT),
        "04C0FFEE02": ("pending", None, None, SENT),
        "04C0FFEE03": ("rejected", None, None, SENT),
        "04C0FFEE04": ("failed", None, None, SENT),
    }
