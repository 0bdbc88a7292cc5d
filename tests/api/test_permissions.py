"""Who may do what through the API: anonymous, each role, outsiders, members of two orgs."""

from importlib import import_module

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from rest_framework import mixins
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.test import APIRequestFactory, force_authenticate

from cms.api import urls as api_urls
from ocpp_gateway.models import CommandLog
from organizations.api.viewsets import TenantViewSet
from organizations.choices import Role
from organizations.models import Membership
from stations.api.serializers import ChargingStationSerializer
from stations.models import ChargingStation
from tests.api.conftest import ADMIN_ONLY, OFFLINE_OK, TEST_COMMANDS
from tests.apiclients import member
from tests.factories import ChargingStationFactory

pytestmark = pytest.mark.django_db

RESET = {"action": "Reset", "payload": {"type": "Soft"}}


def detail(station, suffix=""):
    return f"/api/v1/stations/{station.pk}/{suffix}"


def make_log(station, **kwargs):
    return CommandLog.objects.create(
        station=station, command="soft_reset", action="Reset", **kwargs
    )


@pytest.fixture
def log(station):
    return make_log(station, status="accepted")


ENDPOINTS = [
    ("get", lambda station, log: "/api/v1/"),
    ("get", lambda station, log: "/api/v1/stations/"),
    ("get", lambda station, log: detail(station)),
    ("get", lambda station, log: detail(station, "commands/")),
    ("post", lambda station, log: detail(station, "commands/")),
    ("post", lambda station, log: detail(station, "ocpp-calls/")),
    ("get", lambda station, log: "/api/v1/command-logs/"),
    ("get", lambda station, log: f"/api/v1/command-logs/{log.pk}/"),
]


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_anonymous_requests_are_401_with_a_token_challenge(api_client, station, log, method, url):
    response = getattr(api_client, method)(url(station, log), {}, format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


READS = [
    lambda station, log: "/api/v1/stations/",
    lambda station, log: detail(station),
    lambda station, log: detail(station, "commands/"),
    lambda station, log: "/api/v1/command-logs/",
    lambda station, log: f"/api/v1/command-logs/{log.pk}/",
]


@pytest.mark.parametrize("url", READS)
def test_a_viewer_reads_lists_details_and_the_command_list(
    client_for, viewer_user, station, log, url
):
    assert client_for(viewer_user).get(url(station, log)).status_code == 200


def test_a_viewer_may_not_run_a_command(client_for, viewer_user, station):
    response = client_for(viewer_user).post(
        detail(station, "commands/"), {"command": OFFLINE_OK}, format="json"
    )
    assert response.status_code == 403
    assert response.data["detail"] == "Requires role Operator."
    assert not CommandLog.objects.exists()


def test_a_viewer_may_not_send_an_ocpp_call(client_for, viewer_user, station):
    response = client_for(viewer_user).post(detail(station, "ocpp-calls/"), RESET, format="json")
    assert response.status_code == 403
    assert not CommandLog.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_operator_runs_a_command_and_is_recorded_as_its_requester(
    client_for, operator_user, station
):
    response = client_for(operator_user).post(
        detail(station, "commands/"), {"command": OFFLINE_OK}, format="json"
    )
    # The station is offline: the command ran and the command service found nobody to call.
    assert response.status_code == 409
    log = CommandLog.objects.get()
    assert (log.command, log.requested_by, log.requested_via) == (OFFLINE_OK, operator_user, "user")


def test_an_operator_may_not_send_an_ocpp_call(client_for, operator_user, station):
    response = client_for(operator_user).post(detail(station, "ocpp-calls/"), RESET, format="json")
    assert response.status_code == 403
    assert response.data["detail"] == "Requires role Admin."
    assert not CommandLog.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_admin_sends_an_ocpp_call(client_for, admin_user, station):
    response = client_for(admin_user).post(detail(station, "ocpp-calls/"), RESET, format="json")
    assert response.status_code == 409  # offline: the call went as far as the command service
    log = CommandLog.objects.get()
    assert (log.command, log.action, log.payload) == ("ocpp_call", "Reset", {"type": "Soft"})
    assert log.requested_by == admin_user


def test_an_operator_may_not_run_a_command_whose_minimum_role_is_admin(
    client_for, operator_user, station
):
    response = client_for(operator_user).post(
        detail(station, "commands/"), {"command": ADMIN_ONLY}, format="json"
    )
    assert response.status_code == 403
    assert response.data["detail"] == "Requires role Admin."
    assert not CommandLog.objects.exists()


def test_an_admin_passes_a_commands_admin_minimum(client_for, admin_user, station):
    response = client_for(admin_user).post(
        detail(station, "commands/"), {"command": ADMIN_ONLY}, format="json"
    )
    # Past the role checks, the registry's own rule answers: the station is offline.
    assert response.status_code == 409
    assert response.data["detail"] == "The station is offline."


def test_the_command_list_marks_commands_above_the_users_role_with_the_role_needed(
    client_for, operator_user, station
):
    listed = {
        item["command"]: item
        for item in client_for(operator_user).get(detail(station, "commands/")).data
    }
    assert listed[ADMIN_ONLY]["allowed"] is False
    assert listed[ADMIN_ONLY]["reason"] == "Requires role Admin."
    assert listed[OFFLINE_OK] == {
        "command": OFFLINE_OK,
        "label": "Reset anyway",
        "allowed": True,
        "reason": None,
    }


def test_a_viewer_sees_every_operator_command_as_requiring_operator(
    client_for, viewer_user, station
):
    listed = client_for(viewer_user).get(detail(station, "commands/")).data
    reasons = {
        item["command"]: item["reason"] for item in listed if item["command"] in TEST_COMMANDS
    }
    assert reasons == {
        name: f"Requires role {'Admin' if name == ADMIN_ONLY else 'Operator'}."
        for name in TEST_COMMANDS
    }


OUTSIDER_REQUESTS = [
    ("get", lambda station, log: detail(station)),
    ("get", lambda station, log: detail(station, "commands/")),
    ("post", lambda station, log: detail(station, "commands/")),
    ("post", lambda station, log: detail(station, "ocpp-calls/")),
    ("get", lambda station, log: f"/api/v1/command-logs/{log.pk}/"),
]


@pytest.mark.parametrize(("method", "url"), OUTSIDER_REQUESTS)
def test_an_outsider_gets_404_for_our_objects_like_for_missing_ones(
    client_for, outsider_user, station, log, method, url
):
    client = client_for(outsider_user)
    # A GET reads no body; as a query string these would be unknown parameters (a 400).
    data = {"command": OFFLINE_OK, **RESET} if method == "post" else None
    ours = getattr(client, method)(url(station, log), data, format="json")
    missing_station = ChargingStation(pk=station.pk + 1000)
    missing_log = CommandLog(pk=log.pk + 1000)
    missing = getattr(client, method)(url(missing_station, missing_log), data, format="json")
    assert (ours.status_code, ours.data) == (404, missing.data)
    assert CommandLog.objects.count() == 1


def test_an_outsider_lists_only_their_own_stations_and_command_logs(
    client_for, outsider_user, other_org, station, log
):
    theirs = ChargingStationFactory(organization=other_org, ocpp_id="CS-OUTSIDER")
    their_log = make_log(theirs)
    client = client_for(outsider_user)
    stations = client.get("/api/v1/stations/").data["results"]
    logs = client.get("/api/v1/command-logs/").data["results"]
    assert [s["ocpp_id"] for s in stations] == ["CS-OUTSIDER"]
    assert [row["id"] for row in logs] == [their_log.pk]


def test_a_member_of_two_organizations_sees_the_union(client_for, org, other_org, station, log):
    theirs = ChargingStationFactory(organization=other_org, ocpp_id="CS-OUTSIDER")
    their_log = make_log(theirs)
    ChargingStationFactory(ocpp_id="CS-THIRD-ORG")
    user = member((org, Role.VIEWER), (other_org, Role.VIEWER))
    client = client_for(user)
    stations = client.get("/api/v1/stations/").data["results"]
    logs = client.get("/api/v1/command-logs/").data["results"]
    assert {s["ocpp_id"] for s in stations} == {"CS-DEMO-1", "CS-OUTSIDER"}
    assert {row["id"] for row in logs} == {log.pk, their_log.pk}


@pytest.mark.django_db(transaction=True)
def test_a_role_in_one_organization_grants_nothing_in_another(client_for, org, other_org, station):
    theirs = ChargingStationFactory(organization=other_org)
    user = member((org, Role.VIEWER), (other_org, Role.OPERATOR))
    client = client_for(user)
    ours = client.post(detail(station, "commands/"), {"command": OFFLINE_OK}, format="json")
    their = client.post(detail(theirs, "commands/"), {"command": OFFLINE_OK}, format="json")
    assert ours.status_code == 403
    assert their.status_code == 409  # ran, and found the station offline
    assert list(CommandLog.objects.values_list("station", flat=True)) == [theirs.pk]


def test_a_station_of_the_unassigned_pool_is_invisible(client_for, admin_user, station):
    pending = ChargingStationFactory(organization=None, site=None, ocpp_id="CS-PENDING")
    client = client_for(admin_user)
    assert client.get(detail(pending)).status_code == 404
    listed = client.get("/api/v1/stations/").data["results"]
    assert [s["ocpp_id"] for s in listed] == ["CS-DEMO-1"]


@pytest.mark.django_db(transaction=True)
def test_a_token_authenticates_and_the_log_says_api_token(api_client, operator_user, station):
    token = Token.objects.create(user=operator_user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = api_client.post(detail(station, "commands/"), {"command": OFFLINE_OK}, format="json")
    assert response.status_code == 409
    assert CommandLog.objects.get().requested_via == "api_token"


@pytest.mark.django_db(transaction=True)
def test_a_session_login_is_recorded_as_the_user(client, operator_user, station):
    client.force_login(operator_user)
    response = client.post(
        detail(station, "commands/"), {"command": OFFLINE_OK}, content_type="application/json"
    )
    assert response.status_code == 409
    assert CommandLog.objects.get().requested_via == "user"


def test_losing_a_membership_closes_the_api_at_once(client_for, viewer_user, station):
    client = client_for(viewer_user)
    assert client.get(detail(station)).status_code == 200
    Membership.objects.filter(user=viewer_user).delete()
    assert client.get(detail(station)).status_code == 404


def test_every_viewset_under_api_v1_is_a_tenant_viewset():
    registered = [
        viewset
        for urlconf in api_urls.APP_URLCONFS
        for _prefix, viewset, _basename in import_module(urlconf).router.registry
    ]
    assert registered
    assert all(issubclass(viewset, TenantViewSet) for viewset in registered)


class ProbeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """A viewset that declares a role for `list` only."""

    queryset = ChargingStation.objects.all()
    serializer_class = ChargingStationSerializer
    required_role = {"list": Role.OPERATOR}
    # Trying to open it up must not drop the role check.
    permission_classes = [AllowAny]


def probe(user, action, **kwargs):
    request = APIRequestFactory().get("/probe/")
    force_authenticate(request, user)
    view = ProbeViewSet.as_view({"get": action}, detail=action != "list")
    return view(request, **kwargs)


def test_an_action_missing_from_the_role_map_is_refused(admin_user, station):
    assert probe(admin_user, "retrieve", pk=station.pk).status_code == 403


def test_a_collection_action_above_viewer_lists_only_organizations_where_the_role_is_held(
    org, other_org, station
):
    ChargingStationFactory(organization=other_org, ocpp_id="CS-OUTSIDER")
    user = member((org, Role.OPERATOR), (other_org, Role.VIEWER))
    listed = probe(user, "list").data["results"]
    assert [s["ocpp_id"] for s in listed] == ["CS-DEMO-1"]


def test_a_queryset_that_cannot_be_narrowed_to_the_tenant_is_a_configuration_error(admin_user):
    class Untenanted(ProbeViewSet):
        queryset = get_user_model().objects.all()
        required_role = Role.VIEWER

    request = APIRequestFactory().get("/probe/")
    force_authenticate(request, admin_user)
    with pytest.raises(ImproperlyConfigured, match="TenantQuerySet"):
        Untenanted.as_view({"get": "list"}, detail=False)(request)


def test_the_api_root_links_every_resource(client_for, viewer_user):
    response = client_for(viewer_user).get("/api/v1/")
    resources = [
        "organizations",
        "members",
        "invitations",
        "api-keys",
        "access-groups",
        "id-tokens",
        "sites",
        "stations",
        "connectors",
        "charging-profiles",
        "sessions",
        "reservations",
        "analytics",
        "tariffs",
        "tariff-assignments",
        "charge-detail-records",
        "invoices",
        "billing-periods",
        "payments",
        "payment-refunds",
        "availability",
        "maintenance-windows",
        "maintenance-records",
        "maintenance-due",
        "roaming-partners",
        "roaming-activity",
        "roaming-profiles",
        "partner-sessions",
        "partner-cdrs",
        "partner-locations",
        "partner-tariffs",
        "alerts",
        "alert-rules",
        "webhook-endpoints",
        "webhook-deliveries",
        "firmware-images",
        "configuration-baselines",
        "baseline-runs",
        "command-logs",
        "bulk-commands",
        "campaigns",
        "campaign-stations",
    ]
    assert response.data == {name: f"http://testserver/api/v1/{name}/" for name in resources}
