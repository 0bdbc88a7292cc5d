"""The portal in headless Chromium: remote control, live status, CSV export, German."""

import csv
import io
from pathlib import Path

import pytest
from ocpp.v16.enums import ChargePointErrorCode
from playwright.sync_api import expect

from demo.seed import (
    DEMO_PASSWORD,
    DEMO_USERNAME,
    HEADQUARTERS,
)
from sessions_app.models import ChargingSession
from tests.browser.conftest import (
    PHONE,
    SIMULATED,
    SIMULATED_PASSWORD,
    STRAY_CARD,
    login,
    screenshot,
)
from tests.sessions_app.test_session_csv_export import HEADER as CSV_HEADER

pytestmark = [
    pytest.mark.browser,
    # WhiteNoise's static files and the CSV export stream from sync iterators under ASGI.
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators"),
]


def test_restart_station_shows_the_answer_of_the_station_connected_over_ocpp(
    page, demo, simulated_station
):
    """Log in, open a station, press Restart station, confirm, and read the station's answer."""
    station = simulated_station(SIMULATED, SIMULATED_PASSWORD)
    station.boot()
    login(page, DEMO_USERNAME, DEMO_PASSWORD)
    screenshot(page, "dashboard")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="All stations").click()
    screenshot(page, "station-list")
    page.get_by_role("link", name=SIMULATED, exact=True).first.click()
    actions = page.locator("#station-actions")
    actions.locator('button[name="command"][value="restart_station"]').click()
    confirm = actions.get_by_role("button", name="Confirm")
    expect(confirm).to_be_visible()
    # A confirmation comes first: nothing reaches the station before it is given.
    assert station.resets == []
    confirm.click()

    expect(page.locator("#command-result")).to_contain_text("Accepted")
    assert station.resets == ["Soft"]
    screenshot(page, "station")
    screenshot(page, "station-phone", phone=True)
    assert page.script_errors == []


def test_a_connector_turns_from_available_to_charging_without_a_reload(
    page, demo, simulated_station
):
    """The site sheet's badge changes when the station reports, pushed over the page's socket."""
    station = simulated_station(SIMULATED, SIMULATED_PASSWORD)
    station.boot()
    station.report_status(1, "Available")
    connector = demo.station.connectors.get(connector_id=1)
    login(page, DEMO_USERNAME, DEMO_PASSWORD)
    page.goto(demo.url(f"sites/{demo.headquarters.pk}/sheet/"))
    badge = page.locator(f'[data-live-connector="{connector.pk}"]')
    expect(badge).to_have_text("Available")
    # The page's live socket must be open before the station reports, or the event is missed.
    expect(page.locator("body")).to_have_attribute("data-live", "connected")
    page.evaluate("window.__marker = 1")

    station.report_status(1, "Charging")

    expect(badge).to_have_text("Charging", timeout=10_000)
    assert page.evaluate("window.__marker") == 1
    screenshot(page, "site-sheet")
    assert page.script_errors == []


def test_a_fault_shows_on_the_dashboard_and_goes_again_without_a_reload(
    page, demo, simulated_station, eager_celery
):
    """GroundFailure over OCPP: the open faults and open alerts count up live, and back down."""
    station = simulated_station(SIMULATED, SIMULATED_PASSWORD)
    station.boot()
    station.report_status(1, "Available")
    login(page, DEMO_USERNAME, DEMO_PASSWORD)
    page.goto(demo.url(""))
    faults, alerts = page.get_by_test_id("open-faults"), page.get_by_test_id("open-alerts")
    expect(page.locator("body")).to_have_attribute("data-live", "connected")
    before = int(faults.text_content()), int(alerts.text_content())
    page.evaluate("window.__marker = 1")

    station.report_status(1, "Faulted", ChargePointErrorCode.ground_failure)

    expect(faults).to_have_text(str(before[0] + 1), timeout=10_000)
    expect(alerts).to_have_text(str(before[1] + 1), timeout=10_000)
    expect(page.locator("#open-faults")).to_contain_text("GroundFailure")
    # Connected stations' faulted connectors only: the demo's offline station's fault counts
    # as not available there (it is still an open fault).
    faulted_row = page.locator("#connector-statuses tr", has_text="Faulted")
    expect(faulted_row.locator("td.num")).to_have_text("1", timeout=10_000)
    screenshot(page, "dashboard-fault")

    station.report_status(1, "Available")

    expect(faults).to_have_text(str(before[0]), timeout=10_000)
    expect(alerts).to_have_text(str(before[1]), timeout=10_000)
    expect(faulted_row).to_have_count(0, timeout=10_000)
    assert page.evaluate("window.__marker") == 1
    assert page.script_errors == []


