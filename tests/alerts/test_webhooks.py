"""Alert webhooks: signed requests, retries with backoff on a real failing server, filtering."""

import hashlib
import hmac
import json
import socket
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from alerts import tasks, webhooks
from alerts.choices import DeliveryStatus, Severity, WebhookEventType
from alerts.models import WebhookDelivery
from alerts.services import acknowledge_alert, clear_conditions
from core import net
from tests.factories import ChargingStationFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("eager_celery", "forget_webhook_organizations"),
]

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


def broker_down(*args, **kwargs):
    raise ConnectionError("broker unreachable")


def codes(delivery) -> list[int | None]:
    return [entry["status_code"] for entry in delivery.attempt_log]


def deliver_at(moment, delivery) -> str:
    with time_machine.travel(moment, tick=False):
        return webhooks.deliver(delivery.pk)


def test_a_delivery_is_signed_so_the_receiver_can_verify_it_with_its_secret(
    org, station, make_endpoint, raise_alerts, fault, webhook_server
):
    endpoint = make_endpoint(org)

    [alert] = raise_alerts(fault(station))

    [request] = webhook_server.received
    timestamp = request.headers["webhook-timestamp"]
    # Computed here without the product's code, as a receiver would.
    expected = hmac.new(
        endpoint.secret.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256
    ).hexdigest()
    assert request.headers["webhook-signature"] == f"v1={expected}"
    assert abs(int(timestamp) - time.time()) < 60
    payload = json.loads(request.body)
    assert request.headers["webhook-id"] == payload["id"]
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"].startswith("CMS-Webhooks/")
    assert (payload["type"], payload["data"]["id"]) == ("alert.opened", alert.pk)
    assert webhooks.verify(endpoint.secret, request.headers, request.body)


def test_verify_refuses_a_changed_body(
    org, station, make_endpoint, raise_alerts, fault, webhook_server
):
    endpoint = make_endpoint(org)
    raise_alerts(fault(station))
    [request] = webhook_server.received

    forged = request.body.replace(b'"high"', b'"low"')

    assert forged != request.body
    assert not webhooks.verify(endpoint.secret, request.headers, forged)


def test_verify_refuses_another_secret(
    org, station, make_endpoint, raise_alerts, fault, webhook_server
):
    make_endpoint(org)
    raise_alerts(fault(station))
    [request] = webhook_server.received

    assert not webhooks.verify("whsec_someone-else", request.headers, request.body)


def test_verify_refuses_a_replayed_old_request():
    body = b'{"id":"x"}'
    sent = 1_700_000_000
    headers = {"Webhook-Timestamp": str(sent), "Webhook-Signature": webhooks.sign("s", sent, body)}

    assert webhooks.verify("s", headers, body, now=sent + 299)
    assert not webhooks.verify("s", headers, body, now=sent + 301)


def test_the_alert_payload_names_the_alert_station_connector_and_site(
    org, station, make_endpoint, raise_alerts, fault, webhook_server
):
    make_endpoint(org)
    connector = station.connectors.get(connector_id=2)

    with time_machine.travel(T0, tick=False):
        [alert] = raise_alerts(fault(station, 2, error_code="GroundFailure"))

    payload = json.loads(webhook_server.received[0].body)
    assert payload["created"] == "2026-05-04T08:00:00Z"
    assert payload["organization"] == "stadtwerke-demo"
    assert payload["data"] == {
        "id": alert.pk,
        "kind": "connector_faulted",
        "severity": "high",
        "state": "open",
        "station": {"id": station.pk, "ocpp_id": "CS-DEMO-1"},
        "connector": {"id": connector.pk, "number": 2},
        "site": {"id": station.site_id, "name": station.site.name},
        "session_id": None,
        "opened_at": "2026-05-04T08:00:00Z",
        "acknowledged_at": None,
        "escalated_at": None,
        "resolved_at": None,
        "occurrences": 1,
        "details": {"error_code": "GroundFailure"},
        "url": f"http://localhost:8000/o/stadtwerke-demo/alerts/{alert.pk}/",
    }


