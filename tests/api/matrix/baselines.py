"""Matrix rows of the baselines API: baselines, their drift, apply (gateway) and runs."""

from baselines.models import BaselineRun, ConfigurationBaseline
from baselines.notation import parse_settings
from baselines.services import save_baseline
from organizations.choices import Role
from tests.api.matrix import Endpoint
from tests.factories import ChargingStationFactory


def new_baseline(world, name="Matrix"):
    return save_baseline(
        ConfigurationBaseline(organization=world.org, name=name, vendor="ABB"),
        parse_settings("HeartbeatInterval = 300"),
    )


def baseline_of(world):
    """The world's baseline (made on first use: build_world knows no baselines)."""
    found = ConfigurationBaseline.objects.filter(organization=world.org, name="Matrix").first()
    return found or new_baseline(world)


def baseline_url(world):
    return f"/api/v1/configuration-baselines/{baseline_of(world).pk}/"


def fresh_name() -> str:
    return f"Extra {ConfigurationBaseline.objects.count()}"


# A list's URL adds a baseline (a run) each time it is asked for: the same INSERTs every call,
# so the query budget compares like with like.
def baselines_url(world):
    new_baseline(world, fresh_name())
    return "/api/v1/configuration-baselines/"


def organization_baselines_url(world):
    new_baseline(world, fresh_name())
    return f"/api/v1/organizations/{world.org.pk}/configuration-baselines/"


def more_baselines(world, n):
    for _ in range(n):
        new_baseline(world, fresh_name())


def run_of(world):
    return BaselineRun.objects.create(
        baseline=new_baseline(world, fresh_name()), station=world.station
    )


def runs_url(world):
    run_of(world)
    return "/api/v1/baseline-runs/"


def more_runs(world, n):
    for _ in range(n):
        run_of(world)


def body(world):
    # A name not taken yet (the world's baseline is "Matrix"; PUT renames it to itself).
    return {
        "name": f"Body {ConfigurationBaseline.objects.count()}",
        "vendor": "ABB",
        "settings": [{"variable": "HeartbeatInterval", "value": "300"}],
    }


def abb_station(world):
    station = ChargingStationFactory(organization=world.org, site=world.site, vendor="ABB")
    return {"stations": [station.pk]}


ENDPOINTS = [
    Endpoint(
        "configurationbaseline-list",
        "get",
        baselines_url,
        Role.VIEWER,
        ours=lambda w: baseline_of(w).pk,
        more=more_baselines,
    ),
    Endpoint(
        "organization-configurationbaseline-list",
        "get",
        organization_baselines_url,
        Role.VIEWER,
        more=more_baselines,
    ),
    Endpoint(
        "organization-configurationbaseline-list",
        "post",
        lambda w: f"/api/v1/organizations/{w.org.pk}/configuration-baselines/",
        Role.ADMIN,
        body=body,
        ok=(201,),
    ),
    Endpoint("configurationbaseline-detail", "get", baseline_url, Role.VIEWER),
    Endpoint("configurationbaseline-detail", "put", baseline_url, Role.ADMIN, body=body),
    Endpoint(
        "configurationbaseline-detail",
        "patch",
        baseline_url,
        Role.ADMIN,
        body=lambda w: {"detect_drift": False},
    ),
    Endpoint("configurationbaseline-detail", "delete", baseline_url, Role.ADMIN, ok=(204,)),
    Endpoint(
        "configurationbaseline-drift",
        "get",
        lambda w: baseline_url(w) + "drift/",
        Role.VIEWER,
    ),
    Endpoint(
        "configurationbaseline-apply",
        "post",
        lambda w: baseline_url(w) + "apply/",
        Role.OPERATOR,
        body=abb_station,
        ok=(202,),
        transactional=True,
    ),
    Endpoint(
        "baselinerun-list",
        "get",
        runs_url,
        Role.VIEWER,
        ours=lambda w: BaselineRun.objects.filter(baseline__organization=w.org).earliest("pk").pk,
        more=more_runs,
    ),
    Endpoint(
        "baselinerun-detail",
        "get",
        lambda w: f"/api/v1/baseline-runs/{run_of(w).pk}/",
        Role.VIEWER,
    ),
]
