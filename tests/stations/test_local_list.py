"""The local list a station holds: kept with its version when the station accepts it."""

from stations.models import ChargingStation
from stations.services import record_local_list


def test_an_accepted_list_is_stored_with_its_version(station):
    assert record_local_list(station, 3, {"04000001": {"status": "Accepted"}})

    stored = ChargingStation.objects.get(pk=station.pk)
    assert (stored.local_list_version, stored.local_list_snapshot) == (
        3,
        {"04000001": {"status": "Accepted"}},
    )


def test_a_late_answer_to_an_older_list_does_not_overwrite_a_newer_one(station):
    record_local_list(station, 3, {"04000003": {"status": "Accepted"}})

    assert not record_local_list(
        ChargingStation.objects.get(pk=station.pk), 2, {"04000002": {"status": "Accepted"}}
    )
    stored = ChargingStation.objects.get(pk=station.pk)
    assert (stored.local_list_version, list(stored.local_list_snapshot)) == (3, ["04000003"])
