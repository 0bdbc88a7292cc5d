"""Support staff stop billing of finished sessions in the admin: priced ones are credited."""

from datetime import UTC, datetime
from decimal import Decimal

from billing.choices import AssignmentScope, CdrKind
from billing.models import ChargeDetailRecord, TariffAssignment
from billing.services import rate_session
from sessions_app.choices import SessionState
from sessions_app.models import ChargingSession
from tests.admin.helpers import admin_url
from tests.factories import ChargingSessionFactory, TariffFactory, energy_elements

STOP = datetime(2026, 1, 1, 13, 0, tzinfo=UTC)


def finished_priced_session(station):
    tariff = TariffFactory(organization=station.organization, elements=energy_elements("0.50"))
    TariffAssignment.objects.create(
        organization=station.organization, tariff=tariff, scope=AssignmentScope.ORGANIZATION
    )
    session = ChargingSessionFactory(
        station=station,
        state=SessionState.COMPLETED,
        stop=STOP,
        meter_stop=10_000,
        energy_wh=10_000,
    )
    rate_session(session.pk)
    return session


def stop_billing_in_admin(client, session, reason="Goodwill after a failed charge"):
    return client.post(
        admin_url(ChargingSession, "changelist"),
        {
            "action": "stop_billing",
            "_selected_action": [session.pk],
            "apply": "yes",
            "reason": reason,
        },
    )


def test_finished_session_is_offered_for_stopping_billing(superuser_client, station):
    session = finished_priced_session(station)
    response = superuser_client.post(
        admin_url(ChargingSession, "changelist"),
        {"action": "stop_billing", "_selected_action": [session.pk]},
    )
    assert response.status_code == 200
    assert str(session).encode() in response.content


def test_stopping_billing_of_a_priced_session_writes_one_credit(superuser_client, station):
    session = finished_priced_session(station)
    charge = ChargeDetailRecord.objects.get(session=session)
    # 10 kWh at 0.50 = 5.00 excl.; 19 % tax = 0.95.
    assert charge.total_incl_tax == Decimal("5.95")

    response = stop_billing_in_admin(superuser_client, session)

    assert response.status_code == 302
    credit = ChargeDetailRecord.objects.get(session=session, kind=CdrKind.CREDIT)
    assert credit.corrects == charge
    assert credit.total_incl_tax == Decimal("-5.95")
    assert credit.billing_stopped_by.username == "support"
    assert "Goodwill after a failed charge" in credit.reason
    charge.refresh_from_db()
    assert charge.total_incl_tax == Decimal("5.95")


def test_a_session_whose_billing_is_stopped_is_not_credited_twice(superuser_client, station):
    session = finished_priced_session(station)
    stop_billing_in_admin(superuser_client, session)
    stop_billing_in_admin(superuser_client, session, reason="Second click")
    assert ChargeDetailRecord.objects.filter(session=session, kind=CdrKind.CREDIT).count() == 1
