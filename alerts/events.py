"""Events of alerts, emitted after commit by `alerts.services`; ids and small values only.

Each carries organization_id, alert_id, kind (RuleKind), severity, state and station_id (None
when the alert is not about one station). Subscribers: notifications and webhooks (this app),
the portal's live counts.
"""

ALERT_OPENED = "alert.opened"
ALERT_ACKNOWLEDGED = "alert.acknowledged"
ALERT_ESCALATED = "alert.escalated"
ALERT_RESOLVED = "alert.resolved"
