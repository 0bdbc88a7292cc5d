"""Periodic tasks of the stations app."""

from celery import shared_task

from stations.diagnostics import purge_old_diagnostics as purge


@shared_task(name="stations.tasks.purge_old_diagnostics")
def purge_old_diagnostics() -> int:
    """Delete diagnostics files and upload requests older than their organization's retention."""
    return purge()
