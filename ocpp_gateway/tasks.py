"""Celery tasks of the OCPP gateway."""

from celery import shared_task

from ocpp_gateway import commands, leases
from ocpp_gateway.messagelog import purge_old_messages
from ocpp_gateway.remote import maintenance_windows
from ocpp_gateway.v201 import security


@shared_task
def purge_message_log() -> int:
    """Delete OCPP message log rows past the retention (idempotent)."""
    return purge_old_messages()


@shared_task
def expire_pending_commands() -> int:
    """Close command log rows left pending by a process that stopped (idempotent)."""
    return commands.expire_pending_commands()


@shared_task
def reconcile_station_liveness() -> int:
    """Mark offline the stations of gateway processes that died (idempotent)."""
    return leases.reconcile_station_liveness()


@shared_task
def resume_certificate_requests() -> int:
    """Sign and send accepted certificate requests a stopped process left (idempotent)."""
    return security.resume_certificate_requests()


@shared_task
def apply_maintenance_windows() -> int:
    """Set stations Inoperative for running maintenance windows, Operative after (idempotent)."""
    return maintenance_windows.apply_maintenance_windows()
