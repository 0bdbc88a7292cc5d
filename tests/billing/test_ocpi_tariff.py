"""Tariffs as OCPI 2.2.1 Tariff objects: roaming.ocpi.v221.tariffs, /api/v1/tariffs/{id}/ocpi/."""

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from rest_framework.utils.encoders import JSONEncoder

from billing.choices import TariffType
from billing.engine import parse_elements
from billing.models import Tariff
from organizations.choices import Role
from roaming.ocpi.v221.tariffs import tariff_to_ocpi
from tests.apiclients import client_as
from tests.factories import TariffFactory

pytestmark = pytest.mark.django_db

PARTY = {"country_code": "DE", "party_id": "ABC"}
ELEMENTS = [
    {
        "price_components": [
            {"type": "ENERGY", "price": 0.29, "step_size": 1},
            {"type": "PARKING_TIME", "price": 6, "step_size": 300},
        ],
        "restrictions": {
            "start_time": "22:00",
            "end_time": "06:00",
            "day_of_week": ["SATURDAY", "SUNDAY"],
            "min_kwh": 0.5,
            "max_duration": 7200,
        },
    },
    {"price_components": [{"type": "FLAT", "price": 1, "step_size": 1}]},
    {"price_components": [{"type": "ENERGY", "price": 0.39, "step_size": 1}]},
]


def url(tariff, **query):
    params = "&".join(f"{key}={value}" for key, value in {**PARTY, **query}.items())
    return f"/api/v1/tariffs/{tariff.pk}/ocpi/?{params}"


def without_vat(elements):
    """Published elements with the vat every component gained taken off again."""
    elements = copy.deepcopy(elements)
    for element in elements:
        for component in element["price_components"]:
            del component["vat"]
    return elements


def vats(published):
    return [c["vat"] for element in published["elements"] for c in element["price_components"]]


@pytest.fixture
def tariff(org):
    return TariffFactory(
        organization=org,
        currency="EUR",
        tax_rate="19.00",
        elements=ELEMENTS,
        min_price="0.5",
        max_price="80",
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        valid_to=datetime(2027, 1, 1, tzinfo=UTC),
    )


@pytest.fixture
def viewer(org):
    return client_as(org, Role.VIEWER)


def test_a_tariff_is_published_with_the_ocpi_tariff_fields(tariff):
    Tariff.objects.filter(pk=tariff.pk).update(
        updated=datetime(2026, 3, 2, 9, 15, 30, 123456, tzinfo=UTC)
    )
    tariff.refresh_from_db()

    published = tariff_to_ocpi(tariff, **PARTY)

    assert {key: value for key, value in published.items() if key != "elements"} == {
        "country_code": "DE",
        "party_id": "ABC",
        "id": str(tariff.pk),
        "currency": "EUR",
        "type": "REGULAR",
        "min_price": {"excl_vat": Decimal("0.50"), "incl_vat": Decimal("0.60")},
        "max_price": {"excl_vat": Decimal("80.00"), "incl_vat": Decimal("95.20")},
        "start_date_time": "2026-01-01T00:00:00Z",
        "end_date_time": "2027-01-01T00:00:00Z",
        "last_updated": "2026-03-02T09:15:30Z",
    }


def test_the_published_elements_are_the_stored_ones_with_the_tax_rate_as_vat(tariff):
    published = tariff_to_ocpi(tariff, **PARTY)

    assert vats(published) == [Decimal("19.00")] * 4
    assert without_vat(published["elements"]) == ELEMENTS


def test_a_component_with_its_own_vat_is_published_with_it(org):
    elements = [
        {
            "price_components": [
                {"type": "FLAT", "price": "0.50", "vat": 20},
                {"type": "ENERGY", "price": "0.25", "vat": "10.5"},
                {"type": "TIME", "price": "1.00", "vat": 0},
                {"type": "PARKING_TIME", "price": "2.00"},
            ]
        }
    ]
    tariff = TariffFactory(organization=org, elements=elements, tax_rate="19.00")

    published = tariff_to_ocpi(tariff, **PARTY)

    # 0 is a VAT of 0 %, not "none": only a component without a vat takes the tariff's rate.
    assert vats(published) == [20, Decimal("10.5"), 0, Decimal("19.00")]


@pytest.mark.parametrize("kind", TariffType.values)
def test_the_tariff_type_is_published_as_the_ocpi_type(org, kind):
    tariff = TariffFactory(organization=org, type=kind)

    assert tariff_to_ocpi(tariff, **PARTY)["type"] == kind


