"""Station events, monitors and customer information: services, the Events page and the API."""

from datetime import UTC, datetime, timedelta

import pytest

from core.events import subscribe, unsubscribe
from organizations.choices import Role
from stations.events import STATION_EVENT_REPORTED
from stations.models import MonitorSource, StationEvent, VariableMonitor
from stations.station_events import (
    ReportedEvent,
    ReportedMonitor,
    Target,
    customer_information,
    events_of,
    forget_monitors,
    open_alerts,
    record_customer_information,
    record_monitors,
    record_security_event,
    record_station_events,
)
from tests.apiclients import client_as
from tests.factories import ChargingStationFactory
from tests.portalclients import org_url, portal_client

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
TEMPERATURE = Target(component="EVSE", variable="Temperature", evse=1)
DOOR = Target(component="Door", variable="Open")


def event(event_id: int, minutes: int = 0, target: Target = TEMPERATURE, **fields) -> ReportedEvent:
    values = {
        "event_id": event_id,
        "timestamp": T0 + timedelta(minutes=minutes),
        "trigger": "Alerting",
        "actual_value": "85",
        "notification_type": "CustomMonitor",
        "target": target,
    } | fields
    return ReportedEvent(**values)


def monitor(monitor_id: int, severity: int = 4, **fields) -> ReportedMonitor:
    values = {
        "monitor_id": monitor_id,
        "target": TEMPERATURE,
        "type": "UpperThreshold",
        "value": 80.0,
        "severity": severity,
    } | fields
    return ReportedMonitor(**values)


@pytest.fixture
def announced():
    """The station.event_reported events emitted during the test."""
    seen = []

    def listener(events):
        seen.extend(events)

    subscribe(STATION_EVENT_REPORTED, listener)
    yield seen
    unsubscribe(STATION_EVENT_REPORTED, listener)


# --- services ----------------------------------------------------------------------------------


