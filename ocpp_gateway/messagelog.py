"""The OCPP message log: frames are buffered in memory and written in batches off the hot path."""

import asyncio
import json
import logging
from datetime import timedelta

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils import timezone

from core.bulk import insert_good_rows
from ocpp_gateway.choices import Direction
from ocpp_gateway.dbworker import background_db
from ocpp_gateway.models import OcppMessage
from ocpp_gateway.protocol import storable

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
        if raw and not storable(raw):
            # Only frames that could not be parsed carry raw text: rare, so checked every time.
            raw = escape_text(raw)
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
                written += await background_db.run(_write, chunk)
            except Exception:
                # The log must never take the gateway down; losing log rows is the lesser harm.
                logger.exception("could not write %d OCPP message log rows", len(chunk))
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


_TEXT_FIELDS = [i for i, name in enumerate(_FIELDS) if name in ("ocpp_id", "action", "unique_id")]
_PAYLOAD, _RAW = _FIELDS.index("payload"), _FIELDS.index("raw")


def _write(rows: list[tuple]) -> int:
    """Insert the rows; one the database refuses is kept escaped, never costing the others."""
    refused = insert_good_rows(OcppMessage, _FIELDS, rows)
    if not refused:
        return len(rows)
    # An audit log keeps the bad frame too: as ASCII-escaped text the database must take.
    lost = insert_good_rows(OcppMessage, _FIELDS, [_escaped(row) for row, _ in refused])
    for row, error in lost:
        logger.error("OCPP message log row of %s dropped: %s", _escaped(row)[1], error)
    logger.warning(
        "%d OCPP message log rows held text the database refused; stored escaped", len(refused)
    )
    return len(rows) - len(lost)


def escape_text(text: str) -> str:
    """Text any database takes: NUL and lone surrogates spelt as backslash escapes."""
    return text.encode("utf-8", "backslashreplace").decode().replace("\x00", "\\x00")


def _escaped(row: tuple) -> tuple:
    values = list(row)
    for index in _TEXT_FIELDS:
        values[index] = escape_text(values[index])
    payload = values[_PAYLOAD]
    if payload is not None:
        # ensure_ascii spells NUL and lone surrogates as \u escapes, which text columns take.
        values[_RAW] = escape_text(values[_RAW]) or json.dumps(payload, ensure_ascii=True)
        values[_PAYLOAD] = None
    else:
        values[_RAW] = escape_text(values[_RAW])
    return tuple(values)


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
