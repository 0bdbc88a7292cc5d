"""Bulk writes of many rows: COPY on PostgreSQL, one multi-row INSERT elsewhere."""

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from django.db import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    connections,
    models,
    transaction,
)
from psycopg.errors import UniqueViolation
from psycopg.types.json import Jsonb


def insert_rows(model: type[models.Model], columns: Sequence[str], rows: Sequence[tuple]) -> int:
    """Insert plain tuples (in `columns` order, column names) without building model instances."""
    if not rows:
        return 0
    connection = connections[model.objects.db]
    if connection.vendor != "postgresql":
        model.objects.bulk_create(
            [model(**dict(zip(columns, row, strict=True))) for row in rows], batch_size=500
        )
        return len(rows)
    by_column = {field.column: field for field in model._meta.concrete_fields}
    json_columns = [
        index
        for index, column in enumerate(columns)
        if isinstance(by_column[column], models.JSONField)
    ]
    if json_columns:
        rows = [_wrap_json(row, json_columns) for row in rows]
    sql = (
        f"COPY {connection.ops.quote_name(model._meta.db_table)} ({', '.join(columns)}) FROM STDIN"
    )
    started = time.monotonic()
    # COPY takes rows at several times the speed of INSERT and skips Django's per-row work.
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)
    if connection.queries_logged:
        # COPY bypasses Django's cursor wrapper; query budgets and debug tools must see it.
        connection.queries_log.append(
            {"sql": f"{sql} -- {len(rows)} rows", "time": f"{time.monotonic() - started:.3f}"}
        )
    return len(rows)


def insert_rows_ignoring_conflicts(
    model: type[models.Model], columns: Sequence[str], rows: Sequence[tuple]
) -> None:
    """Insert plain tuples like `insert_rows`, skipping rows a unique constraint already holds."""
    if not rows:
        return
    connection = connections[model.objects.db]
    if connection.vendor != "postgresql":
        model.objects.bulk_create(
            [model(**dict(zip(columns, row, strict=True))) for row in rows],
            batch_size=500,
            ignore_conflicts=True,
        )
        return
    # COPY cannot skip a conflict, but conflicts are rare (a station retransmitting): try plain
    # COPY in a savepoint first, and only when a row is there already take the slower road
    # through a staging table (docs/benchmarks.md, "Meter value writes without duplicates").
    try:
        with transaction.atomic(using=connection.alias):
            insert_rows(model, columns, rows)
        return
    except (IntegrityError, UniqueViolation):
        pass
    # COPY into a session-local staging table, then one INSERT ... ON CONFLICT DO NOTHING from
    # it. The staging table empties itself: its rows are moved, not copied.
    table = connection.ops.quote_name(model._meta.db_table)
    staging = connection.ops.quote_name(f"{model._meta.db_table}_staging")
    names = ", ".join(columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {staging} ON COMMIT DELETE ROWS AS "
            f"SELECT {names} FROM {table} WITH NO DATA"
        )
    insert_rows_into(connection, staging, columns, rows)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH moved AS (DELETE FROM {staging} RETURNING {names}) "
            f"INSERT INTO {table} ({names}) SELECT {names} FROM moved ON CONFLICT DO NOTHING"
        )


def insert_rows_into(connection, table: str, columns: Sequence[str], rows: Sequence[tuple]):
    """COPY plain tuples into a quoted table name (no JSON columns), visible to query logs."""
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    started = time.monotonic()
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)
    if connection.queries_logged:
        connection.queries_log.append(
            {"sql": f"{sql} -- {len(rows)} rows", "time": f"{time.monotonic() - started:.3f}"}
        )


def insert_good_rows(
    model: type[models.Model], columns: Sequence[str], rows: Sequence[tuple]
) -> list[tuple[tuple, Exception]]:
    """Insert every row the database takes; returns the rows it refused, each with its error."""
    return isolate_failures(lambda part: insert_rows(model, columns, part), rows)


def isolate_failures(
    write: Callable[[Sequence], Any], items: Sequence
) -> list[tuple[Any, Exception]]:
    """Run write(items) so one bad item costs only itself; returns the bad items and why.

    The whole lot is tried in a savepoint first; on failure it is halved and each half tried
    again, so one bad item among 2,000 costs about 22 writes, not 2,000. A lost connection or a
    deadlock is raised at once: halving cannot help and every retry would fail the same way.
    """
    rejected: list[tuple[Any, Exception]] = []
    pending = [list(items)] if items else []
    while pending:
        part = pending.pop()
        try:
            with transaction.atomic():
                write(part)
        except (OperationalError, InterfaceError):
            raise
        except Exception as exc:
            if len(part) == 1:
                rejected.append((part[0], exc))
            else:
                middle = len(part) // 2
                pending.extend((part[middle:], part[:middle]))
    return rejected


def _wrap_json(row: tuple, json_columns: list[int]) -> tuple:
    values = list(row)
    for index in json_columns:
        if values[index] is not None:
            values[index] = Jsonb(values[index])
    return tuple(values)


def update_from_values(
    model: type[models.Model],
    columns: Sequence[tuple[str, str]],
    rows: Sequence[tuple],
    assignments: str,
    condition: str = "",
) -> None:
    """Update many rows with one statement: the first column is the primary key.

    `columns` are (name, PostgreSQL type); `assignments` and `condition` name the table `t` and
    the values `v`, e.g. `status = v.status` and `t.status_at <= v.status_at`.
    """
    if not rows:
        return
    connection = connections[model.objects.db]
    if connection.vendor == "postgresql":
        # VALUES takes its column types from the data; a column of NULLs needs them spelt out.
        placeholders = ", ".join(f"%s::{sql_type}" for _, sql_type in columns)
    else:
        placeholders = ", ".join("%s" for _ in columns)
        # Raw parameters skip Django's adaptation: SQLite must get datetimes in Django's text
        # format, or comparisons with the values the ORM wrote go wrong.
        adapt = connection.ops.adapt_datetimefield_value
        rows = [
            tuple(adapt(value) if isinstance(value, datetime) else value for value in row)
            for row in rows
        ]
    names = ", ".join(name for name, _ in columns)
    table = connection.ops.quote_name(model._meta.db_table)
    where = f"t.{model._meta.pk.column} = v.{columns[0][0]}"
    if condition:
        where += f" AND ({condition})"
    # One statement for the lot: a pipeline of one UPDATE per row still makes the database
    # plan and run each of them (SQLite needs 3.33 for UPDATE ... FROM).
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 1000):
            chunk = rows[start : start + 1000]
            values = ", ".join(f"({placeholders})" for _ in chunk)
            cursor.execute(
                f"WITH v({names}) AS (VALUES {values}) "
                f"UPDATE {table} AS t SET {assignments} FROM v WHERE {where}",
                [value for row in chunk for value in row],
            )
