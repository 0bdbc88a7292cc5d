"""Portal: adding and editing tariffs with the API's checks, the price preview, where they apply."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone

from billing.choices import AssignmentScope
from billing.engine import Usage, price_session
from billing.forms import build_elements, simple_values
from billing.models import ChargeDetailRecord, Tariff, TariffAssignment
from organizations.choices import Role
from roaming.models import RoamingPartner
from tests.factories import (
    AccessGroupFactory,
    ChargingSessionFactory,
    ChargingStationFactory,
    TariffFactory,
    energy_elements,
)
from tests.portalclients import ROLES, org_url, portal_client

pytestmark = pytest.mark.django_db

ADD = "billing/tariffs/add/"
PREVIEW = "billing/tariffs/preview/"


def edit(tariff) -> str:
    return f"billing/tariffs/{tariff.pk}/"


def simple_form(**overrides) -> dict:
    """A new tariff's form in simple mode, as the page posts it."""
    data = {
        "name": "Public AC",
        "type": "REGULAR",
        "currency": "EUR",
        "tax_rate": "19",
        "mode": "simple",
        "energy_price": "0.39",
        "time_price": "",
        "session_fee": "0.50",
        "parking_price": "6.00",
        "parking_grace_minutes": "240",
        "elements": "",
        "min_price": "",
        "max_price": "",
        "valid_from": "",
        "valid_to": "",
        "sample-start": "2026-03-10T18:00",
        "sample-charging_minutes": "120",
        "sample-energy_kwh": "22.5",
        "sample-parking_minutes": "200",
    }
    data.update(overrides)
    return data


def test_an_admin_adds_a_tariff_from_simple_prices(org):
    response = portal_client(org, Role.ADMIN).post(org_url(org, ADD), simple_form())

    assert response.status_code == 302
    assert response["Location"] == org_url(org, "billing/tariffs/")
    tariff = Tariff.objects.get(organization=org)
    assert tariff.name == "Public AC"
    assert tariff.tax_rate == Decimal("19")
    assert tariff.elements == [
        {
            "price_components": [
                {"type": "ENERGY", "price": "0.39", "step_size": 1},
                {"type": "FLAT", "price": "0.50", "step_size": 1},
            ]
        },
        {
            "price_components": [{"type": "PARKING_TIME", "price": "6.00", "step_size": 1}],
            "restrictions": {"min_duration": 240 * 60},
        },
    ]


def test_the_new_tariff_is_listed_with_its_prices(org):
    client = portal_client(org, Role.ADMIN)
    client.post(org_url(org, ADD), simple_form(name="Night owl"))

    page = client.get(org_url(org, "billing/tariffs/")).content.decode()

    assert "Night owl" in page
    assert "per kWh" in page


def test_an_admin_edits_a_tariff_in_place(org):
    tariff = TariffFactory(organization=org, name="Old", elements=energy_elements("0.30"))

    response = portal_client(org, Role.ADMIN).post(
        org_url(org, edit(tariff)), simple_form(name="New", energy_price="0.45", session_fee="")
    )

    assert response.status_code == 302
    tariff.refresh_from_db()
    assert tariff.name == "New"
    assert tariff.elements[0]["price_components"] == [
        {"type": "ENERGY", "price": "0.45", "step_size": 1}
    ]
    assert Tariff.objects.filter(organization=org).count() == 1


def test_the_advanced_editor_takes_ocpi_elements_with_restrictions_and_vat(org):
    elements = (
        '[{"price_components": [{"type": "ENERGY", "price": "0.29", "vat": 7}],'
        ' "restrictions": {"start_time": "22:00", "end_time": "06:00"}},'
        ' {"price_components": [{"type": "ENERGY", "price": "0.39"}]}]'
    )

    response = portal_client(org, Role.ADMIN).post(
        org_url(org, ADD), simple_form(mode="advanced", elements=elements)
    )

    assert response.status_code == 302
    stored = Tariff.objects.get(organization=org).elements
    assert stored[0]["restrictions"] == {"start_time": "22:00", "end_time": "06:00"}
    assert stored[0]["price_components"][0]["vat"] == 7


def test_an_advanced_tariff_opens_in_the_advanced_editor_without_losing_anything(org):
    elements = energy_elements("0.29", start_time="22:00", end_time="06:00")
    tariff = TariffFactory(organization=org, elements=elements)

    page = portal_client(org, Role.ADMIN).get(org_url(org, edit(tariff))).content.decode()

    assert re.search(r'value="advanced"[^>]*checked', page)
    assert "22:00" in page
    assert simple_values(elements) is None


