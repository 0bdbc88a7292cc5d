"""The portal with the keyboard alone: where focus is after every step a person takes."""

import pytest
from playwright.sync_api import expect

from demo.seed import DEMO_PASSWORD, DEMO_USERNAME
from tests.browser.conftest import SIMULATED, SIMULATED_PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators"),
]

# What document.activeElement is, in words a failure message can show.
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return "body";
  const text = (el.innerText || el.value || el.getAttribute("aria-label") || "").trim();
  return `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}${
    el.name ? "[name=" + el.name + "]" : ""} ${text.slice(0, 40)}`.trim();
}"""
# Tabbing this far without reaching the control means it is out of a keyboard user's reach.
TAB_LIMIT = 60


def focused(page) -> str:
    return page.evaluate(FOCUSED)


def tab_to(page, selector: str, *, limit: int = TAB_LIMIT) -> int:
    """Press Tab until the element matching selector has focus; how many presses it took."""
    target = page.locator(selector).first
    expect(target).to_be_visible()
    seen = []
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            return presses
        seen.append(focused(page))
    raise AssertionError(f"{selector} not reached in {limit} Tabs; focus went: {seen}")


def assert_focus(page, selector: str) -> None:
    """The element matching selector holds the keyboard focus now."""
    target = page.locator(selector).first
    assert target.evaluate("el => el === document.activeElement"), (
        f"focus is on {focused(page)!r}, expected {selector}"
    )


def sign_in_by_keyboard(page) -> None:
    """Log in as the demo user with Tab, typing and Enter only."""
    page.goto("/accounts/login/")
    tab_to(page, "input[name=username]")
    page.keyboard.type(DEMO_USERNAME)
    page.keyboard.press("Tab")
    assert_focus(page, "input[name=password]")
    page.keyboard.type(DEMO_PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_logging_in_with_the_keyboard_lands_on_the_dashboard_with_the_skip_link_first(page, demo):
    """Tab to the fields, type, Enter: the dashboard, where the first Tab offers the skip link."""
    sign_in_by_keyboard(page)

    assert page.url.endswith(demo.url())
    assert focused(page) == "body"
    page.keyboard.press("Tab")
    assert_focus(page, "a.skip-link")
    expect(page.locator("a.skip-link")).to_be_visible()
    page.keyboard.press("Enter")
    # Past the header and the menu: the next Tab is inside the page's own content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.querySelector('main').contains(document.activeElement)"), (
        f"after the skip link, focus is on {focused(page)!r}, outside <main>"
    )


def test_a_command_and_its_confirmation_with_the_keyboard_keep_focus_in_the_panel(
    page, demo, simulated_station
):
    """Tab to Restart station, Enter, focus on Confirm, Enter: the answer, focus back on Restart."""
    station = simulated_station(SIMULATED, SIMULATED_PASSWORD)
    station.boot()
    sign_in_by_keyboard(page)
    page.goto(demo.url(f"stations/{demo.station.pk}/"))
    expect(page.locator("body")).to_have_attribute("data-live", "connected")
    restart = '#station-actions button[name="command"][value="restart_station"]'
    expect(page.locator(restart)).to_be_enabled()

    tab_to(page, restart)
    # Cancel first: the panel comes back with focus where the user started.
    page.keyboard.press("Enter")
    cancel = page.locator("#station-actions").get_by_role("link", name="Cancel")
    expect(page.locator("#station-actions").get_by_role("button", name="Confirm")).to_be_focused()
    page.keyboard.press("Tab")
    expect(cancel).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(restart)).to_be_focused()
    assert station.resets == []

    page.keyboard.press("Enter")
    confirm = page.locator("#station-actions").get_by_role("button", name="Confirm")
    expect(confirm).to_be_visible()
    expect(confirm).to_be_focused()
    assert confirm.is_visible() and confirm.bounding_box()["y"] < page.viewport_size["height"]
    page.keyboard.press("Enter")

    expect(page.locator("#command-result")).to_contain_text("Accepted", timeout=30_000)
    # Focus moves once the swap has settled, a moment after the answer shows: waited for.
    expect(page.locator(restart)).to_be_focused()
    assert station.resets == ["Soft"]


def test_filtering_sessions_with_the_keyboard_then_exporting_them(page, demo):
    """Pick a state by arrow key, submit with Enter, then export the filtered rows by Enter."""
    sign_in_by_keyboard(page)
    page.goto(demo.url("sessions/"))

    state = "form.filters select[name=state]"
    tab_to(page, state)
    # On a closed select an arrow key changes the choice; nothing is submitted by it.
    url = page.url
    page.keyboard.press("ArrowDown")
    chosen = page.locator(state).input_value()
    assert chosen != "" and page.url == url
    tab_to(page, "form.filters button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert f"state={chosen}" in page.url
    # The filter's result is announced and holds focus, so the keyboard user starts there.
    summary = page.locator("[data-list-summary]").first
    expect(summary).to_be_visible()
    assert_focus(page, "[data-list-summary]")

    export = "a[data-export-csv]"
    tab_to(page, export)
    assert f"state={chosen}" in page.locator(export).get_attribute("href")
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    assert download.value.suggested_filename.endswith(".csv")
    assert_focus(page, export)


def test_switching_the_language_with_the_keyboard_waits_for_the_button(page, demo):
    """Arrow to Deutsch: nothing happens; Tab to the button, Enter: the page in German."""
    sign_in_by_keyboard(page)
    page.goto(demo.url("stations/"))

    tab_to(page, "#language-switch")
    page.evaluate("window.__marker = 1")
    page.keyboard.press("ArrowDown")
    assert page.locator("#language-switch").input_value() == "de"
    assert page.evaluate("window.__marker") == 1, "an arrow key reloaded the page"
    assert page.evaluate("document.documentElement.lang") == "en"

    page.keyboard.press("Tab")
    assert_focus(page, "#language-switch ~ button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert page.evaluate("document.documentElement.lang") == "de"
    assert page.url.endswith(demo.url("stations/"))
    page.keyboard.press("Tab")
    assert_focus(page, "a.skip-link")
    expect(page.locator("a.skip-link")).to_have_text("Zum Inhalt springen")
