"""Applying baselines without sockets: answers per key, offline stations, roles, first boots."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from baselines.choices import ResultStatus, RunStatus, RunTrigger
from baselines.events import BASELINE_RUN_FINISHED
from baselines.models import BaselineRun, FirstBoot
from core import events
from core.events import Event
from ocpp_gateway.choices import CommandStatus
from ocpp_gateway.models import CommandLog
from ocpp_gateway.remote import baselines as gateway
from ocpp_gateway.remote.registry import Actor
from organizations.choices import Role
from stations.choices import OcppVersion
from stations.events import STATION_BOOTED
from tests.apiclients import client_as, member
from tests.baselines.factories_baselines import make_baseline
from tests.factories import ChargingStationFactory

pytestmark = pytest.mark.django_db

OPERATOR = Actor(role=Role.OPERATOR)


@pytest.fixture
def abb(org):
    return ChargingStationFactory(organization=org, vendor="ABB", ocpp_id="CS-ABB", connectors=0)


def answering(monkeypatch, answers: dict, sent: list):
    """The station answers ChangeConfiguration per key as `answers` says (online, no socket)."""

    def fake(station, name, params, *, actor):
        sent.append((name, params))
        if name != "change_configuration":
            return CommandLog(status=CommandStatus.ACCEPTED, response={})
        status = answers[params["key"]]
        command_status = CommandStatus.ACCEPTED if status == "Accepted" else CommandStatus.REJECTED
        return CommandLog(status=command_status, response={"status": status})

    monkeypatch.setattr(gateway, "execute_command", fake)


def test_each_key_gets_the_stations_answer_and_accepted_keys_are_read_back(org, abb, monkeypatch):
    abb.connection_state = "online"
    abb.save()
    baseline = make_baseline(org, "A = 1\nB = 2\nC = 3\nD = 4")
    sent = []
    answering(
        monkeypatch,
        {"A": "Accepted", "B": "Rejected", "C": "RebootRequired", "D": "NotSupported"},
        sent,
    )
    run = gateway.apply_baseline(baseline, abb, OPERATOR)
    assert {r.variable: r.status for r in run.results.all()} == {
        "A": ResultStatus.ACCEPTED,
        "B": ResultStatus.REJECTED,
        "C": ResultStatus.REBOOT_REQUIRED,
        "D": ResultStatus.NOT_SUPPORTED,
    }
    assert run.status == RunStatus.PARTIAL and run.finished is not None
    assert sent[-1] == ("get_configuration", {"keys": ["A"]})


def test_an_offline_station_gets_offline_results(org, abb):
    baseline = make_baseline(org, "HeartbeatInterval = 300\nMeterValueSampleInterval = 60")
    run = gateway.apply_baseline(baseline, abb, OPERATOR)
    assert run.status == RunStatus.FAILED
    assert run.message == "The station is offline."
    assert set(run.results.values_list("status", flat=True)) == {ResultStatus.OFFLINE}


def test_a_baseline_without_settings_for_the_version_sends_nothing(org, abb):
    baseline = make_baseline(org, "OCPPCommCtrlr/HeartbeatInterval = 300")
    run = gateway.apply_baseline(baseline, abb, OPERATOR)
    assert run.status == RunStatus.NOTHING and not run.results.exists()


def test_a_run_is_sent_once(org, abb):
    baseline = make_baseline(org)
    run = gateway.apply_baseline(baseline, abb, OPERATOR)
    assert gateway.execute_run(run.pk) is None
    assert run.results.count() == 1


# --- first boot ------------------------------------------------------------------------------


def booted(station, status="Accepted"):
    return Event(
        STATION_BOOTED,
        {
            "organization_id": station.organization_id,
            "station_id": station.pk,
            "registration_status": status,
        },
    )


def test_a_first_accepted_boot_queues_the_first_boot_baselines_once(org, abb):
    wanted = make_baseline(org, apply_at_first_boot=True)
    make_baseline(org)  # not at first boot
    make_baseline(org, vendor="Other", apply_at_first_boot=True)
    gateway.apply_at_first_boot([booted(abb, "Pending"), booted(abb)])
    gateway.apply_at_first_boot([booted(abb)])
    [run] = BaselineRun.objects.all()
    assert (run.baseline, run.station, run.trigger) == (wanted, abb, RunTrigger.FIRST_BOOT)
    assert FirstBoot.objects.get().organization == org


def test_a_station_moved_to_another_organization_boots_first_there(org, other_org, abb):
    theirs = make_baseline(other_org, apply_at_first_boot=True)
    gateway.apply_at_first_boot([booted(abb)])
    abb.organization = other_org
    abb.save()
    gateway.apply_at_first_boot([booted(abb)])
    assert [run.baseline for run in BaselineRun.objects.all()] == [theirs]


def test_a_rejected_boot_is_no_first_boot(org, abb):
    make_baseline(org, apply_at_first_boot=True)
    gateway.apply_at_first_boot([booted(abb, "Rejected")])
    assert not BaselineRun.objects.exists() and not FirstBoot.objects.exists()


# --- portal and API --------------------------------------------------------------------------


def apply_url(baseline):
    return reverse(
        "baseline-apply:apply", kwargs={"org": baseline.organization.slug, "pk": baseline.pk}
    )


def portal(org, role):
    client = Client()
    client.force_login(member((org, role)))
    return client


def test_an_operator_applies_a_baseline_to_a_station_from_the_portal(org, abb):
    baseline = make_baseline(org)
    response = portal(org, Role.OPERATOR).post(apply_url(baseline), {"station": [abb.pk]})
    assert response.status_code == 302
    run = BaselineRun.objects.get()
    # No serving loop and no worker in this test: the run went inline.
    assert (run.station, run.trigger, run.status) == (abb, RunTrigger.MANUAL, RunStatus.FAILED)


def test_the_portal_refuses_a_station_of_another_model(org, abb):
    baseline = make_baseline(org, model="Terra")
    response = portal(org, Role.OPERATOR).post(apply_url(baseline), {"station": [abb.pk]})
    assert response.status_code == 400
    assert "Choose stations of the baseline" in response.content.decode()
    assert not BaselineRun.objects.exists()


def test_a_viewer_may_not_apply_and_an_outsider_gets_404(org, other_org, abb):
    baseline = make_baseline(org)
    assert (
        portal(org, Role.VIEWER).post(apply_url(baseline), {"station": [abb.pk]}).status_code == 403
    )
    outsider = portal(other_org, Role.OWNER)
    assert outsider.post(apply_url(baseline), {"station": [abb.pk]}).status_code == 404
    api = client_as(other_org, Role.OWNER)
    url = f"/api/v1/configuration-baselines/{baseline.pk}/apply/"
    assert api.post(url, {"stations": [abb.pk]}, format="json").status_code == 404
    assert (
        client_as(org, Role.VIEWER).post(url, {"drifting": True}, format="json").status_code == 403
    )
    assert not BaselineRun.objects.exists()


def test_the_api_applies_to_the_stations_named(org, abb):
    baseline = make_baseline(org)
    response = client_as(org, Role.OPERATOR).post(
        f"/api/v1/configuration-baselines/{baseline.pk}/apply/",
        {"stations": [abb.pk]},
        format="json",
    )
    assert response.status_code == 202, response.json()
    [run] = response.json()["runs"]
    assert (run["station"], run["status"]) == (abb.pk, "failed")
    assert run["results"][0]["status"] == "Offline"


@pytest.mark.parametrize("body", [{}, {"stations": []}, {"stations": ["x"]}])
def test_the_api_refuses_an_apply_without_stations(org, abb, body):
    baseline = make_baseline(org)
    response = client_as(org, Role.OPERATOR).post(
        f"/api/v1/configuration-baselines/{baseline.pk}/apply/", body, format="json"
    )
    assert response.status_code == 400 and "stations" in response.json()


def test_the_api_refuses_another_organizations_station(org, other_org, abb):
    baseline = make_baseline(org)
    theirs = ChargingStationFactory(organization=other_org, vendor="ABB", connectors=0)
    response = client_as(org, Role.OPERATOR).post(
        f"/api/v1/configuration-baselines/{baseline.pk}/apply/",
        {"stations": [abb.pk, theirs.pk]},
        format="json",
    )
    assert response.status_code == 400 and "stations" in response.json()
    assert not BaselineRun.objects.exists()


def test_a_201_station_gets_one_set_variables_with_every_setting(org, monkeypatch):
    station = ChargingStationFactory(
        organization=org, vendor="ABB", ocpp_version=OcppVersion.V201, connection_state="online"
    )
    baseline = make_baseline(org, "OCPPCommCtrlr/HeartbeatInterval = 300\nEVSE@1/Power:MaxSet = 7")
    sent = []
    answering(monkeypatch, {}, sent)
    run = gateway.apply_baseline(baseline, station, OPERATOR)
    [(name, params)] = sent
    assert name == "set_variables"
    assert params["variables"][0] == {
        "component": "EVSE",
        "component_instance": "",
        "variable": "Power",
        "variable_instance": "",
        "attribute_type": "MaxSet",
        "evse_id": 1,
        "value": "7",
    }
    # The fake station stored no answers: every setting failed, none was read back.
    assert set(run.results.values_list("status", flat=True)) == {ResultStatus.FAILED}


def test_the_sweep_closes_runs_a_stopped_process_left_running(org, abb):
    baseline = make_baseline(org)
    long_ago = timezone.now() - timedelta(hours=2)
    left = BaselineRun.objects.create(
        baseline=baseline, station=abb, status=RunStatus.RUNNING, started=long_ago
    )
    recent = BaselineRun.objects.create(
        baseline=baseline, station=abb, status=RunStatus.RUNNING, started=timezone.now()
    )
    gateway.resume_baseline_runs()
    left.refresh_from_db()
    recent.refresh_from_db()
    assert (left.status, recent.status) == (RunStatus.FAILED, RunStatus.RUNNING)
    assert "stopped" in left.message


def test_a_run_the_sweep_closed_while_it_was_sending_keeps_the_sweeps_outcome(
    org, abb, monkeypatch, django_capture_on_commit_callbacks
):
    abb.connection_state = "online"
    abb.save()
    baseline = make_baseline(org, "A = 1")
    finished = []
    events.subscribe(BASELINE_RUN_FINISHED, finished.extend)

    def slow_station(station, name, params, *, actor):
        # While the station takes its time, the sweep believes the sender died.
        BaselineRun.objects.update(started=timezone.now() - timedelta(hours=2))
        gateway.resume_baseline_runs()
        return CommandLog(status=CommandStatus.ACCEPTED, response={"status": "Accepted"})

    monkeypatch.setattr(gateway, "execute_command", slow_station)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            run = gateway.apply_baseline(baseline, abb, OPERATOR)
    finally:
        events.unsubscribe(BASELINE_RUN_FINISHED, finished.extend)

    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and "stopped" in run.message
    assert not run.results.exists()
    assert [event["status"] for event in finished] == [RunStatus.FAILED]


def test_the_sweep_waits_longer_for_a_run_of_many_settings(org, abb):
    baseline = make_baseline(org, "\n".join(f"Key{n} = {n}" for n in range(200)))
    run = BaselineRun.objects.create(
        baseline=baseline,
        station=abb,
        status=RunStatus.RUNNING,
        started=timezone.now() - timedelta(hours=2),
    )
    gateway.resume_baseline_runs()
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING


def test_the_sweep_fails_old_pending_runs_it_has_no_way_to_send(org, abb):
    baseline = make_baseline(org)
    old = BaselineRun.objects.create(baseline=baseline, station=abb)
    lost = BaselineRun.objects.create(baseline=baseline, station=abb)
    BaselineRun.objects.filter(pk=old.pk).update(created=timezone.now() - timedelta(hours=2))
    BaselineRun.objects.filter(pk=lost.pk).update(created=timezone.now() - timedelta(minutes=10))

    assert gateway.start_runs([old.pk]) == "later"
    gateway.resume_baseline_runs()

    old.refresh_from_db()
    lost.refresh_from_db()
    assert (old.status, old.message) == (RunStatus.FAILED, "Not sent; apply again.")
    assert lost.status == RunStatus.PENDING
