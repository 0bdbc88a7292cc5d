"""OCPI 2.2.1 Commands of our CPO role: a partner's commands carried out on real OCPP stations."""

import asyncio
import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import requests
from django.core.cache import cache
from django.db import connections
from django.utils import timezone
from ocpp.routing import on
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as call_result201
from ocpp.v201.enums import Action as Action201

from ocpp_gateway.choices import CommandStatus
from ocpp_gateway.models import CommandLog
from ocpp_gateway.remote.roaming import RESERVE_REFUSALS, UNLOCK_REFUSALS, station_outcome
from roaming import commands, tasks
from roaming.choices import CommandResultType, CommandType, PartnerStatus
from roaming.models import RoamingCommand, RoamingToken
from roaming.ocpi import tokens
from roaming.ocpi.v221 import schemas
from roaming.ocpi.v221.cpo.commands import command_timeout
from roaming.ocpi.v221.mapping import evse_uid
from sessions_app.choices import AuthMethod, ReservationStatus, SessionState
from sessions_app.models import ChargingSession, RemoteStart, Reservation
from stations.choices import ConnectionState, ConnectorStatus
from stations.models import Connector
from tests.factories import ChargingSessionFactory, ChargingStationFactory, SiteFactory
from tests.ocpp_gateway.conftest import Station, Station201, connected_station, connected_station201
from tests.roaming.conftest import make_partner, make_profile
from tests.roaming.fake_partner import FakePartner, Reply, ocpi_reply

UID = "04C0FFEE0001"
RESULTS = "/commands/{command}/{n}"


def published(uid=UID, **fields) -> dict:
    """A Token of the partner's party NL*MSP, as a command carries it."""
    return {
        "country_code": "NL",
        "party_id": "MSP",
        "uid": uid,
        "type": "APP_USER",
        "contract_id": "NL-MSP-C00000042",
        "issuer": "Mobility NL",
        "valid": True,
        "whitelist": "NEVER",
        "last_updated": "2026-01-01T00:00:00Z",
        **fields,
    }


def connected_partner(organization, country_code="NL", party_id="MSP"):
    """An active partner; `.token` is the one it calls us with (it publishes no tokens sender)."""
    partner = make_partner(
        organization,
        country_code,
        party_id,
        status=PartnerStatus.ACTIVE,
        credentials_token=f"ours-for-{party_id}",
    )
    partner.token = tokens.new_token()
    partner.incoming_token_hash = tokens.token_hash(partner.token)
    partner.save()
    return partner


@pytest.fixture
def fake_emsp(settings):
    """The partner's commands sender, where our CommandResults go."""
    settings.OCPI_ALLOW_PRIVATE_ADDRESSES = True
    # The partner calls our ASGI server at 127.0.0.1 (as it calls the gateway).
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1"]
    cache.clear()
    server = FakePartner().start()
    for command in CommandType.values:
        for n in range(1, 4):
            server.routes[("POST", RESULTS.format(command=command, n=n))] = ocpi_reply()
    yield server
    server.stop()


def result_url(fake, command, n=1) -> str:
    return fake.url + RESULTS.format(command=command, n=n)


def posted_results(fake, command, n=1) -> list:
    return [r.body for r in fake.requests_to(RESULTS.format(command=command, n=n))]


def build_cpo(org, ocpp_id="CS-CMD-1", *, online=True):
    """`org` as CPO: a roaming site with one station of two available connectors, a partner."""
    make_profile(org, "DE", "CPO")
    site = SiteFactory(organization=org, roaming_enabled=True)
    station = ChargingStationFactory(
        organization=org,
        site=site,
        ocpp_id=ocpp_id,
        connection_state=ConnectionState.ONLINE if online else ConnectionState.OFFLINE,
    )
    Connector.objects.filter(station=station).update(status=ConnectorStatus.AVAILABLE)
    partner = connected_partner(org)
    return SimpleNamespace(site=site, station=station, partner=partner)


