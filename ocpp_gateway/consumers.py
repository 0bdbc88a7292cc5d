"""The OCPP-J WebSocket consumer: authenticate, negotiate, parse, dispatch, answer."""

import asyncio
import contextlib
import functools
import logging
import re
import uuid
from collections import deque

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from channels.utils import await_many_dispatch
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from core.live import bind_serving_loop
from ocpp_gateway import connections, gcpolicy, leases, protocol, validation, versions
from ocpp_gateway.choices import Direction
from ocpp_gateway.commands import station_group
from ocpp_gateway.dbworker import db_worker
from ocpp_gateway.exceptions import (
    FormationViolation,
    InternalError,
    NotImplementedByCsms,
    NotSupported,
    OcppError,
    SecurityError,
)
from ocpp_gateway.handshake import (
    InvalidIdentity,
    client_address,
    decode_identity,
    deny,
    raw_path,
)
from ocpp_gateway.messagelog import message_log

logger = logging.getLogger(__name__)

# The channel layer's part of a handshake (Redis) may take this long, in seconds; past it the
# station is answered 503: a Redis that does not answer must not hold handshakes open for good.
HANDSHAKE_LAYER_TIMEOUT = 3.0
_UNIQUE_ID_AT_START = re.compile(r'^\s*\[\s*\d\s*,\s*"([^"\\]{1,36})"')


# Settings are read through a lazy proxy, too slow for every frame; tests may change them.
_max_frame_bytes: int | None = None


def _read_max_frame_bytes() -> int:
    global _max_frame_bytes
    _max_frame_bytes = settings.OCPP_MAX_FRAME_BYTES
    return _max_frame_bytes


@receiver(setting_changed)
def _reread_settings(setting, **kwargs):
    global _max_frame_bytes
    if setting == "OCPP_MAX_FRAME_BYTES":
        _max_frame_bytes = None


def identity_from_scope(scope) -> str:
    """The last path segment of the URL, percent-decoded; InvalidIdentity when it is junk."""
    raw = scope.get("raw_path")
    try:
        path = raw.decode("utf-8") if raw else scope["path"]
    except UnicodeDecodeError:
        raise InvalidIdentity("the path is not UTF-8") from None
    path = path.split("?", 1)[0].rstrip("/")
    return decode_identity(path.rsplit("/", 1)[-1])


