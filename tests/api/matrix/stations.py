"""Matrix rows of the stations API: sites, stations, connectors and charging profiles."""

from django.core.files.base import ContentFile

from organizations.choices import Role
from stations.models import ChargingProfile, DiagnosticsFile
from tests.api.matrix import Endpoint
from tests.factories import ChargingStationFactory, SiteFactory

PERIODS = [{"start_period": 0, "limit": 32}]


def more_sites(world, n):
    for _ in range(n):
        site = SiteFactory(organization=world.org, access_groups=[world.access_group])
        ChargingStationFactory(organization=world.org, site=site)


def more_stations(world, n):
    for _ in range(n):
        station = ChargingStationFactory(organization=world.org, site=world.site)
        station.access_groups.add(world.access_group)


def more_connectors(world, n):
    for _ in range(n):
        ChargingStationFactory(organization=world.org, site=world.site, connectors=1)


def more_profiles(world, n):
    for index in range(n):
        ChargingProfile.objects.create(
            organization=world.org, name=f"More {index}", schedule_periods=PERIODS
        )


def site_url(w):
    return f"/api/v1/sites/{w.site.pk}/"


def empty_site_url(w):
    # The world's site holds its station (a 409); a site without one can go.
    return f"/api/v1/sites/{SiteFactory(organization=w.org).pk}/"


def station_url(suffix=""):
    return lambda w: f"/api/v1/stations/{w.station.pk}/{suffix}"


def unused_station_url(w):
    # The world's station has a session (a 409): one nobody charged at can go.
    return f"/api/v1/stations/{ChargingStationFactory(organization=w.org, site=w.site).pk}/"


def connector_url(w):
    return f"/api/v1/connectors/{w.connector.pk}/"


def unused_connector_url(w):
    # Connector 1 carries the world's session (a 409); connector 2 was never used.
    return f"/api/v1/connectors/{w.station.connectors.get(connector_id=2).pk}/"


def profile_url(w):
    return f"/api/v1/charging-profiles/{w.charging_profile.pk}/"


def diagnostics_file_url(w):
    upload = DiagnosticsFile(station=w.station, original_name="diag.log", size=3)
    upload.file.save("diag.log", ContentFile(b"log"), save=True)
    return f"/api/v1/stations/{w.station.pk}/diagnostics/{upload.pk}/"


def org_url(prefix):
    return lambda w: f"/api/v1/organizations/{w.org.pk}/{prefix}/"


