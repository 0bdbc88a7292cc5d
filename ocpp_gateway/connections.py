"""Station connection lifecycle: authenticate the handshake, track online state."""

import asyncio
import base64
import binascii
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connections, transaction
from django.utils import timezone

from core.bulk import insert_rows, update_from_values
from core.events import emit_many
from ocpp_gateway.dbworker import background_db
from ocpp_gateway.throttle import auth_throttle
from stations.choices import ConnectionState, RegistrationStatus, SecurityProfile
from stations.events import (
    STATION_CONNECTED,
    STATION_CONNECTION_REFUSED,
    STATION_DISCONNECTED,
)
from stations.models import ChargingStation, ConnectionEvent

logger = logging.getLogger(__name__)

# last_seen is written at most this often, for all stations heard from at once: one UPDATE per
# message would be the gateway's busiest write.
LAST_SEEN_RESOLUTION = timedelta(seconds=15)
# Stations whose password this process verified lately; a reconnect then costs an HMAC, not
# a key derivation (a reconnect storm is 20,000 of them).
_VERIFIED_LIMIT = 100_000
_verified_key = secrets.token_bytes(32)
_verified: dict[int, tuple[str, bytes]] = {}


@dataclass(frozen=True, slots=True)
class Credentials:
    """Username and password from an HTTP Basic Authorization header."""

    username: str
    password: str
    # Why the header could not be read: a failed guess like a wrong password, refused there.
    problem: str = ""


# authenticate_station looks the station up itself unless the caller already did.
_LOOK_UP = object()


class HandshakeRefused(Exception):
    """The station may not connect; the message says why (for the log, not the station)."""


class WrongCredentials(HandshakeRefused):
    """A password (or its absence) failed for a known station: a guess, counted per identity."""


class HandshakeThrottled(HandshakeRefused):
    """The client address is cooling down after too many failures: answered 429 unchecked."""

    def __init__(self, retry_after: int):
        super().__init__("too many failed handshakes from this address")
        self.retry_after = retry_after


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
        return Credentials("", "", problem="malformed Basic authorization header")
    username, sep, password = decoded.partition(":")
    if not sep:
        return Credentials("", "", problem="Basic authorization without a colon")
    return Credentials(username, password)


def authenticate_station(
    identity: str, credentials: Credentials | None, station: ChargingStation | None = _LOOK_UP
) -> ChargingStation:
    """Return the station allowed to connect as `identity`, or raise HandshakeRefused."""
    if credentials is not None and credentials.problem:
        raise WrongCredentials(credentials.problem)
    if credentials is not None and credentials.username != identity:
        raise WrongCredentials(
            f"Basic auth username {credentials.username[:60]!r} is not the identity"
        )
    if station is _LOOK_UP:
        station = ChargingStation.objects.filter(ocpp_id=identity).first()
    if station is None:
        return _register_unknown(identity, credentials)
    if station.security_profile == SecurityProfile.NONE:
        return station
    # Profiles 1 and 2 both authenticate with Basic auth (TLS of profile 2 ends at the proxy);
    # profile 3 authenticates with a client certificate the proxy verifies.
    if station.security_profile == SecurityProfile.TLS_CLIENT_CERT:
        return station
    if credentials is None:
        raise WrongCredentials("no Basic auth credentials but the security profile requires them")
    if not _password_matches(station, credentials.password):
        raise WrongCredentials("wrong Basic auth password")
    return station


def _password_matches(station: ChargingStation, password: str) -> bool:
    """Check the password, remembering it (keyed, per process) once it was verified."""
    digest = hmac.digest(_verified_key, password.encode(), hashlib.sha256)
    known = _verified.get(station.pk)
    if known is not None and known[0] == station.password_hash:
        # Only one password matches an unchanged hash: any other digest is a wrong password.
        return hmac.compare_digest(known[1], digest)
    if not station.check_password(password):
        return False
    if len(_verified) >= _VERIFIED_LIMIT:
        _verified.clear()
    _verified[station.pk] = (station.password_hash, digest)
    return True


@dataclass(frozen=True, slots=True)
class Handshake:
    """A station's WebSocket handshake, as the consumer saw it."""

    identity: str
    credentials: Credentials | None
    version: str
    remote_address: str
    # The gateway process that will hold the socket (its lease vouches for the online state).
    holder: str = ""


