"""Portal: the availability report, its CSV, and the maintenance window pages."""

import csv
import io
from datetime import date

import pytest
import time_machine

from availability.models import MaintenanceWindow
from organizations.choices import Role
from tests.availability.helpers import connection, status, utc
from tests.factories import ChargingStationFactory, SiteFactory
from tests.portalclients import ROLES, org_url, portal_client

pytestmark = pytest.mark.django_db

MAY_4 = {"from": "2026-05-04", "to": "2026-05-04"}


@pytest.fixture
def faulty_station(org):
    """Connector 1 Available all day, connector 2 Faulted from 06:00 UTC on 4 May 2026."""
    site = SiteFactory(organization=org, name="Depot <Nord>")
    station = ChargingStationFactory(organization=org, site=site, ocpp_id="CS-<b>1</b>")
    connection(station, "online", utc(2026, 5, 1))
    status(station, 1, "Available", utc(2026, 5, 1))
    status(station, 2, "Available", utc(2026, 5, 1))
    status(station, 2, "Faulted", utc(2026, 5, 4, 6))
    return station


def page(client, org, params=None, path="availability/"):
    return client.get(org_url(org, path), params or {})


def table_rows(response) -> dict:
    return {
        (row["line"].level, row["line"].connector_number): row for row in response.context["table"]
    }


@pytest.mark.parametrize("role", ROLES)
def test_the_report_renders_for_every_role(org, faulty_station, role):
    response = page(portal_client(org, role), org, MAY_4)

    assert response.status_code == 200
    assert response.context["section"] == "availability"


def test_the_report_shows_each_connector_station_and_site_with_its_shares(org, faulty_station):
    response = page(portal_client(org), org, MAY_4)

    rows = table_rows(response)
    # Connector 2: Available 00:00 to 06:00 UTC of a day that starts at 22:00 UTC: 8 of 24 h.
    assert rows[("connector", 2)]["uptime"] == round(8 / 24, 6)
    assert rows[("connector", 1)]["uptime"] == 1.0
    assert rows[("station", None)]["uptime"] == round(32 / 48, 6)
    assert rows[("site", None)]["line"].connectors == 2
    assert response.context["total"]["faulted_share"] == round(16 / 48, 6)
    content = response.content.decode()
    assert "66.7 %" in content


def test_the_report_shows_names_escaped(org, faulty_station):
    content = page(portal_client(org), org, MAY_4).content.decode()

    assert "CS-&lt;b&gt;1&lt;/b&gt;" in content
    assert "Depot &lt;Nord&gt;" in content
    assert "<b>1</b>" not in content


def test_the_report_draws_its_charts_inline(org, faulty_station):
    response = page(portal_client(org), org, {"from": "2026-05-01", "to": "2026-05-07"})

    charts = response.context["charts"]
    assert [chart.title for chart in charts] == ["Uptime", "Share of time by state"]
    assert len(charts[0].rows) == 7
    assert "<svg" in response.content.decode()


def test_a_month_picker_reports_that_month(org, faulty_station):
    response = page(portal_client(org), org, {"month": "2026-02", "period": "day"})

    report = response.context["report"]
    assert (report.first, report.last) == (date(2026, 2, 1), date(2026, 2, 28))
    assert len(report.spans) == 28


def test_per_month_the_rows_are_local_months(org, faulty_station):
    response = page(
        portal_client(org), org, {"period": "month", "from": "2026-03", "to": "2026-05"}
    )

    assert [span.label for span in response.context["report"].spans] == [
        date(2026, 3, 1),
        date(2026, 4, 1),
        date(2026, 5, 1),
    ]


def test_the_site_and_station_filters_narrow_the_report(org, faulty_station):
    other = ChargingStationFactory(organization=org)

    response = page(portal_client(org), org, {**MAY_4, "station": other.pk})

    stations = {
        row["line"].station_id
        for row in response.context["table"]
        if row["line"].level == "station"
    }
    assert stations == {other.pk}


def test_a_station_of_another_organization_is_refused_as_a_filter(org, other_org):
    theirs = ChargingStationFactory(organization=other_org)

    response = page(portal_client(org), org, {**MAY_4, "station": theirs.pk})

    assert response.status_code == 400
    assert "station" in response.context["form"].errors


