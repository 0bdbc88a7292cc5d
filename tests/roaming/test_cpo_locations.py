"""OCPI 2.2.1 Locations of our CPO role: sites as locations, GET with paging, pushes to partners."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial

import pytest
from django.utils import timezone

from core.events import Event
from roaming import tasks
from roaming.choices import Direction, InterfaceRole, Module, PushStatus
from roaming.models import OcpiExchange, OcpiPush, PartnerLocation
from roaming.ocpi import tokens
from roaming.ocpi.v221 import schemas
from roaming.ocpi.v221.cpo.locations import build_push
from roaming.ocpi.v221.mapping import location_to_ocpi
from roaming.subscribers import push_evse_statuses
from stations.choices import ConnectionState, ConnectorStatus, ConnectorType
from stations.models import ChargingStation, Connector, Evse, Site
from stations.services import StatusReport, record_status_reports
from tests.factories import ChargingStationFactory, SiteFactory, TariffFactory
from tests.roaming.conftest import connected_partner, make_profile

LIST = "/ocpi/{org}/2.2.1/cpo/locations/"


def ocpi_get(client, partner, path="", **params):
    """GET one of our CPO locations URLs as the partner."""
    url = LIST.format(org=partner.organization.slug) + path
    auth = f"Token {tokens.encode(partner.token)}"
    return client.get(url, params, HTTP_AUTHORIZATION=auth)


def roaming_site(organization, **fields):
    """A site with roaming on and coordinates: published."""
    values = {
        "roaming_enabled": True,
        "latitude": Decimal("52.520008"),
        "longitude": Decimal("13.404954"),
        "street": "Alexanderplatz 1",
        "postal_code": "10178",
        "city": "Berlin",
        "country": "DE",
        **fields,
    }
    return SiteFactory(organization=organization, **values)


def online_station(site, **fields):
    """An online station with two connectors (each on its own EVSE) at the site."""
    fields.setdefault("connection_state", ConnectionState.ONLINE)
    return ChargingStationFactory(organization=site.organization, site=site, **fields)


@pytest.fixture
def profile(org):
    return make_profile(org, "DE", "CPO", website="https://stadtwerke.example")


@pytest.fixture
def partner(org, profile):
    return connected_partner(org)


# --- mapping ------------------------------------------------------------------------------------


def test_a_roaming_site_is_a_valid_location_with_our_party_and_address(org, profile, partner):
    site = roaming_site(org, name="Rathaus")
    online_station(site)
    location = location_to_ocpi(site, profile, partner)
    schemas.check("Location", location)
    assert (location["country_code"], location["party_id"], location["id"]) == (
        "DE",
        "CPO",
        str(site.pk),
    )
    assert (location["address"], location["postal_code"], location["city"]) == (
        "Alexanderplatz 1",
        "10178",
        "Berlin",
    )
    assert location["country"] == "DEU"
    assert location["coordinates"] == {"latitude": "52.520008", "longitude": "13.404954"}
    assert location["time_zone"] == org.timezone
    assert location["operator"] == {"name": org.name, "website": "https://stadtwerke.example"}
    assert location["publish"] is True


def test_a_site_without_country_is_in_our_partys_country(org, profile, partner):
    site = roaming_site(org, country="")
    assert location_to_ocpi(site, profile, partner)["country"] == "DEU"


def test_a_site_in_austria_is_published_with_the_alpha_3_code(org, profile, partner):
    site = roaming_site(org, country="AT")
    assert location_to_ocpi(site, profile, partner)["country"] == "AUT"


def test_each_evse_row_is_an_evse_with_its_emi3_id(org, profile, partner):
    site = roaming_site(org)
    station = online_station(site)
    evses = location_to_ocpi(site, profile, partner)["evses"]
    rows = list(Evse.objects.filter(station=station).order_by("evse_number"))
    assert [evse["uid"] for evse in evses] == [str(row.pk) for row in rows]
    assert [evse["evse_id"] for evse in evses] == [row.evse_id for row in rows]
    assert evses[0]["capabilities"] == [
        "RFID_READER",
        "REMOTE_START_STOP_CAPABLE",
        "RESERVABLE",
        "UNLOCK_CAPABLE",
    ]


def test_an_evse_without_emi3_id_gets_one_made_from_our_party(org, profile, partner):
    site = roaming_site(org)
    station = online_station(site, connectors=1)
    evse = Evse.objects.get(station=station)
    Evse.objects.filter(pk=evse.pk).update(evse_id="")
    published = location_to_ocpi(site, profile, partner)["evses"][0]
    assert published["evse_id"] == f"DE*CPO*E{evse.pk}"


def test_a_connector_on_no_evse_row_is_an_evse_of_its_own(org, profile, partner):
    site = roaming_site(org)
    station = online_station(site, connectors=0)
    connector = Connector.objects.create(station=station, connector_id=1)
    published = location_to_ocpi(site, profile, partner)["evses"]
    assert [(e["uid"], e["evse_id"]) for e in published] == [
        (f"C{connector.pk}", f"DE*CPO*EC{connector.pk}")
    ]
    assert published[0]["connectors"][0]["id"] == "1"


def test_the_connectors_of_one_2_0_1_evse_are_one_evse(org, profile, partner):
    site = roaming_site(org)
    station = online_station(site, connectors=0)
    evse = Evse.objects.create(station=station, evse_number=1, evse_id="DE*CPO*E77")
    Connector.objects.create(station=station, evse=evse, connector_id=1, evse_connector_id=1)
    Connector.objects.create(
        station=station,
        evse=evse,
        connector_id=2,
        evse_connector_id=2,
        connector_type=ConnectorType.CCS2,
    )
    (published,) = location_to_ocpi(site, profile, partner)["evses"]
    assert [c["id"] for c in published["connectors"]] == ["1", "2"]
    assert [c["standard"] for c in published["connectors"]] == [
        "IEC_62196_T2",
        "IEC_62196_T2_COMBO",
    ]


@pytest.mark.parametrize(
    ("plug", "power_kw", "expected"),
    [
        (ConnectorType.TYPE2, Decimal("11"), ("IEC_62196_T2", "SOCKET", "AC_3_PHASE", 230, 16)),
        (ConnectorType.TYPE2, None, ("IEC_62196_T2", "SOCKET", "AC_3_PHASE", 230, 32)),
        (ConnectorType.TYPE2_CABLE, None, ("IEC_62196_T2", "CABLE", "AC_3_PHASE", 230, 32)),
        (ConnectorType.SCHUKO, None, ("DOMESTIC_F", "SOCKET", "AC_1_PHASE", 230, 16)),
        (ConnectorType.TYPE1, None, ("IEC_62196_T1", "CABLE", "AC_1_PHASE", 230, 32)),
        (ConnectorType.CCS2, Decimal("150"), ("IEC_62196_T2_COMBO", "CABLE", "DC", 920, 163)),
        (ConnectorType.CHADEMO, None, ("CHADEMO", "CABLE", "DC", 500, 100)),
    ],
)
def test_a_connector_is_published_with_its_plugs_ratings(
    org, profile, partner, plug, power_kw, expected
):
    site = roaming_site(org)
    station = online_station(site, connectors=1)
    Connector.objects.filter(station=station).update(connector_type=plug, max_power_kw=power_kw)
    connector = location_to_ocpi(site, profile, partner)["evses"][0]["connectors"][0]
    schemas.check("Connector", connector)
    fields = ("standard", "format", "power_type", "max_voltage", "max_amperage")
    assert tuple(connector[field] for field in fields) == expected
    if power_kw is not None:
        assert connector["max_electric_power"] == int(power_kw * 1000)


def test_a_connector_of_a_plug_ocpi_cannot_name_is_not_published(org, profile, partner):
    site = roaming_site(org)
    station = online_station(site, connectors=2)
    Connector.objects.filter(station=station, connector_id=2).update(
        connector_type=ConnectorType.OTHER
    )
    evses = location_to_ocpi(site, profile, partner)["evses"]
    assert len(evses) == 1


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (ConnectorStatus.AVAILABLE, "AVAILABLE"),
        (ConnectorStatus.PREPARING, "CHARGING"),
        (ConnectorStatus.CHARGING, "CHARGING"),
        (ConnectorStatus.SUSPENDED_EV, "CHARGING"),
        (ConnectorStatus.FINISHING, "CHARGING"),
        (ConnectorStatus.OCCUPIED, "CHARGING"),
        (ConnectorStatus.RESERVED, "RESERVED"),
        (ConnectorStatus.UNAVAILABLE, "INOPERATIVE"),
        (ConnectorStatus.FAULTED, "OUTOFORDER"),
        (ConnectorStatus.UNKNOWN, "UNKNOWN"),
    ],
)
def test_an_evse_status_follows_its_connectors_status(org, profile, partner, status, expected):
    site = roaming_site(org)
    station = online_station(site, connectors=1)
    Connector.objects.filter(station=station).update(status=status)
    assert location_to_ocpi(site, profile, partner)["evses"][0]["status"] == expected


def test_the_evses_of_an_offline_station_are_unknown(org, profile, partner):
    site = roaming_site(org)
    station = online_station(site, connectors=1, connection_state=ConnectionState.OFFLINE)
    Connector.objects.filter(station=station).update(status=ConnectorStatus.AVAILABLE)
    assert location_to_ocpi(site, profile, partner)["evses"][0]["status"] == "UNKNOWN"


def test_a_station_unavailable_as_a_whole_makes_its_evses_inoperative(org, profile, partner):
    site = roaming_site(org)
    station = online_station(site, connectors=1, status=ConnectorStatus.UNAVAILABLE)
    Connector.objects.filter(station=station).update(status=ConnectorStatus.AVAILABLE)
    assert location_to_ocpi(site, profile, partner)["evses"][0]["status"] == "INOPERATIVE"


def test_connectors_carry_the_tariff_published_to_the_partner_asking(org, profile, client):
    site = roaming_site(org)
    online_station(site, connectors=1)
    tariff = TariffFactory(organization=org)
    with_tariff = connected_partner(org, "NL", "AAA", tariff=tariff)
    without = connected_partner(org, "NL", "BBB")

    def connector(partner):
        location = ocpi_get(client, partner, f"{site.pk}").json()["data"]
        return location["evses"][0]["connectors"][0]

    assert connector(with_tariff)["tariff_ids"] == [str(tariff.pk)]
    assert "tariff_ids" not in connector(without)


# --- GET ----------------------------------------------------------------------------------------


def test_the_list_is_paged_with_link_total_count_and_limit(org, partner, client):
    sites = [roaming_site(org, name=f"Site {n}") for n in range(3)]
    first = ocpi_get(client, partner, limit=2)
    assert first.status_code == 200
    assert [loc["id"] for loc in first.json()["data"]] == [str(s.pk) for s in sites[:2]]
    assert first["X-Total-Count"] == "3"
    assert first["X-Limit"] == "100"
    next_url = first["Link"].split(";")[0].strip("<>")
    assert "offset=2" in next_url
    second = client.get(next_url, HTTP_AUTHORIZATION=f"Token {tokens.encode(partner.token)}")
    assert [loc["id"] for loc in second.json()["data"]] == [str(sites[2].pk)]
    assert "Link" not in second


def test_every_listed_location_is_valid(org, partner, client):
    online_station(roaming_site(org))
    for location in ocpi_get(client, partner).json()["data"]:
        schemas.check("Location", location)


def test_the_list_filters_on_last_updated(org, partner, client):
    old, new = roaming_site(org, name="Old"), roaming_site(org, name="New")
    Site.objects.filter(pk=old.pk).update(updated=datetime(2026, 1, 1, tzinfo=UTC))
    Site.objects.filter(pk=new.pk).update(updated=datetime(2026, 3, 1, tzinfo=UTC))
    since = ocpi_get(client, partner, date_from="2026-02-01T00:00:00Z").json()["data"]
    until = ocpi_get(client, partner, date_to="2026-02-01T00:00:00Z").json()["data"]
    assert [loc["id"] for loc in since] == [str(new.pk)]
    assert [loc["id"] for loc in until] == [str(old.pk)]


def test_a_connector_status_change_makes_the_location_newer(org, partner, client):
    site = roaming_site(org)
    station = online_station(site, connectors=1)
    Site.objects.filter(pk=site.pk).update(updated=datetime(2026, 1, 1, tzinfo=UTC))
    ChargingStation.objects.filter(pk=station.pk).update(updated=datetime(2026, 1, 1, tzinfo=UTC))
    Connector.objects.filter(station=station).update(status_at=datetime(2026, 3, 1, tzinfo=UTC))
    found = ocpi_get(client, partner, date_from="2026-02-01T00:00:00Z").json()["data"]
    assert [loc["id"] for loc in found] == [str(site.pk)]
    assert found[0]["last_updated"] == "2026-03-01T00:00:00Z"


def test_a_date_that_is_no_date_is_refused_with_2001(partner, client):
    answer = ocpi_get(client, partner, date_from="yesterday")
    assert answer.status_code == 400
    assert answer.json()["status_code"] == 2001


def test_the_list_costs_the_same_queries_for_many_sites(
    org, partner, client, django_assert_max_num_queries
):
    for number in range(5):
        online_station(roaming_site(org, name=f"Site {number}"))
    # Organization, partner, profile; count, sites, stations, connectors; the exchange log.
    with django_assert_max_num_queries(13):
        answer = ocpi_get(client, partner)
    assert len(answer.json()["data"]) == 5


def test_a_site_without_roaming_is_neither_listed_nor_found(org, partner, client):
    site = roaming_site(org, roaming_enabled=False)
    assert ocpi_get(client, partner).json()["data"] == []
    answer = ocpi_get(client, partner, f"{site.pk}")
    assert answer.status_code == 404
    assert answer.json()["status_code"] == 2003


def test_a_site_without_coordinates_is_not_published(org, partner, client):
    site = roaming_site(org, latitude=None, longitude=None)
    assert ocpi_get(client, partner).json()["data"] == []
    assert ocpi_get(client, partner, f"{site.pk}").json()["status_code"] == 2003


def test_another_organizations_site_is_neither_listed_nor_found(partner, other_org, client):
    theirs = roaming_site(other_org)
    online_station(theirs)
    assert ocpi_get(client, partner).json()["data"] == []
    answer = ocpi_get(client, partner, f"{theirs.pk}")
    assert (answer.status_code, answer.json()["status_code"]) == (404, 2003)


def test_an_unknown_location_id_answers_2003(partner, client):
    assert ocpi_get(client, partner, "no-such-site").json()["status_code"] == 2003


def test_one_evse_and_one_connector_are_found_by_their_ids(org, partner, client):
    site = roaming_site(org)
    station = online_station(site, connectors=1)
    evse = Evse.objects.get(station=station)
    found = ocpi_get(client, partner, f"{site.pk}/{evse.pk}").json()["data"]
    assert (found["uid"], found["evse_id"]) == (str(evse.pk), evse.evse_id)
    schemas.check("EVSE", found)
    connector = ocpi_get(client, partner, f"{site.pk}/{evse.pk}/1").json()["data"]
    assert connector["id"] == "1"
    schemas.check("Connector", connector)


def test_an_unknown_evse_or_connector_answers_2003(org, partner, client):
    site = roaming_site(org)
    station = online_station(site, connectors=1)
    evse = Evse.objects.get(station=station)
    for path in (f"{site.pk}/999999", f"{site.pk}/{evse.pk}/9"):
        answer = ocpi_get(client, partner, path)
        assert (answer.status_code, answer.json()["status_code"]) == (404, 2003)


def test_an_evse_of_another_site_is_not_found_at_this_one(org, partner, client):
    site, other = roaming_site(org), roaming_site(org)
    evse = Evse.objects.get(station=online_station(other, connectors=1))
    assert ocpi_get(client, partner, f"{site.pk}/{evse.pk}").json()["status_code"] == 2003


def test_without_a_cpo_role_nothing_is_published(org, profile, partner, client):
    roaming_site(org)
    profile.cpo_enabled = False
    profile.save()
    assert ocpi_get(client, partner).status_code == 404


# --- pushes over HTTP -----------------------------------------------------------------------------


def pushes(ocpi_pair, **filters):
    return list(
        OcpiExchange.objects.filter(
            partner=ocpi_pair.emsp_at_cpo,
            direction=Direction.OUTGOING,
            module=Module.LOCATIONS,
            **filters,
        ).order_by("pk")
    )


def test_switching_roaming_on_puts_the_location_to_the_partner(ocpi_pair):
    site = roaming_site(ocpi_pair.cpo, roaming_enabled=False, name="Rathaus")
    online_station(site, connectors=1)
    site.roaming_enabled = True
    site.save()
    (sent,) = pushes(ocpi_pair, method="PUT")
    receiver = ocpi_pair.emsp_at_cpo.endpoint(Module.LOCATIONS, InterfaceRole.RECEIVER)
    assert sent.url == f"{receiver}DE/CPO/{site.pk}"
    assert sent.ocpi_status == 1000
    push = OcpiPush.objects.get(partner=ocpi_pair.emsp_at_cpo, module=Module.LOCATIONS)
    assert push.status == PushStatus.SENT
    stored = PartnerLocation.objects.get(partner=ocpi_pair.cpo_at_emsp, ocpi_id=str(site.pk))
    assert stored.name == "Rathaus"
    assert len(stored.data["evses"]) == 1


def test_a_site_without_roaming_is_never_pushed(ocpi_pair):
    site = roaming_site(ocpi_pair.cpo, roaming_enabled=False)
    online_station(site)
    site.name = "Renamed"
    site.save()
    assert pushes(ocpi_pair) == []
    assert not OcpiPush.objects.exists()


def test_a_status_change_patches_the_evse_status(ocpi_pair):
    site = roaming_site(ocpi_pair.cpo)
    station = online_station(site, connectors=1)
    evse = Evse.objects.get(station=station)
    record_status_reports([StatusReport(station, 1, ConnectorStatus.AVAILABLE)])
    record_status_reports([StatusReport(station, 1, ConnectorStatus.CHARGING)])
    patch = pushes(ocpi_pair, method="PATCH")[-1]
    assert patch.url.endswith(f"/DE/CPO/{site.pk}/{evse.pk}")
    assert '"status": "CHARGING"' in patch.request_body
    stored = PartnerLocation.objects.get(partner=ocpi_pair.cpo_at_emsp, ocpi_id=str(site.pk))
    assert stored.data["evses"][0]["status"] == "CHARGING"


def test_a_status_change_at_a_site_without_roaming_is_not_pushed(ocpi_pair):
    station = online_station(roaming_site(ocpi_pair.cpo, roaming_enabled=False), connectors=1)
    record_status_reports([StatusReport(station, 1, ConnectorStatus.CHARGING)])
    assert not OcpiPush.objects.exists()


def test_switching_roaming_off_pushes_the_evses_as_removed(ocpi_pair):
    site = roaming_site(ocpi_pair.cpo, roaming_enabled=False)
    station = online_station(site, connectors=2)
    site.roaming_enabled = True
    site.save()
    site.roaming_enabled = False
    site.save()
    removed = pushes(ocpi_pair, method="PATCH")
    uids = {str(pk) for pk in Evse.objects.filter(station=station).values_list("pk", flat=True)}
    assert {exchange.url.rsplit("/", 1)[1] for exchange in removed} == uids
    assert all('"status": "REMOVED"' in exchange.request_body for exchange in removed)
    stored = PartnerLocation.objects.get(partner=ocpi_pair.cpo_at_emsp, ocpi_id=str(site.pk))
    assert {evse["status"] for evse in stored.data["evses"]} == {"REMOVED"}


def test_a_partner_down_is_retried_later_and_then_sent_the_newest_state(ocpi_pair):
    partner = ocpi_pair.emsp_at_cpo
    working = list(partner.endpoints)
    partner.endpoints = [
        {**e, "url": "http://127.0.0.1:9/down/"} if e["identifier"] == Module.LOCATIONS else e
        for e in working
    ]
    partner.save()
    site = roaming_site(ocpi_pair.cpo, name="First name")
    push = OcpiPush.objects.get(partner=partner, module=Module.LOCATIONS)
    assert push.status == PushStatus.RETRYING
    assert push.next_attempt_at > timezone.now()
    site.name = "Second name"
    site.save()
    # A change while the partner is down does not bring the next attempt forward.
    assert OcpiPush.objects.get(pk=push.pk).next_attempt_at == push.next_attempt_at
    partner.endpoints = working
    partner.save()
    OcpiPush.objects.filter(pk=push.pk).update(next_attempt_at=timezone.now() - timedelta(1))
    tasks.deliver_due_pushes()
    push.refresh_from_db()
    assert push.status == PushStatus.SENT
    assert '"name": "Second name"' in pushes(ocpi_pair, method="PUT")[-1].request_body
    stored = PartnerLocation.objects.get(partner=ocpi_pair.cpo_at_emsp, ocpi_id=str(site.pk))
    assert stored.name == "Second name"


# --- what is owed when (planned in the outbox, built as the partner will get it) -----------------

# Nothing listens there: a push that is tried fails at once and waits as "retrying".
RECEIVER = "http://127.0.0.1:9/ocpi/emsp/locations/"


@pytest.fixture
def receiving(org, profile):
    """An active partner with a locations receiver (no HTTP exchange succeeds here)."""
    return connected_partner(
        org,
        "NL",
        "RCV",
        endpoints=[{"identifier": "locations", "role": "RECEIVER", "url": RECEIVER}],
    )


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run what waits for the commit (the roaming signals plan their pushes then)."""
    return partial(django_capture_on_commit_callbacks, execute=True)


