"""What a station reports about smart charging and firmware publication, and what pages show.

Services store what the gateway's handlers hand them (2.0.1 is the only version with these
messages): the profiles a station says it has installed, limits set by systems beside the CSMS,
what an EV asked for over ISO 15118, and the firmware a local controller publishes.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from stations.models import (
    ChargingStation,
    EVChargingNeeds,
    ExternalChargingLimit,
    FirmwarePublication,
    ReportedChargingProfile,
)

RECENT_NEEDS, RECENT_PUBLICATIONS = 20, 5


@dataclass(frozen=True, slots=True)
class ProfileReport:
    """One installed profile as a station reported it, with the fields pages sort and filter by."""

    profile_id: int
    purpose: str
    stack_level: int
    kind: str
    transaction_id: str = ""
    # The profile exactly as reported, for whoever wants its schedule.
    profile: dict = field(default_factory=dict)


@transaction.atomic
def record_reported_profiles(
    station: ChargingStation,
    request_id: int,
    evse_number: int,
    source: str,
    profiles: list[ProfileReport],
    at: datetime | None = None,
) -> None:
    """Keep one part of a station's answer to a profile request; a newer request replaces it."""
    at = at or timezone.now()
    # The stored list is the answer to the latest request: parts of it add up, another
    # request's answer replaces it. A part sent twice changes nothing.
    forget_reported_profiles(station, keep_request=request_id)
    for report in profiles:
        ReportedChargingProfile.objects.update_or_create(
            station=station,
            request_id=request_id,
            evse_number=evse_number,
            source=source,
            profile_id=report.profile_id,
            defaults={
                "purpose": report.purpose,
                "stack_level": report.stack_level,
                "kind": report.kind,
                "transaction_id": report.transaction_id,
                "profile": report.profile,
                "reported_at": at,
            },
        )


def forget_reported_profiles(station: ChargingStation, keep_request: int | None = None) -> int:
    """Drop what the station reported before the request `keep_request`; how many rows went."""
    stale = ReportedChargingProfile.objects.filter(station=station)
    if keep_request is not None:
        stale = stale.exclude(request_id=keep_request)
    return stale.delete()[0]


@transaction.atomic
def record_charging_limit(
    station: ChargingStation,
    source: str,
    evse_number: int = 0,
    *,
    grid_critical: bool | None = None,
    schedules: list | None = None,
    at: datetime | None = None,
) -> ExternalChargingLimit:
    """A system beside the CSMS set or changed its limit on the station or one EVSE."""
    at = at or timezone.now()
    limit = (
        ExternalChargingLimit.objects.select_for_update()
        .active()
        .filter(station=station, evse_number=evse_number, source=source)
        .first()
    )
    if limit is None:
        limit = ExternalChargingLimit(station=station, evse_number=evse_number, source=source)
    # A new notification from the same source replaces what it said before.
    limit.grid_critical = grid_critical
    limit.schedules = schedules or []
    limit.reported_at = at
    limit.save()
    return limit


def clear_charging_limit(
    station: ChargingStation,
    source: str,
    evse_number: int | None = None,
    at: datetime | None = None,
) -> int:
    """The source released its limit on one EVSE (None: every limit it set); how many ended."""
    limits = ExternalChargingLimit.objects.active().filter(station=station, source=source)
    if evse_number is not None:
        limits = limits.filter(evse_number=evse_number)
    return limits.update(cleared_at=at or timezone.now())


def record_ev_charging_needs(
    station: ChargingStation,
    evse_number: int,
    *,
    energy_transfer: str,
    needs: dict,
    energy_amount: int | None = None,
    departure_time: datetime | None = None,
    max_schedule_tuples: int | None = None,
    at: datetime | None = None,
) -> EVChargingNeeds:
    """An EV told the EVSE what it needs (a new row each time: a renegotiation is history)."""
    return EVChargingNeeds.objects.create(
        station=station,
        evse_number=evse_number,
        energy_transfer=energy_transfer,
        energy_amount=energy_amount,
        departure_time=departure_time,
        max_schedule_tuples=max_schedule_tuples,
        needs=needs,
        reported_at=at or timezone.now(),
    )


@transaction.atomic
def record_ev_charging_schedule(
    station: ChargingStation,
    evse_number: int,
    schedule: dict,
    time_base: datetime,
    status: str,
    at: datetime | None = None,
) -> EVChargingNeeds:
    """The schedule an EV proposed on an EVSE and our answer, kept with its latest needs."""
    at = at or timezone.now()
    needs = (
        EVChargingNeeds.objects.select_for_update()
        .filter(station=station, evse_number=evse_number)
        .order_by("-reported_at", "-id")
        .first()
    )
    if needs is None:
        # The station never sent the needs (or before we kept them): the schedule alone.
        needs = EVChargingNeeds(station=station, evse_number=evse_number, reported_at=at)
    needs.schedule = schedule
    needs.schedule_time_base = time_base
    needs.schedule_status = status
    needs.schedule_reported_at = at
    needs.save()
    return needs