def test_acknowledging_and_resolving_are_delivered_as_their_own_events(
    org, station, admin_user, make_endpoint, raise_alerts, fault, webhook_server,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    make_endpoint(org)
    [alert] = raise_alerts(fault(station))

    with django_capture_on_commit_callbacks(execute=True):
        acknowledge_alert(alert, admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        clear_conditions([alert.fingerprint])

    payloads = [json.loads(r.body) for r in webhook_server.received]
    assert [p["type"] for p in payloads] == ["alert.opened", "alert.acknowledged", "alert.resolved"]
    assert payloads[1]["data"]["acknowledged_at"] is not None
    assert payloads[2]["data"]["state"] == "resolved"
    assert len({p["id"] for p in payloads}) == 3


def test_a_failing_endpoint_is_retried_with_growing_pauses_until_it_answers(
    org, station, make_endpoint, raise_alerts, fault, webhook_server
):
    make_endpoint(org)
    webhook_server.answer(500, 503)

    with time_machine.travel(T0, tick=False):
        raise_alerts(fault(station))
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.RETRYING, 1)
    assert delivery.next_attempt_at == T0 + timedelta(seconds=30)

    assert deliver_at(T0 + timedelta(seconds=29), delivery) == DeliveryStatus.RETRYING
    assert len(webhook_server.received) == 1  # not due yet: not sent

    second = T0 + timedelta(seconds=30)
    assert deliver_at(second, delivery) == DeliveryStatus.RETRYING
    delivery.refresh_from_db()
    assert delivery.next_attempt_at == second + timedelta(minutes=2)
    assert (delivery.last_status_code, delivery.last_error) == (503, "HTTP 503")

    third = second + timedelta(minutes=2)
    assert deliver_at(third, delivery) == DeliveryStatus.DELIVERED
    delivery.refresh_from_db()
    assert codes(delivery) == [500, 503, 200]
    assert [entry["at"] for entry in delivery.attempt_log] == [
        "2026-05-04T08:00:00Z",
        "2026-05-04T08:00:30Z",
        "2026-05-04T08:02:30Z",
    ]
    assert all(entry["duration_ms"] >= 0 for entry in delivery.attempt_log)
    assert (delivery.attempts, delivery.delivered_at, delivery.next_attempt_at) == (3, third, None)
    # The same event each time, so the receiver can tell a retry from a new event.
    assert len({r.headers["webhook-id"] for r in webhook_server.received}) == 1


def test_the_sweep_finds_the_deliveries_whose_pause_is_over(
    org, station, make_endpoint, raise_alerts, fault, webhook_server
):
    make_endpoint(org)
    webhook_server.answer(500)
    with time_machine.travel(T0, tick=False):
        raise_alerts(fault(station))
    delivery = WebhookDelivery.objects.get()

    with time_machine.travel(T0 + timedelta(seconds=29), tick=False):
        assert webhooks.due_delivery_ids() == []
    with time_machine.travel(T0 + timedelta(seconds=30), tick=False):
        assert webhooks.due_delivery_ids() == [delivery.pk]
        assert tasks.deliver_due_webhooks() == 1

    delivery.refresh_from_db()
    assert (delivery.status, codes(delivery)) == (DeliveryStatus.DELIVERED, [500, 200])


def test_a_delivery_that_keeps_failing_is_given_up_after_the_maximum_attempts(
    org, station, make_endpoint, raise_alerts, fault, webhook_server, settings
):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    webhook_server.default_status = 500
    make_endpoint(org)
    with time_machine.travel(T0, tick=False):
        raise_alerts(fault(station))
    delivery = WebhookDelivery.objects.get()

    deliver_at(T0 + timedelta(seconds=30), delivery)
    assert deliver_at(T0 + timedelta(minutes=3), delivery) == DeliveryStatus.FAILED
    assert deliver_at(T0 + timedelta(days=3), delivery) == DeliveryStatus.FAILED

    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.next_attempt_at) == (3, None)
    assert len(webhook_server.received) == 3
    assert webhooks.due_delivery_ids() == []


