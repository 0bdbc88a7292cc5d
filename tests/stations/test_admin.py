"""The station admin: the unassigned pool, the "Assign to site" action, the write-only
Basic-auth password, and fields the gateway owns."""

from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.utils import timezone

from stations.choices import ConnectionState, ConnectorStatus, ConnectorType, RegistrationStatus
from stations.models import ChargingStation, Connector, Evse
from tests.admin.helpers import admin_url, changeform_data, write_during_request
from tests.factories import STATION_PASSWORD, ChargingStationFactory, SiteFactory


def unassigned_station(ocpp_id="CS-NEW-1"):
    return ChargingStationFactory(
        ocpp_id=ocpp_id,
        organization=None,
        site=None,
        registration_status=RegistrationStatus.PENDING,
        connectors=0,
    )


def post_change_form(client, station, **changes):
    """Submit the station's change form as displayed, with `changes` typed in."""
    data = changeform_data(client.get(admin_url(station, "change")))
    data.update(changes)
    return client.post(admin_url(station, "change"), data)


def errors_of(response):
    if response.status_code != 200:
        return None
    inline_errors = [fs.formset.errors for fs in response.context["inline_admin_formsets"]]
    return response.context["adminform"].form.errors, inline_errors


def test_unassigned_filter_lists_only_stations_waiting_in_the_pool(superuser_client, station):
    waiting = unassigned_station()

    response = superuser_client.get(admin_url(ChargingStation, "changelist"), {"assigned": "no"})

    assert list(response.context["cl"].result_list) == [waiting]


def test_assigned_filter_lists_only_stations_of_an_organization(superuser_client, station):
    unassigned_station()

    response = superuser_client.get(admin_url(ChargingStation, "changelist"), {"assigned": "yes"})

    assert list(response.context["cl"].result_list) == [station]


def test_assign_action_first_asks_for_the_site(superuser_client, org):
    waiting = unassigned_station()
    site = SiteFactory(organization=org, name="Depot Nord")

    response = superuser_client.post(
        admin_url(ChargingStation, "changelist"),
        {"action": "assign_to_site", ACTION_CHECKBOX_NAME: [waiting.pk]},
    )

    waiting.refresh_from_db()
    assert response.status_code == 200
    assert response.templates[0].name == "admin/stations/assign_station.html"
    assert list(response.context["queryset"]) == [waiting]
    assert f"{org} / Depot Nord" in response.content.decode()
    assert site in response.context["form"].fields["site"].queryset
    assert waiting.organization_id is None


def test_assign_action_moves_an_unassigned_station_to_the_sites_organization(superuser_client, org):
    waiting = unassigned_station()
    site = SiteFactory(organization=org)

    response = superuser_client.post(
        admin_url(ChargingStation, "changelist"),
        {
            "action": "assign_to_site",
            ACTION_CHECKBOX_NAME: [waiting.pk],
            "apply": "yes",
            "site": site.pk,
        },
    )

    waiting.refresh_from_db()
    assert response.status_code == 302
    assert waiting.organization == org
    assert waiting.site == site
    assert waiting.registration_status == RegistrationStatus.ACCEPTED
    messages = [str(message) for message in get_messages(response.wsgi_request)]
    assert messages == [f"1 station assigned to {site}."]


def test_assign_action_without_a_site_asks_again_and_changes_nothing(superuser_client):
    waiting = unassigned_station()

    response = superuser_client.post(
        admin_url(ChargingStation, "changelist"),
        {"action": "assign_to_site", ACTION_CHECKBOX_NAME: [waiting.pk], "apply": "yes"},
    )

    waiting.refresh_from_db()
    assert response.status_code == 200
    assert response.context["form"].errors == {"site": ["This field is required."]}
    assert waiting.organization_id is None
    assert waiting.registration_status == RegistrationStatus.PENDING


def test_assign_action_reports_a_station_of_another_organization_and_leaves_it(
    superuser_client, station, other_org
):
    foreign = ChargingStationFactory(organization=other_org, ocpp_id="CS-FOREIGN", connectors=0)
    foreign_site = foreign.site
    site = SiteFactory(organization=station.organization)

    response = superuser_client.post(
        admin_url(ChargingStation, "changelist"),
        {
            "action": "assign_to_site",
            ACTION_CHECKBOX_NAME: [station.pk, foreign.pk],
            "apply": "yes",
            "site": site.pk,
        },
    )

    foreign.refresh_from_db()
    station.refresh_from_db()
    assert station.site == site
    assert foreign.organization == other_org
    assert foreign.site == foreign_site
    messages = {str(message) for message in get_messages(response.wsgi_request)}
    assert messages == {
        "CS-FOREIGN: The station already belongs to another organization.",
        f"1 station assigned to {site}.",
    }


def test_assign_action_offers_only_sites_of_the_stations_organization(
    superuser_client, station, other_org
):
    foreign_site = SiteFactory(organization=other_org)

    response = superuser_client.post(
        admin_url(ChargingStation, "changelist"),
        {"action": "assign_to_site", ACTION_CHECKBOX_NAME: [station.pk, unassigned_station().pk]},
    )

    sites = response.context["form"].fields["site"].queryset
    assert station.site in sites
    assert foreign_site not in sites


