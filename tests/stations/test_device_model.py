"""A station's device model: storing reports and answers, the portal page and the API."""

from datetime import timedelta

import pytest
from django.utils import timezone

from ocpp_gateway.remote.device_model_views import StationDeviceModelView
from organizations.choices import Role
from stations.choices import ConnectionState, OcppVersion
from stations.device_model import (
    ReadValue,
    ReportedVariable,
    ReportPart,
    SetResult,
    VariableAddress,
    configuration_key,
    items_per_message,
    record_configuration,
    record_read_values,
    record_report_part,
    record_set_results,
    start_report,
)
from stations.models import DeviceModelReport, StationVariable
from tests.apiclients import client_as
from tests.factories import ChargingStationFactory
from tests.portalclients import org_url, portal_client

pytestmark = pytest.mark.django_db

HEARTBEAT = VariableAddress("OCPPCommCtrlr", "HeartbeatInterval")
POWER = VariableAddress("EVSE", "Power", evse_number=1)
LONG_VALUE = "ÄÖÜ € ✓ " * 300  # 2,400 characters, most of them not ASCII
MARKUP = '<script>alert("x")</script><b>bold</b>'


@pytest.fixture
def station201(org):
    return ChargingStationFactory(organization=org, ocpp_id="CS-201", ocpp_version=OcppVersion.V201)


def reported(address: VariableAddress, value: str, **characteristics) -> ReportedVariable:
    return ReportedVariable(address=address, value=value, **characteristics)


def values(station) -> dict:
    return {
        (v.component, v.variable, v.evse_number, v.attribute_type): v.value
        for v in StationVariable.objects.filter(station=station)
    }


# --- Storing -----------------------------------------------------------------------------------


def test_a_report_in_parts_is_stored_and_counted(station201):
    report = start_report(station201, "FullInventory")
    record_report_part(
        station201,
        ReportPart(report.request_id, 0, True, [reported(HEARTBEAT, "300", unit="s")]),
    )
    report.refresh_from_db()
    assert (report.parts, report.completed_at) == (1, None)
    record_report_part(
        station201, ReportPart(report.request_id, 1, False, [reported(POWER, "22000")])
    )
    report.refresh_from_db()
    assert (report.parts, report.last_seq_no, report.variables) == (2, 1, 2)
    assert report.completed_at is not None
    assert values(station201) == {
        ("OCPPCommCtrlr", "HeartbeatInterval", 0, "Actual"): "300",
        ("EVSE", "Power", 1, "Actual"): "22000",
    }


def test_the_same_variable_twice_in_one_part_keeps_the_last_value(station201):
    record_report_part(
        station201,
        ReportPart(1, 0, False, [reported(HEARTBEAT, "1"), reported(HEARTBEAT, "2")]),
    )
    assert values(station201) == {("OCPPCommCtrlr", "HeartbeatInterval", 0, "Actual"): "2"}


def test_a_report_again_updates_rows_rather_than_adding_them(station201):
    for request_id, value in ((1, "300"), (2, "60")):
        record_report_part(
            station201, ReportPart(request_id, 0, False, [reported(HEARTBEAT, value)])
        )
    assert values(station201) == {("OCPPCommCtrlr", "HeartbeatInterval", 0, "Actual"): "60"}


def test_attribute_types_and_evses_are_separate_rows(station201):
    target = VariableAddress("OCPPCommCtrlr", "HeartbeatInterval", attribute_type="Target")
    other_evse = VariableAddress("EVSE", "Power", evse_number=2)
    record_report_part(
        station201,
        ReportPart(
            1,
            0,
            False,
            [
                reported(HEARTBEAT, "300"),
                reported(target, "600"),
                reported(POWER, "1"),
                reported(other_evse, "2"),
            ],
        ),
    )
    assert len(values(station201)) == 4