def owed(partner):
    return set(
        OcpiPush.objects.filter(
            partner=partner,
            module=Module.LOCATIONS,
            status__in=(PushStatus.PENDING, PushStatus.RETRYING),
        ).values_list("object_key", flat=True)
    )


def status_changed(station, status):
    """The station's connector 1 reports a status; the roaming subscriber gets the event."""
    record_status_reports([StatusReport(station, 1, status)])
    connector = Connector.objects.get(station=station, connector_id=1)
    data = {"organization_id": station.organization_id, "station_id": station.pk}
    push_evse_statuses([Event("station.status_changed", {**data, "connector_id": connector.pk})])


def built(partner, key):
    push = OcpiPush.objects.get(partner=partner, module=Module.LOCATIONS, object_key=key)
    return build_push(push, partner.organization.roaming_profile)


def test_status_events_of_an_organization_without_partners_cost_no_query(
    org, profile, django_assert_num_queries
):
    station = online_station(roaming_site(org), connectors=1)
    event = Event(
        "station.status_changed",
        {"organization_id": org.pk, "station_id": station.pk, "connector_id": None},
    )
    push_evse_statuses([event])  # the first batch learns there is nobody to push to
    with django_assert_num_queries(0):
        push_evse_statuses([event] * 50)


def test_writing_stations_and_sites_costs_no_query_for_roaming(
    org, receiving, django_assert_num_queries
):
    site = roaming_site(org)
    station = online_station(site, connectors=1)
    # The pushes are planned after the commit: the writes themselves pay nothing for them.
    with django_assert_num_queries(1):
        site.save()
    with django_assert_num_queries(1):
        station.save(update_fields=["vendor"])


