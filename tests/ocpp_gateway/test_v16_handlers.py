"""OCPP 1.6 handlers called as the consumer calls them: station, validated payload, answer."""

import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from unittest import mock

import pytest

from cards.choices import IdTokenStatus
from ocpp_gateway.exceptions import FormationViolation, PropertyConstraintViolation
from ocpp_gateway.utils import format_ocpp_datetime, parse_ocpp_datetime
from ocpp_gateway.v16 import data_transfer
from ocpp_gateway.v16.data_transfer import (
    DataTransferReply,
    UnknownMessageId,
    register_vendor_handler,
)
from ocpp_gateway.v16.handlers import HANDLERS
from sessions_app.models import ChargingSession, MeterValue
from stations.choices import RegistrationStatus
from stations.models import ChargingStation, StationDataTransfer, StatusEvent
from tests.factories import (
    AccessGroupFactory,
    ChargingSessionFactory,
    ChargingStationFactory,
    IdTokenFactory,
    ReservationFactory,
)

OCPP_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
T0 = "2026-01-01T12:00:00Z"
T1 = "2026-01-01T12:05:00Z"
T2 = "2026-01-01T12:30:00Z"


@pytest.fixture
def card(org, station):
    """An accepted card of `org`, in an access group of the station's site."""
    group = AccessGroupFactory(organization=org, name="Staff")
    station.site.access_groups.add(group)
    return IdTokenFactory(organization=org, uid="04A1B2C3", access_groups=[group])


@pytest.fixture
def vendor_registry():
    """An empty DataTransfer registry, restored after the test."""
    with mock.patch.dict(data_transfer._vendor_handlers, clear=True):
        yield


def call(station, action, payload):
    return HANDLERS[action](station, payload)


def boot(station, **fields):
    return call(
        station,
        "BootNotification",
        {"chargePointVendor": "ABB", "chargePointModel": "Terra AC", **fields},
    )


def start(station, id_tag="04A1B2C3", **fields):
    payload = {"connectorId": 1, "idTag": id_tag, "meterStart": 1000, "timestamp": T0, **fields}
    return call(station, "StartTransaction", payload)


def stop(station, transaction_id, **fields):
    payload = {"transactionId": transaction_id, "meterStop": 9000, "timestamp": T2, **fields}
    return call(station, "StopTransaction", payload)


def meter_values(station, *sampled_values, transaction_id=None, connector_id=1, timestamp=T1):
    payload = {
        "connectorId": connector_id,
        "meterValue": [{"timestamp": timestamp, "sampledValue": list(sampled_values)}],
    }
    if transaction_id is not None:
        payload["transactionId"] = transaction_id
    return call(station, "MeterValues", payload)


def test_every_call_a_1_6_station_sends_has_a_handler():
    assert set(HANDLERS) == {
        "Authorize",
        "BootNotification",
        "DataTransfer",
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
        "Heartbeat",
        "MeterValues",
        "StartTransaction",
        "StatusNotification",
        "StopTransaction",
    }


# BootNotification and Heartbeat


def test_tc_001_cold_boot_of_an_assigned_station_is_accepted_with_its_interval(station):
    station.heartbeat_interval = 60
    station.save()

    answer = boot(station)

    assert answer["status"] == "Accepted"
    assert answer["interval"] == 60
    assert OCPP_TIME.match(answer["currentTime"])


def test_boot_of_a_station_in_the_unassigned_pool_is_pending(db):
    pool_station = ChargingStationFactory(organization=None, site=None)

    assert boot(pool_station)["status"] == "Pending"


def test_boot_of_a_rejected_station_is_rejected(station):
    station.registration_status = RegistrationStatus.REJECTED
    station.save()

    assert boot(station)["status"] == "Rejected"


def test_boot_stores_the_reported_station_properties(station):
    boot(
        station,
        chargePointSerialNumber="TACW1234",
        firmwareVersion="1.8.21",
        iccid="8949000000000000001",
        imsi="262011234567890",
        meterType="Eastron SDM630",
        meterSerialNumber="M-77",
    )

    stored = ChargingStation.objects.get(pk=station.pk)
    assert (stored.vendor, stored.model, stored.serial_number) == ("ABB", "Terra AC", "TACW1234")
    assert (stored.firmware_version, stored.iccid, stored.imsi) == (
        "1.8.21",
        "8949000000000000001",
        "262011234567890",
    )
    assert (stored.meter_type, stored.meter_serial_number) == ("Eastron SDM630", "M-77")
    assert stored.last_boot is not None


