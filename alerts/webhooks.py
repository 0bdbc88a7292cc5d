"""Signed JSON events to organizations' endpoints: planned as outbox rows, delivered by Celery."""

from alerts.models import Alert


def plan_alert_events(alerts: list[Alert], event_type: str) -> None:
    """Create the WebhookDelivery rows owed for `alerts` to their organizations' endpoints."""
    # TODO(webhooks helper): implement.