def record_firmware_publication(
    station: ChargingStation, request_id: int, location: str, checksum: str
) -> FirmwarePublication:
    """A local controller is asked to publish firmware (kept before the request is sent)."""
    return FirmwarePublication.objects.create(
        station=station, request_id=request_id, location=location, checksum=checksum.lower()
    )


def forget_firmware_publication(publication: FirmwarePublication) -> None:
    """A publication the controller refused or never received: there is nothing to follow."""
    FirmwarePublication.objects.filter(pk=publication.pk).delete()


@transaction.atomic
def record_publish_firmware_status(
    station: ChargingStation,
    status: str,
    request_id: int | None = None,
    locations: list[str] | None = None,
    at: datetime | None = None,
) -> FirmwarePublication:
    """Progress of a publication; without a request id, of the controller's latest one."""
    at = at or timezone.now()
    publications = FirmwarePublication.objects.select_for_update().filter(station=station)
    if request_id is not None:
        publications = publications.filter(request_id=request_id)
    publication = publications.order_by("-requested_at", "-id").first()
    if publication is None:
        # Not one we asked for (or asked for before we kept them): kept all the same.
        publication = FirmwarePublication(station=station, request_id=request_id, requested_at=at)
    publication.status = status
    publication.status_at = at
    if locations:
        publication.published_locations = list(locations)
    publication.save()
    return publication


def record_firmware_unpublished(
    station: ChargingStation, checksum: str, at: datetime | None = None
) -> int:
    """The controller no longer serves the firmware with this checksum; how many rows ended."""
    return FirmwarePublication.objects.filter(
        station=station, checksum=checksum.lower(), unpublished_at__isnull=True
    ).update(unpublished_at=at or timezone.now())


# --- selectors -----------------------------------------------------------------------------------


def schedule_summary(schedules: list[dict]) -> str:
    """A reported schedule list in a line: "16 A from 0 s, 8.5 A from 3600 s" (2.0.1 shape)."""
    parts = []
    for schedule in schedules or ():
        unit = schedule.get("chargingRateUnit", "")
        parts.extend(
            f"{period['limit']:g} {unit} from {period['startPeriod']} s"
            for period in schedule.get("chargingSchedulePeriod") or ()
        )
    return ", ".join(parts)


def reported_profiles(station: ChargingStation, organization=None):
    """The profiles of the station's latest report (one request's parts)."""
    profiles = ReportedChargingProfile.objects.filter(station=station)
    if organization is not None:
        profiles = profiles.for_org(organization)
    return profiles.order_by("evse_number", "purpose", "-stack_level", "profile_id")


def active_limits(station: ChargingStation, organization=None):
    """The external limits on the station that were not cleared, newest first."""
    limits = ExternalChargingLimit.objects.active().filter(station=station)
    if organization is not None:
        limits = limits.for_org(organization)
    return limits.order_by("evse_number", "-reported_at", "-id")


def latest_ev_needs(station: ChargingStation, organization=None) -> list[EVChargingNeeds]:
    """The last needs (and schedule) an EV reported on each EVSE, by EVSE."""
    recent = EVChargingNeeds.objects.filter(station=station)
    if organization is not None:
        recent = recent.for_org(organization)
    latest: dict[int, EVChargingNeeds] = {}
    for needs in recent.order_by("-reported_at", "-id")[:RECENT_NEEDS]:
        latest.setdefault(needs.evse_number, needs)
    return [latest[evse] for evse in sorted(latest)]


def recent_publications(station: ChargingStation, organization=None):
    """The firmware the station (a local controller) was last asked to publish."""
    publications = FirmwarePublication.objects.filter(station=station)
    if organization is not None:
        publications = publications.for_org(organization)
    return publications.order_by("-requested_at", "-id")[:RECENT_PUBLICATIONS]


def station_smart_charging(station: ChargingStation, organization) -> dict:
    """What the station page shows of smart charging: profiles, limits, EV needs, firmware."""
    profiles = list(reported_profiles(station, organization))
    for profile in profiles:
        profile.limits = schedule_summary(profile.profile.get("chargingSchedule"))
    limits = list(active_limits(station, organization))
    for limit in limits:
        limit.limits = schedule_summary(limit.schedules)
    needs = latest_ev_needs(station, organization)
    for entry in needs:
        entry.limits = schedule_summary([entry.schedule] if entry.schedule else [])
    return {
        "reported_profiles": profiles,
        "external_limits": limits,
        "ev_needs": needs,
        "firmware_publications": list(recent_publications(station, organization)),
    }
