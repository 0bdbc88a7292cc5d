"""Property-based fuzzing of the whole API from its own OpenAPI schema (schemathesis).

Every operation gets generated path, query and body values (valid and invalid), sent in-process
to the WSGI app as an organization owner, with the path's ids pointing at real rows. No answer
may be a 5xx, use an undocumented status or content type, or break its documented schema.
"""

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from baselines.models import BaselineRun
from organizations.choices import Role
from tests.api.matrix import build_world
from tests.api.matrix.alerts import rows as alert_rows
from tests.api.matrix.availability import record_of, window_of
from tests.api.matrix.baselines import baseline_of
from tests.api.matrix.billing import payment_rows
from tests.api.matrix.bulk_commands import bulk_of
from tests.api.matrix.firmware import image_of
from tests.api.matrix.fleet import campaign_of, campaign_station_of
from tests.api.matrix.roaming import rows as roaming_rows

# Bounded so both CI passes stay fast; raise FUZZ_EXAMPLES locally for a deeper run.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
# Not negative_data_rejection: DRF reads JSON leniently by design (the number 0 is the text "0"
# in a text field, "" is null in a nullable decimal), which that check reports as accepting
# invalid data. Every response is still checked against its schema.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Operations that reach the command service: channels' database_sync_to_async closes a
# connection it finds inside the test's transaction, so they commit for real (marked in
# tests/api/conftest.py, since schemathesis makes the items).
TRANSACTIONAL = ("/commands/", "/ocpp-calls/", "/stop/", "/cancel/", "/bulk-commands/", "/apply/")

APP = get_wsgi_application()
BASE_URL = "http://testserver"
schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
if os.environ.get("FUZZ_COVERAGE", "") != "1":
    # The coverage phase walks every boundary value of every parameter (~1 s an operation);
    # CI runs the random phase only, FUZZ_COVERAGE=1 adds it for a deeper local run.
    schema.config.phases.coverage.enabled = False


def real_ids(world) -> dict[str, object]:
    """The first path segment of each resource → the id of the world's row of it."""
    return {
        "organizations": world.org.pk,
        "members": world.membership.pk,
        "invitations": world.invitation.pk,
        # Addressed to somebody else: the owner's answer is a documented 404.
        "my-invitations": world.invitation.pk,
        "api-keys": world.api_key.prefix,
        "access-groups": world.access_group.pk,
        "id-tokens": world.id_token.pk,
        "sites": world.site.pk,
        "stations": world.station.pk,
        "connectors": world.connector.pk,
        "charging-profiles": world.charging_profile.pk,
        "sessions": world.session.pk,
        "reservations": world.reservation.pk,
        "command-logs": world.command_log.pk,
        "tariffs": world.tariff.pk,
        "tariff-assignments": world.tariff_assignment.pk,
        "charge-detail-records": world.cdr.pk,
        "invoices": world.invoice.pk,
        "billing-periods": world.billing_period.pk,
        "payments": payment_rows(world).payment.pk,
        "payment-refunds": payment_rows(world).refund.pk,
        "roaming-partners": world.roaming_partner.pk,
        "roaming-activity": world.roaming_activity.pk,
        "roaming-profiles": roaming_rows(world).profile.pk,
        "partner-sessions": roaming_rows(world).session.pk,
        "partner-cdrs": roaming_rows(world).cdr.pk,
        "partner-locations": roaming_rows(world).location.pk,
        "partner-tariffs": roaming_rows(world).tariff.pk,
        "maintenance-windows": window_of(world).pk,
        "maintenance-records": record_of(world).pk,
        "alerts": alert_rows(world).alert.pk,
        "alert-rules": alert_rows(world).rule.pk,
        "webhook-endpoints": alert_rows(world).endpoint.pk,
        "webhook-deliveries": alert_rows(world).delivery.pk,
        "firmware-images": image_of(world).pk,
        "configuration-baselines": baseline_of(world).pk,
        "baseline-runs": BaselineRun.objects.get_or_create(
            baseline=baseline_of(world), station=world.station
        )[0].pk,
        "bulk-commands": bulk_of(world).pk,
        "campaigns": campaign_of(world).pk,
        "campaign-stations": campaign_station_of(world).pk,
    }


@pytest.fixture(autouse=True)
def connections_stay_open():
    """Keep the test's connection across requests, as Django's test client does."""
    # The WSGI handler closes "old" connections when a request starts and ends; on PostgreSQL
    # that is the connection holding the test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def owner_headers(org, other_org):
    world = build_world(org, other_org)
    token = Token.objects.create(user=world.users[Role.OWNER])
    # schemathesis' in-process WSGI transport asks for gzip as requests does but does not
    # decompress what it gets; compression itself is tested in tests/test_static_weight.py.
    return world, {"Authorization": f"Token {token.key}", "Accept-Encoding": "identity"}


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_as_documented(case, owner_headers):
    world, headers = owner_headers
    ids = real_ids(world)
    resource = case.path.removeprefix("/api/v1/").split("/")[0]
    if case.path_parameters:
        if "organization_pk" in case.path_parameters:
            case.path_parameters["organization_pk"] = world.org.pk
        for name in case.path_parameters:
            if name != "organization_pk" and resource in ids:
                case.path_parameters[name] = ids[resource]
    # The host Django's test environment allows, whatever DEBUG and ALLOWED_HOSTS say.
    case.call_and_validate(base_url=BASE_URL, app=APP, headers=headers, checks=CHECKS)
