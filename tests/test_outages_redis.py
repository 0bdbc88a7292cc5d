"""Redis away: committed writes are still answered, lost work is caught up, the API stays JSON."""

import logging
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone
from ocpp.v16 import call
from rest_framework.test import APIClient

from billing import tasks as billing_tasks
from billing.models import ChargeDetailRecord
from cms.celery import app as celery_app
from core.api.exceptions import exception_handler
from core.enqueue import enqueue_after_commit
from ocpp_gateway.choices import CommandStatus
from ocpp_gateway.commands import DELIVERY_FAILED, expire_pending_commands
from ocpp_gateway.models import CommandLog
from sessions_app.models import ChargingSession
from tests.factories import ChargingStationFactory
from tests.faultproxy import FaultProxy
from tests.ocpp_gateway.conftest import connected_station

pytestmark = pytest.mark.django_db(transaction=True)

IDENTITY = "CS-OUTAGE"


@pytest.fixture
def broker_cut():
    """Celery publishes to Redis through a proxy that is cut: every enqueue fails."""
    keys = ("broker_url", "task_always_eager")
    saved = {key: celery_app.conf[key] for key in keys}
    with FaultProxy("127.0.0.1", 6379) as proxy:
        proxy.cut()
        celery_app.conf.update(broker_url=f"redis://{proxy.url_netloc}/14", task_always_eager=False)
        _drop_broker_connections()
        try:
            yield proxy
        finally:
            celery_app.conf.update(saved)
            _drop_broker_connections()


def _drop_broker_connections():
    # Celery keeps its connection and producer pools; the next publish builds them afresh.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def outage_station(org):
    return ChargingStationFactory(organization=org, ocpp_id=IDENTITY)


async def test_a_stop_committed_while_the_broker_is_down_is_answered_and_rated_by_the_sweep(
    ocpp_server, outage_station, broker_cut, db_call, caplog, monkeypatch
):
    now = timezone.now()
    async with connected_station(ocpp_server, IDENTITY) as cp:
        start = await cp.call(
            call.StartTransaction(
                connector_id=1,
                id_tag="",
                meter_start=0,
                timestamp=(now - timedelta(hours=1)).isoformat(),
            ),
            suppress=False,
        )
        with caplog.at_level(logging.ERROR, logger="core.enqueue"):
            # suppress=False: a CallError (the InternalError of old) raises here.
            stop = await cp.call(
                call.StopTransaction(
                    transaction_id=start.transaction_id,
                    meter_stop=5000,
                    timestamp=now.isoformat(),
                ),
                suppress=False,
            )
    assert stop is not None
    session = await db_call(ChargingSession.objects.get, transaction_id=start.transaction_id)
    assert session.state == "completed"
    assert "could not enqueue billing.tasks.rate_session" in caplog.text
    assert not await db_call(ChargeDetailRecord.objects.filter(session=session).exists)

    # Redis is back; the beat's sweep finds the session the lost message never rated.
    broker_cut.restore()
    monkeypatch.setattr(billing_tasks, "SWEEP_GRACE", timedelta(0))
    assert await db_call(billing_tasks.rate_unrated_sessions) == 1
    assert await db_call(ChargeDetailRecord.objects.filter(session=session).count) == 1


def test_an_enqueue_that_fails_after_commit_is_logged_and_never_raised(broker_cut, caplog):
    from django.db import transaction

    with caplog.at_level(logging.ERROR, logger="core.enqueue"), transaction.atomic():
        enqueue_after_commit(billing_tasks.rate_session, 42)
    assert "could not enqueue billing.tasks.rate_session(42,)" in caplog.text


@pytest.fixture
def channel_layer_cut(settings):
    """The channel layer talks to Redis through a proxy that is cut."""
    with FaultProxy("127.0.0.1", 6379) as proxy:
        proxy.cut()
        settings.CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                "CONFIG": {"hosts": [f"redis://{proxy.url_netloc}/14"], "prefix": "h4test"},
            }
        }
        yield proxy


@pytest.fixture
def api(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)
    return client


def test_a_command_the_channel_layer_cannot_send_is_logged_failed_and_answered_json_503(
    org, api, channel_layer_cut
):
    station = ChargingStationFactory(organization=org, connection_state="online")
    response = api.post(
        f"/api/v1/stations/{station.pk}/ocpp-calls/",
        {"action": "Reset", "payload": {"type": "Soft"}},
        format="json",
    )
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    log = CommandLog.objects.get()
    assert (log.status, log.error_code) == (CommandStatus.ERROR, DELIVERY_FAILED)
    assert response.json()["id"] == log.pk
    assert log.completed is not None


def test_the_api_answers_json_503_while_the_redis_cache_is_down(settings, db):
    # The token endpoint's throttle counts in the cache.
    with FaultProxy("127.0.0.1", 6379) as proxy:
        proxy.cut()
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": f"redis://{proxy.url_netloc}/14",
            }
        }
        response = APIClient().post(
            "/api/v1/auth/token/", {"username": "a", "password": "b"}, format="json"
        )
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"]
    assert response["Retry-After"]


def test_a_database_that_went_away_is_a_503_too():
    response = exception_handler(OperationalError("server closed the connection"), {})
    assert response.status_code == 503


def test_commands_left_pending_by_a_stopped_process_are_expired_and_recent_ones_kept(
    station, settings
):
    settings.OCPP_CALL_TIMEOUT = 30
    stale = CommandLog.objects.create(station=station, command="reset", action="Reset")
    recent = CommandLog.objects.create(station=station, command="reset", action="Reset")
    answered = CommandLog.objects.create(
        station=station, command="reset", action="Reset", status=CommandStatus.ACCEPTED
    )
    long_ago = timezone.now() - timedelta(hours=1)
    CommandLog.objects.filter(pk__in=[stale.pk, answered.pk]).update(created=long_ago)

    assert expire_pending_commands() == 1
    assert expire_pending_commands() == 0
    statuses = dict(CommandLog.objects.values_list("pk", "status"))
    assert statuses == {
        stale.pk: CommandStatus.TIMEOUT,
        recent.pk: CommandStatus.PENDING,
        answered.pk: CommandStatus.ACCEPTED,
    }
