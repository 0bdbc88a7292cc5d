"""site_over_capacity: the running sessions of a site draw more than its grid capacity."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from alerts.choices import RuleKind
from alerts.models import Alert
from sessions_app.services import SampledValue, record_meter_values, start_session, stop_session
from stations.models import Site
from tests.factories import ChargingStationFactory

OVER = RuleKind.SITE_OVER_CAPACITY


@pytest.fixture
def site(org, station):
    Site.objects.filter(pk=station.site_id).update(grid_capacity_kw=Decimal("22.00"))
    return Site.objects.get(pk=station.site_id)


@pytest.fixture
def charge(committed):
    """A session at the station drawing `watts` (a Power.Active.Import reading)."""

    def run(station, watts, connector_number=1):
        now = timezone.now()
        with committed():
            session = start_session(
                station, connector_number=connector_number, id_tag="04A1B2C3", started_at=now,
                meter_start=0,
            ).session  # fmt: skip
            record_meter_values(
                station,
                connector_number=connector_number,
                samples=[
                    SampledValue(now, Decimal(watts), measurand="Power.Active.Import", unit="W")
                ],
                transaction_id=session.transaction_id,
            )
        return session

    return run


@pytest.fixture
def stop(committed):
    def end(session):
        with committed():
            stop_session(
                session.station, transaction_id=session.transaction_id,
                stopped_at=timezone.now(), meter_stop=1000, reason="Local",
            )  # fmt: skip

    return end


def test_a_site_drawing_more_than_its_capacity_opens_an_alert(
    org, station, site, make_rule, charge, sweep, live_alerts
):
    rule = make_rule(org, OVER)
    charge(station, 11_040, connector_number=1)
    charge(ChargingStationFactory(organization=org, site=site), 11_040)
    sweep()
    [alert] = live_alerts(OVER, org)
    assert (alert.site, alert.station, alert.rule) == (site, None, rule)
    assert alert.details == {"drawn_kw": 22.1, "capacity_kw": 22.0}


def test_a_site_within_its_capacity_opens_nothing(org, station, site, make_rule, charge, sweep):
    make_rule(org, OVER)
    charge(station, 11_040)
    charge(station, 10_900, connector_number=2)
    sweep()
    assert not Alert.objects.exists()


def test_a_site_without_a_capacity_opens_nothing(org, station, make_rule, charge, sweep):
    make_rule(org, OVER)
    charge(station, 50_000)
    sweep()
    assert not Alert.objects.exists()


def test_repeated_sweeps_keep_one_capacity_alert(
    org, station, site, make_rule, charge, sweep, live_alerts
):
    make_rule(org, OVER)
    charge(station, 30_000)
    sweep()
    sweep()
    [alert] = live_alerts(OVER, org)
    assert alert.occurrences == 1


def test_the_capacity_alert_resolves_once_the_site_draws_less(
    org, station, site, make_rule, charge, stop, sweep, live_alerts
):
    make_rule(org, OVER)
    first = charge(station, 15_000)
    charge(station, 15_000, connector_number=2)
    sweep()
    stop(first)
    sweep()
    assert live_alerts(OVER) == []


def test_a_delayed_capacity_rule_waits_for_the_overload_to_last(
    org, station, site, make_rule, charge, sweep, live_alerts
):
    make_rule(org, OVER, delay_minutes=5)
    charge(station, 30_000)
    now = timezone.now()
    sweep(now)
    assert live_alerts(OVER) == []
    sweep(now + timedelta(minutes=6))
    assert len(live_alerts(OVER, org)) == 1
