"""PostgreSQL faults: deadlocks are retried, locks never block foreign keys, a cut fails fast."""

import asyncio
import threading

import psycopg.errors
import pytest
from django.db import OperationalError, connection, connections, transaction
from django.utils import timezone

from ocpp_gateway.dbworker import MAX_RETRIES, DatabaseWorker, is_retryable
from ocpp_gateway.messagelog import message_log
from ocpp_gateway.models import OcppMessage
from organizations.models import Organization
from sessions_app.models import MeterValue
from sessions_app.services import start_session
from tests.factories import ChargingStationFactory, OrganizationFactory
from tests.faultproxy import FaultProxy
from tests.ocpp_gateway.conftest import open_socket, raw_exchange

pytestmark = pytest.mark.django_db(transaction=True)

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="runs in the PostgreSQL pass"
)


@pytest.fixture
async def worker():
    worker = DatabaseWorker()
    yield worker
    await asyncio.to_thread(worker.stop)


def deadlock() -> OperationalError:
    """The error Django raises when PostgreSQL picked this transaction as a deadlock's victim."""
    try:
        raise OperationalError("deadlock detected") from psycopg.errors.DeadlockDetected(
            "deadlock detected"
        )
    except OperationalError as error:
        return error


class FailsFirst:
    """A job that writes an organization, losing a deadlock on its first `times` runs."""

    def __init__(self, name: str, times: int):
        self.name, self.times, self.runs = name, times, 0

    def __call__(self):
        self.runs += 1
        Organization.objects.create(name=self.name, slug=self.name.lower())
        if self.runs <= self.times:
            raise deadlock()
        return self.runs


def create_org(name):
    return Organization.objects.create(name=name, slug=name.lower()).pk


def test_a_deadlock_or_serialization_failure_is_recognized_through_djangos_wrapper():
    assert is_retryable(deadlock())
    try:
        raise OperationalError("conflict") from psycopg.errors.SerializationFailure("conflict")
    except OperationalError as error:
        assert is_retryable(error)
    assert not is_retryable(OperationalError("server closed the connection unexpectedly"))
    assert not is_retryable(ValueError("not a database error"))


async def test_a_batch_that_lost_a_deadlock_is_run_again_and_every_job_answered(worker):
    gate = threading.Event()
    first = asyncio.ensure_future(worker.run(gate.wait, 10))
    await asyncio.sleep(0.05)  # the worker holds the first job; the next two queue up together
    other = asyncio.ensure_future(worker.run(create_org, "Neighbour"))
    victim = FailsFirst("Victim", times=1)
    retried = asyncio.ensure_future(worker.run(victim))
    await asyncio.sleep(0.05)
    gate.set()

    assert await first is True
    assert isinstance(await other, int)
    assert await retried == 2
    names = await worker.run(lambda: sorted(Organization.objects.values_list("name", flat=True)))
    # The aborted attempt left nothing behind: each write is there once.
    assert names == ["Neighbour", "Victim"]


async def test_a_deadlock_that_persists_fails_the_jobs_after_a_bounded_number_of_runs(worker):
    victim = FailsFirst("Victim", times=MAX_RETRIES + 5)
    with pytest.raises(OperationalError, match="deadlock"):
        await worker.run(victim)
    assert victim.runs == MAX_RETRIES + 1
    assert await worker.run(Organization.objects.count) == 0


async def test_a_failing_after_commit_hook_never_turns_a_committed_batch_into_errors(worker):
    def write_then_hook_fails():
        pk = create_org("Committed")
        transaction.on_commit(lambda: (_ for _ in ()).throw(ConnectionError("broker down")))
        return pk

    pk = await worker.run(write_then_hook_fails)
    assert await worker.run(lambda: Organization.objects.get(pk=pk).name) == "Committed"


