"""firmware_failed and diagnostics_failed: a failed update or upload, until one succeeds."""

import pytest

from alerts.choices import RuleKind
from alerts.models import Alert
from stations.services import record_diagnostics_status, record_firmware_status

FIRMWARE = RuleKind.FIRMWARE_FAILED
DIAGNOSTICS = RuleKind.DIAGNOSTICS_FAILED


@pytest.fixture
def firmware(committed, station):
    def report(status):
        with committed():
            record_firmware_status(station, status)

    return report


@pytest.fixture
def diagnostics(committed, station):
    def report(status):
        with committed():
            record_diagnostics_status(station, status)

    return report


@pytest.mark.parametrize(
    "status",
    ["DownloadFailed", "InstallationFailed", "InstallVerificationFailed", "InvalidSignature"],
)
def test_a_failed_firmware_update_opens_an_alert(
    org, station, make_rule, firmware, live_alerts, status
):
    rule = make_rule(org, FIRMWARE)
    firmware(status)
    [alert] = live_alerts(FIRMWARE, org)
    assert (alert.station, alert.rule, alert.details) == (station, rule, {"status": status})


@pytest.mark.parametrize("status", ["Downloading", "Downloaded", "Installing", "Idle"])
def test_firmware_progress_opens_nothing(org, make_rule, firmware, status):
    make_rule(org, FIRMWARE)
    firmware(status)
    assert not Alert.objects.exists()


def test_a_second_failed_update_counts_on_the_same_alert(org, make_rule, firmware, live_alerts):
    make_rule(org, FIRMWARE)
    firmware("DownloadFailed")
    firmware("InstallationFailed")
    [alert] = live_alerts(FIRMWARE, org)
    assert (alert.occurrences, alert.details["status"]) == (2, "InstallationFailed")


def test_an_installed_firmware_resolves_the_alert(org, make_rule, firmware, live_alerts):
    make_rule(org, FIRMWARE)
    firmware("InstallationFailed")
    firmware("Downloading")
    assert len(live_alerts(FIRMWARE, org)) == 1
    firmware("Installed")
    assert live_alerts(FIRMWARE) == []


@pytest.mark.parametrize(
    "status",
    # 1.6 says UploadFailed; 2.0.1 UploadFailure and the reasons it could not even start.
    ["UploadFailed", "UploadFailure", "BadMessage", "PermissionDenied", "NotSupportedOperation"],
)
def test_a_failed_diagnostics_upload_opens_an_alert(
    org, station, make_rule, diagnostics, live_alerts, status
):
    make_rule(org, DIAGNOSTICS)
    diagnostics(status)
    [alert] = live_alerts(DIAGNOSTICS, org)
    assert (alert.station, alert.details) == (station, {"status": status})


def test_a_second_failed_upload_counts_on_the_same_alert(org, make_rule, diagnostics, live_alerts):
    make_rule(org, DIAGNOSTICS)
    diagnostics("UploadFailed")
    diagnostics("UploadFailed")
    [alert] = live_alerts(DIAGNOSTICS, org)
    assert alert.occurrences == 2


def test_an_uploaded_diagnostics_file_resolves_the_alert(org, make_rule, diagnostics, live_alerts):
    make_rule(org, DIAGNOSTICS)
    diagnostics("UploadFailure")
    diagnostics("Uploading")
    diagnostics("Uploaded")
    assert live_alerts(DIAGNOSTICS) == []


def test_a_firmware_failure_is_not_a_diagnostics_failure(org, make_rule, firmware, live_alerts):
    make_rule(org, DIAGNOSTICS)
    firmware("DownloadFailed")
    assert not Alert.objects.exists()