def test_a_retransmitted_notify_event_stores_nothing_twice(
    station, announced, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = record_station_events(station, [event(1), event(2, minutes=1)])
        again = record_station_events(station, [event(1), event(2, minutes=1), event(3, minutes=2)])

    assert [row.event_id for row in first] == [1, 2]
    assert [row.event_id for row in again] == [3]
    assert StationEvent.objects.filter(station=station).count() == 3
    # One announcement per stored event, each naming its row.
    assert [e["station_event_id"] for e in announced] == [row.pk for row in first + again]
    assert {e["station_id"] for e in announced} == {station.pk}
    assert {e["organization_id"] for e in announced} == {station.organization_id}


def test_an_event_id_repeated_at_another_time_is_another_event(station):
    # A station numbers its events anew after a reboot.
    record_station_events(station, [event(1)])
    record_station_events(station, [event(1, minutes=60)])

    assert StationEvent.objects.filter(station=station, event_id=1).count() == 2


def test_an_event_takes_the_severity_of_the_monitor_that_raised_it(station):
    record_monitors(station, [monitor(7, severity=2)], MonitorSource.SET)

    [raised, hardwired] = record_station_events(
        station, [event(1, monitor_id=7), event(2, notification_type="HardWiredMonitor")]
    )

    assert raised.severity == 2 and raised.severity_label == "System failure"
    assert hardwired.severity is None


def test_a_security_event_is_stored_once_and_marked_critical_from_the_ocpp_list(
    station, announced, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        tamper = record_security_event(station, "TamperDetectionActivated", T0, "lid opened")
        again = record_security_event(station, "TamperDetectionActivated", T0, "lid opened")
        login = record_security_event(station, "FailedToAuthenticateAtCsms", T0)

    assert again is None
    assert (tamper.kind, tamper.type, tamper.tech_info, tamper.critical) == (
        "security_event",
        "TamperDetectionActivated",
        "lid opened",
        True,
    )
    assert login.critical is False
    assert [(e["station_event_id"], e["critical"]) for e in announced] == [
        (tamper.pk, True),
        (login.pk, False),
    ]


def test_monitors_are_replaced_by_id_and_forgotten(station):
    record_monitors(station, [monitor(1), monitor(2)], MonitorSource.REPORTED)
    record_monitors(station, [monitor(1, severity=0, value=95.5)], MonitorSource.SET)

    one = VariableMonitor.objects.get(station=station, monitor_id=1)
    assert (one.severity, one.value, one.status) == (0, 95.5, "Accepted")
    assert forget_monitors(station, [2, 99]) == 1
    assert list(VariableMonitor.objects.values_list("monitor_id", flat=True)) == [1]


def test_an_alert_is_open_until_an_event_of_its_variable_clears_it(station):
    record_station_events(
        station,
        [
            event(1, minutes=0),
            event(2, minutes=1, target=DOOR, actual_value="true"),
            # After a reboot (TC_N_49) the station reports the threshold cleared.
            event(3, minutes=5, cleared=True, actual_value="40"),
        ],
    )

    assert [alert.event_id for alert in open_alerts(station)] == [2]


def test_customer_information_parts_are_joined_in_order_and_stored_once(station):
    for seq_no, data, more in [(1, "world", False), (0, "hello ", True), (1, "world", False)]:
        record_customer_information(
            station, request_id=5, seq_no=seq_no, data=data, more_follows=more, generated_at=T0
        )

    assert customer_information(station, 5) == "hello world"
    assert customer_information(station, 6) == ""


def test_events_are_filtered_by_kind_severity_and_cleared(station):
    record_monitors(station, [monitor(1, severity=1), monitor(2, severity=8)], MonitorSource.SET)
    record_station_events(
        station,
        [event(1, monitor_id=1), event(2, minutes=1, monitor_id=2, cleared=True)],
    )
    record_security_event(station, "StartupOfTheDevice", T0 + timedelta(minutes=2))

    assert [e.event_id for e in events_of(station, max_severity=4)] == [1]
    assert [e.event_id for e in events_of(station, cleared=True)] == [2]
    assert [e.type for e in events_of(station, kind="security_event")] == ["StartupOfTheDevice"]
    newest_first = ["security_event", "notify_event", "notify_event"]
    assert [e.kind for e in events_of(station)] == newest_first


# --- the Events page ---------------------------------------------------------------------------

NASTY = "<script>alert('x')</script> Überhitzung 🔥 " + "x" * 2400


def page_url(station, query=""):
    return org_url(station.organization, f"stations/{station.pk}/events/{query}")


def test_the_events_page_lists_events_and_security_events_newest_first(org, station):
    record_station_events(station, [event(1, actual_value=NASTY, tech_info="<b>hot</b>")])
    record_security_event(station, "InvalidTLSVersion", T0 + timedelta(hours=1), "TLS 1.0")

    response = portal_client(org).get(page_url(station))

    assert response.status_code == 200
    page = response.content.decode()
    assert page.index("InvalidTLSVersion") < page.index("Temperature")
    # What a station sends is shown as text, never as markup, however long or exotic.
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert "&lt;b&gt;hot&lt;/b&gt;" in page
    assert "Überhitzung 🔥" in page
    assert "x" * 2400 in page


def test_the_events_page_filters_by_kind_severity_and_cleared(org, station):
    record_monitors(station, [monitor(1, severity=1), monitor(2, severity=8)], MonitorSource.SET)
    record_station_events(
        station,
        [
            event(1, monitor_id=1, actual_value="SEVERE"),
            event(2, minutes=1, monitor_id=2, actual_value="MILD", cleared=True),
        ],
    )
    record_security_event(station, "StartupOfTheDevice", T0)
    client = portal_client(org)

    severe = client.get(page_url(station, "?severity=4")).content.decode()
    cleared = client.get(page_url(station, "?cleared=true")).content.decode()
    security = client.get(page_url(station, "?kind=security_event")).content.decode()

    assert "SEVERE" in severe and "MILD" not in severe and "StartupOfTheDevice" not in severe
    assert "MILD" in cleared and "SEVERE" not in cleared
    assert "StartupOfTheDevice" in security and "SEVERE" not in security


def test_an_unknown_filter_value_is_shown_as_an_error_not_a_crash(org, station):
    record_station_events(station, [event(1)])

    response = portal_client(org).get(page_url(station, "?severity=99&cleared=perhaps"))

    assert response.status_code == 200
    assert response.context["filterset"].errors.keys() == {"severity", "cleared"}


def test_the_events_page_of_another_organizations_station_is_a_404(org, other_org):
    theirs = ChargingStationFactory(organization=other_org)
    record_security_event(theirs, "TamperDetectionActivated", T0)

    response = portal_client(org).get(org_url(org, f"stations/{theirs.pk}/events/"))

    assert response.status_code == 404


def test_the_station_page_links_to_its_events(org, station):
    response = portal_client(org).get(org_url(org, f"stations/{station.pk}/"))

    assert page_url(station) in response.content.decode()


# --- the API -----------------------------------------------------------------------------------


def api_url(station, what="events"):
    return f"/api/v1/stations/{station.pk}/{what}/"


def test_the_api_lists_a_stations_events_newest_first(org, station, django_assert_max_num_queries):
    record_station_events(station, [event(i, minutes=i) for i in range(1, 6)])
    record_security_event(station, "ResetOrReboot", T0 + timedelta(hours=1))
    client = client_as(org)

    with django_assert_max_num_queries(8):
        response = client.get(api_url(station))

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["type"] or row["event_id"] for row in rows] == ["ResetOrReboot", 5, 4, 3, 2, 1]
    assert rows[1]["component"] == "EVSE" and rows[1]["evse_number"] == 1


def test_the_api_filters_events_and_refuses_what_it_does_not_read(org, station):
    record_station_events(station, [event(1), event(2, minutes=1, cleared=True)])
    client = client_as(org)

    cleared = client.get(api_url(station), {"cleared": "true"})
    bad_value = client.get(api_url(station), {"severity": "high"})
    unknown = client.get(api_url(station), {"colour": "red"})

    assert [row["event_id"] for row in cleared.json()["results"]] == [2]
    assert bad_value.status_code == 400 and "severity" in bad_value.json()
    assert unknown.status_code == 400 and "colour" in unknown.json()


def test_an_outsider_gets_404_for_a_stations_events_monitors_and_customer_data(org, other_org):
    theirs = ChargingStationFactory(organization=other_org)
    record_security_event(theirs, "TamperDetectionActivated", T0)
    client = client_as(org, Role.OWNER)

    for what in ("events", "monitors", "customer-information"):
        response = client.get(
            api_url(theirs, what), {"request_id": 1} if "customer" in what else {}
        )
        assert response.status_code == 404, what


def test_the_api_lists_the_monitors_of_a_station(org, station):
    record_monitors(station, [monitor(2), monitor(1, type="Periodic", value=300.0)], "Reported")

    rows = client_as(org).get(api_url(station, "monitors")).json()["results"]

    assert [(row["monitor_id"], row["monitor_type"], row["value"]) for row in rows] == [
        (1, "Periodic", 300.0),
        (2, "UpperThreshold", 80.0),
    ]


def test_customer_information_is_for_admins_and_joins_the_parts(org, station):
    for seq_no, data, more in [(0, "name: Jane ", True), (1, "card: 04AA", False)]:
        record_customer_information(
            station, request_id=9, seq_no=seq_no, data=data, more_follows=more, generated_at=T0
        )

    viewer = client_as(org, Role.VIEWER).get(
        api_url(station, "customer-information"), {"request_id": 9}
    )
    admin = client_as(org, Role.ADMIN).get(
        api_url(station, "customer-information"), {"request_id": 9}
    )

    assert viewer.status_code == 403
    assert admin.json() == {
        "request_id": 9,
        "parts": 2,
        "complete": True,
        "data": "name: Jane card: 04AA",
    }
