"""The portal's own 400/403/404/500 pages, in DEBUG too, one log line per 403, the favicon."""

import logging

import pytest
from django.test import Client, RequestFactory
from django.utils import translation

from organizations.choices import Role
from portal import errors
from tests.portalclients import org_url, portal_client

pytestmark = pytest.mark.django_db

GERMAN = {"accept-language": "de"}


@pytest.fixture(params=[False, True], ids=["production", "debug"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


def test_unknown_path_shows_the_portals_404_page_in_german(debug):
    response = Client().get("/no-such-page/", headers=GERMAN)
    assert response.status_code == 404
    body = response.content.decode()
    assert '<html lang="de">' in body
    assert "Seite nicht gefunden" in body
    # Django's DEBUG page lists every URL pattern; the portal's never does.
    assert "URLconf" not in body
    assert "api/v1/" not in body


def test_another_organizations_page_shows_the_portals_404_page(org, other_org, debug):
    response = portal_client(org, Role.OWNER).get(org_url(other_org), headers=GERMAN)
    assert response.status_code == 404
    assert "Seite nicht gefunden" in response.content.decode()
    assert "Technical" not in response.content.decode()


def test_debug_details_show_only_in_debug(org, other_org, debug):
    body = portal_client(org).get(org_url(other_org)).content.decode()
    assert ("No Membership matches" in body) is debug


def test_missing_slash_still_redirects_in_debug(org, settings):
    settings.DEBUG = True
    response = portal_client(org).get(f"/o/{org.slug}/stations")
    assert response.status_code == 301
    assert response["Location"] == f"/o/{org.slug}/stations/"


def test_viewer_refused_an_admin_page_gets_the_portals_403_page(org, debug):
    response = portal_client(org, Role.VIEWER).get(org_url(org, "stations/add/"), headers=GERMAN)
    assert response.status_code == 403
    body = response.content.decode()
    assert '<html lang="de">' in body
    assert "Zugriff verweigert" in body
    assert "403 Forbidden" not in body


def test_a_refusal_logs_one_line_with_who_where_and_why_and_no_traceback(org, caplog):
    client = portal_client(org, Role.VIEWER)
    username = client.get(org_url(org)).wsgi_request.user.username
    caplog.clear()
    with caplog.at_level(logging.INFO):
        response = client.get(org_url(org, "stations/add/"))
    assert response.status_code == 403
    warnings = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert len(warnings) == 1
    (record,) = warnings
    line = record.getMessage()
    assert username in line
    assert f"/o/{org.slug}/stations/add/" in line
    assert "role viewer, needs admin" in line
    assert record.exc_info is None


def test_expired_csrf_token_gets_the_portals_403_page(org):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "x"}, headers=GERMAN)
    assert response.status_code == 403
    assert "Zugriff verweigert" in response.content.decode()


@pytest.mark.urls("tests.portal.failing_urls")
def test_a_failing_view_shows_the_portals_500_page_in_german(settings):
    settings.DEBUG = False
    response = Client(raise_request_exception=False).get("/boom/", headers=GERMAN)
    assert response.status_code == 500
    body = response.content.decode()
    assert '<html lang="de">' in body
    assert "Serverfehler (500)" in body


def test_the_500_page_renders_without_context_processors_or_database(
    django_assert_num_queries, settings
):
    # A context processor that fails (as one reading a broken database would) is never run.
    settings.TEMPLATES = [
        {
            **settings.TEMPLATES[0],
            "OPTIONS": {
                **settings.TEMPLATES[0]["OPTIONS"],
                "context_processors": ["tests.portal.test_error_pages.broken_processor"],
            },
        }
    ]
    request = RequestFactory().get("/")
    with translation.override("de"), django_assert_num_queries(0):
        response = errors.server_error(request)
    assert response.status_code == 500
    assert "Serverfehler (500)" in response.content.decode()


def broken_processor(request):
    raise RuntimeError("the database is gone")


def test_the_400_page_renders(settings):
    response = errors.bad_request(RequestFactory().get("/"), ValueError("bad"))
    assert response.status_code == 400
    assert "(400)" in response.content.decode()


def test_favicon_ico_leads_to_an_image():
    response = Client().get("/favicon.ico", follow=True)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/")
    assert response.redirect_chain[0][1] == 302


def test_portal_pages_link_the_favicon(org):
    body = portal_client(org).get(org_url(org)).content.decode()
    assert 'rel="icon"' in body
    assert "portal/favicon" in body


def test_an_htmx_request_gets_the_message_alone_not_a_whole_page(org):
    response = portal_client(org, Role.VIEWER).get(
        org_url(org, "stations/add/"), headers={"hx-request": "true", **GERMAN}
    )
    assert response.status_code == 403
    body = response.content.decode()
    assert "<html" not in body
    assert 'role="alert"' in body and "Zugriff verweigert" in body
