"""Alert rule pages: every member reads them; admins add, change, switch and delete rules."""

import pytest

from alerts.choices import RuleKind, Severity
from alerts.models import AlertRule
from alerts.services import install_default_rules
from organizations.choices import Role
from tests.factories import ChargingStationFactory, SiteFactory
from tests.portalclients import ROLES, org_url, portal_client

pytestmark = pytest.mark.django_db

BELOW_ADMIN = [Role.VIEWER, Role.OPERATOR]


@pytest.fixture
def admin(org):
    return portal_client(org, Role.ADMIN)


@pytest.fixture
def rule(org):
    return AlertRule.objects.create(
        organization=org, name="Offline 15 min", kind=RuleKind.STATION_OFFLINE, delay_minutes=15
    )


def rule_data(**changes):
    data = {
        "name": "Faults at the depot",
        "severity": Severity.CRITICAL,
        "enabled": "on",
        "escalate_after_minutes": "",
        "escalate_to_role": Role.OWNER,
        "delay_minutes": "0",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize("role", ROLES)
def test_the_rule_list_renders_for_every_role(org, rule, role):
    response = portal_client(org, role).get(org_url(org, "alerts/rules/"))
    assert response.status_code == 200
    assert list(response.context["rules"]) == [rule]


def test_the_rule_list_shows_the_default_rules_with_scope_and_state(admin, org):
    install_default_rules([org.pk])
    body = admin.get(org_url(org, "alerts/rules/")).content.decode()
    assert "Connector faulted" in body
    assert "Whole organization" in body
    assert "after 60 min to Owner" in body
    assert body.count('name="action" value="disable"') == 13


def test_the_rule_list_shows_none_of_another_organizations_rules(org, other_org, rule):
    theirs = AlertRule.objects.create(
        organization=other_org, name="Theirs", kind=RuleKind.SECURITY_EVENT
    )
    response = portal_client(org).get(org_url(org, "alerts/rules/"))
    assert list(response.context["rules"]) == [rule]
    assert theirs.name not in response.content.decode()


def test_the_add_form_shows_the_fields_of_the_chosen_condition(admin, org):
    response = admin.get(org_url(org, "alerts/rules/add/?kind=connector_faulted"))
    fields = list(response.context["form"].fields)
    assert response.status_code == 200
    assert "error_codes" in fields and "vendor_error_codes" in fields
    assert "delay_minutes" not in fields
    assert "failure_count" not in fields
    assert response.context["form"].initial["name"] == "Connector faulted"


def test_the_form_of_failed_authorizations_asks_for_count_and_window(admin, org):
    response = admin.get(org_url(org, "alerts/rules/add/?kind=authorization_failures"))
    fields = list(response.context["form"].fields)
    assert {"failure_count", "window_minutes"} <= set(fields)
    assert "error_codes" not in fields


def test_a_site_capacity_rule_cannot_name_a_station(admin, org):
    response = admin.get(org_url(org, "alerts/rules/add/?kind=site_over_capacity"))
    assert "station" not in response.context["form"].fields
    assert "site" in response.context["form"].fields


def test_an_unknown_condition_is_404(admin, org):
    assert admin.get(org_url(org, "alerts/rules/add/?kind=weather")).status_code == 404


def test_the_add_page_without_a_condition_goes_back_to_the_list(admin, org):
    response = admin.get(org_url(org, "alerts/rules/add/"))
    assert response.status_code == 302
    assert response["Location"] == org_url(org, "alerts/rules/")


def test_an_admin_adds_a_rule_for_one_station(admin, org):
    station = ChargingStationFactory(organization=org)
    response = admin.post(
        org_url(org, "alerts/rules/add/?kind=connector_faulted"),
        rule_data(station=station.pk, error_codes="GroundFailure, HighTemperature"),
    )
    assert response.status_code == 302
    rule = AlertRule.objects.for_org(org).get()
    assert (rule.kind, rule.severity, rule.station, rule.site) == (
        RuleKind.CONNECTOR_FAULTED,
        Severity.CRITICAL,
        station,
        None,
    )
    assert rule.codes() == {"GroundFailure", "HighTemperature"}


def test_a_rule_cannot_name_another_organizations_site(admin, org, other_org):
    foreign = SiteFactory(organization=other_org)
    response = admin.post(
        org_url(org, "alerts/rules/add/?kind=station_offline"), rule_data(site=foreign.pk)
    )
    assert response.status_code == 400
    assert "site" in response.context["form"].errors
    assert not AlertRule.objects.exists()


def test_a_rule_names_a_site_or_a_station_not_both(admin, org):
    site = SiteFactory(organization=org)
    station = ChargingStationFactory(organization=org, site=site)
    response = admin.post(
        org_url(org, "alerts/rules/add/?kind=station_offline"),
        rule_data(site=site.pk, station=station.pk),
    )
    assert response.status_code == 400
    assert response.context["form"].errors["station"] == ["Choose a site or a station, not both."]


def test_an_admin_changes_a_rules_threshold_but_not_its_condition(admin, org, rule):
    response = admin.post(
        org_url(org, f"alerts/rules/{rule.pk}/"),
        rule_data(name="Offline 30 min", delay_minutes="30", kind="security_event"),
    )
    rule.refresh_from_db()
    assert response.status_code == 302
    assert (rule.name, rule.delay_minutes, rule.kind) == (
        "Offline 30 min",
        30,
        RuleKind.STATION_OFFLINE,
    )


@pytest.mark.parametrize("role", BELOW_ADMIN)
def test_only_admins_change_rules(org, rule, role):
    client = portal_client(org, role)
    assert client.get(org_url(org, f"alerts/rules/{rule.pk}/")).status_code == 403
    assert client.post(org_url(org, f"alerts/rules/{rule.pk}/"), rule_data()).status_code == 403
    assert (
        client.post(org_url(org, "alerts/rules/add/?kind=station_offline"), rule_data())
    ).status_code == 403
    assert (
        client.post(org_url(org, f"alerts/rules/{rule.pk}/toggle/"), {"action": "disable"})
    ).status_code == 403
    assert client.post(org_url(org, f"alerts/rules/{rule.pk}/delete/")).status_code == 403
    rule.refresh_from_db()
    assert (rule.name, rule.enabled) == ("Offline 15 min", True)


def test_an_admin_switches_a_rule_off_and_on(admin, org, rule):
    admin.post(org_url(org, f"alerts/rules/{rule.pk}/toggle/"), {"action": "disable"})
    rule.refresh_from_db()
    assert rule.enabled is False
    admin.post(org_url(org, f"alerts/rules/{rule.pk}/toggle/"), {"action": "enable"})
    rule.refresh_from_db()
    assert rule.enabled is True


def test_switching_off_twice_leaves_the_rule_off(admin, org, rule):
    for _ in range(2):
        admin.post(org_url(org, f"alerts/rules/{rule.pk}/toggle/"), {"action": "disable"})
    rule.refresh_from_db()
    assert rule.enabled is False


def test_an_admin_deletes_a_rule_after_confirming(admin, org, rule):
    confirm = admin.get(org_url(org, f"alerts/rules/{rule.pk}/delete/"))
    response = admin.post(org_url(org, f"alerts/rules/{rule.pk}/delete/"))
    assert confirm.status_code == 200
    assert response.status_code == 302
    assert not AlertRule.objects.filter(pk=rule.pk).exists()


def test_an_outsider_cannot_touch_our_rules(org, other_org, rule):
    outsider = portal_client(other_org, Role.OWNER)
    assert outsider.get(org_url(org, f"alerts/rules/{rule.pk}/")).status_code == 404
    assert outsider.get(org_url(other_org, f"alerts/rules/{rule.pk}/")).status_code == 404
    assert (
        outsider.post(org_url(other_org, f"alerts/rules/{rule.pk}/toggle/"), {"action": "disable"})
    ).status_code == 404
    assert outsider.post(org_url(other_org, f"alerts/rules/{rule.pk}/delete/")).status_code == 404
    rule.refresh_from_db()
    assert rule.enabled is True
