"""Portal: the sessions list, its live table and CSV, a session, and a site's sessions tab."""

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from rest_framework.test import APIClient

from billing.models import ChargeDetailRecord
from organizations.choices import Role
from sessions_app.choices import AuthMethod
from tests.apiclients import member
from tests.factories import (
    AccessGroupFactory,
    ChargingSessionFactory,
    ChargingStationFactory,
    IdTokenFactory,
    MeterValueFactory,
    SiteFactory,
)
from tests.portalclients import ROLES, org_url, portal_client
from tests.sessions_app.test_session_csv_export import HEADER as API_HEADER

pytestmark = pytest.mark.django_db

MAR_2 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def completed(station, start=MAR_2, minutes=60, **fields):
    """A finished session on `station` that started at `start`."""
    fields.setdefault("energy_wh", 12000)
    return ChargingSessionFactory(
        station=station,
        start=start,
        stop=start + timedelta(minutes=minutes),
        state="completed",
        stop_reason="Local",
        **fields,
    )


def listed(response) -> list[int]:
    """The primary keys of the sessions on the page, in order."""
    assert response.status_code == 200, response.content[:500]
    return [session.pk for session in response.context["sessions"]]


def exported(response) -> list[list[str]]:
    """A streamed CSV as rows, header first."""
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "text/csv"
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def viewer(org):
    return portal_client(org, Role.VIEWER)


# --- the list ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_sessions_list_renders_for_every_role(org, station, role):
    session = completed(station)
    response = portal_client(org, role).get(org_url(org, "sessions/"))
    assert listed(response) == [session.pk]
    assert response.context["section"] == "sessions"


def test_sessions_list_shows_only_the_organizations_sessions(org, other_org, station, viewer):
    mine = completed(station)
    completed(ChargingStationFactory(organization=other_org))
    assert listed(viewer.get(org_url(org, "sessions/"))) == [mine.pk]


def test_an_outsider_gets_404_for_the_list_and_the_export(org, other_org, station):
    completed(station)
    outsider = portal_client(other_org, Role.OWNER)
    assert outsider.get(org_url(org, "sessions/")).status_code == 404
    assert outsider.get(org_url(org, "sessions/export.csv")).status_code == 404
    assert outsider.get(org_url(org, "sessions/table/")).status_code == 404


def test_the_list_is_newest_first(org, station, viewer):
    older = completed(station, start=MAR_2)
    newer = completed(station, start=MAR_2 + timedelta(days=1))
    assert listed(viewer.get(org_url(org, "sessions/"))) == [newer.pk, older.pk]


def test_a_row_shows_station_card_energy_duration_and_cost(org, station, viewer):
    card = IdTokenFactory(organization=org, uid="04CAFE01", label="Erika")
    session = completed(station, id_token=card, id_tag="04CAFE01", energy_wh=12340, minutes=90)
    ChargeDetailRecord.objects.create(
        organization=org, session=session, currency="EUR", total_incl_tax=Decimal("5.5692")
    )
    body = viewer.get(org_url(org, "sessions/")).content.decode()
    assert "CS-DEMO-1" in body
    assert "Erika" in body and "04CAFE01" in body
    assert "12.34 kWh" in body
    assert "1:30 h" in body
    assert "5.57 EUR" in body


def test_the_list_pages_fifty_sessions_at_a_time(org, station, viewer):
    for day in range(51):
        completed(station, start=MAR_2 + timedelta(hours=day))
    first = viewer.get(org_url(org, "sessions/"))
    second = viewer.get(org_url(org, "sessions/"), {"page": 2})
    assert len(listed(first)) == 50
    assert len(listed(second)) == 1
    assert set(listed(first)).isdisjoint(listed(second))