def test_a_simple_tariff_opens_with_its_prices_in_the_fields(org):
    elements, _sources = build_elements(
        {
            "energy_price": Decimal("0.39"),
            "parking_price": Decimal("6"),
            "parking_grace_minutes": 60,
        }
    )
    tariff = TariffFactory(organization=org, elements=elements)

    page = portal_client(org, Role.ADMIN).get(org_url(org, edit(tariff))).content.decode()

    assert re.search(r'value="simple"[^>]*checked', page)
    assert re.search(r'name="energy_price"[^>]*value="0.39"', page)
    assert re.search(r'name="parking_grace_minutes"[^>]*value="60"', page)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        # The engine's parser, through the API's serializer, names the price at fault.
        ({"energy_price": "-1"}, "energy_price", "at least 0"),
        ({"energy_price": "0.123456"}, "energy_price", "4 after the decimal point"),
        ({"mode": "advanced", "elements": "[{"}, "elements", "Not valid JSON"),
        (
            {"mode": "advanced", "elements": '[{"price_components": [{"type": "KWH"}]}]'},
            "elements",
            "elements[0].price_components[0].type",
        ),
        (
            {
                "mode": "advanced",
                "elements": '[{"price_components": [{"type": "ENERGY", "price": 1}],'
                ' "restrictions": {"max_current": 16}}]',
            },
            "elements",
            "current is not metered",
        ),
        ({"currency": "E1R"}, "currency", "ISO 4217"),
        ({"tax_rate": "120"}, "tax_rate", "100"),
        ({"min_price": "5", "max_price": "2"}, "max_price", "below the minimum"),
        (
            {"valid_from": "2026-05-01T00:00", "valid_to": "2026-04-01T00:00"},
            "valid_to",
            "after valid_from",
        ),
        ({"parking_price": "", "parking_grace_minutes": "30"}, "parking_grace_minutes", ""),
    ],
)
def test_invalid_input_answers_field_errors_and_writes_nothing(org, overrides, field, message):
    response = portal_client(org, Role.ADMIN).post(org_url(org, ADD), simple_form(**overrides))

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors
    assert message in " ".join(errors[field])
    assert not Tariff.objects.exists()


def test_a_tariff_without_any_price_is_refused(org):
    empty = dict.fromkeys(("energy_price", "session_fee", "parking_price"), "")
    empty["parking_grace_minutes"] = ""

    response = portal_client(org, Role.ADMIN).post(org_url(org, ADD), simple_form(**empty))

    assert response.status_code == 400
    assert "Give at least one price." in response.context["form"].non_field_errors()
    assert not Tariff.objects.exists()


def test_a_refused_edit_leaves_the_stored_tariff_alone(org):
    tariff = TariffFactory(organization=org, name="Kept", elements=energy_elements("0.30"))

    response = portal_client(org, Role.ADMIN).post(
        org_url(org, edit(tariff)), simple_form(name="Changed", energy_price="-2")
    )

    assert response.status_code == 400
    tariff.refresh_from_db()
    assert tariff.name == "Kept"
    assert tariff.elements == energy_elements("0.30")


def test_the_preview_shows_the_engines_price_of_the_sample_without_saving(org):
    response = portal_client(org, Role.ADMIN).post(org_url(org, PREVIEW), simple_form())

    assert response.status_code == 200
    price = response.context["price"]
    start = datetime(2026, 3, 10, 17, 0, tzinfo=UTC)  # 18:00 in Berlin
    elements, _sources = build_elements(
        {
            "energy_price": Decimal("0.39"),
            "session_fee": Decimal("0.50"),
            "parking_price": Decimal("6.00"),
            "parking_grace_minutes": 240,
        }
    )
    expected = price_session(
        Tariff(currency="EUR", tax_rate=Decimal("19"), elements=elements).definition(),
        Usage(
            start=start,
            stop=start + timedelta(minutes=320),
            meter_start_wh=0,
            meter_stop_wh=22500,
            readings=((start + timedelta(minutes=120), 22500),),
            time_zone=org.timezone,
        ),
        step_size_reading=settings.BILLING_STEP_SIZE_READING,
        parking_tolerance_wh=settings.BILLING_PARKING_TOLERANCE_WH,
    )
    # 22.5 kWh × 0.39 + 0.50 + 80 parked minutes after the 4-hour grace × 6.00 / h.
    assert expected.total_excl_tax == Decimal("17.28")
    assert price["total_excl_tax"] == expected.total_excl_tax
    assert price["tax_amount"] == expected.tax_amount
    assert price["total_incl_tax"] == expected.total_incl_tax
    assert [row["amount"] for row in price["rows"]] == [
        f"{line.amount:.2f} EUR" for line in expected.lines
    ]
    assert not Tariff.objects.exists()


