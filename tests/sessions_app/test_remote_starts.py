"""The remote-start claim: the session an operator's remote start leads to is remote and free."""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ocpp_gateway.remote import Actor, charging, execute_command
from organizations.choices import Role
from sessions_app.choices import AuthMethod, RemoteStartStatus
from sessions_app.models import RemoteStart
from sessions_app.services import (
    record_remote_start_answer,
    request_remote_start,
    start_session,
    stop_session,
)
from stations.choices import ConnectionState, ConnectorStatus
from stations.models import ChargingStation, Connector
from tests.factories import AccessGroupFactory, ChargingStationFactory, IdTokenFactory

CARD = "04C0FFEE01"
FLEET_CARD = "04C0FFEE02"


@pytest.fixture
def online(station, org):
    """The shared `station`, online, both connectors available, with a card of `org`."""
    ChargingStation.objects.filter(pk=station.pk).update(connection_state=ConnectionState.ONLINE)
    station.refresh_from_db()
    Connector.objects.filter(station=station).update(status=ConnectorStatus.AVAILABLE)
    group = AccessGroupFactory(organization=org, name="Staff")
    station.site.access_groups.add(group)
    IdTokenFactory(organization=org, uid=CARD, access_groups=[group], parent_id_tag="FLEET-7")
    return station


def remote_start(station, status=RemoteStartStatus.ACCEPTED, connector_number=None, id_tag=CARD):
    connector = station.connectors.get(connector_id=connector_number) if connector_number else None
    requested = request_remote_start(station, id_tag=id_tag, connector=connector)
    return record_remote_start_answer(requested, status)


def card_start(station, connector_number=1, id_tag=CARD):
    return start_session(
        station,
        connector_number=connector_number,
        id_tag=id_tag,
        started_at=timezone.now(),
        meter_start=0,
    ).session


def test_a_remote_start_is_recorded_pending_with_the_cards_normalized_uid(online):
    requested = request_remote_start(online, id_tag=" 04c0ffee01", connector=None)

    stored = RemoteStart.objects.get()
    assert stored == requested
    assert (stored.status, stored.id_tag, stored.session) == ("pending", CARD, None)


def test_one_remote_start_marks_only_one_session(online):
    requested = remote_start(online)

    first = card_start(online, connector_number=1)
    stop_session(
        online,
        transaction_id=first.transaction_id,
        stopped_at=timezone.now(),
        meter_stop=10,
        reason="Local",
    )
    second = card_start(online, connector_number=1)

    assert (first.auth_method, first.billable) == (AuthMethod.REMOTE, False)
    assert (second.auth_method, second.billable) == (AuthMethod.RFID, True)
    requested.refresh_from_db()
    assert requested.session_id == first.pk


def test_a_start_that_arrives_before_the_remote_starts_answer_is_stored_is_remote(online):
    # The station answers Accepted and starts at once; the gateway may not have written
    # "accepted" yet.
    remote_start(online, status=RemoteStartStatus.PENDING, connector_number=1)

    assert card_start(online).auth_method == AuthMethod.REMOTE


def test_an_answer_stored_after_the_claim_keeps_the_claim(online):
    requested = request_remote_start(online, id_tag=CARD)
    session = card_start(online)

    record_remote_start_answer(requested, RemoteStartStatus.ACCEPTED)

    requested.refresh_from_db()
    assert (requested.status, requested.session_id) == ("accepted", session.pk)


def test_a_remote_start_for_one_connector_does_not_claim_a_start_on_another(online):
    remote_start(online, connector_number=1)

    assert card_start(online, connector_number=2).auth_method == AuthMethod.RFID


def test_a_remote_start_for_one_card_does_not_claim_the_start_of_another(online, org):
    IdTokenFactory(organization=org, uid=FLEET_CARD)
    remote_start(online)

    assert card_start(online, id_tag=FLEET_CARD).auth_method == AuthMethod.RFID


@pytest.mark.parametrize("status", [RemoteStartStatus.REJECTED, RemoteStartStatus.FAILED])
def test_a_remote_start_the_station_did_not_accept_claims_nothing(online, status):
    remote_start(online, status=status)

    started = card_start(online)

    assert (started.auth_method, started.billable) == (AuthMethod.RFID, True)


def test_a_remote_start_older_than_the_window_claims_nothing(online):
    requested = remote_start(online)
    RemoteStart.objects.filter(pk=requested.pk).update(
        created_at=timezone.now() - timedelta(minutes=11)
    )

    assert card_start(online).auth_method == AuthMethod.RFID


def test_the_oldest_open_remote_start_is_claimed_first(online):
    older = remote_start(online)
    newer = remote_start(online)

    session = card_start(online)

    older.refresh_from_db()
    newer.refresh_from_db()
    assert (older.session_id, newer.session_id) == (session.pk, None)


def test_a_remote_start_of_another_station_claims_nothing(online, org):
    remote_start(ChargingStationFactory(organization=org))

    assert card_start(online).auth_method == AuthMethod.RFID


def test_a_remote_start_is_claimed_regardless_of_the_id_tags_case(online):
    remote_start(online)

    assert card_start(online, id_tag=CARD.lower()).auth_method == AuthMethod.REMOTE


def test_a_claimed_start_costs_one_query_more_than_a_card_start(online):
    # Both look for an open remote start; only the claimed one writes the claim.
    with CaptureQueriesContext(connection) as plain:
        card_start(online, connector_number=2)
    remote_start(online, connector_number=1)

    with CaptureQueriesContext(connection) as claimed:
        card_start(online, connector_number=1)

    assert len(claimed.captured_queries) == len(plain.captured_queries) + 1


def test_remote_starts_of_another_organization_are_not_visible(online, other_org):
    remote_start(online)

    assert not RemoteStart.objects.for_org(other_org).exists()
    assert RemoteStart.objects.for_org(online.organization_id).count() == 1


def test_a_remote_start_that_fails_while_being_sent_is_never_claimed(online):
    # A start_charging command whose sending raises (the database went away mid-call).
    with (
        mock.patch.object(charging, "send", side_effect=OperationalError("connection lost")),
        pytest.raises(OperationalError),
    ):
        execute_command(online, "start_charging", {"id_tag": CARD}, actor=Actor(role=Role.OWNER))

    assert RemoteStart.objects.get().status == RemoteStartStatus.FAILED
    session = card_start(online)
    assert (session.auth_method, session.billable) == (AuthMethod.RFID, True)