def test_a_sites_sessions_export_to_csv_with_that_sites_sessions_only(page, demo):
    """The Sessions tab's CSV link downloads the site's sessions, as the tab lists them."""
    login(page, DEMO_USERNAME, DEMO_PASSWORD)
    page.goto(demo.url(f"sites/{demo.headquarters.pk}/sessions/"))
    screenshot(page, "site-sessions")

    with page.expect_download() as download_info:
        page.locator("a[data-export-csv]").click()
    download = download_info.value

    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert rows[0] == CSV_HEADER
    exported = [dict(zip(CSV_HEADER, row, strict=True)) for row in rows[1:]]
    # Every session at the site but the one of the card in no access group; none from elsewhere.
    at_site = ChargingSession.objects.filter(station__site=demo.headquarters)
    assert ChargingSession.objects.exclude(station__site=demo.headquarters).exists()
    expected = sorted(at_site.exclude(id_tag=STRAY_CARD).values_list("pk", flat=True))
    assert expected
    assert sorted(int(row["id"]) for row in exported) == expected
    assert {row["site_name"] for row in exported} == {HEADQUARTERS}
    assert STRAY_CARD not in {row["id_tag"] for row in exported}


def test_the_language_switch_turns_the_portal_german(page, demo):
    """Choosing Deutsch in the header reloads the page in German."""
    login(page, DEMO_USERNAME, DEMO_PASSWORD)
    expect(page.locator("html")).to_have_attribute("lang", "en")

    # Choosing alone changes nothing (arrow keys walk the list); the button applies it.
    page.locator("#language-switch").select_option("de")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    with page.expect_navigation():
        page.locator(".language-switcher").get_by_role("button").click()

    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.locator("nav.main").get_by_role("link", name="Alle Stationen")).to_be_visible()
    screenshot(page, "dashboard-de")


def test_the_other_main_pages_open_without_script_errors(page, demo):
    """Sites, analytics and cards load with their heading and run their scripts cleanly."""
    login(page, DEMO_USERNAME, DEMO_PASSWORD)
    for path, heading, name in [
        ("sites/", "My sites", "site-list"),
        ("analytics/", "Analytics", "analytics"),
        ("cards/", "RFID cards", "cards"),
        ("alerts/", "Alerts", "alerts"),
        ("availability/", "Availability", "availability"),
    ]:
        response = page.goto(demo.url(path))

        assert response.status == 200, path
        expect(page.locator("h1")).to_have_text(heading)
        screenshot(page, name)
    assert page.script_errors == []


def test_no_main_page_scrolls_sideways_on_a_phone(page, demo):
    """At 390 px wide every main page fits; wide tables scroll inside their own frame."""
    login(page, DEMO_USERNAME, DEMO_PASSWORD)
    page.set_viewport_size(PHONE)
    site = demo.headquarters.pk
    paths = [
        "",
        "stations/",
        f"stations/{demo.station.pk}/",
        "sites/",
        f"sites/{site}/sheet/",
        f"sites/{site}/sessions/",
        "sessions/",
        "analytics/",
        "cards/",
        "cards/import/",
        "groups/",
        "alerts/",
        "alerts/rules/",
        "availability/",
    ]
    too_wide = {}
    for path in paths:
        page.goto(demo.url(path))
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            too_wide[demo.url(path)] = width

    assert too_wide == {}
