"""Live state on open pages: the control panel, the dashboard's figures, offline statuses."""

import re

import pytest
from playwright.sync_api import expect

from demo.seed import CARDS, DEMO_PASSWORD, DEMO_USERNAME
from tests.browser.conftest import SIMULATED, SIMULATED_PASSWORD, login, screenshot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators"),
]


def open_live(page, url: str) -> None:
    """Open a page and wait for its live socket; a marker shows later that it never reloaded."""
    page.goto(url)
    # The page's live socket must be open before the station acts, or the event is missed.
    expect(page.locator("body")).to_have_attribute("data-live", "connected")
    page.evaluate("window.__marker = 1")


def test_the_station_panel_enables_itself_when_the_station_connects_and_disables_when_it_leaves(
    page, demo, simulated_station
):
    login(page, DEMO_USERNAME, DEMO_PASSWORD)
    open_live(page, demo.url(f"stations/{demo.station.pk}/"))
    restart = page.locator('#station-actions button[name="command"][value="restart_station"]')
    expect(restart).to_be_disabled()
    expect(page.locator("#reason-restart_station")).to_have_text("The station is offline.")

    station = simulated_station(SIMULATED, SIMULATED_PASSWORD)
    station.boot()

    expect(restart).to_be_enabled(timeout=10_000)
    expect(page.locator("#reason-restart_station")).to_have_count(0)

    station.disconnect()

    expect(restart).to_be_disabled(timeout=10_000)
    expect(page.locator("#reason-restart_station")).to_have_text("The station is offline.")
    assert page.evaluate("window.__marker") == 1
    assert page.script_errors == []


def test_a_command_of_the_refreshed_panel_still_swaps_the_whole_panel(
    page, demo, simulated_station
):
    """After the buttons were fetched again live, Restart station asks and answers as before."""
    login(page, DEMO_USERNAME, DEMO_PASSWORD)
    open_live(page, demo.url(f"stations/{demo.station.pk}/"))
    station = simulated_station(SIMULATED, SIMULATED_PASSWORD)
    station.boot()
    actions = page.locator("#station-actions")
    restart = actions.locator('button[name="command"][value="restart_station"]')
    expect(restart).to_be_enabled(timeout=10_000)

    restart.click()
    actions.get_by_role("button", name="Confirm").click()

    expect(page.locator("#command-result")).to_contain_text("Accepted")
    assert station.resets == ["Soft"]
    assert page.evaluate("window.__marker") == 1


def test_the_dashboards_figures_follow_stations_and_sessions_live(page, demo, simulated_station):
    login(page, DEMO_USERNAME, DEMO_PASSWORD)
    open_live(page, demo.url(""))
    online = page.get_by_test_id("stations-online")
    offline = page.get_by_test_id("stations-offline")
    running = page.get_by_test_id("sessions-running")
    before = {
        "online": int(online.text_content()),
        "offline": int(offline.text_content()),
        "running": int(running.text_content()),
    }

    station = simulated_station(SIMULATED, SIMULATED_PASSWORD)
    station.boot()
    station.report_status(1, "Available")

    expect(online).to_have_text(str(before["online"] + 1), timeout=10_000)
    expect(offline).to_have_text(str(before["offline"] - 1), timeout=10_000)

    answer = station.start_transaction(1, CARDS[0].uid, meter_start=1_000)
    assert answer.id_tag_info["status"] == "Accepted"

    expect(running).to_have_text(str(before["running"] + 1), timeout=10_000)
    expect(page.locator("#running-sessions")).to_contain_text(SIMULATED)
    screenshot(page, "dashboard-live")

    station.disconnect()

    expect(online).to_have_text(str(before["online"]), timeout=10_000)
    assert page.evaluate("window.__marker") == 1
    assert page.script_errors == []


def test_the_dashboard_counts_an_offline_stations_connectors_as_not_available_live(
    page, demo, simulated_station
):
    login(page, DEMO_USERNAME, DEMO_PASSWORD)
    station = simulated_station(SIMULATED, SIMULATED_PASSWORD)
    station.boot()
    station.report_status(1, "Available")
    station.report_status(2, "Available")
    open_live(page, demo.url(""))
    not_available = page.locator("#connector-statuses tr", has_text="Not available")
    before = int(not_available.locator("td.num").text_content())

    station.disconnect()

    expect(not_available.locator("td.num")).to_have_text(str(before + 2), timeout=10_000)
    assert page.evaluate("window.__marker") == 1


def test_an_offline_stations_connectors_show_not_available_with_the_last_status(page, demo):
    """The demo's DEMO-CS-04 is offline: its faulted and free connectors are not available."""
    login(page, DEMO_USERNAME, DEMO_PASSWORD)
    page.goto(demo.url("stations/"))
    row = page.locator("#station-list tr", has_text="DEMO-CS-04")
    badges = row.locator(".live-status")
    expect(badges).to_have_count(2)
    expect(badges.nth(0)).to_contain_text("Not available")
    # A report from before the organization's midnight is shown with its date as well.
    expect(badges.nth(0)).to_contain_text(re.compile(r"\(last reported: Available, [^)]*\d:\d\d"))
    expect(badges.nth(1)).to_contain_text(re.compile(r"\(last reported: Faulted, [^)]*\d:\d\d"))
    expect(row.locator(".badge.status-available")).to_have_count(0)
    screenshot(page, "station-list-offline")


def test_connectors_turn_not_available_when_the_station_leaves_and_back_when_it_returns(
    page, demo, simulated_station
):
    station = simulated_station(SIMULATED, SIMULATED_PASSWORD)
    station.boot()
    station.report_status(0, "Available")
    station.report_status(1, "Available")
    connector = demo.station.connectors.get(connector_id=1)
    login(page, DEMO_USERNAME, DEMO_PASSWORD)
    open_live(page, demo.url(f"stations/{demo.station.pk}/"))
    badge = page.locator(f'#station-connectors [data-live-connector="{connector.pk}"]')
    station_status = page.locator(f'[data-live-station-status="{demo.station.pk}"]')
    expect(badge).to_have_text("Available")
    expect(station_status).to_have_text("Available")

    station.disconnect()

    expect(badge.locator(".badge")).to_have_text("Not available", timeout=10_000)
    expect(badge).to_contain_text(re.compile(r"\(last reported: Available, \d\d:\d\d\)"))
    expect(station_status.locator(".badge")).to_have_text("Not available")
    screenshot(page, "station-offline")

    again = simulated_station(SIMULATED, SIMULATED_PASSWORD)
    again.boot()

    expect(badge).to_have_text("Available", timeout=10_000)
    expect(station_status).to_have_text("Available")

    # A status reported while online shows as it is; one remembered while offline as its detail.
    again.report_status(1, "Charging")
    expect(badge).to_have_text("Charging", timeout=10_000)
    assert page.evaluate("window.__marker") == 1
    assert page.script_errors == []


def test_a_sites_overview_counts_its_connected_stations_live(page, demo, simulated_station):
    login(page, DEMO_USERNAME, DEMO_PASSWORD)
    open_live(page, demo.url(f"sites/{demo.headquarters.pk}/"))
    overview = page.locator("#site-overview-live")
    expect(overview).to_contain_text("1 of 2 connected")

    station = simulated_station(SIMULATED, SIMULATED_PASSWORD)
    station.boot()

    expect(overview).to_contain_text("2 of 2 connected", timeout=10_000)
    station.disconnect()
    expect(overview).to_contain_text("1 of 2 connected", timeout=10_000)
    assert page.evaluate("window.__marker") == 1
    assert page.script_errors == []