def test_boot_falls_back_to_the_deprecated_charge_box_serial_number(station):
    boot(station, chargeBoxSerialNumber="BOX-1")

    assert ChargingStation.objects.get(pk=station.pk).serial_number == "BOX-1"


def test_tc_032_1_power_failure_boot_keeps_the_session_open_for_the_queued_stop(station, card):
    transaction_id = start(station)["transactionId"]

    boot(station)
    answer = stop(station, transaction_id, reason="PowerLoss")

    session = ChargingSession.objects.get(pk=transaction_id)
    assert answer == {}
    assert (session.state, session.stop_reason) == ("completed", "PowerLoss")


def test_heartbeat_answers_the_current_time_in_utc_with_milliseconds(station):
    answer = call(station, "Heartbeat", {})

    assert OCPP_TIME.match(answer["currentTime"])
    sent = parse_ocpp_datetime(answer["currentTime"])
    assert abs(datetime.now(UTC) - sent) < timedelta(seconds=5)


# StatusNotification


def test_status_of_connector_0_is_the_station_status(station):
    answer = call(
        station,
        "StatusNotification",
        {"connectorId": 0, "errorCode": "NoError", "status": "Available", "timestamp": T0},
    )

    station.refresh_from_db()
    assert answer == {}
    assert (station.status, station.error_code) == ("Available", "")
    assert station.connectors.filter(status="Available").count() == 0


def test_status_of_a_connector_is_stored_with_its_error_and_info(station):
    call(
        station,
        "StatusNotification",
        {
            "connectorId": 2,
            "errorCode": "ConnectorLockFailure",
            "status": "Faulted",
            "info": "lock motor",
            "vendorErrorCode": "0x2A",
            "timestamp": T0,
        },
    )

    connector = station.connectors.get(connector_id=2)
    assert (connector.status, connector.error_code) == ("Faulted", "ConnectorLockFailure")
    assert (connector.info, connector.vendor_error_code) == ("lock motor", "0x2A")
    assert connector.status_at == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def test_no_error_is_stored_as_no_error_code(station):
    call(
        station,
        "StatusNotification",
        {"connectorId": 1, "errorCode": "NoError", "status": "Charging"},
    )

    event = StatusEvent.objects.get()
    assert (event.status, event.error_code) == ("Charging", "")


def test_status_notification_always_writes_a_status_event(station):
    payload = {"connectorId": 1, "errorCode": "NoError", "status": "Preparing", "timestamp": T1}
    call(station, "StatusNotification", payload)
    call(station, "StatusNotification", {**payload, "status": "Available", "timestamp": T0})

    assert StatusEvent.objects.filter(station=station).count() == 2
    assert station.connectors.get(connector_id=1).status == "Preparing"


def test_status_of_an_unknown_connector_creates_it(station):
    call(
        station,
        "StatusNotification",
        {"connectorId": 3, "errorCode": "NoError", "status": "Available"},
    )

    assert station.connectors.get(connector_id=3).evse.evse_number == 3


def test_status_with_a_negative_connector_id_is_a_property_constraint_violation(station):
    with pytest.raises(PropertyConstraintViolation):
        call(
            station,
            "StatusNotification",
            {"connectorId": -1, "errorCode": "NoError", "status": "Available"},
        )


def test_status_with_a_malformed_timestamp_is_a_formation_violation(station):
    with pytest.raises(FormationViolation):
        call(
            station,
            "StatusNotification",
            {"connectorId": 1, "errorCode": "NoError", "status": "Available", "timestamp": "soon"},
        )


# Authorize


def test_tc_004_1_authorize_accepts_a_card_of_the_station_organization(station, card):
    assert call(station, "Authorize", {"idTag": "04A1B2C3"}) == {
        "idTagInfo": {"status": "Accepted"}
    }


def test_tc_023_1_authorize_answers_invalid_for_an_unknown_card(station, card):
    assert call(station, "Authorize", {"idTag": "FFFFFFFF"}) == {"idTagInfo": {"status": "Invalid"}}


