"""Billing's subscribers: a session that ended, or whose review was settled, is rated."""

from billing import tasks
from core.enqueue import enqueue_now
from core.events import Event, receiver
from sessions_app.events import SESSION_REVIEWED, SESSION_STOPPED


@receiver(SESSION_STOPPED, SESSION_REVIEWED)
def rate_sessions(events: list[Event]) -> None:
    """Enqueue the rating of each session; `tasks.rate_unrated_sessions` catches a lost one."""
    # Subscribers run after commit already: the task is sent now, and a broker outage is
    # logged by enqueue_now, never raised into the write that committed.
    for event in events:
        enqueue_now(tasks.rate_session, event["session_id"])