def test_a_new_station_at_a_published_site_owes_the_whole_location(org, receiving, committed):
    with committed():
        site = roaming_site(org)
    OcpiPush.objects.all().delete()
    with committed():
        online_station(site, connectors=1)
    assert owed(receiving) == {str(site.pk)}
    call = built(receiving, str(site.pk))
    assert (call.method, call.url) == ("PUT", f"{RECEIVER}DE/CPO/{site.pk}")
    assert len(call.body["evses"]) == 1


def test_an_evse_status_is_patched_once_the_partner_has_the_location(org, receiving):
    site = roaming_site(org)
    station = online_station(site, connectors=1)
    evse = Evse.objects.get(station=station)
    OcpiPush.objects.create(
        organization=org,
        partner=receiving,
        module=Module.LOCATIONS,
        object_key=str(site.pk),
        status=PushStatus.SENT,
    )
    status_changed(station, ConnectorStatus.FAULTED)
    assert owed(receiving) == {f"{site.pk}/{evse.pk}"}
    call = built(receiving, f"{site.pk}/{evse.pk}")
    assert (call.method, call.url) == ("PATCH", f"{RECEIVER}DE/CPO/{site.pk}/{evse.pk}")
    assert call.body["status"] == "OUTOFORDER"
    assert set(call.body) == {"status", "last_updated"}


