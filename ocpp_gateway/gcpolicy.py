"""Garbage-collector policy of a gateway process: freeze long-lived objects, collect rarely."""

import asyncio
import gc
import logging
import time

from django.conf import settings

logger = logging.getLogger(__name__)

_task: asyncio.Task | None = None


def freeze_now() -> None:
    """Collect the young garbage, then move every live object out of the collector's sight."""
    # Both are cheap; gc.get_freeze_count() is not (it walks every frozen object: 300 ms at
    # 10,000 connections), so it has no place here.
    gc.collect(1)
    gc.freeze()


def collect_everything() -> float:
    """Hand frozen objects back and run one full collection; returns the pause in seconds."""
    started = time.perf_counter()
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    return time.perf_counter() - started


def ensure_started() -> None:
    """Start the policy's loop on the running event loop (once per process and loop)."""
    global _task
    if settings.GC_FREEZE_SECONDS <= 0:
        return
    loop = asyncio.get_running_loop()
    if _task is None or _task.done() or _task.get_loop() is not loop:
        _task = loop.create_task(_run(settings.GC_FREEZE_SECONDS, settings.GC_FULL_COLLECT_SECONDS))


async def _run(freeze_every: float, collect_every: float) -> None:
    # Connections live for days: without freezing, every full collection walks all of their
    # objects (a pause of about a second at 10,000 connections, felt by every station at once).
    last_full = time.monotonic()
    while True:
        await asyncio.sleep(freeze_every)
        if collect_every > 0 and time.monotonic() - last_full >= collect_every:
            pause = collect_everything()
            last_full = time.monotonic()
            logger.info("full garbage collection took %.3f s", pause)
        else:
            freeze_now()
