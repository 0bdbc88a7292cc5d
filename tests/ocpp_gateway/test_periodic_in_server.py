"""The beat schedule on the server's own loop (`make run`): its commands reach the stations."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest_asyncio
from ocpp.routing import on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action

from availability.choices import WindowStationState
from availability.models import MaintenanceWindow, MaintenanceWindowStation
from tests.factories import ChargingStationFactory
from tests.ocpp_gateway.conftest import Station, connected_station, served, until


class Recording(Station):
    """A 1.6 station that accepts ChangeAvailability and remembers the payloads."""

    received: list = []

    @on(Action.change_availability)
    def on_change_availability(self, connector_id, type, **_):
        self.received.append((connector_id, type))
        return call_result.ChangeAvailability(status="Accepted")


@pytest_asyncio.fixture
async def server_with_schedule(transactional_db, settings):
    """The ASGI application with the schedule on its loop: only the maintenance-window tick."""
    from cms.asgi import WithPeriodicTasks, application

    settings.PERIODIC_TICK_SECONDS = 0.05
    settings.CELERY_BEAT_SCHEDULE = {
        "apply-maintenance-windows": {
            "task": "ocpp_gateway.tasks.apply_maintenance_windows",
            "schedule": 0.2,
        }
    }
    app = WithPeriodicTasks(application)
    async with served(app) as base_url:
        yield base_url
        app.task.cancel()


async def test_a_window_running_now_reaches_its_station_without_celery_or_redis(
    server_with_schedule, db_call, org
):
    def build():
        station = ChargingStationFactory(organization=org, ocpp_id="CS-PERIODIC")
        now = datetime.now(UTC)
        return MaintenanceWindow.objects.create(
            organization=org,
            station=station,
            starts_at=now - timedelta(minutes=1),
            ends_at=now + timedelta(hours=1),
        )

    window = await db_call(build)
    Recording.received = []
    async with connected_station(server_with_schedule, "CS-PERIODIC", cls=Recording):
        # Nobody calls the task here: the schedule on the server's loop does, and its command
        # goes out over this socket (run_periodic in a process of its own would find none).
        for _ in range(200):
            if Recording.received:
                break
            await asyncio.sleep(0.05)
        # The station's answer is written after it is sent: wait for the row, not the frame.
        await until(
            lambda: MaintenanceWindowStation.objects.filter(
                window=window, state=WindowStationState.INOPERATIVE
            ).exists(),
            db_call,
        )
    assert Recording.received == [(0, "Inoperative")]
