"""The gateway's database thread: every job queued meanwhile is committed in one transaction."""

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from asgiref.sync import sync_to_async
from django.db import DatabaseError, close_old_connections, connections, transaction

logger = logging.getLogger(__name__)

# Enough to amortize a commit over many messages, few enough that one batch stays short.
MAX_BATCH = 500
# Idle connections are checked (CONN_MAX_AGE, health) this often, not before every job.
CONNECTION_CHECK_SECONDS = 30.0
# PostgreSQL aborts one transaction of a deadlock (40P01) or a serialization conflict (40001):
# it was only the victim, and the same jobs pass on a fresh transaction once the other has
# finished. A batch so aborted is run again this many times before its jobs are failed.
MAX_RETRIES = 3
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})


@dataclass(slots=True)
class _Job:
    fn: Callable
    args: tuple
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future
    batched: bool = False


class DatabaseWorker:
    """One thread per process runs the gateway's writes; a job is answered after its commit."""

    # Why not Channels' database_sync_to_async: it checks the connection before and after every
    # call (a health-check query each time) and commits every message on its own, so a process
    # tops out at a few hundred messages per second. Group commit takes one commit per batch
    # and a savepoint per job, so one job's failure never undoes another's rows.

    def __init__(self, max_batch: int = MAX_BATCH, name: str = "ocpp-db"):
        self.max_batch = max_batch
        self.name = name
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._drainer: asyncio.Task | None = None
        self._single_writer: bool | None = None  # SQLite: one writer thread for the process
        self.batches = 0
        self.jobs = 0

    async def run(self, fn: Callable, *args) -> Any:
        """Run fn(*args) in the database thread; returns once its transaction is committed."""
        return await self._submit(fn, args, batched=False)

    async def run_batched(self, write: Callable[[list], list], item) -> Any:
        """Have write([..., item, ...]) take item with the others queued meanwhile; its result."""
        return await self._submit(write, (item,), batched=True)

    async def _submit(self, fn: Callable, args: tuple, batched: bool) -> Any:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.put(_Job(fn, args, loop, future, batched))
        if self._single_writer is None:
            # Read once: the connection handler's lookup is not free on every message.
            self._single_writer = connections["default"].vendor == "sqlite"
        if self._single_writer:
            self._ensure_drainer(loop)
        else:
            self._ensure_thread()
        return await future

    def _ensure_drainer(self, loop: asyncio.AbstractEventLoop) -> None:
        # SQLite takes one writer at a time: its batches run on the thread that Django's async
        # views and Channels' database_sync_to_async use, so no two threads ever write at once.
        if self._drainer is None or self._drainer.done() or self._drainer.get_loop() is not loop:
            self._drainer = loop.create_task(self._drain())

    async def _drain(self) -> None:
        run_batch = sync_to_async(self._run_batch, thread_sensitive=True)
        while True:
            batch = self._take_batch(block=False)
            if not batch:
                return
            await run_batch(batch)

    def _take_batch(self, block: bool) -> list[_Job]:
        batch = []
        while len(batch) < self.max_batch:
            try:
                job = self._queue.get(block=block and not batch)
            except queue.Empty:
                break
            if job is None:
                if batch or not block:
                    self._queue.put(None)  # finish this batch, then stop
                    break
                return [None]
            batch.append(job)
        return batch

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._serve, name=self.name, daemon=True)
                self._thread.start()

    def _serve(self) -> None:
        checked = time.monotonic()
        while True:
            batch = self._take_batch(block=True)
            if batch == [None]:
                connections.close_all()
                return
            if time.monotonic() - checked > CONNECTION_CHECK_SECONDS:
                close_old_connections()
                checked = time.monotonic()
            self._run_batch(batch)

    def _run_batch(self, batch: list[_Job]) -> None:
        # Batched jobs of one write function become one call; a station has one message in
        # flight at a time, so no two jobs of a batch depend on each other's order.
        steps: list[int | Callable] = []
        groups: dict[Callable, list[int]] = {}
        for index, job in enumerate(batch):
            if not job.batched:
                steps.append(index)
            elif job.fn in groups:
                groups[job.fn].append(index)
            else:
                groups[job.fn] = [index]
                steps.append(job.fn)
        for attempt in range(MAX_RETRIES + 1):
            outcomes: list[tuple[bool, Any]] = [(False, None)] * len(batch)
            committed: list[bool] = []
            try:
                with transaction.atomic():
                    # The first after-commit hook: once it ran, the batch holds whatever a
                    # later hook raises, and the answers must say so.
                    transaction.on_commit(partial(committed.append, True))
                    for step in steps:
                        if isinstance(step, int):
                            outcomes[step] = _attempt(batch[step].fn, *batch[step].args)
                        else:
                            self._run_group(step, groups[step], batch, outcomes)
            except Exception as exc:
                if committed:
                    logger.exception("an after-commit hook of a committed gateway batch failed")
                elif is_retryable(exc) and attempt < MAX_RETRIES:
                    logger.warning("gateway batch aborted (%s); running it again", exc)
                    continue
                else:
                    # The commit failed: nothing of the batch holds.
                    logger.exception(
                        "a batch of %d gateway jobs could not be committed", len(batch)
                    )
                    if isinstance(exc, DatabaseError):
                        # A broken connection is replaced on the next batch.
                        connections["default"].close_if_unusable_or_obsolete()
                    outcomes = [(False, exc)] * len(batch)
            break
        self.batches += 1
        self.jobs += len(batch)
        by_loop: dict[asyncio.AbstractEventLoop, list] = {}
        for job, outcome in zip(batch, outcomes, strict=True):
            by_loop.setdefault(job.loop, []).append((job.future, outcome))
        for loop, results in by_loop.items():
            # One wake-up of the event loop per batch, not one per job.
            # A closed loop raises RuntimeError: nobody waits for those results any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, results)

    @staticmethod
    def _run_group(write: Callable, indexes: list[int], batch: list[_Job], outcomes: list) -> None:
        ok, results = _attempt(_write_group, write, [batch[i].args[0] for i in indexes])
        if ok:
            for index, result in zip(indexes, results, strict=True):
                outcomes[index] = (True, result)
        elif len(indexes) == 1:
            outcomes[indexes[0]] = (False, results)
        else:
            # One bad item must not fail the others: halve the group until it stands alone,
            # about 2·log2(n) writes rather than one per item.
            middle = len(indexes) // 2
            DatabaseWorker._run_group(write, indexes[:middle], batch, outcomes)
            DatabaseWorker._run_group(write, indexes[middle:], batch, outcomes)

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the queued jobs, close the thread's connections and end it."""
        thread = self._thread
        if thread is None or not thread.is_alive():
            return
        self._queue.put(None)
        thread.join(timeout)


