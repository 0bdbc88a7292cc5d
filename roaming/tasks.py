"""Celery tasks of the roaming app: pushes to partners and the exchange log's retention."""

from celery import shared_task

from roaming import logbook
from roaming.ocpi import push


@shared_task
def deliver_push(push_id: int) -> str:
    """Send one owed push to its partner (a failure is retried by the sweep)."""
    return push.deliver(push_id)


@shared_task
def deliver_due_pushes() -> int:
    """Send every push whose time has come: retries, and sends a broker outage lost."""
    due = push.due_ids()
    for push_id in due:
        push.deliver(push_id)
    return len(due)


@shared_task
def purge_exchange_log() -> int:
    """Forget OCPI exchanges older than the retention."""
    return logbook.purge()