def test_tc_023_2_authorize_answers_expired_with_the_expiry_date(station, card):
    card.expires_at = datetime(2025, 12, 31, 23, 0, tzinfo=UTC)
    card.save()

    answer = call(station, "Authorize", {"idTag": "04A1B2C3"})

    assert answer == {"idTagInfo": {"status": "Expired", "expiryDate": "2025-12-31T23:00:00.000Z"}}


def test_tc_023_3_authorize_answers_blocked_for_a_blocked_card(station, card):
    card.status = IdTokenStatus.BLOCKED
    card.save()

    assert call(station, "Authorize", {"idTag": "04A1B2C3"})["idTagInfo"]["status"] == "Blocked"


def test_authorize_answers_concurrent_tx_for_a_card_already_charging(org, station, card):
    ChargingSessionFactory(station=ChargingStationFactory(organization=org), id_token=card)

    assert (
        call(station, "Authorize", {"idTag": "04A1B2C3"})["idTagInfo"]["status"] == "ConcurrentTx"
    )


def test_outsider_card_is_invalid_at_our_station(station, other_org):
    IdTokenFactory(organization=other_org, uid="0BADC0DE", parent_id_tag="OUT")

    assert call(station, "Authorize", {"idTag": "0BADC0DE"}) == {"idTagInfo": {"status": "Invalid"}}


# StartTransaction


def test_tc_003_start_creates_a_session_with_an_integer_transaction_id(station, card):
    answer = start(station)

    session = ChargingSession.objects.get()
    assert answer == {"transactionId": session.pk, "idTagInfo": {"status": "Accepted"}}
    assert isinstance(answer["transactionId"], int)
    assert session.transaction_id == str(session.pk)
    assert session.start == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert (session.meter_start, session.auth_method) == (1000, "rfid")


def test_retransmitted_start_returns_the_same_transaction_id_and_creates_nothing(station, card):
    first = start(station)

    again = start(station)

    assert again == first
    assert ChargingSession.objects.count() == 1


def test_tc_023_3_start_with_a_blocked_card_answers_blocked_and_is_recorded(station, card):
    card.status = IdTokenStatus.BLOCKED
    card.save()

    answer = start(station)

    session = ChargingSession.objects.get()
    assert answer["idTagInfo"] == {"status": "Blocked"}
    assert (session.auth_status, session.billable, session.id_token) == ("Blocked", False, card)


def test_tc_037_3_offline_start_with_an_unknown_tag_is_recorded_as_invalid(station):
    answer = start(station, id_tag="OFFLINE1")

    session = ChargingSession.objects.get()
    assert answer == {"transactionId": session.pk, "idTagInfo": {"status": "Invalid"}}
    assert (session.id_tag, session.auth_status, session.billable) == ("OFFLINE1", "Invalid", False)


def test_start_supersedes_the_older_session_the_station_lost_on_that_connector(station, card):
    lost = ChargingSessionFactory(station=station, id_tag="LOST", transaction_id="9001")

    answer = start(station, timestamp=T1)

    lost.refresh_from_db()
    assert (lost.state, lost.stop_reason) == ("failed", "Superseded")
    assert lost.stop == datetime(2026, 1, 1, 12, 5, tzinfo=UTC)
    assert ChargingSession.objects.active().get().pk == answer["transactionId"]


def test_tc_046_start_on_a_reservation_marks_it_used(station, card):
    reservation = ReservationFactory(station=station, id_tag="04A1B2C3")

    answer = start(station, reservationId=reservation.reservation_id)

    reservation.refresh_from_db()
    assert reservation.status == "used"
    assert ChargingSession.objects.get(pk=answer["transactionId"]).reservation == reservation


def test_start_on_connector_0_is_a_property_constraint_violation(station, card):
    with pytest.raises(PropertyConstraintViolation):
        start(station, connectorId=0)
    assert not ChargingSession.objects.exists()


def test_start_at_a_station_of_the_unassigned_pool_is_answered_invalid_and_not_recorded(db):
    pool_station = ChargingStationFactory(organization=None, site=None)

    answer = start(pool_station)

    assert answer == {"transactionId": 0, "idTagInfo": {"status": "Invalid"}}
    assert not ChargingSession.objects.exists()


