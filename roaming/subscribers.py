"""What the roaming app does when something happens: push to partners, after the commit."""

from core.enqueue import enqueue_now
from core.events import receiver
from roaming import tasks
from roaming.ocpi import push
from roaming.ocpi.events import COMMAND_RECEIVED


@receiver(push.PUSH_PLANNED)
def send_planned_pushes(events) -> None:
    """Enqueue the delivery of each planned push (the sweep sends what the broker lost)."""
    for push_id in dict.fromkeys(event.data["push_id"] for event in events):
        enqueue_now(tasks.deliver_push, push_id)


@receiver(COMMAND_RECEIVED)
def run_received_commands(events) -> None:
    """Enqueue each accepted command of a partner (the sweep fails what the broker lost)."""
    for command_id in dict.fromkeys(event.data["command_id"] for event in events):
        enqueue_now(tasks.run_roaming_command, command_id)
