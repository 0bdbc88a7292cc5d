"""A bad item of a batched write costs only itself, found by halving the group."""

import asyncio

import pytest

from ocpp_gateway.dbworker import DatabaseWorker
from organizations.models import Organization

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def worker():
    worker = DatabaseWorker()
    yield worker
    await asyncio.to_thread(worker.stop)


class CountingWrite:
    """A batched write that creates one organization per name; a name "bad" makes it fail."""

    def __init__(self):
        self.calls = 0

    def __call__(self, names):
        self.calls += 1
        pks = [Organization.objects.create(name=n, slug=n.lower()).pk for n in names]
        if "bad" in names:
            raise ValueError("one bad item")
        return pks


async def submit_together(worker, write, items):
    """Queue all items while the worker is busy, so they form one batch."""
    gate = asyncio.Event()
    loop = asyncio.get_running_loop()
    blocker = asyncio.ensure_future(
        worker.run(lambda: asyncio.run_coroutine_threadsafe(gate.wait(), loop).result(10))
    )
    await asyncio.sleep(0.05)
    jobs = [asyncio.ensure_future(worker.run_batched(write, item)) for item in items]
    await asyncio.sleep(0.05)
    gate.set()
    await blocker
    return await asyncio.gather(*jobs, return_exceptions=True)


async def test_one_bad_item_among_64_is_found_by_halving_and_the_others_are_written(worker):
    write = CountingWrite()
    names = [f"org{n}" for n in range(64)]
    names[37] = "bad"

    results = await submit_together(worker, write, names)

    assert isinstance(results[37], ValueError)
    assert all(isinstance(r, int) for i, r in enumerate(results) if i != 37)
    assert write.calls <= 2 * 6 + 1  # one by one took 65 writes
    stored = await worker.run(lambda: Organization.objects.count())
    assert stored == 63


async def test_a_write_answering_too_few_items_fails_its_group_not_the_whole_batch(worker):
    def short_write(names):
        Organization.objects.bulk_create([Organization(name=n, slug=n.lower()) for n in names])
        return [None] * (len(names) - 1) if len(names) > 1 else [None]

    others = asyncio.ensure_future(
        worker.run(lambda: Organization.objects.create(name="Kept", slug="kept").pk)
    )
    results = await submit_together(worker, short_write, ["a", "b", "c"])
    await others

    # Before, the mismatch escaped the savepoint and undid every job of the batch.
    assert results == [None, None, None]
    names = await worker.run(lambda: sorted(Organization.objects.values_list("name", flat=True)))
    assert names == ["Kept", "a", "b", "c"]