# MeterValues


def test_meter_values_of_a_transaction_update_its_energy_and_power(station, card):
    transaction_id = start(station)["transactionId"]

    answer = meter_values(
        station,
        {"value": "4.5", "unit": "kWh", "measurand": "Energy.Active.Import.Register"},
        {"value": "7400", "unit": "W", "measurand": "Power.Active.Import"},
        transaction_id=transaction_id,
    )

    session = ChargingSession.objects.get(pk=transaction_id)
    assert answer == {}
    assert (session.energy_wh, session.last_power_w) == (3_500, 7_400)


def test_sampled_value_without_optional_fields_gets_the_1_6_defaults(station, card):
    transaction_id = start(station)["transactionId"]

    meter_values(station, {"value": "2500"}, transaction_id=transaction_id)

    stored = MeterValue.objects.get()
    assert (stored.measurand, stored.unit, stored.context) == (
        "Energy.Active.Import.Register",
        "Wh",
        "Sample.Periodic",
    )
    assert (stored.value, stored.phase, stored.location) == (Decimal(2500), "", "")
    assert ChargingSession.objects.get().energy_wh == 1_500


def test_meter_values_keep_phase_location_and_context(station, card):
    meter_values(
        station,
        {
            "value": "16.1",
            "measurand": "Current.Import",
            "phase": "L2",
            "unit": "A",
            "location": "Outlet",
            "context": "Trigger",
        },
    )

    stored = MeterValue.objects.get()
    assert (stored.measurand, stored.phase, stored.unit) == ("Current.Import", "L2", "A")
    assert (stored.location, stored.context, stored.value) == ("Outlet", "Trigger", Decimal("16.1"))


def test_meter_values_without_transaction_belong_to_the_station(station):
    meter_values(station, {"value": "123456"}, connector_id=0)

    stored = MeterValue.objects.get()
    assert (stored.station, stored.session, stored.connector_number) == (station, None, 0)


def test_meter_values_of_an_unknown_transaction_go_to_the_station_without_error(station, caplog):
    answer = meter_values(station, {"value": "1"}, transaction_id=424242)

    assert answer == {}
    assert MeterValue.objects.get().session is None
    assert "424242" in caplog.text


def test_signed_meter_value_is_kept_as_signed_data_without_a_value(station, card):
    transaction_id = start(station)["transactionId"]

    meter_values(
        station, {"value": "OCMF|{}|{}", "format": "SignedData"}, transaction_id=transaction_id
    )

    stored = MeterValue.objects.get()
    assert (stored.value, stored.signed_data) == (None, "OCMF|{}|{}")


def test_non_numeric_raw_value_is_kept_without_a_value_instead_of_failing(station, caplog):
    answer = meter_values(station, {"value": "n/a", "measurand": "Temperature"})

    assert answer == {}
    assert MeterValue.objects.get().value is None


def test_a_meter_values_message_is_one_insert(station, card, django_assert_max_num_queries):
    transaction_id = start(station)["transactionId"]
    # 24 distinct samples: a repeated (measurand, phase) at one moment would be one row.
    phases = ("", "L1", "L2", "L3", "L1-N", "L2-N", "L3-N", "N")
    sampled = [
        {"value": str(1000 + n), "measurand": measurand, "phase": phase}
        for n, phase in enumerate(phases)
        for measurand in ("Energy.Active.Import.Register", "Power.Active.Import", "Voltage")
    ]

    # PostgreSQL: 2 more, the savepoint around the COPY that a retransmission would fail.
    with django_assert_max_num_queries(7) as captured:
        meter_values(station, *sampled, transaction_id=transaction_id)

    # One statement puts all rows into the table (COPY, or INSERT skipping stored samples).
    assert sum(writes_meter_rows(q["sql"]) for q in captured.captured_queries) == 1
    assert MeterValue.objects.count() == 24


# StopTransaction


def test_tc_003_stop_closes_the_session_with_energy_and_reason(station, card):
    transaction_id = start(station)["transactionId"]

    answer = stop(station, transaction_id, reason="EVDisconnected")

    session = ChargingSession.objects.get(pk=transaction_id)
    assert answer == {}
    assert (session.state, session.meter_stop, session.energy_wh) == ("completed", 9000, 8000)
    assert session.stop_reason == "EVDisconnected"
    assert session.stop == datetime(2026, 1, 1, 12, 30, tzinfo=UTC)


