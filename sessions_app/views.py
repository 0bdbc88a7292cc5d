"""Portal pages of the sessions app: the sessions list, its CSV, a session, and analytics."""

from collections import defaultdict
from datetime import date, datetime, timedelta, tzinfo
from statistics import median

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Max, Min, Prefetch, QuerySet
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext_lazy
from django.views import View
from django.views.generic import DetailView, TemplateView

from cards.models import AccessGroup
from core import timezones
from core.api.csv import CHUNK_ROWS, csv_response
from core.charts import Series, render_chart
from core.lists import Nouns, summarize
from core.ordering import PARAM as ORDERING
from organizations.choices import Role
from organizations.portal import OrganizationMixin, OrganizationObjectMixin, PortalView
from sessions_app import selectors, services
from sessions_app.api.views import ChargingSessionViewSet
from sessions_app.choices import SessionState
from sessions_app.filtersets import SESSION_ORDERING
from sessions_app.forms import (
    CorrectReadingsForm,
    PeriodForm,
    PortalSessionFilterSet,
    started_by_authorized_card_or_roaming,
)
from sessions_app.models import ChargingSession, MeterValue
from sessions_app.panels import add_panels
from sessions_app.progress import session_progress
from sessions_app.usage import has_uptime_source, station_usage
from stations.models import ChargingStation
from stations.site_views import SiteTabMixin

PAGE_SIZE = 50
# The API's export columns, so a file from the portal reads exactly like one from the API.
CSV_COLUMNS = ChargingSessionViewSet.csv_columns

SESSION_NOUNS = Nouns(
    matched=ngettext_lazy(
        "%(count)s session matches these filters.",
        "%(count)s sessions match these filters.",
        "count",
    ),
    total=ngettext_lazy("%(count)s session.", "%(count)s sessions.", "count"),
    none_matched=gettext_lazy("No sessions match these filters."),
    none=gettext_lazy("No sessions yet."),
)


def session_rows(organization) -> QuerySet:
    """The organization's sessions with what a list row shows (and the CSV), newest first."""
    sessions = ChargingSession.objects.for_org(organization).select_related(
        "station__site", "connector__evse", "id_token", "roaming_partner"
    )
    return selectors.with_cost(sessions).order_by("-start", "-id")


class SessionFilterMixin:
    """The organization's sessions narrowed by the query string through the API's filters."""

    # Filters the page always applies, whatever the query string says (a site's tab).
    def forced_filters(self) -> dict:
        return {}

    def narrow_filters(self, filterset: PortalSessionFilterSet) -> None:
        """Narrow the filters' choices further than the organization (a site's tab)."""

    def sort_state(self):
        return SESSION_ORDERING.parse(self.request.GET.get(ORDERING))

    def sorted_rows(self) -> QuerySet:
        """The filtered sessions in the order the query string asks for (valid filters only)."""
        return self.get_filterset().qs.order_by(*SESSION_ORDERING.order_by(self.sort_state()))

    def get_filterset(self) -> PortalSessionFilterSet:
        if not hasattr(self, "_filterset"):
            data = self.request.GET.copy()
            for name, value in self.forced_filters().items():
                data[name] = value
            self._filterset = PortalSessionFilterSet(
                data,
                queryset=session_rows(self.organization),
                request=self.request,
                organization=self.organization,
            )
            self.narrow_filters(self._filterset)
        return self._filterset

    def filter_query(self) -> str:
        """The query string of the current filters (without the page), for the CSV link."""
        data = self.request.GET.copy()
        data.pop("page", None)
        for name, value in self.forced_filters().items():
            data[name] = value
        return data.urlencode()


