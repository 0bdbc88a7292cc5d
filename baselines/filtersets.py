"""Query-string filters of the baselines API."""

import django_filters

from baselines.choices import RunStatus, RunTrigger
from baselines.models import BaselineRun, ConfigurationBaseline
from core.api.filters import visible
from stations.models import ChargingStation


class ConfigurationBaselineFilterSet(django_filters.FilterSet):
    """Baselines by vendor and model (case-insensitive, as they match stations)."""

    vendor = django_filters.CharFilter(lookup_expr="iexact")
    model = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = ConfigurationBaseline
        fields = ["vendor", "model", "apply_at_first_boot", "detect_drift"]


class BaselineRunFilterSet(django_filters.FilterSet):
    """Runs by baseline, station, trigger and status."""

    baseline = django_filters.ModelChoiceFilter(queryset=visible(ConfigurationBaseline))
    station = django_filters.ModelChoiceFilter(queryset=visible(ChargingStation))
    trigger = django_filters.ChoiceFilter(choices=RunTrigger.choices)
    status = django_filters.ChoiceFilter(choices=RunStatus.choices)

    class Meta:
        model = BaselineRun
        fields = ["baseline", "station", "trigger", "status"]
