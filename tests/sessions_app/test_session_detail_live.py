"""The session page's progress: cost so far from billing's engine, curves, state of charge."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings

from billing.engine import Usage, price_session
from billing.models import TariffAssignment
from organizations.choices import Role
from stations.models import EVChargingNeeds
from tests.factories import (
    ChargingSessionFactory,
    ChargingStationFactory,
    MeterValueFactory,
    TariffFactory,
)
from tests.portalclients import ROLES, org_url, portal_client

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
NOW = START + timedelta(minutes=47, seconds=13)
ENERGY_AND_TIME = [
    {
        "price_components": [
            {"type": "ENERGY", "price": "0.3900", "step_size": 1},
            {"type": "TIME", "price": "1.20", "step_size": 60},
        ]
    }
]


@pytest.fixture
def viewer(org):
    return portal_client(org, Role.VIEWER)


@pytest.fixture
def tariff(org):
    tariff = TariffFactory(organization=org, elements=ENERGY_AND_TIME)
    TariffAssignment.objects.create(organization=org, tariff=tariff, scope="organization")
    return tariff


def running(station, **fields):
    return ChargingSessionFactory(
        station=station, start=START, meter_start=10_000, energy_wh=0, state="active", **fields
    )


def reading(session, minutes, measurand, value, unit, **fields):
    return MeterValueFactory(
        session=session,
        timestamp=START + timedelta(minutes=minutes),
        measurand=measurand,
        value=Decimal(str(value)),
        unit=unit,
        **fields,
    )


def energy(session, minutes, register_wh):
    reading(session, minutes, "Energy.Active.Import.Register", register_wh, "Wh")
    session.energy_wh = register_wh - session.meter_start
    session.save(update_fields=["energy_wh"])


def page(client, session, path=""):
    response = client.get(org_url(session.organization, f"sessions/{session.pk}/{path}"))
    assert response.status_code == 200, response.content[:500]
    return response


@time_machine.travel(NOW, tick=False)
def test_cost_so_far_is_the_engines_price_of_the_session_stopped_now(org, station, tariff, viewer):
    session = running(station)
    for minutes, register in ((10, 12_000), (20, 15_500), (40, 21_250)):
        energy(session, minutes, register)
    progress = page(viewer, session).context["progress"]
    expected = price_session(
        tariff.definition(),
        Usage(
            start=START,
            stop=NOW,
            meter_start_wh=10_000,
            meter_stop_wh=21_250,
            readings=(
                (START + timedelta(minutes=10), 12_000),
                (START + timedelta(minutes=20), 15_500),
                (START + timedelta(minutes=40), 21_250),
            ),
            time_zone=org.timezone,
        ),
        step_size_reading=settings.BILLING_STEP_SIZE_READING,
        parking_tolerance_wh=settings.BILLING_PARKING_TOLERANCE_WH,
    ).total_incl_tax
    # 11.25 kWh at 0.39 and 48 started minutes at 1.20/h, with 19 % VAT: not a round number.
    assert expected > Decimal("5")
    assert (progress["cost"].amount, progress["cost"].currency) == (expected, tariff.currency)


@time_machine.travel(NOW, tick=False)
def test_the_page_shows_the_cost_so_far_in_the_tariffs_currency(org, station, tariff, viewer):
    session = running(station)
    energy(session, 30, 20_000)
    body = page(viewer, session).content.decode()
    amount = page(viewer, session).context["progress"]["cost"].amount
    assert f'data-testid="cost-so-far">{amount:.2f} {tariff.currency}<' in body


def test_a_running_session_without_a_tariff_says_it_has_no_price(station, viewer):
    session = running(station)
    response = page(viewer, session)
    assert response.context["progress"]["cost"] is None
    assert "No price: no tariff applies" in response.content.decode()


def test_a_session_held_for_review_has_no_cost_so_far(station, tariff, viewer):
    session = running(station, needs_review=True, review_reason="Meter ran backwards")
    response = page(viewer, session)
    assert response.context["progress"]["cost"] is None
    assert "Not priced: held for review" in response.content.decode()


def test_the_curves_come_from_the_meter_values(station, viewer):
    session = running(station)
    energy(session, 5, 11_000)
    energy(session, 10, 13_000)
    reading(session, 5, "Power.Active.Import", 11, "kW")
    # Per phase only: the curve adds L1, L2 and L3.
    for phase in ("L1-N", "L2-N", "L3-N"):
        reading(session, 10, "Power.Active.Import", 3000, "W", phase=phase)
    charts = page(viewer, session).context["progress"]["charts"]
    assert [chart.title for chart in charts] == ["Power", "Energy charged"]
    power, charged = (dict(chart.rows) for chart in charts)
    assert list(power.values()) == [["11.00"], ["9.00"]]
    assert list(charged.values()) == [["1.00"], ["3.00"]]


def test_the_state_of_charge_is_shown_when_the_ev_reports_it(station, viewer):
    session = running(station)
    reading(session, 5, "SoC", 41, "Percent", location="EV")
    reading(session, 15, "SoC", 57, "Percent", location="EV")
    response = page(viewer, session)
    assert response.context["progress"]["soc"] == 57
    assert 'data-testid="state-of-charge">57 %<' in response.content.decode()
    assert "State of charge" in [chart.title for chart in response.context["progress"]["charts"]]


def test_no_state_of_charge_is_shown_when_none_was_reported(station, viewer):
    session = running(station)
    energy(session, 5, 11_000)
    response = page(viewer, session)
    assert response.context["progress"]["soc"] is None
    assert "state-of-charge" not in response.content.decode()


@time_machine.travel(NOW, tick=False)
def test_the_evs_departure_and_the_time_left_are_shown_when_reported(station, viewer):
    session = running(station)
    EVChargingNeeds.objects.create(
        station=station,
        evse_number=session.connector.evse.evse_number,
        departure_time=NOW + timedelta(hours=1, minutes=30),
        energy_amount=30_000,
        reported_at=START + timedelta(minutes=1),
    )
    progress = page(viewer, session).context["progress"]
    assert progress["remaining"] == timedelta(hours=1, minutes=30)
    assert "1:30 h left" in page(viewer, session).content.decode()


def test_needs_reported_before_the_session_are_not_its_own(station, viewer):
    session = running(station)
    EVChargingNeeds.objects.create(
        station=station,
        evse_number=session.connector.evse.evse_number,
        departure_time=START + timedelta(hours=5),
        reported_at=START - timedelta(hours=2),
    )
    assert page(viewer, session).context["progress"]["departure"] is None


def test_a_finished_session_shows_its_curve_and_no_cost_so_far(station, tariff, viewer):
    session = ChargingSessionFactory(
        station=station,
        start=START,
        stop=START + timedelta(hours=1),
        meter_start=0,
        meter_stop=7_000,
        energy_wh=7_000,
        state="completed",
    )
    reading(session, 20, "Energy.Active.Import.Register", 3_000, "Wh")
    reading(session, 60, "Energy.Active.Import.Register", 7_000, "Wh")
    response = page(viewer, session)
    progress = response.context["progress"]
    assert [chart.title for chart in progress["charts"]] == ["Energy charged"]
    assert progress["cost"] is None and not progress["running"]
    body = response.content.decode()
    assert "cost-so-far" not in body
    # No polling once the session is over.
    assert "every 30s" not in body


def test_a_running_session_polls_its_progress_panel(station, viewer):
    session = running(station)
    body = page(viewer, session).content.decode()
    progress_url = org_url(session.organization, f"sessions/{session.pk}/progress/")
    assert f'hx-get="{progress_url}"' in body
    assert 'hx-trigger="every 30s, live-session from:body"' in body


def test_the_progress_panel_alone_is_the_same_panel(station, viewer):
    session = running(station)
    reading(session, 15, "SoC", 63, "Percent", location="EV")
    response = page(viewer, session, "progress/")
    body = response.content.decode()
    assert body.lstrip().startswith('<section class="card" id="session-progress"')
    assert 'data-testid="state-of-charge">63 %<' in body
    assert "<html" not in body


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_the_progress(org, station, role):
    session = running(station)
    client = portal_client(org, role)
    assert page(client, session).context["progress"]["running"]
    assert page(client, session, "progress/").status_code == 200


def test_another_organizations_session_is_404(org, other_org, viewer):
    theirs = running(ChargingStationFactory(organization=other_org))
    for path in ("", "progress/"):
        assert viewer.get(org_url(org, f"sessions/{theirs.pk}/{path}")).status_code == 404


def test_an_outsider_gets_404_for_the_progress(org, other_org, station):
    session = running(station)
    outsider = portal_client(other_org, Role.OWNER)
    for path in ("", "progress/"):
        assert outsider.get(org_url(org, f"sessions/{session.pk}/{path}")).status_code == 404


def test_the_progress_panel_reads_in_a_fixed_number_of_queries(
    station, tariff, viewer, django_assert_max_num_queries
):
    session = running(station)
    for minute in range(0, 600, 2):
        energy_at = 10_000 + minute * 50
        reading(session, minute, "Energy.Active.Import.Register", energy_at, "Wh")
        reading(session, minute, "Power.Active.Import", 7000, "W")
    # Session, user, membership, org switcher; energy and power rows; EV needs; the tariff's
    # lookup and the organization (billing's preview, then the currency).
    with django_assert_max_num_queries(14):
        page(viewer, session, "progress/")
