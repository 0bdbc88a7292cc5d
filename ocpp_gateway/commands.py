"""The command service: send a CSMS-to-station call through the channel layer, await the answer."""

import asyncio
import contextvars
import logging
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.events import emit, emit_many
from ocpp_gateway.choices import CommandStatus, RequestedVia
from ocpp_gateway.events import COMMAND_FINISHED
from ocpp_gateway.models import CommandLog
from stations.models import ChargingStation

logger = logging.getLogger(__name__)

# A connected consumer acknowledges a request at once; no acknowledgement in this time means no
# process holds the station's socket, whatever the database last said.
DELIVERY_TIMEOUT = 3.0
# error_code of a command that never reached the channel layer (Redis down): the platform's
# own code beside the OCPP ones a station answers with, so the API can tell it apart (503).
DELIVERY_FAILED = "DeliveryFailed"
# A command pending longer than its longest possible wait (see request_call) was left so by a
# process that stopped while waiting; past this margin the sweep closes it.
PENDING_GRACE = timedelta(minutes=1)


@dataclass(slots=True)
class CallOutcome:
    """What came back for one call: a result, an error, or nothing."""

    status: str  # a CommandStatus value
    response: dict | None = None
    error_code: str = ""
    error_description: str = ""
    details: dict = field(default_factory=dict)


def station_group(station_id: int) -> str:
    """Channel-layer group of one station's connection."""
    return f"ocpp.station.{station_id}"


class _Inbox:
    """One reply channel per event loop, shared by every call made on it."""

    # A channel per call would cost a subscribe and an unsubscribe on Redis each time, and a
    # process whose last subscription is gone polls Redis only every 100 ms (channels_redis).

    def __init__(self, layer):
        self.layer = layer
        self.channel = ""
        self.waiting: dict[str, asyncio.Queue] = {}
        self._pump: asyncio.Task | None = None
        self._opening = asyncio.Lock()

    async def open(self) -> str:
        async with self._opening:
            if not self.channel:
                self.channel = await self.layer.new_channel("ocpp.reply.")
                self._pump = asyncio.ensure_future(self._deliver())
        return self.channel

    async def _deliver(self) -> None:
        while True:
            message = await self.layer.receive(self.channel)
            waiting = self.waiting.get(message.get("request_id"))
            if waiting is not None:
                waiting.put_nowait(message)


_inboxes: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _inbox() -> _Inbox:
    loop = asyncio.get_running_loop()
    layer = get_channel_layer()
    inbox = _inboxes.get(loop)
    if inbox is None or inbox.layer is not layer:
        inbox = _inboxes[loop] = _Inbox(layer)
    return inbox


async def request_call(station_id: int, action: str, payload: dict, timeout: float | None = None):
    """Send one CALL to the station's connection, wherever it is held, and await the outcome."""
    timeout = settings.OCPP_CALL_TIMEOUT if timeout is None else timeout
    inbox = _inbox()
    reply_to = await inbox.open()
    request_id = uuid.uuid4().hex
    replies = inbox.waiting[request_id] = asyncio.Queue()
    try:
        await inbox.layer.group_send(
            station_group(station_id),
            {
                "type": "ocpp.call",
                "action": action,
                "payload": payload,
                "reply_to": reply_to,
                "request_id": request_id,
                "timeout": timeout,
            },
        )
        try:
            first = await asyncio.wait_for(replies.get(), DELIVERY_TIMEOUT)
        except TimeoutError:
            return CallOutcome(
                CommandStatus.OFFLINE, error_description="The station is not connected"
            )
        if first["type"] == "ocpp.call.ack":
            try:
                # Calls queue behind each other on the socket: allow for the ones ahead of us.
                reply = await asyncio.wait_for(replies.get(), timeout * 2 + DELIVERY_TIMEOUT)
            except TimeoutError:
                return CallOutcome(CommandStatus.TIMEOUT, error_description="No answer in time")
        else:
            reply = first
    finally:
        del inbox.waiting[request_id]
    return CallOutcome(
        status=reply["status"],
        response=reply.get("response"),
        error_code=reply.get("error_code", ""),
        error_description=reply.get("error_description", ""),
        details=reply.get("details") or {},
    )


