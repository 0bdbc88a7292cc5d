"""`manage.py run_periodic`: the demo's stand-in for Celery beat."""

import pytest
from celery import current_app
from django.core.management import call_command


@pytest.fixture
def ran(monkeypatch):
    """The task names run, in order; `billing.tasks.close_billing_periods` fails."""
    names = []
    current_app.loader.import_default_modules()

    def fake_apply(task):
        def apply(*args, **kwargs):
            names.append(task.name)
            if task.name == "billing.tasks.close_billing_periods":
                raise RuntimeError("a broken sweep")

        return apply

    for name in ("alerts.tasks.evaluate_alert_rules", "billing.tasks.close_billing_periods",
                 "sessions_app.tasks.expire_reservations"):  # fmt: skip
        task = current_app.tasks[name]
        monkeypatch.setattr(task, "apply", fake_apply(task))
    return names


def test_once_runs_every_scheduled_task_and_a_failing_one_stops_no_other(settings, ran, db):
    settings.CELERY_BEAT_SCHEDULE = {
        "a": {"task": "alerts.tasks.evaluate_alert_rules", "schedule": 60.0},
        "b": {"task": "billing.tasks.close_billing_periods", "schedule": 3600.0},
        "c": {"task": "sessions_app.tasks.expire_reservations", "schedule": 60.0},
    }
    call_command("run_periodic", once=True)
    assert ran == [
        "alerts.tasks.evaluate_alert_rules",
        "billing.tasks.close_billing_periods",
        "sessions_app.tasks.expire_reservations",
    ]


def test_every_scheduled_task_exists(settings):
    current_app.loader.import_default_modules()
    missing = [
        entry["task"]
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] not in current_app.tasks
    ]
    assert missing == []
