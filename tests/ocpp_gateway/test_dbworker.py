"""The gateway's database thread: group commit, savepoints per job, answers after the commit."""

import asyncio
import threading

import pytest
from django.db import transaction
from django.utils import timezone

from ocpp_gateway import connections
from ocpp_gateway.connections import Credentials, LastSeen, authenticate_station
from ocpp_gateway.dbworker import DatabaseWorker, background_db, db_worker
from organizations.models import Organization
from stations.models import ChargingStation
from tests.factories import STATION_PASSWORD, ChargingStationFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def worker():
    worker = DatabaseWorker()
    yield worker
    await asyncio.to_thread(worker.stop)


def create_org(name):
    return Organization.objects.create(name=name, slug=name.lower()).pk


def create_org_then_fail(name):
    create_org(name)
    raise ValueError("this job fails after its write")


async def test_jobs_queued_together_commit_together_and_a_failure_undoes_only_its_own(worker):
    gate = threading.Event()
    first = asyncio.ensure_future(worker.run(gate.wait, 10))
    await asyncio.sleep(0.05)  # the worker now holds the first job; the next two queue up
    kept = asyncio.ensure_future(worker.run(create_org, "Kept"))
    failed = asyncio.ensure_future(worker.run(create_org_then_fail, "Undone"))
    await asyncio.sleep(0.05)
    gate.set()

    assert await first is True
    assert isinstance(await kept, int)
    with pytest.raises(ValueError, match="fails after its write"):
        await failed
    names = await worker.run(lambda: sorted(Organization.objects.values_list("name", flat=True)))
    assert names == ["Kept"]
    assert (worker.batches, worker.jobs) == (3, 4)  # gate, then kept + failed together, then read


async def test_a_job_is_answered_only_after_its_transaction_commits(worker):
    committed = []

    def write():
        create_org("Durable")
        transaction.on_commit(lambda: committed.append(True))
        return committed.copy()

    seen_inside = await worker.run(write)
    assert seen_inside == []  # still inside the transaction while the job ran
    assert committed == [True]  # committed before the answer came back


@pytest.fixture
async def shared_worker():
    """The process's own db_worker, stopped afterwards so its connection closes."""
    yield db_worker
    await asyncio.to_thread(db_worker.stop)
    await asyncio.to_thread(background_db.stop)


async def test_last_seen_writes_every_station_heard_from_in_one_flush(org, db_call, shared_worker):
    stations = [await db_call(ChargingStationFactory, organization=org) for _ in range(3)]
    tracker = LastSeen()
    before = timezone.now()
    for station in stations[:2]:
        tracker.note(station.pk)
    assert await tracker.flush() == 2
    assert await tracker.flush() == 0  # nothing heard since

    def last_seen():
        return dict(ChargingStation.objects.values_list("pk", "last_seen"))

    seen = await db_call(last_seen)
    assert all(seen[s.pk] >= before for s in stations[:2])
    assert seen[stations[2].pk] is None or seen[stations[2].pk] < before


def test_a_verified_password_is_not_derived_again_and_a_wrong_one_still_fails(org, monkeypatch):
    station = ChargingStationFactory(organization=org)
    derivations = []
    original = ChargingStation.check_password

    def counting(self, raw):
        derivations.append(raw)
        return original(self, raw)

    monkeypatch.setattr(ChargingStation, "check_password", counting)
    right = Credentials(station.ocpp_id, STATION_PASSWORD)
    assert authenticate_station(station.ocpp_id, right).pk == station.pk
    assert authenticate_station(station.ocpp_id, right).pk == station.pk
    assert len(derivations) == 1

    with pytest.raises(connections.HandshakeRefused):
        authenticate_station(station.ocpp_id, Credentials(station.ocpp_id, "not-the-password"))
    assert len(derivations) == 1  # refused from the remembered digest


def test_a_changed_password_is_derived_again(org):
    station = ChargingStationFactory(organization=org)
    authenticate_station(station.ocpp_id, Credentials(station.ocpp_id, STATION_PASSWORD))
    station.set_password("a-completely-new-key-77")
    station.save(update_fields=["password_hash"])

    with pytest.raises(connections.HandshakeRefused):
        authenticate_station(station.ocpp_id, Credentials(station.ocpp_id, STATION_PASSWORD))
    fresh = Credentials(station.ocpp_id, "a-completely-new-key-77")
    assert authenticate_station(station.ocpp_id, fresh).pk == station.pk


def create_orgs(names):
    if "Broken" in names:
        raise ValueError("one bad item")
    return [create_org(name) for name in names]


async def test_batched_jobs_queued_together_are_written_by_one_call(worker):
    calls = []

    def write(names):
        calls.append(list(names))
        return create_orgs(names)

    gate = threading.Event()
    first = asyncio.ensure_future(worker.run(gate.wait, 10))
    await asyncio.sleep(0.05)
    jobs = [asyncio.ensure_future(worker.run_batched(write, name)) for name in ("A", "B", "C")]
    await asyncio.sleep(0.05)
    gate.set()

    await first
    pks = [await job for job in jobs]
    assert calls == [["A", "B", "C"]]
    assert len(set(pks)) == 3


async def test_a_bad_item_of_a_batch_fails_alone(worker):
    gate = threading.Event()
    first = asyncio.ensure_future(worker.run(gate.wait, 10))
    await asyncio.sleep(0.05)
    jobs = [
        asyncio.ensure_future(worker.run_batched(create_orgs, name))
        for name in ("Good", "Broken", "Fine")
    ]
    await asyncio.sleep(0.05)
    gate.set()
    await first

    results = await asyncio.gather(*jobs, return_exceptions=True)
    assert isinstance(results[1], ValueError)
    assert all(isinstance(pk, int) for pk in (results[0], results[2]))
    names = await worker.run(lambda: sorted(Organization.objects.values_list("name", flat=True)))
    assert names == ["Fine", "Good"]
