"""Webhook endpoint pages (admins): add, secret once, edit, rotate, test, delivery log, delete."""

from datetime import UTC, datetime

import pytest

from alerts.choices import DeliveryStatus, Severity, WebhookEventType
from alerts.models import WebhookDelivery, WebhookEndpoint
from organizations.choices import Role
from tests.portalclients import org_url, portal_client

pytestmark = pytest.mark.django_db

BELOW_ADMIN = [Role.VIEWER, Role.OPERATOR]
SENT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def admin(org):
    return portal_client(org, Role.ADMIN)


@pytest.fixture
def endpoint(org, webhook_server):
    return WebhookEndpoint.objects.create(
        organization=org, url=webhook_server.url, description="Ops board"
    )


def endpoint_data(**changes):
    data = {
        "url": "https://hooks.example.com/cms",
        "description": "Ticketing",
        "event_types": [WebhookEventType.ALERT_OPENED, WebhookEventType.ALERT_RESOLVED],
        "min_severity": Severity.HIGH,
        "enabled": "on",
    }
    data.update(changes)
    return data


def page(endpoint) -> str:
    return org_url(endpoint.organization, f"alerts/webhooks/{endpoint.pk}/")


def test_an_admin_adds_an_endpoint_and_sees_its_secret_once(admin, org):
    response = admin.post(org_url(org, "alerts/webhooks/add/"), endpoint_data())
    endpoint = WebhookEndpoint.objects.for_org(org).get()
    assert response.status_code == 302
    assert response["Location"] == page(endpoint)
    assert endpoint.event_types == ["alert.opened", "alert.resolved"]
    assert endpoint.min_severity == Severity.HIGH
    first = admin.get(page(endpoint)).content.decode()
    again = admin.get(page(endpoint)).content.decode()
    assert endpoint.secret in first
    assert endpoint.secret not in again
    assert f"whsec_…{endpoint.secret[-4:]}" in again


def test_the_list_shows_only_the_end_of_each_secret(admin, org, endpoint):
    body = admin.get(org_url(org, "alerts/webhooks/")).content.decode()
    assert endpoint.url in body
    assert f"whsec_…{endpoint.secret[-4:]}" in body
    assert endpoint.secret not in body


def test_the_event_types_are_offered_as_checkboxes_without_the_ping(admin, org):
    body = admin.get(org_url(org, "alerts/webhooks/add/")).content.decode()
    assert 'type="checkbox" name="event_types" value="alert.opened"' in body
    assert 'value="session.started"' in body
    assert 'value="ping"' not in body


def test_an_invalid_url_is_refused_with_its_error(admin, org):
    response = admin.post(org_url(org, "alerts/webhooks/add/"), endpoint_data(url="not a url"))
    assert response.status_code == 400
    assert "url" in response.context["form"].errors
    assert not WebhookEndpoint.objects.exists()


def test_an_admin_edits_an_endpoint(admin, endpoint):
    response = admin.post(page(endpoint), endpoint_data(event_types=[], enabled=""))
    endpoint.refresh_from_db()
    assert response.status_code == 302
    assert (endpoint.url, endpoint.event_types, endpoint.enabled) == (
        "https://hooks.example.com/cms",
        [],
        False,
    )


def test_a_refused_edit_keeps_the_stored_endpoint(admin, endpoint):
    url = endpoint.url
    response = admin.post(page(endpoint), endpoint_data(url="ftp://nope"))
    endpoint.refresh_from_db()
    assert response.status_code == 400
    assert endpoint.url == url


def test_rotating_the_secret_shows_the_new_one_once(admin, endpoint):
    old = endpoint.secret
    response = admin.post(page(endpoint) + "rotate/", follow=True)
    endpoint.refresh_from_db()
    assert endpoint.secret != old
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.secret in response.content.decode()
    assert endpoint.secret not in admin.get(page(endpoint)).content.decode()


def test_send_test_reports_the_endpoints_status_code(admin, endpoint, webhook_server):
    response = admin.post(page(endpoint) + "test/", follow=True)
    body = response.content.decode()
    assert "Test message delivered: the endpoint answered HTTP 200." in body
    assert len(webhook_server.received) == 1
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert (delivery.event_type, delivery.last_status_code) == ("ping", 200)


def test_send_test_reports_a_refusal(admin, endpoint, webhook_server):
    webhook_server.answer(503)
    response = admin.post(page(endpoint) + "test/", follow=True)
    assert "Test message refused: the endpoint answered HTTP 503." in response.content.decode()


def test_the_delivery_log_lists_attempts_with_their_answers(admin, endpoint):
    WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_id="8a0b7c1e-1111-4a4a-9c9c-000000000001",
        event_type="alert.opened",
        payload={"x": 1},
        status=DeliveryStatus.RETRYING,
        attempts=2,
        last_status_code=500,
        attempt_log=[
            {"at": "2026-03-02T09:00:00Z", "status_code": 500, "error": "", "duration_ms": 12},
            {"at": "2026-03-02T09:01:00Z", "status_code": None, "error": "<timeout>"},
        ],
        next_attempt_at=SENT,
    )
    body = admin.get(page(endpoint)).content.decode()
    assert "alert.opened" in body
    assert "HTTP 500" in body
    assert "&lt;timeout&gt;" in body
    assert "(12 ms)" in body


def test_an_admin_deletes_an_endpoint_after_confirming(admin, endpoint):
    assert admin.get(page(endpoint) + "delete/").status_code == 200
    response = admin.post(page(endpoint) + "delete/")
    assert response.status_code == 302
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("role", BELOW_ADMIN)
def test_webhooks_are_for_admins_only(org, endpoint, role):
    client = portal_client(org, role)
    assert client.get(org_url(org, "alerts/webhooks/")).status_code == 403
    assert client.get(page(endpoint)).status_code == 403
    assert client.post(org_url(org, "alerts/webhooks/add/"), endpoint_data()).status_code == 403
    assert client.post(page(endpoint) + "rotate/").status_code == 403
    assert client.post(page(endpoint) + "test/").status_code == 403
    assert client.post(page(endpoint) + "delete/").status_code == 403
    assert WebhookEndpoint.objects.get().secret == endpoint.secret


def test_an_outsider_cannot_reach_our_endpoint(org, other_org, endpoint, webhook_server):
    outsider = portal_client(other_org, Role.OWNER)
    theirs = org_url(other_org, f"alerts/webhooks/{endpoint.pk}/")
    assert outsider.get(page(endpoint)).status_code == 404
    assert outsider.get(theirs).status_code == 404
    assert outsider.post(theirs + "rotate/").status_code == 404
    assert outsider.post(theirs + "test/").status_code == 404
    assert outsider.post(theirs + "delete/").status_code == 404
    assert webhook_server.received == []
    assert WebhookEndpoint.objects.get().secret == endpoint.secret
