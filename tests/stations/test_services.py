"""Station services the OCPP handlers call: boot, status, firmware, diagnostics, data transfer."""

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from stations.choices import RegistrationStatus
from stations.models import ChargingStation, Connector, StationDataTransfer, StatusEvent
from stations.services import (
    BootReport,
    StatusReport,
    get_or_create_connector,
    record_boot,
    record_boots,
    record_data_transfer,
    record_diagnostics_status,
    record_firmware_status,
    record_status,
    record_status_reports,
)
from tests.factories import ChargingSessionFactory, ChargingStationFactory

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
T1 = datetime(2026, 1, 1, 12, 5, tzinfo=UTC)


@pytest.fixture
def outsider_station(other_org):
    return ChargingStationFactory(organization=other_org, ocpp_id="CS-OUTSIDER")


def test_boot_of_an_assigned_station_is_accepted_with_its_heartbeat_interval(station):
    station.heartbeat_interval = 120
    station.save()

    result = record_boot(station, vendor="ABB", model="Terra AC")

    assert result.registration_status == RegistrationStatus.ACCEPTED
    assert result.interval == 120


def test_boot_stores_what_the_station_reports(station):
    record_boot(
        station,
        vendor="ABB",
        model="Terra AC",
        serial_number="TACW1234",
        firmware_version="1.8.21",
        iccid="8949000000000000001",
        imsi="262011234567890",
        meter_type="Eastron SDM630",
        meter_serial_number="M-77",
        booted_at=T0,
    )

    stored = ChargingStation.objects.get(pk=station.pk)
    assert (stored.vendor, stored.model, stored.serial_number) == ("ABB", "Terra AC", "TACW1234")
    assert (stored.firmware_version, stored.iccid, stored.imsi) == (
        "1.8.21",
        "8949000000000000001",
        "262011234567890",
    )
    assert (stored.meter_type, stored.meter_serial_number) == ("Eastron SDM630", "M-77")
    assert stored.last_boot == T0


def test_boot_keeps_properties_the_station_does_not_report(station):
    station.serial_number = "ENTERED-BY-STAFF"
    station.save()

    record_boot(station, vendor="ABB", model="Terra AC")

    assert ChargingStation.objects.get(pk=station.pk).serial_number == "ENTERED-BY-STAFF"


def test_boot_reloads_the_station_so_an_assignment_made_while_connected_counts(org, station):
    pool_station = ChargingStationFactory(organization=None, site=None)
    connected = ChargingStation.objects.get(pk=pool_station.pk)
    ChargingStation.objects.filter(pk=pool_station.pk).update(organization=org, site=station.site)

    result = record_boot(connected, vendor="ABB", model="Terra AC")

    assert result.registration_status == RegistrationStatus.ACCEPTED
    assert connected.organization_id == org.pk


def test_boot_of_a_station_in_the_unassigned_pool_is_pending(db):
    pool_station = ChargingStationFactory(organization=None, site=None)

    result = record_boot(pool_station, vendor="ABB", model="Terra AC")

    assert result.registration_status == RegistrationStatus.PENDING


def test_boot_of_a_pending_station_is_pending(station):
    station.registration_status = RegistrationStatus.PENDING
    station.save()

    assert record_boot(station, vendor="x", model="y").registration_status == "Pending"


def test_boot_of_a_rejected_station_is_rejected(station):
    station.registration_status = RegistrationStatus.REJECTED
    station.save()

    assert record_boot(station, vendor="x", model="y").registration_status == "Rejected"


def test_tc_032_1_boot_leaves_active_sessions_open_for_the_queued_stop(station):
    session = ChargingSessionFactory(station=station)

    record_boot(station, vendor="ABB", model="Terra AC")

    session.refresh_from_db()
    assert session.state == "active"
    assert session.stop is None


def test_station_status_is_stored_on_the_station_for_connector_0(station):
    record_status(station, 0, "Unavailable", "OtherError", "", "E42", T0)

    stored = ChargingStation.objects.get(pk=station.pk)
    assert (stored.status, stored.error_code, stored.vendor_error_code) == (
        "Unavailable",
        "OtherError",
        "E42",
    )
    assert stored.status_at == T0
    assert not Connector.objects.filter(station=station, status="Unavailable").exists()


def test_connector_status_is_stored_on_the_connector(station):
    record_status(station, 2, "Charging", "", "cable locked", "", T0)

    connector = station.connectors.get(connector_id=2)
    assert (connector.status, connector.info, connector.status_at) == (
        "Charging",
        "cable locked",
        T0,
    )
    assert station.connectors.get(connector_id=1).status == "Unknown"


def test_every_status_report_writes_a_status_event(station):
    record_status(station, 0, "Available", timestamp=T0)
    record_status(station, 1, "Preparing", timestamp=T1)

    events = list(StatusEvent.objects.filter(station=station).order_by("timestamp"))
    assert [(e.connector_number, e.status) for e in events] == [(0, "Available"), (1, "Preparing")]
    assert events[0].connector is None
    assert events[1].connector == station.connectors.get(connector_id=1)


def test_status_of_an_unknown_connector_creates_it_on_its_own_evse(station):
    record_status(station, 3, "Available", timestamp=T0)

    connector = station.connectors.get(connector_id=3)
    assert connector.status == "Available"
    assert connector.evse.evse_number == 3
    assert connector.evse.station == station


