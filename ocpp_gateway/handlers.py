"""How the gateway runs a handler: the marks a version's handlers carry for the consumer."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


def without_database(handler: Callable) -> Callable:
    """Mark a handler that touches no database: it is answered on the event loop at once."""
    handler.without_database = True
    return handler


@dataclass(frozen=True, slots=True)
class Batch:
    """How a handler's writes are done for many stations at once."""

    prepare: Callable[[Any, dict], Any]  # (station, payload) -> item; no database
    write: Callable[[list], list]  # items -> results, in order; one call per batch
    answer: Callable[[Any], dict]  # result -> response payload


def batched(prepare: Callable, write: Callable, answer: Callable = lambda result: {}):
    """Mark a handler whose writes the gateway may group with other stations' (group commit)."""

    def mark(handler: Callable) -> Callable:
        handler.batch = Batch(prepare, write, answer)
        return handler

    return mark
