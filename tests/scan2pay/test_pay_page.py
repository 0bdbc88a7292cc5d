"""The public page of a connector: which charger, its status and its ad-hoc price, in words."""

import re
from decimal import ROUND_HALF_UP, Decimal

import pytest

from billing.choices import AssignmentScope, TariffType
from billing.models import PaymentAccount, TariffAssignment
from stations.choices import ConnectionState, ConnectorStatus
from stations.models import ChargingStation, Connector
from tests.factories import (
    ChargingSessionFactory,
    ChargingStationFactory,
    OrganizationFactory,
    SiteFactory,
    TariffFactory,
)

pytestmark = pytest.mark.django_db


def page(client, connector, **headers):
    return client.get(f"/pay/{connector.pay_code}/", **headers)


def text(response) -> str:
    return response.content.decode()


def gross(net: str, rate="19") -> str:
    """A unit price with its VAT, as the page writes it: up to four decimals, at least two."""
    value = (Decimal(net) * (1 + Decimal(rate) / 100)).quantize(Decimal("0.0001"))
    text = f"{value:f}".rstrip("0")
    whole, _, decimals = text.partition(".")
    return f"{whole}.{decimals.ljust(2, '0')}"


def eur(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal('0.01'), ROUND_HALF_UP)} EUR"


def test_the_page_needs_no_login_and_names_the_charger(client, payable):
    response = page(client, payable)

    assert response.status_code == 200
    html = text(response)
    assert "Ladepark Mitte" in html
    assert "Hauptstraße 1, 10115 Berlin" in html
    assert "EVSE 1, connector 1" in html
    assert f"DE*ABC*E{payable.station_id}*1" in html
    assert 'name="robots" content="noindex' in html


def test_the_page_has_its_own_base_without_the_portal_navigation(client, payable):
    html = text(page(client, payable))
    assert 'class="main"' not in html
    assert "/accounts/login/" not in html
    assert 'action="/pay/language/"' in html


def test_a_code_typed_in_capitals_finds_the_same_connector(client, payable):
    response = client.get(f"/pay/{payable.pay_code.upper()}/")
    assert response.status_code == 200
    assert f"DE*ABC*E{payable.station_id}*1" in text(response)


@pytest.mark.parametrize(
    ("reported", "word"),
    [
        (ConnectorStatus.AVAILABLE, "Available"),
        (ConnectorStatus.CHARGING, "Occupied (charging)"),
        (ConnectorStatus.PREPARING, "Occupied (charging)"),
        (ConnectorStatus.SUSPENDED_EV, "Occupied (charging)"),
        (ConnectorStatus.FINISHING, "Occupied (charging)"),
        (ConnectorStatus.OCCUPIED, "Occupied (charging)"),
        (ConnectorStatus.RESERVED, "Reserved"),
        (ConnectorStatus.FAULTED, "Out of order"),
        (ConnectorStatus.UNAVAILABLE, "Out of order"),
        (ConnectorStatus.UNKNOWN, "Status unknown"),
    ],
)
def test_an_online_connectors_status_is_said_in_words(client, payable, reported, word):
    Connector.objects.filter(pk=payable.pk).update(status=reported)

    html = text(page(client, payable))

    assert f">{word}</span>" in html


def test_a_connector_of_an_offline_station_is_offline_whatever_it_last_reported(client, payable):
    Connector.objects.filter(pk=payable.pk).update(status=ConnectorStatus.AVAILABLE)
    ChargingStation.objects.filter(pk=payable.station_id).update(
        connection_state=ConnectionState.OFFLINE
    )

    html = text(page(client, payable))

    assert 'data-pay-status="offline">Offline</span>' in html
    assert ">Available</span>" not in html


def test_a_station_that_reports_itself_faulted_is_out_of_order_on_every_connector(client, payable):
    ChargingStation.objects.filter(pk=payable.station_id).update(status=ConnectorStatus.FAULTED)

    html = text(page(client, payable))

    assert 'data-pay-status="out-of-order">Out of order</span>' in html


def test_the_price_is_said_in_words_with_tax_and_fees(client, payable):
    html = text(page(client, payable))

    # What the driver pays: each net price with its 19 % VAT (0.39 × 1.19 = 0.4641).
    assert f"{gross('0.39')} EUR per kWh" in html
    assert f"{gross('0.49')} EUR per session" in html
    assert f"{gross('6.00')} EUR per hour parking (in steps of 1 min) · after 4 h" in html
    assert "Prices include 19 % VAT." in html


