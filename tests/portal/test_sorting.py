"""Every main list sorts by its column headers (`?ordering=`) like the API's list of its rows."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from billing.models import ChargeDetailRecord, Invoice
from organizations.choices import Role
from tests.alerts.helpers import make_alert
from tests.apiclients import client_as, member
from tests.factories import (
    AccessGroupFactory,
    ChargingSessionFactory,
    ChargingStationFactory,
    IdTokenFactory,
    SiteFactory,
    TariffFactory,
)
from tests.portalclients import org_url, portal_client

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def sessions(org):
    station = ChargingStationFactory(organization=org)
    return [
        ChargingSessionFactory(
            station=station,
            start=T0 + timedelta(hours=n),
            stop=T0 + timedelta(hours=n, minutes=minutes),
            state="completed",
            energy_wh=energy,
        )
        for n, (energy, minutes) in enumerate([(5000, 90), (20000, 10), (1000, 40)])
    ]


def stations(org):
    return [
        ChargingStationFactory(organization=org, ocpp_id=ocpp_id, vendor=vendor)
        for ocpp_id, vendor in [("CS-B", "Zeta"), ("CS-A", "Mid"), ("CS-C", "Alpha")]
    ]


def sites(org):
    return [
        SiteFactory(organization=org, name=name, city=city)
        for name, city in [("Hafen", "Kiel"), ("Altstadt", "Zwickau"), ("Bahnhof", "Aachen")]
    ]


def cards(org):
    return [
        IdTokenFactory(organization=org, uid=uid, label=label)
        for uid, label in [("04BB", "Zora"), ("04AA", "Mila"), ("04CC", "Anna")]
    ]


def groups(org):
    made = [
        AccessGroupFactory(organization=org, name=name) for name in ("Staff", "Fleet", "Guests")
    ]
    for count, group in zip((1, 3, 2), made, strict=True):
        for _ in range(count):
            IdTokenFactory(organization=org, access_groups=[group])
    return made


def invoices(org):
    made = []
    for sequence, total in enumerate(["20", "5", "12"], start=1):
        made.append(
            Invoice.objects.create(
                organization=org,
                sequence=sequence,
                number=f"INV-{sequence:04d}",
                currency="EUR",
                period_start=T0,
                period_end=T0 + timedelta(days=30),
                issued_at=T0 + timedelta(days=30 + sequence),
                total_incl_tax=Decimal(total),
            )
        )
    return made


def cdrs(org):
    made = []
    for n, (session, energy) in enumerate(zip(sessions(org), (300, 100, 200), strict=True)):
        made.append(
            ChargeDetailRecord.objects.create(
                organization=org,
                session=session,
                currency="EUR",
                energy_wh=energy,
                accounted_at=T0 + timedelta(days=n),
                total_incl_tax=Decimal(n),
            )
        )
    return made


def tariffs(org):
    return [TariffFactory(organization=org, name=name) for name in ("Standard", "Night", "Fleet")]


def alerts(org):
    station = ChargingStationFactory(organization=org)
    return [
        make_alert(station, opened_at=T0 + timedelta(hours=n), occurrences=occurrences)
        for n, occurrences in enumerate((5, 1, 9))
    ]


# page, rows in the page's context, factory, key, the attribute it sorts, the API list.
LISTS = {
    "sessions": ("sessions/", "sessions", sessions, "energy_wh", "energy_wh", "sessions/"),
    "session duration": ("sessions/", "sessions", sessions, "duration", "duration", "sessions/"),
    "stations": ("stations/", "stations", stations, "vendor", "vendor", "stations/"),
    "sites": ("sites/", "sites", sites, "city", "city", "sites/"),
    "cards": ("cards/", "cards", cards, "label", "label", "id-tokens/"),
    "groups": ("groups/", "groups", groups, "cards", "card_count", None),
    "invoices": (
        "billing/invoices/",
        "invoices",
        invoices,
        "total_incl_tax",
        "total_incl_tax",
        "invoices/",
    ),
    "cdrs": ("billing/cdrs/", "cdrs", cdrs, "energy_wh", "energy_wh", "charge-detail-records/"),
    "tariffs": ("billing/tariffs/", "tariffs", tariffs, "name", "name", "tariffs/"),
    "alerts": ("alerts/", "alerts", alerts, "occurrences", "occurrences", "alerts/"),
}


def shown(response, rows_key) -> list[int]:
    assert response.status_code == 200, response.content[:300]
    return [row.pk for row in response.context[rows_key]]


def expected(rows, attribute, descending=False) -> list[int]:
    return [
        row.pk for row in sorted(rows, key=lambda row: getattr(row, attribute), reverse=descending)
    ]


@pytest.fixture(params=list(LISTS))
def a_list(request, org):
    page, rows_key, make, key, attribute, api = LISTS[request.param]
    rows = make(org)
    for row in rows:
        row.refresh_from_db()
    if attribute == "card_count":
        for row, count in zip(rows, (1, 3, 2), strict=True):
            row.card_count = count
    return {
        "page": page,
        "rows_key": rows_key,
        "rows": rows,
        "key": key,
        "attribute": attribute,
        "api": api,
    }


def test_a_list_sorts_by_a_column_both_ways(org, a_list):
    viewer = portal_client(org, Role.VIEWER)
    url, key = org_url(org, a_list["page"]), a_list["key"]
    ascending = shown(viewer.get(url, {"ordering": key}), a_list["rows_key"])
    descending = shown(viewer.get(url, {"ordering": f"-{key}"}), a_list["rows_key"])
    assert ascending == expected(a_list["rows"], a_list["attribute"])
    assert descending == expected(a_list["rows"], a_list["attribute"], descending=True)
    assert ascending != descending


def test_the_sorted_column_says_so_and_links_the_other_direction(org, a_list):
    viewer = portal_client(org, Role.VIEWER)
    key = a_list["key"]
    html = viewer.get(org_url(org, a_list["page"]), {"ordering": key}).content.decode()
    # The arrow and the reverse link belong to the sorted column's own header (a table's th,
    # or the sort link of a list of cards).
    header = re.search(
        r'<th[^>]*aria-sort="ascending"[^>]*>.*?</th>|<a class="sort sorted".*?</a>', html, re.S
    )
    assert header, "no column is marked as sorted"
    assert f'data-sort="{key}"' in header[0]
    assert f"ordering=-{key}" in header[0]
    assert "▲" in header[0]


@pytest.mark.parametrize("bad", ["password_hash", "-organization__name", "'; drop", ","])
def test_an_unknown_ordering_falls_back_to_the_default(org, a_list, bad):
    viewer = portal_client(org, Role.VIEWER)
    url = org_url(org, a_list["page"])
    default = shown(viewer.get(url), a_list["rows_key"])
    assert shown(viewer.get(url, {"ordering": bad}), a_list["rows_key"]) == default


# Access groups sort on their card count, which the API's groups do not carry: not compared.
@pytest.mark.parametrize(
    "a_list", [name for name, spec in LISTS.items() if spec[-1] is not None], indirect=True
)
def test_the_api_orders_the_same_rows_the_same_way(org, a_list):
    viewer = portal_client(org, Role.VIEWER)
    api = client_as(org, Role.VIEWER)
    for key in (a_list["key"], f"-{a_list['key']}"):
        page = shown(
            viewer.get(org_url(org, a_list["page"]), {"ordering": key}), a_list["rows_key"]
        )
        answer = api.get(f"/api/v1/{a_list['api']}", {"ordering": key})
        assert answer.status_code == 200, answer.content[:300]
        assert [row["id"] for row in answer.json()["results"]] == page


def test_sort_links_keep_the_filters_and_pagination_keeps_the_sort(org):
    station = ChargingStationFactory(organization=org)
    for n in range(51):
        ChargingSessionFactory(
            station=station,
            start=T0 + timedelta(minutes=n),
            stop=T0 + timedelta(minutes=n + 1),
            state="completed",
            energy_wh=n,
        )
    viewer = portal_client(org, Role.VIEWER)
    html = viewer.get(
        org_url(org, "sessions/"), {"ordering": "energy_wh", "state": "completed", "page": "1"}
    ).content.decode()
    # The next page keeps order and filters; a header link keeps the filters, drops the page.
    assert 'href="?ordering=energy_wh&amp;state=completed&amp;page=2"' in html
    assert 'href="?ordering=-energy_wh&amp;state=completed"' in html
    # The filter form sends the sort again, and the CSV link carries it.
    assert '<input type="hidden" name="ordering" value="energy_wh">' in html
    assert "export.csv?ordering=energy_wh&amp;state=completed" in html


def exported_ids(response) -> list[str]:
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    return [row[0] for row in rows[1:]]


def test_the_sessions_csv_follows_the_lists_order(org):
    made = sessions(org)
    viewer = portal_client(org, Role.VIEWER)
    by_energy = exported_ids(
        viewer.get(org_url(org, "sessions/export.csv"), {"ordering": "energy_wh"})
    )
    assert by_energy == [str(pk) for pk in expected(made, "energy_wh")]
    newest_first = exported_ids(viewer.get(org_url(org, "sessions/export.csv")))
    assert newest_first == [str(pk) for pk in expected(made, "start", descending=True)]


def test_the_invoices_csv_follows_the_lists_order(org):
    made = invoices(org)
    viewer = portal_client(org, Role.VIEWER)
    response = viewer.get(
        org_url(org, "billing/invoices/export.csv"), {"ordering": "-total_incl_tax"}
    )
    numbers = exported_ids(response)
    assert numbers == [
        Invoice.objects.get(pk=pk).number for pk in expected(made, "total_incl_tax", True)
    ]


def test_sorting_by_a_related_column_stays_in_the_query_budget(org, django_assert_max_num_queries):
    station = ChargingStationFactory(organization=org)
    for n in range(30):
        ChargingSessionFactory(
            station=station,
            start=T0 + timedelta(hours=n),
            stop=T0 + timedelta(hours=n, minutes=n),
            state="completed",
            energy_wh=n,
            id_token=IdTokenFactory(organization=org),
        )
    viewer = portal_client(org, Role.VIEWER)
    with django_assert_max_num_queries(8):
        response = viewer.get(org_url(org, "sessions/"), {"ordering": "-duration"})
    assert len(shown(response, "sessions")) == 30


def test_members_sort_by_role_and_name_like_the_api(org):
    viewer = portal_client(org, Role.VIEWER)
    member((org, Role.OWNER))
    member((org, Role.OPERATOR))
    url = org_url(org, "members/")
    by_role = viewer.get(url, {"ordering": "role"})
    assert by_role.status_code == 200
    roles = [membership.role for membership in by_role.context["members"]]
    assert roles == sorted(roles, key=list(Role.values).index)
    reverse = [m.role for m in viewer.get(url, {"ordering": "-role"}).context["members"]]
    assert roles == [Role.OWNER, Role.OPERATOR, Role.VIEWER]
    assert reverse == roles[::-1]
    api = client_as(org, Role.VIEWER)
    for key in ("role", "-username", "email"):
        page = [m.pk for m in viewer.get(url, {"ordering": key}).context["members"]]
        answer = api.get(f"/api/v1/organizations/{org.pk}/members/", {"ordering": key})
        assert answer.status_code == 200, answer.content[:300]
        assert [row["id"] for row in answer.json()["results"]] == page
