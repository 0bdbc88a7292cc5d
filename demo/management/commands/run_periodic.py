"""Run the beat schedule's tasks in this process: the demo (`make run`) has no Celery beat."""

import time

from django.core.management.base import BaseCommand

from demo.periodic import Schedule, run_task


class Command(BaseCommand):
    help = (
        "Run the periodic tasks of CELERY_BEAT_SCHEDULE in this process, each when it is due: "
        "the sweeps and time-based alert rules of a platform running without Celery beat. "
        "Tasks that send commands to stations reach them only from the process holding their "
        "sockets, or through Redis: without Redis, set PERIODIC_IN_SERVER instead."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run every task once and stop.")
        parser.add_argument(
            "--tick", type=float, default=5.0, help="Seconds between looks at the schedule."
        )

    def handle(self, *args, once=False, tick=5.0, **options):
        schedule = Schedule()
        while True:
            for task_name in schedule.due(every=once):
                run_task(task_name)
            if once:
                return
            time.sleep(tick)
