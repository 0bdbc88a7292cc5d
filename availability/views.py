"""Portal pages of availability: the report, its CSV, and the maintenance windows."""

from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpResponse
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import CreateView, DeleteView, ListView, UpdateView

from availability.choices import Group, Period
from availability.forms import MaintenanceWindowForm, ReportForm
from availability.models import MaintenanceWindow
from availability.selectors import CSV_COLUMNS, availability_report, figures_row, report_rows
from availability.uptime import Bucket
from core.api.csv import csv_response
from core.charts import Series, render_chart
from core.ordering import PARAM as ORDERING
from core.ordering import Ordering
from core.timezones import zone_of
from organizations.choices import Role
from organizations.portal import (
    OrganizationFormMixin,
    OrganizationMixin,
    OrganizationObjectMixin,
    PortalView,
)
from stations.models import ChargingStation

PAGE_SIZE = 50
# The shares a chart shows; unknown and maintenance time are in the table.
# `?ordering=` of the report's table and its CSV: siblings (sites, a site's stations, a
# station's connectors) sort among themselves, so the table keeps its tree.
REPORT_ORDERING = Ordering(
    {
        key: key
        for key in (
            "name",
            "period_seconds",
            "uptime",
            "available_share",
            "faulted_share",
            "unavailable_share",
            "offline_share",
            "unknown_share",
            "maintenance_share",
            "sessions",
            "failed_sessions",
            "success_rate",
        )
    },
    default="name",
)


def _line_key(line, key: str):
    if key == "name":
        names = {Group.SITE: line.site_name, Group.STATION: line.ocpp_id}
        return names.get(line.level, line.connector_number)
    return figures_row(line.total)[key]


def sort_report(report, raw: str | None):
    """The report's lines sorted by `?ordering=`, each level among its siblings."""
    if not REPORT_ORDERING.parse(raw).requested:
        return report  # the report's own order: by site name, then identity

    def sort(lines):
        return REPORT_ORDERING.sort_rows(lines, raw, _line_key)

    report.sites = sort(report.sites)
    for site in report.sites:
        site.children = sort(site.children)
        for station in site.children:
            station.children = sort(station.children)
    return report


CHARTED = (Bucket.AVAILABLE, Bucket.FAULTED, Bucket.UNAVAILABLE, Bucket.OFFLINE)


def bucket_label(bucket: Bucket) -> str:
    """A bucket's name on the page."""
    return {
        Bucket.AVAILABLE: _("Available"),
        Bucket.FAULTED: _("Faulted"),
        Bucket.UNAVAILABLE: _("Unavailable"),
        Bucket.OFFLINE: _("Offline"),
        Bucket.UNKNOWN: _("Unknown"),
        Bucket.MAINTENANCE: _("Maintenance"),
    }[bucket]


class ReportMixin:
    """The report's filters from the query string, and the stations they select."""

    def get_form(self) -> ReportForm:
        if not hasattr(self, "_form"):
            self._form = ReportForm(self.request.GET, organization=self.organization)
        return self._form

    def selected_stations(self, form: ReportForm) -> QuerySet:
        stations = ChargingStation.objects.for_org(self.organization)
        if form.cleaned_data.get("site") is not None:
            stations = stations.filter(site=form.cleaned_data["site"])
        if form.cleaned_data.get("station") is not None:
            stations = stations.filter(pk=form.cleaned_data["station"].pk)
        return stations

    def report(self, form: ReportForm):
        return sort_report(self.unsorted_report(form), self.request.GET.get(ORDERING))

    def unsorted_report(self, form: ReportForm):
        return availability_report(
            self.selected_stations(form),
            period=form.cleaned_data["period"],
            first=form.cleaned_data["first"],
            last=form.cleaned_data["last"],
            zone=zone_of(self.organization),
        )


def _percent(value: float) -> str:
    # number_format cuts digits off; round first.
    return formats.number_format(round(value, 1), 1, use_l10n=True)


def charts_of(report) -> list:
    """Uptime, and the share of each state, per day or month of the whole selection."""
    date_format = "SHORT_DATE_FORMAT" if report.period == Period.DAY else "YEAR_MONTH_FORMAT"
    labels = [formats.date_format(span.label, date_format) for span in report.spans]
    x_title = _("Day") if report.period == Period.DAY else _("Month")
    spans = report.overall.spans

    def percent_of(values):
        return [None if value is None else value * 100 for value in values]

    return [
        render_chart(
            "line",
            title=_("Uptime"),
            x_title=x_title,
            y_title=_("Uptime (%)"),
            labels=labels,
            series=[
                Series(_("Uptime (%)"), percent_of([one.tally.uptime for one in spans])),
            ],
            formatter=_percent,
        ),
        render_chart(
            "bar",
            title=_("Share of time by state"),
            x_title=x_title,
            y_title=_("Share of time (%)"),
            labels=labels,
            series=[
                Series(
                    bucket_label(bucket),
                    percent_of([one.tally.share(bucket) for one in spans]),
                )
                for bucket in CHARTED
            ],
            formatter=_percent,
        ),
    ]


