"""Portal site pages: My sites with their state, and the Overview, Sheet, Configuration and
EVSE controller tabs of a site."""

from decimal import Decimal

import pytest
from django.test import Client

from organizations.choices import Role
from stations.choices import ConnectorStatus
from stations.models import Connector, Site
from tests.factories import AccessGroupFactory, ChargingStationFactory, SiteFactory
from tests.portalclients import ROLES, org_url, portal_client

pytestmark = pytest.mark.django_db

# Every tab of a site page this app serves, by the path after sites/<pk>/.
TABS = ["", "sheet/", "configuration/", "controllers/"]


def site_url(site, tab: str = "") -> str:
    return org_url(site.organization, f"sites/{site.pk}/{tab}")


def connected_station(site, **fields):
    """A station of the site holding a connection to us, with two connectors."""
    return ChargingStationFactory(
        organization=site.organization, site=site, connection_state="online", **fields
    )


def listed_states(client, org) -> dict[str, str]:
    """Site name -> the state its badge shows on My sites."""
    sites = client.get(org_url(org, "sites/")).context["sites"]
    return {site.name: site.state["value"] for site in sites}


def config_data(groups=(), roaming=False, scan2pay=False, capacity=""):
    data = {"access_groups": [group.pk for group in groups], "grid_capacity_kw": capacity}
    if roaming:
        data["roaming_enabled"] = "on"
    if scan2pay:
        data["scan2pay_enabled"] = "on"
    return data


def details_data(site, **changes):
    data = {
        "name": site.name,
        "street": site.street,
        "postal_code": site.postal_code,
        "city": site.city,
        "country": site.country,
        "latitude": "",
        "longitude": "",
        "provider": site.provider,
    }
    data.update(changes)
    return data


# --- Every page, every role, and the tenancy -------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_site_list_renders_for_every_role(org, role):
    SiteFactory(organization=org, name="Depot")
    response = portal_client(org, role).get(org_url(org, "sites/"))
    assert response.status_code == 200
    assert [site.name for site in response.context["sites"]] == ["Depot"]
    assert response.context["section"] == "sites"


@pytest.mark.parametrize("tab", TABS)
@pytest.mark.parametrize("role", ROLES)
def test_every_site_tab_renders_for_every_role(org, role, tab):
    site = SiteFactory(organization=org)
    connected_station(site)
    response = portal_client(org, role).get(site_url(site, tab))
    assert response.status_code == 200
    assert response.context["site"] == site


@pytest.mark.parametrize("tab", TABS)
def test_another_organizations_site_is_404_on_every_tab(org, other_org, tab):
    theirs = SiteFactory(organization=other_org)
    response = portal_client(org, Role.OWNER).get(org_url(org, f"sites/{theirs.pk}/{tab}"))
    assert response.status_code == 404


@pytest.mark.parametrize("tab", TABS)
def test_a_site_that_does_not_exist_is_404_on_every_tab(org, tab):
    response = portal_client(org, Role.OWNER).get(org_url(org, f"sites/999999/{tab}"))
    assert response.status_code == 404


@pytest.mark.parametrize("tab", ["sites/", *[f"sites/{{pk}}/{tab}" for tab in TABS]])
def test_outsider_gets_404_for_every_site_page_of_the_organization(org, other_org, tab):
    site = SiteFactory(organization=org)
    outsider = portal_client(other_org, Role.OWNER)
    assert outsider.get(org_url(org, tab.format(pk=site.pk))).status_code == 404


def test_site_list_shows_only_the_organizations_own_sites(org, other_org):
    SiteFactory(organization=org, name="Mine")
    SiteFactory(organization=other_org, name="Theirs")
    body = portal_client(org).get(org_url(org, "sites/")).content.decode()
    assert "Mine" in body
    assert "Theirs" not in body


def test_anonymous_visitor_is_sent_to_log_in(org):
    site = SiteFactory(organization=org)
    response = Client().get(site_url(site))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# --- My sites: the state of each site --------------------------------------------------------


def test_a_site_with_a_connected_station_and_a_free_connector_is_available(org):
    site = SiteFactory(organization=org, name="Depot")
    station = connected_station(site)
    Connector.objects.filter(station=station, connector_id=1).update(status="Charging")
    assert listed_states(portal_client(org), org) == {"Depot": "Available"}


