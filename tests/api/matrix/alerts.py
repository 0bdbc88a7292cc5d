"""Matrix rows of the alerts API: alerts, rules, webhook endpoints and deliveries, preferences."""

import uuid
from dataclasses import dataclass

from alerts.choices import AlertState, RuleKind, Severity
from alerts.models import Alert, AlertRule, WebhookDelivery, WebhookEndpoint
from organizations.choices import Role
from tests.api.matrix import WHEN, WORLD_BUILDERS, Endpoint
from tests.factories import ChargingStationFactory

# Refuses connections at once: the test button records the failure without waiting.
UNREACHABLE = "http://127.0.0.1:9/hooks"


@dataclass
class AlertRows:
    """One alert, rule, webhook endpoint and delivery of the world's organization."""

    alert: Alert
    rule: AlertRule
    endpoint: WebhookEndpoint
    delivery: WebhookDelivery


def make_alert(world, station, **fields) -> Alert:
    connector = station.connectors.order_by("connector_id").first()
    return Alert.objects.create(
        organization=world.org,
        kind=RuleKind.CONNECTOR_FAULTED,
        severity=Severity.HIGH,
        fingerprint=f"{world.org.pk}:connector_faulted:{uuid.uuid4()}",
        site=station.site,
        station=station,
        connector=connector,
        opened_at=WHEN,
        last_seen_at=WHEN,
        details={"error_code": "GroundFailure"},
        **fields,
    )


def make_delivery(endpoint) -> WebhookDelivery:
    return WebhookDelivery.objects.create(
        endpoint=endpoint, event_id=uuid.uuid4(), event_type="alert.opened", payload={}
    )


def build_rows(world) -> AlertRows:
    """The world's alerting rows: a rule, an alert it opened, an endpoint with a delivery."""
    rule = AlertRule.objects.create(
        organization=world.org, name="Faults", kind=RuleKind.CONNECTOR_FAULTED, site=world.site
    )
    endpoint = WebhookEndpoint.objects.create(organization=world.org, url=UNREACHABLE)
    return AlertRows(
        alert=make_alert(world, world.station, rule=rule),
        rule=rule,
        endpoint=endpoint,
        delivery=make_delivery(endpoint),
    )


WORLD_BUILDERS["alert_rows"] = build_rows


def rows(world) -> AlertRows:
    """The world's alerting rows (made now if the world was built before they were known)."""
    if getattr(world, "alert_rows", None) is None:
        world.alert_rows = build_rows(world)
    return world.alert_rows


def more_alerts(world, n):
    # Each at its own station, acknowledged by someone: every related row has to be fetched.
    for _ in range(n):
        station = ChargingStationFactory(organization=world.org, site=world.site)
        make_alert(
            world,
            station,
            state=AlertState.ACKNOWLEDGED,
            acknowledged_at=WHEN,
            acknowledged_by=world.users[Role.OPERATOR],
        )


def more_rules(world, n):
    for number in range(n):
        station = ChargingStationFactory(organization=world.org, site=world.site)
        AlertRule.objects.create(
            organization=world.org,
            name=f"Rule {number}",
            kind=RuleKind.SECURITY_EVENT,
            station=station,
        )


def more_endpoints(world, n):
    for number in range(n):
        WebhookEndpoint.objects.create(organization=world.org, url=f"{UNREACHABLE}/{number}")


def more_deliveries(world, n):
    for _ in range(n):
        make_delivery(rows(world).endpoint)


def alert_url(suffix=""):
    return lambda w: f"/api/v1/alerts/{rows(w).alert.pk}/{suffix}"


def rule_url():
    return lambda w: f"/api/v1/alert-rules/{rows(w).rule.pk}/"


def endpoint_url(suffix=""):
    return lambda w: f"/api/v1/webhook-endpoints/{rows(w).endpoint.pk}/{suffix}"


def preference_url(w):
    return f"/api/v1/organizations/{w.org.pk}/notification-preference/"


def rule_body(w):
    return {
        "name": "Offline",
        "kind": "station_offline",
        "severity": "high",
        "delay_minutes": 20,
        "site": None,
        "station": w.station.pk,
    }


def endpoint_body(w):
    return {"url": "https://hooks.example.com/cms", "event_types": ["alert.opened"]}


def preference_body(w):
    return {
        "email_enabled": True,
        "min_severity": "medium",
        "digest_below": "low",
        "notify_resolved": True,
        "sites": [w.site.pk],
    }


