"""Bulk writes: COPY on PostgreSQL, one INSERT elsewhere; raw UPDATEs agree with the ORM."""

from datetime import UTC, datetime

from cms.bulk import insert_rows, update_from_values
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


def test_a_datetime_written_by_update_from_values_matches_the_orm_exactly(org):
    station = ChargingStationFactory(organization=org)

    update_from_values(
        ChargingStation,
        [("id", "bigint"), ("at", "timestamptz")],
        [(station.pk, T0)],
        "status_at = v.at",
    )

    assert ChargingStation.objects.filter(status_at=T0).get().pk == station.pk
    assert ChargingStation.objects.filter(status_at__lte=T0).count() == 1
    assert ChargingStation.objects.get(pk=station.pk).status_at == T0


def test_update_from_values_updates_only_the_rows_named_and_meeting_the_condition(org):
    a, b, c = (ChargingStationFactory(organization=org) for _ in range(3))
    columns = [("id", "bigint"), ("status", "varchar"), ("interval", "integer")]
    rows = [(a.pk, "Available", None), (b.pk, "Faulted", 60)]

    update_from_values(
        ChargingStation,
        columns,
        rows,
        "status = v.status, heartbeat_interval = COALESCE(v.interval, t.heartbeat_interval)",
        "v.status <> 'Faulted'",
    )

    stored = {s.pk: s for s in ChargingStation.objects.all()}
    assert (stored[a.pk].status, stored[a.pk].heartbeat_interval) == (
        "Available",
        a.heartbeat_interval,
    )
    assert stored[b.pk].status == b.status  # the condition left it alone
    assert stored[c.pk].status == c.status  # not named
