"""The portal's main pages in the demo organization: what the layout and a11y runs visit."""

import contextlib
from dataclasses import dataclass

from baselines.models import ConfigurationBaseline
from billing.models import Invoice, Tariff
from cards.models import IdToken
from demo.seed import DEMO_PASSWORD, DEMO_USERNAME
from fleet.models import Campaign
from sessions_app.choices import SessionState
from sessions_app.models import ChargingSession
from stations.models import Connector
from tests.browser.conftest import DESKTOP

LOGIN = "/accounts/login/"


@dataclass(frozen=True)
class MainPage:
    """One page: a short name (also its screenshot's file name) and its address."""

    name: str
    url: str


def main_pages(demo) -> list[MainPage]:
    """Every main page of the demo organization, signed in (the login page is LOGIN)."""
    org = demo.org
    site = demo.headquarters.pk
    session = (
        ChargingSession.objects.for_org(org)
        .filter(state=SessionState.COMPLETED, id_token__isnull=False)
        .order_by("-start")
        .first()
    )
    card = IdToken.objects.for_org(org).order_by("uid").first()
    invoice = Invoice.objects.for_org(org).order_by("-pk").first()
    tariff = Tariff.objects.for_org(org).order_by("pk").first()
    running = ChargingSession.objects.for_org(org).filter(state=SessionState.ACTIVE).first()
    campaign = Campaign.objects.for_org(org).order_by("pk").first()
    baseline = ConfigurationBaseline.objects.for_org(org).order_by("pk").first()
    pages = [
        ("dashboard", ""),
        ("station-list", "stations/"),
        ("station", f"stations/{demo.station.pk}/"),
        ("site-list", "sites/"),
        ("site-overview", f"sites/{site}/"),
        ("site-sheet", f"sites/{site}/sheet/"),
        ("site-sessions", f"sites/{site}/sessions/"),
        ("site-analytics", f"sites/{site}/analytics/"),
        ("site-alerts", f"sites/{site}/alerts/"),
        ("session-list", "sessions/"),
        ("session", f"sessions/{session.pk}/"),
        ("analytics", "analytics/"),
        ("availability", "availability/"),
        ("cards", "cards/"),
        ("card-edit", f"cards/{card.pk}/"),
        ("access-groups", "groups/"),
        ("members", "members/"),
        ("roaming", "roaming/"),
        ("invoices", "billing/invoices/"),
        ("invoice", f"billing/invoices/{invoice.pk}/"),
        ("tariffs", "billing/tariffs/"),
        ("tariff-edit", f"billing/tariffs/{tariff.pk}/"),
        ("tariff-add", "billing/tariffs/add/"),
        ("session-running", f"sessions/{running.pk}/"),
        ("organization", "organization/"),
        ("api-keys", "api-keys/"),
        ("station-add", "stations/add/"),
        ("cdrs", "billing/cdrs/"),
        ("alerts", "alerts/"),
        ("alert-rules", "alerts/rules/"),
        ("campaigns", "campaigns/"),
        ("campaign", f"campaigns/{campaign.pk}/"),
        ("firmware", "firmware/"),
        ("baseline", f"baselines/{baseline.pk}/"),
        ("bulk-commands", "bulk-commands/"),
        ("maintenance-due", "availability/maintenance/due/"),
        ("payments", "billing/payments/"),
        ("payment-account", "billing/payment-account/"),
    ]
    return [MainPage(name, demo.url(path)) for name, path in pages] + [
        MainPage("preferences", "/settings/"),
    ]


def scan2pay_page(demo) -> MainPage:
    """The public Scan2Pay page (no login) of a connector at the demo's Scan2Pay site."""
    connector = (
        Connector.objects.for_org(demo.org)
        .filter(station__site__scan2pay_enabled=True)
        .order_by("station__ocpp_id", "connector_id")
        .first()
    )
    return MainPage("scan2pay", f"/pay/{connector.pay_code}/")


LANGUAGES = {"en": "en-US", "de": "de-DE"}


@contextlib.contextmanager
def portal_tab(browser, portal_server, language: str):
    """A fresh desktop-sized tab whose browser asks for `language`, signed in as the demo user."""
    context = browser.new_context(
        base_url=portal_server.url,
        viewport=DESKTOP,
        locale=LANGUAGES[language],
        timezone_id="Europe/Berlin",
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.script_errors = []
    page.on("pageerror", lambda error: page.script_errors.append(str(error)))
    try:
        yield page
    finally:
        context.close()


def sign_in(page) -> None:
    """Log in through the login form (by field name: the labels are translated)."""
    page.goto(LOGIN)
    page.locator("input[name=username]").fill(DEMO_USERNAME)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    if page.url.rstrip("/").endswith(LOGIN.rstrip("/")):
        raise AssertionError(f"login as {DEMO_USERNAME!r} failed: still on {page.url}")


def open_page(page, url: str, language: str) -> str | None:
    """Go to url; a problem with the visit itself (status, language) or None."""
    response = page.goto(url)
    if response is None or response.status != 200:
        return f"answered {response.status if response else 'nothing'}"
    lang = page.evaluate("document.documentElement.lang")
    if lang != language:
        return f'shows <html lang="{lang}">, expected {language!r}'
    return None


def resize(page, viewport: dict) -> None:
    """Change the window's size and let the page lay itself out (and its resize observers run)."""
    page.set_viewport_size(viewport)
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def check_every_page(page, pages, language: str, check, failures: list[str]) -> None:
    """Run check(page, name, language, failures) on the login page, then signed in on each page."""
    problem = open_page(page, LOGIN, language)
    if problem:
        failures.append(f"login ({language}) {problem}")
    else:
        check(page, "login", language, failures)
    sign_in(page)
    for target in pages:
        problem = open_page(page, target.url, language)
        if problem:
            failures.append(f"{target.name} ({target.url}, {language}) {problem}")
            continue
        check(page, target.name, language, failures)
