"""record_running_updates: a batch of plain Updated events costs a few statements, not many each."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sessions_app.models import ChargingSession, MeterValue, TransactionEvent
from sessions_app.services import (
    SampledValue,
    TransactionEventReport,
    record_running_updates,
    record_transaction_event,
)
from tests.factories import AccessGroupFactory, ChargingStationFactory, IdTokenFactory

pytestmark = pytest.mark.django_db

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def at(minutes) -> datetime:
    return T0 + timedelta(minutes=minutes)


def report(event_type, seq_no, minutes, wh, *, tx, **fields) -> TransactionEventReport:
    return TransactionEventReport(
        transaction_id=tx,
        event_type=event_type,
        seq_no=seq_no,
        timestamp=at(minutes),
        trigger_reason=fields.pop("trigger_reason", "MeterValuePeriodic"),
        payload={"seqNo": seq_no},
        connector_number=1,
        samples=(SampledValue(timestamp=at(minutes), value=Decimal(wh)),),
        **fields,
    )


@pytest.fixture
def running(org):
    """Ten stations, each with a running 2.0.1 transaction that began at 10,000 Wh."""
    group = AccessGroupFactory(organization=org)
    pairs = []
    for n in range(10):
        station = ChargingStationFactory(organization=org)
        station.site.access_groups.add(group)
        uid = f"04RUN{n:05d}"
        IdTokenFactory(organization=org, uid=uid, access_groups=[group])
        tx = f"TX-RUN-{n}"
        record_transaction_event(
            station, report("Started", 0, 0, 10_000, tx=tx, id_tag=uid, trigger_reason="Authorized")
        )
        pairs.append((station, tx))
    return pairs


def test_plain_updates_of_many_sessions_are_written_together(running):
    first_five = running[:5]
    batch = [(station, report("Updated", 1, 15, 12_000 + n, tx=tx)) for n, (station, tx) in
             enumerate(first_five)]  # fmt: skip
    with CaptureQueriesContext(connection) as five:
        recorded = record_running_updates(batch)
    assert sorted(recorded) == [0, 1, 2, 3, 4]
    sessions = ChargingSession.objects.filter(transaction_id__in=[tx for _, tx in first_five])
    assert sorted(s.energy_wh for s in sessions) == [2_000, 2_001, 2_002, 2_003, 2_004]
    assert TransactionEvent.objects.filter(seq_no=1, response={}).count() == 5
    assert MeterValue.objects.filter(session__in=sessions).count() == 10

    # Ten more events cost the same statements as five: the work is per batch.
    more = [(station, report("Updated", 2, 30, 14_000, tx=tx)) for station, tx in running]
    with CaptureQueriesContext(connection) as again:
        assert len(record_running_updates(more)) == 10
    assert len(again) == len(five)


def test_anything_but_a_plain_newest_update_is_left_to_the_one_by_one_path(running):
    (station, tx), (other, other_tx) = running[0], running[1]
    record_running_updates([(station, report("Updated", 3, 20, 13_000, tx=tx))])
    batch = [
        # A retransmission, an older event, an end and an unknown transaction: not here.
        (station, report("Updated", 3, 20, 13_000, tx=tx)),
        (station, report("Updated", 2, 10, 11_000, tx=tx)),
        (other, report("Ended", 1, 40, 15_000, tx=other_tx)),
        (other, report("Updated", 1, 5, 10_500, tx="TX-NEVER-STARTED")),
        # Two new events of one session in one batch: the first here, the second one by one.
        (other, report("Updated", 1, 10, 11_000, tx=other_tx)),
        (other, report("Updated", 2, 20, 12_000, tx=other_tx)),
    ]
    assert sorted(record_running_updates(batch)) == [4]
    session = ChargingSession.objects.get(transaction_id=tx)
    assert (session.meter_start, session.energy_wh) == (10_000, 3_000)
    assert TransactionEvent.objects.filter(session=session).count() == 2