def test_the_example_is_priced_by_the_engine(client, payable):
    html = text(page(client, payable))

    # 20 kWh × 0.39 + 0.49 session fee, plus 19 % VAT.
    charge = Decimal("20") * Decimal("0.39") + Decimal("0.49")
    assert f"A 20 kWh charge taking 1 h costs {eur(charge * Decimal('1.19'))}" in html
    # Left plugged in 4 h more: 5 h in all, the last hour past the 4 h mark costs 6.00.
    parked = charge + Decimal("6.00")
    assert f"plugged in 4 h longer costs {eur(parked * Decimal('1.19'))}" in html


def test_min_and_max_prices_are_said(client, payable, ad_hoc_tariff):
    ad_hoc_tariff.min_price = Decimal("2")
    ad_hoc_tariff.max_price = Decimal("50")
    ad_hoc_tariff.save()

    html = text(page(client, payable))

    assert f"A charge costs at least {eur(Decimal('2') * Decimal('1.19'))}." in html
    assert f"A charge costs at most {eur(Decimal('50') * Decimal('1.19'))}." in html


def test_a_station_assignment_beats_the_sites(client, org, payable, pay_station):
    dearer = TariffFactory(
        organization=org,
        type=TariffType.AD_HOC_PAYMENT,
        elements=[{"price_components": [{"type": "ENERGY", "price": "0.79", "step_size": 1}]}],
    )
    TariffAssignment.objects.create(
        organization=org, tariff=dearer, scope=AssignmentScope.STATION, station=pay_station
    )

    html = text(page(client, payable))

    assert f"{gross('0.79', dearer.tax_rate)} EUR per kWh" in html
    assert f"{gross('0.39')} EUR per kWh" not in html


def test_a_regular_tariff_is_not_shown_as_the_ad_hoc_price(client, org, connector, pay_station):
    regular = TariffFactory(organization=org, type=TariffType.REGULAR)
    TariffAssignment.objects.create(
        organization=org, tariff=regular, scope=AssignmentScope.STATION, station=pay_station
    )
    PaymentAccount.objects.create(organization=org, enabled=True, currency="EUR")

    response = page(client, connector)

    assert response.status_code == 200
    assert "Paying here is not available right now." in text(response)
    assert "per kWh" not in text(response)


def test_without_an_ad_hoc_tariff_paying_is_not_available_right_now(
    client, connector, payment_account
):
    response = page(client, connector)

    assert response.status_code == 200
    assert "Paying here is not available right now." in text(response)
    assert "per kWh" not in text(response)


def test_without_an_enabled_payment_account_paying_is_not_available_right_now(
    client, connector, ad_hoc_tariff, payment_account
):
    PaymentAccount.objects.filter(pk=payment_account.pk).update(enabled=False)

    response = page(client, connector)

    assert response.status_code == 200
    assert "Paying here is not available right now." in text(response)
    assert "per kWh" not in text(response)


def test_a_tariff_in_another_currency_than_the_account_is_not_offered(
    client, payable, payment_account
):
    PaymentAccount.objects.filter(pk=payment_account.pk).update(currency="SEK")

    assert "Paying here is not available right now." in text(page(client, payable))


def test_an_unknown_code_answers_404_with_the_not_available_page(client, payable):
    response = client.get("/pay/abcdefghjk/")

    assert response.status_code == 404
    assert "Paying here is not available" in text(response)
    assert "Ladepark Mitte" not in text(response)


def test_a_site_with_scan2pay_off_answers_the_same_404_as_an_unknown_code(client, payable):
    payable.station.site.scan2pay_enabled = False
    payable.station.site.save()

    off = page(client, payable)
    unknown = client.get("/pay/abcdefghjk/")

    assert off.status_code == unknown.status_code == 404

    # The same page, but for the code in the language form and the masked CSRF token.
    def same(html):
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html).replace(
            payable.pay_code, "abcdefghjk"
        )

    assert same(text(off)) == same(text(unknown))
    assert "Ladepark Mitte" not in text(off)
    assert "CS-PAY-1" not in text(off)