def test_an_evse_status_owed_before_the_location_was_sent_sends_the_location(org, receiving):
    site = roaming_site(org)
    station = online_station(site, connectors=1)
    evse = Evse.objects.get(station=station)
    status_changed(station, ConnectorStatus.CHARGING)
    call = built(receiving, f"{site.pk}/{evse.pk}")
    assert (call.method, call.url) == ("PUT", f"{RECEIVER}DE/CPO/{site.pk}")


def test_a_station_going_offline_owes_its_evses_as_unknown(org, receiving):
    site = roaming_site(org)
    station = online_station(site, connectors=2)
    OcpiPush.objects.create(
        organization=org,
        partner=receiving,
        module=Module.LOCATIONS,
        object_key=str(site.pk),
        status=PushStatus.SENT,
    )
    ChargingStation.objects.filter(pk=station.pk).update(connection_state=ConnectionState.OFFLINE)
    push_evse_statuses(
        [Event("station.disconnected", {"organization_id": org.pk, "station_id": station.pk})]
    )
    uids = Evse.objects.filter(station=station).values_list("pk", flat=True)
    assert owed(receiving) == {f"{site.pk}/{uid}" for uid in uids}
    assert {built(receiving, key).body["status"] for key in owed(receiving)} == {"UNKNOWN"}


