"""Domain events: a service announces what happened; other apps react once it is committed."""

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import transaction

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened: its name (`session.stopped`) and ids and small values."""

    name: str
    data: dict = field(default_factory=dict)

    def __getitem__(self, key):
        return self.data[key]

    def get(self, key, default=None):
        """A value of the event, or `default`."""
        return self.data.get(key, default)


# A subscriber takes the events of one emit, in order: a batch writer (the gateway's status
# batch) emits hundreds at once, and a subscriber that groups them (one live message per
# organization) must see them together.
Subscriber = Callable[[list[Event]], None]

_subscribers: dict[str, list[Subscriber]] = defaultdict(list)


def subscribe(name: str, subscriber: Subscriber) -> None:
    """Call `subscriber` with every batch of `name` events after its transaction commits."""
    if subscriber not in _subscribers[name]:
        _subscribers[name].append(subscriber)


def unsubscribe(name: str, subscriber: Subscriber) -> None:
    """Stop calling `subscriber` for `name` (tests that subscribe for one case)."""
    if subscriber in _subscribers.get(name, ()):
        _subscribers[name].remove(subscriber)


def receiver(*names: str) -> Callable[[Subscriber], Subscriber]:
    """Decorator: subscribe the function to each of `names` (modules imported in ready())."""

    def register(subscriber: Subscriber) -> Subscriber:
        for name in names:
            subscribe(name, subscriber)
        return subscriber

    return register


def subscribers(name: str) -> list[Subscriber]:
    """Who listens to `name`, in subscription order."""
    return list(_subscribers.get(name, ()))


def emit(name: str, **data) -> None:
    """Announce one event; subscribers run after the current transaction commits."""
    emit_many(name, (data,))


def emit_many(name: str, items: Iterable[dict]) -> None:
    """Announce a batch of events of one name; subscribers get them together after commit."""
    if not _subscribers.get(name):
        # Nobody listens: the write path pays nothing, not even an on_commit hook.
        return
    events = [Event(name, dict(data)) for data in items]
    if events:
        # Outside a transaction on_commit runs at once; a rollback drops the events with it.
        transaction.on_commit(lambda: dispatch(events))


def dispatch(events: list[Event]) -> None:
    """Run the subscribers of a committed batch; one failing never stops the others."""
    if not events:
        return
    name = events[0].name
    for subscriber in subscribers(name):
        try:
            subscriber(events)
        except Exception:
            # The write is committed and acknowledged; a subscriber's failure is its own (each
            # subscriber with durable work has a sweep that catches what it missed).
            logger.exception("subscriber %s of %s failed", _describe(subscriber), name)


def _describe(subscriber: Subscriber) -> str:
    return f"{getattr(subscriber, '__module__', '?')}.{getattr(subscriber, '__qualname__', '?')}"
