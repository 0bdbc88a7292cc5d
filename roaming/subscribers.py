"""What the roaming app does when something happens: push to partners, after the commit."""

from core.enqueue import enqueue_now
from core.events import receiver
from roaming import tasks
from roaming.ocpi import push


@receiver(push.PUSH_PLANNED)
def send_planned_pushes(events) -> None:
    """Enqueue the delivery of each planned push (the sweep sends what the broker lost)."""
    for push_id in dict.fromkeys(event.data["push_id"] for event in events):
        enqueue_now(tasks.deliver_push, push_id)