def test_the_list_reads_a_page_in_a_fixed_number_of_queries(
    org, station, viewer, django_assert_max_num_queries
):
    group = AccessGroupFactory(organization=org)
    for n in range(30):
        card = IdTokenFactory(organization=org, access_groups=[group])
        session = completed(station, start=MAR_2 + timedelta(hours=n), id_token=card)
        ChargeDetailRecord.objects.create(
            organization=org, session=session, currency="EUR", total_incl_tax=Decimal("1")
        )
    # Session, user, membership, the count, the page, the site and station choices, and the
    # header's organization switcher: none per row.
    with django_assert_max_num_queries(8):
        response = viewer.get(org_url(org, "sessions/"))
    assert len(listed(response)) == 30


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"state": "active"}, "running"),
        ({"id_tag": "04cafe01"}, "by_card"),
        ({"date_from": "2026-03-03", "date_to": "2026-03-03"}, "on_march_3"),
        ({"auth_method": AuthMethod.ROAMING}, "roaming"),
    ],
)
def test_a_filter_narrows_the_list(org, station, viewer, params, expected):
    sessions = {
        "by_card": completed(station, id_tag="04CAFE01"),
        "on_march_3": completed(station, start=datetime(2026, 3, 3, 10, 0, tzinfo=UTC)),
        "roaming": completed(station, auth_method=AuthMethod.ROAMING, id_tag="PARTNER1"),
        "running": ChargingSessionFactory(station=station, start=MAR_2),
    }
    response = viewer.get(org_url(org, "sessions/"), params)
    assert listed(response) == [sessions[expected].pk]


def test_the_site_and_station_filters_narrow_the_list(org, station, viewer):
    elsewhere = ChargingStationFactory(organization=org)
    here = completed(station)
    there = completed(elsewhere)
    assert listed(viewer.get(org_url(org, "sessions/"), {"site": station.site_id})) == [here.pk]
    assert listed(viewer.get(org_url(org, "sessions/"), {"station": elsewhere.pk})) == [there.pk]


def test_filter_choices_offer_only_the_organizations_sites_and_stations(
    org, other_org, station, viewer
):
    theirs = ChargingStationFactory(organization=other_org)
    form = viewer.get(org_url(org, "sessions/")).context["filterset"].form
    assert list(form.fields["site"].queryset) == [station.site]
    assert list(form.fields["station"].queryset) == [station]
    assert theirs.site not in form.fields["site"].queryset


def test_a_site_of_another_organization_in_the_filters_is_refused(org, other_org, station, viewer):
    completed(station)
    theirs = SiteFactory(organization=other_org)
    response = viewer.get(org_url(org, "sessions/"), {"site": theirs.pk})
    assert response.status_code == 400
    assert response.context["sessions"] == []
    export = viewer.get(org_url(org, "sessions/export.csv"), {"site": theirs.pk})
    assert export.status_code == 400


def test_the_table_refreshes_live_through_a_fragment_with_the_same_filters(org, station, viewer):
    kept = completed(station, id_tag="04CAFE01")
    completed(station)
    page = viewer.get(org_url(org, "sessions/"), {"id_tag": "04CAFE01"}).content.decode()
    assert 'hx-trigger="live-session from:body"' in page
    assert f'hx-get="{org_url(org, "sessions/table/")}?id_tag=04CAFE01"' in page
    fragment = viewer.get(org_url(org, "sessions/table/"), {"id_tag": "04CAFE01"})
    assert listed(fragment) == [kept.pk]
    assert b"<html" not in fragment.content


# --- CSV export -------------------------------------------------------------------------------


def test_the_export_link_carries_the_current_filters_but_not_the_page(org, station, viewer):
    body = viewer.get(org_url(org, "sessions/"), {"state": "completed", "page": "1"})
    expected = f'data-export-csv href="{org_url(org, "sessions/export.csv")}?state=completed"'
    assert expected in body.content.decode()


def test_the_export_has_the_api_header_and_one_row_per_session(org, station, viewer):
    card = IdTokenFactory(organization=org, uid="04AABB", label="Erika")
    session = completed(station, id_token=card, id_tag="04AABB", transaction_id="4711")
    rows = exported(viewer.get(org_url(org, "sessions/export.csv")))
    assert rows[0] == API_HEADER
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["id"] == str(session.pk)
    assert (row["transaction_id"], row["ocpp_id"]) == ("4711", "CS-DEMO-1")
    assert (row["id_tag"], row["id_token_label"]) == ("04AABB", "Erika")
    assert row["duration_seconds"] == "3600"


def test_the_export_is_the_same_file_the_api_exports(org, station):
    user = member((org, Role.VIEWER))
    card = IdTokenFactory(organization=org, label="Erika")
    session = completed(station, id_token=card, energy_wh=777)
    ChargeDetailRecord.objects.create(
        organization=org, session=session, currency="EUR", total_incl_tax=Decimal("2.5")
    )
    ChargingSessionFactory(station=station, start=MAR_2 + timedelta(days=1), state="failed")
    api = APIClient()
    api.force_authenticate(user)
    portal = Client()
    portal.force_login(user)
    params = {"state": "completed"}
    from_api = exported(api.get("/api/v1/sessions/", {"format": "csv", **params}))
    from_portal = exported(portal.get(org_url(org, "sessions/export.csv"), params))
    assert from_portal == from_api
    assert len(from_portal) == 2


