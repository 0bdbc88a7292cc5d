"""Celery tasks of the OCPP gateway."""

from celery import shared_task

from ocpp_gateway.messagelog import purge_old_messages


@shared_task
def purge_message_log() -> int:
    """Delete OCPP message log rows past the retention (idempotent)."""
    return purge_old_messages()
