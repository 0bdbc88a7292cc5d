"""The alerting admin for support staff: platform alerts, actions, secrets kept hidden."""

import uuid
from datetime import UTC, datetime

import pytest

from alerts.choices import AlertAction, AlertState, RuleKind, Severity
from alerts.models import Alert, AlertRule, NotificationPreference, WebhookDelivery, WebhookEndpoint
from tests.admin.helpers import admin_url
from tests.factories import ChargingStationFactory, MembershipFactory, SiteFactory

pytestmark = pytest.mark.django_db

WHEN = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def platform_alert(identity="ROGUE-1"):
    return Alert.objects.create(
        organization=None,
        kind=RuleKind.STATION_REJECTED,
        severity=Severity.MEDIUM,
        fingerprint=f"0:station_rejected:identity:{identity}",
        opened_at=WHEN,
        last_seen_at=WHEN,
        details={"identity": identity},
    )


def station_alert(org):
    return Alert.objects.create(
        organization=org,
        kind=RuleKind.STATION_OFFLINE,
        severity=Severity.HIGH,
        fingerprint=f"{org.pk}:station_offline:{uuid.uuid4()}",
        station=ChargingStationFactory(organization=org),
        opened_at=WHEN,
        last_seen_at=WHEN,
    )


def test_support_staff_find_platform_alerts_by_the_identity(superuser_client, org):
    rogue = platform_alert("ROGUE-7")
    station_alert(org)
    response = superuser_client.get(admin_url(Alert, "changelist"), {"q": "ROGUE-7"})
    assert list(response.context["cl"].result_list) == [rogue]


def test_support_staff_list_only_the_platform_alerts(superuser_client, org):
    rogue = platform_alert()
    station_alert(org)
    response = superuser_client.get(admin_url(Alert, "changelist"), {"organization__isempty": "1"})
    assert list(response.context["cl"].result_list) == [rogue]


def test_a_platform_alert_page_shows_what_was_seen_escaped(superuser_client):
    rogue = platform_alert("<b>ROGUE</b>")
    body = superuser_client.get(admin_url(rogue, "change")).content.decode()
    assert "&lt;b&gt;ROGUE&lt;/b&gt;" in body
    assert "<b>ROGUE</b>" not in body


def test_support_staff_resolve_alerts_with_an_action(superuser_client, org):
    alert = station_alert(org)
    done = platform_alert()
    done.state = AlertState.RESOLVED
    done.resolved_at = WHEN
    done.save()
    response = superuser_client.post(
        admin_url(Alert, "changelist"),
        {"action": "resolve", "_selected_action": [alert.pk, done.pk]},
    )
    alert.refresh_from_db()
    assert response.status_code == 302
    assert alert.state == AlertState.RESOLVED
    assert alert.history.get().action == AlertAction.RESOLVED


def test_an_endpoints_secret_is_never_shown_in_full(superuser_client, org):
    endpoint = WebhookEndpoint.objects.create(organization=org, url="https://hooks.example.com/a")
    change = superuser_client.get(admin_url(endpoint, "change")).content.decode()
    listing = superuser_client.get(admin_url(WebhookEndpoint, "changelist")).content.decode()
    for body in (change, listing):
        assert endpoint.secret not in body
        assert f"whsec_…{endpoint.secret[-4:]}" in body


def test_saving_an_endpoint_in_the_admin_keeps_its_secret(superuser_client, org):
    endpoint = WebhookEndpoint.objects.create(organization=org, url="https://hooks.example.com/a")
    secret = endpoint.secret
    response = superuser_client.post(
        admin_url(endpoint, "change"),
        {
            "organization": org.pk,
            "url": "https://hooks.example.com/b",
            "description": "",
            "event_types": "[]",
            "min_severity": "low",
            "enabled": "on",
        },
    )
    endpoint.refresh_from_db()
    assert response.status_code == 302
    assert (endpoint.url, endpoint.secret) == ("https://hooks.example.com/b", secret)


def test_deliveries_cannot_be_changed(superuser_client, org):
    endpoint = WebhookEndpoint.objects.create(organization=org, url="https://hooks.example.com/a")
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event_id=uuid.uuid4(), event_type="ping", payload={}
    )
    response = superuser_client.post(admin_url(delivery, "change"), {"event_type": "x"})
    delivery.refresh_from_db()
    assert response.status_code == 403
    assert delivery.event_type == "ping"


def test_a_rule_cannot_watch_a_site_of_another_organization(superuser_client, org, other_org):
    foreign = SiteFactory(organization=other_org)
    response = superuser_client.post(
        admin_url(AlertRule, "add"),
        {
            "organization": org.pk,
            "name": "Offline",
            "kind": "station_offline",
            "severity": "high",
            "enabled": "on",
            "site": foreign.pk,
            "delay_minutes": "15",
            "start_timeout_seconds": "120",
            "failure_count": "5",
            "window_minutes": "10",
            "escalate_to_role": "owner",
        },
    )
    assert response.status_code == 200
    assert "site" in response.context["adminform"].form.errors
    assert not AlertRule.objects.exists()


def test_a_preference_cannot_name_a_site_of_another_organization(superuser_client, org, other_org):
    membership = MembershipFactory(organization=org)
    preference = NotificationPreference.objects.create(membership=membership)
    foreign = SiteFactory(organization=other_org)
    response = superuser_client.post(
        admin_url(preference, "change"),
        {
            "membership": membership.pk,
            "email_enabled": "on",
            "min_severity": "high",
            "digest_below": "medium",
            "sites": [foreign.pk],
        },
    )
    assert response.status_code == 200
    assert "sites" in response.context["adminform"].form.errors
    assert list(preference.sites.all()) == []
