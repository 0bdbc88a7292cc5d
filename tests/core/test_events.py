"""The domain-event bus (core.events): after commit only, in batches, never at the write's cost."""

import logging

import pytest
from django.db import transaction

from core import events
from organizations.models import Organization

HAPPENED = "test.happened"
OTHER = "test.other"

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscribe():
    """Subscribe for one test; every subscription is undone after it."""
    added = []

    def add(name, subscriber):
        events.subscribe(name, subscriber)
        added.append((name, subscriber))
        return subscriber

    yield add
    for name, subscriber in added:
        events.unsubscribe(name, subscriber)


@pytest.fixture
def heard(subscribe):
    """The batches a subscriber of HAPPENED received, as lists of data dicts."""
    batches = []
    subscribe(HAPPENED, lambda batch: batches.append([event.data for event in batch]))
    return batches


def test_subscribers_hear_an_event_only_once_its_transaction_commits(
    heard, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        events.emit(HAPPENED, station_id=7)
        assert heard == []

    for callback in callbacks:
        callback()
    assert heard == [[{"station_id": 7}]]


def test_a_rolled_back_write_drops_its_events_with_it(heard, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            Organization.objects.create(name="Gone", slug="gone")
            events.emit(HAPPENED, organization_id=1)
            raise RuntimeError("the write fails")
        events.emit(HAPPENED, organization_id=2)

    assert heard == [[{"organization_id": 2}]]
    assert not Organization.objects.filter(slug="gone").exists()


def test_a_batch_reaches_each_subscriber_once_in_order_with_one_commit_hook(
    heard, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        events.emit_many(HAPPENED, ({"n": n} for n in range(500)))

    assert len(callbacks) == 1
    assert heard == [[{"n": n} for n in range(500)]]


def test_two_emits_are_two_batches(heard, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        events.emit(HAPPENED, n=1)
        events.emit_many(HAPPENED, [{"n": 2}, {"n": 3}])

    assert heard == [[{"n": 1}], [{"n": 2}, {"n": 3}]]


def test_an_event_is_read_like_a_dict(subscribe, django_capture_on_commit_callbacks):
    seen = []
    subscribe(HAPPENED, lambda batch: seen.extend(batch))

    with django_capture_on_commit_callbacks(execute=True):
        events.emit(HAPPENED, session_id=3)

    (event,) = seen
    assert (event.name, event["session_id"], event.get("station_id", "none")) == (
        HAPPENED,
        3,
        "none",
    )


def test_a_failing_subscriber_neither_stops_the_others_nor_fails_the_write(
    subscribe, heard, django_capture_on_commit_callbacks, caplog
):
    def broken(batch):
        raise ValueError("this subscriber is broken")

    # One subscriber before the broken one (`heard`), one after it.
    subscribe(HAPPENED, broken)
    after = []
    subscribe(HAPPENED, after.append)

    with (
        caplog.at_level(logging.ERROR, logger="core.events"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        organization = Organization.objects.create(name="Kept", slug="kept")
        events.emit(HAPPENED, organization_id=organization.pk)

    assert heard == [[{"organization_id": organization.pk}]]
    assert len(after) == 1
    assert Organization.objects.filter(pk=organization.pk).exists()
    assert "broken" in caplog.text


def test_an_event_nobody_subscribes_to_costs_no_commit_hook(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        events.emit("test.nobody-listens", station_id=1)
        events.emit_many("test.nobody-listens", ({"n": n} for n in range(10)))

    assert callbacks == []


def test_nobody_subscribed_reads_no_event_at_all(django_capture_on_commit_callbacks):
    def never_read():
        raise AssertionError("the events were built although nobody listens")
        yield  # pragma: no cover

    with django_capture_on_commit_callbacks() as callbacks:
        events.emit_many("test.nobody-listens", never_read())

    assert callbacks == []


def test_an_empty_batch_costs_no_commit_hook(heard, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        events.emit_many(HAPPENED, [])

    assert callbacks == []


def test_a_subscriber_hears_only_its_names(heard, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        events.emit(OTHER, n=1)

    assert heard == []


def test_receiver_subscribes_one_function_to_several_names():
    def record(batch):
        pass

    events.receiver(HAPPENED, OTHER)(record)
    try:
        assert record in events.subscribers(HAPPENED)
        assert record in events.subscribers(OTHER)
    finally:
        events.unsubscribe(HAPPENED, record)
        events.unsubscribe(OTHER, record)
    assert record not in events.subscribers(HAPPENED)


def test_subscribing_twice_hears_once(subscribe, heard, django_capture_on_commit_callbacks):
    (subscriber,) = events.subscribers(HAPPENED)
    events.subscribe(HAPPENED, subscriber)

    with django_capture_on_commit_callbacks(execute=True):
        events.emit(HAPPENED, n=1)

    assert heard == [[{"n": 1}]]


def test_outside_a_transaction_subscribers_run_at_once(heard, transactional_db):
    events.emit(HAPPENED, n=1)

    assert heard == [[{"n": 1}]]
