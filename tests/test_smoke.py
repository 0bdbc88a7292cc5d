"""The project imports and its models are migrated."""

from stations.models import ChargingStation


def test_migrated_database_has_no_stations(db):
    assert ChargingStation.objects.count() == 0
