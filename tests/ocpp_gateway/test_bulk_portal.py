"""The portal's bulk commands: choosing stations, the command and its inputs, and the results."""

import re
from unittest import mock

import pytest

from ocpp_gateway.models import BulkCommand, BulkResultStatus, CommandLog
from organizations.choices import Role
from stations.models import DiagnosticsRequest
from tests.factories import ChargingStationFactory, SiteFactory
from tests.ocpp_gateway.factories_bulk import go_online, ping_commands  # noqa: F401
from tests.portalclients import org_url, portal_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ping_commands")]


@pytest.fixture
def site(org):
    return SiteFactory(organization=org, name="Depot")


@pytest.fixture
def stations(org, site):
    made = [
        ChargingStationFactory(organization=org, site=site, ocpp_id=name, connectors=1)
        for name in ("CS-A", "CS-REJ")
    ]
    go_online(*made)
    return made


@pytest.fixture
def operator(org):
    return portal_client(org, Role.OPERATOR)


def new_url(org):
    return org_url(org, "bulk-commands/new/")


def chosen(stations):
    return [s.pk for s in stations]


def test_the_station_list_lets_operators_tick_stations(org, stations, operator):
    body = operator.get(org_url(org, "stations/")).content.decode()
    assert f'action="{new_url(org)}"' in body
    for station in stations:
        assert f'name="station" value="{station.pk}"' in body
    assert 'name="scope" value="filter"' in body


def test_the_station_list_offers_viewers_no_selection(org, stations):
    body = portal_client(org, Role.VIEWER).get(org_url(org, "stations/")).content.decode()
    assert 'name="station"' not in body
    assert new_url(org) not in body


def test_the_command_choice_lists_what_the_role_may_send(org, stations, operator):
    response = operator.get(new_url(org), {"station": chosen(stations)})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'value="test_ping"' in body
    assert 'value="test_admin_ping"' not in body
    assert "2 stations chosen" in body


def test_the_command_form_shows_its_inputs(org, stations, operator):
    response = operator.get(new_url(org), {"station": chosen(stations), "command": "test_ping"})
    assert response.status_code == 200
    assert 'name="level"' in response.content.decode()


def test_reviewing_asks_for_confirmation_and_sends_nothing(org, stations, operator):
    response = operator.post(
        new_url(org), {"station": chosen(stations), "command": "test_ping", "level": "2"}
    )
    assert response.status_code == 200
    assert "Really Ping on 2 stations?" in response.content.decode()
    assert not BulkCommand.objects.exists()
    assert not CommandLog.objects.exists()


def test_confirming_sends_and_leads_to_the_result_table(org, stations, operator):
    response = operator.post(
        new_url(org),
        {"station": chosen(stations), "command": "test_ping", "level": "2", "confirm": "yes"},
    )
    bulk = BulkCommand.objects.get()
    detail = org_url(org, f"bulk-commands/{bulk.pk}/")
    assert (response.status_code, response["Location"]) == (302, detail)
    body = operator.get(detail).content.decode()
    rows = dict(re.findall(r'data-station="(\d+)">.*?data-bulk-status="(\w+)"', body, re.S))
    assert rows == {
        str(stations[0].pk): BulkResultStatus.ACCEPTED,
        str(stations[1].pk): BulkResultStatus.REJECTED,
    }


def test_invalid_inputs_show_their_errors_and_send_nothing(org, stations, operator):
    response = operator.post(
        new_url(org),
        {"station": chosen(stations), "command": "test_ping", "level": "9", "confirm": "yes"},
    )
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert not BulkCommand.objects.exists()


def test_every_station_matching_the_filter_can_be_chosen(org, site, stations, operator):
    elsewhere = ChargingStationFactory(organization=org, ocpp_id="CS-ELSEWHERE")
    go_online(elsewhere)
    operator.post(
        new_url(org),
        {
            "scope": "filter",
            "site": site.pk,
            "command": "test_ping",
            "level": "1",
            "confirm": "yes",
        },
    )
    sent = set(CommandLog.objects.values_list("station__ocpp_id", flat=True))
    assert sent == {"CS-A", "CS-REJ"}


def test_a_viewer_may_not_open_the_bulk_page(org, stations):
    response = portal_client(org, Role.VIEWER).get(new_url(org), {"station": chosen(stations)})
    assert response.status_code == 403


def test_an_operator_may_not_send_an_admin_command(org, stations, operator):
    response = operator.post(
        new_url(org),
        {"station": chosen(stations), "command": "test_admin_ping", "level": "1", "confirm": "yes"},
    )
    assert response.status_code == 403
    assert not CommandLog.objects.exists()


