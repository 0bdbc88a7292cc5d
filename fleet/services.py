"""Firmware campaigns: targeting, launch, hand controls, the tick that sends waves, progress."""

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, F, OuterRef, Q
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from core.events import emit, emit_many
from core.timezones import zone_named, zone_of
from firmware.services import download_url
from fleet.choices import (
    FINISHED,
    IN_FLIGHT,
    OPEN_CAMPAIGNS,
    WAITING,
    CampaignState,
    CampaignStationState,
)
from fleet.events import (
    CAMPAIGN_CANCELLED,
    CAMPAIGN_COMPLETED,
    CAMPAIGN_LAUNCHED,
    CAMPAIGN_PAUSED,
    CAMPAIGN_RESUMED,
    CAMPAIGN_STATION_UPDATED,
    CAMPAIGN_WAVE_STARTED,
)
from fleet.models import Campaign, CampaignStation
from ocpp_gateway.choices import CommandStatus, RequestedVia
from ocpp_gateway.remote.registry import (
    Actor,
    CommandNotAllowed,
    InvalidCommandParameters,
    execute_command,
    speaks_16,
)
from organizations.choices import Role
from sessions_app.models import ChargingSession
from stations.choices import ConnectionState
from stations.forms import StationFilterSet
from stations.models import ChargingStation

logger = logging.getLogger(__name__)

# The platform sends a campaign's commands itself, with the rights of the organization's
# owner: the admin who launched the campaign was checked at launch.
SYSTEM = Actor(role=Role.OWNER, via=RequestedVia.SYSTEM)

State = CampaignStationState
# FirmwareStatusNotification words (1.6 and 2.0.1) → the row's state; None: only recorded.
FIRMWARE_STATUS_STATES = {
    "DownloadScheduled": State.DOWNLOADING,
    "Downloading": State.DOWNLOADING,
    "DownloadPaused": State.DOWNLOADING,
    "Downloaded": State.DOWNLOADED,
    "SignatureVerified": State.DOWNLOADED,
    "InstallScheduled": State.DOWNLOADED,
    "Installing": State.INSTALLING,
    "InstallRebooting": State.INSTALLING,
    "Installed": State.INSTALLED,
    "DownloadFailed": State.FAILED,
    "InstallationFailed": State.FAILED,
    "InstallVerificationFailed": State.FAILED,
    "InvalidSignature": State.FAILED,
    "InvalidCertificate": State.FAILED,
    "RevokedCertificate": State.FAILED,
    "Idle": None,
}


class CampaignRefused(Exception):
    """The campaign cannot do that now; `reason` says why in words a person understands."""

    def __init__(self, reason):
        super().__init__(str(reason))
        self.reason = str(reason)


# --- Targeting --------------------------------------------------------------------------------


def filter_errors(organization, text: str) -> list[str]:
    """What is wrong with a station list query string (none: it filters)."""
    if not text:
        return []
    filterset = StationFilterSet(
        QueryDict(text),
        queryset=ChargingStation.objects.for_org(organization),
        organization=organization,
    )
    if filterset.is_valid():
        return []
    return [f"{name}: {' '.join(errors)}" for name, errors in filterset.errors.items()]


@dataclass
class Targeting:
    """The criteria of a campaign's targets; every one given must hold."""

    sites: list = field(default_factory=list)
    vendor: str = ""
    model: str = ""
    version: str = ""
    stations: list = field(default_factory=list)
    filter: str = ""

    @classmethod
    def of(cls, campaign: Campaign) -> "Targeting":
        """The criteria stored on a campaign."""
        return cls(
            sites=list(campaign.target_sites.all()),
            vendor=campaign.target_vendor,
            model=campaign.target_model,
            version=campaign.target_version,
            stations=list(campaign.target_stations.all()),
            filter=campaign.target_filter,
        )