class OcppConsumer(AsyncWebsocketConsumer):
    """One station's OCPP-J connection."""

    station = None
    version = None  # the subprotocol spoken
    calls = None  # the version's calls module, which reads the station's answers
    spelling = versions.get(versions.DEFAULT_SUBPROTOCOL).error_spelling  # until negotiated
    connected_since = None
    accepted = False
    # CSMS-to-station calls: one outstanding at a time, the rest wait in the queue.
    sender = None
    outgoing: deque | None = None  # made on the first command: most connections never get one
    in_flight = None  # (unique id, action, future, request event)
    released = False  # the disconnect bookkeeping ran

    async def __call__(self, scope, receive, send):
        """Serve the connection; however it ends, the disconnect bookkeeping runs once."""
        # Channels' own __call__, except for the ending: there an exception (a send to a socket
        # the station closed, a bug) left without dispatching websocket.disconnect, so the
        # station stayed online for good.
        self.scope = scope
        self.base_send = send
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        try:
            self.channel_name = await self._new_channel()
        except Exception as error:
            await self._refuse_unavailable(error)
            return
        self.channel_receive = functools.partial(self.channel_layer.receive, self.channel_name)
        code = 1006
        try:
            await await_many_dispatch([receive, self.channel_receive], self.dispatch)
        except StopConsumer:
            pass
        except OSError as error:
            # uvicorn's ClientDisconnected: the station closed its socket while we were sending.
            logger.info("%s: socket gone while sending (%r)", self._identity(), error)
        except Exception:
            logger.exception("%s: the connection failed", self._identity())
            # A close frame, not a dropped TCP connection: the station reconnects at once.
            code = 1011
            with contextlib.suppress(Exception):
                await self.close(code=code)
        finally:
            await self._release(code)

    async def _new_channel(self) -> str:
        # A failed subscription leaves its channel's queue in the Redis layer: forget it, or an
        # outage with stations retrying fills the process's memory.
        pending = getattr(self.channel_layer, "channels", None)
        before = set(pending) if isinstance(pending, dict) else None
        try:
            async with asyncio.timeout(HANDSHAKE_LAYER_TIMEOUT):
                return await self.channel_layer.new_channel()
        except Exception:
            if before is not None:
                for name in set(pending) - before:
                    pending.pop(name, None)
            raise

    async def _refuse_unavailable(self, error: Exception) -> None:
        """Answer the handshake 503 (or close it): the channel layer (Redis) is unreachable."""
        logger.warning(
            "refused %s with 503: the channel layer is unreachable (%r)", self._identity(), error
        )
        await deny(self.base_send, self.scope, 503, [(b"retry-after", b"30")])

    async def connect(self):
        # Portal events raised by this connection's writes go out through this loop.
        bind_serving_loop(asyncio.get_running_loop())
        try:
            identity = identity_from_scope(self.scope)
        except InvalidIdentity as junk:
            # One escaped line and a 400: no traceback, no forged log lines, no database query.
            logger.warning(
                "refused a handshake to %s from %s: %s",
                raw_path(self.scope),
                self._remote(),
                junk,
            )
            await deny(self.base_send, self.scope, 400)
            return
        offered = self.scope.get("subprotocols") or []
        speaks = versions.negotiate(offered)
        if speaks is None:
            logger.warning(
                "refused %s: no common subprotocol in %s", identity, protocol.describe(offered)
            )
            await self.close()
            return
        self.version, self.calls = speaks.subprotocol, speaks.calls
        self.spelling = speaks.error_spelling
        headers = dict(self.scope.get("headers") or [])
        # The lease must exist before a station is marked online under this process's name.
        await leases.ensure_started()
        try:
            credentials = connections.parse_basic_auth(headers.get(b"authorization"))
            handshake = connections.Handshake(
                identity, credentials, self.version, self._remote(), leases.process_name()
            )
            # Batched: after an outage thousands of stations shake hands in the same second.
            outcome = await db_worker.run_batched(connections.open_connections, handshake)
            if isinstance(outcome, connections.HandshakeRefused):
                raise outcome
            self.station, self.connected_since = outcome
            leases.hold(self.station.pk, self.connected_since)
        except connections.HandshakeRefused as refusal:
            # Logged by the throttle (the first failure of an address, then a summary per
            # minute): a password-guessing flood must not write a line per attempt.
            if isinstance(refusal, connections.HandshakeThrottled):
                retry_after = str(refusal.retry_after).encode()
                await deny(self.base_send, self.scope, 429, [(b"retry-after", retry_after)])
            else:
                await deny(self.base_send, self.scope, 403)
            return
        gcpolicy.ensure_started()
        self.handlers = speaks.handlers
        self.accepted = connections.is_accepted(self.station)
        self.group = station_group(self.station.pk)
        try:
            async with asyncio.timeout(HANDSHAKE_LAYER_TIMEOUT):
                # Tell an earlier connection of the same station, wherever it is, to close.
                await self.channel_layer.group_send(
                    self.group, {"type": "station.replaced", "by": self.channel_name}
                )
                await self.channel_layer.group_add(self.group, self.channel_name)
        except Exception as error:
            # Commands could not reach it: offline again before the station hears the refusal.
            # It never connected, so the refusal is its one log line, whichever step failed.
            await self._release(1011, log=False)
            await self._refuse_unavailable(error)
            return
        await self.accept(subprotocol=self.version)
        logger.info("%s connected with %s from %s", identity, self.version, self._remote())

    async def dispatch(self, message):
        """Dispatch without Channels' per-message database connection check."""
        # AsyncConsumer.dispatch hops to a thread to close old connections before every
        # message; the gateway's database work runs in db_worker, which checks its own.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def disconnect(self, code):
        await self._release(code)

    async def _release(self, code, log: bool = True) -> None:
        """The disconnect bookkeeping: run once, whichever way the connection ended."""
        if self.released:
            return
        self.released = True
        if self.station is None:
            return
        leases.release(self.station.pk, self.connected_since)
        # The database first, and each step on its own: Redis being away (its client retries
        # for seconds) must neither delay nor prevent the offline state.
        if self.connected_since is not None:
            try:
                await db_worker.run_batched(
                    connections.mark_many_disconnected, (self.station.pk, self.connected_since)
                )
            except Exception:
                # The lease loop marks it offline once the database is back (mark_unheld_offline).
                logger.exception("%s: could not mark it offline", self.station.ocpp_id)
        if hasattr(self, "group"):
            with contextlib.suppress(Exception):
                await self.channel_layer.group_discard(self.group, self.channel_name)
        try:
            await self._abandon_calls()
        except Exception:
            logger.warning("%s: could not answer its pending commands", self.station.ocpp_id)
        if log:
            logger.info("%s disconnected (code %s)", self.station.ocpp_id, code)

    async def station_replaced(self, event):
        """A newer connection of this station took over: close this one."""
        if event["by"] != self.channel_name:
            logger.info("%s: replaced by a newer connection", self.station.ocpp_id)
            leases.release(self.station.pk, self.connected_since)
            self.connected_since = None  # the newer connection owns the online state now
            await self.close(code=4000)

    async def receive(self, text_data=None, bytes_data=None):
        if text_data is None:
            await self._send_error(
                protocol.UNKNOWN_UNIQUE_ID, FormationViolation("OCPP-J frames are text, not binary")
            )
            return
        limit = _max_frame_bytes or _read_max_frame_bytes()
        # Encoding every frame to count bytes costs; only a frame within 4x could be over.
        if len(text_data) > limit or (
            len(text_data) * 4 > limit and len(text_data.encode()) > limit
        ):
            match = _UNIQUE_ID_AT_START.match(text_data)
            message_log.record(self.station, Direction.IN, None, "", "", None, raw=text_data[:1000])
            await self._send_error(
                match.group(1) if match else protocol.UNKNOWN_UNIQUE_ID,
                FormationViolation(f"Frame exceeds {limit} bytes"),
            )
            return
        try:
            frame = protocol.parse_frame(text_data)
        except protocol.FrameError as error:
            message_log.record(
                self.station, Direction.IN, None, "", error.unique_id, None, raw=text_data[:10000]
            )
            await self._send_error(error.unique_id, error)
            return
        if isinstance(frame, protocol.Call):
            message_log.record(
                self.station,
                Direction.IN,
                protocol.CALL,
                frame.action,
                frame.unique_id,
                frame.payload,
            )
            await self._answer(frame)
        else:
            # An answer to one of our own calls: hand it to the call waiting for it.
            kind = (
                protocol.CALLRESULT
                if isinstance(frame, protocol.CallResult)
                else protocol.CALLERROR
            )
            payload = (
                frame.payload
                if kind == protocol.CALLRESULT
                else {
                    "errorCode": frame.code,
                    "errorDescription": frame.description,
                    "errorDetails": frame.details,
                }
            )
            message_log.record(self.station, Direction.IN, kind, "", frame.unique_id, payload)
            await self.on_call_answer(frame)

    async def on_call_answer(self, frame):
        """Deliver a CALLRESULT/CALLERROR to the call waiting for it."""
        if self.in_flight and self.in_flight[0] == frame.unique_id and not self.in_flight[2].done():
            self.in_flight[2].set_result(frame)
        else:
            logger.warning(
                "%s: answer %s to no pending call", self.station.ocpp_id, frame.unique_id
            )

    async def ocpp_call(self, event):
        """A command for this station: acknowledge it now, send it when the line is free."""
        await self.channel_layer.send(
            event["reply_to"], {"type": "ocpp.call.ack", "request_id": event.get("request_id")}
        )
        if self.outgoing is None:
            self.outgoing = deque()
        self.outgoing.append(event)
        if self.sender is None or self.sender.done():
            self.sender = asyncio.create_task(self._send_calls())

    async def _send_calls(self):
        while self.outgoing:
            event = self.outgoing.popleft()
            reply = await self._call(event)
            await self.channel_layer.send(
                event["reply_to"],
                {"type": "ocpp.call.result", "request_id": event.get("request_id"), **reply},
            )

    async def _call(self, event) -> dict:
        action, payload = event["action"], event["payload"]
        unique_id = str(uuid.uuid4())
        future = asyncio.get_running_loop().create_future()
        self.in_flight = (unique_id, action, future, event)
        message_log.record(self.station, Direction.OUT, protocol.CALL, action, unique_id, payload)
        try:
            await self.send(text_data=protocol.call(unique_id, action, payload))
            frame = await asyncio.wait_for(future, event["timeout"])
        except TimeoutError:
            return {"status": "timeout", "error_description": "The station did not answer in time"}
        except OSError:
            # The socket closed under the send (uvicorn's ClientDisconnected): no answer will come.
            return {
                "status": "offline",
                "error_description": "The station disconnected before answering",
            }
        finally:
            self.in_flight = None
        if isinstance(frame, protocol.CallError):
            return {
                "status": "error",
                "error_code": frame.code,
                "error_description": frame.description,
                "details": frame.details,
            }
        try:
            validation.validate(self.version, action, frame.payload, response=True)
        except OcppError as error:
            return {
                "status": "error",
                "response": frame.payload,
                "error_code": error.code,
                "error_description": f"The station's answer breaks the schema: {error.description}",
            }
        return {"status": self.calls.command_status(frame.payload), "response": frame.payload}

    async def _abandon_calls(self):
        """The socket is gone: every call in flight or queued gets an offline answer."""
        events = [self.in_flight[3]] if self.in_flight else []
        if self.sender is not None:
            self.sender.cancel()
        events.extend(self.outgoing or ())
        self.outgoing = None
        for event in events:
            await self.channel_layer.send(
                event["reply_to"],
                {
                    "type": "ocpp.call.result",
                    "request_id": event.get("request_id"),
                    "status": "offline",
                    "error_description": "The station disconnected before answering",
                },
            )

    async def _answer(self, call: protocol.Call):
        try:
            response = await self._dispatch(call)
        except OcppError as error:
            await self._send_error(call.unique_id, error, call.action)
            return
        message_log.record(
            self.station, Direction.OUT, protocol.CALLRESULT, call.action, call.unique_id, response
        )
        await self.send(text_data=protocol.call_result(call.unique_id, response))

    async def _dispatch(self, call: protocol.Call) -> dict:
        if call.action not in validation.known_actions(self.version):
            raise NotImplementedByCsms(f"{call.action} is not an action of {self.version}")
        handler = self.handlers.get(call.action)
        if handler is None:
            # A call the CSMS sends, or one of a newer version this CSMS does not model yet.
            raise NotSupported(f"{call.action} is not supported by this CSMS over {self.version}")
        if not self.accepted and call.action != "BootNotification":
            raise SecurityError("The station is not accepted: send BootNotification first")
        validation.validate(self.version, call.action, call.payload)
        connections.last_seen.note(self.station.pk)
        try:
            batch = getattr(handler, "batch", None)
            if getattr(handler, "without_database", False):
                response = handler(self.station, call.payload)
            elif batch is not None:
                item = batch.prepare(self.station, call.payload)
                response = batch.answer(await db_worker.run_batched(batch.write, item))
            else:
                response = await db_worker.run(handler, self.station, call.payload)
        except OcppError:
            raise
        except Exception as exc:
            logger.exception(
                "%s: handler of %s failed on frame %s",
                self.station.ocpp_id,
                call.action,
                protocol.describe(call.payload, 2000),
            )
            raise InternalError(f"The CSMS could not process {call.action}") from exc
        try:
            validation.validate(self.version, call.action, response, response=True)
        except OcppError as exc:
            logger.error(
                "%s: our %s answer breaks the schema: %s (%s)",
                self.station.ocpp_id,
                call.action,
                exc.description,
                protocol.describe(response),
            )
            raise InternalError(f"The CSMS produced an invalid {call.action} answer") from exc
        if call.action == "BootNotification":
            self.accepted = response.get("status") == "Accepted"
        return response

    async def _send_error(self, unique_id: str, error: OcppError, action: str = ""):
        message_log.record(
            self.station,
            Direction.OUT,
            protocol.CALLERROR,
            action,
            unique_id,
            {"errorCode": error.code, "errorDescription": error.description},
        )
        await self.send(
            text_data=protocol.call_error(
                unique_id, error.code, error.description, error.details, self.spelling
            )
        )

    def _identity(self) -> str:
        return self.station.ocpp_id if self.station else raw_path(self.scope)

    def _remote(self) -> str:
        return client_address(self.scope)
