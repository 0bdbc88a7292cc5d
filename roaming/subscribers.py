"""What the roaming app does when something happens: push to partners, after the commit."""

from core.enqueue import enqueue_now
from core.events import receiver
from roaming import publishing, tasks
from roaming.ocpi import push
from roaming.ocpi.events import COMMAND_RECEIVED
from stations.events import STATION_CONNECTED, STATION_DISCONNECTED, STATION_STATUS_CHANGED


@receiver(push.PUSH_PLANNED)
def send_planned_pushes(events) -> None:
    """Enqueue the delivery of the planned pushes (the sweep sends what the broker lost)."""
    push_ids = list(dict.fromkeys(event.data["push_id"] for event in events))
    if len(push_ids) == 1:
        enqueue_now(tasks.deliver_push, push_ids[0])
    elif push_ids:
        # One task for a batch: a status batch of a large site owes hundreds at once.
        enqueue_now(tasks.deliver_pushes, push_ids)


@receiver(STATION_STATUS_CHANGED, STATION_CONNECTED, STATION_DISCONNECTED)
def push_evse_statuses(events) -> None:
    """Hand a batch's EVSE status changes of roaming organizations to a task, one each."""
    # This runs on the gateway's database thread after the batch's commit: planning a push per
    # EVSE and partner here cost 40 times the batch itself (docs/benchmarks.md).
    for organization_id, (connectors, stations) in publishing.changed_evses(events).items():
        if not enqueue_now(tasks.plan_evse_statuses, organization_id, connectors, stations):
            # The broker is away: planned here, slowly, rather than lost.
            publishing.plan_evse_statuses(organization_id, connectors, stations)


@receiver(COMMAND_RECEIVED)
def run_received_commands(events) -> None:
    """Enqueue each accepted command of a partner (the sweep fails what the broker lost)."""
    for command_id in dict.fromkeys(event.data["command_id"] for event in events):
        enqueue_now(tasks.run_roaming_command, command_id)