def image_fits(image, station: ChargingStation) -> bool:
    """Whether the image is made for the station's vendor and model (as FirmwareImage.matching)."""
    # The same rule as firmware's queryset, without a query per station.
    if not station.vendor or not station.model:
        return False
    return (
        image.vendor.casefold() == station.vendor.casefold()
        and image.model.casefold() == station.model.casefold()
    )


def matching_stations(organization, targeting: Targeting) -> list[ChargingStation]:
    """The organization's stations that meet every criterion, by OCPP identity."""
    stations = ChargingStation.objects.for_org(organization).select_related("site")
    if targeting.sites:
        stations = stations.filter(site__in=[site.pk for site in targeting.sites])
    if targeting.vendor:
        stations = stations.filter(vendor__iexact=targeting.vendor)
    if targeting.model:
        stations = stations.filter(model__iexact=targeting.model)
    if targeting.version:
        stations = stations.filter(firmware_version=targeting.version)
    if targeting.stations:
        stations = stations.filter(pk__in=[station.pk for station in targeting.stations])
    if targeting.filter:
        filterset = StationFilterSet(
            QueryDict(targeting.filter), queryset=stations, organization=organization
        )
        if not filterset.is_valid():
            raise CampaignRefused(_("The station list filter is not valid."))
        stations = filterset.qs
    return list(stations.order_by("ocpp_id"))


@dataclass(frozen=True)
class TargetPreview:
    """The stations a campaign would reach now, and those its image is not made for."""

    fitting: list
    not_fitting: list


def preview_targets(campaign: Campaign) -> TargetPreview:
    """Who a launch would freeze now."""
    found = matching_stations(campaign.organization, Targeting.of(campaign))
    fitting = [station for station in found if image_fits(campaign.image, station)]
    return TargetPreview(fitting, [s for s in found if not image_fits(campaign.image, s)])