def test_a_range_that_ends_before_it_starts_is_refused(org):
    response = page(portal_client(org), org, {"from": "2026-05-04", "to": "2026-05-01"})

    assert response.status_code == 400
    assert "to" in response.context["form"].errors


def test_another_organizations_stations_never_appear(org, other_org, faulty_station):
    theirs = ChargingStationFactory(organization=other_org, ocpp_id="THEIRS-1")

    response = page(portal_client(org), org, MAY_4)

    stations = {row["line"].station_id for row in response.context["table"]}
    assert theirs.pk not in stations
    assert "THEIRS-1" not in response.content.decode()


def test_an_outsider_gets_404(org, other_org, faulty_station):
    outsider = portal_client(other_org, Role.OWNER)

    assert page(outsider, org, MAY_4).status_code == 404
    assert page(outsider, org, MAY_4, path="availability/export.csv").status_code == 404


def test_the_page_keeps_a_query_budget_whatever_the_number_of_stations(
    org, django_assert_max_num_queries
):
    client = portal_client(org)
    for _ in range(8):
        station = ChargingStationFactory(organization=org, site=SiteFactory(organization=org))
        status(station, 1, "Available", utc(2026, 5, 1))
        status(station, 2, "Faulted", utc(2026, 5, 3))

    with django_assert_max_num_queries(16):
        response = page(client, org, {"from": "2026-05-01", "to": "2026-05-31"})
    assert len(response.context["table"]) == 8 * 4


def test_the_csv_has_one_row_per_day_and_station(org, faulty_station):
    response = page(
        portal_client(org),
        org,
        {"from": "2026-05-03", "to": "2026-05-04", "group": "station"},
        path="availability/export.csv",
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(row["date"], row["ocpp_id"]) for row in rows] == [
        ("2026-05-03", "CS-<b>1</b>"),
        ("2026-05-04", "CS-<b>1</b>"),
    ]
    assert rows[1]["period_seconds"] == str(48 * 3600)
    assert rows[1]["faulted_seconds"] == str(16 * 3600)
    assert rows[1]["uptime"] == str(round(32 / 48, 6))


def test_the_csv_by_connector_names_each_connector(org, faulty_station):
    response = page(
        portal_client(org), org, {**MAY_4, "group": "connector"}, path="availability/export.csv"
    )

    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["connector_number"] for row in rows] == ["1", "2"]


def test_a_bad_csv_request_is_a_400_naming_the_field(org):
    response = page(portal_client(org), org, {"from": "yesterday"}, path="availability/export.csv")

    assert response.status_code == 400
    assert response.content.decode().startswith("from:")


def test_the_navigation_links_the_report(org):
    response = portal_client(org).get(org_url(org, ""))

    assert f'href="/o/{org.slug}/availability/"' in response.content.decode()


# --- maintenance windows ------------------------------------------------------------------------


def window_body(**fields):
    return {
        "starts_at": "2026-06-01T08:00",
        "ends_at": "2026-06-01T12:00",
        "site": "",
        "station": "",
        "reason": "Firmware update",
        **fields,
    }


def test_an_operator_adds_a_maintenance_window_in_local_time(org, station):
    client = portal_client(org, Role.OPERATOR)

    response = client.post(
        org_url(org, "availability/maintenance/add/"), window_body(station=station.pk)
    )

    assert response.status_code == 302
    window = MaintenanceWindow.objects.get()
    assert window.organization == org
    assert window.station == station
    # 08:00 in Berlin in June is 06:00 UTC.
    assert window.starts_at == utc(2026, 6, 1, 6)
    assert window.created_by is not None


def test_a_viewer_may_list_windows_but_not_add_one(org):
    client = portal_client(org, Role.VIEWER)

    assert client.get(org_url(org, "availability/maintenance/")).status_code == 200
    assert client.get(org_url(org, "availability/maintenance/add/")).status_code == 403
    response = client.post(org_url(org, "availability/maintenance/add/"), window_body())
    assert response.status_code == 403
    assert not MaintenanceWindow.objects.exists()


def test_a_window_that_ends_before_it_starts_is_refused(org):
    client = portal_client(org, Role.OPERATOR)

    response = client.post(
        org_url(org, "availability/maintenance/add/"), window_body(ends_at="2026-06-01T07:00")
    )

    assert response.status_code == 400
    assert "ends_at" in response.context["form"].errors
    assert not MaintenanceWindow.objects.exists()


