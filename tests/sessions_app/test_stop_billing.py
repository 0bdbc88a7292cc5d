"""Stopping billing of a running or finished session: the service and the `stop_billing` command."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import ChargeDetailRecord, TariffAssignment
from billing.services import rate_session
from ocpp_gateway.models import CommandLog
from ocpp_gateway.remote import Actor, CommandNotAllowed, InvalidCommandParameters, execute_command
from organizations.choices import Role
from sessions_app.services import BillingStopRefused, stop_billing, stop_session
from stations.choices import ConnectionState
from stations.models import ChargingStation
from tests.factories import (
    ChargingSessionFactory,
    ChargingStationFactory,
    MembershipFactory,
    TariffFactory,
    UserFactory,
    energy_elements,
)

REASON = "Meter reports 40 kWh for a 10-minute session"


@pytest.fixture
def operator(org):
    user = UserFactory(username="operator")
    MembershipFactory(user=user, organization=org, role=Role.OPERATOR)
    return user


def acting(user):
    """The operator as the actor of a command."""
    return Actor(user=user, role=Role.OPERATOR)


@pytest.fixture
def session(station):
    """A running session on connector 1 of the (offline) shared station, an hour old."""
    # An hour, not a moment: 10 kWh in no time at all would hold it for review.
    started = timezone.now() - timedelta(hours=1)
    return ChargingSessionFactory(station=station, transaction_id="7001", start=started)


def on_connector(station, number):
    return ChargingSessionFactory(
        station=station, connector=station.connectors.get(connector_id=number)
    )


def test_stop_billing_makes_the_session_unbillable_and_keeps_who_and_why(session, operator):
    before = timezone.now()

    stop_billing(session, user=operator, reason=f"  {REASON} ")

    session.refresh_from_db()
    assert (session.billable, session.billing_stopped) == (False, True)
    assert (session.billing_stopped_by, session.billing_stopped_reason) == (operator, REASON)
    assert before <= session.billing_stopped_at <= timezone.now()


def test_stop_billing_twice_is_refused_and_the_first_decision_stands(session, operator, org):
    stop_billing(session, user=operator, reason=REASON)
    someone_else = UserFactory(username="someone-else")

    with pytest.raises(BillingStopRefused):
        stop_billing(session, user=someone_else, reason="Second thoughts")

    session.refresh_from_db()
    assert (session.billing_stopped_by, session.billing_stopped_reason) == (operator, REASON)


def test_stop_billing_needs_a_reason(session, operator):
    with pytest.raises(ValueError, match="reason"):
        stop_billing(session, user=operator, reason="   ")

    session.refresh_from_db()
    assert (session.billable, session.billing_stopped) == (True, False)


def test_stop_billing_of_a_finished_and_rated_session_credits_its_charge(
    station, session, operator, org
):
    tariff = TariffFactory(organization=org, elements=energy_elements("0.4000"), tax_rate="0")
    TariffAssignment.objects.create(organization=org, tariff=tariff, scope="organization")
    stop_session(
        station,
        transaction_id=session.transaction_id,
        stopped_at=timezone.now(),
        meter_stop=10_000,
        reason="Local",
    )
    charge = rate_session(session.pk)

    stop_billing(session, user=operator, reason=REASON)

    credit = ChargeDetailRecord.objects.get(session=session, kind="credit")
    assert (charge.total_incl_tax, credit.total_incl_tax) == (Decimal("4.00"), Decimal("-4.00"))
    assert (credit.corrects, credit.reason) == (
        charge,
        f"Credit: Billing stopped by operator: {REASON}",
    )


def test_a_session_with_billing_stopped_is_rated_at_zero_with_who_and_why(
    station, session, operator, org, django_capture_on_commit_callbacks, eager_celery
):
    tariff = TariffFactory(
        organization=org,
        elements=[
            {
                "price_components": [
                    {"type": "ENERGY", "price": "0.4000"},
                    {"type": "FLAT", "price": "1.00"},
                ]
            }
        ],
    )
    TariffAssignment.objects.create(organization=org, tariff=tariff, scope="organization")
    stop_billing(session, user=operator, reason=REASON)

    with django_capture_on_commit_callbacks(execute=True):
        stop_session(
            station,
            transaction_id=session.transaction_id,
            stopped_at=timezone.now(),
            meter_stop=12_000,
            reason="Local",
        )

    cdr = ChargeDetailRecord.objects.get(session=session)
    assert (cdr.total_incl_tax, cdr.energy_wh) == (0, 12_000)
    assert cdr.reason == f"Billing stopped by operator: {REASON}"
    assert cdr.billing_stopped_by == operator


def test_the_command_stops_billing_and_logs_who_and_why(station, session, operator):
    log = execute_command(station, "stop_billing", {"reason": REASON}, actor=acting(operator))

    session.refresh_from_db()
    assert (session.billing_stopped, session.billing_stopped_by) == (True, operator)
    assert log == CommandLog.objects.get()
    assert (log.command, log.action, log.status) == ("stop_billing", "", "accepted")
    assert log.payload == {"transactionId": "7001", "reason": REASON}
    assert (log.requested_by, log.completed) == (operator, session.billing_stopped_at)


def test_the_command_works_while_the_station_is_offline(station, session, operator):
    assert station.connection_state == ConnectionState.OFFLINE

    log = execute_command(station, "stop_billing", {"reason": REASON}, actor=acting(operator))

    assert log.status == "accepted"


def test_the_command_stops_billing_of_the_chosen_connectors_session(station, operator):
    first, second = on_connector(station, 1), on_connector(station, 2)

    execute_command(
        station, "stop_billing", {"reason": REASON, "connector_id": 2}, actor=acting(operator)
    )

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.billing_stopped, second.billing_stopped) == (False, True)


def test_the_command_asks_for_the_connector_when_several_sessions_run(station, operator):
    on_connector(station, 1)
    on_connector(station, 2)

    with pytest.raises(InvalidCommandParameters) as refused:
        execute_command(station, "stop_billing", {"reason": REASON}, actor=acting(operator))

    assert list(refused.value.errors) == ["connector_id"]


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_the_command_needs_a_reason(station, session, operator, reason):
    params = {} if reason is None else {"reason": reason}

    with pytest.raises(InvalidCommandParameters) as refused:
        execute_command(station, "stop_billing", params, actor=acting(operator))

    assert list(refused.value.errors) == ["reason"]
    assert not CommandLog.objects.exists()


def test_the_command_is_refused_without_a_running_session(station, operator):
    with pytest.raises(CommandNotAllowed) as refused:
        execute_command(station, "stop_billing", {"reason": REASON}, actor=acting(operator))

    assert refused.value.reason == "No session is running."
    assert not CommandLog.objects.exists()


def test_the_command_is_refused_the_second_time(station, session, operator):
    execute_command(station, "stop_billing", {"reason": REASON}, actor=acting(operator))

    with pytest.raises(CommandNotAllowed) as refused:
        execute_command(station, "stop_billing", {"reason": "Again"}, actor=acting(operator))

    assert refused.value.reason == "Billing of the running session is already stopped."
    assert CommandLog.objects.count() == 1


def test_the_command_never_touches_a_session_of_another_station(station, org, operator):
    elsewhere = ChargingSessionFactory(station=ChargingStationFactory(organization=org))

    with pytest.raises(CommandNotAllowed):
        execute_command(station, "stop_billing", {"reason": REASON}, actor=acting(operator))

    elsewhere.refresh_from_db()
    assert not elsewhere.billing_stopped


def test_an_online_station_needs_no_message_to_stop_billing(station, session, operator):
    ChargingStation.objects.filter(pk=station.pk).update(connection_state=ConnectionState.ONLINE)
    station.refresh_from_db()

    log = execute_command(station, "stop_billing", {"reason": REASON}, actor=acting(operator))

    # Nothing went to the station: a call would have found no connection and said offline.
    assert (log.status, log.action, log.response) == ("accepted", "", None)