def plan_waves(count: int, canary_percent: int, wave_size: int) -> list[int]:
    """The wave of each of `count` stations: the canary share (at least one) is wave 0."""
    if count == 0:
        return []
    canary = min(count, max(1, math.ceil(count * canary_percent / 100)))
    rest = count - canary
    return [0] * canary + [1 + index // wave_size for index in range(rest)]


# --- Creating and hand controls ---------------------------------------------------------------


@transaction.atomic
def create_campaign(organization, *, created_by=None, sites=(), stations=(), **fields) -> Campaign:
    """A draft campaign of the organization with its target sites and stations."""
    campaign = Campaign.objects.create(organization=organization, created_by=created_by, **fields)
    # Narrowed again here: a caller's list of another organization's rows adds nothing.
    campaign.target_sites.set([s for s in sites if s.organization_id == organization.pk])
    campaign.target_stations.set([s for s in stations if s.organization_id == organization.pk])
    return campaign


def _locked(campaign: Campaign) -> Campaign:
    # Only the campaign's row is locked, not the image it is read with.
    return (
        Campaign.objects.select_for_update(of=("self",)).select_related("image").get(pk=campaign.pk)
    )


def _refresh(campaign: Campaign, fresh: Campaign) -> None:
    for name in ("state", "current_wave", "pause_reason", "launched_at", "finished_at"):
        setattr(campaign, name, getattr(fresh, name))
    campaign.threshold_waived_wave = fresh.threshold_waived_wave
    campaign.threshold_waived_failures = fresh.threshold_waived_failures
    campaign.wave_started_at = fresh.wave_started_at


def _event(campaign: Campaign, **data) -> dict:
    return {"organization_id": campaign.organization_id, "campaign_id": campaign.pk, **data}


@dataclass(frozen=True)
class LaunchResult:
    """How many stations a launch froze, and how many matched but the image is not for."""

    targets: int
    not_fitting: int


def launch_campaign(campaign: Campaign, *, user=None) -> LaunchResult:
    """Freeze the targets into waves and start the rollout (a draft only)."""
    with transaction.atomic():
        fresh = _locked(campaign)
        if fresh.state != CampaignState.DRAFT:
            raise CampaignRefused(_("Only a draft can be launched."))
        preview = preview_targets(fresh)
        if not preview.fitting:
            raise CampaignRefused(
                _("No station of the organization matches the targets and the image's vendor.")
            )
        now = timezone.now()
        waves = plan_waves(len(preview.fitting), fresh.canary_percent, fresh.wave_size)
        rows = []
        for station, wave in zip(preview.fitting, waves, strict=True):
            row = CampaignStation(
                campaign=fresh,
                station=station,
                wave=wave,
                version_before=station.firmware_version,
            )
            if station.firmware_version == fresh.image.version:
                # Already there: nothing to send, and it counts as a success of its wave.
                row.state, row.version_after, row.finished_at = (
                    State.CONFIRMED,
                    row.version_before,
                    now,
                )
                row.error = _("Already running this version.")
            rows.append(row)
        CampaignStation.objects.bulk_create(rows)
        fresh.state, fresh.launched_at, fresh.current_wave = CampaignState.RUNNING, now, 0
        fresh.pause_reason, fresh.wave_started_at = "", now
        fresh.save(
            update_fields=[
                "state",
                "launched_at",
                "current_wave",
                "pause_reason",
                "wave_started_at",
                "updated",
            ]
        )
        emit(CAMPAIGN_LAUNCHED, **_event(fresh, count=len(rows)))
        _evaluate_locked(fresh)
    _refresh(campaign, fresh)
    logger.info("campaign %s launched by %s: %d stations", fresh.pk, user, len(rows))
    return LaunchResult(len(rows), len(preview.not_fitting))


def pause_campaign(campaign: Campaign, *, user=None, reason: str = "") -> None:
    """Stop sending to more stations; those already sent go on and are followed."""
    with transaction.atomic():
        fresh = _locked(campaign)
        if fresh.state != CampaignState.RUNNING:
            raise CampaignRefused(_("Only a running campaign can be paused."))
        who = getattr(user, "get_username", lambda: "")() if user is not None else ""
        reason = reason or (_("Paused by %(user)s.") % {"user": who} if who else _("Paused."))
        _pause(fresh, reason, automatic=False)
    _refresh(campaign, fresh)


def _pause(campaign: Campaign, reason: str, *, automatic: bool) -> None:
    campaign.state, campaign.pause_reason = CampaignState.PAUSED, reason[:500]
    campaign.save(update_fields=["state", "pause_reason", "updated"])
    emit(
        CAMPAIGN_PAUSED,
        **_event(
            campaign, reason=campaign.pause_reason, automatic=automatic, wave=campaign.current_wave
        ),
    )


def resume_campaign(campaign: Campaign, *, user=None) -> None:
    """Go on sending; the current wave's failures so far are accepted and pause it no more."""
    with transaction.atomic():
        fresh = _locked(campaign)
        if fresh.state != CampaignState.PAUSED:
            raise CampaignRefused(_("Only a paused campaign can be resumed."))
        fresh.state, fresh.pause_reason = CampaignState.RUNNING, ""
        fresh.threshold_waived_wave = fresh.current_wave
        fresh.threshold_waived_failures = CampaignStation.objects.filter(
            campaign=fresh, wave=fresh.current_wave, state=State.FAILED
        ).count()
        # The time spent paused does not count against the waiting stations.
        fresh.wave_started_at = timezone.now()
        fresh.save(
            update_fields=[
                "state",
                "pause_reason",
                "threshold_waived_wave",
                "threshold_waived_failures",
                "wave_started_at",
                "updated",
            ]
        )
        emit(CAMPAIGN_RESUMED, **_event(fresh))
        _evaluate_locked(fresh)
    _refresh(campaign, fresh)


def cancel_campaign(campaign: Campaign, *, user=None) -> int:
    """End the campaign: stations not yet sent to are cancelled; how many."""
    with transaction.atomic():
        fresh = _locked(campaign)
        if fresh.state not in (CampaignState.DRAFT, *OPEN_CAMPAIGNS):
            raise CampaignRefused(_("The campaign has already ended."))
        now = timezone.now()
        # Stations already sent cannot be called back: their progress is still followed.
        cancelled = list(
            CampaignStation.objects.filter(campaign=fresh, state__in=WAITING).values_list(
                "pk", "station_id"
            )
        )
        CampaignStation.objects.filter(pk__in=[pk for pk, _station in cancelled]).update(
            state=State.CANCELLED, finished_at=now, updated=now
        )
        fresh.state, fresh.finished_at = CampaignState.CANCELLED, now
        fresh.save(update_fields=["state", "finished_at", "updated"])
        _emit_rows(fresh, [(pk, station, State.CANCELLED, "") for pk, station in cancelled])
        emit(CAMPAIGN_CANCELLED, **_event(fresh, cancelled=len(cancelled)))
    _refresh(campaign, fresh)
    return len(cancelled)


def retry_failed(campaign: Campaign, *, user=None) -> int:
    """Send the failed stations again in their wave; a completed campaign runs again."""
    with transaction.atomic():
        fresh = _locked(campaign)
        if fresh.state not in (*OPEN_CAMPAIGNS, CampaignState.COMPLETED):
            raise CampaignRefused(_("Failed stations are retried in a launched campaign only."))
        failed = list(
            CampaignStation.objects.filter(campaign=fresh, state=State.FAILED).values_list(
                "pk", "station_id"
            )
        )
        if not failed:
            raise CampaignRefused(_("No station of this campaign has failed."))
        now = timezone.now()
        CampaignStation.objects.filter(pk__in=[pk for pk, _station in failed]).update(
            state=State.PENDING, error="", finished_at=None, updated=now
        )
        # The retried stations get a fresh clock, and no failure is waived any more.
        fresh.wave_started_at, fresh.threshold_waived_failures = now, 0
        fields = ["wave_started_at", "threshold_waived_failures", "updated"]
        reopened = fresh.state == CampaignState.COMPLETED
        if reopened:
            fresh.state, fresh.finished_at = CampaignState.RUNNING, None
            fields += ["state", "finished_at"]
        fresh.save(update_fields=fields)
        if reopened:
            emit(CAMPAIGN_RESUMED, **_event(fresh))
        _emit_rows(fresh, [(pk, station, State.PENDING, "") for pk, station in failed])
    _refresh(campaign, fresh)
    return len(failed)


def _emit_rows(campaign: Campaign, rows: Iterable[tuple[int, int, str, str]]) -> None:
    emit_many(
        CAMPAIGN_STATION_UPDATED,
        (
            _event(campaign, campaign_station_id=pk, station_id=station, state=state, error=error)
            for pk, station, state, error in rows
        ),
    )


# --- The tick ---------------------------------------------------------------------------------


def site_zone(station: ChargingStation):
    """The time zone of the station's site: its own, else its organization's."""
    name = station.site.time_zone if station.site_id is not None else ""
    return zone_named(name) if name else zone_of(station.organization)


def in_window(campaign: Campaign, station: ChargingStation, now: datetime) -> bool:
    """Whether `now` is inside the campaign's daily window at the station's site."""
    local = now.astimezone(site_zone(station))
    moment = local.time().replace(tzinfo=None)
    start, end = campaign.window_start, campaign.window_end
    windowed = start is not None and end is not None and start != end
    overnight = windowed and end < start
    # The small hours of an overnight window (22:00–05:00) belong to the night that began the
    # evening before: on the first day they are before the campaign's first night.
    day = local.date() - timedelta(days=1) if overnight and moment < end else local.date()
    if campaign.start_date is not None and day < campaign.start_date:
        return False
    if not windowed:
        return True
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end


def advance_campaigns(now: datetime | None = None) -> None:
    """The periodic tick: time out silent stations, then move every running campaign on."""
    expire_silent_stations(now or timezone.now())
    for campaign_id in Campaign.objects.filter(state=CampaignState.RUNNING).values_list(
        "pk", flat=True
    ):
        try:
            advance_campaign(campaign_id, now)
        except Exception:
            # One campaign's trouble must not hold the others back; the next tick tries again.
            logger.exception("campaign %s could not advance", campaign_id)


def advance_campaign(campaign_id: int, now: datetime | None = None) -> None:
    """Send the current wave's due stations, then move the wave on, pause or complete."""
    # `now` stays None unless a caller fixes it: each send then reads the clock itself.
    # Bounded: a wave whose stations all finish at once (already on the version) moves on.
    for _round in range(1000):
        campaign = (
            Campaign.objects.select_related("image", "organization").filter(pk=campaign_id).first()
        )
        if campaign is None or campaign.state != CampaignState.RUNNING:
            return
        wave = campaign.current_wave
        send_due_stations(campaign, now)
        evaluate_campaign(campaign_id)
        if not Campaign.objects.filter(
            pk=campaign_id, state=CampaignState.RUNNING, current_wave__gt=wave
        ).exists():
            return


def cancel_departed_stations(campaign: Campaign) -> int:
    """Cancel the unfinished rows whose station moved to another organization; how many."""
    departed = list(
        CampaignStation.objects.filter(campaign=campaign)
        .exclude(state__in=FINISHED)
        .exclude(station__organization_id=campaign.organization_id)
    )
    reason = _("The station moved to another organization.")
    return sum(
        _set_state(campaign, row, State.CANCELLED, from_states=(*WAITING, *IN_FLIGHT), error=reason)
        for row in departed
    )


def _waited_too_long(campaign: Campaign, row: CampaignStation, now: datetime) -> bool:
    """Whether the row has waited FLEET_STATION_TIMEOUT_HOURS since its wave started."""
    since = campaign.wave_started_at or campaign.launched_at
    if since is None:
        return False
    if campaign.start_date is not None:
        # Nothing could be sent before the first day: the clock starts then.
        first_day = datetime.combine(campaign.start_date, time.min, site_zone(row.station))
        since = max(since, first_day)
    return now - since >= timedelta(hours=settings.FLEET_STATION_TIMEOUT_HOURS)


def _fail_waiting(campaign: Campaign, row: CampaignStation, message: str) -> None:
    reason = message % {"hours": settings.FLEET_STATION_TIMEOUT_HOURS}
    _set_state(campaign, row, State.FAILED, from_states=WAITING, error=reason)


def send_due_stations(campaign: Campaign, now: datetime | None = None) -> int:
    """UpdateFirmware to each waiting station of the waves so far that may get it now."""
    cancel_departed_stations(campaign)
    rows = list(
        CampaignStation.objects.filter(
            campaign=campaign,
            wave__lte=campaign.current_wave,
            state__in=WAITING,
            station__organization_id=F("campaign__organization_id"),
        ).select_related("station__site", "station__organization")
    )
    if not rows:
        return 0
    ids = [row.station_id for row in rows]
    busy = set(
        ChargingSession.objects.active()
        .filter(station_id__in=ids)
        .values_list("station_id", flat=True)
    )
    # One update at a time per station: another campaign's is still on its way.
    elsewhere = set(
        CampaignStation.objects.in_flight()
        .filter(station_id__in=ids)
        .exclude(campaign=campaign)
        .values_list("station_id", flat=True)
    )
    sent = 0
    tick_time = now or timezone.now()
    for row in rows:
        station = row.station
        # Shown as waiting while it charges, whether or not its window is open.
        if station.pk in busy and not campaign.force:
            _set_state(campaign, row, State.WAITING_BUSY, from_states=(State.PENDING,))
            if _waited_too_long(campaign, row, tick_time):
                # A wave must not wait forever; retry the station once it is free.
                _fail_waiting(campaign, row, _("Still charging after %(hours)d hours."))
            continue
        if row.state == State.WAITING_BUSY:
            _set_state(campaign, row, State.PENDING, from_states=(State.WAITING_BUSY,))
        if station.connection_state != ConnectionState.ONLINE:
            if _waited_too_long(campaign, row, tick_time):
                _fail_waiting(campaign, row, _("Not reachable for %(hours)d hours."))
            continue
        # Only offline and charging stations time out: one merely outside its window (or
        # being updated by another campaign) is sent when that passes.
        if station.pk in elsewhere:
            continue
        # The clock is read at each send: the stations before may have taken long to answer.
        if not in_window(campaign, station, now or timezone.now()):
            continue
        sent += send_update(campaign, row, now)
        if row.state == State.FAILED:
            # A failure may cross the threshold: the rest of the wave waits for the operator.
            evaluate_campaign(campaign.pk)
        if row.state != State.SENT and not _running(campaign):
            break
    return sent


def _running(campaign: Campaign) -> bool:
    return Campaign.objects.filter(pk=campaign.pk, state=CampaignState.RUNNING).exists()


def _set_state(
    campaign, row, state, *, from_states, error: str = "", only_if: Q | None = None, **values
) -> bool:
    """Move the row to `state` if it is still in one of `from_states`; whether it moved."""
    now = timezone.now()
    if state in FINISHED:
        values.setdefault("finished_at", now)
    rows = CampaignStation.objects.filter(pk=row.pk, state__in=from_states)
    if only_if is not None:
        rows = rows.filter(only_if)
    moved = rows.update(state=state, error=error[:255], updated=now, **values)
    if moved:
        row.state = state
        _emit_rows(campaign, [(row.pk, row.station_id, state, error)])
    return bool(moved)


def update_parameters(campaign: Campaign, station: ChargingStation) -> dict:
    """UpdateFirmware's parameters: a fresh signed URL, and the signature for 2.0.1 stations."""
    image = campaign.image
    params = {"location": download_url(image)}
    # OCPP 1.6 has no secure firmware update: a 1.6 station gets the image unsigned.
    if not speaks_16(station) and image.signature and image.signing_certificate:
        params.update(signature=image.signature, signing_certificate=image.signing_certificate)
    return params


def send_update(campaign: Campaign, row: CampaignStation, now: datetime | None = None) -> int:
    """Claim the row, send UpdateFirmware and record how the station answered; 1 if sent."""
    # The claim is one conditional UPDATE: two ticks at once never send twice, a campaign
    # paused meanwhile sends no more, and a station another campaign's update is on its way to
    # waits. The partial unique constraint settles a race of two campaigns: "not now".
    # No transaction is held while the station answers.
    elsewhere = CampaignStation.objects.filter(
        station_id=OuterRef("station_id"), state__in=IN_FLIGHT
    ).exclude(pk=OuterRef("pk"))
    try:
        with transaction.atomic():
            claimed = (
                CampaignStation.objects.filter(
                    pk=row.pk,
                    state__in=WAITING,
                    campaign__state=CampaignState.RUNNING,
                    station__organization_id=F("campaign__organization_id"),
                )
                .filter(~Exists(elsewhere))
                .update(
                    state=State.SENT,
                    sent_at=now or timezone.now(),
                    attempts=F("attempts") + 1,
                    error="",
                    firmware_status="",
                    firmware_status_at=None,
                    updated=timezone.now(),
                )
            )
    except IntegrityError:
        claimed = 0
    if not claimed:
        return 0
    row.state = State.SENT
    _emit_rows(campaign, [(row.pk, row.station_id, State.SENT, "")])
    station = row.station
    try:
        log = execute_command(
            station, "update_firmware", update_parameters(campaign, station), actor=SYSTEM
        )
    except CommandNotAllowed as refusal:
        if not ChargingStation.objects.filter(
            pk=station.pk, connection_state=ConnectionState.ONLINE
        ).exists():
            _unclaim(campaign, row)
            return 0
        _set_state(campaign, row, State.FAILED, from_states=IN_FLIGHT, error=refusal.reason)
        return 1
    except InvalidCommandParameters as invalid:
        message = "; ".join(
            f"{name}: {' '.join(map(str, errors))}" for name, errors in invalid.errors.items()
        )
        _set_state(campaign, row, State.FAILED, from_states=IN_FLIGHT, error=message)
        return 1
    except Exception as error:
        logger.exception("campaign %s: UpdateFirmware to %s failed", campaign.pk, station.ocpp_id)
        _set_state(
            campaign,
            row,
            State.FAILED,
            from_states=IN_FLIGHT,
            error=_("Not sent: %(error)s") % {"error": type(error).__name__},
        )
        return 1
    CampaignStation.objects.filter(pk=row.pk).update(command_log=log)
    if log.status == CommandStatus.ACCEPTED:
        return 1
    if log.status == CommandStatus.OFFLINE:
        _unclaim(campaign, row, command_log=log)
        return 0
    if log.status == CommandStatus.REJECTED:
        reason = _("The station rejected the update (%(status)s).") % {
            "status": (log.response or {}).get("status", "Rejected")
        }
    elif log.status in (CommandStatus.TIMEOUT, CommandStatus.PENDING):
        # No answer is no refusal: the station may well be downloading. Its reports or its
        # boot move the row on; FLEET_STATION_TIMEOUT_HOURS fails it if neither comes.
        note = _("The station did not answer UpdateFirmware.")
        if CampaignStation.objects.filter(pk=row.pk, state=State.SENT).update(
            error=note, updated=timezone.now()
        ):
            _emit_rows(campaign, [(row.pk, row.station_id, State.SENT, note)])
        return 1
    else:
        reason = _("UpdateFirmware failed: %(error)s") % {
            "error": f"{log.error_code} {log.error_description}".strip() or log.status
        }
    _set_state(campaign, row, State.FAILED, from_states=(State.SENT,), error=reason)
    return 1


def _unclaim(campaign: Campaign, row: CampaignStation, **values) -> None:
    """The station went offline before it got the call: it waits for the next tick."""
    if CampaignStation.objects.filter(pk=row.pk, state=State.SENT).update(
        state=State.PENDING,
        attempts=F("attempts") - 1,
        sent_at=None,
        updated=timezone.now(),
        **values,
    ):
        row.state = State.PENDING
        _emit_rows(campaign, [(row.pk, row.station_id, State.PENDING, "")])


def wave_label(wave: int) -> str:
    """ "canary wave" or "wave 2", as the pages and pause reasons say it."""
    return _("canary wave") if wave == 0 else _("wave %(n)d") % {"n": wave}


def evaluate_campaign(campaign_id: int) -> None:
    """Pause on too many failures, move to the next wave, or complete (no station is called)."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
        if campaign is not None:
            _evaluate_locked(campaign)


def _evaluate_locked(campaign: Campaign) -> None:
    if campaign.state != CampaignState.RUNNING:
        return
    rows = CampaignStation.objects.filter(campaign=campaign)
    wave = campaign.current_wave
    tally = (
        rows.filter(wave=wave)
        .exclude(state=State.CANCELLED)
        .aggregate(total=Count("pk"), failed=Count("pk", filter=Q(state=State.FAILED)))
    )
    total, failed = tally["total"], tally["failed"]
    # Resuming accepted the failures so far: they leave the tally, which then counts the
    # failures since over the stations that had not failed by then.
    waived = campaign.threshold_waived_failures if campaign.threshold_waived_wave == wave else 0
    waived = min(waived, failed)
    judged, new_failures = total - waived, failed - waived
    if judged and new_failures * 100 > campaign.failure_threshold * judged:
        reason = _(
            "Paused automatically: %(failed)d of %(total)d stations of the %(wave)s failed "
            "(more than %(threshold)d%%)."
        ) % {
            "failed": new_failures,
            "total": judged,
            "wave": wave_label(wave),
            "threshold": campaign.failure_threshold,
        }
        _pause(campaign, reason, automatic=True)
        return
    if rows.filter(wave__lte=wave).exclude(state__in=FINISHED).exists():
        return
    following = rows.filter(wave__gt=wave).order_by("wave").values_list("wave", flat=True).first()
    if following is not None:
        campaign.current_wave, campaign.wave_started_at = following, timezone.now()
        campaign.save(update_fields=["current_wave", "wave_started_at", "updated"])
        emit(CAMPAIGN_WAVE_STARTED, **_event(campaign, wave=following))
        return
    counts = rows.aggregate(
        confirmed=Count("pk", filter=Q(state=State.CONFIRMED)),
        failed=Count("pk", filter=Q(state=State.FAILED)),
    )
    campaign.state, campaign.finished_at = CampaignState.COMPLETED, timezone.now()
    campaign.save(update_fields=["state", "finished_at", "updated"])
    emit(CAMPAIGN_COMPLETED, **_event(campaign, **counts))


def expire_silent_stations(now: datetime | None = None) -> int:
    """Fail the stations sent an update that reported nothing for too long; how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.FLEET_STATION_TIMEOUT_HOURS)
    quiet = Q(firmware_status_at__lt=cutoff) | Q(
        firmware_status_at__isnull=True, sent_at__lt=cutoff
    )
    silent = list(CampaignStation.objects.in_flight().filter(quiet).select_related("campaign"))
    reason = _("No progress reported for %(hours)d hours.") % {
        "hours": settings.FLEET_STATION_TIMEOUT_HOURS
    }
    expired = 0
    for row in silent:
        # The condition again in the UPDATE: a report that came in meanwhile keeps the row.
        expired += _set_state(
            row.campaign, row, State.FAILED, from_states=IN_FLIGHT, error=reason, only_if=quiet
        )
    for campaign_id in {row.campaign_id for row in silent}:
        evaluate_campaign(campaign_id)
    return expired