class SessionListMixin(SessionFilterMixin):
    """A page (or its live-refreshed table) of filtered sessions."""

    def get(self, request, *args, **kwargs):
        context = self.get_context_data(**kwargs)
        # A filter that does not validate (a site of another organization, a bad date) shows
        # its error and no rows, as the API answers 400.
        status = 200 if context["filterset"].is_valid() else 400
        return self.render_to_response(context, status=status)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filterset = self.get_filterset()
        if filterset.is_valid():
            page = Paginator(self.sorted_rows(), PAGE_SIZE).get_page(self.request.GET.get("page"))
            # Forced filters (the site of a site's tab) are the page itself, not a filter.
            summary = summarize(
                SESSION_NOUNS,
                page.paginator.count,
                self.request,
                path=self.list_path(),
                ignore=self.forced_filters(),
            )
        else:
            page = summary = None
        context.update(
            filterset=filterset,
            page_obj=page,
            sessions=page.object_list if page else [],
            summary=summary,
            sort=self.sort_state(),
            filter_query=self.filter_query(),
            time_zone=timezones.zone_of(self.organization),
        )
        return context

    def list_path(self) -> str:
        """The page's own URL (the htmx fragment's clear link must point at the page)."""
        return reverse("sessions:session-list", kwargs={"org": self.organization.slug})


class SessionListView(SessionListMixin, PortalView):
    """Every session of the organization, filtered, newest first, a page at a time."""

    section = "sessions"
    template_name = "sessions_app/session_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["filter_fields"] = context["filterset"].shown_fields()
        return context


class SessionTableView(SessionListView):
    """The sessions list's table alone, fetched again by htmx when a session changes."""

    template_name = "sessions_app/_session_table.html"


class SessionExportView(SessionFilterMixin, OrganizationMixin, View):
    """The filtered sessions as CSV, streamed, with the API export's columns."""

    def get(self, request, *args, **kwargs):
        filterset = self.get_filterset()
        if not filterset.is_valid():
            lines = [f"{name}: {' '.join(errors)}" for name, errors in filterset.errors.items()]
            return HttpResponse(
                "\n".join(lines), status=400, content_type="text/plain; charset=utf-8"
            )
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        # The rows in the order the list shows them (its `ordering` is in the link).
        return csv_response(
            self.sorted_rows().iterator(chunk_size=CHUNK_ROWS), CSV_COLUMNS, f"sessions-{stamp}.csv"
        )


class SessionDetailView(OrganizationObjectMixin, DetailView):
    """One session: station, card and its groups, meter values, billing."""

    model = ChargingSession
    section = "sessions"
    template_name = "sessions_app/session_detail.html"
    context_object_name = "session"

    def get_queryset(self):
        groups = Prefetch("id_token__access_groups", queryset=AccessGroup.objects.only("name"))
        sessions = (
            super()
            .get_queryset()
            .select_related(
                "station__site",
                "connector__evse",
                "id_token",
                "billing_stopped_by",
                "reviewed_by",
                "reservation",
                "roaming_partner",
            )
            .prefetch_related(groups)
        )
        return selectors.with_cost(sessions)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            meter_summary=meter_summary(self.object),
            time_zone=timezones.zone_of(self.organization),
            cost=selectors.cost_of(self.object),
            correct_form=CorrectReadingsForm(initial=_registers(self.object)),
            progress=session_progress(
                self.object, timezones.zone_of(self.organization), timezone.now()
            ),
        )
        add_panels(context, self.request, self.object)
        return context


class SessionProgressView(OrganizationObjectMixin, DetailView):
    """The session page's progress panel alone, fetched again while the session runs."""

    model = ChargingSession
    template_name = "sessions_app/_session_progress.html"
    context_object_name = "session"

    def get_queryset(self):
        return super().get_queryset().select_related("station__site", "connector__evse")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        zone = timezones.zone_of(self.organization)
        context.update(time_zone=zone, progress=session_progress(self.object, zone, timezone.now()))
        return context


def _registers(session) -> dict:
    return {"meter_start": session.meter_start, "meter_stop": session.meter_stop}


