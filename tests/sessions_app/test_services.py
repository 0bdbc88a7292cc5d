"""Session services: start, meter values and stop, as every OCPP version drives them."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.db import DatabaseError

from sessions_app.models import ChargingSession, MeterValue
from sessions_app.services import (
    MeterReport,
    SampledValue,
    parse_meter_value,
    record_meter_reports,
    record_meter_values,
    start_session,
    stop_session,
)
from tests.factories import (
    AccessGroupFactory,
    ChargingSessionFactory,
    ChargingStationFactory,
    IdTokenFactory,
    ReservationFactory,
)

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
T1 = T0 + timedelta(minutes=5)
T2 = T0 + timedelta(minutes=10)


@pytest.fixture
def card(org, station):
    group = AccessGroupFactory(organization=org, name="Staff")
    station.site.access_groups.add(group)
    return IdTokenFactory(organization=org, uid="04A1B2C3", access_groups=[group])


@pytest.fixture
def session(station, card):
    """A running session on connector 1 that started at meter reading 10,000 Wh."""
    return ChargingSessionFactory(
        station=station, id_token=card, transaction_id="501", meter_start=10_000
    )


def start(station, **overrides):
    arguments = {
        "connector_number": 1,
        "id_tag": "04A1B2C3",
        "started_at": T0,
        "meter_start": 10_000,
    }
    return start_session(station, **{**arguments, **overrides})


def energy(value, unit="Wh", timestamp=T1, **fields):
    return SampledValue(timestamp=timestamp, value=Decimal(value), unit=unit, **fields)


def power(value, unit="W", phase="", timestamp=T1):
    return SampledValue(
        timestamp=timestamp,
        value=Decimal(value),
        measurand="Power.Active.Import",
        unit=unit,
        phase=phase,
    )


def test_start_records_an_active_session_with_the_platform_transaction_id(org, station, card):
    started = start(station)

    session = ChargingSession.objects.get()
    assert started.created
    assert session.transaction_id == str(session.pk)
    assert (session.organization, session.connector.connector_id) == (org, 1)
    assert (session.id_token, session.id_tag, session.auth_status) == (card, "04A1B2C3", "Accepted")
    assert (session.start, session.meter_start, session.state) == (T0, 10_000, "active")
    assert session.billable


def test_retransmitted_start_returns_the_same_session_and_writes_nothing(station, card):
    first = start(station)

    again = start(station)

    assert again.session == first.session
    assert not again.created
    assert again.authorization.status == "Accepted"
    assert ChargingSession.objects.count() == 1


def test_start_at_a_new_time_on_the_same_connector_is_not_a_retransmission(station, card):
    start(station)

    second = start(station, started_at=T2, meter_start=12_000)

    assert second.created
    assert ChargingSession.objects.count() == 2


def test_unauthorized_start_is_recorded_but_not_billable(station):
    started = start(station, id_tag="UNKNOWN1")

    assert started.authorization.status == "Invalid"
    assert (started.session.auth_status, started.session.billable) == ("Invalid", False)
    assert started.session.id_token is None


def test_start_supersedes_the_session_the_station_lost_on_that_connector(station, card):
    lost = ChargingSessionFactory(station=station, id_tag="LOST", transaction_id="77")

    started = start(station, started_at=T2)

    lost.refresh_from_db()
    assert (lost.state, lost.stop_reason, lost.stop) == ("failed", "Superseded", T2)
    assert ChargingSession.objects.active().get() == started.session


def test_superseded_session_of_the_same_card_does_not_make_the_start_concurrent(station, card):
    ChargingSessionFactory(station=station, id_token=card, id_tag="04A1B2C3", transaction_id="77")

    assert start(station, started_at=T2).authorization.status == "Accepted"


def test_start_on_an_unknown_connector_creates_it(station, card):
    started = start(station, connector_number=4)

    assert started.session.connector == station.connectors.get(connector_id=4)


def test_tc_046_start_on_a_reservation_marks_it_used(station, card):
    reservation = ReservationFactory(station=station, id_tag="04A1B2C3")

    started = start(station, reservation_id=reservation.pk)

    reservation.refresh_from_db()
    assert reservation.status == "used"
    assert started.session.reservation == reservation


def test_reservation_of_another_station_is_not_used_by_our_start(org, station, card):
    foreign = ReservationFactory(station=ChargingStationFactory(organization=org))

    started = start(station, reservation_id=foreign.pk)

    foreign.refresh_from_db()
    assert foreign.status == "pending"
    assert started.session.reservation is None


def test_start_at_a_station_of_the_unassigned_pool_records_nothing(db):
    pool_station = ChargingStationFactory(organization=None, site=None)

    started = start(pool_station)

    assert started.session is None
    assert started.authorization.status == "Invalid"
    assert not ChargingSession.objects.exists()


def test_failed_start_leaves_the_session_it_would_supersede_active(station, card):
    lost = ChargingSessionFactory(station=station, transaction_id="77")

    with (
        mock.patch.object(ChargingSession.objects, "create", side_effect=DatabaseError("full")),
        pytest.raises(DatabaseError),
    ):
        start(station, started_at=T2)

    lost.refresh_from_db()
    assert (lost.state, lost.stop) == ("active", None)


def test_meter_values_with_a_known_transaction_update_the_session_energy(station, session):
    record_meter_values(
        station, connector_number=1, samples=[energy("12500")], transaction_id="501"
    )

    session.refresh_from_db()
    assert session.energy_wh == 2_500
    assert MeterValue.objects.get().session == session


def test_energy_register_in_kwh_is_converted_to_wh(station, session):
    record_meter_values(
        station, connector_number=1, samples=[energy("12.75", unit="kWh")], transaction_id="501"
    )

    session.refresh_from_db()
    assert session.energy_wh == 2_750


def test_latest_register_of_a_message_sets_the_energy(station, session):
    samples = [energy("11000", timestamp=T1), energy("13000", timestamp=T2)]

    record_meter_values(station, connector_number=1, samples=samples, transaction_id="501")

    session.refresh_from_db()
    assert session.energy_wh == 3_000


def test_late_older_register_does_not_lower_the_energy(station, session):
    record_meter_values(
        station, connector_number=1, samples=[energy("13000")], transaction_id="501"
    )

    record_meter_values(
        station, connector_number=1, samples=[energy("11000")], transaction_id="501"
    )

    session.refresh_from_db()
    assert session.energy_wh == 3_000


def test_register_below_meter_start_gives_no_negative_energy(station, session):
    record_meter_values(station, connector_number=1, samples=[energy("500")], transaction_id="501")

    session.refresh_from_db()
    assert session.energy_wh == 0


def test_total_power_is_stored_in_watts(station, session):
    record_meter_values(
        station, connector_number=1, samples=[power("7.4", unit="kW")], transaction_id="501"
    )

    session.refresh_from_db()
    assert session.last_power_w == 7_400


def test_power_per_phase_is_summed(station, session):
    samples = [power("3680", phase="L1"), power("3680", phase="L2"), power("3640", phase="L3")]

    record_meter_values(station, connector_number=1, samples=samples, transaction_id="501")

    session.refresh_from_db()
    assert session.last_power_w == 11_000


def test_total_power_is_preferred_over_its_phases(station, session):
    samples = [power("3680", phase="L1"), power("3700"), power("3680", phase="L2")]

    record_meter_values(station, connector_number=1, samples=samples, transaction_id="501")

    session.refresh_from_db()
    assert session.last_power_w == 3_700


def test_meter_values_without_transaction_belong_to_the_station(station, session):
    record_meter_values(station, connector_number=0, samples=[energy("99999")])

    value = MeterValue.objects.get()
    assert (value.session, value.station, value.connector_number) == (None, station, 0)
    session.refresh_from_db()
    assert session.energy_wh == 0


def test_meter_values_of_an_unknown_transaction_belong_to_the_station(station, caplog):
    record_meter_values(station, connector_number=1, samples=[energy("1")], transaction_id="999")

    assert MeterValue.objects.get().session is None
    assert "unknown transaction 999" in caplog.text


def test_signed_meter_value_is_kept_as_signed_data_without_value(station, session):
    signed = SampledValue(timestamp=T1, value=None, signed_data="OCMF|{...}|{...}")

    record_meter_values(station, connector_number=1, samples=[signed], transaction_id="501")

    stored = MeterValue.objects.get()
    assert (stored.value, stored.signed_data) == (None, "OCMF|{...}|{...}")
    session.refresh_from_db()
    assert session.energy_wh == 0


def test_meter_values_after_the_stop_are_kept_but_do_not_change_the_energy(station, session):
    session.state, session.energy_wh = "completed", 2_000
    session.save()

    record_meter_values(
        station, connector_number=1, samples=[energy("20000")], transaction_id="501"
    )

    session.refresh_from_db()
    assert session.energy_wh == 2_000
    assert MeterValue.objects.get().session == session


def test_a_meter_values_message_is_stored_with_one_insert(
    station, session, django_assert_max_num_queries
):
    samples = [
        energy(str(11_000 + n), timestamp=T0 + timedelta(seconds=n), phase=phase)
        for n in range(10)
        for phase in ("", "L1", "L2")
    ]

    # PostgreSQL: 2 more, the savepoint around the COPY that a retransmission would fail.
    with django_assert_max_num_queries(7) as captured:
        record_meter_values(station, connector_number=1, samples=samples, transaction_id="501")

    # One statement puts all rows into the table (COPY, or INSERT skipping stored samples).
    writes = [q for q in captured.captured_queries if writes_meter_rows(q["sql"])]
    assert len(writes) == 1
    assert MeterValue.objects.count() == 30


def test_many_stations_meter_reports_are_written_with_one_query_per_table(
    org, station, session, django_assert_max_num_queries
):
    other = ChargingStationFactory(organization=org)
    other_session = ChargingSessionFactory(station=other, transaction_id="77", meter_start=0)
    reports = [
        MeterReport(station, 1, [energy("12000"), power("7200")], transaction_id="501"),
        MeterReport(other, 1, [energy("3000")], transaction_id="77"),
        MeterReport(other, 2, [energy("99")], transaction_id="999"),  # unknown: kept on station
        MeterReport(other, 0, [power("50")]),  # no transaction
    ]

    # Sessions, rows, live readings, and the savepoint around them.
    # PostgreSQL: 2 more, for the staging table of the meter values' dedup insert.
    with django_assert_max_num_queries(7):
        found = record_meter_reports(reports)

    assert [s.pk if s else None for s in found] == [session.pk, other_session.pk, None, None]
    session.refresh_from_db()
    other_session.refresh_from_db()
    assert (session.energy_wh, session.last_power_w) == (2_000, 7_200)
    assert other_session.energy_wh == 3_000
    assert MeterValue.objects.filter(session__isnull=True, station=other).count() == 2
    assert MeterValue.objects.count() == 5


def test_a_report_of_a_finished_session_leaves_its_energy_alone(station, session):
    session.state = "completed"
    session.energy_wh = 500
    session.save()
    record_meter_reports([MeterReport(station, 1, [energy("20000")], transaction_id="501")])
    session.refresh_from_db()
    assert session.energy_wh == 500
    assert MeterValue.objects.filter(session=session).count() == 1


def test_stop_closes_the_session_with_energy_and_reason(station, session):
    stopped = stop_session(
        station, transaction_id="501", stopped_at=T2, meter_stop=18_500, reason="EVDisconnected"
    )

    session.refresh_from_db()
    assert stopped.closed
    assert (session.state, session.stop, session.meter_stop) == ("completed", T2, 18_500)
    assert (session.energy_wh, session.stop_reason) == (8_500, "EVDisconnected")


def test_stop_with_a_meter_below_the_start_gives_no_negative_energy(station, session):
    stop_session(station, transaction_id="501", stopped_at=T2, meter_stop=0, reason="Local")

    session.refresh_from_db()
    assert session.energy_wh == 0


def test_stop_stores_the_transaction_data_on_the_session(station, session):
    samples = [
        energy("10000", timestamp=T0, context="Transaction.Begin"),
        energy("18500", timestamp=T2, context="Transaction.End"),
    ]

    stop_session(
        station,
        transaction_id="501",
        stopped_at=T2,
        meter_stop=18_500,
        reason="Local",
        samples=samples,
    )

    stored = list(session.meter_values.values_list("context", "value", "connector_number"))
    assert stored == [
        ("Transaction.Begin", Decimal("10000"), 1),
        ("Transaction.End", Decimal("18500"), 1),
    ]


def test_stop_answers_the_authorization_of_the_id_tag_given(station, session):
    stopped = stop_session(
        station,
        transaction_id="501",
        stopped_at=T2,
        meter_stop=1,
        reason="Local",
        id_tag="04a1b2c3",
    )

    # The card's only session is the one ending: no ConcurrentTx for a stop.
    assert stopped.authorization.status == "Accepted"


def test_stop_of_an_unknown_transaction_is_answered_and_logged(station, caplog):
    stopped = stop_session(
        station, transaction_id="404", stopped_at=T2, meter_stop=1, reason="Local"
    )

    assert (stopped.session, stopped.closed) == (None, False)
    assert "unknown transaction 404" in caplog.text


def test_retransmitted_stop_changes_nothing(station, session, caplog):
    stop_session(station, transaction_id="501", stopped_at=T2, meter_stop=18_500, reason="Local")

    again = stop_session(
        station,
        transaction_id="501",
        stopped_at=T2 + timedelta(minutes=1),
        meter_stop=19_000,
        reason="Remote",
        samples=[energy("19000")],
    )

    session.refresh_from_db()
    assert not again.closed
    assert (session.stop, session.meter_stop, session.stop_reason) == (T2, 18_500, "Local")
    assert not session.meter_values.exists()
    assert "again" in caplog.text


def test_tc_032_1_queued_stop_after_a_superseding_start_completes_the_lost_session(
    station, session, card
):
    start(station, started_at=T2, meter_start=30_000)

    stop_session(
        station, transaction_id="501", stopped_at=T1, meter_stop=18_000, reason="PowerLoss"
    )

    session.refresh_from_db()
    assert (session.state, session.stop, session.energy_wh) == ("completed", T1, 8_000)
    assert session.stop_reason == "PowerLoss"


def test_stop_enqueues_billing_after_commit(station, session, django_capture_on_commit_callbacks):
    with (
        mock.patch("billing.tasks.rate_session.delay") as rate_session,
        django_capture_on_commit_callbacks(execute=True),
    ):
        stop_session(station, transaction_id="501", stopped_at=T2, meter_stop=1, reason="Local")
        rate_session.assert_not_called()

    rate_session.assert_called_once_with(session.pk)


def test_database_error_in_the_middle_of_a_stop_leaves_the_session_active_and_unchanged(
    station, session, django_capture_on_commit_callbacks
):
    with (
        mock.patch(
            "sessions_app.services._insert_meter_rows", side_effect=DatabaseError("disk full")
        ),
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(DatabaseError),
    ):
        stop_session(
            station,
            transaction_id="501",
            stopped_at=T2,
            meter_stop=18_500,
            reason="Local",
            samples=[energy("18500", timestamp=T2)],
        )

    session.refresh_from_db()
    assert (session.state, session.stop, session.meter_stop) == ("active", None, None)
    assert (session.energy_wh, session.stop_reason) == (0, "")
    assert callbacks == []


def test_our_stop_and_meter_values_never_touch_an_outsider_session_with_the_same_id(
    station, session, other_org
):
    outsider = ChargingSessionFactory(
        station=ChargingStationFactory(organization=other_org), transaction_id="777"
    )

    record_meter_values(
        station, connector_number=1, samples=[energy("50000")], transaction_id="777"
    )
    stop_session(station, transaction_id="777", stopped_at=T2, meter_stop=50_000, reason="Local")

    outsider.refresh_from_db()
    assert (outsider.state, outsider.energy_wh, outsider.stop) == ("active", 0, None)
    assert not MeterValue.objects.for_org(other_org).exists()
    assert MeterValue.objects.for_org(station.organization).get().session is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("12.5", Decimal("12.5")), (" 7 ", Decimal(7)), ("1e3", Decimal(1000)), (42, Decimal(42))],
)
def test_meter_readings_are_parsed_as_decimals(raw, expected):
    assert parse_meter_value(raw) == expected


@pytest.mark.parametrize("raw", ["", "n/a", "NaN", "Infinity", "1e20"])
def test_readings_that_are_not_finite_meter_numbers_parse_as_none(raw):
    assert parse_meter_value(raw) is None


def writes_meter_rows(sql: str) -> bool:
    """Whether a statement writes rows into the meter-value table itself."""
    return sql.startswith('COPY "sessions_app_metervalue" (') or (
        'INTO "sessions_app_metervalue" (' in sql
    )