def open_connections(
    handshakes: list[Handshake],
) -> list[tuple[ChargingStation, datetime] | HandshakeRefused]:
    """Authenticate many handshakes and mark the stations online, with a few queries in all."""
    # One cache round trip for the batch; an address cooling down costs no password hash.
    cooling = auth_throttle.cooling({_address_of(h) for h in handshakes})
    known = {
        station.ocpp_id: station
        # No related rows: a connection holds its station for days, and 20,000 of them each
        # with its own organization and site instance cost memory for nothing.
        for station in ChargingStation.objects.filter(ocpp_id__in={h.identity for h in handshakes})
    }
    now = timezone.now()
    outcomes, online, refused = [], [], []
    for handshake in handshakes:
        if cooling and _address_of(handshake) in cooling:
            auth_throttle.refused(_address_of(handshake), handshake.identity)
            outcomes.append(HandshakeThrottled(settings.OCPP_AUTH_COOLING_SECONDS))
            continue
        try:
            station = authenticate_station(
                handshake.identity, handshake.credentials, known.get(handshake.identity)
            )
        except HandshakeRefused as refusal:
            auth_throttle.failed(
                _address_of(handshake),
                handshake.identity,
                str(refusal),
                guessed_password=isinstance(refusal, WrongCredentials),
            )
            outcomes.append(refusal)
            refused.append((handshake, known.get(handshake.identity), refusal))
            continue
        remote_address = handshake.remote_address[:64]
        station.connection_state = ConnectionState.ONLINE
        station.connected_since = station.last_seen = now
        station.ocpp_version, station.remote_address = handshake.version, remote_address
        station.gateway_process = handshake.holder
        online.append(
            (
                station.pk,
                ConnectionState.ONLINE,
                now,
                handshake.version,
                remote_address,
                handshake.holder,
            )
        )
        outcomes.append((station, now))
    update_from_values(
        ChargingStation,
        [
            ("id", "bigint"),
            ("state", "varchar"),
            ("since", "timestamptz"),
            ("version", "varchar"),
            ("remote", "varchar"),
            ("holder", "varchar"),
        ],
        online,
        "connection_state = v.state, connected_since = v.since, last_seen = v.since, "
        "ocpp_version = v.version, remote_address = v.remote, gateway_process = v.holder, "
        "updated = v.since",
    )
    insert_rows(
        ConnectionEvent,
        ("station_id", "state", "at"),
        [(row[0], ConnectionState.ONLINE, now) for row in online],
    )
    emit_many(
        STATION_CONNECTED,
        (
            {"organization_id": o[0].organization_id, "station_id": o[0].pk}
            for o in outcomes
            if not isinstance(o, HandshakeRefused)
        ),
    )
    emit_many(
        STATION_CONNECTION_REFUSED,
        (
            {
                "organization_id": station.organization_id if station else None,
                "station_id": station.pk if station else None,
                # An identity is whatever a client put in the URL: kept short for the alert.
                "identity": handshake.identity[:64],
                "reason": "wrong_credentials"
                if isinstance(refusal, WrongCredentials)
                else "unknown_identity"
                if station is None
                else "refused",
            }
            for handshake, station, refusal in refused
            # A throttled address is refused unchecked: its guesses were reported already.
            if not isinstance(refusal, HandshakeThrottled)
        ),
    )
    return outcomes


def _address_of(handshake: Handshake) -> str:
    """The client's host without the port: the unit failures are counted by."""
    return handshake.remote_address.rsplit(":", 1)[0]


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


def mark_many_disconnected(closed: list[tuple[int, datetime]]) -> list[None]:
    """Mark stations offline unless a newer connection replaced the one that closed."""
    _mark_offline(closed, seen=True)
    return [None] * len(closed)


def mark_stations_offline(closed: list[tuple[int, datetime]]) -> None:
    """Mark offline the stations whose socket vanished unnoticed; last_seen stays as it was."""
    # Their process died or lost track of them: nothing was seen of them now.
    for start in range(0, len(closed), 1000):
        _mark_offline(closed[start : start + 1000], seen=False)