def test_a_complete_full_inventory_drops_what_it_did_not_list(station201):
    old = timezone.now() - timedelta(days=1)
    StationVariable.objects.create(
        station=station201, component="Gone", variable="X", reported_at=old
    )
    StationVariable.objects.create(station=station201, variable="HeartbeatInterval")  # a 1.6 key
    report = start_report(station201, "FullInventory")
    record_report_part(station201, ReportPart(report.request_id, 0, False, [reported(POWER, "1")]))
    assert set(values(station201)) == {
        ("EVSE", "Power", 1, "Actual"),
        ("", "HeartbeatInterval", 0, "Actual"),
    }


def test_a_full_inventory_with_a_missing_part_drops_nothing(station201):
    StationVariable.objects.create(
        station=station201, component="Kept", variable="X", reported_at=timezone.now()
    )
    report = start_report(station201, "FullInventory")
    # Part 1 never arrived.
    record_report_part(station201, ReportPart(report.request_id, 0, True, [reported(POWER, "1")]))
    record_report_part(station201, ReportPart(report.request_id, 2, False, []))
    assert ("Kept", "X", 0, "Actual") in values(station201)


def test_a_configuration_inventory_drops_nothing(station201):
    StationVariable.objects.create(station=station201, component="Kept", variable="X")
    report = start_report(station201, "ConfigurationInventory")
    record_report_part(station201, ReportPart(report.request_id, 0, False, [reported(POWER, "1")]))
    assert ("Kept", "X", 0, "Actual") in values(station201)


def test_request_ids_are_fresh_per_station(station201, org):
    other = ChargingStationFactory(organization=org)
    assert [start_report(station201, "FullInventory").request_id for _ in range(2)] == [1, 2]
    assert start_report(other, "FullInventory").request_id == 1


def test_read_values_keep_what_the_report_said(station201):
    record_report_part(
        station201,
        ReportPart(1, 0, False, [reported(HEARTBEAT, "300", unit="s", data_type="integer")]),
    )
    record_read_values(station201, [ReadValue(HEARTBEAT, "120")], "get_variables")
    row = StationVariable.objects.get(station=station201)
    assert (row.value, row.unit, row.data_type, row.source) == (
        "120",
        "s",
        "integer",
        "get_variables",
    )


def test_a_rejected_set_keeps_the_value_in_use(station201):
    record_read_values(station201, [ReadValue(HEARTBEAT, "300")], "get_variables")
    record_set_results(
        station201, [SetResult(HEARTBEAT, "5", "Rejected", "OutOfRange")], "set_variables"
    )
    row = StationVariable.objects.get(station=station201)
    assert (row.value, row.set_value, row.set_status, row.set_status_info) == (
        "300",
        "5",
        "Rejected",
        "OutOfRange",
    )


def test_a_set_of_a_variable_never_read_stores_no_value(station201):
    record_set_results(station201, [SetResult(POWER, "5", "UnknownVariable")], "set_variables")
    row = StationVariable.objects.get(station=station201)
    assert (row.value, row.reported_at, row.set_status) == ("", None, "UnknownVariable")


def test_values_up_to_the_ocpp_maximum_are_kept_whole(station201):
    record_read_values(station201, [ReadValue(HEARTBEAT, LONG_VALUE + "x" * 1000)], "get_variables")
    assert StationVariable.objects.get(station=station201).value == (LONG_VALUE + "x" * 1000)[:2500]


def test_items_per_message_is_read_from_the_reported_model(station201):
    assert items_per_message(station201, "GetVariables") is None
    address = VariableAddress(
        "DeviceDataCtrlr", "ItemsPerMessage", variable_instance="GetVariables"
    )
    record_read_values(station201, [ReadValue(address, "4")], "get_variables")
    assert items_per_message(station201, "GetVariables") == 4
    assert items_per_message(station201, "SetVariables") is None


def test_a_complete_16_configuration_replaces_the_keys(station):
    record_configuration(station, [ReadValue(configuration_key("A"), "1")], complete=True)
    record_configuration(station, [ReadValue(configuration_key("B"), "2")], complete=True)
    assert values(station) == {("", "B", 0, "Actual"): "2"}


