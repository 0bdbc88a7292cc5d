"""The tariff editor in headless Chromium: change a price, watch the preview, save, see the list."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from billing.forms import build_elements
from billing.models import Tariff
from organizations.choices import Role
from tests.browser.conftest import login, screenshot
from tests.browser.test_accessibility import AXE, AXE_MISSING, axe_violations, describe
from tests.factories import USER_PASSWORD, MembershipFactory, OrganizationFactory, TariffFactory

pytestmark = [
    pytest.mark.browser,
    # WhiteNoise's static files stream from sync iterators under ASGI.
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators"),
]


@pytest.fixture
def tariff(portal_server):
    """A tariff of 0.30 EUR per kWh with 19 % VAT, and an admin of its organization."""
    org = OrganizationFactory(name="Tariff Test", slug="tariff-test")
    MembershipFactory(user__username="tariff-admin", organization=org, role=Role.ADMIN)
    elements, _sources = build_elements({"energy_price": Decimal("0.30")})
    return TariffFactory(organization=org, name="City AC", elements=elements, tax_rate="19")


def test_an_admin_changes_a_price_sees_the_preview_follow_and_saves(page, tariff):
    login(page, "tariff-admin", USER_PASSWORD)
    page.goto("/o/tariff-test/billing/tariffs/")
    page.get_by_role("link", name="City AC").click()

    total = page.get_by_test_id("preview-total")
    # The default sample: 20 kWh at 0.30 EUR, plus 19 % VAT.
    expect(total).to_have_text("7.14 EUR")
    page.get_by_label("Price per kWh").fill("0.50")
    # No save yet: the engine prices the form as it stands (20 kWh × 0.50 × 1.19).
    expect(total).to_have_text("11.90 EUR")
    page.get_by_label("Energy (kWh)").fill("10")
    expect(total).to_have_text("5.95 EUR")
    assert Tariff.objects.get(pk=tariff.pk).elements == tariff.elements
    screenshot(page, "tariff-editor")

    with page.expect_navigation():
        page.get_by_role("button", name="Save tariff").click()

    expect(page.locator(".messages")).to_contain_text("Tariff City AC saved.")
    card = page.locator(f'[data-tariff="{tariff.pk}"]')
    expect(card).to_contain_text("0.50 EUR per kWh")
    assert page.script_errors == []


def test_a_wrong_price_is_named_in_the_preview_and_refused_on_save(page, tariff):
    login(page, "tariff-admin", USER_PASSWORD)
    page.goto(f"/o/tariff-test/billing/tariffs/{tariff.pk}/")

    page.get_by_label("Price per kWh").fill("-1")
    expect(page.get_by_test_id("tariff-preview")).to_contain_text("Price per kWh")
    page.get_by_role("button", name="Save tariff").click()

    expect(page.locator(".field.has-error")).to_contain_text("at least 0")
    assert Tariff.objects.get(pk=tariff.pk).elements == tariff.elements
    assert page.script_errors == []


def test_the_editor_passes_axe_in_both_modes(page, tariff):
    if not AXE.is_file():
        pytest.fail(AXE_MISSING, pytrace=False)
    login(page, "tariff-admin", USER_PASSWORD)
    page.goto(f"/o/tariff-test/billing/tariffs/{tariff.pk}/")
    expect(page.get_by_test_id("preview-total")).to_be_visible()
    simple = axe_violations(page)

    page.get_by_label("OCPI elements (advanced)").check()
    expect(page.get_by_label("OCPI tariff elements (JSON)")).to_be_visible()
    expect(page.get_by_label("Price per kWh")).to_be_hidden()
    advanced = axe_violations(page)

    assert not simple, describe(simple)
    assert not advanced, describe(advanced)
    assert page.script_errors == []