def test_stop_without_reason_means_local(station, card):
    transaction_id = start(station)["transactionId"]

    stop(station, transaction_id)

    assert ChargingSession.objects.get().stop_reason == "Local"


def test_stop_with_id_tag_answers_its_id_tag_info(station, card):
    card.parent_id_tag = "FLEET"
    card.save()
    transaction_id = start(station)["transactionId"]

    answer = stop(station, transaction_id, idTag="04A1B2C3")

    assert answer == {"idTagInfo": {"status": "Accepted", "parentIdTag": "FLEET"}}


def test_stop_stores_the_transaction_data_as_meter_values_of_the_session(station, card):
    transaction_id = start(station)["transactionId"]

    stop(
        station,
        transaction_id,
        transactionData=[
            {"timestamp": T0, "sampledValue": [{"value": "1000", "context": "Transaction.Begin"}]},
            {"timestamp": T2, "sampledValue": [{"value": "9000", "context": "Transaction.End"}]},
        ],
    )

    session = ChargingSession.objects.get(pk=transaction_id)
    assert list(session.meter_values.values_list("context", flat=True)) == [
        "Transaction.Begin",
        "Transaction.End",
    ]


def test_stop_of_an_unknown_transaction_is_answered_and_logged(station, card, caplog):
    answer = stop(station, 31337, idTag="04A1B2C3")

    assert answer == {"idTagInfo": {"status": "Accepted"}}
    assert any(r.levelname == "WARNING" and "31337" in r.getMessage() for r in caplog.records)


def test_retransmitted_stop_changes_nothing(station, card):
    transaction_id = start(station)["transactionId"]
    stop(station, transaction_id, reason="Remote")

    answer = stop(station, transaction_id, meterStop=12_000, timestamp=T1, reason="Other")

    session = ChargingSession.objects.get(pk=transaction_id)
    assert answer == {}
    assert (session.meter_stop, session.stop_reason) == (9000, "Remote")


def test_stop_enqueues_billing_once_committed(station, card, django_capture_on_commit_callbacks):
    transaction_id = start(station)["transactionId"]

    with mock.patch("billing.tasks.rate_session.delay") as rate_session:
        with django_capture_on_commit_callbacks() as callbacks:
            stop(station, transaction_id)
        rate_session.assert_not_called()
        # The commit: rating is one of its callbacks (live portal updates are others).
        for callback in callbacks:
            callback()

    rate_session.assert_called_once_with(transaction_id)


def test_stop_of_another_station_transaction_changes_nothing_of_the_outsider(station, other_org):
    outsider = ChargingSessionFactory(
        station=ChargingStationFactory(organization=other_org), transaction_id="4711"
    )

    answer = stop(station, 4711)

    outsider.refresh_from_db()
    assert answer == {}
    assert (outsider.state, outsider.meter_stop) == ("active", None)


# DataTransfer, diagnostics, firmware


def test_tc_064_data_transfer_of_an_unknown_vendor_is_answered_unknown_vendor_id_and_stored(
    station, vendor_registry
):
    answer = call(
        station, "DataTransfer", {"vendorId": "com.nobody", "messageId": "x", "data": "1"}
    )

    stored = StationDataTransfer.objects.get()
    assert answer == {"status": "UnknownVendorId"}
    assert (stored.vendor_id, stored.message_id, stored.data) == ("com.nobody", "x", "1")
    assert stored.status == "UnknownVendorId"


def test_data_transfer_of_a_registered_vendor_is_answered_by_its_handler(station, vendor_registry):
    def handle(station_, message_id, data):
        return DataTransferReply(status="Accepted", data=f"{station_.ocpp_id}:{message_id}:{data}")

    register_vendor_handler("com.example", handle)

    answer = call(
        station, "DataTransfer", {"vendorId": "COM.EXAMPLE", "messageId": "echo", "data": "hi"}
    )

    assert answer == {"status": "Accepted", "data": "CS-DEMO-1:echo:hi"}
    stored = StationDataTransfer.objects.get()
    assert (stored.status, stored.response_data) == ("Accepted", "CS-DEMO-1:echo:hi")


