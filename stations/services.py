"""Writes and business rules for sites and stations."""

from django.db import transaction

from stations.choices import RegistrationStatus
from stations.exceptions import StationAssignmentError
from stations.models import ChargingStation, Site


@transaction.atomic
def assign_station(station: ChargingStation, site: Site) -> ChargingStation:
    """Move a station (typically from the unassigned pool) to a site and accept it."""
    if station.organization_id and station.organization_id != site.organization_id:
        raise StationAssignmentError("The station already belongs to another organization.")
    station.organization_id = site.organization_id
    station.site = site
    station.registration_status = RegistrationStatus.ACCEPTED
    station.save(update_fields=["organization", "site", "registration_status", "updated"])
    return station
