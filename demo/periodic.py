"""The beat schedule without Celery beat: `manage.py run_periodic`, or the server's own loop."""

import asyncio
import logging

from asgiref.sync import sync_to_async
from celery import current_app
from celery.schedules import maybe_schedule
from django.conf import settings
from django.utils import timezone

logger = logging.getLogger(__name__)


class Schedule:
    """CELERY_BEAT_SCHEDULE's tasks and when each last ran."""

    def __init__(self):
        # The apps' tasks modules register their tasks when imported (Celery's autodiscovery).
        current_app.loader.import_default_modules()
        self.entries = {
            name: (entry["task"], maybe_schedule(entry["schedule"], app=current_app))
            for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
        }
        # Like beat: the first run of each task comes one interval after the start.
        self.last_run = dict.fromkeys(self.entries, timezone.now())

    def due(self, *, every: bool = False) -> list[str]:
        """The task names due now (all of them with `every`), marked as run."""
        names = []
        for name, (task_name, schedule) in self.entries.items():
            if every or schedule.is_due(self.last_run[name]).is_due:
                self.last_run[name] = timezone.now()
                names.append(task_name)
        return names


def run_task(task_name: str) -> None:
    """Run one scheduled task here; a failure is logged and stops nothing else."""
    try:
        current_app.tasks[task_name].apply(throw=True)
    except Exception:
        # One failing sweep never stops the others; the next tick tries again.
        logger.exception("periodic task %s failed", task_name)


async def run_on_serving_loop(tick: float = 5.0) -> None:
    """Run the schedule for ever from the loop that holds the stations' sockets."""
    # Without Redis the channel layer lives in this process: a command a task sends (a
    # maintenance window's ChangeAvailability, a campaign's UpdateFirmware) reaches a station
    # only from here. Each task runs in a worker thread whose async_to_sync calls come back to
    # this loop, as a portal view's do.
    schedule = await sync_to_async(Schedule, thread_sensitive=False)()
    while True:
        for task_name in schedule.due():
            await sync_to_async(run_task, thread_sensitive=False)(task_name)
        await asyncio.sleep(tick)