def test_a_site_without_stations_is_unknown(org):
    SiteFactory(organization=org, name="Empty")
    assert listed_states(portal_client(org), org) == {"Empty": "Unknown"}


def test_a_site_whose_stations_are_all_disconnected_is_unknown(org):
    site = SiteFactory(organization=org, name="Dark")
    ChargingStationFactory(organization=org, site=site, connection_state="offline")
    assert listed_states(portal_client(org), org) == {"Dark": "Unknown"}


def test_a_site_whose_every_connector_is_in_use_is_load(org):
    site = SiteFactory(organization=org, name="Busy")
    first, second = connected_station(site), connected_station(site)
    Connector.objects.filter(station=first).update(status="Charging")
    Connector.objects.filter(station=second, connector_id=1).update(status="SuspendedEV")
    Connector.objects.filter(station=second, connector_id=2).update(status="Preparing")
    assert listed_states(portal_client(org), org) == {"Busy": "Load"}


def test_site_list_shows_each_state_as_a_badge_with_its_css_class(org):
    connected_station(SiteFactory(organization=org, name="Live"))
    SiteFactory(organization=org, name="Empty")
    busy = connected_station(SiteFactory(organization=org, name="Busy"))
    Connector.objects.filter(station=busy).update(status="Charging")
    body = portal_client(org).get(org_url(org, "sites/")).content.decode()
    badges = {"Available": "site-available", "Unknown": "site-unknown", "Load": "site-load"}
    for state, css in badges.items():
        assert f'<span class="badge {css}" data-site-state="{state}"' in body


def test_site_list_shows_address_and_station_and_connector_counts(org):
    site = SiteFactory(
        organization=org, street="Hafenstraße 1", postal_code="20457", city="Hamburg"
    )
    connected_station(site)
    ChargingStationFactory(organization=org, site=site, connectors=3)
    response = portal_client(org).get(org_url(org, "sites/"))
    listed = response.context["sites"][0]
    assert (listed.connected_station_count, listed.station_count, listed.connector_count) == (
        1,
        2,
        5,
    )
    body = response.content.decode()
    assert "Hafenstraße 1" in body and "20457 Hamburg" in body


def test_site_list_searches_by_name(org):
    SiteFactory(organization=org, name="Depot North", city="Kiel")
    SiteFactory(organization=org, name="Office", city="Bonn")
    sites = portal_client(org).get(org_url(org, "sites/"), {"search": "north"}).context["sites"]
    assert [site.name for site in sites] == ["Depot North"]


def test_site_list_searches_by_city(org):
    SiteFactory(organization=org, name="Depot North", city="Kiel")
    SiteFactory(organization=org, name="Office", city="Bonn")
    sites = portal_client(org).get(org_url(org, "sites/"), {"search": "bon"}).context["sites"]
    assert [site.name for site in sites] == ["Office"]


def test_site_list_filters_by_state(org):
    connected_station(SiteFactory(organization=org, name="Live"))
    SiteFactory(organization=org, name="Empty")
    sites = portal_client(org).get(org_url(org, "sites/"), {"status": "Unknown"}).context["sites"]
    assert [site.name for site in sites] == ["Empty"]


def test_site_list_filters_by_access_group_without_inflating_the_counts(org):
    staff, guests = AccessGroupFactory(organization=org), AccessGroupFactory(organization=org)
    open_site = SiteFactory(organization=org, name="Open", access_groups=[staff, guests])
    connected_station(open_site)
    SiteFactory(organization=org, name="Closed")
    response = portal_client(org).get(org_url(org, "sites/"), {"access_group": staff.pk})
    listed = response.context["sites"]
    assert [site.name for site in listed] == ["Open"]
    assert (listed[0].station_count, listed[0].connector_count) == (1, 2)


def test_site_list_offers_only_the_organizations_access_groups_as_filter(org, other_org):
    AccessGroupFactory(organization=org, name="Staff")
    AccessGroupFactory(organization=other_org, name="Strangers")
    form = portal_client(org).get(org_url(org, "sites/")).context["filter_form"]
    assert [group.name for group in form.fields["access_group"].queryset] == ["Staff"]


