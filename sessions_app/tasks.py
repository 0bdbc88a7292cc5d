"""Celery tasks of the sessions app: they call a service."""

from celery import shared_task

from sessions_app import services


@shared_task
def expire_reservations() -> int:
    """Mark reservations past their expiry expired (idempotent; run periodically by beat)."""
    return services.expire_reservations()
