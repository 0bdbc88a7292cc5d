"""The alert inbox and an alert's page: filters, live first, acknowledging and resolving."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from alerts.choices import AlertAction, AlertState, RuleKind, Severity
from alerts.models import AlertHistory
from organizations.choices import Role
from tests.alerts.helpers import OPENED, make_alert
from tests.factories import ChargingStationFactory, SiteFactory
from tests.portalclients import ROLES, org_url, portal_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(org):
    return SiteFactory(organization=org, name="Depot Nord")


@pytest.fixture
def station(org, site):
    return ChargingStationFactory(organization=org, site=site, ocpp_id="CS-ALERT-1")


@pytest.fixture
def operator(org):
    return portal_client(org, Role.OPERATOR)


@pytest.fixture
def viewer(org):
    return portal_client(org, Role.VIEWER)


def rows(response):
    assert response.status_code == 200, response.content[:500]
    return list(response.context["alerts"])


# --- The inbox -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_the_inbox_renders_for_every_role(org, station, role):
    alert = make_alert(station)
    response = portal_client(org, role).get(org_url(org, "alerts/"))
    assert rows(response) == [alert]
    assert response.context["section"] == "alerts"


def test_the_inbox_shows_kind_severity_station_connector_site_and_occurrences(viewer, org, station):
    make_alert(station, occurrences=7)
    body = viewer.get(org_url(org, "alerts/")).content.decode()
    assert "Connector faulted" in body
    assert 'data-severity="high"' in body
    assert f'href="/o/{org.slug}/stations/{station.pk}/"' in body
    assert f'href="/o/{org.slug}/sites/{station.site_id}/"' in body
    assert "Depot Nord" in body
    assert '<td class="num">7</td>' in body
    assert 'data-alert-state="open"' in body


def test_live_alerts_come_first_then_the_newest(viewer, org, station):
    resolved_new = make_alert(station, state=AlertState.RESOLVED, opened_at=OPENED)
    open_old = make_alert(station, opened_at=OPENED - timedelta(days=2))
    acknowledged = make_alert(
        station, state=AlertState.ACKNOWLEDGED, opened_at=OPENED - timedelta(days=1)
    )
    assert rows(viewer.get(org_url(org, "alerts/"))) == [acknowledged, open_old, resolved_new]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("state=live", ["open", "acknowledged"]),
        ("state=resolved", ["resolved"]),
        ("state=acknowledged", ["acknowledged"]),
        ("severity=critical", ["acknowledged"]),
        ("kind=station_offline", ["resolved"]),
    ],
)
def test_the_inbox_filters_by_state_severity_and_condition(viewer, org, station, query, expected):
    make_alert(station, severity=Severity.LOW)
    make_alert(station, state=AlertState.ACKNOWLEDGED, severity=Severity.CRITICAL)
    make_alert(station, kind=RuleKind.STATION_OFFLINE, state=AlertState.RESOLVED)
    response = viewer.get(org_url(org, f"alerts/?{query}"))
    assert sorted(alert.state for alert in rows(response)) == sorted(expected)


def test_the_inbox_filters_by_site_and_station(viewer, org, station):
    elsewhere = ChargingStationFactory(
        organization=org, site=SiteFactory(organization=org), ocpp_id="CS-ELSEWHERE"
    )
    ours = make_alert(station)
    theirs = make_alert(elsewhere)
    assert rows(viewer.get(org_url(org, f"alerts/?site={station.site_id}"))) == [ours]
    assert rows(viewer.get(org_url(org, f"alerts/?station={elsewhere.pk}"))) == [theirs]


def test_the_inbox_filters_by_days_in_the_organizations_time_zone(viewer, org, station):
    org.timezone = "Europe/Berlin"
    org.save(update_fields=["timezone"])
    # 23:30 UTC on 1 March is already 2 March in Berlin.
    late = make_alert(station, opened_at=datetime(2026, 3, 1, 23, 30, tzinfo=UTC))
    make_alert(station, opened_at=datetime(2026, 3, 1, 22, 30, tzinfo=UTC))
    response = viewer.get(org_url(org, "alerts/?date_from=2026-03-02&date_to=2026-03-02"))
    assert rows(response) == [late]


def test_a_filter_naming_another_organizations_station_is_refused(viewer, org, other_org, station):
    make_alert(station)
    foreign = ChargingStationFactory(organization=other_org)
    response = viewer.get(org_url(org, f"alerts/?station={foreign.pk}"))
    assert response.status_code == 400
    assert list(response.context["alerts"]) == []


def test_the_inbox_shows_none_of_another_organizations_alerts(org, other_org, station):
    ours = make_alert(station)
    theirs = make_alert(ChargingStationFactory(organization=other_org, ocpp_id="CS-THEIRS"))
    response = portal_client(other_org, Role.OWNER).get(org_url(other_org, "alerts/"))
    assert rows(response) == [theirs]
    assert f"/alerts/{ours.pk}/" not in response.content.decode()


def test_the_inbox_of_another_organization_is_404(org, other_org):
    response = portal_client(other_org, Role.OWNER).get(org_url(org, "alerts/"))
    assert response.status_code == 404


def test_the_inbox_is_paginated(viewer, org, station):
    for _ in range(51):
        make_alert(station)
    first = viewer.get(org_url(org, "alerts/"))
    second = viewer.get(org_url(org, "alerts/?page=2"))
    assert len(rows(first)) == 50
    assert len(rows(second)) == 1


def test_the_live_refresh_fetches_the_table_alone(viewer, org, station):
    make_alert(station)
    response = viewer.get(org_url(org, "alerts/?state=live"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response.templates[0].name == "alerts/_alert_table.html"
    assert "<html" not in response.content.decode()


def test_the_inbox_refreshes_on_the_live_alert_event(viewer, org, station):
    body = viewer.get(org_url(org, "alerts/?state=live")).content.decode()
    assert 'hx-trigger="live-alert from:body"' in body
    assert f'hx-get="/o/{org.slug}/alerts/?state=live"' in body


def test_the_inbox_query_count_does_not_grow_with_alerts(
    viewer, org, station, django_assert_max_num_queries
):
    for number in range(20):
        other = ChargingStationFactory(
            organization=org, site=SiteFactory(organization=org), ocpp_id=f"CS-BUDGET-{number}"
        )
        make_alert(other)
    # Session, user, membership, count, page, memberships (with the navigation's count), the
    # site and station choices of the filter bar: a fixed number however many rows.
    with django_assert_max_num_queries(8):
        response = viewer.get(org_url(org, "alerts/"))
    assert len(rows(response)) == 20


# --- An alert's page -------------------------------------------------------------------------


def test_an_alerts_page_shows_its_details_escaped_and_its_history(viewer, org, station):
    alert = make_alert(station, details={"error_code": "<script>x()</script>", "info": "hot"})
    AlertHistory.objects.create(alert=alert, action=AlertAction.OPENED, at=OPENED)
    body = viewer.get(org_url(org, f"alerts/{alert.pk}/")).content.decode()
    assert "<dt>Error code</dt><dd>&lt;script&gt;x()&lt;/script&gt;</dd>" in body
    assert "<script>x()</script>" not in body
    assert "hot" in body
    assert "Opened" in body
    assert "System" in body


def test_another_organizations_alert_is_404(org, other_org):
    theirs = make_alert(ChargingStationFactory(organization=other_org))
    assert (
        portal_client(org, Role.OWNER).get(org_url(org, f"alerts/{theirs.pk}/")).status_code == 404
    )


def test_a_resolved_alert_shows_how_long_it_lasted(viewer, org, station):
    alert = make_alert(station, state=AlertState.RESOLVED)
    body = viewer.get(org_url(org, f"alerts/{alert.pk}/")).content.decode()
    assert "42\xa0minutes" in body
    assert "the condition cleared" in body


def test_an_operator_acknowledges_an_alert_with_a_note(operator, org, station):
    alert = make_alert(station)
    response = operator.post(
        org_url(org, f"alerts/{alert.pk}/acknowledge/"), {"note": "Technician on the way"}
    )
    alert.refresh_from_db()
    assert response.status_code == 302
    assert alert.state == AlertState.ACKNOWLEDGED
    assert alert.acknowledge_note == "Technician on the way"
    assert alert.acknowledged_by.memberships.get().role == Role.OPERATOR
    step = alert.history.get(action=AlertAction.ACKNOWLEDGED)
    assert step.note == "Technician on the way"


def test_an_operator_resolves_an_alert_by_hand(operator, org, station):
    alert = make_alert(station, state=AlertState.ACKNOWLEDGED)
    operator.post(org_url(org, f"alerts/{alert.pk}/resolve/"), {"note": "Replaced the RCD"})
    alert.refresh_from_db()
    assert alert.state == AlertState.RESOLVED
    assert alert.resolved_by is not None
    assert alert.history.get(action=AlertAction.RESOLVED).note == "Replaced the RCD"


def test_acknowledging_an_alert_no_longer_open_says_so_without_an_error(operator, org, station):
    alert = make_alert(station, state=AlertState.RESOLVED)
    response = operator.post(org_url(org, f"alerts/{alert.pk}/acknowledge/"), follow=True)
    alert.refresh_from_db()
    assert response.status_code == 200
    assert alert.state == AlertState.RESOLVED
    assert "The alert is resolved already." in response.content.decode()


def test_resolving_a_resolved_alert_says_so_without_an_error(operator, org, station):
    alert = make_alert(station, state=AlertState.RESOLVED)
    response = operator.post(org_url(org, f"alerts/{alert.pk}/resolve/"), follow=True)
    assert response.status_code == 200
    assert "The alert is resolved already." in response.content.decode()


def test_a_viewer_may_not_acknowledge(viewer, org, station):
    alert = make_alert(station)
    response = viewer.post(org_url(org, f"alerts/{alert.pk}/acknowledge/"))
    alert.refresh_from_db()
    assert response.status_code == 403
    assert alert.state == AlertState.OPEN


def test_a_viewer_sees_no_acknowledge_button(viewer, org, station):
    alert = make_alert(station)
    body = viewer.get(org_url(org, f"alerts/{alert.pk}/")).content.decode()
    assert "/acknowledge/" not in body


def test_an_outsider_cannot_acknowledge_our_alert(org, other_org, station):
    alert = make_alert(station)
    outsider = portal_client(other_org, Role.OWNER)
    assert outsider.post(org_url(org, f"alerts/{alert.pk}/acknowledge/")).status_code == 404
    assert outsider.post(org_url(other_org, f"alerts/{alert.pk}/resolve/")).status_code == 404
    alert.refresh_from_db()
    assert alert.state == AlertState.OPEN


def test_a_note_too_long_is_refused_and_changes_nothing(operator, org, station):
    alert = make_alert(station)
    response = operator.post(
        org_url(org, f"alerts/{alert.pk}/acknowledge/"), {"note": "x" * 2001}, follow=True
    )
    alert.refresh_from_db()
    assert alert.state == AlertState.OPEN
    assert "at most 2000 characters" in response.content.decode()


# --- Station and site pages ------------------------------------------------------------------


def test_the_station_page_shows_its_open_alerts_only(viewer, org, station):
    live = make_alert(station)
    resolved = make_alert(station, kind=RuleKind.STATION_OFFLINE, state=AlertState.RESOLVED)
    response = viewer.get(org_url(org, f"stations/{station.pk}/"))
    assert response.status_code == 200
    assert response.context["station_alerts"] == [live]
    body = response.content.decode()
    assert f'href="/o/{org.slug}/alerts/{live.pk}/"' in body
    assert f'href="/o/{org.slug}/alerts/{resolved.pk}/"' not in body


def test_the_station_pages_alerts_part_refreshes_alone(viewer, org, station):
    alert = make_alert(station)
    response = viewer.get(org_url(org, f"stations/{station.pk}/parts/alerts/"))
    assert response.status_code == 200
    assert f"/alerts/{alert.pk}/" in response.content.decode()
    assert "<html" not in response.content.decode()


def test_the_site_alerts_tab_lists_the_alerts_of_its_stations(viewer, org, station, site):
    ours = make_alert(station)
    make_alert(ChargingStationFactory(organization=org, site=SiteFactory(organization=org)))
    response = viewer.get(org_url(org, f"sites/{site.pk}/alerts/"))
    assert rows(response) == [ours]
    assert response.context["tab"] == "alerts"


def test_another_organizations_site_alerts_tab_is_404(org, other_org, site):
    response = portal_client(other_org, Role.OWNER).get(org_url(org, f"sites/{site.pk}/alerts/"))
    assert response.status_code == 404


# --- Navigation and dashboard ----------------------------------------------------------------


def test_the_navigation_counts_the_open_and_acknowledged_alerts(viewer, org, station):
    make_alert(station)
    make_alert(station, state=AlertState.ACKNOWLEDGED)
    make_alert(station, state=AlertState.RESOLVED)
    make_alert(ChargingStationFactory(organization=ChargingStationFactory().organization))
    body = viewer.get(org_url(org, "cards/")).content.decode()
    assert 'data-live-count="alerts" data-hide-zero>2</span>' in body


def test_the_navigation_hides_the_count_when_nothing_is_open(viewer, org):
    body = viewer.get(org_url(org)).content.decode()
    assert 'data-live-count="alerts" data-hide-zero hidden>0</span>' in body


def test_the_dashboard_shows_open_alerts_and_faults_that_update_live(viewer, org, station):
    make_alert(station)
    connector = station.connectors.get(connector_id=1)
    connector.status, connector.error_code = "Faulted", "GroundFailure"
    connector.save(update_fields=["status", "error_code"])
    response = viewer.get(org_url(org))
    body = response.content.decode()
    assert response.context["open_alerts"] == 1
    assert 'data-live-count="alerts" data-testid="open-alerts">1<' in body
    assert 'data-live-count="faults" data-testid="open-faults">1<' in body
    assert 'hx-trigger="live-fault from:body, live-alert from:body"' in body
    assert f'data-fault-connector="{connector.pk}"' in body


def test_the_open_faults_fragment_carries_its_count_out_of_band(viewer, org, station):
    connector = station.connectors.get(connector_id=2)
    connector.status = "Faulted"
    connector.save(update_fields=["status"])
    response = viewer.get(org_url(org, "alerts/open-faults/"))
    body = response.content.decode()
    assert 'data-live-count="faults" data-testid="open-faults" hx-swap-oob="true">1</div>' in body
    assert station.ocpp_id in body


def test_the_open_faults_fragment_shows_no_other_organizations_faults(org, other_org):
    theirs = ChargingStationFactory(organization=other_org, ocpp_id="CS-THEIR-FAULT")
    theirs.connectors.update(status="Faulted")
    body = portal_client(org).get(org_url(org, "alerts/open-faults/")).content.decode()
    assert "CS-THEIR-FAULT" not in body
    assert 'hx-swap-oob="true">0</div>' in body


def test_a_live_alert_is_shown_lasting_so_far(viewer, org, station):
    make_alert(station, opened_at=timezone.now() - timedelta(minutes=5))
    assert "5\xa0minutes so far" in viewer.get(org_url(org, "alerts/")).content.decode()