def test_a_station_moved_to_another_site_is_removed_from_the_old_one(org, receiving, committed):
    old, new = roaming_site(org, name="Old"), roaming_site(org, name="New")
    station = online_station(old, connectors=1)
    evse = Evse.objects.get(station=station)
    station = ChargingStation.objects.get(pk=station.pk)
    station.site = new
    with committed():
        station.save()
    assert owed(receiving) == {str(new.pk), f"{old.pk}/{evse.pk}"}
    removal = built(receiving, f"{old.pk}/{evse.pk}")
    assert (removal.method, removal.body["status"]) == ("PATCH", "REMOVED")


def test_a_deleted_connector_is_pushed_as_removed(org, receiving, committed):
    site = roaming_site(org)
    station = online_station(site, connectors=2)
    connector = Connector.objects.get(station=station, connector_id=2)
    evse_id = connector.evse_id
    with committed():
        connector.delete()
    assert owed(receiving) == {f"{site.pk}/{evse_id}"}
    assert built(receiving, f"{site.pk}/{evse_id}").body["status"] == "REMOVED"


def test_a_partner_without_a_locations_receiver_is_owed_nothing(org, profile, committed):
    pulling = connected_partner(org, "NL", "PUL")  # pulls only
    with committed():
        online_station(roaming_site(org))
    assert not OcpiPush.objects.filter(partner=pulling).exists()