def test_older_queued_status_is_history_and_does_not_overwrite_the_newer_one(station):
    record_status(station, 1, "Charging", timestamp=T1)

    assert record_status(station, 1, "Preparing", timestamp=T0) is False

    connector = station.connectors.get(connector_id=1)
    assert (connector.status, connector.status_at) == ("Charging", T1)
    assert StatusEvent.objects.filter(station=station, status="Preparing").exists()


def test_older_queued_station_status_does_not_overwrite_the_newer_one(station):
    record_status(station, 0, "Available", timestamp=T1)

    record_status(station, 0, "Unavailable", timestamp=T0)

    assert ChargingStation.objects.get(pk=station.pk).status == "Available"


def test_status_without_timestamp_is_stamped_now(station):
    before = timezone.now()
    assert record_status(station, 1, "Available") is True

    event = StatusEvent.objects.get(station=station)
    assert event.timestamp >= before
    assert station.connectors.get(connector_id=1).status_at == event.timestamp


def test_many_boots_are_recorded_with_a_few_queries_and_each_learns_its_own_status(
    org, other_org, station, django_assert_max_num_queries
):
    pending = ChargingStationFactory(organization=None, site=None, registration_status="Pending")
    rejected = ChargingStationFactory(organization=other_org)
    ChargingStation.objects.filter(pk=rejected.pk).update(registration_status="Rejected")
    reports = [
        BootReport(station, vendor=" ABB ", model="Terra AC", firmware_version="1.2"),
        BootReport(pending, vendor="Alfen", model="Eve"),
        BootReport(rejected, vendor="Wallbox", model="Pulsar"),  # staff rejected it meanwhile
    ]

    # Lock, open sessions, one UPDATE, and the savepoint around them.
    with django_assert_max_num_queries(5):
        results = record_boots(reports)

    assert [r.registration_status for r in results] == ["Accepted", "Pending", "Rejected"]
    assert rejected.registration_status == "Rejected"  # the caller's instance learnt it
    stored = ChargingStation.objects.get(pk=station.pk)
    assert (stored.vendor, stored.model, stored.firmware_version) == ("ABB", "Terra AC", "1.2")
    assert stored.last_boot is not None
    assert ChargingStation.objects.get(pk=pending.pk).vendor == "Alfen"


def test_many_status_reports_are_recorded_with_a_few_queries(
    org, station, django_assert_max_num_queries
):
    other = ChargingStationFactory(organization=org)
    record_status(other, 1, "Charging", timestamp=T1)
    reports = [
        StatusReport(station, 0, "Available", timestamp=T0),
        StatusReport(station, 1, "Preparing", info="plugged", timestamp=T0),
        StatusReport(other, 1, "Available", timestamp=T0),  # older than Charging at T1
        StatusReport(other, 2, "Faulted", error_code="GroundFailure", timestamp=T1),
    ]

    # Connectors, station times, two UPDATEs, the events, and the savepoint around them.
    with django_assert_max_num_queries(7):
        applied = record_status_reports(reports)

    assert applied == [True, True, False, True]
    assert ChargingStation.objects.get(pk=station.pk).status == "Available"
    assert station.connectors.get(connector_id=1).info == "plugged"
    statuses = dict(other.connectors.values_list("connector_id", "status"))
    assert statuses == {1: "Charging", 2: "Faulted"}
    assert StatusEvent.objects.count() == 5  # every report is history, current or not


def test_get_or_create_connector_returns_the_existing_connector(station):
    existing = station.connectors.get(connector_id=1)

    assert get_or_create_connector(station, 1) == existing
    assert station.connectors.count() == 2


def test_tc_044_1_firmware_status_is_stored_on_the_station(station):
    record_firmware_status(station, "Installed", T0)

    stored = ChargingStation.objects.get(pk=station.pk)
    assert (stored.firmware_status, stored.firmware_status_at) == ("Installed", T0)


def test_tc_045_1_diagnostics_status_is_stored_on_the_station(station):
    record_diagnostics_status(station, "Uploaded", T0)

    stored = ChargingStation.objects.get(pk=station.pk)
    assert (stored.diagnostics_status, stored.diagnostics_status_at) == ("Uploaded", T0)


def test_data_transfer_is_stored_with_the_status_answered(station):
    record_data_transfer(
        station, vendor_id="com.example", message_id="ping", data='{"a": 1}', status="Accepted"
    )

    stored = StationDataTransfer.objects.for_org(station.organization).get()
    assert (stored.direction, stored.vendor_id, stored.message_id) == ("in", "com.example", "ping")
    assert (stored.data, stored.status) == ('{"a": 1}', "Accepted")


def test_status_and_boot_of_our_station_never_touch_an_outsider_station(station, outsider_station):
    record_boot(station, vendor="ABB", model="Terra AC")
    record_status(station, 1, "Faulted", "GroundFailure", timestamp=T0)
    record_status(station, 0, "Unavailable", timestamp=T0)

    outsider_station.refresh_from_db()
    assert outsider_station.vendor == ""
    assert outsider_station.status == "Unknown"
    assert set(outsider_station.connectors.values_list("status", flat=True)) == {"Unknown"}
    assert not StatusEvent.objects.for_org(outsider_station.organization).exists()
