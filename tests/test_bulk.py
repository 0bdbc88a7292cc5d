"""Bulk writes: COPY on PostgreSQL, one INSERT elsewhere; raw UPDATEs agree with the ORM."""

from datetime import UTC, datetime

from cms.bulk import execute_many, insert_rows
from ocpp_gateway.models import OcppMessage
from stations.models import ChargingStation
from tests.factories import ChargingStationFactory

T0 = datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)


def test_insert_rows_stores_plain_tuples_including_json(org):
    station = ChargingStationFactory(organization=org)
    columns = ("station_id", "ocpp_id", "direction", "message_type", "action", "unique_id",
               "payload", "raw", "created")  # fmt: skip
    rows = [
        (station.pk, station.ocpp_id, "in", 2, "Heartbeat", "1", {}, "", T0),
        (station.pk, station.ocpp_id, "out", 3, "Heartbeat", "1", {"a": [1, "ü"]}, "", T0),
        (None, "", "in", None, "", "", None, "[garbage", T0),
    ]

    assert insert_rows(OcppMessage, columns, rows) == 3

    stored = list(OcppMessage.objects.order_by("id").values_list("payload", "raw", "created"))
    assert stored == [({}, "", T0), ({"a": [1, "ü"]}, "", T0), (None, "[garbage", T0)]


def test_a_datetime_written_by_execute_many_matches_the_orm_exactly(org):
    station = ChargingStationFactory(organization=org)

    execute_many(
        ChargingStation, "UPDATE {table} SET status_at = %s WHERE id = %s", [(T0, station.pk)]
    )

    assert ChargingStation.objects.filter(status_at=T0).get().pk == station.pk
    assert ChargingStation.objects.filter(status_at__lte=T0).count() == 1
    assert ChargingStation.objects.get(pk=station.pk).status_at == T0