# --- The portal page -------------------------------------------------------------------------


def page_url(station, query=""):
    return org_url(station.organization, f"stations/{station.pk}/device-model/{query}")


@pytest.fixture
def model_201(station201):
    record_report_part(
        station201,
        ReportPart(
            1,
            0,
            False,
            [
                reported(HEARTBEAT, "300", unit="s", data_type="integer"),
                reported(POWER, "22000", mutability="ReadOnly"),
                reported(VariableAddress("DisplayCtrlr", "Text"), LONG_VALUE),
                reported(VariableAddress("DisplayCtrlr", "Markup"), MARKUP),
            ],
        ),
    )
    return station201


def test_the_page_lists_the_variables_with_their_components(org, model_201):
    response = portal_client(org).get(page_url(model_201))
    assert response.status_code == 200
    html = response.content.decode()
    assert "HeartbeatInterval" in html and "OCPPCommCtrlr" in html
    assert "EVSE 1" in html
    assert "4 values" in html
    assert "integer · s" in html


def test_the_station_page_links_to_it(org, model_201):
    html = portal_client(org).get(org_url(org, f"stations/{model_201.pk}/")).content.decode()
    assert page_url(model_201) in html


def test_search_finds_by_component_or_variable(org, model_201):
    client = portal_client(org)
    html = client.get(page_url(model_201, "?q=heartbeat")).content.decode()
    assert "HeartbeatInterval" in html and "Power" not in html
    html = client.get(page_url(model_201, "?q=display")).content.decode()
    assert "Markup" in html and "HeartbeatInterval" not in html
    html = client.get(page_url(model_201, "?component=EVSE")).content.decode()
    assert "Power" in html and "HeartbeatInterval" not in html


def test_stored_values_never_break_the_page(org, model_201):
    html = portal_client(org).get(page_url(model_201)).content.decode()
    assert MARKUP not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    # The long value is there in full, behind a short summary.
    assert LONG_VALUE.strip() in html
    assert "<details>" in html


def test_an_admin_of_an_online_station_gets_a_form_for_writable_variables_only(org, model_201):
    model_201.connection_state = ConnectionState.ONLINE
    model_201.save(update_fields=["connection_state"])
    html = portal_client(org, Role.ADMIN).get(page_url(model_201)).content.decode()
    heartbeat = StationVariable.objects.get(station=model_201, variable="HeartbeatInterval")
    power = StationVariable.objects.get(station=model_201, variable="Power")
    assert f'id="value-{heartbeat.pk}"' in html
    assert f'id="value-{power.pk}"' not in html


def test_a_viewer_sees_why_values_cannot_be_set(org, model_201):
    model_201.connection_state = ConnectionState.ONLINE
    model_201.save(update_fields=["connection_state"])
    html = portal_client(org, Role.VIEWER).get(page_url(model_201)).content.decode()
    assert 'name="value"' not in html
    assert 'id="set-reason"' in html


def test_an_offline_station_cannot_be_set(org, model_201):
    html = portal_client(org, Role.ADMIN).get(page_url(model_201)).content.decode()
    assert 'name="value"' not in html
    assert "offline" in html


def test_a_viewer_posting_a_value_is_refused_and_nothing_is_sent(org, model_201):
    model_201.connection_state = ConnectionState.ONLINE
    model_201.save(update_fields=["connection_state"])
    heartbeat = StationVariable.objects.get(station=model_201, variable="HeartbeatInterval")
    client = portal_client(org, Role.VIEWER)
    response = client.post(
        page_url(model_201), {"action": "set", "variable": heartbeat.pk, "value": "1"}, follow=True
    )
    assert "admin" in response.content.decode().lower()
    assert not model_201.command_logs.exists()


