"""Portal: analytics of the organization and of a site (sessions, energy, durations per day)."""

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from organizations.choices import Role
from tests.apiclients import client_as
from tests.factories import (
    AccessGroupFactory,
    ChargingSessionFactory,
    ChargingStationFactory,
    IdTokenFactory,
    SiteFactory,
)
from tests.portalclients import ROLES, org_url, portal_client

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")


def today() -> date:
    """Today in the test organization's time zone (Europe/Berlin, the model's default)."""
    return timezone.now().astimezone(BERLIN).date()


def days_ago(days: int, hour: int = 12) -> datetime:
    """A local time `days` days before today."""
    return datetime.combine(today() - timedelta(days=days), time(hour), tzinfo=BERLIN)


def completed(station, start, minutes=60, energy_wh=10000, **fields):
    return ChargingSessionFactory(
        station=station,
        start=start,
        stop=start + timedelta(minutes=minutes),
        energy_wh=energy_wh,
        state="completed",
        **fields,
    )


def analytics(client, org, path="analytics/", **params):
    response = client.get(org_url(org, path), params)
    assert response.status_code == 200, response.content[:500]
    return response


def by_day(response) -> dict[date, dict]:
    return {row["date"]: row for row in response.context["rows"]}


@pytest.fixture
def viewer(org):
    return portal_client(org, Role.VIEWER)


@pytest.mark.parametrize("role", ROLES)
def test_analytics_renders_for_every_role(org, station, role):
    completed(station, days_ago(1))
    response = analytics(portal_client(org, role), org)
    assert response.context["section"] == "analytics"
    assert response.context["total_sessions"] == 1


@pytest.mark.parametrize("role", ROLES)
def test_site_analytics_renders_for_every_role(org, station, role):
    response = analytics(portal_client(org, role), org, f"sites/{station.site_id}/analytics/")
    assert response.context["tab"] == "analytics"


def test_another_organizations_site_analytics_is_404(org, other_org, viewer):
    theirs = SiteFactory(organization=other_org)
    assert viewer.get(org_url(org, f"sites/{theirs.pk}/analytics/")).status_code == 404
    assert viewer.get(org_url(other_org, "analytics/")).status_code == 404


def test_the_numbers_are_the_apis_for_the_same_days(org, station, viewer):
    completed(station, days_ago(2), minutes=30, energy_wh=5000)
    completed(station, days_ago(2, hour=18), minutes=90, energy_wh=15000)
    completed(station, days_ago(5), minutes=45, energy_wh=7000)
    # Neither counts: one still runs, the other failed.
    ChargingSessionFactory(station=station, start=days_ago(1))
    ChargingSessionFactory(station=station, start=days_ago(1), state="failed", energy_wh=99)
    portal = analytics(viewer, org)
    api = client_as(org).get(
        "/api/v1/analytics/",
        {
            "organization": org.pk,
            "date_from": (today() - timedelta(days=29)).isoformat(),
            "date_to": today().isoformat(),
        },
    )
    assert api.status_code == 200, api.data
    keys = ("sessions", "energy_wh", "duration_seconds", "average_duration_seconds")
    from_api = [(row["date"], *(row[key] for key in keys)) for row in api.data["results"]]
    from_portal = [
        (row["date"].isoformat(), *(row[key] for key in keys)) for row in portal.context["rows"]
    ]
    assert from_portal == from_api
    day = by_day(portal)[today() - timedelta(days=2)]
    assert (day["sessions"], day["energy_wh"], day["average_duration_seconds"]) == (2, 20000, 3600)
    assert (portal.context["total_sessions"], portal.context["total_energy_wh"]) == (3, 27000)


def test_the_totals_on_the_page_are_the_periods(org, station, viewer):
    completed(station, days_ago(3), minutes=30, energy_wh=5000)
    completed(station, days_ago(4), minutes=90, energy_wh=15000)
    body = analytics(viewer, org).content.decode()
    assert re.search(r'data-testid="total-sessions">\s*2\s*<', body)
    assert "20.00 kWh" in body
    assert re.search(r'data-testid="average-duration">\s*1:00 h\s*<', body)


