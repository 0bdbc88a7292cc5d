"""Firmware campaigns: one image rolled out in waves to a frozen list of stations."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fleet.choices import (
    CAMPAIGN_BADGES,
    FINISHED,
    IN_FLIGHT,
    STATION_BADGES,
    CampaignState,
    CampaignStationState,
)
from organizations.models import Organization
from organizations.tenancy import TenantQuerySet
from stations.models import ChargingStation, Site


class CampaignQuerySet(TenantQuerySet):
    """Campaigns narrowed by organization."""


# What a campaign is targeted and paced with: the form, the API and the admin show the same.
CAMPAIGN_SETTINGS = (
    "target_sites",
    "target_vendor",
    "target_model",
    "target_version",
    "target_stations",
    "target_filter",
    "window_start",
    "window_end",
    "start_date",
    "canary_percent",
    "wave_size",
    "failure_threshold",
    "force",
)


class Campaign(models.Model):
    """A firmware rollout: which image, to which stations, when, and how carefully."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="firmware_campaigns"
    )
    name = models.CharField(_("name"), max_length=200)
    image = models.ForeignKey(
        "firmware.FirmwareImage",
        on_delete=models.PROTECT,
        related_name="campaigns",
        verbose_name=_("firmware image"),
    )
    # Targeting: every criterion given must hold (stations of the image's vendor and model
    # only); the stations found are frozen into CampaignStation rows at launch.
    target_sites = models.ManyToManyField(
        Site, blank=True, related_name="+", verbose_name=_("sites")
    )
    target_vendor = models.CharField(_("vendor"), max_length=50, blank=True)
    target_model = models.CharField(_("model"), max_length=50, blank=True)
    target_version = models.CharField(
        _("current firmware version"),
        max_length=50,
        blank=True,
        help_text=_("Only stations that run exactly this version now."),
    )
    target_stations = models.ManyToManyField(
        ChargingStation, blank=True, related_name="+", verbose_name=_("stations")
    )
    target_filter = models.CharField(
        _("station list filter"),
        max_length=500,
        blank=True,
        help_text=_("The query string of a station list filter, e.g. search=ABB&plan=business."),
    )
    # Wall-clock times in each site's own time zone; neither: any time of day.
    window_start = models.TimeField(_("window opens"), null=True, blank=True)
    window_end = models.TimeField(
        _("window closes"), null=True, blank=True, help_text=_("Before the opening: overnight.")
    )
    start_date = models.DateField(
        _("first day"), null=True, blank=True, help_text=_("In each site's time zone.")
    )
    canary_percent = models.PositiveSmallIntegerField(
        _("canary share (%)"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("The first wave; at least one station."),
    )
    wave_size = models.PositiveIntegerField(
        _("wave size"),
        default=10,
        validators=[MinValueValidator(1)],
        help_text=_("Stations per wave after the canary."),
    )
    failure_threshold = models.PositiveSmallIntegerField(
        _("failure threshold (%)"),
        default=20,
        validators=[MaxValueValidator(100)],
        help_text=_("The campaign pauses when more of a wave's stations fail."),
    )
    force = models.BooleanField(
        _("interrupt charging"),
        default=False,
        help_text=_("Send even to stations with a running session (else they wait until idle)."),
    )
    state = models.CharField(
        _("state"), max_length=10, choices=CampaignState.choices, default=CampaignState.DRAFT
    )
    current_wave = models.PositiveIntegerField(_("current wave"), default=0)
    # The wave whose failures the operator accepted by resuming: it does not pause again.
    threshold_waived_wave = models.PositiveIntegerField(null=True, blank=True, editable=False)
    # How many of that wave's stations had failed at the resume: only later failures count.
    threshold_waived_failures = models.PositiveIntegerField(default=0, editable=False)
    # When the current wave started (or the campaign was last resumed or retried): stations
    # still waiting FLEET_STATION_TIMEOUT_HOURS later fail.
    wave_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    pause_reason = models.CharField(_("pause reason"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)
    launched_at = models.DateTimeField(_("launched"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("firmware campaign")
        constraints = [
            models.CheckConstraint(
                condition=Q(window_start__isnull=True, window_end__isnull=True)
                | Q(window_start__isnull=False, window_end__isnull=False),
                name="fleet_campaign_window_both_or_neither",
            ),
            models.CheckConstraint(
                condition=Q(canary_percent__gte=1, canary_percent__lte=100),
                name="fleet_campaign_canary_percent_range",
            ),
            models.CheckConstraint(condition=Q(wave_size__gte=1), name="fleet_campaign_wave_size"),
        ]

    def __str__(self):
        return self.name

    @property
    def is_open(self) -> bool:
        """Running or paused: its stations may still change."""
        return self.state in (CampaignState.RUNNING, CampaignState.PAUSED)

    @property
    def badge(self) -> str:
        """The CSS class of its state's badge."""
        return CAMPAIGN_BADGES.get(self.state, "")


class CampaignStationQuerySet(TenantQuerySet):
    """Campaign stations narrowed by their campaign's organization."""

    org_path = "campaign__organization"

    def in_flight(self):
        """Sent and not yet confirmed or failed."""
        return self.filter(state__in=IN_FLIGHT)


class CampaignStation(models.Model):
    """One station of a campaign: its wave and how far its update got."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="targets")
    station = models.ForeignKey(
        ChargingStation, on_delete=models.CASCADE, related_name="campaign_entries"
    )
    wave = models.PositiveIntegerField(_("wave"), help_text=_("0 is the canary wave."))
    state = models.CharField(
        _("state"),
        max_length=12,
        choices=CampaignStationState.choices,
        default=CampaignStationState.PENDING,
    )
    firmware_status = models.CharField(_("last firmware status"), max_length=30, blank=True)
    firmware_status_at = models.DateTimeField(_("status time"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    command_log = models.ForeignKey(
        "ocpp_gateway.CommandLog",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("command"),
    )
    version_before = models.CharField(_("version before"), max_length=50, blank=True)
    version_after = models.CharField(_("version after"), max_length=50, blank=True)
    error = models.CharField(_("error"), max_length=255, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    objects = CampaignStationQuerySet.as_manager()

    class Meta:
        ordering = ["campaign", "wave", "id"]
        verbose_name = _("campaign station")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "station"], name="fleet_one_row_per_campaign_station"
            ),
            # One update on its way per station, whichever campaign sent it.
            models.UniqueConstraint(
                fields=["station"],
                condition=Q(state__in=IN_FLIGHT),
                name="fleet_one_update_in_flight_per_station",
            ),
        ]
        indexes = [models.Index(fields=["station", "state"], name="fleet_station_state_idx")]

    def __str__(self):
        return f"{self.campaign} · {self.station}"

    @property
    def finished(self) -> bool:
        """Confirmed, failed or cancelled."""
        return self.state in FINISHED

    @property
    def badge(self) -> str:
        """The CSS class of its state's badge."""
        return STATION_BADGES.get(self.state, "")
