"""Page weight: compressed HTML, hashed and compressed static files cached for a year."""

import gzip
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client, override_settings

from tests.factories import ChargingSessionFactory, ChargingStationFactory
from tests.portalclients import org_url, portal_client

pytestmark = pytest.mark.django_db

HASHED_CSS = re.compile(r"/static/portal/portal\.[0-9a-f]{12}\.css")
STATIC_TAG = re.compile(r"""\{%\s*static\s+['"]([^'"]+)['"]""")


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    """collectstatic of the portal's own files (the big API-docs bundles left out: speed)."""
    root = tmp_path_factory.mktemp("static")
    with override_settings(STATIC_ROOT=root):
        call_command(
            "collectstatic",
            "--noinput",
            "-v0",
            "-i",
            "admin",
            "-i",
            "rest_framework",
            "-i",
            "drf_spectacular_sidecar",
        )
    return root


@pytest.fixture
def collected_client(collected, settings, org):
    """A portal client of a server whose static files were collected (as `make serve` does)."""
    settings.STATIC_ROOT = collected
    return portal_client(org)


def test_html_page_is_gzip_encoded_when_the_browser_accepts_it(org):
    client = portal_client(org)
    plain = client.get(org_url(org))
    packed = client.get(org_url(org), headers={"accept-encoding": "gzip, deflate, br"})
    assert "Content-Encoding" not in plain
    assert packed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed["Vary"]
    html = gzip.decompress(packed.content).decode()
    assert "<html" in html
    assert len(packed.content) < len(plain.content) / 2


def test_streamed_csv_export_still_works_gzip_encoded(org):
    station = ChargingStationFactory(organization=org)
    ChargingSessionFactory(station=station, organization=org)
    response = portal_client(org).get(
        org_url(org, "sessions/export.csv"), headers={"accept-encoding": "gzip"}
    )
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    text = gzip.decompress(b"".join(response.streaming_content)).decode()
    lines = text.strip().splitlines()
    assert len(lines) == 2
    assert station.ocpp_id in lines[1]


def test_rendered_pages_use_hashed_static_names_after_collectstatic(collected_client, org):
    html = collected_client.get(org_url(org)).content.decode()
    assert HASHED_CSS.search(html)
    assert re.search(r"/static/portal/favicon\.[0-9a-f]{12}\.svg", html)


def test_pages_render_with_plain_names_when_nothing_was_collected(org, settings, tmp_path):
    settings.STATIC_ROOT = tmp_path
    html = portal_client(org).get(org_url(org)).content.decode()
    assert "/static/portal/portal.css" in html
    # ...and the plain name is served from the app's folder.
    assert Client().get("/static/portal/portal.css").status_code == 200


def test_hashed_static_file_is_cached_for_a_year_as_immutable(collected_client, org):
    url = HASHED_CSS.search(collected_client.get(org_url(org)).content.decode()).group(0)
    response = Client().get(url)
    assert response.status_code == 200
    cache_control = response["Cache-Control"]
    assert "immutable" in cache_control
    max_age = int(re.search(r"max-age=(\d+)", cache_control).group(1))
    assert max_age >= 365 * 24 * 3600


def test_plain_named_static_file_is_not_cached_for_long(collected_client):
    response = Client().get("/static/portal/portal.css")
    assert response.status_code == 200
    assert "immutable" not in response.get("Cache-Control", "")


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_hashed_static_file_is_served_compressed(collected_client, org, encoding):
    url = HASHED_CSS.search(collected_client.get(org_url(org)).content.decode()).group(0)
    plain = Client().get(url)
    packed = Client().get(url, headers={"accept-encoding": encoding})
    assert packed["Content-Encoding"] == encoding
    assert int(packed["Content-Length"]) < int(plain["Content-Length"]) / 2


def test_every_static_file_a_template_names_exists():
    templates = Path(django_settings.BASE_DIR, "templates")
    named = {
        name
        for template in templates.rglob("*.html")
        for name in STATIC_TAG.findall(template.read_text())
    }
    assert "portal/portal.css" in named
    missing = sorted(name for name in named if not finders.find(name))
    assert missing == []
