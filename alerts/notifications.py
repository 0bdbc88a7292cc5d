"""Mails to members about alerts: planned in the alert's transaction, sent after commit."""

from alerts.models import Alert


def plan(alerts: list[Alert], kind: str) -> None:
    """Create the Notification rows owed for `alerts` (per member preferences, escalation)."""
    # TODO(notifications helper): implement.
