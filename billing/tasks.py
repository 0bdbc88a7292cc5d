"""Celery tasks of billing: they take ids and call a service."""

from celery import shared_task

from billing import invoicing, services


@shared_task(acks_late=True)
def rate_session(session_id: int) -> int | None:
    """Price a finished session and write its charge detail record (idempotent)."""
    cdr = services.rate_session(session_id)
    return cdr.pk if cdr else None


@shared_task(acks_late=True)
def close_billing_periods() -> int:
    """Close every ended billing period into invoices; returns how many were closed (idempotent)."""
    return len(invoicing.close_due_periods())