def test_site_list_stays_within_its_query_budget(org, django_assert_max_num_queries):
    for number in range(6):
        site = SiteFactory(organization=org, name=f"Site {number}")
        connected_station(site)
        ChargingStationFactory(organization=org, site=site)
    client = portal_client(org)
    # Session, user, membership, the header's memberships, page count, sites, the access
    # groups of the filter: none per site or per station.
    with django_assert_max_num_queries(7):
        response = client.get(org_url(org, "sites/"))
    assert len(response.context["sites"]) == 6


# --- Overview --------------------------------------------------------------------------------


def test_overview_shows_address_provider_coordinates_and_grid_capacity(org):
    site = SiteFactory(
        organization=org,
        street="Hafenstraße 1",
        provider="Stadtwerke",
        latitude=Decimal("53.543210"),
        longitude=Decimal("9.987654"),
        grid_capacity_kw=Decimal("150.00"),
    )
    body = portal_client(org).get(site_url(site)).content.decode()
    for text in ("Hafenstraße 1", "Stadtwerke", "53.543210", "9.987654", "150.00 kW"):
        assert text in body


def test_overview_offers_the_edit_form_to_admins_only(org):
    site = SiteFactory(organization=org)
    assert "form" in portal_client(org, Role.ADMIN).get(site_url(site)).context
    assert "form" not in portal_client(org, Role.OPERATOR).get(site_url(site)).context


def test_admin_edits_a_sites_name_address_and_provider(org):
    site = SiteFactory(organization=org, name="Old")
    data = details_data(site, name="New", street="Ring 2", provider="Grid AG", country="de")
    response = portal_client(org, Role.ADMIN).post(site_url(site), data)
    assert response.status_code == 302
    site.refresh_from_db()
    changed = (site.name, site.street, site.provider, site.country)
    assert changed == ("New", "Ring 2", "Grid AG", "DE")


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OPERATOR])
def test_a_member_below_admin_cannot_edit_a_site(org, role):
    site = SiteFactory(organization=org, name="Old")
    response = portal_client(org, role).post(site_url(site), details_data(site, name="New"))
    assert response.status_code == 403
    site.refresh_from_db()
    assert site.name == "Old"


def test_edit_refuses_the_name_of_another_site_of_the_organization(org):
    SiteFactory(organization=org, name="Taken")
    site = SiteFactory(organization=org, name="Mine")
    response = portal_client(org, Role.ADMIN).post(site_url(site), details_data(site, name="Taken"))
    assert response.status_code == 400
    assert "name" in response.context["form"].errors
    site.refresh_from_db()
    assert site.name == "Mine"


def test_edit_accepts_a_name_another_organization_uses(org, other_org):
    SiteFactory(organization=other_org, name="Depot")
    site = SiteFactory(organization=org, name="Mine")
    response = portal_client(org, Role.ADMIN).post(site_url(site), details_data(site, name="Depot"))
    assert response.status_code == 302


def test_edit_refuses_one_coordinate_without_the_other(org):
    site = SiteFactory(organization=org)
    data = details_data(site, latitude="52.5")
    response = portal_client(org, Role.ADMIN).post(site_url(site), data)
    assert response.status_code == 400
    assert "longitude" in response.context["form"].errors
    site.refresh_from_db()
    assert site.latitude is None


def test_edit_rounds_coordinates_with_more_decimals_than_stored(org):
    site = SiteFactory(organization=org)
    data = details_data(site, latitude="52.520008123", longitude="13.404954987")
    assert portal_client(org, Role.ADMIN).post(site_url(site), data).status_code == 302
    site.refresh_from_db()
    assert (site.latitude, site.longitude) == (Decimal("52.520008"), Decimal("13.404955"))


def test_edit_refuses_a_latitude_out_of_range(org):
    site = SiteFactory(organization=org)
    data = details_data(site, latitude="91", longitude="10")
    response = portal_client(org, Role.ADMIN).post(site_url(site), data)
    assert response.status_code == 400
    assert "latitude" in response.context["form"].errors


def test_edit_refuses_a_country_that_is_not_a_two_letter_code(org):
    site = SiteFactory(organization=org, country="DE")
    response = portal_client(org, Role.ADMIN).post(site_url(site), details_data(site, country="D1"))
    assert response.status_code == 400
    site.refresh_from_db()
    assert site.country == "DE"


