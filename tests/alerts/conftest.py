"""Fixtures of the alerting tests: members with preferences, alerts raised, a webhook server."""

import pytest
from django.core.cache import cache

from alerts import webhooks
from alerts.choices import RuleKind, Severity
from alerts.models import Alert, AlertRule, NotificationPreference, WebhookEndpoint
from alerts.rules import evaluate_time_rules, forget_marks
from alerts.services import Condition, raise_conditions
from organizations.choices import Role
from tests.alerts.webhookserver import WebhookServer
from tests.factories import MembershipFactory, UserFactory


@pytest.fixture
def make_member(db):
    """A member of an organization with a notification preference (None: no row, defaults)."""

    def make(organization, username, role=Role.OPERATOR, sites=(), email=None, **preference):
        user = UserFactory(username=username, **({} if email is None else {"email": email}))
        membership = MembershipFactory(user=user, organization=organization, role=role)
        if preference or sites:
            chosen = NotificationPreference.objects.create(membership=membership, **preference)
            chosen.sites.set(sites)
        return user

    return make


@pytest.fixture
def raise_alerts(django_capture_on_commit_callbacks):
    """Raise conditions and run what their commit starts (mails, webhooks) before returning."""

    def raise_(*conditions, now=None):
        with django_capture_on_commit_callbacks(execute=True):
            return raise_conditions(conditions, now=now)

    return raise_


@pytest.fixture
def fault():
    """A connector-faulted condition at a station (severity, rule and details as given)."""

    def condition(station, connector_number=1, severity=Severity.HIGH, rule=None, **details):
        connector = station.connectors.get(connector_id=connector_number)
        return Condition(
            kind=RuleKind.CONNECTOR_FAULTED,
            subject=f"connector:{connector.pk}",
            organization_id=station.organization_id,
            rule=rule,
            severity=severity,
            site_id=station.site_id,
            station_id=station.pk,
            connector_id=connector.pk,
            details=details or {"error_code": "GroundFailure"},
        )

    return condition


@pytest.fixture
def forget_webhook_organizations():
    """No cached set of organizations with endpoints left over from another test (or run)."""
    webhooks.endpoints_changed()


@pytest.fixture
def webhook_server(settings):
    """A real HTTP server on 127.0.0.1 answering 200 unless told otherwise (loopback allowed)."""
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    server = WebhookServer().start()
    yield server
    server.stop()


@pytest.fixture
def make_endpoint(db, webhook_server):
    """An enabled endpoint of an organization pointing at the test server."""

    def make(organization, **fields):
        return WebhookEndpoint.objects.create(
            organization=organization, url=fields.pop("url", webhook_server.url), **fields
        )

    return make


# --- the rules engine ---------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def fresh_alert_cache():
    """No guard mark, failure count or capacity mark of an earlier test (ids get reused)."""
    cache.clear()
    forget_marks()
    yield
    cache.clear()
    forget_marks()


@pytest.fixture
def make_rule(db):
    """An enabled rule of an organization (scope, severity and parameters as given)."""

    def make(organization, kind, **fields):
        fields.setdefault("name", str(kind))
        return AlertRule.objects.create(organization=organization, kind=kind, **fields)

    return make


@pytest.fixture
def committed(django_capture_on_commit_callbacks, eager_celery):
    """A block whose on-commit work (subscribers, the tasks they enqueue) runs at its end."""

    def block():
        return django_capture_on_commit_callbacks(execute=True)

    return block


@pytest.fixture
def sweep(committed):
    """Run the periodic rule check (as the beat task does) and what its commits start."""

    def run(now=None):
        with committed():
            return evaluate_time_rules(now)

    return run


@pytest.fixture
def live_alerts():
    """The live alerts of a kind (of one organization, or all), oldest first."""

    def live(kind, organization=None):
        alerts = Alert.objects.live().filter(kind=kind)
        if organization is not None:
            alerts = alerts.for_org(organization)
        return list(alerts.order_by("opened_at", "pk"))

    return live