ENDPOINTS = [
    # Sites
    Endpoint(
        "site-list",
        "get",
        lambda w: "/api/v1/sites/",
        Role.VIEWER,
        ours=lambda w: w.site.pk,
        more=more_sites,
    ),
    Endpoint("site-detail", "get", site_url, Role.VIEWER),
    Endpoint(
        "site-detail",
        "put",
        site_url,
        Role.ADMIN,
        body=lambda w: {"name": "Depot renamed", "country": "AT"},
    ),
    Endpoint(
        "site-detail",
        "patch",
        site_url,
        Role.ADMIN,
        body=lambda w: {"roaming_enabled": True, "access_groups": [w.access_group.pk]},
    ),
    Endpoint("site-detail", "delete", empty_site_url, Role.ADMIN, ok=(204,)),
    Endpoint("organization-site-list", "get", org_url("sites"), Role.VIEWER, more=more_sites),
    Endpoint(
        "organization-site-list",
        "post",
        org_url("sites"),
        Role.ADMIN,
        body=lambda w: {"name": "Depot new", "access_groups": [w.access_group.pk]},
        ok=(201,),
    ),
    # Stations
    Endpoint(
        "station-list",
        "get",
        lambda w: "/api/v1/stations/",
        Role.VIEWER,
        ours=lambda w: w.station.pk,
        more=more_stations,
    ),
    Endpoint("station-detail", "get", station_url(), Role.VIEWER),
    Endpoint(
        "station-detail",
        "put",
        station_url(),
        Role.ADMIN,
        body=lambda w: {"ocpp_id": w.station.ocpp_id, "site": w.site.pk, "plan": "public"},
    ),
    Endpoint(
        "station-detail",
        "patch",
        station_url(),
        Role.ADMIN,
        body=lambda w: {"heartbeat_interval": 600, "password": "p" * 16},
    ),
    Endpoint("station-detail", "delete", unused_station_url, Role.ADMIN, ok=(204,)),
    Endpoint(
        "organization-station-list", "get", org_url("stations"), Role.VIEWER, more=more_stations
    ),
    Endpoint(
        "organization-station-list",
        "post",
        org_url("stations"),
        Role.ADMIN,
        body=lambda w: {"ocpp_id": "CS-NEW-1", "site": w.site.pk, "password": "p" * 16},
        ok=(201,),
    ),
    Endpoint("station-commands", "get", station_url("commands/"), Role.VIEWER),
    Endpoint("station-diagnostics", "get", station_url("diagnostics/"), Role.VIEWER),
    Endpoint("station-diagnostics-download", "get", diagnostics_file_url, Role.OPERATOR),
    Endpoint(
        "station-commands",
        "post",
        station_url("commands/"),
        Role.OPERATOR,
        body=lambda w: {"command": "restart_station"},
        # The world's station is offline: the role check passed, the station state refused.
        ok=(409,),
    ),
    Endpoint(
        "station-ocpp-calls",
        "post",
        station_url("ocpp-calls/"),
        Role.ADMIN,
        body=lambda w: {"action": "Reset", "payload": {"type": "Soft"}},
        ok=(409,),
        transactional=True,
    ),
    Endpoint(
        "station-connectors",
        "post",
        station_url("connectors/"),
        Role.ADMIN,
        body=lambda w: {"connector_id": 3, "connector_type": "CHADEMO"},
        ok=(201,),
    ),
    # Connectors
    Endpoint(
        "connector-list",
        "get",
        lambda w: "/api/v1/connectors/",
        Role.VIEWER,
        ours=lambda w: w.connector.pk,
        more=more_connectors,
    ),
    Endpoint("connector-detail", "get", connector_url, Role.VIEWER),
    Endpoint(
        "connector-detail",
        "put",
        connector_url,
        Role.ADMIN,
        body=lambda w: {"connector_type": "IEC_62196_T2_COMBO", "max_power_kw": "150.00"},
    ),
    Endpoint(
        "connector-detail",
        "patch",
        connector_url,
        Role.ADMIN,
        body=lambda w: {"max_power_kw": "22.00"},
    ),
    Endpoint("connector-detail", "delete", unused_connector_url, Role.ADMIN, ok=(204,)),
    # Charging profiles
    Endpoint(
        "chargingprofile-list",
        "get",
        lambda w: "/api/v1/charging-profiles/",
        Role.VIEWER,
        ours=lambda w: w.charging_profile.pk,
        more=more_profiles,
    ),
    Endpoint("chargingprofile-detail", "get", profile_url, Role.VIEWER),
    Endpoint(
        "chargingprofile-detail",
        "put",
        profile_url,
        Role.ADMIN,
        body=lambda w: {"name": "Night renamed", "schedule_periods": PERIODS},
    ),
    Endpoint(
        "chargingprofile-detail",
        "patch",
        profile_url,
        Role.ADMIN,
        body=lambda w: {"stack_level": 3},
    ),
    Endpoint("chargingprofile-detail", "delete", profile_url, Role.ADMIN, ok=(204,)),
    Endpoint(
        "organization-chargingprofile-list",
        "get",
        org_url("charging-profiles"),
        Role.VIEWER,
        more=more_profiles,
    ),
    Endpoint(
        "organization-chargingprofile-list",
        "post",
        org_url("charging-profiles"),
        Role.ADMIN,
        body=lambda w: {"name": "Day", "schedule_periods": PERIODS},
        ok=(201,),
    ),
]