def test_an_endpoint_that_answers_too_slowly_is_recorded_as_a_timeout_and_retried(
    org, station, make_endpoint, raise_alerts, fault, webhook_server, settings
):
    settings.WEBHOOK_TIMEOUT = 1
    webhook_server.answer((200, 2.5))
    make_endpoint(org)

    raise_alerts(fault(station))

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.last_status_code) == (DeliveryStatus.RETRYING, None)
    assert delivery.last_error == "Timed out after 1 s."
    assert delivery.attempt_log[0]["duration_ms"] >= 900


def test_an_unreachable_endpoint_is_recorded_and_retried(
    org, station, make_endpoint, raise_alerts, fault
):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    make_endpoint(org, url=f"http://127.0.0.1:{closed_port}/hook")

    raise_alerts(fault(station))

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.RETRYING, 1)
    assert delivery.last_error.startswith("ConnectionError")
    assert delivery.attempt_log[0]["status_code"] is None


def test_a_delivery_claimed_by_one_worker_is_not_sent_by_another(
    org, station, make_endpoint, raise_alerts, fault, webhook_server, monkeypatch
):
    make_endpoint(org)
    monkeypatch.setattr(tasks.deliver_webhook, "delay", broker_down)
    raise_alerts(fault(station))
    delivery = WebhookDelivery.objects.get()
    # What the first worker's claim leaves while its request is under way.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=datetime.now(UTC) + timedelta(seconds=60)
    )

    assert webhooks.deliver(delivery.pk) == DeliveryStatus.PENDING
    assert webhook_server.received == []


def test_a_delivered_event_is_never_sent_again(
    org, station, make_endpoint, raise_alerts, fault, webhook_server
):
    make_endpoint(org)
    raise_alerts(fault(station))
    delivery = WebhookDelivery.objects.get()

    assert webhooks.deliver(delivery.pk) == DeliveryStatus.DELIVERED
    assert tasks.deliver_due_webhooks() == 0
    assert len(webhook_server.received) == 1


def test_deliveries_whose_enqueue_failed_are_sent_by_the_sweep(
    org, station, make_endpoint, raise_alerts, fault, webhook_server, monkeypatch
):
    make_endpoint(org)
    monkeypatch.setattr(tasks.deliver_webhook, "delay", broker_down)
    raise_alerts(fault(station))
    assert webhook_server.received == []
    assert WebhookDelivery.objects.get().status == DeliveryStatus.PENDING

    monkeypatch.undo()
    assert tasks.deliver_due_webhooks() == 1

    assert len(webhook_server.received) == 1
    assert WebhookDelivery.objects.get().status == DeliveryStatus.DELIVERED


def test_send_test_pings_the_endpoint_now_and_records_its_answer(
    org, make_endpoint, webhook_server
):
    endpoint = make_endpoint(org)
    webhook_server.answer(204)

    delivery = webhooks.send_test(endpoint)

    assert (delivery.event_type, delivery.status) == ("ping", DeliveryStatus.DELIVERED)
    assert delivery.last_status_code == 204
    assert codes(delivery) == [204]
    [request] = webhook_server.received
    assert json.loads(request.body)["type"] == "ping"
    assert webhooks.verify(endpoint.secret, request.headers, request.body)


def test_a_failed_test_ping_is_shown_failed_and_not_retried(org, make_endpoint, webhook_server):
    endpoint = make_endpoint(org)
    webhook_server.answer(404)

    delivery = webhooks.send_test(endpoint)

    assert (delivery.status, delivery.last_status_code) == (DeliveryStatus.FAILED, 404)
    assert webhooks.due_delivery_ids() == []