def test_change_form_never_shows_the_password_hash(superuser_client, station):
    response = superuser_client.get(admin_url(station, "change"))

    form = response.context["adminform"].form
    assert "password_hash" not in form.fields
    assert "new_password" in form.fields
    assert station.password_hash not in response.content.decode()


def test_new_password_typed_in_the_change_form_replaces_the_old_one(superuser_client, station):
    response = post_change_form(superuser_client, station, new_password="a-brand-new-secret-42")

    station.refresh_from_db()
    assert response.status_code == 302, errors_of(response)
    assert station.check_password("a-brand-new-secret-42")
    assert not station.check_password(STATION_PASSWORD)


def test_blank_password_field_keeps_the_current_password(superuser_client, station):
    response = post_change_form(superuser_client, station, serial_number="SN-CHANGED")

    station.refresh_from_db()
    assert response.status_code == 302, errors_of(response)
    assert station.serial_number == "SN-CHANGED"
    assert station.check_password(STATION_PASSWORD)


def test_too_short_password_is_refused(superuser_client, station):
    response = post_change_form(superuser_client, station, new_password="short")

    station.refresh_from_db()
    assert response.status_code == 200
    assert "new_password" in response.context["adminform"].form.errors
    assert station.check_password(STATION_PASSWORD)


def test_password_can_be_set_when_a_station_is_added(superuser_client, org):
    response = superuser_client.post(
        admin_url(ChargingStation, "add"),
        {
            "ocpp_id": "CS-ADDED",
            "organization": org.pk,
            "plan": "business",
            "registration_status": "Accepted",
            "security_profile": 1,
            "heartbeat_interval": 300,
            "new_password": "first-password-0001",
            "evses-TOTAL_FORMS": 0,
            "evses-INITIAL_FORMS": 0,
            "connectors-TOTAL_FORMS": 0,
            "connectors-INITIAL_FORMS": 0,
        },
    )

    assert response.status_code == 302, errors_of(response)
    assert ChargingStation.objects.get(ocpp_id="CS-ADDED").check_password("first-password-0001")


def test_saving_the_form_keeps_what_the_gateway_writes_during_the_request(
    superuser_client, station, monkeypatch
):
    data = changeform_data(superuser_client.get(admin_url(station, "change")))
    data["serial_number"] = "SN-EDITED"
    seen = timezone.now()
    write_during_request(
        monkeypatch,
        admin.site._registry[ChargingStation],
        lambda: ChargingStation.objects.filter(pk=station.pk).update(
            connection_state=ConnectionState.ONLINE, last_seen=seen, firmware_status="Installed"
        ),
    )

    response = superuser_client.post(admin_url(station, "change"), data)

    station.refresh_from_db()
    assert response.status_code == 302, errors_of(response)
    assert station.serial_number == "SN-EDITED"
    assert station.connection_state == ConnectionState.ONLINE
    assert station.last_seen == seen
    assert station.firmware_status == "Installed"


def test_editing_a_connector_inline_keeps_the_status_the_gateway_writes_meanwhile(
    superuser_client, station, monkeypatch
):
    connector = station.connectors.get(connector_id=1)
    data = changeform_data(superuser_client.get(admin_url(station, "change")))
    data["connectors-0-connector_type"] = ConnectorType.CCS2
    write_during_request(
        monkeypatch,
        admin.site._registry[ChargingStation],
        lambda: Connector.objects.filter(pk=connector.pk).update(status=ConnectorStatus.CHARGING),
    )

    response = superuser_client.post(admin_url(station, "change"), data)

    connector.refresh_from_db()
    assert response.status_code == 302, errors_of(response)
    assert connector.connector_type == ConnectorType.CCS2
    assert connector.status == ConnectorStatus.CHARGING


def test_gateway_owned_fields_are_shown_read_only(superuser_client, station):
    response = superuser_client.get(admin_url(station, "change"))

    form = response.context["adminform"].form
    for name in ("connection_state", "last_seen", "status", "firmware_status", "last_boot"):
        assert name not in form.fields
        assert f"field-{name}" in response.content.decode()


def test_site_of_another_organization_is_refused(superuser_client, station, other_org):
    foreign_site = SiteFactory(organization=other_org)

    response = post_change_form(superuser_client, station, site=foreign_site.pk)

    station.refresh_from_db()
    assert response.status_code == 200
    assert "site" in response.context["adminform"].form.errors
    assert station.site != foreign_site


def test_connector_inline_offers_only_the_stations_evses(superuser_client, station, other_org):
    other = ChargingStationFactory(organization=station.organization, ocpp_id="CS-NEIGHBOUR")

    response = superuser_client.get(admin_url(station, "change"))

    connectors = next(
        fs.formset
        for fs in response.context["inline_admin_formsets"]
        if fs.opts.model.__name__ == "Connector"
    )
    choices = connectors.forms[0].fields["evse"].queryset
    assert set(choices) == set(Evse.objects.filter(station=station))
    assert not set(choices) & set(Evse.objects.filter(station=other))
