"""Business events for integrators: sessions, records, statuses and connections as webhooks."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alerts import relay, tasks, webhooks
from alerts.choices import DeliveryStatus, WebhookEventType
from alerts.models import WebhookDelivery
from billing.models import ChargeDetailRecord, TariffAssignment
from core.events import Event, emit_many
from sessions_app.services import start_session, stop_session
from stations.events import STATION_CONNECTED, STATION_DISCONNECTED, STATION_STATUS_CHANGED
from stations.services import record_status
from tests.factories import (
    AccessGroupFactory,
    ChargingStationFactory,
    IdTokenFactory,
    OrganizationFactory,
    TariffFactory,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("eager_celery", "forget_webhook_organizations"),
]


def payloads(server) -> list[dict]:
    return [json.loads(request.body) for request in server.received]


@pytest.fixture
def card(org, station):
    group = AccessGroupFactory(organization=org)
    station.site.access_groups.add(group)
    return IdTokenFactory(organization=org, uid="04AABBCC", access_groups=[group])


def charge(station, card, energy_wh=10_000):
    """A session of an hour on connector 2: started, then stopped with `energy_wh` charged."""
    started = start_session(
        station,
        connector_number=2,
        id_tag=card.uid,
        started_at=timezone.now() - timedelta(hours=1),
        meter_start=1_000,
    )
    stop_session(
        station,
        transaction_id=started.session.transaction_id,
        stopped_at=timezone.now(),
        meter_stop=1_000 + energy_wh,
        reason="Local",
    )
    return started.session


def test_a_status_change_is_delivered_with_station_connector_and_status(
    org, station, make_endpoint, webhook_server, django_capture_on_commit_callbacks
):
    make_endpoint(org, event_types=[WebhookEventType.STATION_STATUS_CHANGED])
    connector = station.connectors.get(connector_id=2)

    with django_capture_on_commit_callbacks(execute=True):
        record_status(station, 2, "Faulted", error_code="GroundFailure", vendor_error_code="E42")

    [payload] = payloads(webhook_server)
    assert (payload["type"], payload["organization"]) == ("station.status_changed", org.slug)
    assert payload["data"] == {
        "station": {"id": station.pk, "ocpp_id": "CS-DEMO-1"},
        "connector": {"id": connector.pk, "number": 2},
        "status": "Faulted",
        "error_code": "GroundFailure",
        "vendor_error_code": "E42",
    }


def test_a_session_start_and_stop_are_delivered_with_its_energy(
    org, station, card, make_endpoint, webhook_server, django_capture_on_commit_callbacks
):
    make_endpoint(
        org, event_types=[WebhookEventType.SESSION_STARTED, WebhookEventType.SESSION_STOPPED]
    )

    with django_capture_on_commit_callbacks(execute=True):
        session = charge(station, card, energy_wh=10_000)

    started, stopped = payloads(webhook_server)
    assert (started["type"], stopped["type"]) == ("session.started", "session.stopped")
    assert started["data"]["station"] == {"id": station.pk, "ocpp_id": "CS-DEMO-1"}
    assert started["data"]["connector"]["number"] == 2
    assert started["data"]["session"]["id"] == session.pk
    assert stopped["data"]["session"] | {"start": None, "stop": None} == {
        "id": session.pk,
        "transaction_id": session.transaction_id,
        "state": "completed",
        "id_tag": "04AABBCC",
        "start": None,
        "stop": None,
        "meter_start_wh": 1_000,
        "meter_stop_wh": 11_000,
        "energy_wh": 10_000,
        "stop_reason": "Local",
    }
    assert stopped["data"]["session"]["stop"].endswith("Z")


def test_a_charge_detail_record_is_delivered_with_its_total_and_currency(
    org, station, card, make_endpoint, webhook_server, django_capture_on_commit_callbacks
):
    TariffAssignment.objects.create(
        organization=org, tariff=TariffFactory(organization=org), scope="organization"
    )
    make_endpoint(org, event_types=[WebhookEventType.CDR_CREATED])

    with django_capture_on_commit_callbacks(execute=True):
        session = charge(station, card, energy_wh=10_000)

    cdr = ChargeDetailRecord.objects.get(session=session)
    [payload] = payloads(webhook_server)
    assert payload["type"] == "cdr.created"
    assert payload["data"]["station"] == {"id": station.pk, "ocpp_id": "CS-DEMO-1"}
    assert payload["data"]["cdr"] == {
        "id": cdr.pk,
        "session_id": session.pk,
        "kind": "charge",
        "total": str(cdr.total_incl_tax),
        "total_excl_tax": str(cdr.total_excl_tax),
        "currency": "EUR",
        "tax_rate": "19.00",
        "energy_wh": 10_000,
        "charging_seconds": cdr.charging_seconds,
        "idle_seconds": cdr.idle_seconds,
    }
    assert cdr.total_incl_tax > 0


def test_connections_and_disconnections_are_delivered(
    org, station, make_endpoint, webhook_server, django_capture_on_commit_callbacks
):
    make_endpoint(org)
    ids = {"organization_id": org.pk, "station_id": station.pk}

    with django_capture_on_commit_callbacks(execute=True):
        emit_many(STATION_CONNECTED, [ids])
        emit_many(STATION_DISCONNECTED, [ids])

    assert [(p["type"], p["data"]) for p in payloads(webhook_server)] == [
        ("station.connected", {"station": {"id": station.pk, "ocpp_id": "CS-DEMO-1"}}),
        ("station.disconnected", {"station": {"id": station.pk, "ocpp_id": "CS-DEMO-1"}}),
    ]


def test_an_endpoint_gets_no_business_event_it_did_not_subscribe_to(
    org, station, make_endpoint, webhook_server, django_capture_on_commit_callbacks
):
    make_endpoint(org, event_types=[WebhookEventType.ALERT_OPENED])

    with django_capture_on_commit_callbacks(execute=True):
        record_status(station, 1, "Faulted", error_code="GroundFailure")

    assert not WebhookDelivery.objects.exists()


def test_an_outsider_endpoint_never_receives_our_events(
    org, other_org, station, make_endpoint, webhook_server, django_capture_on_commit_callbacks
):
    theirs = make_endpoint(other_org)
    ours = make_endpoint(org)
    outsider_station = ChargingStationFactory(organization=other_org)

    with django_capture_on_commit_callbacks(execute=True):
        record_status(station, 1, "Faulted")
        record_status(outsider_station, 1, "Available")

    mine = WebhookDelivery.objects.get(endpoint=ours)
    assert mine.payload["data"]["station"]["ocpp_id"] == "CS-DEMO-1"
    outsiders = WebhookDelivery.objects.get(endpoint=theirs)
    assert outsiders.payload["data"]["station"]["id"] == outsider_station.pk
    assert outsiders.payload["organization"] == "outsider"


def status_batch(organizations, size=500) -> list[Event]:
    return [
        Event(
            STATION_STATUS_CHANGED,
            {
                "organization_id": organizations[n % len(organizations)].pk,
                "station_id": n + 1,
                "connector_id": None,
                "status": "Available",
                "error_code": "",
                "vendor_error_code": "",
            },
        )
        for n in range(size)
    ]


def test_a_status_batch_of_organizations_without_endpoints_costs_no_query(
    org, other_org, make_endpoint, django_assert_num_queries
):
    make_endpoint(OrganizationFactory())
    batch = status_batch([org, other_org])
    webhooks.organizations_with_endpoints()  # cached

    with django_assert_num_queries(0):
        assert webhooks.plan_business_events(batch) == []


def test_a_status_batch_reads_the_same_few_tables_whatever_its_size(org, other_org, make_endpoint):
    make_endpoint(org)
    stations = [ChargingStationFactory(organization=org, connectors=0) for _ in range(3)]
    batch = [
        Event(STATION_STATUS_CHANGED, {**event.data, "station_id": stations[n % 3].pk})
        for n, event in enumerate(status_batch([org, other_org]))
    ]
    webhooks.organizations_with_endpoints()  # cached

    with CaptureQueriesContext(connection) as queries:
        planned = webhooks.plan_business_events(batch)

    # The endpoints and the stations (no connector in a station status), then the inserts
    # (one on PostgreSQL; SQLite splits them by its parameter limit).
    reads = [q["sql"] for q in queries if not q["sql"].startswith("INSERT")]
    assert len(reads) == 2
    assert len(planned) == 250
    assert {d.endpoint.organization_id for d in WebhookDelivery.objects.all()} == {org.pk}


def test_a_large_batch_is_handed_to_one_sweep_task_instead_of_hundreds(
    org, station, make_endpoint, monkeypatch
):
    make_endpoint(org)
    sent = []
    monkeypatch.setattr(tasks.deliver_webhook, "delay", lambda *ids: sent.append(("one", ids)))
    monkeypatch.setattr(tasks.deliver_due_webhooks, "delay", lambda: sent.append(("sweep", ())))
    batch = [Event(STATION_STATUS_CHANGED, {**e.data, "station_id": station.pk}) for e in
             status_batch([org], size=relay.ENQUEUE_EACH_UP_TO + 1)]  # fmt: skip

    relay.relay_business_events(batch)

    assert sent == [("sweep", ())]


def test_business_deliveries_the_broker_lost_go_out_with_the_sweep(
    org, station, make_endpoint, webhook_server, monkeypatch, django_capture_on_commit_callbacks
):
    make_endpoint(org)

    def broker_down(*args):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.deliver_webhook, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        record_status(station, 1, "Faulted")
    assert webhook_server.received == []

    monkeypatch.undo()
    assert tasks.deliver_due_webhooks() == 1

    assert [p["type"] for p in payloads(webhook_server)] == ["station.status_changed"]
    assert WebhookDelivery.objects.get().status == DeliveryStatus.DELIVERED
