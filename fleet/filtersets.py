"""Query-string filters of the fleet API."""

import django_filters

from core.api.filters import visible
from fleet.choices import CampaignState, CampaignStationState
from fleet.models import Campaign, CampaignStation
from stations.models import ChargingStation


class CampaignFilterSet(django_filters.FilterSet):
    """Campaigns by state."""

    state = django_filters.ChoiceFilter(choices=CampaignState.choices)

    class Meta:
        model = Campaign
        fields = ["state"]


class CampaignStationFilterSet(django_filters.FilterSet):
    """Campaign stations by campaign, station, state and wave."""

    campaign = django_filters.ModelChoiceFilter(queryset=visible(Campaign))
    station = django_filters.ModelChoiceFilter(queryset=visible(ChargingStation))
    state = django_filters.ChoiceFilter(choices=CampaignStationState.choices)
    wave = django_filters.NumberFilter(min_value=0)

    class Meta:
        model = CampaignStation
        fields = ["campaign", "station", "state", "wave"]
