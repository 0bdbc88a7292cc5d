"""Alerts reach open portal pages live: the counts of the navigation and the dashboard."""

import asyncio

import pytest
from channels.layers import get_channel_layer

from alerts.choices import RuleKind, Severity
from alerts.events import ALERT_ACKNOWLEDGED, ALERT_ESCALATED, ALERT_OPENED, ALERT_RESOLVED
from alerts.services import Condition, acknowledge_alert, clear_conditions
from core import events, live
from portal import events as portal_events
from tests.factories import ChargingStationFactory, UserFactory

pytestmark = pytest.mark.django_db


def on(loop, coro, timeout=10):
    return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)


@pytest.fixture
def pages(monkeypatch):
    """Open a page of each organization given: the messages its group receives."""
    monkeypatch.setattr(live, "_serving_loop", None)
    loop = live._delivery_loop()
    layer = get_channel_layer()
    opened = []

    def open_page(organization):
        channel = on(loop, layer.new_channel())
        on(loop, layer.group_add(live.organization_group(organization.pk), channel))
        opened.append((organization, channel))

        def heard(timeout=10):
            return on(loop, asyncio.wait_for(layer.receive(channel), timeout), timeout + 1)

        return heard

    yield open_page
    for organization, channel in opened:
        on(loop, layer.group_discard(live.organization_group(organization.pk), channel))


@pytest.fixture
def station(org):
    return ChargingStationFactory(organization=org, ocpp_id="CS-LIVE-ALERT")


def fault_station(station, number=1):
    """The connector reports Faulted, as the status write would store it."""
    connector = station.connectors.get(connector_id=number)
    connector.status = "Faulted"
    connector.save(update_fields=["status"])
    return connector


def test_an_opened_alert_reaches_the_organizations_pages_with_the_counts(
    org, station, pages, fault, raise_alerts
):
    heard = pages(org)
    fault_station(station)
    (alert,) = raise_alerts(fault(station))
    assert heard()["events"] == [
        {
            "kind": "alerts",
            "open": 1,
            "faults": 1,
            "alert": alert.pk,
            "state": "open",
            "severity": "high",
            "station": station.pk,
        }
    ]


def test_a_resolved_alert_brings_the_counts_down(
    org, station, pages, fault, raise_alerts, django_capture_on_commit_callbacks
):
    (alert,) = raise_alerts(fault(station))
    heard = pages(org)
    with django_capture_on_commit_callbacks(execute=True):
        clear_conditions([alert.fingerprint])
    message = heard()["events"][0]
    assert (message["kind"], message["open"], message["state"]) == ("alerts", 0, "resolved")


def test_an_acknowledged_alert_is_announced_and_still_counted(
    org, station, pages, fault, raise_alerts, django_capture_on_commit_callbacks
):
    (alert,) = raise_alerts(fault(station))
    heard = pages(org)
    with django_capture_on_commit_callbacks(execute=True):
        acknowledge_alert(alert, UserFactory())
    message = heard()["events"][0]
    assert (message["open"], message["state"]) == (1, "acknowledged")


def test_another_organization_hears_nothing_of_our_alerts(
    org, other_org, station, pages, fault, raise_alerts
):
    ours, theirs = pages(org), pages(other_org)
    raise_alerts(fault(station))
    assert ours()["events"][0]["kind"] == "alerts"
    with pytest.raises(asyncio.TimeoutError):
        theirs(timeout=0.5)


def test_a_platform_alert_reaches_no_organization(org, pages, raise_alerts):
    heard = pages(org)
    raise_alerts(
        Condition(
            kind=RuleKind.STATION_REJECTED,
            subject="identity:ROGUE",
            organization_id=None,
            severity=Severity.MEDIUM,
            details={"identity": "ROGUE"},
        )
    )
    with pytest.raises(asyncio.TimeoutError):
        heard(timeout=0.5)


def test_a_batch_of_alerts_is_counted_in_two_queries(
    org, other_org, django_assert_num_queries, monkeypatch
):
    sent = []
    monkeypatch.setattr(portal_events, "publish_many", sent.append)
    batch = [
        events.Event(
            ALERT_OPENED,
            {
                "organization_id": organization.pk,
                "alert_id": number,
                "kind": RuleKind.CONNECTOR_FAULTED,
                "severity": Severity.HIGH,
                "state": "open",
                "station_id": None,
            },
        )
        for number in range(50)
        for organization in (org, other_org)
    ]

    with django_assert_num_queries(2):
        portal_events.show_alerts(batch)

    assert len(sent[0]) == 100
    assert {message["open"] for _org, message in sent[0]} == {0}


def test_the_portal_subscribes_to_every_alert_event():
    for name in (ALERT_OPENED, ALERT_ACKNOWLEDGED, ALERT_ESCALATED, ALERT_RESOLVED):
        assert portal_events.show_alerts in events.subscribers(name)
