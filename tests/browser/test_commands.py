"""A station slow to answer: the panel says the command is waiting, the answer arrives live."""

import pytest
from playwright.sync_api import expect

from demo.seed import DEMO_PASSWORD, DEMO_USERNAME
from ocpp_gateway.choices import CommandStatus
from ocpp_gateway.models import CommandLog
from tests.browser.conftest import SIMULATED, SIMULATED_PASSWORD, login, screenshot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators"),
]

# The simulated station's answer takes this long (the portal waits 1.5 s before it says so).
SLOW = 5.0
# Beyond the slow answer, for a loaded CI machine.
PATIENCE_MS = 30_000


def restart(page, demo):
    """Open the simulated station's page, press Restart station and confirm."""
    page.goto(demo.url(f"stations/{demo.station.pk}/"))
    expect(page.locator("body")).to_have_attribute("data-live", "connected")
    actions = page.locator("#station-actions")
    actions.locator('button[name="command"][value="restart_station"]').click()
    actions.get_by_role("button", name="Confirm").click()


def test_a_slow_answer_shows_waiting_with_the_time_waited_then_the_answer_without_reload(
    page, demo, simulated_station
):
    """Confirm a restart the station answers after 5 s: waiting and counting, then Accepted."""
    station = simulated_station(SIMULATED, SIMULATED_PASSWORD)
    station.boot()
    station.charge_point.reset_delay = SLOW
    login(page, DEMO_USERNAME, DEMO_PASSWORD)
    restart(page, demo)
    page.evaluate("window.__marker = 1")

    # Words, not a spinner alone: the panel's status line, read out through the page's
    # status region (base.html's announcer, role=status).
    status = page.locator("#command-result")
    expect(status).to_contain_text("Restart station: sent, waiting for the station's answer")
    expect(page.get_by_role("status").filter(has_text="waiting for the station's")).to_have_count(1)
    timer = status.get_by_role("timer")
    expect(timer).to_be_visible()
    first = timer.text_content()
    # The time waited counts up while the station thinks.
    expect(timer).not_to_have_text(first, timeout=PATIENCE_MS)
    expect(page.locator("#station-commands")).to_contain_text("Pending")
    screenshot(page, "station-command-waiting")

    expect(status).to_contain_text("Accepted", timeout=PATIENCE_MS)
    expect(status).to_contain_text("status: Accepted")
    expect(status.get_by_role("timer")).to_have_count(0)
    # The command log follows by itself.
    row = page.locator("#station-commands tr", has_text="Restart station").first
    expect(row).to_contain_text("Accepted", timeout=PATIENCE_MS)
    assert page.evaluate("window.__marker") == 1, "the page was reloaded"
    assert station.resets == ["Soft"]
    assert page.script_errors == []


def test_leaving_the_page_the_answer_is_found_later_in_the_command_log(
    page, demo, simulated_station
):
    """Confirm, leave for the station list at once, come back: the log holds the answer."""
    station = simulated_station(SIMULATED, SIMULATED_PASSWORD)
    station.boot()
    station.charge_point.reset_delay = SLOW
    login(page, DEMO_USERNAME, DEMO_PASSWORD)
    restart(page, demo)
    expect(page.locator("#command-result")).to_contain_text("waiting for the station's answer")

    page.goto(demo.url("stations/"))
    log = CommandLog.objects.get(command="restart_station")

    page.goto(demo.url(f"stations/{demo.station.pk}/"))
    row = page.locator(f'#station-commands tr[data-command-log="{log.pk}"]')
    # Still waiting when we come back, or already answered: either way the answer shows up.
    expect(row).to_contain_text("Accepted", timeout=PATIENCE_MS)
    expect(row).to_contain_text("status: Accepted")
    log.refresh_from_db()
    assert log.status == CommandStatus.ACCEPTED
    assert page.script_errors == []
