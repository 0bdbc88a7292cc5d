"""Every list says what matched, offers to clear its filters, and says so when it is empty."""

from datetime import UTC, datetime, timedelta

import pytest
from drf_spectacular.generators import SchemaGenerator

from organizations.choices import Role
from tests.factories import ChargingSessionFactory, ChargingStationFactory, IdTokenFactory
from tests.portalclients import org_url, portal_client

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

# A page and a filter that matches nothing there.
LISTS = [
    ("sessions/", "state=active", "No sessions match these filters."),
    ("stations/", "search=nothing-like-this", "No stations match these filters."),
    ("sites/", "search=nothing-like-this", "No sites match these filters."),
    ("cards/", "search=nothing-like-this", "No cards match these filters."),
    ("groups/", "name=nothing-like-this", "No access groups match these filters."),
    ("billing/invoices/", "q=nothing-like-this", "No invoices match these filters."),
    ("billing/cdrs/", "kind=credit", "No charge detail records match these filters."),
    ("alerts/", "state=resolved", "No alerts match these filters."),
]
EMPTY = [
    ("sessions/", "No sessions yet."),
    ("stations/", "No charging stations yet."),
    ("cards/", "No cards yet."),
    ("groups/", "No access groups yet."),
    ("billing/invoices/", "No invoices yet"),
    ("billing/cdrs/", "No charge detail records yet"),
    ("billing/tariffs/", "No tariffs yet"),
    ("alerts/", "No alerts"),
]


@pytest.fixture
def viewer(org):
    return portal_client(org, Role.VIEWER)


@pytest.fixture
def one_of_everything(org):
    station = ChargingStationFactory(organization=org)
    IdTokenFactory(organization=org)
    ChargingSessionFactory(
        station=station, start=T0, stop=T0 + timedelta(hours=1), state="completed"
    )
    return station


@pytest.mark.parametrize(("page", "query", "message"), LISTS)
def test_a_filter_that_matches_nothing_says_so_and_offers_to_clear_it(
    org, viewer, one_of_everything, page, query, message
):
    response = viewer.get(f"{org_url(org, page)}?{query}&ordering=-nope")
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert f'class="clear-filters" href="{org_url(org, page)}?ordering=-nope"' in html


@pytest.mark.parametrize(("page", "message"), EMPTY)
def test_a_list_without_any_row_says_so_plainly(org, viewer, page, message):
    html = viewer.get(org_url(org, page)).content.decode()
    assert message in html
    assert "clear-filters" not in html


def test_a_list_with_rows_says_how_many_matched(org, viewer, one_of_everything):
    html = viewer.get(org_url(org, "sessions/"), {"state": "completed"}).content.decode()
    assert "1 session matches these filters." in html
    assert "clear-filters" in html
    unfiltered = viewer.get(org_url(org, "sessions/")).content.decode()
    assert "1 session." in unfiltered
    assert "clear-filters" not in unfiltered


def test_the_live_sessions_fragment_shows_the_empty_message_too(org, viewer, one_of_everything):
    html = viewer.get(org_url(org, "sessions/table/"), {"state": "active"}).content.decode()
    assert "No sessions match these filters." in html
    # The clear link points at the page, not at the fragment the table was fetched from.
    assert f'href="{org_url(org, "sessions/")}"' in html


def filter_bar(html: str) -> str:
    return html.split('class="filters"')[1].split("</form>")[0]


def test_the_session_filters_read_the_same_before_and_after_the_api_schema_is_built(org, viewer):
    first = filter_bar(viewer.get(org_url(org, "sessions/")).content.decode())
    assert "Authorized by" in first and ">Any<" in first
    # Building the API's documentation makes form fields on the API filterset's filters, which
    # the portal's filterset copies: the labels and empty choices must not change with it.
    SchemaGenerator().get_schema(request=None, public=True)
    again = filter_bar(viewer.get(org_url(org, "sessions/"), {"state": ""}).content.decode())
    assert again == first
    assert "Auth method" not in again and "---------" not in again


def test_the_session_filters_list_only_the_organizations_rows_after_the_schema_is_built(
    org, other_org, viewer
):
    mine = ChargingStationFactory(organization=org, ocpp_id="CS-MINE")
    ChargingStationFactory(organization=other_org, ocpp_id="CS-THEIRS")
    SchemaGenerator().get_schema(request=None, public=True)
    html = filter_bar(viewer.get(org_url(org, "sessions/")).content.decode())
    assert f'value="{mine.pk}"' in html
    assert "CS-THEIRS" not in html
