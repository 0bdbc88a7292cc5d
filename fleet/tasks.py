"""Celery tasks of fleet rollouts."""

from celery import shared_task

from core.enqueue import enqueue_after_commit
from fleet import services


@shared_task
def advance_campaigns() -> None:
    """The periodic tick: time out silent stations, send due waves, pause or complete."""
    services.advance_campaigns()


@shared_task
def advance_campaign(campaign_id: int) -> None:
    """Move one campaign on now (after a launch, resume or retry) rather than at the next tick."""
    services.advance_campaign(campaign_id)


def advance_soon(campaign_id: int) -> None:
    """Enqueue advance_campaign after commit; the beat tick does it anyway if this is lost."""
    # Without a worker the task would run inside the request and wait for every station of the
    # wave to answer: the minute's tick sends them instead.
    if not advance_campaign.app.conf.task_always_eager:
        enqueue_after_commit(advance_campaign, campaign_id)
