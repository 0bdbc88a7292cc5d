"""Junk at the WebSocket handshake is a 4xx and one escaped log line, never a 500 or a station."""

import logging
from urllib.parse import unquote

import pytest
import websockets

from stations.models import ChargingStation
from tests.ocpp_gateway.conftest import basic_auth


@pytest.fixture
def all_logs(caplog):
    """caplog, plus uvicorn's own loggers (they do not propagate to the root logger)."""
    caplog.set_level(logging.INFO)
    uvicorn_logger = logging.getLogger("uvicorn")
    uvicorn_logger.addHandler(caplog.handler)
    yield caplog
    uvicorn_logger.removeHandler(caplog.handler)


async def handshake_status(base_url, path, username="X") -> int:
    """The HTTP status the server answers a station's handshake to `path` with."""
    try:
        ws = await websockets.connect(
            f"{base_url}{path}",
            subprotocols=["ocpp1.6"],
            additional_headers=basic_auth(username, "whatever-password"),
            open_timeout=5,
        )
    except websockets.InvalidStatus as refused:
        return refused.response.status_code
    await ws.close()
    return 101


@pytest.mark.parametrize(
    "path",
    [
        "/ocpp/X%00",
        "/ocpp/",
        "/ocpp/%0d%0aFAKE%20refused%20nothing",
        "/ocpp/" + "A" * 49,
        "/ocpp/CS%zz",
        "/ocpp/CS%ff",
        "/ocpp/CS%07bell",
        "/ocpp/%E2%80%AEevil",
        "/nowhere/at/all",
    ],
)
async def test_a_junk_handshake_is_a_4xx_with_one_escaped_log_line(
    ocpp_server, all_logs, settings, db_call, path
):
    # With registration on, junk that got through would even become a station.
    settings.OCPP_UNKNOWN_STATIONS = "register"
    # The username a lenient decoding of the path would make of it: no refusal for a mismatch.
    username = unquote(path.rsplit("/", 1)[-1])

    status = await handshake_status(ocpp_server, path, username)

    assert 400 <= status < 500
    lines = [r for r in all_logs.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1, [r.getMessage() for r in lines]
    assert lines[0].exc_info is None, "no traceback"
    message = lines[0].getMessage()
    assert message.isprintable(), repr(message)
    assert await db_call(ChargingStation.objects.count) == 0


async def test_a_forged_log_line_in_the_path_stays_on_one_escaped_line(ocpp_server, all_logs):
    status = await handshake_status(ocpp_server, "/ocpp/X%0d%0aWARNING%20forged")

    assert status == 400
    [line] = [r.getMessage() for r in all_logs.records if r.levelno >= logging.WARNING]
    assert "\n" not in line and "\r" not in line
    assert "X%0d%0aWARNING%20forged" in line


async def test_a_percent_encoded_slash_still_belongs_to_the_identity(ocpp_server, settings):
    settings.OCPP_UNKNOWN_STATIONS = "register"
    # The identity "a/b" is legal (stations use it); only control characters are junk.
    assert await handshake_status(ocpp_server, "/ocpp/a%2Fb", username="a/b") == 101
