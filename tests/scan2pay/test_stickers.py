"""The sticker sheet of a site: one QR code per connector, of the exact public address."""

import re

import pytest
import segno

from organizations.choices import Role
from stations.models import Connector
from tests.factories import ChargingStationFactory, MembershipFactory, SiteFactory, UserFactory

pytestmark = pytest.mark.django_db

BASE = "https://charge.example.com"


@pytest.fixture(autouse=True)
def portal_base_url(settings):
    settings.PORTAL_BASE_URL = BASE


def member(client, org, role):
    user = UserFactory()
    MembershipFactory(user=user, organization=org, role=role)
    client.force_login(user)
    return client


def sheet_url(org, site):
    return f"/o/{org.slug}/sites/{site.pk}/stickers/"


def qr_svgs(html: str) -> list[str]:
    return re.findall(r'<svg viewBox="[^"]*" class="qr">.*?</svg>', html, flags=re.S)


def modules_of(svg: str) -> set[tuple[int, int]]:
    """The dark modules of segno's inline SVG: one path of horizontal runs (M, m, h)."""
    path = re.search(r' d="([^"]+)"', svg).group(1)
    dark, x, y = set(), 0.0, 0.0
    for command, dx, dy in re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", path):
        if command == "M":
            x, y = float(dx), float(dy)
        elif command == "m":
            x, y = x + float(dx), y + float(dy)
        else:
            length = int(float(dx))
            dark.update((int(x) + i, int(y)) for i in range(length))
            x += length
    return dark


def encodes(svg: str, url: str) -> bool:
    """Whether the page's QR code has exactly the modules of a QR code of `url`."""
    expected = segno.make(url, error="m", micro=False)
    border = 4
    dark = {
        (col + border, row + border)
        for row, line in enumerate(expected.matrix)
        for col, value in enumerate(line)
        if value
    }
    return modules_of(svg) == dark


def test_the_sheet_has_one_qr_code_per_connector_of_the_site(client, org, pay_station):
    ChargingStationFactory(
        organization=org, site=pay_station.site, ocpp_id="CS-PAY-2", connectors=1
    )
    ChargingStationFactory(organization=org, ocpp_id="CS-ELSEWHERE")

    html = member(client, org, Role.OPERATOR).get(sheet_url(org, pay_station.site)).content.decode()

    connectors = Connector.objects.filter(station__site=pay_station.site)
    assert connectors.count() == 3
    assert len(qr_svgs(html)) == 3
    for connector in connectors:
        assert f'data-pay-code="{connector.pay_code}"' in html
        assert f'<p class="pay-code">{connector.pay_code}</p>' in html
        assert f"charge.example.com/pay/{connector.pay_code}/" in html
    assert "CS-ELSEWHERE" not in html


def test_each_qr_code_encodes_the_absolute_address_of_its_connectors_page(client, org, pay_station):
    html = member(client, org, Role.OPERATOR).get(sheet_url(org, pay_station.site)).content.decode()

    stickers = re.findall(r'data-pay-code="(\w+)">\s*(<svg.*?</svg>)', html, flags=re.S)
    assert len(stickers) == 2
    for code, svg in stickers:
        assert encodes(svg, f"{BASE}/pay/{code}/")
        # A code one character off is another QR code: the check can tell them apart.
        other = code[:-1] + ("y" if code.endswith("x") else "x")
        assert not encodes(svg, f"{BASE}/pay/{other}/")


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.ADMIN, Role.OWNER])
def test_operators_and_up_see_the_sheet(client, org, pay_station, role):
    response = member(client, org, role).get(sheet_url(org, pay_station.site))
    assert response.status_code == 200


def test_a_viewer_is_refused_the_sheet(client, org, pay_station):
    response = member(client, org, Role.VIEWER).get(sheet_url(org, pay_station.site))
    assert response.status_code == 403


def test_another_organization_gets_404(client, org, other_org, pay_station):
    response = member(client, other_org, Role.OWNER).get(sheet_url(other_org, pay_station.site))
    assert response.status_code == 404


def test_an_outsider_cannot_reach_the_sheet_under_the_sites_own_organization(
    client, org, other_org, pay_station
):
    response = member(client, other_org, Role.OWNER).get(sheet_url(org, pay_station.site))
    assert response.status_code == 404


def test_the_sheet_needs_a_login(client, org, pay_station):
    response = client.get(sheet_url(org, pay_station.site))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_site_with_scan2pay_off_prints_no_stickers(client, org):
    site = SiteFactory(organization=org, scan2pay_enabled=False)
    ChargingStationFactory(organization=org, site=site)

    html = member(client, org, Role.OPERATOR).get(sheet_url(org, site)).content.decode()

    assert qr_svgs(html) == []
    assert "Scan2Pay is off for this site" in html


def test_the_site_page_links_the_stickers_when_scan2pay_is_on(client, org, pay_station):
    site = pay_station.site
    html = member(client, org, Role.OPERATOR).get(f"/o/{org.slug}/sites/{site.pk}/").content
    assert sheet_url(org, site).encode() in html


def test_the_site_page_has_no_sticker_link_when_scan2pay_is_off(client, org):
    site = SiteFactory(organization=org, scan2pay_enabled=False)
    html = member(client, org, Role.OPERATOR).get(f"/o/{org.slug}/sites/{site.pk}/").content
    assert b"/stickers/" not in html


def test_a_viewer_gets_no_sticker_link(client, org, pay_station):
    site = pay_station.site
    html = member(client, org, Role.VIEWER).get(f"/o/{org.slug}/sites/{site.pk}/").content
    assert b"/stickers/" not in html


def test_the_sheet_prints_on_a4(client, org, pay_station):
    html = member(client, org, Role.OPERATOR).get(sheet_url(org, pay_station.site)).content
    assert b"@page { size: A4" in html
