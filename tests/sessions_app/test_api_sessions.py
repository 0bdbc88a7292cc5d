"""GET /api/v1/sessions/ and its actions: fields, cost, filters, meter values, stopping."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from ocpp.routing import on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action
from rest_framework.test import APIClient

from billing.models import ChargeDetailRecord
from ocpp_gateway.models import CommandLog
from organizations.choices import Role
from roaming.models import RoamingPartner
from sessions_app.models import ChargingSession
from tests.api.conftest import in_thread
from tests.apiclients import client_as, member
from tests.factories import (
    ChargingSessionFactory,
    ChargingStationFactory,
    IdTokenFactory,
    MeterValueFactory,
    OrganizationFactory,
    SiteFactory,
    make_api_key,
)
from tests.ocpp_gateway.conftest import Station, connected_station

LIST = "/api/v1/sessions/"
MAR_2 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def viewer(org):
    return client_as(org)


@pytest.fixture
def operator(org):
    return client_as(org, Role.OPERATOR)


def completed(station, start=MAR_2, minutes=60, **fields):
    """A finished session on `station` that started at `start`."""
    fields.setdefault("energy_wh", 12000)
    return ChargingSessionFactory(
        station=station,
        start=start,
        stop=start + timedelta(minutes=minutes),
        state="completed",
        stop_reason=fields.pop("stop_reason", "Local"),
        **fields,
    )


def running(station, **fields):
    return ChargingSessionFactory(station=station, start=timezone.now(), **fields)


def charge(session, total, currency="EUR", kind="charge"):
    return ChargeDetailRecord.objects.create(
        organization=session.organization,
        session=session,
        kind=kind,
        currency=currency,
        total_incl_tax=Decimal(total),
    )


def ids(response):
    assert response.status_code == 200, response.data
    return [row["id"] for row in response.data["results"]]


# --- fields ------------------------------------------------------------------------------------


def test_a_session_is_listed_with_its_station_site_connector_card_and_cost(viewer, org, station):
    card = IdTokenFactory(organization=org, uid="04AABB", label="Erika's card")
    session = completed(
        station, id_token=card, id_tag="04aabb", transaction_id="4711", auth_method="rfid"
    )
    charge(session, "5.5692")

    [row] = viewer.get(LIST).data["results"]

    assert row == {
        "id": session.pk,
        "transaction_id": "4711",
        "organization": org.pk,
        "station": station.pk,
        "ocpp_id": "CS-DEMO-1",
        "site": station.site_id,
        "site_name": station.site.name,
        "connector_id": 1,
        "evse_id": f"DE*ABC*E{station.pk}*1",
        "id_tag": "04aabb",
        "id_token": {"id": card.pk, "uid": "04AABB", "label": "Erika's card"},
        "roaming_partner": None,
        "auth_method": "rfid",
        "start": "2026-03-02T09:00:00Z",
        "stop": "2026-03-02T10:00:00Z",
        "energy_wh": 12000,
        "duration_seconds": 3600,
        "state": "completed",
        "stop_reason": "Local",
        "cost": "5.5692",
        "currency": "EUR",
        "billing_stopped": False,
        "needs_review": False,
        "review_reason": "",
    }


def test_an_unknown_card_a_station_without_site_and_an_unrated_session_are_nulls(viewer, org):
    station = ChargingStationFactory(organization=org, site=None)
    running(station, id_token=None, id_tag="UNKNOWN")

    [row] = viewer.get(LIST).data["results"]

    assert (row["id_token"], row["site"], row["site_name"]) == (None, None, None)
    assert (row["stop"], row["duration_seconds"]) == (None, None)
    assert (row["cost"], row["currency"]) == (None, None)


def test_the_cost_is_the_charge_plus_its_credits(viewer, station):
    session = completed(station)
    first = charge(session, "10.0000", currency="CHF")
    ChargeDetailRecord.objects.create(
        organization=session.organization,
        session=session,
        kind="credit",
        corrects=first,
        currency="CHF",
        total_incl_tax=Decimal("-2.5000"),
    )

    [row] = viewer.get(LIST).data["results"]

    assert (row["cost"], row["currency"]) == ("7.5000", "CHF")


def test_the_detail_adds_the_card_meter_readings_and_billing_decisions(viewer, org, station):
    card = IdTokenFactory(organization=org, uid="04CC", label="Fleet 7", holder_name="Erika")
    session = completed(station, id_token=card, meter_start=1000, meter_stop=13000)
    ChargingSession.objects.filter(pk=session.pk).update(
        billable=False,
        billing_stopped=True,
        billing_stopped_reason="Meter fault",
        billing_stopped_at=MAR_2,
    )

    data = viewer.get(f"{LIST}{session.pk}/").data

    assert data["id_token"] == {
        "id": card.pk,
        "uid": "04CC",
        "label": "Fleet 7",
        "type": "ISO14443",
        "holder_name": "Erika",
        "status": "Accepted",
    }
    assert {
        key: data[key]
        for key in (
            "meter_start",
            "meter_stop",
            "auth_status",
            "billable",
            "billing_stopped",
            "billing_stopped_by",
            "billing_stopped_reason",
            "billing_stopped_at",
        )
    } == {
        "meter_start": 1000,
        "meter_stop": 13000,
        "auth_status": "Accepted",
        "billable": False,
        "billing_stopped": True,
        "billing_stopped_by": None,
        "billing_stopped_reason": "Meter fault",
        "billing_stopped_at": "2026-03-02T09:00:00Z",
    }


def test_a_member_of_two_organizations_sees_the_sessions_of_both(org, station):
    elsewhere = ChargingStationFactory(organization=OrganizationFactory())
    ours, theirs, nobodys = (
        completed(station),
        completed(elsewhere),
        completed(ChargingStationFactory()),
    )
    client = APIClient()
    client.force_authenticate(member((org, Role.VIEWER), (elsewhere.organization, Role.VIEWER)))

    assert set(ids(client.get(LIST))) == {ours.pk, theirs.pk}
    assert client.get(f"{LIST}{nobodys.pk}/").status_code == 404


def test_the_list_takes_a_constant_number_of_queries(
    viewer, org, station, django_assert_max_num_queries
):
    for _ in range(3):
        card = IdTokenFactory(organization=org)
        charge(completed(station, id_token=card), "1.00")
    with CaptureQueriesContext(connection) as few:
        viewer.get(LIST)
    for _ in range(20):
        card = IdTokenFactory(organization=org)
        charge(completed(station, id_token=card), "1.00")

    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(ids(viewer.get(LIST))) == 23


# --- filters and ordering ----------------------------------------------------------------------


def test_start_after_and_start_before_are_a_half_open_range(viewer, station):
    before, at_start, inside, at_end = (
        completed(station, start=datetime(2026, 3, 1, 23, 59, 59, tzinfo=UTC)),
        completed(station, start=datetime(2026, 3, 2, tzinfo=UTC)),
        completed(station, start=datetime(2026, 3, 2, 12, tzinfo=UTC)),
        completed(station, start=datetime(2026, 3, 3, tzinfo=UTC)),
    )
    response = viewer.get(
        LIST, {"start_after": "2026-03-02T00:00:00Z", "start_before": "2026-03-03T00:00:00Z"}
    )
    assert set(ids(response)) == {at_start.pk, inside.pk}
    assert {before.pk, at_end.pk}.isdisjoint(ids(response))


def test_date_from_and_date_to_are_whole_days_of_the_organizations_time_zone(viewer, org, station):
    assert org.timezone == "Europe/Berlin"
    # 23:30 UTC on 1 March is 00:30 on 2 March in Berlin; 23:30 UTC on 2 March is 3 March there.
    late_on_the_1st = completed(station, start=datetime(2026, 3, 1, 22, 59, tzinfo=UTC))
    berlin_2nd = completed(station, start=datetime(2026, 3, 1, 23, 30, tzinfo=UTC))
    berlin_3rd = completed(station, start=datetime(2026, 3, 2, 23, 30, tzinfo=UTC))

    one_day = viewer.get(LIST, {"date_from": "2026-03-02", "date_to": "2026-03-02"})

    assert ids(one_day) == [berlin_2nd.pk]
    assert set(ids(viewer.get(LIST, {"date_to": "2026-03-02"}))) == {
        late_on_the_1st.pk,
        berlin_2nd.pk,
    }
    assert ids(viewer.get(LIST, {"date_from": "2026-03-03"})) == [berlin_3rd.pk]


def test_date_from_counts_each_organization_in_its_own_time_zone(org, station):
    tokyo = OrganizationFactory(timezone="Asia/Tokyo")
    tokyo_station = ChargingStationFactory(organization=tokyo)
    # 16:00 UTC on 1 March is already 2 March in Tokyo, still 1 March in Berlin.
    in_tokyo = completed(tokyo_station, start=datetime(2026, 3, 1, 16, tzinfo=UTC))
    in_berlin = completed(station, start=datetime(2026, 3, 1, 16, tzinfo=UTC))
    client = APIClient()
    client.force_authenticate(member((org, Role.VIEWER), (tokyo, Role.VIEWER)))

    response = client.get(LIST, {"date_from": "2026-03-02"})

    assert ids(response) == [in_tokyo.pk]
    assert ids(client.get(LIST, {"date_to": "2026-03-01"})) == [in_berlin.pk]


def test_extreme_days_are_a_range_not_an_error(viewer, station):
    session = completed(station)
    response = viewer.get(LIST, {"date_from": "0001-01-01", "date_to": "9999-12-31"})
    assert ids(response) == [session.pk]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("state", "active"),
        ("auth_method", "remote"),
        ("stop_reason", "EVDisconnected"),
        ("billing_stopped", "true"),
        ("id_tag", "04abcdef"),
    ],
)
def test_each_attribute_filter_keeps_only_matching_sessions(viewer, station, name, value):
    other_connector = station.connectors.get(connector_id=2)
    wanted = running(
        station,
        auth_method="remote",
        stop_reason="EVDisconnected",
        billing_stopped=True,
        id_tag="04ABCDEF",
    )
    completed(station, connector=other_connector, id_tag="04000000")
    assert ids(viewer.get(LIST, {name: value})) == [wanted.pk]


def test_place_and_card_filters_keep_only_matching_sessions(viewer, org, station):
    card = IdTokenFactory(organization=org)
    other_station = ChargingStationFactory(organization=org, site=SiteFactory(organization=org))
    here = completed(station, id_token=card)
    there = completed(other_station)

    assert ids(viewer.get(LIST, {"site": station.site_id})) == [here.pk]
    assert ids(viewer.get(LIST, {"station": other_station.pk})) == [there.pk]
    assert ids(viewer.get(LIST, {"ocpp_id": "CS-DEMO-1"})) == [here.pk]
    assert ids(viewer.get(LIST, {"id_token": card.pk})) == [here.pk]
    assert set(ids(viewer.get(LIST, {"organization": org.pk}))) == {here.pk, there.pk}


def test_a_filter_naming_another_organizations_station_or_card_is_a_400(viewer, other_org):
    foreign_station = ChargingStationFactory(organization=other_org)
    foreign_card = IdTokenFactory(organization=other_org)
    for name, value in (
        ("station", foreign_station.pk),
        ("site", foreign_station.site_id),
        ("id_token", foreign_card.pk),
        ("organization", other_org.pk),
    ):
        response = viewer.get(LIST, {name: value})
        assert response.status_code == 400, name
        assert name in response.data


def test_bad_filter_values_are_a_400_naming_the_filter(viewer):
    for name, value in (
        ("start_after", "yesterday"),
        ("date_from", "2026-02-30"),
        ("state", "paused"),
        ("billing_stopped", "perhaps"),
    ):
        response = viewer.get(LIST, {name: value})
        assert (response.status_code, list(response.data)) == (400, [name])


def test_sessions_are_newest_first_and_ordered_by_energy_or_stop_on_request(viewer, station):
    old = completed(station, start=MAR_2 - timedelta(days=2), minutes=300, energy_wh=500)
    new = completed(station, start=MAR_2, minutes=10, energy_wh=9000)
    middle = completed(station, start=MAR_2 - timedelta(days=1), minutes=60, energy_wh=100)

    assert ids(viewer.get(LIST)) == [new.pk, middle.pk, old.pk]
    assert ids(viewer.get(LIST, {"ordering": "energy_wh"})) == [middle.pk, old.pk, new.pk]
    assert ids(viewer.get(LIST, {"ordering": "-stop"})) == [new.pk, middle.pk, old.pk]
    assert ids(viewer.get(LIST, {"ordering": "stop"})) == [old.pk, middle.pk, new.pk]


# --- meter values ------------------------------------------------------------------------------


def test_meter_values_come_oldest_first_with_every_sampled_field(viewer, station):
    session = completed(station)
    later = MeterValueFactory(
        session=session,
        timestamp=MAR_2 + timedelta(minutes=30),
        measurand="Power.Active.Import",
        phase="L1",
        unit="W",
        context="Sample.Clock",
        location="Outlet",
        value=Decimal("7200.5"),
    )
    MeterValueFactory(session=session, timestamp=MAR_2 + timedelta(minutes=1), value=1000)
    MeterValueFactory(session=completed(station), timestamp=MAR_2)  # another session's

    data = viewer.get(f"{LIST}{session.pk}/meter-values/").data

    assert data["count"] == 2
    assert [row["timestamp"] for row in data["results"]] == [
        "2026-03-02T09:01:00Z",
        "2026-03-02T09:30:00Z",
    ]
    assert data["results"][1] == {
        "timestamp": "2026-03-02T09:30:00Z",
        "measurand": later.measurand,
        "phase": "L1",
        "unit": "W",
        "context": "Sample.Clock",
        "location": "Outlet",
        "value": "7200.500000",
    }


def test_meter_values_are_paginated_and_filtered_by_measurand(
    viewer, station, django_assert_max_num_queries
):
    session = completed(station)
    for minute in range(120):
        MeterValueFactory(session=session, timestamp=MAR_2 + timedelta(minutes=minute))
    MeterValueFactory(session=session, timestamp=MAR_2, measurand="SoC", unit="Percent")
    url = f"{LIST}{session.pk}/meter-values/"

    with django_assert_max_num_queries(8):
        page = viewer.get(url, {"page_size": 100}).data
    soc = viewer.get(url, {"measurand": "SoC"}).data

    assert (page["count"], len(page["results"]), page["next"] is not None) == (121, 100, True)
    assert [row["measurand"] for row in soc["results"]] == ["SoC"]


def test_an_outsider_gets_404_for_the_meter_values(other_org, station):
    session = completed(station)
    MeterValueFactory(session=session)
    response = client_as(other_org).get(f"{LIST}{session.pk}/meter-values/")
    assert response.status_code == 404


# --- stop billing ------------------------------------------------------------------------------


def stop_billing_url(session):
    return f"{LIST}{session.pk}/stop-billing/"


def test_stopping_billing_marks_the_session_unbillable_and_logs_who_and_why(org, station):
    user = member((org, Role.OPERATOR))
    client = APIClient()
    client.force_authenticate(user)
    session = running(station, transaction_id="81")

    response = client.post(stop_billing_url(session), {"reason": " Meter fault "}, format="json")

    assert response.status_code == 200, response.data
    session.refresh_from_db()
    assert (session.billable, session.billing_stopped, session.billing_stopped_by) == (
        False,
        True,
        user,
    )
    assert session.billing_stopped_reason == "Meter fault"
    assert (response.data["billing_stopped"], response.data["billing_stopped_by"]) == (
        True,
        user.username,
    )
    log = CommandLog.objects.get(command="stop_billing")
    assert (log.session, log.requested_by, log.requested_via, log.status) == (
        session,
        user,
        "user",
        "accepted",
    )


def test_an_api_key_stops_billing_and_the_log_names_the_key(org, station):
    key, secret = make_api_key(org, role=Role.OPERATOR, name="ERP")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    session = running(station)

    response = client.post(stop_billing_url(session), {"reason": "Meter fault"}, format="json")

    assert response.status_code == 200, response.data
    session.refresh_from_db()
    assert (session.billing_stopped, session.billing_stopped_by) == (True, None)
    log = CommandLog.objects.get(command="stop_billing")
    assert (log.api_key, log.requested_by, log.requested_via) == (key, None, "api_key")


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 256}])
def test_stopping_billing_needs_a_reason(operator, station, body):
    session = running(station)
    response = operator.post(stop_billing_url(session), body, format="json")
    assert (response.status_code, list(response.data)) == (400, ["reason"])
    session.refresh_from_db()
    assert session.billing_stopped is False
    assert not CommandLog.objects.exists()


def test_stopping_billing_twice_is_a_409_and_the_first_decision_stands(org, operator, station):
    session = running(station)
    operator.post(stop_billing_url(session), {"reason": "First"}, format="json")

    response = operator.post(stop_billing_url(session), {"reason": "Second"}, format="json")

    assert response.status_code == 409
    assert response.data == {"detail": "Billing of this session is already stopped."}
    session.refresh_from_db()
    assert session.billing_stopped_reason == "First"
    assert CommandLog.objects.count() == 1


def test_stopping_billing_of_a_priced_finished_session_credits_it_and_its_cost_is_zero(
    operator, station
):
    session = completed(station)
    charge(session, "5.5692")

    response = operator.post(stop_billing_url(session), {"reason": "Late"}, format="json")

    assert response.status_code == 200, response.data
    assert (response.data["billing_stopped"], response.data["cost"]) == (True, "0.0000")
    credit = ChargeDetailRecord.objects.get(kind="credit")
    assert (credit.corrects.session, credit.total_incl_tax) == (session, Decimal("-5.5692"))


def test_a_session_of_a_roaming_partner_names_it(viewer, org, station):
    partner = RoamingPartner.objects.create(
        organization=org, name="Hubject", country_code="DE", party_id="HUB"
    )
    session = completed(station, roaming_partner=partner)

    assert viewer.get(f"{LIST}{session.pk}/").data["roaming_partner"] == partner.pk


def test_a_viewer_may_not_stop_billing(viewer, station):
    session = running(station)
    response = viewer.post(stop_billing_url(session), {"reason": "Meter fault"}, format="json")
    assert response.status_code == 403
    session.refresh_from_db()
    assert session.billing_stopped is False


# --- remote stop -------------------------------------------------------------------------------


def stop_url(session):
    return f"{LIST}{session.pk}/stop/"


def test_stopping_a_finished_session_is_a_409(operator, station):
    response = operator.post(stop_url(completed(station)), format="json")
    assert (response.status_code, response.data) == (409, {"detail": "The session is not running."})
    assert not CommandLog.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_stopping_a_session_on_an_offline_station_is_a_409_and_sends_nothing(operator, station):
    response = operator.post(stop_url(running(station)), format="json")
    assert (response.status_code, response.data) == (409, {"detail": "The station is offline."})
    assert not CommandLog.objects.exists()


class StoppableStation(Station):
    """A 1.6 station that accepts RemoteStopTransaction and notes what it received."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.received = []

    @on(Action.remote_stop_transaction)
    def on_remote_stop_transaction(self, transaction_id, **_):
        self.received.append(("RemoteStopTransaction", transaction_id))
        return call_result.RemoteStopTransaction(status="Accepted")


async def test_stop_sends_remote_stop_for_the_sessions_transaction(ocpp_server, org, db_call):
    def build():
        station = ChargingStationFactory(organization=org, ocpp_id="CS-STOP")
        # Another session on the other connector, which must keep running.
        running(station, connector=station.connectors.get(connector_id=1), transaction_id="17")
        meant = running(
            station, connector=station.connectors.get(connector_id=2), transaction_id="4711"
        )
        return meant, client_as(org, Role.OPERATOR)

    session, operator = await db_call(build)
    async with connected_station(ocpp_server, "CS-STOP", cls=StoppableStation) as cp:
        response = await in_thread(operator, "post", stop_url(session))

    assert response.status_code == 200, response.data
    assert cp.received == [("RemoteStopTransaction", 4711)]
    assert (response.data["command"], response.data["status"]) == ("stop_charging", "accepted")
