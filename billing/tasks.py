"""Celery tasks of billing: they take ids and call a service."""

from celery import shared_task


@shared_task(acks_late=True)
def rate_session(session_id: int) -> int | None:
    """Price a finished session and write its charge detail record (idempotent)."""
    from billing.services import rate_session as rate

    cdr = rate(session_id)
    return cdr.pk if cdr else None