def test_a_variable_of_another_station_cannot_be_set_through_this_page(org, model_201):
    other = ChargingStationFactory(organization=org)
    foreign = StationVariable.objects.create(station=other, component="C", variable="V")
    response = portal_client(org, Role.OWNER).post(
        page_url(model_201), {"action": "set", "variable": foreign.pk, "value": "1"}
    )
    assert response.status_code == 404


def test_an_outsider_gets_404(other_org, model_201):
    assert portal_client(other_org, Role.OWNER).get(page_url(model_201)).status_code == 404


def test_a_16_station_shows_its_configuration_keys(org, station):
    record_configuration(
        station,
        [ReadValue(configuration_key("HeartbeatInterval"), "300", "ReadWrite")],
        complete=True,
    )
    html = portal_client(org).get(page_url(station)).content.decode()
    assert "Configuration keys" in html
    assert "HeartbeatInterval" in html
    assert "GetConfiguration" in html


def test_the_page_stays_outside_a_request_transaction():
    # It waits for the station through the channel layer (see the command view).
    assert StationDeviceModelView.as_view()._non_atomic_requests == {"default"}


def test_the_page_stays_within_its_query_budget(org, model_201, django_assert_max_num_queries):
    client = portal_client(org)
    with django_assert_max_num_queries(16):
        assert client.get(page_url(model_201)).status_code == 200


# --- The API -----------------------------------------------------------------------------------


def api_url(station, query=""):
    return f"/api/v1/stations/{station.pk}/variables/{query}"


def test_the_api_lists_a_stations_variables(org, model_201):
    response = client_as(org).get(api_url(model_201))
    assert response.status_code == 200
    rows = {row["variable"]: row for row in response.data["results"]}
    assert set(rows) == {"HeartbeatInterval", "Power", "Text", "Markup"}
    assert rows["Power"]["evse_id"] == 1 and rows["Power"]["connector_id"] is None
    assert rows["HeartbeatInterval"]["evse_id"] is None
    assert (rows["HeartbeatInterval"]["unit"], rows["Markup"]["value"]) == ("s", MARKUP)


@pytest.mark.parametrize(
    "query, expected",
    [
        ("?component=evse", {"Power"}),
        ("?variable=heartbeatinterval", {"HeartbeatInterval"}),
        ("?search=ctrlr", {"HeartbeatInterval", "Text", "Markup"}),
        ("?evse_id=1", {"Power"}),
        ("?mutability=ReadOnly", {"Power"}),
        ("?value_source=report", {"HeartbeatInterval", "Power", "Text", "Markup"}),
    ],
)
def test_the_api_filters_variables(org, model_201, query, expected):
    response = client_as(org).get(api_url(model_201, query))
    assert {row["variable"] for row in response.data["results"]} == expected


def test_the_api_refuses_an_unknown_filter(org, model_201):
    response = client_as(org).get(api_url(model_201, "?componnet=EVSE"))
    assert response.status_code == 400
    assert "componnet" in response.data


def test_the_api_shows_16_keys_without_a_component(org, station):
    record_configuration(
        station, [ReadValue(configuration_key("K"), "v", "ReadOnly")], complete=True
    )
    [row] = client_as(org).get(api_url(station)).data["results"]
    assert (row["component"], row["variable"], row["mutability"], row["value_source"]) == (
        "",
        "K",
        "ReadOnly",
        "configuration",
    )


def test_an_outsider_gets_404_from_the_api_and_sees_nothing(other_org, model_201):
    response = client_as(other_org, Role.OWNER).get(api_url(model_201))
    assert response.status_code == 404
    assert "HeartbeatInterval" not in response.content.decode()


def test_the_api_stays_within_its_query_budget(org, model_201, django_assert_max_num_queries):
    client = client_as(org)
    with django_assert_max_num_queries(8):
        assert client.get(api_url(model_201)).status_code == 200


def test_report_rows_belong_to_the_stations_organization(org, other_org, station201):
    start_report(station201, "FullInventory")
    assert DeviceModelReport.objects.for_org(org).count() == 1
    assert DeviceModelReport.objects.for_org(other_org).count() == 0
