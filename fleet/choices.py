"""Enumerations of fleet rollouts."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CampaignState(models.TextChoices):
    """Where a firmware campaign stands."""

    DRAFT = "draft", _("Draft")
    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class CampaignStationState(models.TextChoices):
    """Where one station of a campaign stands."""

    PENDING = "pending", _("Pending")
    WAITING_BUSY = "waiting_busy", _("Waiting (charging)")
    SENT = "sent", _("Sent")
    DOWNLOADING = "downloading", _("Downloading")
    DOWNLOADED = "downloaded", _("Downloaded")
    INSTALLING = "installing", _("Installing")
    INSTALLED = "installed", _("Installed")
    CONFIRMED = "confirmed", _("Confirmed")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


# Not yet sent: the tick may still send these.
WAITING = (CampaignStationState.PENDING, CampaignStationState.WAITING_BUSY)
# Sent and not finished: the station's reports and its next boot decide these.
IN_FLIGHT = (
    CampaignStationState.SENT,
    CampaignStationState.DOWNLOADING,
    CampaignStationState.DOWNLOADED,
    CampaignStationState.INSTALLING,
    CampaignStationState.INSTALLED,
)
FINISHED = (
    CampaignStationState.CONFIRMED,
    CampaignStationState.FAILED,
    CampaignStationState.CANCELLED,
)
# Campaigns whose stations may still change (the tick and the station reports look at these).
OPEN_CAMPAIGNS = (CampaignState.RUNNING, CampaignState.PAUSED)

# The portal's badge colours (portal.css) of each state.
STATION_BADGES = {
    CampaignStationState.PENDING: "status-unknown",
    CampaignStationState.WAITING_BUSY: "status-preparing",
    CampaignStationState.CONFIRMED: "status-available",
    CampaignStationState.FAILED: "status-faulted",
    CampaignStationState.CANCELLED: "status-unavailable",
    **dict.fromkeys(IN_FLIGHT, "status-charging"),
}
CAMPAIGN_BADGES = {
    CampaignState.DRAFT: "status-unknown",
    CampaignState.RUNNING: "status-charging",
    CampaignState.PAUSED: "status-preparing",
    CampaignState.COMPLETED: "status-available",
    CampaignState.CANCELLED: "status-unavailable",
}
