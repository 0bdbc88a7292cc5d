"""Station connection lifecycle: authenticate the handshake, track online state."""

import base64
import binascii
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from stations.choices import ConnectionState, RegistrationStatus, SecurityProfile
from stations.models import ChargingStation

logger = logging.getLogger(__name__)

# last_seen is written at most this often per connection: every message would be a DB write.
LAST_SEEN_RESOLUTION = timedelta(seconds=15)


@dataclass(frozen=True, slots=True)
class Credentials:
    """Username and password from an HTTP Basic Authorization header."""

    username: str
    password: str


class HandshakeRefused(Exception):
    """The station may not connect; the message says why (for the log, not the station)."""


def parse_basic_auth(header_value: bytes | None) -> Credentials | None:
    """Read `Authorization: Basic …`; None when absent or not Basic."""
    if not header_value:
        return None
    scheme, _, encoded = header_value.decode("latin-1").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise HandshakeRefused("malformed Basic authorization header") from None
    username, sep, password = decoded.partition(":")
    if not sep:
        raise HandshakeRefused("Basic authorization without a colon")
    return Credentials(username, password)


def authenticate_station(identity: str, credentials: Credentials | None) -> ChargingStation:
    """Return the station allowed to connect as `identity`, or raise HandshakeRefused."""
    if credentials is not None and credentials.username != identity:
        raise HandshakeRefused(f"Basic auth username {credentials.username!r} is not the identity")
    station = (
        ChargingStation.objects.select_related("organization", "site")
        .filter(ocpp_id=identity)
        .first()
    )
    if station is None:
        return _register_unknown(identity, credentials)
    if station.security_profile == SecurityProfile.NONE:
        return station
    # Profiles 1 and 2 both authenticate with Basic auth (TLS of profile 2 ends at the proxy);
    # profile 3 authenticates with a client certificate the proxy verifies.
    if station.security_profile == SecurityProfile.TLS_CLIENT_CERT:
        return station
    if credentials is None:
        raise HandshakeRefused("no Basic auth credentials but the security profile requires them")
    if not station.check_password(credentials.password):
        raise HandshakeRefused("wrong Basic auth password")
    return station


def _register_unknown(identity: str, credentials: Credentials | None) -> ChargingStation:
    if settings.OCPP_UNKNOWN_STATIONS != "register":
        raise HandshakeRefused("unknown identity")
    station = ChargingStation(
        ocpp_id=identity,
        organization=None,
        registration_status=RegistrationStatus.PENDING,
        security_profile=SecurityProfile.BASIC if credentials else SecurityProfile.NONE,
        heartbeat_interval=settings.OCPP_DEFAULT_HEARTBEAT_INTERVAL,
    )
    if credentials:
        # Trust on first use: the password it came with is the one it must keep using.
        station.set_password(credentials.password)
    try:
        with transaction.atomic():
            station.save()
    except IntegrityError:
        # Two first connections raced; the other one registered it.
        return authenticate_station(identity, credentials)
    logger.info("registered unknown station %s in the unassigned pool", identity)
    return station


def mark_connected(station: ChargingStation, version: str, remote_address: str) -> datetime:
    """Record that the station holds a connection now; returns the connection's start time."""
    now = timezone.now()
    ChargingStation.objects.filter(pk=station.pk).update(
        connection_state=ConnectionState.ONLINE,
        connected_since=now,
        last_seen=now,
        ocpp_version=version,
        remote_address=remote_address[:64],
        updated=now,
    )
    station.connection_state = ConnectionState.ONLINE
    station.connected_since = station.last_seen = now
    station.ocpp_version = version
    station.remote_address = remote_address[:64]
    return now


def mark_disconnected(station_id: int, connected_since: datetime) -> bool:
    """Mark the station offline unless a newer connection has replaced this one."""
    now = timezone.now()
    return bool(
        ChargingStation.objects.filter(pk=station_id, connected_since=connected_since).update(
            connection_state=ConnectionState.OFFLINE, last_seen=now, updated=now
        )
    )


def touch_last_seen(station_id: int, when: datetime) -> None:
    """Keep last_seen current."""
    ChargingStation.objects.filter(pk=station_id).update(last_seen=when)


def is_accepted(station: ChargingStation) -> bool:
    """Whether the station may send more than BootNotification (assigned and accepted)."""
    return (
        station.organization_id is not None
        and station.registration_status == RegistrationStatus.ACCEPTED
    )
