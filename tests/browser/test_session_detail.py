"""The session page in headless Chromium: a running session's cost so far and its curves."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from demo.seed import DEMO_PASSWORD, DEMO_USERNAME
from sessions_app.choices import SessionState
from sessions_app.models import ChargingSession
from tests.browser.conftest import PHONE, login, screenshot
from tests.factories import MeterValueFactory

pytestmark = [pytest.mark.browser]


def running_session(demo) -> ChargingSession:
    """The demo's running session, with ten minutes of power, energy and state of charge."""
    session = ChargingSession.objects.get(organization=demo.org, state=SessionState.ACTIVE)
    start = session.start
    for minute in range(0, 40, 4):
        moment = start + timedelta(minutes=minute)
        for measurand, value, unit, location in (
            ("Energy.Active.Import.Register", session.meter_start + minute * 180, "Wh", ""),
            ("Power.Active.Import", 10_800 + minute * 5, "W", ""),
            ("SoC", 30 + minute, "Percent", "EV"),
        ):
            MeterValueFactory(
                session=session,
                station=session.station,
                timestamp=moment,
                measurand=measurand,
                value=Decimal(value),
                unit=unit,
                location=location,
            )
    return session


def smallest_chart_font(page) -> float:
    """The smallest computed font size, in CSS pixels, of any text in the page's charts."""
    return page.evaluate(
        """() => Math.min(...Array.from(document.querySelectorAll('.chart-svg text'))
            .filter((t) => t.getBoundingClientRect().width > 0)
            .map((t) => t.getBoundingClientRect().height))"""
    )


def test_a_running_sessions_page_shows_its_cost_so_far_and_its_curves(page, demo):
    session = running_session(demo)
    login(page, DEMO_USERNAME, DEMO_PASSWORD)
    page.goto(demo.url(f"sessions/{session.pk}/"))
    panel = page.locator("#session-progress")
    expect(panel.get_by_role("heading", name="Charging now")).to_be_visible()
    # A price from the demo's tariff: an amount and a currency.
    expect(panel.get_by_test_id("cost-so-far")).to_have_text(re.compile(r"^\d+\.\d\d [A-Z]{3}$"))
    expect(panel.get_by_test_id("state-of-charge")).to_have_text("66 %")
    expect(panel.locator("figure.chart")).to_have_count(3)
    expect(panel.get_by_role("img", name=re.compile("^Power"))).to_be_visible()
    screenshot(page, "session-progress")


def test_the_analytics_charts_name_their_series_in_words(page, demo):
    login(page, DEMO_USERNAME, DEMO_PASSWORD)
    page.goto(demo.url("analytics/"))
    legend = page.locator(".chart-legend").first
    expect(legend).to_contain_text("Average (minutes)")
    expect(legend).to_contain_text("Median (minutes)")
    expect(page.get_by_role("heading", name="Usage per station")).to_be_visible()
    screenshot(page, "analytics")


def test_the_charts_text_stays_readable_on_a_phone(page, demo):
    session = running_session(demo)
    login(page, DEMO_USERNAME, DEMO_PASSWORD)
    page.set_viewport_size(PHONE)
    page.goto(demo.url(f"sessions/{session.pk}/"))
    expect(page.locator("#session-progress figure.chart").first).to_be_visible()
    # A scaled viewBox drew 13 px labels 3 to 4 px tall at this width.
    assert smallest_chart_font(page) >= 10
    font_size = page.evaluate(
        "() => parseFloat(getComputedStyle(document.querySelector('.chart-svg text')).fontSize)"
    )
    assert font_size >= 10
    screenshot(page, "session-progress-phone", phone=True)
    page.set_viewport_size(PHONE)
    page.goto(demo.url("analytics/"))
    expect(page.locator("figure.chart").first).to_be_visible()
    assert smallest_chart_font(page) >= 10
    screenshot(page, "analytics-phone", phone=True)