def test_a_refused_edit_keeps_the_sites_own_name_in_the_heading(org):
    SiteFactory(organization=org, name="Taken")
    site = SiteFactory(organization=org, name="Mine")
    response = portal_client(org, Role.ADMIN).post(site_url(site), details_data(site, name="Taken"))
    assert response.context["site"].name == "Mine"


# --- Sheet -----------------------------------------------------------------------------------


def test_sheet_shows_every_connector_of_every_station_with_a_live_status_badge(org):
    site = SiteFactory(organization=org)
    first, second = connected_station(site), connected_station(site)
    Connector.objects.filter(station=second, connector_id=2).update(status="Charging")
    body = portal_client(org).get(site_url(site, "sheet/")).content.decode()
    for connector in Connector.objects.filter(station__in=[first, second]):
        assert f'data-live-connector="{connector.pk}"' in body
        assert connector.evse.evse_id in body
    assert 'data-status="Charging">Charging</span>' in body


def test_sheet_groups_the_connectors_by_station(org):
    site = SiteFactory(organization=org)
    first, second = connected_station(site), connected_station(site, connectors=1)
    stations = portal_client(org).get(site_url(site, "sheet/")).context["stations"]
    grouped = {station.ocpp_id: len(station.connectors.all()) for station in stations}
    assert grouped == {first.ocpp_id: 2, second.ocpp_id: 1}


def test_sheet_shows_status_labels_from_the_connector_statuses(org):
    site = SiteFactory(organization=org)
    station = connected_station(site)
    Connector.objects.filter(station=station, connector_id=1).update(status="Unavailable")
    Connector.objects.filter(station=station, connector_id=2).update(status="SuspendedEVSE")
    body = portal_client(org).get(site_url(site, "sheet/")).content.decode()
    assert 'data-status="Unavailable">Not available</span>' in body
    assert 'data-status="SuspendedEVSE">Suspended EVSE</span>' in body


def test_sheet_explains_every_status_in_a_legend(org):
    site = SiteFactory(organization=org)
    legend = portal_client(org).get(site_url(site, "sheet/")).context["legend"]
    assert {status for status, _ in legend} == set(ConnectorStatus.values)


def test_sheet_leaves_out_stations_of_other_sites(org):
    site = SiteFactory(organization=org)
    connected_station(site)
    elsewhere = connected_station(SiteFactory(organization=org))
    body = portal_client(org).get(site_url(site, "sheet/")).content.decode()
    assert elsewhere.ocpp_id not in body


def test_sheet_stays_within_its_query_budget(org, django_assert_max_num_queries):
    site = SiteFactory(organization=org)
    for _ in range(5):
        connected_station(site)
    client = portal_client(org)
    # Session, user, membership, the header's memberships, site, stations, connectors with
    # their EVSEs, and whether any card can charge there: none per station or per connector.
    with django_assert_max_num_queries(8):
        response = client.get(site_url(site, "sheet/"))
    assert response.content.decode().count("data-live-connector=") == 10


# --- Configuration ---------------------------------------------------------------------------


def test_admin_saves_access_groups_roaming_scan2pay_and_grid_capacity(org):
    site = SiteFactory(organization=org)
    staff, guests = AccessGroupFactory(organization=org), AccessGroupFactory(organization=org)
    data = config_data([staff, guests], roaming=True, scan2pay=True, capacity="110.5")
    response = portal_client(org, Role.ADMIN).post(site_url(site, "configuration/"), data)
    assert response.status_code == 302
    site.refresh_from_db()
    assert set(site.access_groups.all()) == {staff, guests}
    assert (site.roaming_enabled, site.scan2pay_enabled, site.grid_capacity_kw) == (
        True,
        True,
        Decimal("110.50"),
    )


