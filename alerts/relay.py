"""Domain events relayed to webhooks and mail: the after-commit sends of alerting.

Everything sent here was first written to an outbox row (Notification, WebhookDelivery), so an
enqueue a broker outage refuses loses nothing: the beat sweeps (`send_pending_notifications`
every minute, `deliver_due_webhooks` every 30 s) send what is still owed.
"""

from django.db.models.signals import post_delete, post_save

from alerts import tasks, webhooks
from alerts.events import ALERT_ESCALATED, ALERT_OPENED, ALERT_RESOLVED
from alerts.models import WebhookEndpoint
from billing.events import CDR_CREATED
from core.enqueue import enqueue_now
from core.events import Event, receiver
from sessions_app.events import SESSION_STARTED, SESSION_STOPPED
from stations.events import STATION_CONNECTED, STATION_DISCONNECTED, STATION_STATUS_CHANGED

# Up to this many deliveries are enqueued one by one; a larger batch (a status batch of
# hundreds) is handed to one sweep task, so the writer's thread (the gateway's database
# thread) spends one enqueue on it, not hundreds.
ENQUEUE_EACH_UP_TO = 10


@receiver(ALERT_OPENED, ALERT_ESCALATED, ALERT_RESOLVED)
def send_alert_mails(events: list[Event]) -> None:
    """Alerts opened, escalated or resolved: send the mails planned with them now."""
    enqueue_now(tasks.send_pending_notifications)


@receiver(webhooks.DELIVERIES_PLANNED)
def deliver_alert_webhooks(events: list[Event]) -> None:
    """Alert deliveries committed: send them now."""
    enqueue_deliveries([pk for event in events for pk in event["delivery_ids"]])


@receiver(
    SESSION_STARTED,
    SESSION_STOPPED,
    CDR_CREATED,
    STATION_STATUS_CHANGED,
    STATION_CONNECTED,
    STATION_DISCONNECTED,
)
def relay_business_events(events: list[Event]) -> None:
    """Sessions, records and station statuses for the endpoints that subscribed to them."""
    enqueue_deliveries(webhooks.plan_business_events(events))


def enqueue_deliveries(delivery_ids: list[int]) -> None:
    """Hand new deliveries to Celery; what the broker refuses waits for the sweep."""
    if not delivery_ids:
        return
    if len(delivery_ids) > ENQUEUE_EACH_UP_TO:
        enqueue_now(tasks.deliver_due_webhooks)
        return
    for delivery_id in delivery_ids:
        if not enqueue_now(tasks.deliver_webhook, delivery_id):
            # The broker is away: each further try would wait for its timeout too.
            return


def _endpoints_changed(sender, **kwargs) -> None:
    webhooks.endpoints_changed()


# Any save or delete (portal, API, admin) renews the cached set of organizations with endpoints;
# a queryset update() bypasses these, so such code calls webhooks.endpoints_changed() itself.
post_save.connect(_endpoints_changed, sender=WebhookEndpoint, dispatch_uid="alerts.endpoints")
post_delete.connect(_endpoints_changed, sender=WebhookEndpoint, dispatch_uid="alerts.endpoints")
