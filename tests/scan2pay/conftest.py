"""A site with Scan2Pay on: an online station with two connectors, an ad-hoc tariff, payments."""

import pytest

from billing.choices import AssignmentScope, TariffType
from billing.models import PaymentAccount, TariffAssignment
from stations.choices import ConnectionState, ConnectorStatus
from tests.factories import ChargingStationFactory, SiteFactory, TariffFactory

# The ad-hoc price of these tests, excl. VAT: 0.39 per kWh and 0.49 per session, 19 % VAT;
# parking costs 6.00 per hour once a session is 4 hours old.
AD_HOC_ELEMENTS = [
    {
        "price_components": [
            {"type": "ENERGY", "price": "0.39", "step_size": 1},
            {"type": "FLAT", "price": "0.49", "step_size": 1},
        ]
    },
    {
        "price_components": [{"type": "PARKING_TIME", "price": "6.00", "step_size": 60}],
        "restrictions": {"min_duration": 4 * 3600},
    },
]


@pytest.fixture
def pay_site(org):
    return SiteFactory(
        organization=org,
        name="Ladepark Mitte",
        street="Hauptstraße 1",
        postal_code="10115",
        city="Berlin",
        scan2pay_enabled=True,
    )


@pytest.fixture
def pay_station(org, pay_site):
    station = ChargingStationFactory(
        organization=org,
        site=pay_site,
        ocpp_id="CS-PAY-1",
        connection_state=ConnectionState.ONLINE,
        status=ConnectorStatus.AVAILABLE,
    )
    station.connectors.update(status=ConnectorStatus.AVAILABLE)
    return station


@pytest.fixture
def connector(pay_station):
    return pay_station.connectors.get(connector_id=1)


@pytest.fixture
def ad_hoc_tariff(org, pay_site):
    tariff = TariffFactory(
        organization=org,
        name="Pay here",
        type=TariffType.AD_HOC_PAYMENT,
        elements=AD_HOC_ELEMENTS,
        tax_rate="19.00",
        currency="EUR",
    )
    TariffAssignment.objects.create(
        organization=org, tariff=tariff, scope=AssignmentScope.SITE, site=pay_site
    )
    return tariff


@pytest.fixture
def payment_account(org, settings):
    # The platform's provider keys are set (nothing is called: the page only offers a price).
    settings.STRIPE_SECRET_KEY = "sk_test_platform"
    return PaymentAccount.objects.create(organization=org, enabled=True, currency="EUR")


@pytest.fixture
def payable(connector, ad_hoc_tariff, payment_account):
    """A connector a driver can pay at: Scan2Pay on, an ad-hoc tariff, payments enabled."""
    return connector