class SessionReviewView(OrganizationMixin, View):
    """Release or correct a session held for review (POST only, operators): the API's actions."""

    required_role = Role.OPERATOR
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        session = get_object_or_404(
            ChargingSession.objects.for_org(self.organization), pk=kwargs["pk"]
        )
        try:
            if request.POST.get("action") == "correct":
                form = CorrectReadingsForm(request.POST)
                if not form.is_valid():
                    raise services.ReviewRefused(
                        _("Meter stop must be at least meter start, and neither negative.")
                    )
                services.correct_session(session, user=request.user, **form.cleaned_data)
                messages.success(request, _("Readings corrected; the session is rated."))
            else:
                services.release_session(session, user=request.user)
                messages.success(request, _("Session released for billing."))
        except services.ReviewRefused as refusal:
            messages.error(request, str(refusal))
        return HttpResponseRedirect(
            reverse(
                "sessions:session-detail", kwargs={"org": self.organization.slug, "pk": session.pk}
            )
        )


def meter_summary(session) -> list[dict]:
    """Per measurand and phase: how many values, first and last time, least and most."""
    # The values themselves can be tens of thousands; the API pages them at meter-values/.
    return list(
        MeterValue.objects.filter(session=session)
        .values("measurand", "phase", "unit")
        .annotate(
            count=Count("pk"),
            first=Min("timestamp"),
            last=Max("timestamp"),
            minimum=Min("value"),
            maximum=Max("value"),
        )
        .order_by("measurand", "phase", "unit")
    )