@on_postgresql
def test_the_station_lock_of_a_start_never_blocks_rows_that_reference_the_station():
    org = OrganizationFactory()
    station = ChargingStationFactory(organization=org)
    locked = threading.Event()
    release = threading.Event()
    failures = []

    def start_and_hold():
        # start_session as the gateway runs it: inside a batch's transaction, held open while
        # other jobs of the batch run.
        try:
            with transaction.atomic():
                start_session(
                    station,
                    connector_number=1,
                    id_tag="",
                    started_at=timezone.now(),
                    meter_start=0,
                )
                locked.set()
                release.wait(30)
        except Exception as error:  # pragma: no cover - reported by the assertion below
            failures.append(error)
            locked.set()
        finally:
            connections.close_all()

    holder = threading.Thread(target=start_and_hold)
    holder.start()
    try:
        assert locked.wait(30)
        with transaction.atomic():
            with connection.cursor() as cursor:
                # Blocking is the failure: give up instead of waiting for the holder.
                cursor.execute("SET LOCAL lock_timeout = '5s'")
            # A foreign-key check takes FOR KEY SHARE on the station row, which FOR UPDATE
            # blocks and FOR NO KEY UPDATE does not.
            MeterValue.objects.create(
                station=station, timestamp=timezone.now(), value=1, measurand="Voltage"
            )
            OcppMessage.objects.create(
                station_id=station.pk,
                ocpp_id=station.ocpp_id,
                direction="in",
                message_type=2,
                action="MeterValues",
                unique_id="1",
                payload={},
                created=timezone.now(),
            )
    finally:
        release.set()
        holder.join(30)
    assert failures == []


@on_postgresql
def test_the_connection_carries_the_configured_timeouts(settings):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN "
            "('statement_timeout', 'idle_in_transaction_session_timeout')"
        )
        server = dict(cursor.fetchall())
    assert server == {
        "statement_timeout": str(round(settings.DB_STATEMENT_TIMEOUT * 1000)),
        "idle_in_transaction_session_timeout": str(
            round(settings.DB_IDLE_IN_TRANSACTION_TIMEOUT * 1000)
        ),
    }
    assert server["statement_timeout"] != "0"
    client = connection.connection.info.get_parameters()
    assert client["connect_timeout"] == str(settings.DB_CONNECT_TIMEOUT)
    assert client["keepalives_idle"] == str(settings.DB_KEEPALIVES_IDLE)


@pytest.fixture
def database_behind_proxy():
    """Connections opened from now on (the gateway's threads) reach PostgreSQL via a proxy."""
    config = connections.settings["default"]
    saved = config["HOST"], config["PORT"]
    with FaultProxy(config["HOST"] or "127.0.0.1", int(config["PORT"] or 5432)) as proxy:
        config["HOST"], config["PORT"] = "127.0.0.1", str(proxy.port)
        try:
            yield proxy
        finally:
            config["HOST"], config["PORT"] = saved


def status_frame(message_id: str) -> list:
    return [
        2,
        message_id,
        "StatusNotification",
        {"connectorId": 1, "errorCode": "NoError", "status": "Available"},
    ]


@on_postgresql
async def test_a_cut_database_answers_calls_with_an_error_and_the_gateway_recovers(
    org, database_behind_proxy, ocpp_server, db_call
):
    station = await db_call(ChargingStationFactory, organization=org, ocpp_id="CS-CUT-1")
    ws = await open_socket(ocpp_server, station.ocpp_id)
    try:
        assert (await raw_exchange(ws, status_frame("before")))[0] == 3

        database_behind_proxy.blackhole()
        # The open connection is reset: the batch on it fails at once.
        reset = await raw_exchange(ws, status_frame("reset"))
        assert reset[:3] == [4, "reset", "InternalError"]
        # A new connection gets no answer at all, as in a network partition: connect_timeout
        # (5 s by default) fails it; raw_exchange gives up after 10 s, so a stalled gateway
        # fails the test.
        silent = await raw_exchange(ws, status_frame("silent"))
        assert silent[:3] == [4, "silent", "InternalError"]

        database_behind_proxy.restore()
        assert await raw_exchange(ws, status_frame("after")) == [3, "after", {}]
    finally:
        await ws.close()
        await message_log.flush()