def test_the_export_defuses_a_card_label_that_is_a_formula(org, station, viewer):
    card = IdTokenFactory(organization=org, label='=HYPERLINK("http://evil")')
    completed(station, id_token=card)
    rows = exported(viewer.get(org_url(org, "sessions/export.csv")))
    label = rows[1][rows[0].index("id_token_label")]
    assert label == '\'=HYPERLINK("http://evil")'


@pytest.mark.parametrize(
    "params",
    [
        {"state": "completed"},
        {"id_tag": "04CAFE01"},
        {"date_from": "2026-03-03"},
        {"station": "elsewhere"},
    ],
)
def test_filters_narrow_the_list_and_the_export_identically(org, station, viewer, params):
    elsewhere = ChargingStationFactory(organization=org)
    completed(station, id_tag="04CAFE01")
    completed(station, start=datetime(2026, 3, 3, 10, 0, tzinfo=UTC))
    completed(elsewhere)
    ChargingSessionFactory(station=station, start=MAR_2)
    if params.get("station") == "elsewhere":
        params = {"station": elsewhere.pk}
    shown = listed(viewer.get(org_url(org, "sessions/"), params))
    rows = exported(viewer.get(org_url(org, "sessions/export.csv"), params))
    assert [int(row[0]) for row in rows[1:]] == shown
    assert 0 < len(shown) < 4


def test_the_export_holds_only_the_organizations_sessions(org, other_org, station, viewer):
    mine = completed(station)
    completed(ChargingStationFactory(organization=other_org))
    rows = exported(viewer.get(org_url(org, "sessions/export.csv")))
    assert [row[0] for row in rows[1:]] == [str(mine.pk)]


# --- one session ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_a_session_renders_for_every_role(org, station, role):
    session = completed(station)
    response = portal_client(org, role).get(org_url(org, f"sessions/{session.pk}/"))
    assert response.status_code == 200
    assert response.context["session"] == session


def test_another_organizations_session_is_404(org, other_org, viewer):
    theirs = completed(ChargingStationFactory(organization=other_org))
    assert viewer.get(org_url(org, f"sessions/{theirs.pk}/")).status_code == 404
    assert viewer.get(org_url(other_org, f"sessions/{theirs.pk}/")).status_code == 404


def test_a_session_shows_the_card_with_its_access_groups_and_links_the_station(
    org, station, viewer
):
    group = AccessGroupFactory(organization=org, name="Fleet Nord")
    card = IdTokenFactory(organization=org, uid="04CAFE01", label="Erika", access_groups=[group])
    session = completed(station, id_token=card, id_tag="04CAFE01")
    body = viewer.get(org_url(org, f"sessions/{session.pk}/")).content.decode()
    assert "04CAFE01" in body and "Erika" in body and "Fleet Nord" in body
    assert f'href="{org_url(org, f"stations/{station.pk}/")}"' in body


def test_a_session_shows_who_stopped_billing_and_why(org, station, viewer):
    stopper = member((org, Role.OPERATOR))
    session = completed(
        station,
        billing_stopped=True,
        billing_stopped_by=stopper,
        billing_stopped_reason="Test drive of the fleet",
    )
    body = viewer.get(org_url(org, f"sessions/{session.pk}/")).content.decode()
    assert stopper.username in body
    assert "Test drive of the fleet" in body


def test_a_session_summarizes_its_meter_values_per_measurand(org, station, viewer):
    session = completed(station)
    for minute, value in ((5, 1000), (10, 2500), (15, 4000)):
        MeterValueFactory(session=session, timestamp=MAR_2 + timedelta(minutes=minute), value=value)
    MeterValueFactory(session=session, measurand="Power.Active.Import", unit="W", value=7400)
    summary = viewer.get(org_url(org, f"sessions/{session.pk}/")).context["meter_summary"]
    energy = next(row for row in summary if row["measurand"] == "Energy.Active.Import.Register")
    assert (energy["count"], energy["minimum"], energy["maximum"]) == (3, 1000, 4000)
    assert len(summary) == 2


# --- a site's sessions tab --------------------------------------------------------------------


