"""Portal: the baseline pages (admins manage, everybody reads) and the station page's panel."""

import pytest
from django.test import Client
from django.urls import reverse

from baselines.models import ConfigurationBaseline
from organizations.choices import Role
from tests.apiclients import member
from tests.baselines.factories_baselines import make_baseline, report_keys
from tests.factories import ChargingStationFactory

pytestmark = pytest.mark.django_db


def client_of(org, role):
    client = Client()
    client.force_login(member((org, role)))
    return client


def url(org, name, **kwargs):
    return reverse(f"baselines:{name}", kwargs={"org": org.slug, **kwargs})


FORM = {
    "name": "ABB defaults",
    "vendor": "ABB",
    "model": "",
    "detect_drift": "on",
    "settings": "HeartbeatInterval = 300\nOCPPCommCtrlr/HeartbeatInterval = 300",
}


def test_an_admin_adds_a_baseline_from_key_value_lines(org):
    response = client_of(org, Role.ADMIN).post(url(org, "baseline-create"), FORM)
    baseline = ConfigurationBaseline.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url(org, "baseline-detail", pk=baseline.pk)
    assert baseline.detect_drift and not baseline.apply_at_first_boot
    assert sorted(s.label for s in baseline.settings.all()) == [
        "HeartbeatInterval",
        "OCPPCommCtrlr/HeartbeatInterval",
    ]


def test_wrong_lines_come_back_as_field_errors(org):
    response = client_of(org, Role.ADMIN).post(
        url(org, "baseline-create"), {**FORM, "settings": "HeartbeatInterval 300"}
    )
    assert response.status_code == 400
    assert "Line 1: write" in str(response.context["form"].errors["settings"])
    assert not ConfigurationBaseline.objects.exists()


def test_an_evse_number_beyond_what_is_stored_is_a_field_error_not_a_crash(org):
    response = client_of(org, Role.ADMIN).post(
        url(org, "baseline-create"), {**FORM, "settings": "Comp@99999999999999999999/Var = 1"}
    )
    assert response.status_code == 400
    assert "EVSE and connector numbers" in str(response.context["form"].errors["settings"])
    assert not ConfigurationBaseline.objects.exists()


def test_an_operator_may_not_add_or_edit_baselines(org):
    baseline = make_baseline(org)
    operator = client_of(org, Role.OPERATOR)
    assert operator.post(url(org, "baseline-create"), FORM).status_code == 403
    assert operator.get(url(org, "baseline-edit", pk=baseline.pk)).status_code == 403


def test_the_edit_form_shows_the_settings_as_lines(org):
    baseline = make_baseline(org, "HeartbeatInterval = 300")
    response = client_of(org, Role.ADMIN).get(url(org, "baseline-edit", pk=baseline.pk))
    assert response.status_code == 200
    assert response.context["form"].initial["settings"] == "HeartbeatInterval = 300"


def test_the_list_counts_drifting_stations_in_few_queries(
    org, committed, django_assert_max_num_queries
):
    baseline = make_baseline(org, "HeartbeatInterval = 300")
    make_baseline(org, "HeartbeatInterval = 300", vendor="Other")
    station = ChargingStationFactory(organization=org, vendor="ABB", connectors=0)
    with committed():
        report_keys(station, HeartbeatInterval="900")
    viewer = client_of(org, Role.VIEWER)
    with django_assert_max_num_queries(12):
        response = viewer.get(url(org, "baseline-list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert f'<tr data-baseline="{baseline.pk}">' in body
    assert 'data-drifting="1"' in body and 'data-drifting="0"' in body


def test_the_detail_page_shows_which_station_drifts_and_where(org, committed):
    baseline = make_baseline(org, "HeartbeatInterval = 300")
    station = ChargingStationFactory(organization=org, vendor="ABB", connectors=0)
    with committed():
        report_keys(station, HeartbeatInterval="900")
    response = client_of(org, Role.VIEWER).get(url(org, "baseline-detail", pk=baseline.pk))
    body = response.content.decode()
    assert f'<tr data-station="{station.pk}" data-drifting="true">' in body
    # A viewer sees no apply buttons.
    assert 'name="station"' not in body


def test_the_station_page_shows_desired_and_reported_values(org, committed):
    make_baseline(org, "HeartbeatInterval = 300")
    station = ChargingStationFactory(organization=org, vendor="ABB", connectors=0)
    with committed():
        report_keys(station, HeartbeatInterval="900")
    response = client_of(org, Role.VIEWER).get(
        reverse("stations:station-detail", kwargs={"org": org.slug, "pk": station.pk})
    )
    body = response.content.decode()
    assert '<tr data-drift-key="HeartbeatInterval">' in body
    assert "<code>300</code></td><td><code>900</code>" in body


def test_an_admin_deletes_a_baseline(org):
    baseline = make_baseline(org)
    response = client_of(org, Role.ADMIN).post(url(org, "baseline-delete", pk=baseline.pk))
    assert response.status_code == 302
    assert not ConfigurationBaseline.objects.exists()


def test_an_outsider_sees_and_changes_nothing(org, other_org):
    baseline = make_baseline(org)
    outsider = client_of(other_org, Role.OWNER)
    for name in ("baseline-detail", "baseline-edit", "baseline-runs"):
        assert outsider.get(url(org, name, pk=baseline.pk)).status_code == 404
    assert outsider.get(url(other_org, "baseline-detail", pk=baseline.pk)).status_code == 404
    assert outsider.post(url(other_org, "baseline-delete", pk=baseline.pk)).status_code == 404
    assert outsider.post(url(org, "baseline-create"), FORM).status_code == 404
    assert ConfigurationBaseline.objects.get().name == baseline.name