def test_a_window_for_a_site_and_a_station_at_once_is_refused(org, station):
    client = portal_client(org, Role.OPERATOR)

    response = client.post(
        org_url(org, "availability/maintenance/add/"),
        window_body(site=station.site_id, station=station.pk),
    )

    assert response.status_code == 400
    assert "station" in response.context["form"].errors


def test_the_form_offers_and_accepts_only_the_organizations_stations(org, other_org, station):
    theirs = ChargingStationFactory(organization=other_org)
    client = portal_client(org, Role.OPERATOR)

    form = client.get(org_url(org, "availability/maintenance/add/")).context["form"]
    assert list(form.fields["station"].queryset) == [station]
    response = client.post(
        org_url(org, "availability/maintenance/add/"), window_body(station=theirs.pk)
    )
    assert response.status_code == 400
    assert "station" in response.context["form"].errors
    assert not MaintenanceWindow.objects.exists()


def make_window(org, **fields):
    return MaintenanceWindow.objects.create(
        organization=org,
        starts_at=utc(2026, 6, 1, 6),
        ends_at=utc(2026, 6, 1, 10),
        reason="<script>alert(1)</script>",
        **fields,
    )


def test_the_list_shows_the_windows_escaped_in_local_time(org):
    make_window(org)

    content = portal_client(org).get(org_url(org, "availability/maintenance/")).content.decode()

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content
    assert "<script>alert(1)" not in content
    assert "06/01/2026 8 a.m." in content  # 06:00 UTC in Berlin


def test_the_list_keeps_a_query_budget(org, django_assert_max_num_queries, station):
    for _ in range(10):
        make_window(org, station=station)
    client = portal_client(org)

    with django_assert_max_num_queries(10):
        response = client.get(org_url(org, "availability/maintenance/"))
    assert len(response.context["windows"]) == 10


def test_an_operator_changes_and_deletes_a_window(org):
    window = make_window(org)
    client = portal_client(org, Role.OPERATOR)

    response = client.post(
        org_url(org, f"availability/maintenance/{window.pk}/"), window_body(reason="Cabling")
    )
    assert response.status_code == 302
    window.refresh_from_db()
    assert window.reason == "Cabling"
    response = client.post(org_url(org, f"availability/maintenance/{window.pk}/delete/"))
    assert response.status_code == 302
    assert not MaintenanceWindow.objects.exists()


def test_an_outsider_can_neither_see_change_nor_delete_a_window(org, other_org):
    window = make_window(org)
    outsider = portal_client(other_org, Role.OWNER)

    for path in ("", "delete/"):
        url = org_url(other_org, f"availability/maintenance/{window.pk}/{path}")
        assert outsider.get(url).status_code == 404
        assert outsider.post(url, window_body(reason="Mine")).status_code == 404
    assert outsider.get(org_url(org, "availability/maintenance/")).status_code == 404
    window.refresh_from_db()
    assert window.reason == "<script>alert(1)</script>"


def test_a_viewer_cannot_delete_a_window(org):
    window = make_window(org)

    response = portal_client(org, Role.VIEWER).post(
        org_url(org, f"availability/maintenance/{window.pk}/delete/")
    )

    assert response.status_code == 403
    assert MaintenanceWindow.objects.filter(pk=window.pk).exists()


def test_the_station_page_shows_its_uptime_of_the_last_30_days(org):
    station = ChargingStationFactory(organization=org, connectors=1)
    status(station, 1, "Faulted", utc(2026, 1, 1))
    with time_machine.travel(utc(2026, 5, 31, 10), tick=False):
        # Faulted until 10:00 UTC on 21 May, then Available up to now (10:00 UTC on the 31st).
        status(station, 1, "Available", utc(2026, 5, 21, 10))
        response = portal_client(org).get(org_url(org, f"stations/{station.pk}/"))

    content = response.content.decode()
    # The 30 days start on 2 May 00:00 CEST (1 May 22:00 UTC): 708 hours up to now, of which
    # the last 240 were available.
    assert response.context["uptime_30_days"] == "33.9 %"
    assert f"station={station.pk}&amp;from=2026-05-02&amp;to=2026-05-31" in content


def test_the_page_says_when_the_range_is_counted_up_to_now(org, faulty_station):
    past = page(portal_client(org), org, MAY_4).content.decode()
    running = page(portal_client(org), org).content.decode()

    assert "up to now" not in past
    assert "up to now" in running