def test_reservation_elements_and_a_step_size_of_zero_are_published_as_stored(org):
    elements = [
        {
            "price_components": [{"type": "TIME", "price": "5.00", "step_size": 60}],
            "restrictions": {"reservation": "RESERVATION"},
        },
        {"price_components": [{"type": "FLAT", "price": "0.00", "step_size": 0}]},
    ]
    tariff = TariffFactory(organization=org, elements=elements, tax_rate="20")

    published = tariff_to_ocpi(tariff, **PARTY)["elements"]

    assert published[0]["restrictions"] == {"reservation": "RESERVATION"}
    assert published[1]["price_components"][0]["step_size"] == 0
    sent = json.loads(json.dumps(published, cls=JSONEncoder))
    assert parse_elements(without_vat(sent)) == parse_elements(elements)


def test_the_published_elements_price_exactly_like_the_stored_ones(tariff):
    published = tariff_to_ocpi(tariff, **PARTY)["elements"]

    assert parse_elements(without_vat(published)) == parse_elements(tariff.elements)


def test_decimal_strings_are_published_as_numbers_of_the_same_value(org):
    stored = [
        {
            "price_components": [{"type": "ENERGY", "price": "0.3900"}],
            "restrictions": {"max_power": "11.5"},
        }
    ]
    tariff = TariffFactory(organization=org, elements=stored, tax_rate="7.70")

    [element] = tariff_to_ocpi(tariff, **PARTY)["elements"]

    # OCPI wants numbers and a step size; the engine reads a missing step size as 1.
    assert element == {
        "price_components": [
            {"type": "ENERGY", "price": Decimal("0.3900"), "step_size": 1, "vat": Decimal("7.70")}
        ],
        "restrictions": {"max_power": Decimal("11.5")},
    }
    # As a partner reads it: JSON, where a Decimal is a number.
    sent = json.loads(json.dumps([element], cls=JSONEncoder))
    assert parse_elements(without_vat(sent)) == parse_elements(stored)


def test_a_tariff_without_bounds_or_validity_leaves_those_fields_out(org):
    tariff = TariffFactory(organization=org)

    published = tariff_to_ocpi(tariff, **PARTY)

    assert not {"min_price", "max_price", "start_date_time", "end_date_time"} & set(published)


def test_a_viewer_gets_the_ocpi_tariff_as_json_numbers(viewer, tariff):
    response = viewer.get(url(tariff))

    assert response.status_code == 200, response.data
    body = response.json()
    assert (body["id"], body["country_code"], body["party_id"]) == (str(tariff.pk), "DE", "ABC")
    assert body["min_price"] == {"excl_vat": 0.5, "incl_vat": 0.6}
    first = body["elements"][0]["price_components"][0]
    assert first == {"type": "ENERGY", "price": 0.29, "step_size": 1, "vat": 19.0}
    assert without_vat(body["elements"]) == ELEMENTS


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"country_code": "de"}, "country_code"),
        ({"country_code": "DEU"}, "country_code"),
        ({"party_id": "AB"}, "party_id"),
        ({"party_id": "ab1"}, "party_id"),
        ({"party_id": "AB-"}, "party_id"),
    ],
)
def test_a_malformed_party_is_a_field_error(viewer, tariff, query, field):
    response = viewer.get(url(tariff, **query))

    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_the_party_is_required(viewer, tariff):
    response = viewer.get(f"/api/v1/tariffs/{tariff.pk}/ocpi/")

    assert response.status_code == 400
    assert response.json() == {
        "country_code": ["This field is required."],
        "party_id": ["This field is required."],
    }


def test_an_outsider_gets_a_404_for_our_tariff(other_org, tariff):
    response = client_as(other_org, Role.OWNER).get(url(tariff))

    assert response.status_code == 404


def test_a_type_an_admin_sets_through_the_api_is_the_published_type(org, tariff, viewer):
    admin = client_as(org, Role.ADMIN)

    response = admin.patch(
        f"/api/v1/tariffs/{tariff.pk}/", {"type": "PROFILE_GREEN"}, format="json"
    )

    assert response.status_code == 200, response.data
    assert response.data["type"] == "PROFILE_GREEN"
    assert viewer.get(url(tariff)).json()["type"] == "PROFILE_GREEN"


def test_a_new_tariff_is_regular_unless_told_otherwise(org):
    response = client_as(org, Role.ADMIN).post(
        f"/api/v1/organizations/{org.pk}/tariffs/",
        {"name": "Night", "elements": ELEMENTS},
        format="json",
    )

    assert response.status_code == 201, response.data
    assert response.data["type"] == TariffType.REGULAR


def test_a_type_ocpi_does_not_know_is_a_field_error(org, tariff):
    response = client_as(org, Role.ADMIN).patch(
        f"/api/v1/tariffs/{tariff.pk}/", {"type": "CHEAP"}, format="json"
    )

    assert response.status_code == 400
    assert list(response.data) == ["type"]
    tariff.refresh_from_db()
    assert tariff.type == TariffType.REGULAR