class SiteSessionsView(SessionListMixin, SiteTabMixin, TemplateView):
    """A site's sessions: by cards of the groups authorized there, or by roaming."""

    tab = "sessions"
    template_name = "sessions_app/site_sessions.html"

    def forced_filters(self) -> dict:
        # The product's rule: a card that is in no group authorized here is not listed.
        return {"site": str(self.get_site().pk), "authorized_or_roaming": "true"}

    def narrow_filters(self, filterset: PortalSessionFilterSet) -> None:
        # Only the site's own stations: another site's would always list nothing here.
        station = filterset.filters["station"]
        station.queryset = station.queryset.filter(site=self.get_site())

    def list_path(self) -> str:
        return reverse(
            "sessions:site-sessions",
            kwargs={"org": self.organization.slug, "site": self.get_site().pk},
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["filter_fields"] = context["filterset"].shown_fields(exclude=("site",))
        return context


class SiteSessionTableView(SiteSessionsView):
    """The site's sessions table alone, fetched again by htmx when a session changes."""

    template_name = "sessions_app/_site_session_table.html"


# --- analytics -----------------------------------------------------------------------------


def period_range(days: int, zone: tzinfo, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The last `days` local days, today included, as the half-open range the API uses."""
    today = (now or timezone.now()).astimezone(zone).date()
    start_before = timezones.day_start(today + timedelta(days=1), zone)
    return timezones.local_days_before(start_before, days, zone), start_before


def median_seconds_per_day(
    sessions: QuerySet, start_after: datetime, start_before: datetime, zone: tzinfo
) -> dict[date, float]:
    """The median duration of the completed sessions of each local day (session_analytics' set)."""
    durations: dict[date, list[float]] = defaultdict(list)
    rows = (
        sessions.filter(
            state=SessionState.COMPLETED,
            start__gte=start_after,
            start__lt=start_before,
            stop__isnull=False,
        )
        .order_by()
        .values_list("start", "stop")
    )
    for start, stop in rows.iterator(chunk_size=CHUNK_ROWS):
        durations[start.astimezone(zone).date()].append(max(0.0, (stop - start).total_seconds()))
    return {day: median(values) for day, values in durations.items()}


def analytics_context(sessions: QuerySet, days: int, zone: tzinfo) -> dict:
    """Totals, one row per day and the three charts of the completed sessions in the period."""
    start_after, start_before = period_range(days, zone)
    rows = selectors.session_analytics(
        sessions,
        group_by=selectors.GroupBy.DAY,
        start_after=start_after,
        start_before=start_before,
        zone=zone,
    )
    medians = median_seconds_per_day(sessions, start_after, start_before, zone)
    for row in rows:
        row["median_duration_seconds"] = medians.get(row["date"])
    total_sessions = sum(row["sessions"] for row in rows)
    total_seconds = sum(row["duration_seconds"] for row in rows)
    return {
        "rows": rows,
        "first_day": rows[0]["date"],
        "last_day": rows[-1]["date"],
        "total_sessions": total_sessions,
        "total_energy_wh": sum(row["energy_wh"] for row in rows),
        "average_duration_seconds": round(total_seconds / total_sessions)
        if total_sessions
        else None,
        "charts": charts_of(rows),
    }


def _minutes(seconds):
    return None if seconds is None else seconds / 60


def charts_of(rows: list[dict]) -> list:
    """Sessions, energy and durations per day, as charts with their data tables."""
    labels = [formats.date_format(row["date"], "SHORT_DATE_FORMAT") for row in rows]
    day = _("Day")
    return [
        render_chart(
            "bar",
            title=_("Sessions per day"),
            x_title=day,
            y_title=_("Sessions"),
            labels=labels,
            series=[Series(_("Sessions"), [row["sessions"] for row in rows])],
            formatter=lambda value: formats.number_format(value, 0, use_l10n=True),
        ),
        render_chart(
            "bar",
            title=_("Energy charged per day"),
            x_title=day,
            y_title=_("kWh"),
            labels=labels,
            series=[Series(_("Energy (kWh)"), [row["energy_wh"] / 1000 for row in rows])],
            formatter=lambda value: formats.number_format(value, 2, use_l10n=True),
        ),
        render_chart(
            "line",
            title=_("Session duration per day"),
            x_title=day,
            y_title=_("Minutes"),
            labels=labels,
            series=[
                Series(
                    _("Average (minutes)"),
                    [_minutes(row["average_duration_seconds"]) for row in rows],
                ),
                Series(
                    _("Median (minutes)"),
                    [_minutes(row["median_duration_seconds"]) for row in rows],
                ),
            ],
            formatter=lambda value: formats.number_format(value, 0, use_l10n=True),
        ),
    ]


def usage_context(sessions: QuerySet, stations: QuerySet, days: int, zone: tzinfo) -> dict:
    """Per-station usage over the period (sessions_app.usage), for the table under the charts."""
    now = timezone.now()
    start_after, start_before = period_range(days, zone, now)
    last_day = now.astimezone(zone).date()
    return {
        "usage": station_usage(
            sessions,
            stations,
            start_after=start_after,
            start_before=start_before,
            first_day=last_day - timedelta(days=days - 1),
            last_day=last_day,
            zone=zone,
            now=now,
        ),
        "usage_has_uptime": has_uptime_source(),
    }


class AnalyticsMixin:
    """Charts of the completed sessions per local day over the last 7, 30 or 90 days."""

    def analytics_sessions(self) -> QuerySet:
        return ChargingSession.objects.for_org(self.organization)

    def analytics_stations(self) -> QuerySet:
        return ChargingStation.objects.for_org(self.organization)

    def get(self, request, *args, **kwargs):
        # Unbound without a period, so the selector shows the default as chosen.
        form = PeriodForm(request.GET if "days" in request.GET else None)
        context = self.get_context_data(form=form, **kwargs)
        if form.is_bound and not form.is_valid():
            return self.render_to_response(context, status=400)
        days = form.cleaned_data["days"] if form.is_bound else PeriodForm.DEFAULT
        zone = timezones.zone_of(self.organization)
        sessions = self.analytics_sessions()
        context.update(analytics_context(sessions, days, zone))
        context.update(usage_context(sessions, self.analytics_stations(), days, zone))
        return self.render_to_response(context)


class AnalyticsView(AnalyticsMixin, PortalView):
    """Analytics of every station of the organization."""

    section = "analytics"
    template_name = "sessions_app/analytics.html"


class SiteAnalyticsView(AnalyticsMixin, SiteTabMixin, TemplateView):
    """Analytics of one site's stations."""

    tab = "analytics"
    template_name = "sessions_app/site_analytics.html"

    def analytics_sessions(self) -> QuerySet:
        # The site's sessions tab's rule: a card in no access group authorized here is left out.
        return (
            super()
            .analytics_sessions()
            .filter(station__site=self.get_site())
            .filter(started_by_authorized_card_or_roaming())
        )

    def analytics_stations(self) -> QuerySet:
        return super().analytics_stations().filter(site=self.get_site())