def test_the_median_duration_of_a_day_is_its_middle_session(org, station, viewer):
    for minutes in (10, 20, 90):
        completed(station, days_ago(1), minutes=minutes)
    day = by_day(analytics(viewer, org))[today() - timedelta(days=1)]
    assert day["median_duration_seconds"] == 20 * 60
    assert day["average_duration_seconds"] == 40 * 60


def test_the_period_defaults_to_30_days_and_can_be_7_or_90(org, station, viewer):
    completed(station, days_ago(10))
    completed(station, days_ago(60))
    default = analytics(viewer, org)
    assert len(default.context["rows"]) == 30
    assert default.context["total_sessions"] == 1
    assert analytics(viewer, org, days=7).context["total_sessions"] == 0
    ninety = analytics(viewer, org, days=90)
    assert (len(ninety.context["rows"]), ninety.context["total_sessions"]) == (90, 2)


def test_the_period_selector_shows_the_default_as_chosen(org, viewer):
    body = analytics(viewer, org).content.decode()
    assert '<option value="30" selected>' in body


def test_an_unknown_period_is_refused_with_the_form_error(org, viewer):
    response = viewer.get(org_url(org, "analytics/"), {"days": "365"})
    assert response.status_code == 400
    assert response.context["form"].errors["days"]
    assert "charts" not in response.context


def test_analytics_count_only_the_organizations_sessions(org, other_org, station, viewer):
    completed(station, days_ago(1))
    completed(ChargingStationFactory(organization=other_org), days_ago(1))
    assert analytics(viewer, org).context["total_sessions"] == 1


def test_site_analytics_count_only_the_sites_sessions(org, station, viewer):
    # A card of a group authorized at the site (the site's tabs count only those, and roaming).
    group = AccessGroupFactory(organization=org)
    station.site.access_groups.add(group)
    card = IdTokenFactory(organization=org, access_groups=[group])
    completed(station, days_ago(1), energy_wh=4000, id_token=card)
    completed(ChargingStationFactory(organization=org), days_ago(1), energy_wh=6000, id_token=card)
    response = analytics(viewer, org, f"sites/{station.site_id}/analytics/")
    assert (response.context["total_sessions"], response.context["total_energy_wh"]) == (1, 4000)


def test_an_outsider_gets_404_for_the_analytics(org, other_org, station):
    outsider = portal_client(other_org, Role.OWNER)
    assert outsider.get(org_url(org, "analytics/")).status_code == 404
    assert outsider.get(org_url(org, f"sites/{station.site_id}/analytics/")).status_code == 404


def test_the_charts_are_inline_svg_that_load_nothing_from_elsewhere(org, station, viewer):
    completed(station, days_ago(1))
    body = analytics(viewer, org).content.decode()
    svgs = re.findall(r"<svg.*?</svg>", body, flags=re.DOTALL)
    charts = [svg for svg in svgs if 'class="chart-svg"' in svg]
    assert len(charts) == 3
    for svg in charts:
        assert "<script" not in svg
        assert not re.search(r"(href|src)=\"(https?:)?//", svg)
        assert "googleapis" not in svg
    assert body.count('<figure class="chart') == 3


def test_each_chart_has_a_caption_and_a_data_table(org, station, viewer):
    completed(station, days_ago(1), energy_wh=12340)
    body = analytics(viewer, org).content.decode()
    assert body.count("<figcaption>") == 3
    assert body.count("<summary>Data</summary>") == 3
    assert "Energy charged per day" in body
    # The data table names the day and its value, for readers that cannot see the chart.
    assert "12.34</td>" in body


def test_analytics_read_in_a_fixed_number_of_queries(
    org, station, viewer, django_assert_max_num_queries
):
    for day in range(30):
        completed(station, days_ago(day))
    # Session, user, membership, the day buckets, the durations, the header's switcher; the
    # usage table's sessions and stations, and the availability report's seven (its uptime):
    # 15 measured, on SQLite and PostgreSQL alike, whatever the number of sessions.
    with django_assert_max_num_queries(15):
        analytics(viewer, org, days=90)


def test_the_period_ends_today_in_the_organizations_time_zone(org, viewer):
    rows = analytics(viewer, org).context["rows"]
    assert (rows[0]["date"], rows[-1]["date"]) == (today() - timedelta(days=29), today())
