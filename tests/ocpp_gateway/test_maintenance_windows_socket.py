"""A maintenance window over real OCPP sockets: a 1.6 and a 2.0.1 station go out and come back."""

from datetime import UTC, datetime, timedelta

from asgiref.sync import sync_to_async
from django.db import connections
from ocpp.routing import on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action
from ocpp.v201 import call_result as call_result201
from ocpp.v201.enums import Action as Action201

from availability.choices import WindowStationState
from availability.models import MaintenanceWindow, MaintenanceWindowStation
from ocpp_gateway.models import CommandLog
from ocpp_gateway.remote.maintenance_windows import apply_maintenance_windows
from tests.factories import ChargingStationFactory, SiteFactory
from tests.ocpp_gateway.conftest import (
    Station,
    Station201,
    connected_station,
    connected_station201,
)

START = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)


class Recording16(Station):
    """A 1.6 station that accepts ChangeAvailability and remembers the payloads."""

    received: list

    @on(Action.change_availability)
    def on_change_availability(self, connector_id, type, **_):
        self.received.append(("ChangeAvailability", connector_id, type))
        return call_result.ChangeAvailability(status="Accepted")


class Recording201(Station201):
    """A 2.0.1 station with a transaction running: ChangeAvailability answers Scheduled."""

    received: list

    @on(Action201.change_availability)
    def on_change_availability(self, operational_status, evse=None, **_):
        self.received.append(("ChangeAvailability", evse, operational_status))
        return call_result201.ChangeAvailability(status="Scheduled")


async def tick(moment: datetime) -> int:
    """The beat task's work at `moment`, in a thread of its own as a worker would run it."""

    def work():
        try:
            return apply_maintenance_windows(moment)
        finally:
            connections.close_all()

    return await sync_to_async(work, thread_sensitive=False)()


async def test_a_window_sets_both_stations_inoperative_and_then_operative_again(
    ocpp_server, db_call, org, other_org
):
    def build():
        site = SiteFactory(organization=org)
        ChargingStationFactory(organization=org, site=site, ocpp_id="CS-WIN-16")
        ChargingStationFactory(organization=org, site=site, ocpp_id="CS-WIN-201")
        # Another organization's station, online too: never touched by this window.
        ChargingStationFactory(organization=other_org, ocpp_id="CS-WIN-THEIRS")
        return MaintenanceWindow.objects.create(
            organization=org, site=site, starts_at=START, ends_at=START + timedelta(hours=2)
        )

    window = await db_call(build)
    Recording16.received, Recording201.received, theirs_received = [], [], []

    class Theirs(Recording16):
        received = theirs_received

    async with (
        connected_station(ocpp_server, "CS-WIN-16", cls=Recording16),
        connected_station201(ocpp_server, "CS-WIN-201", cls=Recording201),
        connected_station(ocpp_server, "CS-WIN-THEIRS", cls=Theirs),
    ):
        assert await tick(START - timedelta(minutes=1)) == 0
        assert await tick(START) == 2
        # The next minute: nothing left to send.
        assert await tick(START + timedelta(minutes=1)) == 0
        assert Recording16.received == [("ChangeAvailability", 0, "Inoperative")]
        assert Recording201.received == [("ChangeAvailability", None, "Inoperative")]

        assert await tick(START + timedelta(hours=2)) == 2

    assert Recording16.received[1:] == [("ChangeAvailability", 0, "Operative")]
    assert Recording201.received[1:] == [("ChangeAvailability", None, "Operative")]
    assert theirs_received == []

    def outcomes():
        rows = MaintenanceWindowStation.objects.filter(window=window).select_related("station")
        logs = CommandLog.objects.filter(command="change_availability")
        return (
            {row.station.ocpp_id: (row.state, row.last_outcome) for row in rows},
            sorted((log.station.ocpp_id, log.requested_via, log.status) for log in logs),
        )

    rows, logs = await db_call(outcomes)
    assert rows == {
        "CS-WIN-16": (WindowStationState.RELEASED, "accepted"),
        # Scheduled (after the running transaction) counts as accepted.
        "CS-WIN-201": (WindowStationState.RELEASED, "accepted"),
    }
    assert logs == [
        ("CS-WIN-16", "system", "accepted"),
        ("CS-WIN-16", "system", "accepted"),
        ("CS-WIN-201", "system", "accepted"),
        ("CS-WIN-201", "system", "accepted"),
    ]
