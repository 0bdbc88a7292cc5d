"""Emptying the database after a transactional test: DELETE, keeping what migrate created."""

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connections, transaction
from django.test import TransactionTestCase

# Django's flush TRUNCATEs every table, then post_migrate creates the content types and
# permissions again: about 325 ms on PostgreSQL per test (the gateway's 500 real-socket tests
# among them). Deleting the rows of every other table takes a few milliseconds and leaves the
# database as the flush would: empty but for migrate's own rows. Foreign keys are deferred on
# both backends, so the order of the deletes does not matter inside one transaction.
KEPT = {ContentType._meta.db_table, Permission._meta.db_table}

_flush = TransactionTestCase._fixture_teardown
_kept_rows: dict[str, tuple[int, int]] = {}


def _counts(connection) -> tuple[int, int]:
    with connection.cursor() as cursor:
        counted = []
        for table in sorted(KEPT):
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            counted.append(cursor.fetchone()[0])
    return tuple(counted)


def _empty(connection) -> bool:
    """Delete every row but migrate's own; False when those changed (or are not known yet)."""
    expected = _kept_rows.get(connection.alias)
    if expected is None or _counts(connection) != expected:
        return False
    tables = [
        table
        for table in connection.introspection.django_table_names(
            only_existing=True, include_views=False
        )
        if table not in KEPT
    ]
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")
    return True


def fixture_teardown(self) -> None:
    """TransactionTestCase's teardown with DELETE instead of flush, where it is the same."""
    if self.available_apps is not None or self.serialized_rollback:
        return _flush(self)
    aliases = self._databases_names(include_mirrors=False)
    if all(_empty(connections[alias]) for alias in aliases):
        return None
    # The first time, or a test changed content types or permissions: Django's own flush,
    # and its result is what the following deletes compare with.
    _flush(self)
    for alias in aliases:
        _kept_rows[alias] = _counts(connections[alias])
    return None
