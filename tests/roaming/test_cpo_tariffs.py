"""OCPI 2.2.1 Tariffs of our CPO role: the tariff published to each partner, pulled and pushed."""

import json

import pytest

from roaming.choices import Direction, Module
from roaming.models import OcpiExchange, PartnerTariff
from roaming.ocpi import tokens
from roaming.ocpi.v221 import schemas
from roaming.ocpi.v221.tariffs import tariff_to_ocpi
from tests.factories import TariffFactory, energy_elements
from tests.roaming.conftest import connected_partner, make_profile


def ocpi_get(client, partner, **params):
    url = f"/ocpi/{partner.organization.slug}/2.2.1/cpo/tariffs/"
    return client.get(url, params, HTTP_AUTHORIZATION=f"Token {tokens.encode(partner.token)}")


@pytest.fixture
def profile(org):
    return make_profile(org, "DE", "CPO")


@pytest.fixture
def tariff(org):
    return TariffFactory(organization=org, elements=energy_elements("0.40"), tax_rate="19.00")


def test_a_partner_gets_the_tariff_published_to_it_as_json_numbers(org, profile, tariff, client):
    partner = connected_partner(org, tariff=tariff)
    answer = ocpi_get(client, partner)
    (published,) = answer.json()["data"]
    schemas.check("Tariff", published)
    expected = tariff_to_ocpi(tariff, country_code="DE", party_id="CPO")
    assert published["id"] == expected["id"] == str(tariff.pk)
    component = published["elements"][0]["price_components"][0]
    assert (component["price"], component["vat"]) == (0.4, 19.0)
    assert answer["X-Total-Count"] == "1"


def test_a_partner_without_a_published_tariff_gets_none(org, profile, tariff, client):
    assert ocpi_get(client, connected_partner(org)).json()["data"] == []


def test_a_partner_never_sees_the_tariff_of_another(org, profile, tariff, client):
    connected_partner(org, "BE", "XYZ", tariff=tariff)
    own = TariffFactory(organization=org)
    data = ocpi_get(client, connected_partner(org, tariff=own)).json()["data"]
    assert [t["id"] for t in data] == [str(own.pk)]


def test_the_list_filters_on_last_updated(org, profile, tariff, client):
    partner = connected_partner(org, tariff=tariff)
    assert ocpi_get(client, partner, date_from="2999-01-01T00:00:00Z").json()["data"] == []
    assert len(ocpi_get(client, partner, date_to="2999-01-01T00:00:00Z").json()["data"]) == 1


def test_a_bad_date_is_refused_with_2001(org, profile, client):
    answer = ocpi_get(client, connected_partner(org), date_from="soon")
    assert (answer.status_code, answer.json()["status_code"]) == (400, 2001)


# --- pushes over HTTP -----------------------------------------------------------------------------


def tariff_calls(ocpi_pair):
    return list(
        OcpiExchange.objects.filter(
            partner=ocpi_pair.emsp_at_cpo, direction=Direction.OUTGOING, module=Module.TARIFFS
        ).order_by("pk")
    )


def test_publishing_a_tariff_to_a_partner_puts_it(ocpi_pair):
    tariff = TariffFactory(organization=ocpi_pair.cpo, elements=energy_elements("0.40"))
    partner = ocpi_pair.emsp_at_cpo
    partner.tariff = tariff
    partner.save()
    (put,) = tariff_calls(ocpi_pair)
    assert put.method == "PUT"
    assert put.url.endswith(f"/emsp/tariffs/DE/CPO/{tariff.pk}")
    assert put.ocpi_status == 1000
    assert PartnerTariff.objects.filter(
        partner=ocpi_pair.cpo_at_emsp, ocpi_id=str(tariff.pk)
    ).exists()


def test_a_changed_tariff_is_put_again_and_a_replaced_one_deleted(ocpi_pair):
    first = TariffFactory(organization=ocpi_pair.cpo, elements=energy_elements("0.40"))
    second = TariffFactory(organization=ocpi_pair.cpo, elements=energy_elements("0.50"))
    partner = ocpi_pair.emsp_at_cpo
    partner.tariff = first
    partner.save()
    first.elements = energy_elements("0.45")
    first.save()
    edited = tariff_calls(ocpi_pair)[-1]
    assert edited.method == "PUT"
    assert json.loads(edited.request_body)["elements"][0]["price_components"][0]["price"] == 0.45
    partner.tariff = second
    partner.save()
    calls = {(c.method, c.url.rsplit("/", 1)[1]) for c in tariff_calls(ocpi_pair)[2:]}
    assert calls == {("PUT", str(second.pk)), ("DELETE", str(first.pk))}
    stored = set(
        PartnerTariff.objects.filter(partner=ocpi_pair.cpo_at_emsp).values_list(
            "ocpi_id", flat=True
        )
    )
    assert stored == {str(second.pk)}


def test_a_tariff_published_to_nobody_is_never_pushed(ocpi_pair):
    tariff = TariffFactory(organization=ocpi_pair.cpo)
    tariff.elements = energy_elements("0.10")
    tariff.save()
    assert tariff_calls(ocpi_pair) == []
