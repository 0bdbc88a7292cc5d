"""Run the beat schedule's tasks in this process: the demo (`make run`) has no Celery beat."""

import logging
import time

from celery import current_app
from celery.schedules import maybe_schedule
from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Run the periodic tasks of CELERY_BEAT_SCHEDULE in this process, each when it is due: "
        "the sweeps and time-based alert rules of a platform running without Celery beat."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run every task once and stop.")
        parser.add_argument(
            "--tick", type=float, default=5.0, help="Seconds between looks at the schedule."
        )

    def handle(self, *args, once=False, tick=5.0, **options):
        # The apps' tasks modules register their tasks when imported (Celery's autodiscovery).
        current_app.loader.import_default_modules()
        entries = {
            name: (entry["task"], maybe_schedule(entry["schedule"], app=current_app))
            for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
        }
        # Like beat: the first run of each task comes one interval after the start.
        last_run = dict.fromkeys(entries, timezone.now())
        while True:
            for name, (task_name, schedule) in entries.items():
                if not once and not schedule.is_due(last_run[name]).is_due:
                    continue
                last_run[name] = timezone.now()
                try:
                    current_app.tasks[task_name].apply(throw=True)
                except Exception:
                    # One failing sweep never stops the others; the next tick tries again.
                    logger.exception("periodic task %s failed", task_name)
            if once:
                return
            time.sleep(tick)
