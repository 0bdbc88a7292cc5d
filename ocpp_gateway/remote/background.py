"""Run a command for the portal without holding its request until the station answers."""

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial

from asgiref.sync import async_to_sync, sync_to_async
from django.db import connections

from ocpp_gateway.commands import command_logged
from ocpp_gateway.models import CommandLog
from ocpp_gateway.remote.registry import (
    Actor,
    CommandNotAllowed,
    InvalidCommandParameters,
    execute_command,
)

logger = logging.getLogger(__name__)

# Most stations answer within a second: the request waits this long so a quick answer shows at
# once instead of a "waiting" panel that turns into it a moment later.
ANSWER_GRACE = 1.5
# A runner may write other rows before it sends (a remote start, a reservation): time for that.
SEND_GRACE = 5.0

# Running tasks are referenced here: the loop holds only weak references to its tasks.
_tasks: set[asyncio.Task] = set()


async def _current_loop() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


def serving_loop() -> asyncio.AbstractEventLoop | None:
    """The loop that serves this process's sockets, when this thread was started from it."""
    # Under ASGI a sync view's async_to_sync runs on the server's loop, which keeps running; the
    # stations' sockets and the in-memory channel layer live there, so commands must run there
    # too. A WSGI request, a worker or a test client gets a loop closed as soon as this returns.
    try:
        loop = async_to_sync(_current_loop)()
    except RuntimeError:
        # Called on the loop's own thread (async_to_sync refuses): nothing may block it here.
        return None
    return None if loop.is_closed() or not loop.is_running() else loop


class WorkerPool:
    """Threads of their own for work that waits for stations, started from the serving loop."""

    # A command waits in a thread for up to twice OCPP_CALL_TIMEOUT: pools of their own, so many
    # slow stations never starve the loop's default executor (asyncio.to_thread elsewhere).

    def __init__(self, name: str, size: int):
        self.name = name
        self._executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix=name)

    def start(self, loop: asyncio.AbstractEventLoop, jobs: list[Callable[[], None]]) -> None:
        """Start each job in a thread of the pool, from `loop`; returns once all are started."""

        def work(job):
            try:
                job()
            finally:
                # A worker thread's own connection: nobody else would ever close it.
                connections.close_all()

        async def start():
            running = asyncio.get_running_loop()
            for job in jobs:
                waiting = sync_to_async(work, thread_sensitive=False, executor=self._executor)
                task = running.create_task(waiting(job))
                _tasks.add(task)
                task.add_done_callback(self._finished)

        # Not bounded: start() only creates the tasks, and giving up on it here while the loop
        # may still run them would let the caller start the work a second time.
        asyncio.run_coroutine_threadsafe(start(), loop).result()

    def _finished(self, task: asyncio.Task) -> None:
        _tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("%s: a job failed", self.name, exc_info=task.exception())


_commands = WorkerPool("portal-command", 32)


@dataclass
class CommandRun:
    """One command run: its log row once written, and its outcome once the runner returned."""

    log: CommandLog | None = None
    result: CommandLog | None = None
    error: BaseException | None = None
    sent: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)

    @property
    def done(self) -> bool:
        """Whether the runner returned (or raised)."""
        return self.finished.is_set()

    def outcome(self) -> CommandLog:
        """The runner's log row, or what it raised (a refusal, invalid parameters)."""
        if self.error is not None:
            raise self.error
        return self.result

    def run(self, station, name: str, params: dict, actor: Actor) -> None:
        """Execute the command in this thread, recording its log row and outcome here."""
        token = command_logged.set(self._logged)
        try:
            self.result = execute_command(station, name, params, actor=actor)
        except (CommandNotAllowed, InvalidCommandParameters) as refusal:
            # Said in the log too: the request may have stopped waiting before the refusal.
            logger.info("%s on %s refused: %s", name, station.ocpp_id, refusal)
            self.error = refusal
        except Exception as error:
            # The request may have stopped waiting: the failure must not vanish with it.
            logger.exception("%s on %s failed", name, station.ocpp_id)
            self.error = error
        finally:
            command_logged.reset(token)
            self.finished.set()
            self.sent.set()

    def _logged(self, log: CommandLog) -> None:
        """The first log row the command wrote: it is on its way to the station."""
        if self.log is None:
            self.log = log
            self.sent.set()


def _in_background(run: CommandRun, *args) -> bool:
    """Start `run` on the loop that serves this request's process; False when there is none."""
    loop = serving_loop()
    if loop is None:
        return False
    _commands.start(loop, [partial(run.run, *args)])
    return True


def start_command(station, name: str, params: dict, *, actor: Actor) -> CommandRun:
    """Run a command and wait a moment: its outcome if the station answered, else it is sent."""
    run = CommandRun()
    if not _in_background(run, station, name, params, actor):
        # No loop to hand it to: run it here, waiting for the station as before.
        run.run(station, name, params, actor)
        return run
    if not run.finished.wait(ANSWER_GRACE):
        run.sent.wait(SEND_GRACE)
    return run
