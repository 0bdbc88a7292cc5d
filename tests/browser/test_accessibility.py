"""axe-core on every main page, desktop and phone, English and German: WCAG 2.2 A/AA."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from stations.models import ChargingStation
from tests.browser.conftest import DESKTOP, PHONE, SIMULATED, SIMULATED_PASSWORD
from tests.browser.pages import (
    check_every_page,
    main_pages,
    open_page,
    portal_tab,
    resize,
    scan2pay_page,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators"),
]

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
AXE_MISSING = (
    f"axe-core is not installed ({AXE} is missing): the accessibility tests cannot run. "
    "Install it with `make axe` (npm ci in tests/browser)."
)
# WCAG 2.0, 2.1 and 2.2, levels A and AA: what the portal promises (docs/portal.md).
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {
    runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => ({target: n.target.join(" "), summary: n.failureSummary})),
    more: Math.max(0, v.nodes.length - 5),
  }));
}"""


# Every visible control is focused in turn (after a Tab, so :focus-visible applies as for a
# keyboard user); its outline's contrast against the first opaque background around it must be
# at least 3:1 (WCAG 2.2 SC 1.4.11, 2.4.7). Returns the controls that fall short.
FOCUS_RINGS = r"""() => {
  const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05); };
  const surface = (el) => {
    for (let e = el.parentElement; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const selector = 'a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), ' +
    'select:not([disabled]), textarea, summary, [tabindex="0"]';
  const bad = [];
  for (const el of [...document.querySelectorAll(selector)].slice(0, 80)) {
    if (!el.getClientRects().length || getComputedStyle(el).visibility === "hidden") continue;
    el.focus({preventScroll: true});
    if (document.activeElement !== el || !el.matches(":focus-visible")) continue;
    const s = getComputedStyle(el);
    const width = parseFloat(s.outlineWidth);
    const contrast = s.outlineStyle === "none" || !width
      ? 0 : ratio(rgb(s.outlineColor), surface(el));
    if (contrast < 3) {
      const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + " " +
        (el.textContent || el.getAttribute("name") || "").trim().slice(0, 30);
      bad.push(`${name} (${contrast.toFixed(2)}:1)`);
    }
  }
  document.activeElement && document.activeElement.blur();
  return bad;
}"""