# --- Progress reported by stations --------------------------------------------------------------


def record_firmware_progress(station_id: int, status: str, at: datetime | None = None) -> None:
    """A station's FirmwareStatusNotification moves its campaign row on (or fails it)."""
    at = at or timezone.now()
    rows = list(
        CampaignStation.objects.in_flight()
        .filter(station_id=station_id, station__organization_id=F("campaign__organization_id"))
        .select_related("campaign")
    )
    state = FIRMWARE_STATUS_STATES.get(status)
    touched = set()
    for row in rows:
        if state is None:
            CampaignStation.objects.filter(pk=row.pk).update(
                firmware_status=status, firmware_status_at=at, updated=timezone.now()
            )
            _emit_rows(row.campaign, [(row.pk, row.station_id, row.state, "")])
            continue
        error = (
            _("The station reported %(status)s.") % {"status": status}
            if state == State.FAILED
            else ""
        )
        _set_state(
            row.campaign,
            row,
            state,
            from_states=IN_FLIGHT,
            error=error,
            firmware_status=status[:30],
            firmware_status_at=at,
        )
        touched.add(row.campaign_id)
    for campaign_id in touched:
        evaluate_campaign(campaign_id)


def record_station_boots(station_ids: Iterable[int]) -> None:
    """A boot decides a sent update: the version it reports is the image's, or it failed."""
    rows = list(
        CampaignStation.objects.in_flight()
        .filter(
            station_id__in=list(station_ids),
            station__organization_id=F("campaign__organization_id"),
        )
        .select_related("campaign__image", "station")
    )
    for row in rows:
        version = row.station.firmware_version
        if version == row.campaign.image.version:
            _set_state(
                row.campaign,
                row,
                State.CONFIRMED,
                from_states=IN_FLIGHT,
                version_after=version,
            )
        else:
            _set_state(
                row.campaign,
                row,
                State.FAILED,
                from_states=IN_FLIGHT,
                error=_("Booted with version %(version)s.") % {"version": version or "?"},
                version_after=version,
            )
    for campaign_id in {row.campaign_id for row in rows}:
        evaluate_campaign(campaign_id)
