"""Every site tab, and the pages that shared a title, has a title of its own."""

import re
from html import unescape

import pytest
from django.urls import reverse

from alerts.choices import RuleKind
from organizations.choices import Role
from tests.alerts.helpers import make_alert
from tests.billing.test_portal_billing import make_invoice
from tests.factories import AccessGroupFactory, ChargingStationFactory, SiteFactory
from tests.portalclients import portal_client

pytestmark = pytest.mark.django_db

TITLE = re.compile(r"<title>(.*?)</title>", re.S)

# (URL name, the site's URL keyword, the tab's title in English and in German)
TABS = [
    ("stations:site-detail", "pk", "Overview", "Übersicht"),
    ("stations:site-sheet", "pk", "Sheet", None),
    ("stations:site-config", "pk", "Configuration", "Konfiguration"),
    ("sessions:site-sessions", "site", "Sessions", "Ladevorgänge"),
    ("stations:site-controllers", "pk", "EVSE controller", None),
    ("sessions:site-analytics", "site", "Analytics", None),
    ("roaming:site-activity", "site", "Roaming activity", None),
    ("alerts:site-alerts", "site", "Alerts", None),
]


def title_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return " ".join(unescape(TITLE.search(response.content.decode()).group(1)).split())


@pytest.fixture
def site(org):
    site = SiteFactory(organization=org, name="Hafen Nord")
    ChargingStationFactory(organization=org, site=site)
    return site


def tab_url(org, site, name, keyword):
    return reverse(name, kwargs={"org": org.slug, keyword: site.pk})


@pytest.mark.parametrize(("name", "keyword", "tab", "_german"), TABS)
def test_each_site_tab_title_names_the_tab_then_the_site(org, site, name, keyword, tab, _german):
    response = portal_client(org, Role.ADMIN).get(tab_url(org, site, name, keyword))
    assert title_of(response) == f"{tab} · Hafen Nord · Charging portal"


def test_the_site_tabs_titles_are_all_different(org, site):
    client = portal_client(org, Role.ADMIN)
    titles = [title_of(client.get(tab_url(org, site, n, k))) for n, k, _, _ in TABS]
    assert len(set(titles)) == len(TABS)


@pytest.mark.parametrize(("name", "keyword", "_tab", "german"), [t for t in TABS if t[3]])
def test_site_tab_titles_are_translated(org, site, name, keyword, _tab, german):
    response = portal_client(org).get(
        tab_url(org, site, name, keyword), headers={"accept-language": "de"}
    )
    assert title_of(response).startswith(f"{german} · Hafen Nord · ")


def test_a_site_of_another_organization_is_404_on_every_tab(org, other_org, site):
    client = portal_client(other_org, Role.OWNER)
    for name, keyword, _, _ in TABS:
        assert client.get(tab_url(org, site, name, keyword)).status_code == 404


def test_an_access_group_page_title_says_what_it_is(org):
    group = AccessGroupFactory(organization=org, name="Fleet")
    response = portal_client(org, Role.ADMIN).get(
        reverse("cards:group-edit", kwargs={"org": org.slug, "pk": group.pk})
    )
    assert title_of(response) == "Access group Fleet · Charging portal"


def test_an_invoice_page_title_says_invoice(org):
    invoice = make_invoice(org)
    response = portal_client(org).get(
        reverse("billing:invoice-detail", kwargs={"org": org.slug, "pk": invoice.pk})
    )
    assert title_of(response) == "Invoice INV-000001 · Charging portal"


def test_an_alert_page_title_names_the_station(org, site):
    station = ChargingStationFactory(organization=org, site=site, ocpp_id="CS-TITLE-1")
    alert = make_alert(station, kind=RuleKind.STATION_OFFLINE)
    response = portal_client(org).get(
        reverse("alerts:alert-detail", kwargs={"org": org.slug, "pk": alert.pk})
    )
    assert title_of(response).startswith(f"{alert.get_kind_display()} · CS-TITLE-1 · ")
