"""Every frame gets an answer; a bad frame gets the right CallError and the socket stays open."""

import json
from unittest import mock

import pytest

from ocpp_gateway.messagelog import message_log
from ocpp_gateway.models import OcppMessage
from tests.factories import ChargingStationFactory
from tests.ocpp_gateway.conftest import open_socket, raw_exchange

BOOT = {"chargePointVendor": "ACME", "chargePointModel": "Wallbox X"}


@pytest.fixture
async def ws(ocpp_server, db_call, org):
    await db_call(ChargingStationFactory, organization=org, ocpp_id="CS-ROBUST")
    socket = await open_socket(ocpp_server, "CS-ROBUST")
    yield socket
    await socket.close()


async def assert_still_usable(ws):
    answer = await raw_exchange(ws, [2, "still-there", "Heartbeat", {}])
    assert answer[:2] == [3, "still-there"]


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        ("{not json", [4, "-1", "FormationViolation"]),
        ('{"an": "object"}', [4, "-1", "FormationViolation"]),
        ("[2]", [4, "-1", "FormationViolation"]),
        ('[9, "u1", "Heartbeat", {}]', [4, "u1", "ProtocolError"]),
        ('[2, 17, "Heartbeat", {}]', [4, "-1", "ProtocolError"]),
        ('[2, "u2", "Heartbeat"]', [4, "u2", "ProtocolError"]),
        ('[2, "u3", "Heartbeat", []]', [4, "u3", "FormationViolation"]),
        ('[2, "u4", "", {}]', [4, "u4", "ProtocolError"]),
    ],
)
async def test_a_malformed_frame_gets_a_callerror_and_the_socket_stays_usable(ws, frame, expected):
    answer = await raw_exchange(ws, frame)
    assert answer[:3] == expected
    assert answer[3], "the error carries a description"
    await assert_still_usable(ws)


async def test_an_unknown_action_gets_notimplemented(ws):
    answer = await raw_exchange(ws, [2, "u1", "MakeCoffee", {}])
    assert answer[:3] == [4, "u1", "NotImplemented"]
    await assert_still_usable(ws)


async def test_a_csms_to_station_action_sent_by_a_station_gets_notsupported(ws):
    answer = await raw_exchange(ws, [2, "u1", "RemoteStartTransaction", {"idTag": "04AA"}])
    assert answer[:3] == [4, "u1", "NotSupported"]
    await assert_still_usable(ws)


@pytest.mark.parametrize(
    ("action", "payload", "code"),
    [
        ("BootNotification", {"chargePointVendor": "ACME"}, "OccurenceConstraintViolation"),
        ("BootNotification", {**BOOT, "extra": 1}, "FormationViolation"),
        ("BootNotification", {**BOOT, "chargePointModel": "M" * 21}, "TypeConstraintViolation"),
        (
            "StatusNotification",
            {"connectorId": "1", "errorCode": "NoError", "status": "Available"},
            "TypeConstraintViolation",
        ),
        (
            "StatusNotification",
            {"connectorId": 1, "errorCode": "NoError", "status": "Sleeping"},
            "PropertyConstraintViolation",
        ),
        (
            "StartTransaction",
            {"connectorId": 1, "idTag": "04AA", "meterStart": 0, "timestamp": "yesterday"},
            "PropertyConstraintViolation",
        ),
    ],
)
async def test_a_schema_invalid_payload_gets_the_matching_1_6_error_code(ws, action, payload, code):
    answer = await raw_exchange(ws, [2, "bad", action, payload])
    assert answer[:3] == [4, "bad", code]
    await assert_still_usable(ws)


async def test_an_oversized_frame_is_answered_with_formationviolation(ws, settings):
    settings.OCPP_MAX_FRAME_BYTES = 2048
    frame = json.dumps([2, "big", "DataTransfer", {"vendorId": "ACME", "data": "x" * 4000}])
    answer = await raw_exchange(ws, frame)
    assert answer[:3] == [4, "big", "FormationViolation"]
    await assert_still_usable(ws)


async def test_a_binary_frame_is_answered_with_formationviolation(ws):
    await ws.send(b"\x00\x01")
    answer = json.loads(await ws.recv())
    assert answer[:3] == [4, "-1", "FormationViolation"]
    await assert_still_usable(ws)


async def test_a_handler_that_raises_answers_internalerror_and_is_logged(ws, caplog):
    from ocpp_gateway.v16 import handlers

    with mock.patch.dict(
        handlers.HANDLERS, {"Heartbeat": mock.Mock(side_effect=RuntimeError("boom"))}
    ):
        answer = await raw_exchange(ws, [2, "h1", "Heartbeat", {}])
    assert answer[:3] == [4, "h1", "InternalError"]
    assert "CS-ROBUST: handler of Heartbeat failed" in caplog.text
    assert "boom" in caplog.text
    await assert_still_usable(ws)


