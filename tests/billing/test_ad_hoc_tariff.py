"""Ad hoc tariffs price sessions paid on the spot (Scan2Pay), and only those."""

from datetime import timedelta

import pytest
from django.utils import timezone

from billing.choices import AssignmentScope, TariffType
from billing.models import TariffAssignment
from billing.services import ad_hoc_tariff_for, find_tariff
from sessions_app.choices import AuthMethod
from tests.factories import ChargingSessionFactory, TariffFactory

pytestmark = pytest.mark.django_db


def assign(org, scope, tariff_type=TariffType.AD_HOC_PAYMENT, **target):
    tariff = TariffFactory(organization=org, type=tariff_type)
    TariffAssignment.objects.create(organization=org, tariff=tariff, scope=scope, **target)
    return tariff


def test_the_organization_default_applies_when_nothing_closer_does(org, station):
    default = assign(org, AssignmentScope.ORGANIZATION)
    assert ad_hoc_tariff_for(station) == default


def test_the_site_beats_the_organization_and_the_station_beats_the_site(org, station):
    assign(org, AssignmentScope.ORGANIZATION)
    site = assign(org, AssignmentScope.SITE, site=station.site)
    assert ad_hoc_tariff_for(station) == site
    own = assign(org, AssignmentScope.STATION, station=station)
    assert ad_hoc_tariff_for(station) == own


def test_a_closer_regular_tariff_does_not_hide_the_ad_hoc_one(org, station):
    default = assign(org, AssignmentScope.ORGANIZATION)
    assign(org, AssignmentScope.STATION, TariffType.REGULAR, station=station)
    assert ad_hoc_tariff_for(station) == default


def test_a_tariff_outside_its_validity_is_not_used(org, station):
    expired = assign(org, AssignmentScope.SITE, site=station.site)
    expired.valid_to = timezone.now() - timedelta(minutes=1)
    expired.save()
    assert ad_hoc_tariff_for(station) is None


def test_no_ad_hoc_tariff_is_none(org, station):
    assign(org, AssignmentScope.ORGANIZATION, TariffType.REGULAR)
    assert ad_hoc_tariff_for(station) is None


def test_another_organizations_tariff_never_applies(org, other_org, station):
    assign(other_org, AssignmentScope.ORGANIZATION)
    assert ad_hoc_tariff_for(station) is None


def test_a_card_session_is_never_priced_by_an_ad_hoc_tariff_closer_to_it(org, station):
    regular = assign(org, AssignmentScope.ORGANIZATION, TariffType.REGULAR)
    assign(org, AssignmentScope.SITE, site=station.site)
    session = ChargingSessionFactory(station=station, auth_method=AuthMethod.RFID)
    assert find_tariff(session) == regular


def test_a_scan2pay_session_is_priced_by_the_ad_hoc_tariff_its_page_showed(org, station):
    assign(org, AssignmentScope.STATION, TariffType.REGULAR, station=station)
    ad_hoc = assign(org, AssignmentScope.SITE, site=station.site)
    session = ChargingSessionFactory(station=station, auth_method=AuthMethod.SCAN2PAY)
    assert find_tariff(session) == ad_hoc == ad_hoc_tariff_for(station)


def test_a_card_session_where_only_an_ad_hoc_tariff_applies_is_priced_by_it(org, station):
    # As before ad hoc tariffs were told apart: such a station is never rated free.
    only = assign(org, AssignmentScope.STATION, station=station)
    session = ChargingSessionFactory(station=station, auth_method=AuthMethod.RFID)
    assert find_tariff(session) == only