def test_data_transfer_with_a_message_id_the_vendor_does_not_know_is_unknown_message_id(
    station, vendor_registry
):
    def handle(station_, message_id, data):
        if message_id != "known":
            raise UnknownMessageId(message_id)
        return DataTransferReply()

    register_vendor_handler("com.example", handle)

    answer = call(station, "DataTransfer", {"vendorId": "com.example", "messageId": "other"})

    assert answer == {"status": "UnknownMessageId"}


def test_data_transfer_whose_vendor_handler_fails_is_rejected_not_an_error(
    station, vendor_registry
):
    def handle(station_, message_id, data):
        raise RuntimeError("bug in the extension")

    register_vendor_handler("com.example", handle)

    answer = call(station, "DataTransfer", {"vendorId": "com.example"})

    assert answer == {"status": "Rejected"}
    assert StationDataTransfer.objects.get().status == "Rejected"


def test_writes_of_a_failing_vendor_handler_are_taken_back_but_the_message_is_kept(
    station, vendor_registry
):
    def handle(station_, message_id, data):
        StatusEvent.objects.create(station=station_, status="Bogus", timestamp=datetime.now(UTC))
        raise RuntimeError("failed halfway")

    register_vendor_handler("com.example", handle)

    call(station, "DataTransfer", {"vendorId": "com.example"})

    assert not StatusEvent.objects.filter(status="Bogus").exists()
    assert StationDataTransfer.objects.get().status == "Rejected"


def test_tc_045_1_diagnostics_status_is_stored_on_the_station(station):
    answer = call(station, "DiagnosticsStatusNotification", {"status": "Uploading"})

    station.refresh_from_db()
    assert answer == {}
    assert station.diagnostics_status == "Uploading"
    assert station.diagnostics_status_at is not None


def test_tc_044_2_firmware_status_is_stored_on_the_station(station):
    answer = call(station, "FirmwareStatusNotification", {"status": "DownloadFailed"})

    station.refresh_from_db()
    assert answer == {}
    assert station.firmware_status == "DownloadFailed"
    assert station.firmware_status_at is not None


# OCPP timestamps


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        ("2026-01-01T12:00:00Z", datetime(2026, 1, 1, 12, 0, tzinfo=UTC)),
        ("2026-01-01T12:00:00.5Z", datetime(2026, 1, 1, 12, 0, 0, 500_000, tzinfo=UTC)),
        ("2026-01-01T12:00:00.123456789Z", datetime(2026, 1, 1, 12, 0, 0, 123_456, tzinfo=UTC)),
        ("2026-01-01T13:30:00+01:30", datetime(2026, 1, 1, 12, 0, tzinfo=UTC)),
        ("2026-01-01T07:00:00-0500", datetime(2026, 1, 1, 12, 0, tzinfo=UTC)),
        ("2026-01-01T12:00:00", datetime(2026, 1, 1, 12, 0, tzinfo=UTC)),
    ],
)
def test_ocpp_timestamps_are_parsed_to_aware_utc(sent, expected):
    parsed = parse_ocpp_datetime(sent)

    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize("sent", ["", "yesterday", "2026-01-01", "01.01.2026 12:00", 1767268800])
def test_malformed_timestamps_are_a_formation_violation(sent):
    with pytest.raises(FormationViolation):
        parse_ocpp_datetime(sent)


@pytest.mark.parametrize(
    "sent", ["2026-13-01T12:00:00Z", "2026-02-30T12:00:00Z", "2026-01-01T25:00:00Z"]
)
def test_impossible_timestamps_are_a_property_constraint_violation(sent):
    with pytest.raises(PropertyConstraintViolation):
        parse_ocpp_datetime(sent)


def test_timestamps_are_formatted_in_utc_with_milliseconds_and_z():
    berlin_noon = datetime(2026, 1, 1, 13, 0, 0, 987_654, tzinfo=timezone(timedelta(hours=1)))

    assert format_ocpp_datetime(berlin_noon) == "2026-01-01T12:00:00.987Z"


def writes_meter_rows(sql: str) -> bool:
    """Whether a statement writes rows into the meter-value table itself."""
    return sql.startswith('COPY "sessions_app_metervalue" (') or (
        'INTO "sessions_app_metervalue" (' in sql
    )
