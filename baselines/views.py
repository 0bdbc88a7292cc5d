"""Portal pages of configuration baselines: list, add/edit/delete (admins), detail with drift.

Applying a baseline sends commands, which only the gateway can: its buttons post to the
gateway's pages (namespace `baseline-apply`, ocpp_gateway/baseline_views.py).
"""

from django.contrib import messages
from django.db.models import Prefetch
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import CreateView, DeleteView, DetailView, ListView, UpdateView

from baselines import services
from baselines.choices import OPEN_RUN_STATUSES
from baselines.forms import BaselineForm
from baselines.models import BaselineRun, ConfigurationBaseline, StationDrift
from organizations.choices import Role
from organizations.portal import (
    OrganizationFormMixin,
    OrganizationMixin,
    OrganizationObjectMixin,
)

PAGE_SIZE = 50
# Runs the detail page lists, newest first.
RECENT_RUNS = 50


def baseline_list_url(organization) -> str:
    return reverse("baselines:baseline-list", kwargs={"org": organization.slug})


def baseline_url(baseline) -> str:
    return reverse(
        "baselines:baseline-detail",
        kwargs={"org": baseline.organization.slug, "pk": baseline.pk},
    )


class InvalidFormIs400:
    """A refused form comes back with its errors and 400, like the API's answer."""

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


class BaselineListView(OrganizationMixin, ListView):
    """The organization's baselines with how many stations drift from each."""

    section = "baselines"
    template_name = "baselines/baseline_list.html"
    context_object_name = "baselines"
    paginate_by = PAGE_SIZE

    def get_queryset(self):
        return services.with_drift_counts(
            ConfigurationBaseline.objects.for_org(self.organization)
        ).order_by("name", "pk")


class BaselineSaveMixin(InvalidFormIs400, OrganizationFormMixin):
    """Create and edit: the settings are replaced, drift is checked again."""

    section = "baselines"
    required_role = Role.ADMIN
    form_class = BaselineForm
    template_name = "baselines/baseline_form.html"
    context_object_name = "baseline"

    def form_valid(self, form):
        baseline = form.save(commit=False)
        created = baseline.pk is None
        if created:
            baseline.organization = self.organization
        self.object = services.save_baseline(baseline, form.parsed_settings, user=self.request.user)
        messages.success(self.request, _("Baseline added.") if created else _("Baseline saved."))
        return HttpResponseRedirect(baseline_url(self.object))


class BaselineCreateView(BaselineSaveMixin, OrganizationMixin, CreateView):
    """Add a baseline (admins)."""


class BaselineEditView(BaselineSaveMixin, OrganizationObjectMixin, UpdateView):
    """Change a baseline and its settings (admins)."""

    model = ConfigurationBaseline


class BaselineDeleteView(OrganizationObjectMixin, DeleteView):
    """Delete a baseline after a confirmation (admins); its drift clears."""

    section = "baselines"
    required_role = Role.ADMIN
    model = ConfigurationBaseline
    template_name = "baselines/baseline_confirm_delete.html"
    context_object_name = "baseline"

    def form_valid(self, form):
        services.delete_baseline(self.object)
        messages.success(self.request, _("Baseline deleted."))
        return HttpResponseRedirect(baseline_list_url(self.organization))


def runs_of(baseline, station_id=None):
    """The baseline's recent runs with their station and results."""
    runs = BaselineRun.objects.filter(baseline=baseline).select_related("station", "requested_by")
    if station_id is not None:
        runs = runs.filter(station_id=station_id)
    return runs.prefetch_related("results")[:RECENT_RUNS]


class BaselineDetailView(OrganizationObjectMixin, DetailView):
    """A baseline: its settings, the stations it matches and their drift, its runs."""

    section = "baselines"
    model = ConfigurationBaseline
    template_name = "baselines/baseline_detail.html"
    context_object_name = "baseline"

    def get_queryset(self):
        return super().get_queryset().prefetch_related("settings")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        baseline = self.object
        drifts = {
            row.station_id: row
            for row in StationDrift.objects.filter(baseline=baseline).select_related("station")
        }
        stations = list(
            services.matching_stations(baseline)
            .select_related("site")
            .order_by("ocpp_id")[: PAGE_SIZE * 10]
        )
        rows = [
            {
                "station": station,
                "drift": drifts.get(station.pk),
                "settings": len(services.settings_for(baseline.settings.all(), station)),
            }
            for station in stations
        ]
        runs = list(runs_of(baseline))
        context.update(
            settings=list(baseline.settings.all()),
            station_rows=rows,
            drifting=len(drifts),
            runs=runs,
            runs_open=any(run.status in OPEN_RUN_STATUSES for run in runs),
        )
        return context


class BaselineRunsPartView(OrganizationMixin, ListView):
    """The baseline's runs table alone (the detail page refreshes it while runs are open)."""

    template_name = "baselines/_runs.html"
    context_object_name = "runs"

    def get_queryset(self):
        self.baseline = get_object_or_404(
            ConfigurationBaseline.objects.for_org(self.organization), pk=self.kwargs["pk"]
        )
        return runs_of(self.baseline)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            baseline=self.baseline,
            runs_open=any(run.status in OPEN_RUN_STATUSES for run in context["runs"]),
        )
        return context


def station_drift_panel(page) -> dict:
    """The station page's baselines: per matching baseline, the settings that differ."""
    station = page.get_station()
    compared = services.station_drift(station)
    last_runs = {}
    if compared:
        for run in (
            BaselineRun.objects.filter(station=station, baseline__in=[b for b, _ in compared])
            .order_by("baseline_id", "-created", "-pk")
            .prefetch_related(Prefetch("results"))
        ):
            last_runs.setdefault(run.baseline_id, run)
    return {
        "baseline_drift": [
            {
                "baseline": baseline,
                "items": items,
                "differing": [item for item in items if item.differs],
                "unknown": sum(1 for item in items if item.reported is None),
                "last_run": last_runs.get(baseline.pk),
            }
            for baseline, items in compared
        ]
    }