def test_a_connector_of_an_unassigned_station_has_no_page(client, payable):
    ChargingStation.objects.filter(pk=payable.station_id).update(organization=None)
    assert page(client, payable).status_code == 404


def test_the_page_never_shows_another_connector_station_session_or_driver(
    client, org, payable, pay_station
):
    other = pay_station.connectors.get(connector_id=2)
    neighbour = ChargingStationFactory(organization=org, site=payable.station.site, ocpp_id="CS-NB")
    ChargingSessionFactory(station=pay_station, connector=other, id_tag="04SECRETDRIVER")
    outsider = OrganizationFactory(name="Outsider GmbH")
    ChargingStationFactory(
        organization=outsider,
        site=SiteFactory(organization=outsider, name="Outsider Site", scan2pay_enabled=True),
        ocpp_id="CS-OUTSIDE",
    )

    html = text(page(client, payable))

    assert other.pay_code not in html
    assert f"E{pay_station.pk}*2" not in html
    assert neighbour.ocpp_id not in html
    assert "04SECRETDRIVER" not in html
    assert "Outsider" not in html
    assert "CS-OUTSIDE" not in html
    assert "Stadtwerke Demo" not in html


def test_the_page_is_german_for_a_german_browser(client, payable):
    response = page(client, payable, HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9")

    html = text(response)
    assert '<html lang="de">' in html
    assert "Verfügbar" in html
    assert "Preis" in html
    # German numbers: a decimal comma in the unit prices and in the example's amount.
    assert f"{gross('0.39').replace('.', ',')} EUR" in html
    charge = (Decimal("20") * Decimal("0.39") + Decimal("0.49")) * Decimal("1.19")
    assert eur(charge).replace(".", ",") in html


def test_the_language_switch_sets_the_language_and_returns_to_the_page(client, payable):
    path = f"/pay/{payable.pay_code}/"

    response = client.post("/pay/language/", {"language": "fr", "next": path})

    assert response.status_code == 302
    assert response["Location"] == path
    assert '<html lang="fr">' in text(client.get(path))


def test_the_page_is_not_cached(client, payable):
    assert "no-cache" in page(client, payable)["Cache-Control"]


def test_the_page_never_shows_the_stations_ocpp_identity(client, payable):
    # The identity is the station's login name (its only credential without a password).
    response = page(client, payable)
    assert response.status_code == 200
    assert payable.station.ocpp_id not in text(response)


def test_the_vat_note_follows_the_rates_the_prices_really_carry(client, payable, ad_hoc_tariff):
    ad_hoc_tariff.tax_rate = Decimal(0)
    ad_hoc_tariff.elements = [
        {"price_components": [{"type": "ENERGY", "price": "0.40", "step_size": 1, "vat": 19}]}
    ]
    ad_hoc_tariff.save()

    html = text(page(client, payable))

    assert "No VAT is added" not in html
    assert "Prices include 19 % VAT." in html
    assert f"{gross('0.40')} EUR per kWh" in html


def test_the_example_charge_takes_as_long_as_the_connector_needs(client, payable):
    Connector.objects.filter(pk=payable.pk).update(max_power_kw=Decimal("11"))

    html = text(page(client, payable))

    # 20 kWh at 11 kW: 110 minutes; energy and session fee as before, plus VAT.
    charge = Decimal("20") * Decimal("0.39") + Decimal("0.49")
    assert f"A 20 kWh charge taking 1 h 50 min costs {eur(charge * Decimal('1.19'))}" in html


def test_the_parking_example_reaches_a_parking_fee_that_starts_late(client, payable, ad_hoc_tariff):
    ad_hoc_tariff.elements = [
        {"price_components": [{"type": "ENERGY", "price": "0.39", "step_size": 1}]},
        {
            "price_components": [{"type": "PARKING_TIME", "price": "6.00", "step_size": 60}],
            "restrictions": {"min_duration": 6 * 3600},
        },
    ]
    ad_hoc_tariff.save()

    html = text(page(client, payable))

    # 1 h charging, then 6 h plugged in: the last hour is past the 6 h mark and costs 6.00.
    parked = (Decimal("20") * Decimal("0.39") + Decimal("6.00")) * Decimal("1.19")
    assert f"plugged in 6 h longer costs {eur(parked)}" in html