def table_of(report) -> list[dict]:
    """Sites, each followed by its stations, each followed by its connectors: whole range."""
    rows = []
    for site in report.sites:
        rows.append({"line": site, **figures_row(site.total)})
        for station in site.children:
            rows.append({"line": station, **figures_row(station.total)})
            rows.extend(
                {"line": connector, **figures_row(connector.total)}
                for connector in station.children
            )
    return rows


class AvailabilityView(ReportMixin, PortalView):
    """Availability, uptime and session success per site, station and connector."""

    section = "availability"
    template_name = "availability/report.html"

    def get(self, request, *args, **kwargs):
        form = self.get_form()
        context = self.get_context_data(form=form, **kwargs)
        if not form.is_valid():
            return self.render_to_response(context, status=400)
        report = self.report(form)
        query = request.GET.copy()
        query.pop("group", None)
        context.update(
            report=report,
            total=figures_row(report.overall.total),
            table=table_of(report),
            charts=charts_of(report) if report.spans else [],
            export_query=query.urlencode(),
            groups=Group.choices,
            time_zone=zone_of(self.organization),
            sort=REPORT_ORDERING.parse(request.GET.get(ORDERING)),
        )
        return self.render_to_response(context)


class AvailabilityExportView(ReportMixin, OrganizationMixin, View):
    """The report as CSV: one row per day or month and site, station or connector."""

    def get(self, request, *args, **kwargs):
        form = self.get_form()
        if not form.is_valid():
            lines = [f"{name}: {' '.join(errors)}" for name, errors in form.errors.items()]
            return HttpResponse(
                "\n".join(lines), status=400, content_type="text/plain; charset=utf-8"
            )
        report = self.report(form)
        group = form.cleaned_data["group"]
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        return csv_response(
            report_rows(report, group),
            CSV_COLUMNS,
            f"availability-{group}-{stamp}.csv",
        )


# Days of the uptime the station page shows, today included.
STATION_PAGE_DAYS = 30


def station_uptime_panel(page) -> dict:
    """The station page's uptime over the last 30 local days (a stations.pages panel)."""
    zone = zone_of(page.organization)
    station = page.get_station()
    today = timezone.now().astimezone(zone).date()
    report = availability_report(
        ChargingStation.objects.for_org(page.organization).filter(pk=station.pk),
        period=Period.DAY,
        first=today - timedelta(days=STATION_PAGE_DAYS - 1),
        last=today,
        zone=zone,
    )
    uptime = report.overall.total.tally.uptime
    query = urlencode({"station": station.pk, "from": report.first, "to": report.last})
    return {
        "uptime_30_days": "–" if uptime is None else f"{_percent(uptime * 100)} %",
        "uptime_report_url": reverse("availability:report", kwargs={"org": page.organization.slug})
        + f"?{query}",
    }


# --- maintenance windows -----------------------------------------------------------------------


def maintenance_list_url(organization) -> str:
    return reverse("availability:maintenance-list", kwargs={"org": organization.slug})


class MaintenanceListView(OrganizationMixin, ListView):
    """The organization's maintenance windows, latest first."""

    section = "availability"
    template_name = "availability/maintenance_list.html"
    context_object_name = "windows"
    paginate_by = PAGE_SIZE

    def get_queryset(self):
        return MaintenanceWindow.objects.for_org(self.organization).select_related(
            "site", "station", "created_by"
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(time_zone=zone_of(self.organization), now=timezone.now())
        return context


class InvalidFormIs400:
    """A refused form comes back with its errors and 400, like the API's answer."""

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


class MaintenanceCreateView(InvalidFormIs400, OrganizationFormMixin, OrganizationMixin, CreateView):
    """Announce a maintenance window (operators)."""

    section = "availability"
    required_role = Role.OPERATOR
    form_class = MaintenanceWindowForm
    template_name = "availability/maintenance_form.html"

    def form_valid(self, form):
        form.instance.created_by = self.request.user
        response = super().form_valid(form)
        messages.success(self.request, _("Maintenance window added."))
        return response

    def get_success_url(self):
        return maintenance_list_url(self.organization)


class MaintenanceEditView(
    InvalidFormIs400, OrganizationFormMixin, OrganizationObjectMixin, UpdateView
):
    """Change a maintenance window (operators)."""

    section = "availability"
    required_role = Role.OPERATOR
    model = MaintenanceWindow
    form_class = MaintenanceWindowForm
    template_name = "availability/maintenance_form.html"
    context_object_name = "window"

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, _("Maintenance window saved."))
        return response

    def get_success_url(self):
        return maintenance_list_url(self.organization)


class MaintenanceDeleteView(OrganizationObjectMixin, DeleteView):
    """Delete a maintenance window after a confirmation (operators)."""

    section = "availability"
    required_role = Role.OPERATOR
    model = MaintenanceWindow
    template_name = "availability/maintenance_confirm_delete.html"
    context_object_name = "window"

    def form_valid(self, form):
        messages.success(self.request, _("Maintenance window deleted."))
        return super().form_valid(form)

    def get_success_url(self):
        return maintenance_list_url(self.organization)
