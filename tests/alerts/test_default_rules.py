"""Default rules: every organization starts with the rules of alerts.services.DEFAULT_RULES."""

from importlib import import_module

import pytest
from django.apps import apps

from alerts.choices import RuleKind
from alerts.models import AlertRule
from alerts.services import DEFAULT_RULES, install_default_rules
from demo.seed import seed_demo
from organizations.models import Organization
from organizations.services import create_organization
from tests.factories import OrganizationFactory, UserFactory

migration = import_module("alerts.migrations.0002_default_rules")
drift_migration = import_module("alerts.migrations.0003_configuration_drift")

FIELDS = (
    "kind", "severity", "enabled", "site_id", "station_id", "delay_minutes", "max_session_hours",
    "start_timeout_seconds", "failure_count", "window_minutes", "error_codes",
    "vendor_error_codes", "escalate_after_minutes", "escalate_to_role",
)  # fmt: skip


def rules_of(organization) -> list[tuple]:
    return list(AlertRule.objects.for_org(organization).order_by("kind").values_list(*FIELDS))


def test_the_defaults_cover_every_rule_kind():
    assert sorted(kind for kind, _, _ in DEFAULT_RULES) == sorted(RuleKind.values)


def test_a_new_organization_gets_every_default_rule_switched_on(db, committed):
    with committed():
        organization = create_organization(UserFactory(), name="Newcomer Energy")
    rules = AlertRule.objects.for_org(organization)
    assert sorted(rules.values_list("kind", flat=True)) == sorted(RuleKind.values)
    assert all(rule.enabled and not rule.site_id and not rule.station_id for rule in rules)
    offline = rules.get(kind=RuleKind.STATION_OFFLINE)
    assert (offline.delay_minutes, offline.escalate_after_minutes) == (15, 60)


def test_an_organization_added_in_the_admin_gets_the_default_rules(superuser_client, committed):
    with committed():
        response = superuser_client.post(
            "/admin/organizations/organization/add/",
            {
                "name": "Admin Made GmbH", "slug": "admin-made", "currency": "EUR",
                "timezone": "Europe/Berlin", "billing_period": "monthly",
                "invoice_prefix": "INV-", "memberships-TOTAL_FORMS": "0",
                "memberships-INITIAL_FORMS": "0", "memberships-MIN_NUM_FORMS": "0",
                "memberships-MAX_NUM_FORMS": "1000",
            },
        )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    organization = Organization.objects.get(slug="admin-made")
    assert len(rules_of(organization)) == len(DEFAULT_RULES)


def test_editing_an_organization_in_the_admin_installs_nothing(superuser_client, committed, org):
    with committed():
        superuser_client.post(
            f"/admin/organizations/organization/{org.pk}/change/",
            {
                "name": "Renamed", "slug": org.slug, "currency": "EUR",
                "timezone": "Europe/Berlin", "billing_period": "monthly",
                "invoice_prefix": "INV-", "memberships-TOTAL_FORMS": "0",
                "memberships-INITIAL_FORMS": "0", "memberships-MIN_NUM_FORMS": "0",
                "memberships-MAX_NUM_FORMS": "1000",
            },
        )  # fmt: skip
    org.refresh_from_db()
    assert org.name == "Renamed"
    assert rules_of(org) == []


def test_an_organization_with_rules_of_its_own_keeps_them(org, make_rule):
    make_rule(org, RuleKind.CONNECTOR_FAULTED, enabled=False)
    assert install_default_rules([org.pk]) == 0
    assert [rule[0] for rule in rules_of(org)] == [RuleKind.CONNECTOR_FAULTED]


def test_installing_twice_creates_the_rules_once(org):
    assert install_default_rules([org.pk]) == len(DEFAULT_RULES)
    assert install_default_rules([org.pk]) == 0
    assert len(rules_of(org)) == len(DEFAULT_RULES)


def test_the_migration_gives_existing_organizations_what_a_new_one_gets(org, other_org, make_rule):
    customised = OrganizationFactory(name="Customised")
    make_rule(customised, RuleKind.STATION_OFFLINE, delay_minutes=90)
    migration.install_default_rules(apps, None)
    drift_migration.install_drift_rule(apps, None)
    reference = OrganizationFactory(name="Reference")
    install_default_rules([reference.pk])
    assert rules_of(org) == rules_of(other_org) == rules_of(reference)
    assert len(rules_of(org)) == len(DEFAULT_RULES)
    # A rule of the kind added later (configuration drift) comes with it: never offered before.
    assert [(r[0], r[5]) for r in rules_of(customised)] == [
        (RuleKind.CONFIGURATION_DRIFT, 0),
        (RuleKind.STATION_OFFLINE, 90),
    ]


def test_the_drift_migration_leaves_organizations_without_rules_alone(org, make_rule):
    bare = OrganizationFactory(name="Bare")
    make_rule(org, RuleKind.STATION_OFFLINE)
    drift_migration.install_drift_rule(apps, None)
    assert [rule[0] for rule in rules_of(org)] == [
        RuleKind.CONFIGURATION_DRIFT,
        RuleKind.STATION_OFFLINE,
    ]
    assert rules_of(bare) == []


@pytest.mark.django_db
def test_the_demo_organization_has_the_default_rules():
    seed_demo()
    seed_demo()
    demo = Organization.objects.get(slug="demo")
    assert len(rules_of(demo)) == len(DEFAULT_RULES)
