"""The gateway's garbage-collector policy: freeze what lives, still reclaim frozen garbage."""

import asyncio
import gc
import weakref

import pytest

from ocpp_gateway import gcpolicy


@pytest.fixture(autouse=True)
def unfrozen():
    yield
    gc.unfreeze()


class Node:
    """Part of a reference cycle: only the cycle collector can free it."""


def make_cycle():
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def test_freezing_hides_live_objects_from_the_collector():
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    gcpolicy.freeze_now()
    assert gc.get_freeze_count() > 0


def test_garbage_frozen_while_alive_is_reclaimed_by_the_full_collection():
    ref = make_cycle()
    gcpolicy.freeze_now()  # the cycle is garbage already, but young: collected before freezing
    assert ref() is None

    node = Node()
    node.self = node
    ref = weakref.ref(node)
    gcpolicy.freeze_now()
    del node
    gc.collect()
    assert ref() is not None  # frozen: the collector does not see it
    assert gcpolicy.collect_everything() >= 0
    assert ref() is None


async def test_the_policy_loop_freezes_periodically(settings):
    settings.GC_FREEZE_SECONDS = 0.05
    settings.GC_FULL_COLLECT_SECONDS = 0
    gc.unfreeze()
    gcpolicy.ensure_started()
    try:
        for _ in range(100):
            await asyncio.sleep(0.02)
            if gc.get_freeze_count() > 0:
                break
        assert gc.get_freeze_count() > 0
    finally:
        gcpolicy._task.cancel()


async def test_a_zero_interval_switches_the_policy_off(settings):
    settings.GC_FREEZE_SECONDS = 0
    gcpolicy._task = None
    gcpolicy.ensure_started()
    assert gcpolicy._task is None
