"""Celery tasks of alerting: they take ids (or nothing) and call a module's function."""

from celery import shared_task

from alerts import notifications, rules, services, webhooks
from core.enqueue import enqueue_now


@shared_task(acks_late=True)
def evaluate_alert_rules() -> int:
    """Check the time-based rules and escalate overdue alerts; how many alerts changed."""
    return rules.evaluate_time_rules() + len(services.escalate_due_alerts())


@shared_task(acks_late=True)
def evaluate_faults(connector_ids: list[int], station_ids: list[int]) -> int:
    """Open or resolve the fault alerts of these connectors and stations (from a status batch)."""
    # Idempotent: it reads the statuses as they stand; evaluate_alert_rules catches a lost one.
    return rules.evaluate_faults(connector_ids, station_ids)


@shared_task(acks_late=True)
def send_pending_notifications() -> int:
    """Send the mails owed (not the digest ones); how many went out (idempotent)."""
    return notifications.send_pending()


@shared_task(acks_late=True)
def send_alert_digests() -> int:
    """Send each member their hourly digest of low-severity alerts; how many mails."""
    return notifications.send_digests()


@shared_task(acks_late=True)
def deliver_webhook(delivery_id: int) -> str:
    """Try one webhook delivery now, if it is due; its status afterwards."""
    return webhooks.deliver(delivery_id)


@shared_task(acks_late=True)
def deliver_due_webhooks() -> int:
    """Enqueue every delivery that is due (new, or its retry pause over); how many."""
    due = webhooks.due_delivery_ids()
    for delivery_id in due:
        enqueue_now(deliver_webhook, delivery_id)
    return len(due)