def _mark_offline(closed: list[tuple[int, datetime]], seen: bool) -> None:
    now = timezone.now()
    update_from_values(
        ChargingStation,
        [("id", "bigint"), ("since", "timestamptz"), ("state", "varchar"), ("now", "timestamptz")],
        [(pk, since, ConnectionState.OFFLINE, now) for pk, since in closed],
        "connection_state = v.state, updated = v.now" + (", last_seen = v.now" if seen else ""),
        "t.connected_since = v.since",
    )
    # Those a newer connection replaced stay online: only the ones really gone are recorded
    # in the connection history and announced.
    gone = list(
        ChargingStation.objects.filter(
            pk__in=[pk for pk, _ in closed], connection_state=ConnectionState.OFFLINE
        ).values_list("pk", "organization_id")
    )
    insert_rows(
        ConnectionEvent,
        ("station_id", "state", "at"),
        [(pk, ConnectionState.OFFLINE, now) for pk, _ in gone],
    )
    emit_many(
        STATION_DISCONNECTED,
        ({"organization_id": org_id, "station_id": pk} for pk, org_id in gone),
    )


def mark_stations_online(held: list[tuple[int, datetime]], holder: str) -> None:
    """Mark online again the stations whose sockets `holder` still holds (after a lost lease)."""
    for start in range(0, len(held), 1000):
        chunk = held[start : start + 1000]
        was_offline = set(
            ChargingStation.objects.filter(
                pk__in=[pk for pk, _ in chunk], connection_state=ConnectionState.OFFLINE
            ).values_list("pk", flat=True)
        )
        update_from_values(
            ChargingStation,
            [
                ("id", "bigint"),
                ("since", "timestamptz"),
                ("state", "varchar"),
                ("holder", "varchar"),
            ],
            [(pk, since, ConnectionState.ONLINE, holder) for pk, since in chunk],
            "connection_state = v.state, gateway_process = v.holder",
            # Only the connection this process holds: a newer one elsewhere owns the row now.
            "t.connected_since = v.since",
        )
        back = list(
            ChargingStation.objects.filter(
                pk__in=[pk for pk, _ in chunk], connection_state=ConnectionState.ONLINE
            ).values_list("pk", "organization_id")
        )
        # Only those a reconciliation had marked offline come back in the history: the others
        # never left it.
        insert_rows(
            ConnectionEvent,
            ("station_id", "state", "at"),
            [(pk, ConnectionState.ONLINE, timezone.now()) for pk, _ in back if pk in was_offline],
        )
        emit_many(
            STATION_CONNECTED,
            ({"organization_id": org, "station_id": pk} for pk, org in back),
        )


def touch_last_seen(station_ids: list[int], when: datetime) -> int:
    """Set last_seen of the stations heard from; returns how many rows changed."""
    stations = ChargingStation.objects.filter(pk__in=station_ids)
    if connections[ChargingStation.objects.db].vendor == "postgresql":
        # A station row another transaction holds (a boot, a status) is skipped, not waited
        # for: last_seen is approximate anyway, and this flush must never block an answer.
        stations = ChargingStation.objects.filter(
            pk__in=stations.select_for_update(skip_locked=True, no_key=True).values("pk")
        )
    return stations.update(last_seen=when)


class LastSeen:
    """Per-process set of stations heard from, written every LAST_SEEN_RESOLUTION."""

    def __init__(self):
        self._heard: set[int] = set()
        self._timer: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def note(self, station_id: int) -> None:
        """The station just sent something (cheap: a set insert on the event loop)."""
        self._heard.add(station_id)
        if self._timer is None or self._timer.done() or self._loop is not self._running():
            self._loop = self._running()
            self._timer = self._loop.create_task(self._flush_later())

    @staticmethod
    def _running() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    async def _flush_later(self) -> None:
        await asyncio.sleep(LAST_SEEN_RESOLUTION.total_seconds())
        await self.flush()

    async def flush(self) -> int:
        """Write last_seen of every station heard from since the previous flush."""
        heard, self._heard = sorted(self._heard), set()
        now, changed = timezone.now(), 0
        # A thousand rows per job: each commits on its own and holds its row locks briefly.
        for start in range(0, len(heard), 1000):
            try:
                changed += await background_db.run(
                    touch_last_seen, heard[start : start + 1000], now
                )
            except Exception:
                # Liveness bookkeeping must never take the gateway down; the next flush catches up.
                logger.exception("could not write last_seen of %d stations", len(heard))
        return changed


last_seen = LastSeen()


def is_accepted(station: ChargingStation) -> bool:
    """Whether the station may send more than BootNotification (assigned and accepted)."""
    return (
        station.organization_id is not None
        and station.registration_status == RegistrationStatus.ACCEPTED
    )
