"""The API's shared parts: schema and docs, pagination errors, CSV cells, the API root."""

import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command
from drf_spectacular.validation import validate_schema

from core.api.csv import cell
from organizations.choices import Role
from tests.apiclients import member

pytestmark = pytest.mark.django_db


def test_the_openapi_schema_validates(client):
    response = client.get("/api/schema/")

    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")


def test_the_schema_builds_without_warnings(tmp_path):
    # Warnings are unnamed enums, unresolvable fields or bodies the schema guessed at.
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", tmp_path / "s.yaml")


def test_the_schema_documents_error_answers_and_api_key_auth(client):
    schema = yaml.safe_load(client.get("/api/schema/").content)

    detail = schema["paths"]["/api/v1/stations/{id}/"]["get"]["responses"]
    assert {"200", "401", "403", "404"} <= set(detail)
    assert "apiKeyAuth" in schema["components"]["securitySchemes"]
    assert "tokenAuth" in schema["components"]["securitySchemes"]


def test_the_interactive_docs_load_their_assets_from_this_server(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources, "the page loads scripts and styles"
    assert all(not source.startswith(("http:", "https:", "//")) for source in sources)
    bundle = next(s for s in sources if s.endswith("swagger-ui-bundle.js"))
    assert finders.find(bundle.removeprefix("/static/")) is not None


def test_the_api_root_lists_every_resource(client_for, org):
    response = client_for(member((org, Role.VIEWER))).get("/api/v1/")

    assert response.status_code == 200
    for resource in ("organizations", "sites", "stations", "sessions", "id-tokens", "tariffs"):
        assert resource in response.data


@pytest.mark.parametrize("page_size", ["0", "-1", "abc", "1.5"])
def test_a_bad_page_size_is_a_400_naming_the_parameter(client_for, org, page_size):
    viewer = client_for(member((org, Role.VIEWER)))

    response = viewer.get("/api/v1/stations/", {"page_size": page_size})

    assert response.status_code == 400
    assert "page_size" in response.json()


def test_a_page_past_the_end_is_a_404(client_for, org):
    viewer = client_for(member((org, Role.VIEWER)))

    assert viewer.get("/api/v1/stations/", {"page": 2}).status_code == 404


def test_a_flat_list_does_not_create(client_for, org):
    owner = client_for(member((org, Role.OWNER)))

    response = owner.post("/api/v1/sites/", {"name": "Depot"}, format="json")

    assert response.status_code == 405


def test_a_csv_export_with_a_bad_filter_answers_json(client_for, org):
    viewer = client_for(member((org, Role.VIEWER)))

    response = viewer.get("/api/v1/sessions/", {"format": "csv", "start_after": "yesterday"})

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert "start_after" in response.json()


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (True, "true"),
        (Decimal("1.5000"), "1.5000"),
        (
            datetime(2026, 3, 1, 10, tzinfo=timezone(timedelta(hours=1))),
            "2026-03-01T09:00:00+00:00",
        ),
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+49 30 1234", "'+49 30 1234"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-12.5", "-12.5"),
        ("04A1B2C3", "04A1B2C3"),
    ],
)
def test_csv_cells_are_plain_text_with_formulas_defused(value, text):
    assert cell(value) == text


def test_csv_times_are_utc():
    assert cell(datetime(2026, 1, 1, tzinfo=UTC)).endswith("+00:00")


def test_a_time_filter_takes_any_offset_python_reads(client_for, org):
    viewer = client_for(member((org, Role.VIEWER)))

    # PostgreSQL refuses offsets beyond ±15:59; the filter converts to UTC first.
    response = viewer.get("/api/v1/command-logs/", {"created_after": "2026-01-01T00:00:00+18:42"})

    assert response.status_code == 200


def test_a_time_without_a_utc_form_is_a_400(client_for, org):
    viewer = client_for(member((org, Role.VIEWER)))

    response = viewer.get("/api/v1/command-logs/", {"created_after": "0001-01-01T00:00:00+05:00"})

    assert response.status_code == 400
    assert "created_after" in response.json()


def test_a_viewset_creating_through_drfs_mixin_is_refused_at_import():
    from django.core.exceptions import ImproperlyConfigured
    from rest_framework import mixins

    from organizations.api.viewsets import TenantViewSet

    # DRF's mixin would save new rows without the URL's organization.
    with pytest.raises(ImproperlyConfigured, match="TenantCreateModelMixin"):

        class Careless(mixins.CreateModelMixin, TenantViewSet):
            pass