# Told of the log row as soon as it is written (committed), before the station answers: the
# portal's background runner (remote/background.py) shows the command as waiting with it.
command_logged: contextvars.ContextVar[Callable[[CommandLog], None] | None] = (
    contextvars.ContextVar("command_logged", default=None)
)


async def asend_call(
    station: ChargingStation,
    action: str,
    payload: dict,
    *,
    command: str = "",
    requested_by=None,
    via: str = RequestedVia.USER,
    timeout: float | None = None,
) -> CommandLog:
    """Send a call, record it in the CommandLog, and return the log row with the outcome."""
    # A machine client's principal is no user: the log names its API key instead.
    api_key = getattr(requested_by, "api_key", None)
    if api_key is not None:
        requested_by = None
    log = await database_sync_to_async(CommandLog.objects.create)(
        station=station,
        command=command or action,
        action=action,
        payload=payload,
        requested_by=requested_by,
        api_key=api_key,
        requested_via=via,
    )
    if (logged := command_logged.get()) is not None:
        logged(log)
    online = await database_sync_to_async(
        ChargingStation.objects.filter(pk=station.pk, connection_state="online").exists
    )()
    if online:
        try:
            outcome = await request_call(station.pk, action, payload, timeout)
        except Exception as exc:
            # The channel layer (Redis) failed: the call never reached the station, and the
            # log must say so rather than stay pending.
            logger.exception("%s %s could not be delivered", station.ocpp_id, log.command)
            outcome = CallOutcome(
                CommandStatus.ERROR,
                error_code=DELIVERY_FAILED,
                error_description=f"Not delivered: the message bus failed ({type(exc).__name__})",
            )
    else:
        outcome = CallOutcome(CommandStatus.OFFLINE, error_description="The station is offline")
    log.status = outcome.status
    log.response = outcome.response
    log.error_code = outcome.error_code[:40]
    log.error_description = outcome.error_description[:255]
    log.completed = timezone.now()
    await database_sync_to_async(_record_outcome)(log, station.organization_id)
    logger.info("%s %s → %s: %s", station.ocpp_id, log.command, action, log.status)
    return log


def _record_outcome(log: CommandLog, organization_id: int | None) -> None:
    """Store a command's outcome and announce it (no transaction here: subscribers run now)."""
    log.save(update_fields=["status", "response", "error_code", "error_description", "completed"])
    emit(
        COMMAND_FINISHED,
        organization_id=organization_id,
        station_id=log.station_id,
        command_log_id=log.pk,
        command=log.command,
        action=log.action,
        status=log.status,
    )


def send_call(station: ChargingStation, action: str, payload: dict, **kwargs) -> CommandLog:
    """Synchronous form of `asend_call`, for views, the admin and tasks."""
    return async_to_sync(asend_call)(station, action, payload, **kwargs)


def expire_pending_commands(now: datetime | None = None) -> int:
    """Close commands left pending by a process that stopped; returns how many it closed."""
    now = now or timezone.now()
    longest_wait = timedelta(seconds=settings.OCPP_CALL_TIMEOUT * 2 + DELIVERY_TIMEOUT)
    with transaction.atomic():
        stale = list(
            CommandLog.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=CommandStatus.PENDING, created__lt=now - longest_wait - PENDING_GRACE)
            .values("pk", "station_id", "station__organization_id", "command", "action")
        )
        closed = CommandLog.objects.filter(
            pk__in=[row["pk"] for row in stale], status=CommandStatus.PENDING
        ).update(
            # Timeout, not error: the station may have received and done it; nobody heard back.
            status=CommandStatus.TIMEOUT,
            error_description="No outcome recorded: the process that sent it stopped",
            completed=now,
        )
        emit_many(
            COMMAND_FINISHED,
            (
                {
                    "organization_id": row["station__organization_id"],
                    "station_id": row["station_id"],
                    "command_log_id": row["pk"],
                    "command": row["command"],
                    "action": row["action"],
                    "status": CommandStatus.TIMEOUT,
                }
                for row in stale
            ),
        )
    return closed
