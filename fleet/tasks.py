"""Celery tasks of fleet rollouts."""

from celery import shared_task
from django.core.cache import cache

from core.enqueue import enqueue_after_commit
from fleet import services

# A tick waits for each station's answer and may outlast the beat's interval: the next one
# skips instead of sending alongside it. The lease ends a crashed tick's hold.
TICK_LOCK = "fleet:advance-campaigns"
TICK_LEASE_SECONDS = 30 * 60


@shared_task
def advance_campaigns() -> None:
    """The periodic tick: time out silent stations, send due waves, pause or complete."""
    if not cache.add(TICK_LOCK, 1, timeout=TICK_LEASE_SECONDS):
        return
    try:
        services.advance_campaigns()
    finally:
        cache.delete(TICK_LOCK)


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
