"""Hostile frames (deep nesting, NUL, lone surrogates) get a CallError; the socket and log stay."""

import json

import pytest

from ocpp_gateway.messagelog import message_log
from ocpp_gateway.models import OcppMessage
from stations.models import ChargingStation
from tests.factories import ChargingStationFactory
from tests.ocpp_gateway.conftest import open_socket, raw_exchange

BOOT = '{"chargePointVendor": "%s", "chargePointModel": "Wallbox X"}'


@pytest.fixture
async def ws(ocpp_server, db_call, org):
    await db_call(ChargingStationFactory, organization=org, ocpp_id="CS-HOSTILE")
    socket = await open_socket(ocpp_server, "CS-HOSTILE")
    yield socket
    await socket.close()


async def assert_still_usable(ws):
    answer = await raw_exchange(ws, [2, "still-there", "Heartbeat", {}])
    assert answer[:2] == [3, "still-there"]


def nested(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


@pytest.mark.parametrize(
    "frame",
    [
        # Under 1 KB each; the schema validator raised "Recursion limit reached" on these.
        '[2, "deep", "DataTransfer", {"vendorId": "ACME", "data": ' + nested(300) + "}]",
        '[2, "deep", "Heartbeat", {"x": ' + nested(300) + "}]",
        '[2, "deep", "Heartbeat", {"x": ' + '{"a":' * 150 + "1" + "}" * 150 + "}]",
    ],
)
async def test_a_deeply_nested_payload_gets_formationviolation_and_the_socket_stays(ws, frame):
    assert len(frame.encode()) < 1024

    answer = await raw_exchange(ws, frame)

    assert answer[:3] == [4, "deep", "FormationViolation"]
    assert "nested deeper" in answer[3]
    await assert_still_usable(ws)


@pytest.mark.parametrize(
    "frame",
    [
        '[2, "nul", "BootNotification", %s]' % (BOOT % "AC\\u0000ME"),
        '[2, "nul", "BootNotification", %s]' % (BOOT % "AC\\ud800ME"),
        '[2, "nul", "BootNotification", %s]' % (BOOT % "AC\\udfffME"),
        '[2, "nul", "DataTransfer", {"vendorId": "ACME", "data": "x\\u0000y"}]',
        '[2, "nul", "DataTransfer", {"vendorId": "ACME", "data\\u0000": "x"}]',
        '[2, "nul", "Heart\\u0000beat", {}]',
    ],
)
async def test_a_nul_or_lone_surrogate_in_a_string_gets_propertyconstraintviolation(ws, frame):
    answer = await raw_exchange(ws, frame)

    assert answer[:3] == [4, "nul", "PropertyConstraintViolation"]
    await assert_still_usable(ws)


async def test_a_valid_surrogate_pair_is_an_ordinary_character(ws, db_call):
    # "\ud83d\udd0c" is one character (a plug) spelt as a pair: nothing hostile about it.
    answer = await raw_exchange(ws, '[2, "ok", "BootNotification", %s]' % (BOOT % "\\ud83d\\udd0c"))

    assert answer[:2] == [3, "ok"]
    vendor = await db_call(
        lambda: ChargingStation.objects.values_list("vendor", flat=True).get(ocpp_id="CS-HOSTILE")
    )
    assert vendor == "\U0001f50c"


@pytest.mark.parametrize("unique_id", ["a\\u0000b", "a\\ud800b", "line\\r\\nbreak"])
async def test_a_hostile_unique_id_gets_protocolerror_under_the_unknown_id(ws, unique_id):
    answer = await raw_exchange(ws, '[2, "' + unique_id + '", "Heartbeat", {}]')

    assert answer[:3] == [4, "-1", "ProtocolError"]
    await assert_still_usable(ws)


async def test_hostile_frames_and_every_other_frame_of_the_flush_reach_the_message_log(
    ocpp_server, ws, db_call, org
):
    await db_call(ChargingStationFactory, organization=org, ocpp_id="CS-NEIGHBOUR")
    neighbour = await open_socket(ocpp_server, "CS-NEIGHBOUR")
    await raw_exchange(ws, '[2, "h1", "DataTransfer", {"vendorId": "A", "data": "x\\u0000y"}]')
    # A raw NUL outside any string is no JSON at all: kept as raw text, escaped.
    await raw_exchange(ws, '[2, "h2", "Heartbeat", {}]\x00')
    await raw_exchange(neighbour, [2, "n1", "Heartbeat", {}])
    await neighbour.close()

    await message_log.flush()

    rows = await db_call(
        lambda: list(
            OcppMessage.objects.order_by("id").values_list(
                "ocpp_id", "direction", "unique_id", "raw"
            )
        )
    )
    hostile = [r for r in rows if r[0] == "CS-HOSTILE"]
    assert ("CS-HOSTILE", "in", "h1") in [r[:3] for r in hostile]
    assert any(
        r[3] == '[2, "h1", "DataTransfer", {"vendorId": "A", "data": "x\\u0000y"}]' for r in hostile
    )
    assert any(r[3] == '[2, "h2", "Heartbeat", {}]\\x00' for r in hostile)
    assert [r[:3] for r in rows if r[0] == "CS-NEIGHBOUR"] == [
        ("CS-NEIGHBOUR", "in", "n1"),
        ("CS-NEIGHBOUR", "out", "n1"),
    ]


async def test_one_unstorable_row_never_costs_the_other_rows_of_a_message_log_flush(
    ocpp_server, db_call, org
):
    station = await db_call(ChargingStationFactory, organization=org, ocpp_id="CS-AUDIT")
    message_log.record(station, "in", 2, "Heartbeat", "good-1", {})
    # No frame the gateway parses carries these any more; the log must survive them anyway.
    message_log.record(station, "in", 2, "Heart\ud800beat", "bad-action", {})
    message_log.record(station, "in", 2, "DataTransfer", "bad-payload", {"data": "x\x00\ud800"})
    message_log.record(station, "in", None, "", "bad-raw", None, raw="[2, \x00\ud800")
    message_log.record(station, "out", 3, "Heartbeat", "good-2", {})

    assert await message_log.flush() == 5

    rows = await db_call(
        lambda: {
            unique_id: (action, payload, raw)
            for unique_id, action, payload, raw in OcppMessage.objects.filter(
                ocpp_id="CS-AUDIT"
            ).values_list("unique_id", "action", "payload", "raw")
        }
    )
    assert set(rows) == {"good-1", "bad-action", "bad-payload", "bad-raw", "good-2"}
    assert rows["good-1"] == ("Heartbeat", {}, "")
    assert rows["bad-action"][0] == "Heart\\ud800beat"
    assert rows["bad-raw"][2] == "[2, \\x00\\ud800"
    # Kept as it came, escaped: SQLite stores the payload as is, PostgreSQL needs the escape.
    bad_payload = rows["bad-payload"]
    assert bad_payload[1] == {"data": "x\x00\ud800"} or (
        bad_payload[1] is None and json.loads(bad_payload[2]) == {"data": "x\x00\ud800"}
    )
