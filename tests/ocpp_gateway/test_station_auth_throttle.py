"""Station password guessing is throttled per address and per identity, never locking out the
real station, and logged as a summary rather than a line per attempt."""

import logging

import pytest
import websockets

from ocpp_gateway.connections import (
    Credentials,
    Handshake,
    HandshakeRefused,
    HandshakeThrottled,
    open_connections,
)
from ocpp_gateway.throttle import AuthThrottle, auth_throttle
from tests.factories import STATION_PASSWORD, ChargingStationFactory
from tests.ocpp_gateway.conftest import basic_auth

ATTACKER, ELSEWHERE = "203.0.113.7", "198.51.100.2"


@pytest.fixture
def limits(settings):
    settings.OCPP_AUTH_FAILURES_PER_ADDRESS = 3
    settings.OCPP_AUTH_FAILURES_PER_STATION = 100
    settings.OCPP_AUTH_COOLING_SECONDS = 300
    return settings


def attempt(station, password, address):
    credentials = Credentials(station.ocpp_id, password)
    [outcome] = open_connections(
        [Handshake(station.ocpp_id, credentials, "ocpp1.6", f"{address}:40000")]
    )
    return outcome


def is_connected(outcome) -> bool:
    return not isinstance(outcome, HandshakeRefused)


def test_an_address_past_its_failure_limit_is_throttled_even_with_the_right_password(org, limits):
    station = ChargingStationFactory(organization=org)

    failures = [attempt(station, "guess", ATTACKER) for _ in range(3)]
    after = attempt(station, STATION_PASSWORD, ATTACKER)

    assert all(type(f) is not HandshakeThrottled and not is_connected(f) for f in failures)
    assert isinstance(after, HandshakeThrottled)
    assert after.retry_after == 300


def test_the_real_station_from_another_address_connects_during_a_flood(org, limits):
    station = ChargingStationFactory(organization=org)
    limits.OCPP_AUTH_FAILURES_PER_STATION = 5
    for _ in range(50):
        attempt(station, "guess", ATTACKER)

    assert is_connected(attempt(station, STATION_PASSWORD, ELSEWHERE))


def test_a_station_under_attack_gives_each_further_guessing_address_one_guess(org, limits):
    limits.OCPP_AUTH_FAILURES_PER_ADDRESS = 100
    limits.OCPP_AUTH_FAILURES_PER_STATION = 2
    station = ChargingStationFactory(organization=org)
    for n in range(3):
        attempt(station, "guess", f"192.0.2.{n}")

    # Past the station's limit every address that fails on it cools down at once...
    assert not isinstance(attempt(station, "guess", "192.0.2.50"), HandshakeThrottled)
    assert isinstance(attempt(station, STATION_PASSWORD, "192.0.2.50"), HandshakeThrottled)
    # ...while the right password from an address that did not fail still connects.
    assert is_connected(attempt(station, STATION_PASSWORD, ELSEWHERE))


def test_counts_are_shared_through_the_cache_by_every_process(org, limits):
    station = ChargingStationFactory(organization=org)
    for _ in range(3):
        attempt(station, "guess", ATTACKER)
    # Another gateway process: its own throttle object, the same cache.
    other_process = AuthThrottle()
    other_process._namespace = auth_throttle._namespace

    assert other_process.cooling({ATTACKER, ELSEWHERE}) == {ATTACKER}


def test_a_flood_logs_its_first_failure_and_then_one_summary(org, limits, caplog):
    caplog.set_level(logging.INFO)
    station = ChargingStationFactory(organization=org)

    for _ in range(1000):
        attempt(station, "guess", ATTACKER)
    auth_throttle.log_summary()

    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 2, lines
    assert "wrong Basic auth password" in lines[0] and ATTACKER in lines[0]
    assert "3 failed and 997 refused (429) handshakes from 1 addresses" in lines[1]
    assert station.ocpp_id in lines[1]


def test_an_unreachable_cache_lets_stations_in_and_still_logs_no_line_per_attempt(
    org, limits, monkeypatch, caplog
):
    from django.core.cache import cache

    calls = []

    def unreachable(*args, **kwargs):
        calls.append(args)
        raise ConnectionError("cache down")

    station = ChargingStationFactory(organization=org)
    monkeypatch.setattr(cache, "get_many", unreachable)
    monkeypatch.setattr(cache, "add", unreachable)

    failures = [attempt(station, "guess", ATTACKER) for _ in range(50)]

    assert not any(is_connected(f) or isinstance(f, HandshakeThrottled) for f in failures)
    assert is_connected(attempt(station, STATION_PASSWORD, ATTACKER))
    per_attempt = [r for r in caplog.records if "station authentication failed" in r.getMessage()]
    assert len(per_attempt) == 1
    # A cache that times out is asked once per retry period, not at every handshake batch:
    # these calls hold the gateway's database thread.
    assert len(calls) == 1


async def handshake_status(base_url, identity, password, address) -> int:
    """The status of a handshake that the trusted proxy (loopback) says came from `address`."""
    try:
        ws = await websockets.connect(
            f"{base_url}/ocpp/{identity}",
            subprotocols=["ocpp1.6"],
            additional_headers={**basic_auth(identity, password), "X-Forwarded-For": address},
            open_timeout=5,
        )
    except websockets.InvalidStatus as refused:
        if refused.response.status_code == 429:
            assert refused.response.headers["Retry-After"] == "300"
        return refused.response.status_code
    await ws.close()
    return 101


async def test_at_the_socket_wrong_passwords_get_403_then_429_and_the_real_station_connects(
    ocpp_server, db_call, org, limits, caplog
):
    station = await db_call(ChargingStationFactory, organization=org, ocpp_id="CS-TARGET")

    statuses = [
        await handshake_status(ocpp_server, "CS-TARGET", f"guess-{n}", ATTACKER) for n in range(6)
    ]
    right_password_from_attacker = await handshake_status(
        ocpp_server, "CS-TARGET", STATION_PASSWORD, ATTACKER
    )

    assert statuses == [403, 403, 403, 429, 429, 429]
    assert right_password_from_attacker == 429
    assert len([r for r in caplog.records if "CS-TARGET" in r.getMessage()]) == 1
    # The real station, from its own address, is not locked out.
    assert await handshake_status(ocpp_server, station.ocpp_id, STATION_PASSWORD, ELSEWHERE) == 101