def start_body(fake, cpo, n=1, **fields) -> dict:
    connector = cpo.station.connectors.get(connector_id=1)
    return {
        "response_url": result_url(fake, "START_SESSION", n),
        "token": published(),
        "location_id": str(cpo.site.pk),
        "evse_uid": evse_uid(connector),
        "connector_id": "1",
        "authorization_reference": "AUTH-CMD-1",
        **fields,
    }


def post(client, partner, command, body):
    """The partner's POST to our commands receiver (Django's test client)."""
    return client.post(
        f"/ocpi/{partner.organization.slug}/2.2.1/cpo/commands/{command}",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {tokens.encode(partner.token)}",
    )


@pytest.fixture
def runner():
    """A runner standing in for the gateway's: notes the commands, answers as told."""
    stub = SimpleNamespace(calls=[], outcome=commands.CommandOutcome(CommandResultType.ACCEPTED))

    def run(command):
        stub.calls.append(command.pk)
        if isinstance(stub.outcome, Exception):
            raise stub.outcome
        return stub.outcome

    previous = commands.register_command_runner(run)
    yield stub
    commands.register_command_runner(previous)


@pytest.fixture
def cpo(org):
    return build_cpo(org)


# --- the receiver's synchronous answers ---------------------------------------------------------


def test_an_accepted_command_is_stored_run_and_its_result_posted(
    client, cpo, fake_emsp, runner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        answer = post(client, cpo.partner, "START_SESSION", start_body(fake_emsp, cpo))
    assert answer.json()["data"] == {"result": "ACCEPTED", "timeout": command_timeout()}
    schemas.check("CommandResponse", answer.json()["data"])
    stored = RoamingCommand.objects.get()
    assert (stored.partner, stored.station, stored.connector.connector_id) == (
        cpo.partner,
        cpo.station,
        1,
    )
    assert runner.calls == [stored.pk]
    assert posted_results(fake_emsp, "START_SESSION") == [{"result": "ACCEPTED"}]
    stored.refresh_from_db()
    assert (stored.result, stored.result_sent) == ("ACCEPTED", True)
    # The command's token is kept like a pushed one: the station's start with it is the partner's.
    assert RoamingToken.objects.get(partner=cpo.partner).uid == UID


def test_an_unknown_command_is_2001_not_supported(client, cpo, fake_emsp):
    answer = post(client, cpo.partner, "SELF_DESTRUCT", {"response_url": "https://x.example/"})
    assert answer.json()["status_code"] == 2001
    assert answer.json()["data"]["result"] == "NOT_SUPPORTED"


def test_a_command_that_breaks_the_ocpi_shape_is_2001(client, cpo, fake_emsp):
    body = start_body(fake_emsp, cpo)
    del body["token"]
    assert post(client, cpo.partner, "START_SESSION", body).json()["status_code"] == 2001
    assert not RoamingCommand.objects.exists()


@pytest.mark.parametrize("where", ["unknown", "not roaming"])
def test_a_location_that_is_not_ours_to_roam_is_2003(client, cpo, fake_emsp, org, where):
    site = SiteFactory(organization=org, roaming_enabled=False)
    location = str(site.pk) if where == "not roaming" else "999999"
    answer = post(
        client, cpo.partner, "START_SESSION", start_body(fake_emsp, cpo, location_id=location)
    )
    assert (answer.status_code, answer.json()["status_code"]) == (404, 2003)
    assert answer.json()["data"]["result"] == "REJECTED"
    assert not RoamingCommand.objects.exists()


def test_an_unknown_evse_is_2003(client, cpo, fake_emsp):
    answer = post(client, cpo.partner, "START_SESSION", start_body(fake_emsp, cpo, evse_uid="77"))
    assert answer.json()["status_code"] == 2003


def test_a_command_for_an_offline_station_is_rejected_at_once(client, org, fake_emsp):
    offline = build_cpo(org, online=False)
    answer = post(client, offline.partner, "START_SESSION", start_body(fake_emsp, offline))
    assert answer.json()["data"]["result"] == "REJECTED"
    assert answer.json()["data"]["message"][0]["text"] == "The charge point is offline."
    assert not RoamingCommand.objects.exists()
    assert not RoamingToken.objects.exists()


def test_a_token_of_another_party_is_rejected(client, cpo, fake_emsp):
    body = start_body(fake_emsp, cpo, token=published(country_code="BE", party_id="XYZ"))
    assert post(client, cpo.partner, "START_SESSION", body).json()["data"]["result"] == "REJECTED"
    assert not RoamingCommand.objects.exists()


def test_a_partner_cannot_stop_another_partners_session(client, cpo, fake_emsp, org):
    rival = connected_partner(org, "BE", "XYZ")
    theirs = ChargingSessionFactory(station=cpo.station, roaming_partner=rival)
    body = {"response_url": result_url(fake_emsp, "STOP_SESSION"), "session_id": str(theirs.pk)}
    assert post(client, cpo.partner, "STOP_SESSION", body).json()["data"]["result"] == (
        "UNKNOWN_SESSION"
    )
    assert not RoamingCommand.objects.exists()


def test_a_session_of_another_organization_is_unknown(client, cpo, fake_emsp, other_org):
    elsewhere = ChargingSessionFactory(
        station=ChargingStationFactory(organization=other_org), roaming_partner=cpo.partner
    )
    body = {"response_url": result_url(fake_emsp, "STOP_SESSION"), "session_id": str(elsewhere.pk)}
    assert post(client, cpo.partner, "STOP_SESSION", body).json()["data"]["result"] == (
        "UNKNOWN_SESSION"
    )


def test_stopping_a_session_that_ended_is_rejected(client, cpo, fake_emsp):
    ended = ChargingSessionFactory(
        station=cpo.station, roaming_partner=cpo.partner, state=SessionState.COMPLETED
    )
    body = {"response_url": result_url(fake_emsp, "STOP_SESSION"), "session_id": str(ended.pk)}
    assert post(client, cpo.partner, "STOP_SESSION", body).json()["data"]["result"] == "REJECTED"


def test_cancelling_a_reservation_of_another_partner_is_rejected(client, cpo, fake_emsp, org):
    rival = connected_partner(org, "BE", "XYZ")
    Reservation.objects.create(
        station=cpo.station,
        id_tag=UID,
        expiry=timezone.now() + timedelta(hours=1),
        status=ReservationStatus.ACTIVE,
        roaming_partner=rival,
        roaming_reservation_id="RES-1",
    )
    body = {"response_url": result_url(fake_emsp, "CANCEL_RESERVATION"), "reservation_id": "RES-1"}
    answer = post(client, cpo.partner, "CANCEL_RESERVATION", body).json()["data"]
    assert (answer["result"], answer["message"][0]["text"]) == ("REJECTED", "Unknown reservation.")


def test_a_partner_of_another_organization_cannot_command_our_stations(
    client, cpo, fake_emsp, other_org
):
    make_profile(other_org, "FR", "OTH")
    outsider = connected_partner(other_org)
    answer = post(client, outsider, "START_SESSION", start_body(fake_emsp, cpo))
    assert answer.json()["status_code"] == 2003
    assert not RoamingCommand.objects.exists()


# --- results: retries, lost commands, a runner that fails ----------------------------------------


def stored_command(cpo, fake, n=1, **fields) -> RoamingCommand:
    return RoamingCommand.objects.create(
        organization=cpo.station.organization,
        partner=cpo.partner,
        command=CommandType.UNLOCK_CONNECTOR,
        request={},
        response_url=result_url(fake, "UNLOCK_CONNECTOR", n),
        station=cpo.station,
        **fields,
    )


def test_a_result_the_partner_did_not_take_is_sent_again_after_a_pause(cpo, fake_emsp, runner):
    route = ("POST", RESULTS.format(command="UNLOCK_CONNECTOR", n=1))
    fake_emsp.routes[route] = Reply(503, {"status_code": 3000})
    command = stored_command(cpo, fake_emsp)
    assert commands.run_command(command.pk) == "ACCEPTED"
    assert commands.due_results() == []  # the first pause has not passed
    fake_emsp.routes[route] = ocpi_reply()
    later = timezone.now() + commands.RESULT_BACKOFF[0] + timedelta(seconds=1)
    assert commands.due_results(now=later) == [command.pk]
    assert commands.send_result(command.pk) is True
    assert len(posted_results(fake_emsp, "UNLOCK_CONNECTOR")) == 2
    command.refresh_from_db()
    assert command.result_sent is True
    assert commands.due_results(now=later) == []


def test_a_result_another_worker_is_posting_is_not_posted_twice(cpo, fake_emsp, runner):
    route = ("POST", RESULTS.format(command="UNLOCK_CONNECTOR", n=1))
    fake_emsp.routes[route] = Reply(503, {"status_code": 3000})
    command = stored_command(cpo, fake_emsp)
    commands.run_command(command.pk)
    fake_emsp.routes[route] = ocpi_reply()
    # Another worker holds the sending lease (it is waiting for the partner's answer).
    cache.add(commands._sending_lock(command.pk), 1)
    assert commands.send_result(command.pk) is False
    assert len(posted_results(fake_emsp, "UNLOCK_CONNECTOR")) == 1
    cache.delete(commands._sending_lock(command.pk))
    assert commands.send_result(command.pk) is True
    assert len(posted_results(fake_emsp, "UNLOCK_CONNECTOR")) == 2


def test_a_command_no_task_ran_in_its_time_is_failed_and_said_so(cpo, fake_emsp, runner):
    command = stored_command(cpo, fake_emsp)
    RoamingCommand.objects.filter(pk=command.pk).update(
        created=timezone.now() - timedelta(seconds=command_timeout() + 5)
    )
    assert tasks.send_command_results() == 1
    command.refresh_from_db()
    assert (command.result, command.result_sent) == ("FAILED", True)
    assert runner.calls == []
    assert posted_results(fake_emsp, "UNLOCK_CONNECTOR")[0]["result"] == "FAILED"


def test_a_runner_that_breaks_ends_the_command_failed(cpo, fake_emsp, runner):
    runner.outcome = RuntimeError("boom")
    command = stored_command(cpo, fake_emsp)
    assert commands.run_command(command.pk) == "FAILED"
    assert posted_results(fake_emsp, "UNLOCK_CONNECTOR")[0]["result"] == "FAILED"


def test_a_command_is_carried_out_once_however_often_its_task_runs(cpo, fake_emsp, runner):
    command = stored_command(cpo, fake_emsp)
    commands.run_command(command.pk)
    commands.run_command(command.pk)
    assert runner.calls == [command.pk]
    assert len(posted_results(fake_emsp, "UNLOCK_CONNECTOR")) == 1


@pytest.mark.parametrize(
    ("status", "response", "refusals", "result"),
    [
        (CommandStatus.ACCEPTED, {"status": "Accepted"}, None, "ACCEPTED"),
        (CommandStatus.REJECTED, {"status": "Rejected"}, None, "REJECTED"),
        (CommandStatus.REJECTED, {"status": "Occupied"}, RESERVE_REFUSALS, "EVSE_OCCUPIED"),
        (CommandStatus.REJECTED, {"status": "Faulted"}, RESERVE_REFUSALS, "EVSE_INOPERATIVE"),
        (CommandStatus.REJECTED, {"status": "UnlockFailed"}, UNLOCK_REFUSALS, "FAILED"),
        (CommandStatus.TIMEOUT, None, None, "TIMEOUT"),
        (CommandStatus.OFFLINE, None, None, "FAILED"),
    ],
)
def test_the_stations_answer_becomes_an_ocpi_result(status, response, refusals, result):
    log = CommandLog(status=status, response=response)
    assert station_outcome(log, refusals).result == result


def test_a_call_error_not_implemented_is_not_supported():
    log = CommandLog(status=CommandStatus.ERROR, error_code="NotImplemented")
    assert station_outcome(log).result == "NOT_SUPPORTED"


# --- against real OCPP stations ----------------------------------------------------------------


def ts(minutes=0.0) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


class RoamingStation(Station):
    """A 1.6 station that answers the CSMS's calls as told and notes what it got."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.received = []
        self.answers = {}

    def _answer(self, action, kwargs, default="Accepted"):
        self.received.append((action, kwargs))
        return self.answers.get(action, default)

    @on(Action.remote_start_transaction)
    def on_remote_start_transaction(self, **kwargs):
        return call_result.RemoteStartTransaction(self._answer("RemoteStartTransaction", kwargs))

    @on(Action.remote_stop_transaction)
    def on_remote_stop_transaction(self, **kwargs):
        return call_result.RemoteStopTransaction(self._answer("RemoteStopTransaction", kwargs))

    @on(Action.unlock_connector)
    def on_unlock_connector(self, **kwargs):
        status = self._answer("UnlockConnector", kwargs, default="Unlocked")
        return call_result.UnlockConnector(status)

    @on(Action.reserve_now)
    def on_reserve_now(self, **kwargs):
        return call_result.ReserveNow(self._answer("ReserveNow", kwargs))

    @on(Action.cancel_reservation)
    def on_cancel_reservation(self, **kwargs):
        return call_result.CancelReservation(self._answer("CancelReservation", kwargs))


class RoamingStation201(Station201):
    """A 2.0.1 station that accepts a remote start and notes it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.received = []

    @on(Action201.request_start_transaction)
    def on_request_start_transaction(self, **kwargs):
        self.received.append(("RequestStartTransaction", kwargs))
        return call_result201.RequestStartTransaction(status="Accepted")


@pytest.fixture
def request_connections_closed():
    """Each HTTP request served by the ASGI server closes its thread's database connection."""
    # Django keeps connections (CONN_MAX_AGE) in the request's own thread under ASGI; left
    # open, PostgreSQL refuses to drop the test database.
    default = connections.settings["default"]
    kept = default["CONN_MAX_AGE"]
    default["CONN_MAX_AGE"] = 0
    yield
    default["CONN_MAX_AGE"] = kept


async def partner_posts(server_url, partner, command, body) -> dict:
    """The partner's POST over HTTP to our ASGI server (the one the station is connected to)."""
    url = server_url.replace("ws://", "http://") + (
        f"/ocpi/{partner.organization.slug}/2.2.1/cpo/commands/{command}"
    )
    answer = await asyncio.to_thread(
        requests.post,
        url,
        json=body,
        headers={"Authorization": f"Token {tokens.encode(partner.token)}"},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]


async def setup_cpo(db_call, org, ocpp_id):
    def build():
        cpo = build_cpo(org, ocpp_id, online=False)
        connections.close_all()
        return cpo

    return await db_call(build)


async def boot_16(cp):
    await cp.call(call.BootNotification(charge_point_vendor="ACME", charge_point_model="X"))
    for number in (1, 2):
        await cp.call(
            call.StatusNotification(
                connector_id=number, error_code="NoError", status="Available", timestamp=ts()
            )
        )


async def test_start_session_starts_a_16_station_for_the_partners_customer(
    ocpp_server, db_call, org, fake_emsp, eager_celery, request_connections_closed
):
    cpo = await setup_cpo(db_call, org, "CS-CMD-16")
    body = await db_call(start_body, fake_emsp, cpo)
    async with connected_station(ocpp_server, "CS-CMD-16", cls=RoamingStation) as cp:
        await boot_16(cp)
        answer = await partner_posts(ocpp_server, cpo.partner, "START_SESSION", body)
        # The station is told the partner's token uid, then starts with it.
        start = await cp.call(
            call.StartTransaction(connector_id=1, id_tag=UID, meter_start=100, timestamp=ts())
        )
    assert answer["result"] == "ACCEPTED"
    assert cp.received == [("RemoteStartTransaction", {"id_tag": UID, "connector_id": 1})]
    assert posted_results(fake_emsp, "START_SESSION") == [{"result": "ACCEPTED"}]
    # A NEVER token the eMSP cannot be asked about: its own command authorized it.
    assert start.id_tag_info["status"] == "Accepted"
    session = await db_call(ChargingSession.objects.get, station__ocpp_id="CS-CMD-16")
    assert (session.roaming_partner_id, session.auth_method) == (cpo.partner.pk, AuthMethod.ROAMING)
    assert (session.billable, session.authorization_reference) == (True, "AUTH-CMD-1")
    remote = await db_call(RemoteStart.objects.get, session=session)
    assert remote.roaming_partner_id == cpo.partner.pk


async def test_start_session_starts_a_201_station_for_the_partners_customer(
    ocpp_server, db_call, org, fake_emsp, eager_celery, request_connections_closed
):
    cpo = await setup_cpo(db_call, org, "CS-CMD-201")
    body = await db_call(start_body, fake_emsp, cpo)
    async with connected_station201(ocpp_server, "CS-CMD-201", cls=RoamingStation201) as cs:
        await cs.call(
            call201.BootNotification(
                charging_station={"model": "W", "vendor_name": "ACME"}, reason="PowerUp"
            )
        )
        answer = await partner_posts(ocpp_server, cpo.partner, "START_SESSION", body)
        [(action, sent)] = cs.received
        await cs.call(
            call201.TransactionEvent(
                event_type="Started",
                timestamp=ts(),
                trigger_reason="RemoteStart",
                seq_no=0,
                transaction_info={
                    "transaction_id": "TX-OCPI-201",
                    "remote_start_id": sent["remote_start_id"],
                },
                evse={"id": 1, "connector_id": 1},
                id_token=sent["id_token"],
            )
        )
    assert answer["result"] == "ACCEPTED"
    assert (action, sent["id_token"]["id_token"], sent["evse_id"]) == (
        "RequestStartTransaction",
        UID,
        1,
    )
    assert posted_results(fake_emsp, "START_SESSION") == [{"result": "ACCEPTED"}]
    session = await db_call(ChargingSession.objects.get, transaction_id="TX-OCPI-201")
    assert (session.roaming_partner_id, session.auth_method) == (cpo.partner.pk, AuthMethod.ROAMING)
    assert session.billable is True


async def test_stop_session_stops_the_partners_customers_session(
    ocpp_server, db_call, org, fake_emsp, eager_celery, request_connections_closed
):
    cpo = await setup_cpo(db_call, org, "CS-CMD-STOP")
    await db_call(
        lambda: RoamingToken.objects.create(
            organization=org,
            partner=cpo.partner,
            country_code="NL",
            party_id="MSP",
            ocpi_id="",
            uid=UID,
            type="RFID",
            contract_id="C",
            issuer="Mobility NL",
            whitelist="ALWAYS",
            last_updated=timezone.now(),
        )
    )
    async with connected_station(ocpp_server, "CS-CMD-STOP", cls=RoamingStation) as cp:
        await boot_16(cp)
        start = await cp.call(
            call.StartTransaction(connector_id=1, id_tag=UID, meter_start=100, timestamp=ts())
        )
        session = await db_call(ChargingSession.objects.get, station__ocpp_id="CS-CMD-STOP")
        body = {
            "response_url": result_url(fake_emsp, "STOP_SESSION"),
            "session_id": str(session.pk),
        }
        answer = await partner_posts(ocpp_server, cpo.partner, "STOP_SESSION", body)
    assert (answer["result"], session.roaming_partner_id) == ("ACCEPTED", cpo.partner.pk)
    assert cp.received == [("RemoteStopTransaction", {"transaction_id": start.transaction_id})]
    assert posted_results(fake_emsp, "STOP_SESSION") == [{"result": "ACCEPTED"}]
    log = await db_call(CommandLog.objects.get, action="RemoteStopTransaction")
    assert log.session_id == session.pk


async def test_unlock_connector_reports_a_station_that_could_not_unlock(
    ocpp_server, db_call, org, fake_emsp, eager_celery, request_connections_closed
):
    cpo = await setup_cpo(db_call, org, "CS-CMD-UNLOCK")
    connector = await db_call(cpo.station.connectors.get, connector_id=2)
    body = {
        "response_url": result_url(fake_emsp, "UNLOCK_CONNECTOR"),
        "location_id": str(cpo.site.pk),
        "evse_uid": evse_uid(connector),
        "connector_id": "1",
    }
    async with connected_station(ocpp_server, "CS-CMD-UNLOCK", cls=RoamingStation) as cp:
        cp.answers["UnlockConnector"] = "UnlockFailed"
        await boot_16(cp)
        answer = await partner_posts(ocpp_server, cpo.partner, "UNLOCK_CONNECTOR", body)
    assert answer["result"] == "ACCEPTED"
    assert cp.received == [("UnlockConnector", {"connector_id": 2})]
    [result] = posted_results(fake_emsp, "UNLOCK_CONNECTOR")
    assert result["result"] == "FAILED"
    schemas.check("CommandResult", result)


async def test_reserve_now_holds_an_evse_under_our_own_reservation_id(
    ocpp_server, db_call, org, fake_emsp, eager_celery, request_connections_closed
):
    cpo = await setup_cpo(db_call, org, "CS-CMD-RESERVE")
    connector = await db_call(cpo.station.connectors.get, connector_id=1)
    body = {
        "response_url": result_url(fake_emsp, "RESERVE_NOW"),
        "token": published(),
        "expiry_date": ts(60),
        "reservation_id": "RES-42",
        "location_id": str(cpo.site.pk),
        "evse_uid": evse_uid(connector),
    }
    async with connected_station(ocpp_server, "CS-CMD-RESERVE", cls=RoamingStation) as cp:
        await boot_16(cp)
        answer = await partner_posts(ocpp_server, cpo.partner, "RESERVE_NOW", body)
    assert answer["result"] == "ACCEPTED"
    reservation = await db_call(Reservation.objects.get, roaming_reservation_id="RES-42")
    [(action, sent)] = cp.received
    # The station gets our id, never the partner's (no partner can touch another's).
    assert (action, sent["reservation_id"], sent["id_tag"]) == ("ReserveNow", reservation.pk, UID)
    assert (reservation.status, reservation.roaming_partner_id) == (
        ReservationStatus.ACTIVE,
        cpo.partner.pk,
    )
    assert posted_results(fake_emsp, "RESERVE_NOW") == [{"result": "ACCEPTED"}]


async def test_cancel_reservation_cancels_the_partners_reservation_at_the_station(
    ocpp_server, db_call, org, fake_emsp, eager_celery, request_connections_closed
):
    cpo = await setup_cpo(db_call, org, "CS-CMD-CANCEL")
    reservation = await db_call(
        Reservation.objects.create,
        station=cpo.station,
        id_tag=UID,
        expiry=timezone.now() + timedelta(hours=1),
        status=ReservationStatus.ACTIVE,
        roaming_partner=cpo.partner,
        roaming_reservation_id="RES-7",
    )
    body = {"response_url": result_url(fake_emsp, "CANCEL_RESERVATION"), "reservation_id": "RES-7"}
    async with connected_station(ocpp_server, "CS-CMD-CANCEL", cls=RoamingStation) as cp:
        await boot_16(cp)
        answer = await partner_posts(ocpp_server, cpo.partner, "CANCEL_RESERVATION", body)
    assert answer["result"] == "ACCEPTED"
    assert cp.received == [("CancelReservation", {"reservation_id": reservation.pk})]
    reservation = await db_call(Reservation.objects.get, pk=reservation.pk)
    assert reservation.status == ReservationStatus.CANCELLED
    assert posted_results(fake_emsp, "CANCEL_RESERVATION") == [{"result": "ACCEPTED"}]