async def test_an_invalid_answer_of_ours_becomes_internalerror_not_a_bad_frame(ws, caplog):
    from ocpp_gateway.v16 import handlers

    with mock.patch.dict(handlers.HANDLERS, {"Heartbeat": lambda station, payload: {"nope": 1}}):
        answer = await raw_exchange(ws, [2, "h2", "Heartbeat", {}])
    assert answer[:3] == [4, "h2", "InternalError"]
    assert "breaks the schema" in caplog.text


async def test_every_frame_in_and_out_lands_in_the_message_log(ws, db_call):
    await raw_exchange(ws, [2, "log-1", "Heartbeat", {}])
    await raw_exchange(ws, "{broken")
    await message_log.flush()
    rows = await db_call(
        lambda: list(
            OcppMessage.objects.filter(ocpp_id="CS-ROBUST")
            .order_by("id")
            .values_list("direction", "message_type", "action", "unique_id", "raw")
        )
    )
    assert rows[0] == ("in", 2, "Heartbeat", "log-1", "")
    assert rows[1][:4] == ("out", 3, "Heartbeat", "log-1")
    assert rows[2][0] == "in" and rows[2][4] == "{broken"
    assert rows[3][:2] == ("out", 4)


async def test_the_message_log_can_be_switched_off_per_station(ocpp_server, db_call, org):
    await db_call(
        ChargingStationFactory, organization=org, ocpp_id="CS-QUIET", message_log_enabled=False
    )
    socket = await open_socket(ocpp_server, "CS-QUIET")
    await raw_exchange(socket, [2, "q", "Heartbeat", {}])
    await socket.close()
    await message_log.flush()
    assert await db_call(OcppMessage.objects.filter(ocpp_id="CS-QUIET").count) == 0


async def test_the_message_log_can_be_switched_off_globally(ws, db_call, settings):
    settings.OCPP_MESSAGE_LOG_ENABLED = False
    await raw_exchange(ws, [2, "g", "Heartbeat", {}])
    await message_log.flush()
    assert await db_call(OcppMessage.objects.filter(unique_id="g").count) == 0


def test_the_retention_task_deletes_only_messages_older_than_the_retention(org, settings):
    from datetime import timedelta

    from django.utils import timezone

    from ocpp_gateway.tasks import purge_message_log

    settings.OCPP_MESSAGE_LOG_RETENTION_DAYS = 7
    now = timezone.now()
    old = OcppMessage.objects.create(ocpp_id="x", direction="in", created=now - timedelta(days=8))
    fresh = OcppMessage.objects.create(ocpp_id="x", direction="in", created=now - timedelta(days=6))
    assert purge_message_log() == 1
    assert not OcppMessage.objects.filter(pk=old.pk).exists()
    assert OcppMessage.objects.filter(pk=fresh.pk).exists()


@pytest.fixture
async def ws201(ocpp_server, db_call, org):
    await db_call(ChargingStationFactory, organization=org, ocpp_id="CS-ROBUST-201")
    socket = await open_socket(ocpp_server, "CS-ROBUST-201", subprotocols=("ocpp2.0.1",))
    yield socket
    await socket.close()


BOOT_201 = {"chargingStation": {"model": "M", "vendorName": "ACME"}, "reason": "PowerUp"}


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        # OCPP-J 2.0.1 names: FormatViolation, MessageTypeNotSupported, OccurrenceConstraint…
        ("{not json", [4, "-1", "FormatViolation"]),
        ('[9, "u1", "Heartbeat", {}]', [4, "u1", "MessageTypeNotSupported"]),
        ('[2, "u3", "Heartbeat", []]', [4, "u3", "FormatViolation"]),
        ('[2, "u5", "MakeCoffee", {}]', [4, "u5", "NotImplemented"]),
        ('[2, "u6", "RequestStartTransaction", {}]', [4, "u6", "NotSupported"]),
        (
            json.dumps([2, "u7", "BootNotification", {"reason": "PowerUp"}]),
            [4, "u7", "OccurrenceConstraintViolation"],
        ),
        (
            json.dumps([2, "u8", "BootNotification", {**BOOT_201, "reason": "Bored"}]),
            [4, "u8", "PropertyConstraintViolation"],
        ),
    ],
)
async def test_a_bad_201_frame_gets_the_callerror_spelled_as_201_spells_it(ws201, frame, expected):
    answer = await raw_exchange(ws201, frame)
    assert answer[:3] == expected
    assert answer[3], "the error carries a description"
    booted = await raw_exchange(ws201, [2, "boot", "BootNotification", BOOT_201])
    assert booted[:2] == [3, "boot"]