@pytest.fixture
def site_setup(org, station):
    """A site whose access group admits `allowed`; `stranger` is in a group opened elsewhere."""
    site = station.site
    opened_here = AccessGroupFactory(organization=org, name="Opened here")
    opened_elsewhere = AccessGroupFactory(organization=org, name="Opened elsewhere")
    site.access_groups.set([opened_here])
    allowed = IdTokenFactory(organization=org, label="Allowed", access_groups=[opened_here])
    stranger = IdTokenFactory(organization=org, label="Stranger", access_groups=[opened_elsewhere])
    return {
        "site": site,
        "by_allowed_card": completed(station, id_token=allowed, start=MAR_2),
        "by_roaming": completed(
            station,
            auth_method=AuthMethod.ROAMING,
            id_tag="PARTNER1",
            start=MAR_2 + timedelta(hours=1),
        ),
        "by_stranger": completed(station, id_token=stranger, start=MAR_2 + timedelta(hours=2)),
        "without_card": completed(station, id_tag="UNKNOWN", start=MAR_2 + timedelta(hours=3)),
        "at_another_site": completed(
            ChargingStationFactory(organization=org), id_token=allowed, start=MAR_2
        ),
    }


def site_url(org, site, path=""):
    return org_url(org, f"sites/{site.pk}/sessions/{path}")


@pytest.mark.parametrize("role", ROLES)
def test_site_sessions_tab_renders_for_every_role(org, site_setup, role):
    response = portal_client(org, role).get(site_url(org, site_setup["site"]))
    assert response.status_code == 200
    assert (response.context["tab"], response.context["site"]) == ("sessions", site_setup["site"])


def test_another_organizations_site_tab_is_404(org, other_org, viewer):
    theirs = SiteFactory(organization=other_org)
    assert viewer.get(site_url(org, theirs)).status_code == 404
    assert viewer.get(site_url(org, theirs, "table/")).status_code == 404


def test_site_tab_lists_sessions_of_authorized_cards_and_roaming_only(org, site_setup, viewer):
    shown = listed(viewer.get(site_url(org, site_setup["site"])))
    assert shown == [site_setup["by_roaming"].pk, site_setup["by_allowed_card"].pk]


def test_a_group_opened_at_the_station_counts_on_the_site_tab(org, station, site_setup, viewer):
    # Authorization (sessions_app.authorization) admits a card of a group opened at the station too.
    station.access_groups.add(site_setup["by_stranger"].id_token.access_groups.get())
    shown = listed(viewer.get(site_url(org, site_setup["site"])))
    assert site_setup["by_stranger"].pk in shown


def test_the_site_tab_ignores_a_site_in_the_query_string(org, site_setup, viewer):
    other_site = site_setup["at_another_site"].station.site
    shown = listed(viewer.get(site_url(org, site_setup["site"]), {"site": other_site.pk}))
    assert site_setup["at_another_site"].pk not in shown


def test_site_tab_rows_link_to_the_session_with_accessible_text(org, site_setup, viewer):
    session = site_setup["by_allowed_card"]
    body = viewer.get(site_url(org, site_setup["site"])).content.decode()
    assert f'href="{org_url(org, f"sessions/{session.pk}/")}"' in body
    assert 'aria-hidden="true"' in body
    assert "Details of the session started" in body


def test_site_tab_export_holds_exactly_the_rows_of_the_tab(org, site_setup, viewer):
    page = viewer.get(site_url(org, site_setup["site"]), {"state": "completed"})
    link = page.context["filter_query"]
    assert f"site={site_setup['site'].pk}" in link
    assert "data-export-csv" in page.content.decode()
    rows = exported(viewer.get(f"{org_url(org, 'sessions/export.csv')}?{link}"))
    assert [int(row[0]) for row in rows[1:]] == listed(page)


def test_site_tab_reads_a_page_in_a_fixed_number_of_queries(
    org, site_setup, viewer, django_assert_max_num_queries
):
    for n in range(30):
        completed(
            site_setup["by_allowed_card"].station,
            id_token=site_setup["by_allowed_card"].id_token,
            start=MAR_2 + timedelta(days=1, hours=n),
        )
    # Session, user, membership, the site (twice: the tab, the forced filter), the count, the
    # page, the station choices, the header's organization switcher and whether any card can
    # charge at the site: none per row.
    with django_assert_max_num_queries(10):
        response = viewer.get(site_url(org, site_setup["site"]))
    assert len(listed(response)) == 32
