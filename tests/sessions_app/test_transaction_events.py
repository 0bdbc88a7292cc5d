"""record_transaction_event: one session per transaction, whatever order its events come in."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from sessions_app.choices import AuthMethod, RemoteStartStatus, SessionState
from sessions_app.models import ChargingSession, RemoteStart, TransactionEvent
from sessions_app.selectors import MAX_MISSING_LISTED, missing_event_numbers
from sessions_app.services import (
    SampledValue,
    TransactionEventReport,
    record_transaction_event,
    start_session,
)
from stations.models import ChargingStation
from tests.factories import (
    AccessGroupFactory,
    ChargingStationFactory,
    IdTokenFactory,
    RemoteStartFactory,
)

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
CARD, OTHER_CARD = "04AABBCC01", "04AABBCC02"


@pytest.fixture
def station(org):
    station = ChargingStationFactory(organization=org)
    group = AccessGroupFactory(organization=org)
    station.site.access_groups.add(group)
    IdTokenFactory(organization=org, uid=CARD, access_groups=[group])
    IdTokenFactory(organization=org, uid=OTHER_CARD, access_groups=[group])
    return station


def at(minutes) -> datetime:
    return T0 + timedelta(minutes=minutes)


def register(wh, minutes, context="Sample.Periodic") -> SampledValue:
    return SampledValue(timestamp=at(minutes), value=Decimal(wh), context=context)


def event(station, event_type, seq_no, minutes, *, tx="TX-1", connector=1, **fields):
    """Record one event of transaction `tx` on the station."""
    fields.setdefault("trigger_reason", "MeterValuePeriodic")
    report = TransactionEventReport(
        transaction_id=tx,
        event_type=event_type,
        seq_no=seq_no,
        timestamp=at(minutes),
        payload={"seqNo": seq_no},
        connector_number=connector,
        **fields,
    )
    return record_transaction_event(station, report)


def test_a_late_started_event_moves_the_start_and_meter_start_back(station):
    event(station, "Updated", 1, 10, samples=[register(3000, 10)])
    event(
        station,
        "Started",
        0,
        0,
        id_tag=CARD,
        samples=[register(1000, 0, "Transaction.Begin")],
    )

    session = ChargingSession.objects.get()
    assert (session.start, session.meter_start, session.energy_wh) == (at(0), 1000, 2000)
    assert session.id_tag == CARD


def test_an_older_reading_arriving_late_lowers_no_energy(station):
    event(station, "Started", 0, 0, id_tag=CARD, samples=[register(1000, 0, "Transaction.Begin")])
    event(station, "Updated", 2, 20, samples=[register(5000, 20)])
    event(station, "Updated", 1, 10, samples=[register(3000, 10)])

    assert ChargingSession.objects.get().energy_wh == 4000


def test_a_superseded_session_still_takes_its_late_end(station):
    event(station, "Started", 0, 0, id_tag=CARD, samples=[register(1000, 0, "Transaction.Begin")])
    # The station lost TX-1 in a reboot and started TX-2 on the same connector.
    event(station, "Started", 0, 30, tx="TX-2", id_tag=OTHER_CARD)
    lost = ChargingSession.objects.get(transaction_id="TX-1")
    assert lost.state == SessionState.FAILED

    outcome = event(
        station,
        "Ended",
        1,
        25,
        stop_reason="PowerLoss",
        samples=[register(4000, 25, "Transaction.End")],
    )

    assert outcome.closed
    ended = ChargingSession.objects.get(transaction_id="TX-1")
    assert (ended.state, ended.stop_reason, ended.energy_wh) == ("completed", "PowerLoss", 3000)
    assert ChargingSession.objects.get(transaction_id="TX-2").state == SessionState.ACTIVE


def test_a_repeated_ended_event_with_a_new_seq_no_changes_nothing(station):
    event(station, "Started", 0, 0, id_tag=CARD, samples=[register(1000, 0, "Transaction.Begin")])
    first = event(station, "Ended", 1, 30, samples=[register(3000, 30, "Transaction.End")])
    again = event(station, "Ended", 2, 40, samples=[register(9000, 40, "Transaction.End")])

    assert (first.closed, again.closed, again.retransmission) == (True, False, False)
    session = ChargingSession.objects.get()
    assert (session.stop, session.meter_stop, session.energy_wh) == (at(30), 3000, 2000)


def test_a_token_for_a_finished_session_is_answered_but_not_recorded(station):
    event(station, "Started", 0, 0, id_tag=CARD)
    event(station, "Ended", 1, 30)

    late = event(station, "Updated", 2, 40, id_tag=OTHER_CARD, trigger_reason="Authorized")

    assert late.authorization.accepted
    assert ChargingSession.objects.get().id_tag == CARD


def test_an_unassigned_station_records_nothing_and_refuses_the_token():
    station = ChargingStationFactory(organization=None, site=None)

    outcome = event(station, "Started", 0, 0, id_tag=CARD)

    assert (outcome.session, outcome.event, outcome.authorization.status) == (None, None, "Invalid")
    assert not ChargingSession.objects.exists()


def test_a_remote_start_id_claims_its_remote_start_whatever_card_or_age(station):
    remote_start = RemoteStartFactory(station=station, id_tag=OTHER_CARD)
    # Outside the window a remote start is matched by card in; its id still names it.
    RemoteStart.objects.filter(pk=remote_start.pk).update(
        created_at=timezone.now() - timedelta(hours=2), status=RemoteStartStatus.FAILED
    )

    event(station, "Started", 0, 0, id_tag=CARD, remote_start_id=remote_start.pk)

    session = ChargingSession.objects.get()
    assert (session.auth_method, session.billable) == (AuthMethod.REMOTE, False)
    assert RemoteStart.objects.get().session_id == session.pk


def test_an_unknown_remote_start_id_falls_back_to_the_card(station):
    remote_start = RemoteStartFactory(station=station, id_tag=CARD)

    started = start_session(
        station,
        connector_number=1,
        id_tag=CARD,
        started_at=at(0),
        meter_start=0,
        transaction_id="TX-1",
        remote_start_id=remote_start.pk + 100,
    )

    assert started.session.auth_method == AuthMethod.REMOTE
    assert RemoteStart.objects.get().session_id == started.session.pk


def test_a_remote_start_of_another_station_is_not_claimed(station, org):
    elsewhere = RemoteStartFactory(station=ChargingStationFactory(organization=org), id_tag=CARD)

    event(station, "Started", 0, 0, id_tag=CARD, remote_start_id=elsewhere.pk)

    assert ChargingSession.objects.get().auth_method == AuthMethod.RFID
    assert RemoteStart.objects.get().session_id is None


def test_missing_event_numbers_lists_the_gaps_up_to_a_limit(station):
    for seq_no in (0, 1, 4, 6):
        event(station, "Updated", seq_no, seq_no)
    session = ChargingSession.objects.get()
    assert missing_event_numbers(session) == [2, 3, 5]

    event(station, "Updated", 10**12, 60)
    missing = missing_event_numbers(session)
    assert len(missing) == MAX_MISSING_LISTED
    assert missing[:4] == [2, 3, 5, 7]


def test_transaction_events_belong_to_their_session_s_organization(station, org, other_org):
    event(station, "Started", 0, 0, id_tag=CARD)
    theirs = ChargingStationFactory(organization=other_org)
    event(theirs, "Started", 0, 0, id_tag=CARD)

    mine = TransactionEvent.objects.for_org(org)
    assert [e.session.station_id for e in mine] == [station.pk]
    assert ChargingStation.objects.for_org(other_org).get() == theirs
