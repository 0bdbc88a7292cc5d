"""The WebSocket handshake before any station is known: identity syntax and HTTP refusals."""

import logging
import re
from http import HTTPStatus
from urllib.parse import unquote

from ocpp_gateway.protocol import loggable
from stations.models import ChargingStation

logger = logging.getLogger(__name__)

IDENTITY_MAX_LENGTH = ChargingStation._meta.get_field("ocpp_id").max_length
# A "%" not followed by two hex digits: unquote would pass it through unchanged.
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


class InvalidIdentity(ValueError):
    """The URL's last segment cannot be a station identity; the message says why."""


def decode_identity(segment: str) -> str:
    """The identity a percent-encoded path segment spells, or InvalidIdentity."""
    if _BAD_PERCENT.search(segment):
        raise InvalidIdentity("invalid percent-encoding in the identity")
    try:
        identity = unquote(segment, errors="strict")
    except UnicodeDecodeError:
        raise InvalidIdentity("the identity is not UTF-8") from None
    if not identity:
        raise InvalidIdentity("empty identity")
    if len(identity) > IDENTITY_MAX_LENGTH:
        raise InvalidIdentity(f"identity longer than {IDENTITY_MAX_LENGTH} characters")
    # isprintable() is False for NUL, CR, LF, other controls, format characters and lone
    # surrogates: nothing that could forge a log line or break a database write gets through.
    # A slash is fine: an encoded %2F is part of the identity (stations use it).
    if not identity.isprintable():
        raise InvalidIdentity("control characters in the identity")
    return identity


def raw_path(scope) -> str:
    """The request path as the client sent it, for log lines (escaped, cut short)."""
    raw = scope.get("raw_path")
    path = raw.decode("ascii", "backslashreplace") if raw else scope.get("path", "")
    return loggable(path, 120)


def client_address(scope) -> str:
    """host:port of the client (after the proxy headers the server trusts), escaped."""
    client = scope.get("client")
    return loggable(f"{client[0]}:{client[1]}") if client else ""


async def deny(send, scope, status: int, headers: list[tuple[bytes, bytes]] = ()) -> None:
    """Refuse a handshake with an HTTP status where the server can send one, else close it."""
    # uvicorn offers the denial response extension; without it a close before accepting is
    # all ASGI has, and the client sees 403.
    if "websocket.http.response" not in (scope.get("extensions") or {}):
        await send({"type": "websocket.close"})
        return
    body = f"{status} {HTTPStatus(status).phrase}\n".encode()
    await send(
        {
            "type": "websocket.http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "websocket.http.response.body", "body": body})
    # uvicorn's sans-I/O protocol does not mark a denied handshake complete, and logs a false
    # "ASGI callable returned without completing handshake" ERROR for every refusal (uvicorn
    # PR 3138): a second line per junk handshake. Mark it as its wsproto protocol does.
    server = getattr(send, "__self__", None)
    if getattr(server, "initial_response", None) is not None:
        server.handshake_complete = True


async def refuse_unrouted(scope, receive, send) -> None:
    """ASGI app for WebSocket paths no route takes: 404 and one log line, not a traceback."""
    await receive()  # websocket.connect
    logger.warning(
        "refused a WebSocket handshake to %s from %s: no such route",
        raw_path(scope),
        client_address(scope),
    )
    await deny(send, scope, 404)
