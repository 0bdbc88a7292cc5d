"""Remote commands from the Django admin reach the station and report its answer."""

import pytest
from asgiref.sync import sync_to_async
from django.contrib.messages import get_messages
from django.db import connections
from ocpp.routing import on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action, ClearCacheStatus, ResetStatus, TriggerMessageStatus

from ocpp_gateway.models import CommandLog
from tests.factories import ChargingStationFactory
from tests.ocpp_gateway.conftest import Station, connected_station

CHANGELIST = "/admin/stations/chargingstation/"


class Obedient(Station):
    """Accepts a reset, rejects a cache clear, accepts a trigger."""

    @on(Action.reset)
    def on_reset(self, type, **_):
        return call_result.Reset(status=ResetStatus.accepted)

    @on(Action.clear_cache)
    def on_clear_cache(self, **_):
        return call_result.ClearCache(status=ClearCacheStatus.rejected)

    @on(Action.trigger_message)
    def on_trigger_message(self, requested_message, **_):
        return call_result.TriggerMessage(status=TriggerMessageStatus.accepted)


def post_action(client, action, station):
    """Run an admin action from a thread, as a request of the admin would."""

    def go():
        try:
            response = client.post(CHANGELIST, {"action": action, "_selected_action": [station.pk]})
            return response, [str(m) for m in get_messages(response.wsgi_request)]
        finally:
            connections.close_all()

    return sync_to_async(go, thread_sensitive=False)()


@pytest.fixture
async def station(db_call, org):
    return await db_call(ChargingStationFactory, organization=org, ocpp_id="CS-ADMIN")


@pytest.mark.parametrize(
    ("action", "expected", "command"),
    [
        ("restart_station", "CS-ADMIN: restart station accepted (Accepted)", "restart_station"),
        ("clear_rfid_cache", "CS-ADMIN: clear rfid cache rejected (Rejected)", "clear_rfid_cache"),
        ("trigger_status", "CS-ADMIN: trigger message accepted (Accepted)", "trigger_message"),
    ],
)
async def test_a_station_action_reports_the_stations_answer(
    ocpp_server, superuser_client, station, db_call, action, expected, command
):
    async with connected_station(ocpp_server, "CS-ADMIN", cls=Obedient):
        response, notes = await post_action(superuser_client, action, station)
    assert response.status_code == 302
    assert notes == [expected]
    log = await db_call(CommandLog.objects.select_related("requested_by").get, station=station)
    assert (log.command, log.requested_by.username) == (command, "support")


async def test_a_station_action_on_an_offline_station_says_so(
    superuser_client, station, transactional_db
):
    _, notes = await post_action(superuser_client, "restart_station", station)
    assert notes == ["CS-ADMIN: The station is offline."]
