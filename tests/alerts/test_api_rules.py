"""Alert rules over the API: every member reads them, admins create, change and delete them."""

import pytest

from alerts.choices import RuleKind, Severity
from alerts.models import AlertRule
from alerts.services import install_default_rules
from organizations.choices import Role
from tests.apiclients import client_as
from tests.factories import ChargingStationFactory, SiteFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/alert-rules/"


def nested(org):
    return f"/api/v1/organizations/{org.pk}/alert-rules/"


@pytest.fixture
def admin(org):
    return client_as(org, Role.ADMIN)


@pytest.fixture
def rule(org):
    return AlertRule.objects.create(
        organization=org, name="Offline", kind=RuleKind.STATION_OFFLINE, delay_minutes=15
    )


def test_an_admin_creates_a_rule_in_the_organization_of_the_url(admin, org):
    site = SiteFactory(organization=org)
    response = admin.post(
        nested(org),
        {
            "name": "Depot faults",
            "kind": "connector_faulted",
            "severity": "critical",
            "site": site.pk,
            "error_codes": "GroundFailure",
            "escalate_after_minutes": 30,
        },
        format="json",
    )
    assert response.status_code == 201, response.data
    rule = AlertRule.objects.get(pk=response.data["id"])
    assert (rule.organization, rule.site, rule.severity, rule.escalate_after_minutes) == (
        org,
        site,
        Severity.CRITICAL,
        30,
    )
    assert response.data["scope"] == site.name


def test_a_body_without_the_required_fields_names_them(admin, org):
    response = admin.post(nested(org), {"severity": "loud"}, format="json")
    assert response.status_code == 400
    assert set(response.data) == {"name", "kind", "severity"}


def test_a_site_of_another_organization_is_refused(admin, org, other_org):
    foreign = SiteFactory(organization=other_org)
    response = admin.post(
        nested(org), {"name": "x", "kind": "station_offline", "site": foreign.pk}, format="json"
    )
    assert response.status_code == 400
    assert response.data["site"] == [f'No site "{foreign.pk}" in this organization.']


def test_a_rule_names_a_site_or_a_station_not_both(admin, org):
    site = SiteFactory(organization=org)
    station = ChargingStationFactory(organization=org, site=site)
    response = admin.post(
        nested(org),
        {"name": "x", "kind": "station_offline", "site": site.pk, "station": station.pk},
        format="json",
    )
    assert response.status_code == 400
    assert response.data == {"station": ["Choose a site or a station, not both."]}


def test_a_change_is_checked_against_the_stored_scope(admin, org, rule):
    rule.station = ChargingStationFactory(organization=org)
    rule.save()
    response = admin.patch(
        f"{LIST}{rule.pk}/", {"site": SiteFactory(organization=org).pk}, format="json"
    )
    assert response.status_code == 400
    assert "station" in response.data


def test_an_admin_switches_a_rule_off(admin, rule):
    response = admin.patch(f"{LIST}{rule.pk}/", {"enabled": False}, format="json")
    rule.refresh_from_db()
    assert response.status_code == 200
    assert rule.enabled is False


def test_an_admin_deletes_a_rule(admin, rule):
    assert admin.delete(f"{LIST}{rule.pk}/").status_code == 204
    assert not AlertRule.objects.exists()


def test_an_operator_may_read_but_not_change_rules(org, rule):
    operator = client_as(org, Role.OPERATOR)
    assert operator.get(f"{LIST}{rule.pk}/").status_code == 200
    assert operator.patch(f"{LIST}{rule.pk}/", {"enabled": False}, format="json").status_code == 403
    rule.refresh_from_db()
    assert rule.enabled is True


def test_the_list_filters_by_condition_and_state(org, admin):
    install_default_rules([org.pk])
    AlertRule.objects.filter(kind=RuleKind.METER_SILENT).update(enabled=False)
    off = admin.get(LIST, {"enabled": "false"}).data["results"]
    faults = admin.get(LIST, {"kind": "connector_faulted"}).data["results"]
    assert [row["kind"] for row in off] == ["meter_silent"]
    assert [row["kind"] for row in faults] == ["connector_faulted"]


def test_an_outsider_neither_sees_nor_changes_our_rules(other_org, rule):
    outsider = client_as(other_org, Role.OWNER)
    assert outsider.get(LIST).data["results"] == []
    assert outsider.patch(f"{LIST}{rule.pk}/", {"enabled": False}, format="json").status_code == 404
    assert outsider.delete(f"{LIST}{rule.pk}/").status_code == 404
    assert outsider.post(nested(rule.organization), {}, format="json").status_code == 404
    rule.refresh_from_db()
    assert rule.enabled is True


def test_the_list_reads_a_page_in_a_fixed_number_of_queries(
    admin, org, django_assert_max_num_queries
):
    site = SiteFactory(organization=org)
    AlertRule.objects.create(organization=org, name="a", kind=RuleKind.STATION_OFFLINE, site=site)
    with django_assert_max_num_queries(4) as few:
        assert admin.get(LIST).data["count"] == 1
    for number in range(8):
        station = ChargingStationFactory(organization=org, site=site)
        AlertRule.objects.create(
            organization=org, name=f"r{number}", kind=RuleKind.SECURITY_EVENT, station=station
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert admin.get(LIST).data["count"] == 9
