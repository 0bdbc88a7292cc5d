"""The gateway's database thread: every job queued meanwhile is committed in one transaction."""

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from django.db import DatabaseError, close_old_connections, connections, transaction

logger = logging.getLogger(__name__)

# Enough to amortize a commit over many messages, few enough that one batch stays short.
MAX_BATCH = 500
# Idle connections are checked (CONN_MAX_AGE, health) this often, not before every job.
CONNECTION_CHECK_SECONDS = 30.0


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
        outcomes: list[tuple[bool, Any]] = [(False, None)] * len(batch)
        try:
            with transaction.atomic():
                for step in steps:
                    if isinstance(step, int):
                        outcomes[step] = _attempt(batch[step].fn, *batch[step].args)
                    else:
                        self._run_group(step, groups[step], batch, outcomes)
        except Exception as exc:
            # The commit failed: nothing of the batch holds.
            logger.exception("a batch of %d gateway jobs could not be committed", len(batch))
            if isinstance(exc, DatabaseError):
                # A broken connection is replaced on the next batch.
                connections["default"].close_if_unusable_or_obsolete()
            outcomes = [(False, exc)] * len(batch)
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
        ok, results = _attempt(write, [batch[i].args[0] for i in indexes])
        if ok:
            for index, result in zip(indexes, results, strict=True):
                outcomes[index] = (True, result)
            return
        # One bad item must not fail the others: take them one by one to find it.
        for index in indexes:
            ok, results = _attempt(write, [batch[index].args[0]])
            outcomes[index] = (True, results[0]) if ok else (False, results)

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
        return False, exc


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
