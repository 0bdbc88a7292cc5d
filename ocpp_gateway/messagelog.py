"""The OCPP message log: frames are buffered in memory and written in batches off the hot path."""

import asyncio
import logging
from datetime import timedelta

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils import timezone

from cms.bulk import insert_rows
from ocpp_gateway.choices import Direction
from ocpp_gateway.dbworker import background_db
from ocpp_gateway.models import OcppMessage

logger = logging.getLogger(__name__)

# Past this many buffered rows a flush starts at once instead of waiting for the timer.
FLUSH_AT_ROWS = 2000


class MessageLog:
    """Per-process buffer of OcppMessage rows, flushed every OCPP_MESSAGE_LOG_FLUSH_SECONDS."""

    def __init__(self):
        self.enabled: bool | None = None  # read from settings on first use
        self._rows: list[tuple] = []
        self._timer: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._flushes: set[asyncio.Task] = set()

    def record(
        self, station, direction: Direction, message_type, action, unique_id, payload, raw: str = ""
    ) -> None:
        """Queue one frame (a no-op when logging is off globally or for the station)."""
        if self.enabled is None:
            # Settings are read through a lazy proxy: too slow for twice per message.
            self.enabled = settings.OCPP_MESSAGE_LOG_ENABLED
        if not self.enabled:
            return
        if station is not None and not station.message_log_enabled:
            return
        # A plain tuple on the event loop; the model instances are built in the DB thread.
        self._rows.append(
            (
                station.pk if station is not None else None,
                station.ocpp_id if station is not None else "",
                direction,
                message_type,
                action or "",
                (unique_id or "")[:64],
                payload,
                raw,
                timezone.now(),
            )
        )
        self._schedule()

    def _schedule(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if self._timer is None or self._timer.done() or self._loop is not loop:
            self._loop = loop
            self._timer = loop.create_task(self._flush_later())
        elif len(self._rows) >= FLUSH_AT_ROWS:
            task = loop.create_task(self.flush())
            self._flushes.add(task)
            task.add_done_callback(self._flushes.discard)

    async def _flush_later(self) -> None:
        await asyncio.sleep(settings.OCPP_MESSAGE_LOG_FLUSH_SECONDS)
        await self.flush()

    async def flush(self) -> int:
        """Write every buffered row now; returns how many were written."""
        rows, self._rows = self._rows, []
        if not rows:
            return 0
        written = 0
        for start in range(0, len(rows), FLUSH_AT_ROWS):
            chunk = rows[start : start + FLUSH_AT_ROWS]
            try:
                await background_db.run(_write, chunk)
            except Exception:
                # The log must never take the gateway down; losing log rows is the lesser harm.
                logger.exception("could not write %d OCPP message log rows", len(chunk))
                continue
            written += len(chunk)
        return written


_FIELDS = (
    "station_id",
    "ocpp_id",
    "direction",
    "message_type",
    "action",
    "unique_id",
    "payload",
    "raw",
    "created",
)


def _write(rows: list[tuple]) -> None:
    insert_rows(OcppMessage, _FIELDS, rows)


def purge_old_messages(now=None) -> int:
    """Delete message log rows older than the retention; returns how many went."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.OCPP_MESSAGE_LOG_RETENTION_DAYS)
    deleted, _ = OcppMessage.objects.filter(created__lt=cutoff).delete()
    return deleted


message_log = MessageLog()


@receiver(setting_changed)
def _reread_settings(setting, **kwargs):
    if setting == "OCPP_MESSAGE_LOG_ENABLED":
        message_log.enabled = None
