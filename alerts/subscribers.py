"""Alerting's subscribers: domain events of the apps below open and resolve alerts.

Each hands its batch to `alerts.rules`, which owns what the events mean; the periodic sweep
(`rules.evaluate_time_rules`) is the net behind every one of them.
"""

import logging
import queue
import threading

from alerts import rules, tasks
from baselines.events import BASELINE_DRIFT_CLEARED, BASELINE_DRIFT_FOUND
from core.enqueue import enqueue_now
from core.events import Event, receiver
from organizations.events import ORGANIZATION_CREATED
from sessions_app.events import (
    AUTHORIZATION_REJECTED,
    SESSION_HELD_FOR_REVIEW,
    SESSION_REVIEWED,
    SESSION_STARTED,
    SESSION_STOPPED,
)
from stations.events import (
    STATION_BOOTED,
    STATION_CONNECTED,
    STATION_CONNECTION_REFUSED,
    STATION_DIAGNOSTICS_STATUS,
    STATION_EVENT_REPORTED,
    STATION_FIRMWARE_STATUS,
    STATION_STATUS_CHANGED,
)

logger = logging.getLogger(__name__)


class FaultSender:
    """Sends evaluate_faults tasks from a thread of its own: the status writer never waits."""

    # A publish to the broker costs a millisecond or two; on the gateway's database thread that
    # is a tenth of a status batch of 100 (docs/benchmarks.md). What queues up while a publish
    # is under way is merged into the next task. With the queue full (the broker away, each try
    # waiting for its timeout) a batch's look is dropped: the minute sweep finds every fault
    # and recovery no task saw, as it does for a process that stops with looks still queued.

    def __init__(self, limit: int = 1000):
        self._queue: queue.Queue = queue.Queue(maxsize=limit)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def send(self, connector_ids: list[int], station_ids: list[int]) -> None:
        """Have these connectors and stations looked at, soon."""
        if tasks.evaluate_faults.app.conf.task_always_eager:
            # Tests and development without a broker: the task runs here and now.
            enqueue_now(tasks.evaluate_faults, connector_ids, station_ids)
            return
        try:
            self._queue.put_nowait((connector_ids, station_ids))
        except queue.Full:
            logger.warning("fault evaluation dropped (broker slow or away); the sweep does it")
            return
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(
                        target=self._run, name="alerts-fault-sender", daemon=True
                    )
                    self._thread.start()

    def wait_sent(self) -> None:
        """Block until everything queued has been handed to the broker (tests, benchmarks)."""
        self._queue.join()

    def _run(self) -> None:
        while True:
            connector_ids, station_ids = (set(ids) for ids in self._queue.get())
            merged = 1
            while True:
                try:
                    more_connectors, more_stations = self._queue.get_nowait()
                except queue.Empty:
                    break
                connector_ids.update(more_connectors)
                station_ids.update(more_stations)
                merged += 1
            enqueue_now(tasks.evaluate_faults, sorted(connector_ids), sorted(station_ids))
            for _ in range(merged):
                self._queue.task_done()


fault_sender = FaultSender()


@receiver(STATION_STATUS_CHANGED)
def watch_statuses(events: list[Event]) -> None:
    """Faulted opens a fault alert, any other status resolves it (the status write path)."""
    # The write path only picks the connectors to look at; a task opens or resolves.
    connector_ids, station_ids = rules.fault_subjects(events)
    if connector_ids or station_ids:
        fault_sender.send(connector_ids, station_ids)


@receiver(STATION_CONNECTED)
def watch_connections(events: list[Event]) -> None:
    """A station back online: its offline and refused-connection alerts resolve."""
    rules.evaluate_connections(events)


@receiver(STATION_BOOTED)
def watch_boots(events: list[Event]) -> None:
    """A rejected boot opens an alert, an accepted one resolves it."""
    rules.evaluate_boots(events)


@receiver(STATION_CONNECTION_REFUSED)
def watch_refused_connections(events: list[Event]) -> None:
    """Wrong credentials of a station, or an unknown identity knocking."""
    rules.evaluate_refused_connections(events)


@receiver(STATION_FIRMWARE_STATUS)
def watch_firmware(events: list[Event]) -> None:
    """A firmware update failed, or one succeeded."""
    rules.evaluate_firmware_statuses(events)


@receiver(STATION_DIAGNOSTICS_STATUS)
def watch_diagnostics(events: list[Event]) -> None:
    """A diagnostics upload failed, or one succeeded."""
    rules.evaluate_diagnostics_statuses(events)


@receiver(BASELINE_DRIFT_FOUND)
def watch_drift(events: list[Event]) -> None:
    """A station drifted from a configuration baseline."""
    rules.evaluate_drift_found(events)


@receiver(BASELINE_DRIFT_CLEARED)
def watch_drift_cleared(events: list[Event]) -> None:
    """A station matches its configuration baseline again."""
    rules.clear_drift(events)


@receiver(STATION_EVENT_REPORTED)
def watch_station_events(events: list[Event]) -> None:
    """Security events and severe device-model events."""
    rules.evaluate_station_events(events)


@receiver(AUTHORIZATION_REJECTED)
def watch_authorizations(events: list[Event]) -> None:
    """Refused tokens, counted per station."""
    rules.count_authorization_failures(events)


@receiver(SESSION_HELD_FOR_REVIEW)
def watch_held_sessions(events: list[Event]) -> None:
    """A session held for review as implausible."""
    rules.evaluate_held_sessions(events)


@receiver(SESSION_REVIEWED)
def watch_reviewed_sessions(events: list[Event]) -> None:
    """A held session was released or corrected."""
    rules.clear_reviewed_sessions(events)


@receiver(SESSION_STARTED)
def watch_started_sessions(events: list[Event]) -> None:
    """A session started: failed remote starts there are over."""
    rules.clear_started_sessions(events)


@receiver(SESSION_STOPPED)
def watch_stopped_sessions(events: list[Event]) -> None:
    """A session ended: it is neither stuck nor silent any more."""
    rules.clear_stopped_sessions(events)


@receiver(ORGANIZATION_CREATED)
def give_default_rules(events: list[Event]) -> None:
    """A new organization starts with the default rules switched on."""
    rules.install_defaults(events)
