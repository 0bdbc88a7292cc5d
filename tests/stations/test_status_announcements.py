"""What station writes tell subscribers: fault codes with a status, firmware and log progress."""

import pytest

from core import events
from stations.events import (
    STATION_DIAGNOSTICS_STATUS,
    STATION_FIRMWARE_STATUS,
    STATION_STATUS_CHANGED,
)
from stations.services import record_diagnostics_status, record_firmware_status, record_status


@pytest.fixture
def heard():
    names = (STATION_STATUS_CHANGED, STATION_FIRMWARE_STATUS, STATION_DIAGNOSTICS_STATUS)
    seen: dict[str, list[dict]] = {name: [] for name in names}

    def listen(batch):
        for event in batch:
            seen[event.name].append(event.data)

    for name in names:
        events.subscribe(name, listen)
    yield seen
    for name in names:
        events.unsubscribe(name, listen)


def test_a_fault_is_announced_with_its_error_codes(
    station, heard, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        record_status(station, 1, "Faulted", error_code="GroundFailure", vendor_error_code="E42")
    [event] = heard[STATION_STATUS_CHANGED]
    connector = station.connectors.get(connector_id=1)
    assert event == {
        "organization_id": station.organization_id,
        "station_id": station.pk,
        "connector_id": connector.pk,
        "status": "Faulted",
        "error_code": "GroundFailure",
        "vendor_error_code": "E42",
    }


def test_firmware_progress_is_announced_as_the_station_spelled_it(
    station, heard, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        record_firmware_status(station, "InstallationFailed")
    assert heard[STATION_FIRMWARE_STATUS] == [
        {
            "organization_id": station.organization_id,
            "station_id": station.pk,
            "status": "InstallationFailed",
        }
    ]


def test_diagnostics_progress_is_announced(station, heard, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        record_diagnostics_status(station, "UploadFailed")
    assert [e["status"] for e in heard[STATION_DIAGNOSTICS_STATUS]] == ["UploadFailed"]