def test_a_station_of_another_organization_is_404_and_nothing_is_sent(
    org, other_org, stations, operator
):
    theirs = ChargingStationFactory(organization=other_org, ocpp_id="CS-THEIRS")
    go_online(theirs)
    response = operator.post(
        new_url(org),
        {
            "station": [stations[0].pk, theirs.pk],
            "command": "test_ping",
            "level": "1",
            "confirm": "yes",
        },
    )
    assert response.status_code == 404
    assert not CommandLog.objects.exists()


def test_an_outsider_sees_no_bulk_command(org, other_org, stations, operator):
    operator.post(
        new_url(org),
        {"station": chosen(stations), "command": "test_ping", "level": "1", "confirm": "yes"},
    )
    bulk = BulkCommand.objects.get()
    outsider = portal_client(other_org, Role.OWNER)
    assert outsider.get(org_url(org, f"bulk-commands/{bulk.pk}/")).status_code == 404
    assert outsider.get(org_url(other_org, f"bulk-commands/{bulk.pk}/")).status_code == 404
    assert outsider.get(org_url(org, "bulk-commands/")).status_code == 404


def test_the_result_table_alone_is_fetched_again_on_live_bulk_events(org, stations, operator):
    operator.post(
        new_url(org),
        {"station": chosen(stations), "command": "test_ping", "level": "1", "confirm": "yes"},
    )
    bulk = BulkCommand.objects.get()
    detail = org_url(org, f"bulk-commands/{bulk.pk}/")
    page = operator.get(detail).content.decode()
    assert f"live-bulk[detail.bulk=={bulk.pk}] from:body" in page
    part = operator.get(detail, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in part
    assert 'id="bulk-results"' in part


def test_each_result_is_published_to_the_organizations_open_pages(
    org, stations, operator, django_capture_on_commit_callbacks
):
    with (
        mock.patch("portal.events.publish_many") as publish,
        django_capture_on_commit_callbacks(execute=True),
    ):
        operator.post(
            new_url(org),
            {
                "station": chosen(stations[:1]),
                "command": "test_ping",
                "level": "1",
                "confirm": "yes",
            },
        )
    bulk = BulkCommand.objects.get()
    sent = [event for call in publish.call_args_list for event in call.args[0]]
    assert (
        org.pk,
        {
            "kind": "bulk",
            "bulk": bulk.pk,
            "result": bulk.results.get().pk,
            "station": stations[0].pk,
            "status": "accepted",
            "finished": True,
        },
    ) in sent


def test_the_list_of_bulk_commands_counts_results_in_few_queries(
    org, stations, operator, django_assert_max_num_queries
):
    for _ in range(3):
        operator.post(
            new_url(org),
            {"station": chosen(stations), "command": "test_ping", "level": "1", "confirm": "yes"},
        )
    viewer = portal_client(org, Role.VIEWER)
    with django_assert_max_num_queries(12):
        response = viewer.get(org_url(org, "bulk-commands/"))
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count("data-bulk=") == 3


# --- diagnostics from every station of a site ------------------------------------------------


def site_diagnostics_url(org, site):
    return org_url(org, f"sites/{site.pk}/diagnostics/")


def test_the_site_page_offers_admins_diagnostics_of_every_station(org, site):
    admin = portal_client(org, Role.ADMIN)
    body = admin.get(org_url(org, f"sites/{site.pk}/")).content.decode()
    assert site_diagnostics_url(org, site) in body
    operator_page = portal_client(org, Role.OPERATOR).get(org_url(org, f"sites/{site.pk}/"))
    assert site_diagnostics_url(org, site) not in operator_page.content.decode()


def test_an_operator_may_not_request_site_diagnostics(org, site, stations, operator):
    assert operator.post(site_diagnostics_url(org, site)).status_code == 403
    assert not BulkCommand.objects.exists()


def test_site_diagnostics_of_another_organization_are_404(org, other_org, stations):
    theirs = SiteFactory(organization=other_org)
    admin = portal_client(org, Role.ADMIN)
    assert admin.get(site_diagnostics_url(org, theirs)).status_code == 404
    assert admin.post(site_diagnostics_url(org, theirs)).status_code == 404
    outsider = portal_client(other_org, Role.OWNER)
    assert outsider.post(site_diagnostics_url(org, stations[0].site)).status_code == 404
    assert not BulkCommand.objects.exists()


def test_offline_stations_of_the_site_are_skipped_and_open_no_upload(org, site):
    ChargingStationFactory(organization=org, site=site, ocpp_id="CS-OFF")
    admin = portal_client(org, Role.ADMIN)
    assert "1 station" in admin.get(site_diagnostics_url(org, site)).content.decode()
    response = admin.post(site_diagnostics_url(org, site))
    bulk = BulkCommand.objects.get()
    assert response.status_code == 302
    assert (bulk.command, bulk.site, bulk.own_upload_location) == ("get_log", site, True)
    result = bulk.results.get()
    assert (result.status, result.reason) == (BulkResultStatus.SKIPPED, "The station is offline.")
    assert not DiagnosticsRequest.objects.exists()
