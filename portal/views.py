"""The portal's own pages: the entry point, the dashboard, the user's preferences."""

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import Count, Q, Sum
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language
from django.views import View

from alerts.selectors import open_faults
from core.timezones import day_start, zone_of
from organizations.models import Membership
from organizations.portal import PortalView
from portal.forms import PreferenceForm
from portal.language import remember_language
from portal.models import UserPreference
from sessions_app.choices import SessionState
from sessions_app.models import ChargingSession
from stations.choices import ConnectionState, ConnectorStatus
from stations.models import ChargingStation
from stations.selectors import connector_status_counts


def home(request):
    """The entry point: the dashboard of the user's first organization, or the login page."""
    if not request.user.is_authenticated:
        return redirect(settings.LOGIN_URL)
    membership = Membership.objects.filter(user=request.user).select_related("organization").first()
    if membership is None:
        return render(request, "portal/no_organization.html", status=200)
    return redirect("portal:dashboard", org=membership.organization.slug)


class DashboardView(PortalView):
    """Stations online/offline, connectors by status, running sessions, energy, faults, alerts."""

    template_name = "portal/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        org = self.organization
        sessions = ChargingSession.objects.for_org(org)
        faults = list(open_faults(org))
        context.update(
            **key_figures(org, fault_count=len(faults)),
            **connector_figures(org),
            running=sessions.active().select_related("station", "connector", "id_token")[:20],
            faults=faults,
        )
        return context


# How often the key figures fetch themselves again while sessions run (their energy grows).
KEY_FIGURES_POLL_SECONDS = 30


def key_figures(org, *, fault_count: int | None = None) -> dict:
    """The dashboard's key figures: stations, running sessions, energy and open faults."""
    zone = zone_of(org)
    local_today = timezone.now().astimezone(zone).date()
    today = day_start(local_today, zone)
    month = day_start(local_today.replace(day=1), zone)
    sessions = ChargingSession.objects.for_org(org)
    energy = sessions.aggregate(
        today=Sum("energy_wh", filter=Q(start__gte=today)),
        month=Sum("energy_wh", filter=Q(start__gte=month)),
        running=Count("pk", filter=Q(state=SessionState.ACTIVE)),
    )
    return {
        **station_counts(org),
        "running_count": energy["running"],
        "energy_today_wh": energy["today"] or 0,
        "energy_month_wh": energy["month"] or 0,
        "fault_count": open_faults(org).count() if fault_count is None else fault_count,
        # While a session runs its energy grows with every meter value, which sends no live
        # event: the figures then fetch themselves again now and then.
        "poll_seconds": KEY_FIGURES_POLL_SECONDS if energy["running"] else None,
    }


def station_counts(org) -> dict:
    """Stations in all, online and offline."""
    stations = ChargingStation.objects.for_org(org).aggregate(
        total=Count("pk"),
        online=Count("pk", filter=Q(connection_state=ConnectionState.ONLINE)),
    )
    return {
        "stations_total": stations["total"],
        "stations_online": stations["online"],
        "stations_offline": stations["total"] - stations["online"],
    }


def connector_figures(org) -> dict:
    """Connectors counted by shown status: an offline station's count as not available."""
    by_status = connector_status_counts(org)
    return {
        "connector_statuses": [
            (status, label, by_status.get(status, 0)) for status, label in ConnectorStatus.choices
        ],
    }


def station_figures(org) -> dict:
    """Stations online and offline, connectors by shown status: the dashboard's live figures."""
    return {**station_counts(org), **connector_figures(org)}


class KeyFiguresFragment(PortalView):
    """The dashboard's key figures alone, fetched again when stations, sessions or alerts change."""

    template_name = "portal/_key_figures.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(**key_figures(self.organization))
        return context


class StationFiguresFragment(PortalView):
    """The dashboard's connectors by status and station counts, fetched again live."""

    template_name = "portal/_connector_statuses.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(**station_figures(self.organization), fragment=True)
        return context


class RunningSessionsFragment(PortalView):
    """The dashboard's running-sessions table alone, refreshed live through htmx."""

    template_name = "portal/_running_sessions.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        sessions = ChargingSession.objects.for_org(self.organization).active()
        context.update(
            running=sessions.select_related("station", "connector", "id_token")[:20],
            running_count=sessions.count(),
        )
        return context


class PreferencesView(LoginRequiredMixin, View):
    """The user's settings: the portal's language (empty: the browser's)."""

    template_name = "portal/preferences.html"

    def get(self, request):
        preference = UserPreference.objects.filter(user=request.user).first()
        form = PreferenceForm(initial={"language": preference.language if preference else ""})
        return render(request, self.template_name, {"form": form})

    def post(self, request):
        form = PreferenceForm(request.POST)
        if not form.is_valid():
            return render(request, self.template_name, {"form": form}, status=400)
        language = form.cleaned_data["language"]
        UserPreference.objects.update_or_create(user=request.user, defaults={"language": language})
        response = HttpResponseRedirect(reverse("portal:preferences"))
        remember_language(request, response, language)
        return response


def set_language(request):
    """The header's language switch: remembered for the user (if logged in) and the browser."""
    if request.method != "POST":
        return redirect("portal:home")
    language = request.POST.get("language", "")
    next_url = request.POST.get("next") or reverse("portal:home")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = reverse("portal:home")
    response = HttpResponseRedirect(next_url)
    if language and not check_for_language(language):
        return response
    if request.user.is_authenticated:
        UserPreference.objects.update_or_create(user=request.user, defaults={"language": language})
    remember_language(request, response, language)
    return response
