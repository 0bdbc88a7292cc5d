"""Diagnostics retention: each organization's setting, the purge task, and where it is set."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from organizations.choices import Role
from organizations.models import Organization
from stations import diagnostics
from stations.models import DiagnosticsFile, DiagnosticsRequest
from stations.tasks import purge_old_diagnostics
from tests.apiclients import client_as
from tests.factories import ChargingStationFactory
from tests.portalclients import org_url, portal_client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DIAGNOSTICS_RETENTION_DAYS = 90


def days_ago(days):
    return timezone.now() - timedelta(days=days)


def received(station, days, name="diag.bin") -> DiagnosticsFile:
    """A file the station uploaded `days` ago, stored in the media folder."""
    upload = DiagnosticsFile(station=station, original_name=name, size=4, received=days_ago(days))
    upload.file.save(f"{station.pk}-{name}", ContentFile(b"data"), save=False)
    upload.save()
    return upload


def requested(station, expired_days_ago, token="t") -> DiagnosticsRequest:
    return DiagnosticsRequest.objects.create(
        station=station,
        token_hash=f"{token}{station.pk}{expired_days_ago}".ljust(64, "0"),
        created=days_ago(expired_days_ago + 1),
        expires_at=days_ago(expired_days_ago),
    )


def remaining(station) -> set[str]:
    return set(
        DiagnosticsFile.objects.filter(station=station).values_list("original_name", flat=True)
    )


def set_retention(org, days):
    Organization.objects.filter(pk=org.pk).update(diagnostics_retention_days=days)


def test_files_older_than_the_organizations_retention_are_deleted(org, station):
    set_retention(org, 10)
    received(station, 11, "old.bin")
    received(station, 9, "recent.bin")
    assert purge_old_diagnostics() == 1
    assert remaining(station) == {"recent.bin"}


def test_without_a_setting_of_its_own_the_platform_default_applies(org, station, settings):
    settings.DIAGNOSTICS_RETENTION_DAYS = 30
    received(station, 31, "old.bin")
    received(station, 29, "recent.bin")
    purge_old_diagnostics()
    assert remaining(station) == {"recent.bin"}


def test_each_organization_keeps_its_files_for_its_own_retention(org, other_org, station):
    theirs = ChargingStationFactory(organization=other_org, ocpp_id="CS-THEIRS")
    set_retention(org, 5)
    set_retention(other_org, 60)
    received(station, 20, "ours.bin")
    received(theirs, 20, "theirs.bin")
    purge_old_diagnostics()
    assert remaining(station) == set()
    assert remaining(theirs) == {"theirs.bin"}


def test_requests_expired_longer_than_the_retention_are_deleted(org, station):
    set_retention(org, 10)
    requested(station, 11)
    kept_expired = requested(station, 2)
    still_open = DiagnosticsRequest.objects.create(
        station=station, token_hash="o" * 64, expires_at=timezone.now() + timedelta(hours=1)
    )
    purge_old_diagnostics()
    assert set(DiagnosticsRequest.objects.values_list("pk", flat=True)) == {
        kept_expired.pk,
        still_open.pk,
    }


def test_the_purge_is_idempotent(org, station):
    received(station, 100)
    assert purge_old_diagnostics() == 1
    assert purge_old_diagnostics() == 0


def test_the_purge_deletes_in_batches(org, station, monkeypatch):
    monkeypatch.setattr(diagnostics, "PURGE_BATCH", 2)
    for n in range(5):
        received(station, 100, f"old-{n}.bin")
    received(station, 1, "recent.bin")
    assert purge_old_diagnostics() == 5
    assert remaining(station) == {"recent.bin"}


def test_a_purged_files_stored_copy_is_deleted_too(
    org, station, django_capture_on_commit_callbacks
):
    path = Path(received(station, 100).file.path)
    assert path.exists()
    # The stored file goes once the deletion commits: run those callbacks as a commit would.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        purge_old_diagnostics()
    assert callbacks
    assert not path.exists()


def test_one_organizations_huge_retention_does_not_stop_the_others_purge(org, other_org, station):
    theirs = ChargingStationFactory(organization=other_org, ocpp_id="CS-THEIRS")
    # Stored before the limit existed: now - 800000 days is before year 1 (OverflowError).
    set_retention(org, 800_000)
    set_retention(other_org, 5)
    received(station, 20, "ours.bin")
    received(theirs, 20, "theirs.bin")

    assert purge_old_diagnostics() == 1

    assert remaining(station) == {"ours.bin"}
    assert remaining(theirs) == set()


def test_an_unassigned_stations_files_follow_the_platform_default(settings):
    settings.DIAGNOSTICS_RETENTION_DAYS = 30
    loose = ChargingStationFactory(organization=None, site=None, ocpp_id="CS-LOOSE")
    received(loose, 31, "old.bin")
    received(loose, 1, "recent.bin")
    purge_old_diagnostics()
    assert remaining(loose) == {"recent.bin"}


def test_the_task_is_registered_under_its_beat_name():
    assert purge_old_diagnostics.name == "stations.tasks.purge_old_diagnostics"


# --- where the retention is set ---------------------------------------------------------------


def settings_body(org, **changes):
    fields = {
        "name": org.name,
        "timezone": org.timezone,
        "currency": org.currency,
        "billing_period": org.billing_period,
        "invoice_prefix": org.invoice_prefix,
    }
    return {**fields, **changes}


def test_an_owner_sets_the_retention_on_the_settings_page(org):
    client = portal_client(org, Role.OWNER)
    assert (
        'name="diagnostics_retention_days"'
        in client.get(org_url(org, "organization/")).content.decode()
    )
    response = client.post(
        org_url(org, "organization/"), settings_body(org, diagnostics_retention_days="30")
    )
    assert response.status_code == 302
    assert Organization.objects.get(pk=org.pk).diagnostics_retention_days == 30


def test_a_retention_of_zero_days_is_refused_on_the_page(org):
    response = portal_client(org, Role.OWNER).post(
        org_url(org, "organization/"), settings_body(org, diagnostics_retention_days="0")
    )
    assert response.status_code == 400
    assert Organization.objects.get(pk=org.pk).diagnostics_retention_days is None


def test_an_admin_may_not_change_the_retention(org):
    response = portal_client(org, Role.ADMIN).post(
        org_url(org, "organization/"), settings_body(org, diagnostics_retention_days="1")
    )
    assert response.status_code == 403
    assert Organization.objects.get(pk=org.pk).diagnostics_retention_days is None


def test_an_owner_sets_the_retention_through_the_api(org):
    client = client_as(org, Role.OWNER)
    url = f"/api/v1/organizations/{org.pk}/"
    response = client.patch(url, {"diagnostics_retention_days": 14}, format="json")
    assert response.status_code == 200
    assert response.json()["diagnostics_retention_days"] == 14
    for days in (0, 36501):
        refused = client.patch(url, {"diagnostics_retention_days": days}, format="json")
        assert refused.status_code == 400
        assert "diagnostics_retention_days" in refused.json()
    assert Organization.objects.get(pk=org.pk).diagnostics_retention_days == 14


def test_an_outsider_cannot_change_our_retention(org, other_org):
    client = client_as(other_org, Role.OWNER)
    response = client.patch(
        f"/api/v1/organizations/{org.pk}/", {"diagnostics_retention_days": 1}, format="json"
    )
    assert response.status_code == 404
    page = portal_client(other_org, Role.OWNER).post(
        org_url(org, "organization/"), settings_body(org, diagnostics_retention_days="1")
    )
    assert page.status_code == 404
    assert Organization.objects.get(pk=org.pk).diagnostics_retention_days is None
