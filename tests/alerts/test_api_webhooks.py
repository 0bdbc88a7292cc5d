"""Webhook endpoints over the API (admins): the secret once, rotate, test, the delivery log."""

import uuid

import pytest

from alerts.choices import DeliveryStatus
from alerts.models import WebhookDelivery, WebhookEndpoint
from organizations.choices import Role
from tests.apiclients import client_as

pytestmark = pytest.mark.django_db

LIST = "/api/v1/webhook-endpoints/"
DELIVERIES = "/api/v1/webhook-deliveries/"


def nested(org):
    return f"/api/v1/organizations/{org.pk}/webhook-endpoints/"


@pytest.fixture
def admin(org):
    return client_as(org, Role.ADMIN)


@pytest.fixture
def endpoint(org, webhook_server):
    return WebhookEndpoint.objects.create(organization=org, url=webhook_server.url)


def delivery(endpoint, **fields):
    fields.setdefault("event_type", "alert.opened")
    return WebhookDelivery.objects.create(
        endpoint=endpoint, event_id=uuid.uuid4(), payload={"x": 1}, **fields
    )


def test_creating_an_endpoint_answers_its_secret_once(admin, org):
    response = admin.post(
        nested(org),
        {"url": "https://hooks.example.com/a", "event_types": ["alert.opened", "cdr.created"]},
        format="json",
    )
    assert response.status_code == 201, response.data
    endpoint = WebhookEndpoint.objects.get(pk=response.data["id"])
    assert response.data["secret"] == endpoint.secret
    assert response.data["secret_hint"] == f"whsec_…{endpoint.secret[-4:]}"
    assert endpoint.organization == org
    shown = admin.get(f"{LIST}{endpoint.pk}/").data
    assert "secret" not in shown
    assert endpoint.secret not in str(admin.get(LIST).data)


def test_an_unknown_event_type_or_bad_url_is_a_field_error(admin, org):
    response = admin.post(
        nested(org), {"url": "nope", "event_types": ["alert.exploded"]}, format="json"
    )
    assert response.status_code == 400
    assert set(response.data) == {"url", "event_types"}
    assert not WebhookEndpoint.objects.exists()


def test_the_ping_cannot_be_subscribed_to(admin, org):
    response = admin.post(
        nested(org), {"url": "https://hooks.example.com/a", "event_types": ["ping"]}, format="json"
    )
    assert response.status_code == 400


def test_the_secret_cannot_be_set_from_the_body(admin, org):
    response = admin.post(
        nested(org), {"url": "https://hooks.example.com/a", "secret": "whsec_mine"}, format="json"
    )
    assert response.status_code == 201
    assert response.data["secret"] != "whsec_mine"


def test_rotating_answers_the_new_secret(admin, endpoint):
    old = endpoint.secret
    response = admin.post(f"{LIST}{endpoint.pk}/rotate-secret/")
    endpoint.refresh_from_db()
    assert response.status_code == 200
    assert response.data["secret"] == endpoint.secret != old


def test_send_test_answers_the_delivery_and_status_code(admin, endpoint, webhook_server):
    response = admin.post(f"{LIST}{endpoint.pk}/test/")
    assert response.status_code == 200, response.data
    assert response.data["event_type"] == "ping"
    assert response.data["status"] == DeliveryStatus.DELIVERED
    assert response.data["last_status_code"] == 200
    assert len(webhook_server.received) == 1


def test_an_admin_changes_and_deletes_an_endpoint(admin, endpoint):
    response = admin.patch(f"{LIST}{endpoint.pk}/", {"enabled": False}, format="json")
    assert response.status_code == 200
    assert response.data["enabled"] is False
    assert admin.delete(f"{LIST}{endpoint.pk}/").status_code == 204
    assert not WebhookEndpoint.objects.exists()


def test_the_delivery_log_is_read_only_and_filtered_by_endpoint(admin, org, endpoint):
    other = WebhookEndpoint.objects.create(organization=org, url="https://hooks.example.com/b")
    ours = delivery(endpoint, status=DeliveryStatus.FAILED, last_status_code=500, attempts=8)
    delivery(other)
    rows = admin.get(DELIVERIES, {"endpoint": endpoint.pk}).data["results"]
    assert [row["id"] for row in rows] == [ours.pk]
    assert rows[0]["last_status_code"] == 500
    assert admin.delete(f"{DELIVERIES}{ours.pk}/").status_code == 405


def test_an_operator_has_no_access_to_webhooks(org, endpoint):
    operator = client_as(org, Role.OPERATOR)
    assert operator.get(LIST).data["results"] == []
    assert operator.get(f"{LIST}{endpoint.pk}/").status_code == 403
    assert operator.post(f"{LIST}{endpoint.pk}/rotate-secret/").status_code == 403
    assert operator.post(f"{LIST}{endpoint.pk}/test/").status_code == 403


def test_an_outsider_neither_sees_nor_tests_our_endpoint(other_org, endpoint, webhook_server):
    delivery(endpoint)
    outsider = client_as(other_org, Role.OWNER)
    assert outsider.get(LIST).data["results"] == []
    assert outsider.get(DELIVERIES).data["results"] == []
    assert outsider.post(f"{LIST}{endpoint.pk}/test/").status_code == 404
    assert outsider.post(f"{LIST}{endpoint.pk}/rotate-secret/").status_code == 404
    assert outsider.get(DELIVERIES, {"endpoint": endpoint.pk}).status_code == 400
    assert webhook_server.received == []


def test_the_lists_read_a_page_in_a_fixed_number_of_queries(
    admin, org, endpoint, django_assert_max_num_queries
):
    delivery(endpoint)
    with django_assert_max_num_queries(4) as few:
        admin.get(LIST)
    with django_assert_max_num_queries(4) as few_deliveries:
        admin.get(DELIVERIES)
    for number in range(6):
        extra = WebhookEndpoint.objects.create(
            organization=org, url=f"https://hooks.example.com/{number}"
        )
        delivery(extra)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert admin.get(LIST).data["count"] == 7
    with django_assert_max_num_queries(len(few_deliveries.captured_queries)):
        assert admin.get(DELIVERIES).data["count"] == 7
