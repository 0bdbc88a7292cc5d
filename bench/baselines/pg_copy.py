"""Baseline of S5: the database alone taking the same meter-value rows, on one connection."""

import json
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bench import frames
from bench.provision import database_name
from sessions_app.services import METER_COLUMNS

SCRATCH_TABLE = "bench_copy_scratch"
# The columns the gateway writes, in its order.
COLUMNS = METER_COLUMNS


def meter_rows(count: int, stations: int) -> list[tuple]:
    """`count` rows shaped as the gateway stores one MeterValues message: 10 per message."""
    text = frames.meter_values("x", 1, 1, 1_234_567)
    sampled = json.loads(text)[3]["meterValue"][0]["sampledValue"]
    now = datetime.now(UTC)
    rows = []
    for n in range(count):
        message, sample = divmod(n, len(sampled))
        station = message % max(stations, 1) + 1
        value = sampled[sample]
        rows.append(
            (
                station,
                station,
                1,
                # Each message its own sampling time: a repeated time is a retransmission, which
                # the table's unique key (copied with the indexes) refuses.
                now + timedelta(microseconds=message),
                value["measurand"],
                value.get("phase", ""),
                value["unit"],
                value["context"],
                value["location"],
                Decimal(value["value"]).quantize(Decimal("0.000001")),
                "",
            )
        )
    return rows


def copy_rate(database_url: str, rows: list[tuple]) -> dict:
    """Rows per second of COPY into a copy of the meter-value table (same columns and indexes)."""
    if database_url.startswith("sqlite"):
        return _sqlite_insert_rate(database_url, rows)
    import psycopg

    columns = ", ".join(COLUMNS)
    with psycopg.connect(database_url) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {SCRATCH_TABLE}")
        # Without foreign keys (LIKE does not copy them): the stations need not exist.
        conn.execute(f"CREATE TABLE {SCRATCH_TABLE} (LIKE sessions_app_metervalue INCLUDING ALL)")
        conn.commit()
        try:
            began = time.perf_counter()
            with (
                conn.cursor() as cursor,
                cursor.copy(f"COPY {SCRATCH_TABLE} ({columns}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
            conn.commit()
            seconds = time.perf_counter() - began
        finally:
            conn.execute(f"DROP TABLE IF EXISTS {SCRATCH_TABLE}")
            conn.commit()
    return {
        "method": "PostgreSQL COPY, one connection, one transaction",
        "rows": len(rows),
        "seconds": round(seconds, 3),
        "rows_per_s": round(len(rows) / seconds, 1),
    }


def _sqlite_insert_rate(database_url: str, rows: list[tuple]) -> dict:
    """SQLite has no COPY: executemany in one transaction is its fastest bulk path."""
    conn = sqlite3.connect(database_name(database_url), timeout=20)
    try:
        conn.execute(f"DROP TABLE IF EXISTS {SCRATCH_TABLE}")
        conn.execute(
            f"CREATE TABLE {SCRATCH_TABLE} (id INTEGER PRIMARY KEY AUTOINCREMENT, "
            + ", ".join(COLUMNS)
            + ")"
        )
        conn.execute(f"CREATE INDEX {SCRATCH_TABLE}_a ON {SCRATCH_TABLE} (session_id, timestamp)")
        conn.execute(f"CREATE INDEX {SCRATCH_TABLE}_b ON {SCRATCH_TABLE} (station_id, timestamp)")
        conn.commit()
        placeholders = ", ".join("?" for _ in COLUMNS)
        plain = [(*row[:3], row[3].isoformat(), *row[4:9], str(row[9]), row[10]) for row in rows]
        began = time.perf_counter()
        with conn:
            conn.executemany(
                f"INSERT INTO {SCRATCH_TABLE} ({', '.join(COLUMNS)}) VALUES ({placeholders})",
                plain,
            )
        seconds = time.perf_counter() - began
        conn.execute(f"DROP TABLE IF EXISTS {SCRATCH_TABLE}")
        conn.commit()
    finally:
        conn.close()
    return {
        "method": "SQLite executemany, one transaction (no COPY in SQLite)",
        "rows": len(rows),
        "seconds": round(seconds, 3),
        "rows_per_s": round(len(rows) / max(seconds, 1e-9), 1),
    }
