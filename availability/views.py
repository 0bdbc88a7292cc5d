"""Portal pages of availability: the report, its CSV, maintenance windows and the log."""

from datetime import timedelta
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import CreateView, DeleteView, DetailView, ListView, UpdateView

from availability.choices import Group, MaintenanceKind, Period
from availability.forms import MaintenanceRecordForm, MaintenanceWindowForm, ReportForm
from availability.models import (
    MaintenanceAttachment,
    MaintenanceRecord,
    MaintenanceWindow,
    MaintenanceWindowStation,
)
from availability.selectors import (
    CSV_COLUMNS,
    DUE_CSV_COLUMNS,
    availability_report,
    figures_row,
    maintenance_due,
    report_rows,
)
from availability.services import add_attachments, download_response, save_record
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
from stations.models import ChargingStation, Site

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


class MaintenanceWindowDetailView(OrganizationObjectMixin, DetailView):
    """A maintenance window and what it did to each station it covers."""

    section = "availability"
    model = MaintenanceWindow
    template_name = "availability/maintenance_detail.html"
    context_object_name = "window"

    def get_queryset(self):
        outcomes = MaintenanceWindowStation.objects.select_related("station").order_by(
            "station__ocpp_id", "pk"
        )
        return (
            super()
            .get_queryset()
            .select_related("site", "station", "created_by")
            .prefetch_related(Prefetch("station_outcomes", queryset=outcomes))
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(time_zone=zone_of(self.organization), now=timezone.now())
        return context


# --- maintenance log ---------------------------------------------------------------------------

# Records the station page shows.
STATION_PANEL_RECORDS = 5


def record_url(record) -> str:
    return reverse(
        "availability:maintenance-record-detail",
        kwargs={"org": record.organization.slug, "pk": record.pk},
    )


def records_with_attachments(queryset: QuerySet) -> QuerySet:
    """Records with what every list of them shows, in a fixed number of queries."""
    return queryset.select_related("station", "performed_by").prefetch_related(
        Prefetch("attachments", queryset=MaintenanceAttachment.objects.order_by("pk"))
    )


def maintenance_panel(page) -> dict:
    """The station page's maintenance log: recent records, what is due, links (a panel)."""
    organization, station = page.organization, page.get_station()
    stations = ChargingStation.objects.for_org(organization).filter(pk=station.pk)
    records = records_with_attachments(
        MaintenanceRecord.objects.for_org(organization).filter(station=station)
    )
    due = maintenance_due(stations)
    slug = organization.slug
    return {
        "maintenance_panel": True,
        "maintenance_records": list(
            records.order_by("-performed_at", "-id")[:STATION_PANEL_RECORDS]
        ),
        "maintenance_due": due[0] if due else None,
        "maintenance_add_url": reverse("availability:maintenance-record-add", kwargs={"org": slug})
        + f"?station={station.pk}",
        "maintenance_records_url": reverse(
            "availability:maintenance-record-list", kwargs={"org": slug}
        )
        + f"?station={station.pk}",
    }


class MaintenanceFilterForm(forms.Form):
    """Filters of the maintenance pages: a site, a station, a kind."""

    site = forms.ModelChoiceField(
        label=_("Site"), queryset=Site.objects.none(), required=False, empty_label=_("All sites")
    )
    station = forms.ModelChoiceField(
        label=_("Station"),
        queryset=ChargingStation.objects.none(),
        required=False,
        empty_label=_("All stations"),
    )
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[("", _("All kinds")), *MaintenanceKind.choices], required=False
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = Site.objects.for_org(organization).order_by("name")
        self.fields["station"].queryset = ChargingStation.objects.for_org(organization).order_by(
            "ocpp_id"
        )

    def filter_stations(self, stations: QuerySet) -> QuerySet:
        """The stations the valid filters select (invalid filters select nothing)."""
        if not self.is_valid():
            return stations.none()
        if self.cleaned_data.get("site") is not None:
            stations = stations.filter(site=self.cleaned_data["site"])
        if self.cleaned_data.get("station") is not None:
            stations = stations.filter(pk=self.cleaned_data["station"].pk)
        return stations

    def filter_records(self, records: QuerySet) -> QuerySet:
        """The records the valid filters select (invalid filters select nothing)."""
        if not self.is_valid():
            return records.none()
        if self.cleaned_data.get("site") is not None:
            records = records.filter(station__site=self.cleaned_data["site"])
        if self.cleaned_data.get("station") is not None:
            records = records.filter(station=self.cleaned_data["station"])
        if self.cleaned_data.get("kind"):
            records = records.filter(kind=self.cleaned_data["kind"])
        return records


class DueMixin:
    """The overview's lines: the organization's stations narrowed by the filters."""

    def due_lines(self):
        self.filters = MaintenanceFilterForm(self.request.GET, organization=self.organization)
        stations = self.filters.filter_stations(ChargingStation.objects.for_org(self.organization))
        return maintenance_due(stations)


class MaintenanceDueView(DueMixin, PortalView):
    """What is due: per station its last maintenance, next due (overdue first), windows."""

    section = "availability"
    template_name = "availability/maintenance_due.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        page = Paginator(self.due_lines(), PAGE_SIZE).get_page(self.request.GET.get("page"))
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(
            filters=self.filters,
            lines=page.object_list,
            page_obj=page,
            export_query=query.urlencode(),
            time_zone=zone_of(self.organization),
        )
        return context


class MaintenanceDueExportView(DueMixin, OrganizationMixin, View):
    """The overview of what is due as CSV, with the page's filters."""

    def get(self, request, *args, **kwargs):
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        return csv_response(self.due_lines(), DUE_CSV_COLUMNS, f"maintenance-due-{stamp}.csv")


class MaintenanceRecordListView(OrganizationMixin, ListView):
    """The maintenance log, latest first, by site, station and kind."""

    section = "availability"
    template_name = "availability/maintenance_record_list.html"
    context_object_name = "records"
    paginate_by = PAGE_SIZE

    def get_queryset(self):
        self.filters = MaintenanceFilterForm(self.request.GET, organization=self.organization)
        records = MaintenanceRecord.objects.for_org(self.organization).order_by(
            "-performed_at", "-id"
        )
        return records_with_attachments(self.filters.filter_records(records))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(filters=self.filters, time_zone=zone_of(self.organization))
        return context


class MaintenanceRecordDetailView(OrganizationObjectMixin, DetailView):
    """One maintenance record with its photos and documents."""

    section = "availability"
    model = MaintenanceRecord
    template_name = "availability/maintenance_record_detail.html"
    context_object_name = "record"

    def get_queryset(self):
        return records_with_attachments(super().get_queryset()).select_related("created_by")


class RecordFormMixin(InvalidFormIs400, OrganizationFormMixin):
    """Saving a record and its new files in one transaction, as the person logged in."""

    section = "availability"
    required_role = Role.OPERATOR
    form_class = MaintenanceRecordForm
    template_name = "availability/maintenance_record_form.html"
    success_message = ""

    def form_valid(self, form):
        record = form.save(commit=False)
        if record.pk is None:
            record.organization = self.organization
        try:
            save_record(record, form.cleaned_data["attachments"], user=self.request.user)
        except ValidationError as error:
            # The form checked the files already; a race with the limits still says why.
            form.add_error("attachments", error)
            return self.form_invalid(form)
        self.object = record
        messages.success(self.request, self.success_message)
        return redirect(record_url(record))


class MaintenanceRecordCreateView(RecordFormMixin, OrganizationMixin, CreateView):
    """Record maintenance done to a station (operators)."""

    success_message = _("Maintenance recorded.")

    def get_initial(self):
        initial = super().get_initial()
        initial["performed_at"] = timezone.now()
        initial["performed_by"] = self.request.user.pk
        station = self.request.GET.get("station")
        if station and station.isdigit():
            initial["station"] = (
                ChargingStation.objects.for_org(self.organization).filter(pk=station).first()
            )
        return initial


class MaintenanceRecordEditView(RecordFormMixin, OrganizationObjectMixin, UpdateView):
    """Change a maintenance record and add files to it (operators)."""

    model = MaintenanceRecord
    context_object_name = "record"
    success_message = _("Maintenance record saved.")


class MaintenanceRecordDeleteView(OrganizationObjectMixin, DeleteView):
    """Delete a maintenance record and its files after a confirmation (admins)."""

    section = "availability"
    required_role = Role.ADMIN
    model = MaintenanceRecord
    template_name = "availability/maintenance_record_confirm_delete.html"
    context_object_name = "record"

    def form_valid(self, form):
        messages.success(self.request, _("Maintenance record deleted."))
        return super().form_valid(form)

    def get_success_url(self):
        return reverse(
            "availability:maintenance-record-list", kwargs={"org": self.organization.slug}
        )


class AttachmentMixin(OrganizationMixin):
    """One attachment of one of the organization's records; anything else is a 404."""

    def get_attachment(self) -> MaintenanceAttachment:
        return get_object_or_404(
            MaintenanceAttachment.objects.for_org(self.organization).select_related(
                "record__organization"
            ),
            record_id=self.kwargs["pk"],
            pk=self.kwargs["attachment_pk"],
        )


class MaintenanceAttachmentView(AttachmentMixin, View):
    """The file of an attachment, for members of the organization only."""

    def get(self, request, *args, **kwargs):
        return download_response(self.get_attachment())


class MaintenanceAttachmentDeleteView(AttachmentMixin, View):
    """Remove one file from a record (operators, who add them)."""

    required_role = Role.OPERATOR

    def post(self, request, *args, **kwargs):
        attachment = self.get_attachment()
        record = attachment.record
        attachment.delete()
        messages.success(request, _("Attachment removed."))
        return redirect(record_url(record))


class MaintenanceAttachmentAddView(OrganizationMixin, View):
    """Add files to an existing record (operators)."""

    required_role = Role.OPERATOR

    def post(self, request, *args, **kwargs):
        record = get_object_or_404(
            MaintenanceRecord.objects.for_org(self.organization), pk=self.kwargs["pk"]
        )
        uploads = request.FILES.getlist("attachments")
        if not uploads:
            # Shown like the files' own errors, beside the form: nothing was added.
            messages.error(request, _("Choose at least one file to upload."))
            return redirect(record_url(record))
        try:
            add_attachments(record, uploads, user=request.user)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Files added."))
        return redirect(record_url(record))