def axe_violations(page) -> list[dict]:
    """axe-core's WCAG A/AA violations on the page as it is now (axe injected once per page)."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate(RUN_AXE, WCAG_TAGS)


def describe(violations: list[dict]) -> str:
    """One readable block per violated rule: id, impact, what it means, the failing nodes."""
    lines = []
    for v in violations:
        lines.append(f"  [{v['impact']}] {v['id']}: {v['help']}")
        for node in v["nodes"]:
            summary = " / ".join(node["summary"].splitlines()[1:3]).strip()
            lines.append(f"      {node['target']}  -- {summary}")
        if v["more"]:
            lines.append(f"      ... and {v['more']} more")
    return "\n".join(lines)


def check(page, name: str, language: str, failures: list[str]) -> None:
    """axe at desktop width, then at phone width, on the page already open; focus rings once."""
    for label, viewport in (("1280 px", DESKTOP), ("390 px", PHONE)):
        resize(page, viewport)
        violations = axe_violations(page)
        if violations:
            failures.append(f"{name} at {label}, {language} ({page.url}):\n{describe(violations)}")
    resize(page, DESKTOP)
    if language == "en":
        page.keyboard.press("Tab")
        faint = page.evaluate(FOCUS_RINGS)
        if faint:
            failures.append(f"{name}: focus ring under 3:1 on " + "; ".join(faint[:10]))


def keyboard_and_screen_reader_checks(page, demo, simulated_station) -> list[str]:
    """The header's menus, focus after an htmx swap and the live region, used from the keyboard."""
    failures = []
    page.goto(demo.url())
    try:
        # Walking the language list with an arrow key chooses; only the button sends the form.
        page.evaluate("window.__stay = true")
        page.locator("#language-switch").focus()
        page.keyboard.press("ArrowDown")
        page.wait_for_timeout(300)  # a grace period for a navigation that must not come
        assert page.evaluate("window.__stay === true && document.documentElement.lang") == "en", (
            "an arrow key on the language menu reloaded the page"
        )
    except AssertionError as error:
        failures.append(f"language menu: {error}")
    try:
        # On a phone the header folds into a Menu button, which opens and closes from the keyboard.
        resize(page, PHONE)
        toggle = page.locator("#menu-toggle")
        menu = page.get_by_role("navigation", name="Main")
        expect(toggle).to_be_visible()
        expect(toggle).to_have_attribute("aria-expanded", "false")
        expect(menu).to_be_hidden()
        toggle.focus()
        page.keyboard.press("Enter")
        expect(toggle).to_have_attribute("aria-expanded", "true")
        expect(menu.get_by_role("link").first).to_be_visible()
        page.keyboard.press("Escape")
        expect(menu).to_be_hidden()
        expect(toggle).to_be_focused()
    except AssertionError as error:
        failures.append(f"phone menu: {error}")
    finally:
        resize(page, DESKTOP)
    try:
        # The command panel is swapped by htmx: focus follows to Confirm, then into the panel,
        # and the outcome is read out by the page's one live region.
        station = ChargingStation.objects.get(organization=demo.org, ocpp_id="DEMO-CS-02")
        page.goto(demo.url(f"stations/{station.pk}/"))
        panel = page.locator("#station-actions")
        panel.locator('button[name="command"][value="restart_station"]').focus()
        page.keyboard.press("Enter")
        confirm = panel.get_by_role("button", name="Confirm")
        expect(confirm).to_be_focused()
        expect(confirm).to_be_in_viewport()
        page.keyboard.press("Enter")
        expect(panel.get_by_role("button", name="Confirm")).to_have_count(0)
        expect(panel.locator(":focus")).to_have_count(1)
        expect(page.locator("#portal-announcer")).to_contain_text("Restart")
    except AssertionError as error:
        failures.append(f"focus after htmx swap / announcements: {error}")
    try:
        # A station's status pushed over the page's socket is read out, not only redrawn.
        page.goto(demo.url(f"sites/{demo.headquarters.pk}/sheet/"))
        expect(page.locator("body")).to_have_attribute("data-live", "connected")
        station = simulated_station(SIMULATED, SIMULATED_PASSWORD)
        station.boot()
        station.report_status(1, "Charging")
        expect(page.locator("#portal-announcer")).to_contain_text("Charging")
    except AssertionError as error:
        failures.append(f"live status announcement: {error}")
    return failures


def test_no_main_page_violates_wcag_22_aa(browser, portal_server, demo, simulated_station):
    """Every main page, signed out (login) and in, English and German, passes axe's WCAG 2.2 AA."""
    if not AXE.is_file():
        pytest.fail(AXE_MISSING, pytrace=False)
    failures: list[str] = []
    pages = main_pages(demo)
    for language in ("en", "de"):
        with portal_tab(browser, portal_server, language) as page:
            if language == "en":
                # The checker itself works: a page with a known defect fails it.
                page.set_content("<html lang='en'><title>t</title><main><img src='x.png'></main>")
                assert "image-alt" in {v["id"] for v in axe_violations(page)}
            check_every_page(page, pages, language, check, failures)
            if language == "en":
                failures.extend(keyboard_and_screen_reader_checks(page, demo, simulated_station))
            if page.script_errors:
                failures.append(f"script errors ({language}): {page.script_errors}")
    checked = ", ".join(["login"] + [p.name for p in pages])
    assert not failures, (
        f"accessibility problems (checked {checked} at 1280 and 390 px, en and de):\n\n"
        + "\n\n".join(failures)
    )


def test_the_public_scan2pay_page_passes_wcag_22_aa_on_a_phone(
    browser, portal_server, demo, settings
):
    """A driver's page (no login) at 390 px and 1280 px, English and German, passes axe."""
    # The platform's Stripe keys set, so the page offers its price (nothing is called).
    settings.STRIPE_SECRET_KEY = "sk_test_platform"
    if not AXE.is_file():
        pytest.fail(AXE_MISSING, pytrace=False)
    failures: list[str] = []
    target = scan2pay_page(demo)
    for language in ("en", "de"):
        with portal_tab(browser, portal_server, language) as page:
            problem = open_page(page, target.url, language)
            if problem:
                failures.append(f"{target.name} ({target.url}, {language}) {problem}")
                continue
            check(page, target.name, language, failures)
            if page.script_errors:
                failures.append(f"script errors ({language}): {page.script_errors}")
    assert not failures, "accessibility problems:\n\n" + "\n\n".join(failures)