def test_admin_can_withdraw_every_access_group_and_switch_roaming_off(org):
    staff = AccessGroupFactory(organization=org)
    site = SiteFactory(organization=org, access_groups=[staff], roaming_enabled=True)
    response = portal_client(org, Role.ADMIN).post(site_url(site, "configuration/"), config_data())
    assert response.status_code == 302
    site.refresh_from_db()
    assert (list(site.access_groups.all()), site.roaming_enabled) == ([], False)


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OPERATOR])
def test_a_member_below_admin_cannot_save_the_configuration(org, role):
    site = SiteFactory(organization=org)
    staff = AccessGroupFactory(organization=org)
    data = config_data([staff], roaming=True)
    response = portal_client(org, role).post(site_url(site, "configuration/"), data)
    assert response.status_code == 403
    site.refresh_from_db()
    assert (list(site.access_groups.all()), site.roaming_enabled) == ([], False)


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OPERATOR])
def test_a_member_below_admin_sees_the_configuration_read_only(org, role):
    staff = AccessGroupFactory(organization=org, name="Staff")
    site = SiteFactory(organization=org, access_groups=[staff])
    response = portal_client(org, role).get(site_url(site, "configuration/"))
    assert "form" not in response.context
    body = response.content.decode()
    assert "Staff" in body and 'id="site-config-form"' not in body


def test_configuration_offers_only_the_organizations_access_groups(org, other_org):
    site = SiteFactory(organization=org)
    AccessGroupFactory(organization=org, name="Staff")
    AccessGroupFactory(organization=other_org, name="Strangers")
    response = portal_client(org, Role.ADMIN).get(site_url(site, "configuration/"))
    offered = response.context["form"].fields["access_groups"].queryset
    assert [group.name for group in offered] == ["Staff"]
    assert "Strangers" not in response.content.decode()


def test_configuration_refuses_another_organizations_access_group_and_writes_nothing(
    org, other_org
):
    site = SiteFactory(organization=org)
    staff = AccessGroupFactory(organization=org)
    theirs = AccessGroupFactory(organization=other_org)
    data = config_data([staff, theirs], roaming=True)
    response = portal_client(org, Role.ADMIN).post(site_url(site, "configuration/"), data)
    assert response.status_code == 400
    assert "access_groups" in response.context["form"].errors
    site.refresh_from_db()
    assert (list(site.access_groups.all()), site.roaming_enabled) == ([], False)


def test_configuration_refuses_another_organizations_group_like_a_missing_one(org, other_org):
    site = SiteFactory(organization=org)
    theirs = AccessGroupFactory(organization=other_org)
    client = portal_client(org, Role.ADMIN)
    url = site_url(site, "configuration/")
    foreign = client.post(url, {"access_groups": [theirs.pk]}).context["form"].errors
    missing = client.post(url, {"access_groups": [999999]}).context["form"].errors
    assert foreign["access_groups"] == [
        error.replace("999999", str(theirs.pk)) for error in missing["access_groups"]
    ]


def test_configuration_refuses_a_negative_grid_capacity(org):
    site = SiteFactory(organization=org)
    data = config_data(capacity="-5")
    response = portal_client(org, Role.ADMIN).post(site_url(site, "configuration/"), data)
    assert response.status_code == 400
    site.refresh_from_db()
    assert site.grid_capacity_kw is None


def test_outsider_cannot_save_the_configuration_of_the_organizations_site(org, other_org):
    site = SiteFactory(organization=org)
    data = config_data(roaming=True)
    response = portal_client(other_org, Role.OWNER).post(
        org_url(org, f"sites/{site.pk}/configuration/"), data
    )
    assert response.status_code == 404
    assert Site.objects.get(pk=site.pk).roaming_enabled is False


# --- EVSE controller -------------------------------------------------------------------------


def test_controllers_tab_shows_serial_ocpp_and_evse_identities_state_and_plan(org):
    site = SiteFactory(organization=org, name="Depot")
    station = connected_station(site, serial_number="SN-4711", plan="public")
    body = portal_client(org).get(site_url(site, "controllers/")).content.decode()
    detail = org_url(org, f"stations/{station.pk}/")
    assert "SN-4711" in body
    assert f'<a href="{detail}">{station.ocpp_id}</a>' in body
    for evse in station.evses.all():
        assert evse.evse_id in body
    assert f'<span data-live-station="{station.pk}"><span class="badge conn-online"' in body
    assert "Public" in body and "Depot" in body


def test_controllers_tab_lists_only_the_sites_own_stations(org):
    site = SiteFactory(organization=org)
    mine = connected_station(site)
    elsewhere = connected_station(SiteFactory(organization=org))
    stations = portal_client(org).get(site_url(site, "controllers/")).context["stations"]
    assert list(stations) == [mine]
    assert elsewhere not in stations
