"""Reads of fleet campaigns for pages and the API."""

from dataclasses import dataclass

from django.db.models import Count

from fleet.choices import FINISHED, IN_FLIGHT, WAITING, CampaignStationState
from fleet.models import Campaign, CampaignStation


@dataclass(frozen=True)
class Progress:
    """How many of a campaign's stations are in each state, and per wave."""

    counts: dict
    waves: list

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def waiting(self) -> int:
        return sum(self.counts.get(state, 0) for state in WAITING)

    @property
    def in_flight(self) -> int:
        return sum(self.counts.get(state, 0) for state in IN_FLIGHT)

    @property
    def confirmed(self) -> int:
        return self.counts.get(CampaignStationState.CONFIRMED, 0)

    @property
    def failed(self) -> int:
        return self.counts.get(CampaignStationState.FAILED, 0)

    @property
    def cancelled(self) -> int:
        return self.counts.get(CampaignStationState.CANCELLED, 0)

    @property
    def finished(self) -> int:
        return sum(self.counts.get(state, 0) for state in FINISHED)


def campaign_progress(campaign: Campaign) -> Progress:
    """State counts of the campaign's stations, overall and per wave (one query)."""
    rows = (
        CampaignStation.objects.filter(campaign=campaign)
        .values("wave", "state")
        .annotate(n=Count("pk"))
        .order_by("wave", "state")
    )
    counts: dict[str, int] = {}
    waves: dict[int, dict[str, int]] = {}
    for row in rows:
        counts[row["state"]] = counts.get(row["state"], 0) + row["n"]
        waves.setdefault(row["wave"], {})[row["state"]] = row["n"]
    return Progress(
        counts,
        [
            {
                "wave": wave,
                "total": sum(states.values()),
                "confirmed": states.get(CampaignStationState.CONFIRMED, 0),
                "failed": states.get(CampaignStationState.FAILED, 0),
            }
            for wave, states in sorted(waves.items())
        ],
    )


def progress_by_campaign(campaign_ids, *, by_state: bool = False) -> dict[int, dict[str, int]]:
    """Each campaign's total, confirmed and failed counts, or (by_state) its count per state."""
    result: dict[int, dict[str, int]] = {}
    rows = (
        CampaignStation.objects.filter(campaign_id__in=list(campaign_ids))
        .values("campaign_id", "state")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        if by_state:
            result.setdefault(row["campaign_id"], {})[row["state"]] = row["n"]
            continue
        counts = result.setdefault(row["campaign_id"], {"total": 0, "confirmed": 0, "failed": 0})
        counts["total"] += row["n"]
        if row["state"] == CampaignStationState.CONFIRMED:
            counts["confirmed"] += row["n"]
        elif row["state"] == CampaignStationState.FAILED:
            counts["failed"] += row["n"]
    return result