def test_the_preview_changes_with_the_prices_in_the_form(org):
    client = portal_client(org, Role.ADMIN)

    cheap = client.post(org_url(org, PREVIEW), simple_form(energy_price="0.20"))
    dear = client.post(org_url(org, PREVIEW), simple_form(energy_price="0.60"))

    difference = dear.context["price"]["total_excl_tax"] - cheap.context["price"]["total_excl_tax"]
    assert difference == Decimal("9.00")  # 22.5 kWh × 0.40


def test_the_preview_names_the_faults_of_an_invalid_tariff(org):
    response = portal_client(org, Role.ADMIN).post(
        org_url(org, PREVIEW), simple_form(energy_price="-1")
    )

    assert response.status_code == 200
    assert response.context["price"] is None
    assert any("Price per kWh" in error for error in response.context["preview_errors"])


def test_a_viewer_previews_the_stored_tariff_whatever_the_form_says(org):
    tariff = TariffFactory(organization=org, elements=energy_elements("1.00"), tax_rate="0")

    response = portal_client(org, Role.VIEWER).post(
        org_url(org, f"billing/tariffs/{tariff.pk}/preview/"),
        simple_form(energy_price="5.00"),
    )

    assert response.context["price"]["total_excl_tax"] == Decimal("22.50")


@pytest.mark.parametrize("role", ROLES)
def test_every_member_opens_a_tariff_only_admins_get_the_form(org, role):
    tariff = TariffFactory(organization=org)

    response = portal_client(org, role).get(org_url(org, edit(tariff)))

    assert response.status_code == 200
    assert ("form" in response.context) == Role(role).at_least(Role.ADMIN)
    assert response.context["price"] is not None


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OPERATOR])
def test_below_admin_nothing_is_written(org, role):
    tariff = TariffFactory(organization=org, name="Kept")
    client = portal_client(org, role)

    assert client.get(org_url(org, ADD)).status_code == 403
    assert client.post(org_url(org, ADD), simple_form()).status_code == 403
    assert client.post(org_url(org, edit(tariff)), simple_form()).status_code == 403
    assert client.post(org_url(org, f"{edit(tariff)}delete/")).status_code == 403
    assert client.post(org_url(org, f"{edit(tariff)}end/")).status_code == 403
    assert client.post(org_url(org, PREVIEW), simple_form()).status_code == 403
    tariff.refresh_from_db()
    assert tariff.name == "Kept"
    assert Tariff.objects.count() == 1


def test_another_organizations_tariff_is_a_404(org, other_org):
    theirs = TariffFactory(organization=other_org, name="Theirs")
    client = portal_client(org, Role.OWNER)

    for path in ("", "preview/", "delete/", "end/", "assignments/"):
        method = client.get if path in ("", "delete/") else client.post
        assert method(org_url(org, f"{edit(theirs)}{path}"), simple_form()).status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "Theirs"


def test_an_outsider_cannot_open_the_organizations_tariff_pages(org, other_org):
    tariff = TariffFactory(organization=org)
    outsider = portal_client(other_org, Role.OWNER)

    assert outsider.get(org_url(org, edit(tariff))).status_code == 404
    assert outsider.get(org_url(org, ADD)).status_code == 404
    assert outsider.post(org_url(org, PREVIEW), simple_form()).status_code == 404