def test_an_endpoint_receives_only_the_event_types_it_subscribed_to(
    org, station, make_endpoint, raise_alerts, fault, webhook_server,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    make_endpoint(org, event_types=[WebhookEventType.ALERT_RESOLVED])

    [alert] = raise_alerts(fault(station))
    assert webhook_server.received == []
    with django_capture_on_commit_callbacks(execute=True):
        clear_conditions([alert.fingerprint])

    assert [json.loads(r.body)["type"] for r in webhook_server.received] == ["alert.resolved"]


def test_an_endpoint_receives_only_alerts_from_its_minimum_severity(
    org, station, make_endpoint, raise_alerts, fault, webhook_server
):
    make_endpoint(org, min_severity=Severity.CRITICAL)

    raise_alerts(fault(station, 1, severity=Severity.HIGH))
    assert webhook_server.received == []
    raise_alerts(fault(station, 2, severity=Severity.CRITICAL))

    assert len(webhook_server.received) == 1


def test_a_disabled_endpoint_receives_nothing(
    org, station, make_endpoint, raise_alerts, fault, webhook_server
):
    make_endpoint(org, enabled=False)

    raise_alerts(fault(station))

    assert webhook_server.received == []
    assert not WebhookDelivery.objects.exists()


def test_an_outsider_endpoint_never_receives_our_alerts(
    org, other_org, station, make_endpoint, raise_alerts, fault, webhook_server
):
    theirs = make_endpoint(other_org)
    ours = make_endpoint(org)

    raise_alerts(fault(station))
    raise_alerts(fault(ChargingStationFactory(organization=other_org)))

    assert WebhookDelivery.objects.filter(endpoint=ours).count() == 1
    assert WebhookDelivery.objects.filter(endpoint=theirs).count() == 1
    by_org = {json.loads(r.body)["organization"] for r in webhook_server.received}
    assert by_org == {"stadtwerke-demo", "outsider"}
    ours_delivery = WebhookDelivery.objects.get(endpoint=ours)
    assert ours_delivery.payload["data"]["station"]["ocpp_id"] == "CS-DEMO-1"


def test_alert_events_of_organizations_without_endpoints_cost_no_query(
    org, other_org, station, make_endpoint, raise_alerts, fault, django_assert_num_queries
):
    make_endpoint(other_org)
    [alert] = raise_alerts(fault(station))
    webhooks.organizations_with_endpoints()  # cached

    with django_assert_num_queries(0):
        webhooks.plan_alert_events([alert], WebhookEventType.ALERT_RESOLVED)


def test_a_new_endpoint_receives_events_at_once_despite_the_cache(
    org, station, make_endpoint, raise_alerts, fault, webhook_server
):
    raise_alerts(fault(station, 1))  # caches "no organization has an endpoint"
    assert org.pk not in webhooks.organizations_with_endpoints()

    make_endpoint(org)
    raise_alerts(fault(station, 2))

    assert len(webhook_server.received) == 1


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:{port}/hook", "http://localhost:{port}/hook", "http://[::1]:{port}/hook"],
)
def test_an_endpoint_on_a_private_address_is_refused_without_a_request(
    org, make_endpoint, webhook_server, settings, url
):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    port = webhook_server.url.split(":")[2].split("/")[0]
    endpoint = make_endpoint(org, url=url.format(port=port))
    delivery = webhooks.send_test(endpoint)
    assert delivery.status == DeliveryStatus.FAILED
    assert "non-public address" in delivery.last_error
    assert webhook_server.received == []


def test_a_public_address_passes_the_private_address_check(settings, monkeypatch):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    monkeypatch.setattr(
        net.socket,
        "getaddrinfo",
        lambda host, port, type: [(2, 1, 6, "", ("93.184.215.14", 443))],
    )
    assert webhooks.refused_address("https://hooks.example.com/in") == ""
