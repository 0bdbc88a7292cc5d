"""Hand Celery work to the broker after commit, so that a broker outage never fails a write."""

import logging
from functools import partial

from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue_after_commit(task, *ids) -> None:
    """Send `task(*ids)` once the transaction commits; a failed send is logged, never raised."""
    transaction.on_commit(partial(enqueue_now, task, *ids))


def enqueue_now(task, *ids) -> bool:
    """Send `task(*ids)` to the broker now; False (and a log line) when that failed."""
    try:
        task.delay(*ids)
    except Exception:
        # Anything: the broker down (Redis refused, timed out, mid-failover), or in eager mode
        # the task itself. The caller's transaction is committed and its answer (an OCPP
        # CallResult, an API response) is built from it: raising here would report a write
        # that holds as failed, and the station would send it again. Every task enqueued
        # here has a periodic sweep that finds the work left undone (docs/operations.md).
        logger.exception("could not enqueue %s%r; its periodic sweep will do it", task.name, ids)
        return False
    return True