def test_an_active_partner_with_a_receiver_is_owed_a_new_roaming_site(org, receiving, committed):
    with committed():
        site = roaming_site(org)
    assert owed(receiving) == {str(site.pk)}


def test_a_status_batch_hands_the_planning_to_one_task_per_roaming_organization(
    org, receiving, monkeypatch
):
    station = online_station(roaming_site(org), connectors=2)
    sent = []
    monkeypatch.setattr(tasks.plan_evse_statuses, "delay", lambda *ids: sent.append(ids))
    connectors = list(Connector.objects.filter(station=station).order_by("pk"))
    data = {"organization_id": org.pk, "station_id": station.pk}
    push_evse_statuses(
        [Event("station.status_changed", {**data, "connector_id": c.pk}) for c in connectors]
    )
    # Nothing planned on the writer's thread: one task per organization and batch.
    assert sent == [(org.pk, [c.pk for c in connectors], [])]
    assert owed(receiving) == set()


def test_a_status_batch_the_broker_refuses_is_planned_at_once_not_lost(org, receiving, monkeypatch):
    site = roaming_site(org)
    station = online_station(site, connectors=1)
    evse = Evse.objects.get(station=station)

    def broker_down(*ids):
        raise ConnectionError("Redis is away")

    monkeypatch.setattr(tasks.plan_evse_statuses, "delay", broker_down)
    status_changed(station, ConnectorStatus.FAULTED)
    assert owed(receiving) == {f"{site.pk}/{evse.pk}"}


def test_pushes_sent_longer_ago_than_the_retention_are_forgotten(org, receiving, settings):
    settings.OCPI_LOG_RETENTION_DAYS = 30
    old, recent, owed_row = (
        OcpiPush.objects.create(
            organization=org,
            partner=receiving,
            module=Module.LOCATIONS,
            object_key=key,
            status=status,
        )
        for key, status in (("1", PushStatus.SENT), ("2", PushStatus.SENT), ("3", "pending"))
    )
    long_ago = timezone.now() - timedelta(days=31)
    OcpiPush.objects.filter(pk__in=[old.pk, owed_row.pk]).update(updated=long_ago)

    assert tasks.purge_exchange_log() == 1
    assert set(OcpiPush.objects.values_list("pk", flat=True)) == {recent.pk, owed_row.pk}
