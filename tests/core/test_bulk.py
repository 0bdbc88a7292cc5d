"""Bulk writes: COPY on PostgreSQL, one INSERT elsewhere; raw UPDATEs agree with the ORM."""

from datetime import UTC, datetime

import pytest
from django.db import OperationalError

from core.bulk import insert_good_rows, insert_rows, isolate_failures, update_from_values
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


MESSAGE_COLUMNS = ("ocpp_id", "direction", "action", "unique_id", "raw", "created")


def message(unique_id, action="Heartbeat"):
    return ("CS-1", "in", action, unique_id, "", T0)


def test_insert_good_rows_stores_every_row_but_the_one_the_database_refuses(db):
    rows = [message(str(n)) for n in range(40)]
    rows[17] = message("17", action="Heart\ud800beat")  # no database stores a lone surrogate

    refused = insert_good_rows(OcppMessage, MESSAGE_COLUMNS, rows)

    assert [row for row, _ in refused] == [rows[17]]
    stored = set(OcppMessage.objects.values_list("unique_id", flat=True))
    assert stored == {str(n) for n in range(40)} - {"17"}


def test_isolate_failures_finds_one_bad_item_by_halving_not_one_by_one(db):
    calls = []

    def write(part):
        calls.append(len(part))
        if 37 in part:
            raise ValueError("bad item")

    refused = isolate_failures(write, list(range(64)))

    assert [(item, str(error)) for item, error in refused] == [(37, "bad item")]
    assert len(calls) <= 2 * 6 + 1  # log2(64) levels, two halves each, plus the first try


def test_isolate_failures_keeps_the_good_rows_of_an_update_from_values(org):
    a, b, c = (ChargingStationFactory(organization=org) for _ in range(3))
    rows = [(a.pk, "Available"), (b.pk, "Faulted\x00"), (c.pk, "Charging")]

    def write(part):
        if any("\x00" in status for _, status in part):
            # What PostgreSQL answers for a NUL in text; SQLite would store it.
            raise ValueError("A string literal cannot contain NUL (0x00) characters.")
        update_from_values(
            ChargingStation, [("id", "bigint"), ("status", "varchar")], part, "status = v.status"
        )

    refused = isolate_failures(write, rows)

    assert [row for row, _ in refused] == [rows[1]]
    stored = dict(ChargingStation.objects.values_list("pk", "status"))
    assert (stored[a.pk], stored[c.pk]) == ("Available", "Charging")


def test_isolate_failures_raises_a_lost_connection_at_once_instead_of_halving(db):
    calls = []

    def write(part):
        calls.append(part)
        raise OperationalError("server closed the connection unexpectedly")

    with pytest.raises(OperationalError):
        isolate_failures(write, list(range(64)))
    assert len(calls) == 1