def _attempt(fn: Callable, *args) -> tuple[bool, Any]:
    """fn(*args) in a savepoint: (True, result), or (False, exception) with its writes undone."""
    try:
        with transaction.atomic():
            return True, fn(*args)
    except Exception as exc:
        if is_retryable(exc):
            raise  # the other jobs' locks may be part of the cycle: the whole batch runs again
        return False, exc


def is_retryable(exc: BaseException | None) -> bool:
    """Whether a database error only lost a deadlock or serialization race (worth a retry)."""
    while exc is not None:
        # Django wraps the driver's error; psycopg's own carries the SQLSTATE.
        if getattr(exc, "sqlstate", None) in RETRYABLE_SQLSTATES:
            return True
        exc = exc.__cause__
    return False


def _write_group(write: Callable, items: list) -> list:
    """write(items), checked inside the savepoint: a short answer undoes its writes too."""
    results = write(items)
    if len(results) != len(items):
        # Raised past the savepoint, the mismatch would undo every job of the batch.
        name = getattr(write, "__name__", write)
        raise ValueError(f"{name} answered {len(results)} of {len(items)} items")
    return results


def _settle(results: list) -> None:
    for future, (ok, value) in results:
        if future.done():
            continue  # the waiting coroutine was cancelled (its socket closed)
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


# Writes a station waits for (its answer is sent after their commit).
db_worker = DatabaseWorker()
# Bulk bookkeeping nobody waits for (message log, last_seen): on a thread and connection of its
# own on PostgreSQL, so a large flush never holds up the answers to stations.
background_db = DatabaseWorker(name="ocpp-db-background")