def test_editing_a_tariff_leaves_the_charge_records_it_priced_as_billed(org):
    station = ChargingStationFactory(organization=org)
    tariff = TariffFactory(organization=org, elements=energy_elements("0.30"))
    session = ChargingSessionFactory(station=station)
    cdr = ChargeDetailRecord.objects.create(
        organization=org,
        session=session,
        tariff=tariff,
        tariff_snapshot={"elements": energy_elements("0.30")},
        currency="EUR",
        total_excl_tax=Decimal("3.00"),
        total_incl_tax=Decimal("3.57"),
        accounted_at=timezone.now(),
    )
    client = portal_client(org, Role.ADMIN)

    page = client.get(org_url(org, edit(tariff))).content.decode()
    client.post(org_url(org, edit(tariff)), simple_form(energy_price="0.90", session_fee=""))

    assert "keeps the prices it was billed with" in page
    cdr.refresh_from_db()
    assert cdr.tariff_snapshot == {"elements": energy_elements("0.30")}
    assert cdr.total_incl_tax == Decimal("3.57")


def test_ending_a_tariff_sets_its_validity_to_now(org):
    tariff = TariffFactory(organization=org)

    response = portal_client(org, Role.ADMIN).post(org_url(org, f"{edit(tariff)}end/"))

    assert response.status_code == 302
    tariff.refresh_from_db()
    assert tariff.valid_to is not None
    assert tariff.valid_to <= timezone.now()


def test_deleting_a_tariff_keeps_its_charge_records(org):
    station = ChargingStationFactory(organization=org)
    tariff = TariffFactory(organization=org)
    cdr = ChargeDetailRecord.objects.create(
        organization=org,
        session=ChargingSessionFactory(station=station),
        tariff=tariff,
        currency="EUR",
        accounted_at=timezone.now(),
    )

    response = portal_client(org, Role.ADMIN).post(org_url(org, f"{edit(tariff)}delete/"))

    assert response.status_code == 302
    assert not Tariff.objects.filter(pk=tariff.pk).exists()
    assert ChargeDetailRecord.objects.filter(pk=cdr.pk).exists()


def test_a_tariff_published_to_a_roaming_partner_is_not_deleted(org):
    tariff = TariffFactory(organization=org)
    RoamingPartner.objects.create(
        organization=org, name="Hubject", country_code="DE", party_id="HUB", tariff=tariff
    )
    client = portal_client(org, Role.ADMIN)

    page = client.get(org_url(org, f"{edit(tariff)}delete/")).content.decode()
    response = client.post(org_url(org, f"{edit(tariff)}delete/"), follow=True)

    assert "Hubject" in page
    assert "choose another tariff for them first" in response.content.decode()
    assert Tariff.objects.filter(pk=tariff.pk).exists()


def test_an_admin_applies_a_tariff_to_an_access_group_and_removes_it(org):
    tariff = TariffFactory(organization=org)
    group = AccessGroupFactory(organization=org, name="Fleet")
    client = portal_client(org, Role.ADMIN)

    response = client.post(
        org_url(org, f"{edit(tariff)}assignments/"),
        {"scope": AssignmentScope.ACCESS_GROUP, "access_group": group.pk},
    )

    assert response.status_code == 302
    assignment = TariffAssignment.objects.get(tariff=tariff)
    assert assignment.access_group == group
    assert "Access group Fleet" in client.get(org_url(org, edit(tariff))).content.decode()
    client.post(org_url(org, f"{edit(tariff)}assignments/{assignment.pk}/delete/"))
    assert not TariffAssignment.objects.exists()


def test_a_taken_target_is_refused_with_the_apis_message(org):
    group = AccessGroupFactory(organization=org, name="Fleet")
    first = TariffFactory(organization=org, name="First")
    TariffAssignment.objects.create(
        organization=org, tariff=first, scope=AssignmentScope.ACCESS_GROUP, access_group=group
    )
    second = TariffFactory(organization=org)

    response = portal_client(org, Role.ADMIN).post(
        org_url(org, f"{edit(second)}assignments/"),
        {"scope": AssignmentScope.ACCESS_GROUP, "access_group": group.pk},
    )

    assert response.status_code == 400
    assert "already has a tariff" in " ".join(
        response.context["assignment_form"].errors["access_group"]
    )
    assert TariffAssignment.objects.count() == 1


def test_another_organizations_group_cannot_get_the_tariff(org, other_org):
    tariff = TariffFactory(organization=org)
    theirs = AccessGroupFactory(organization=other_org)

    response = portal_client(org, Role.ADMIN).post(
        org_url(org, f"{edit(tariff)}assignments/"),
        {"scope": AssignmentScope.ACCESS_GROUP, "access_group": theirs.pk},
    )

    assert response.status_code == 400
    assert not TariffAssignment.objects.exists()