ENDPOINTS = [
    Endpoint(
        "alert-list",
        "get",
        lambda w: "/api/v1/alerts/",
        Role.VIEWER,
        ours=lambda w: rows(w).alert.pk,
        more=more_alerts,
    ),
    Endpoint(
        "organization-alert-list",
        "get",
        lambda w: f"/api/v1/organizations/{w.org.pk}/alerts/",
        Role.VIEWER,
        more=more_alerts,
    ),
    Endpoint("alert-detail", "get", alert_url(), Role.VIEWER),
    Endpoint(
        "alert-acknowledge",
        "post",
        alert_url("acknowledge/"),
        Role.OPERATOR,
        body=lambda w: {"note": "On it"},
    ),
    Endpoint(
        "alert-resolve", "post", alert_url("resolve/"), Role.OPERATOR, body=lambda w: {"note": ""}
    ),
    Endpoint(
        "alertrule-list",
        "get",
        lambda w: "/api/v1/alert-rules/",
        Role.VIEWER,
        ours=lambda w: rows(w).rule.pk,
        more=more_rules,
    ),
    Endpoint(
        "organization-alertrule-list",
        "get",
        lambda w: f"/api/v1/organizations/{w.org.pk}/alert-rules/",
        Role.VIEWER,
        more=more_rules,
    ),
    Endpoint(
        "organization-alertrule-list",
        "post",
        lambda w: f"/api/v1/organizations/{w.org.pk}/alert-rules/",
        Role.ADMIN,
        body=rule_body,
        ok=(201,),
    ),
    Endpoint("alertrule-detail", "get", rule_url(), Role.VIEWER),
    Endpoint("alertrule-detail", "put", rule_url(), Role.ADMIN, body=rule_body),
    Endpoint(
        "alertrule-detail", "patch", rule_url(), Role.ADMIN, body=lambda w: {"enabled": False}
    ),
    Endpoint("alertrule-detail", "delete", rule_url(), Role.ADMIN, ok=(204,)),
    Endpoint(
        "webhookendpoint-list",
        "get",
        lambda w: "/api/v1/webhook-endpoints/",
        Role.ADMIN,
        ours=lambda w: rows(w).endpoint.pk,
        more=more_endpoints,
    ),
    Endpoint(
        "organization-webhookendpoint-list",
        "get",
        lambda w: f"/api/v1/organizations/{w.org.pk}/webhook-endpoints/",
        Role.ADMIN,
        more=more_endpoints,
    ),
    Endpoint(
        "organization-webhookendpoint-list",
        "post",
        lambda w: f"/api/v1/organizations/{w.org.pk}/webhook-endpoints/",
        Role.ADMIN,
        body=endpoint_body,
        ok=(201,),
    ),
    Endpoint("webhookendpoint-detail", "get", endpoint_url(), Role.ADMIN),
    Endpoint("webhookendpoint-detail", "put", endpoint_url(), Role.ADMIN, body=endpoint_body),
    Endpoint(
        "webhookendpoint-detail",
        "patch",
        endpoint_url(),
        Role.ADMIN,
        body=lambda w: {"enabled": False},
    ),
    Endpoint("webhookendpoint-detail", "delete", endpoint_url(), Role.ADMIN, ok=(204,)),
    Endpoint("webhookendpoint-rotate-secret", "post", endpoint_url("rotate-secret/"), Role.ADMIN),
    Endpoint("webhookendpoint-test", "post", endpoint_url("test/"), Role.ADMIN),
    Endpoint(
        "webhookdelivery-list",
        "get",
        lambda w: "/api/v1/webhook-deliveries/",
        Role.ADMIN,
        ours=lambda w: rows(w).delivery.pk,
        more=more_deliveries,
    ),
    Endpoint(
        "webhookdelivery-detail",
        "get",
        lambda w: f"/api/v1/webhook-deliveries/{rows(w).delivery.pk}/",
        Role.ADMIN,
    ),
    Endpoint(
        "organization-notification-preference",
        "get",
        preference_url,
        Role.VIEWER,
        people_only=True,
    ),
    Endpoint(
        "organization-notification-preference",
        "put",
        preference_url,
        Role.VIEWER,
        body=preference_body,
        people_only=True,
    ),
    Endpoint(
        "organization-notification-preference",
        "patch",
        preference_url,
        Role.VIEWER,
        body=lambda w: {"notify_resolved": True},
        people_only=True,
    ),
]
