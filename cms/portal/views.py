"""The portal's base classes (every page starts from the user's organization) and its own pages."""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, Sum
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language
from django.views import View
from django.views.generic import TemplateView

from cms.portal.forms import PreferenceForm
from cms.portal.language import remember_language
from cms.portal.models import UserPreference
from organizations.choices import Role
from organizations.models import Membership
from sessions_app.models import ChargingSession
from sessions_app.selectors import day_start, zone_of
from stations.choices import ConnectionState, ConnectorStatus
from stations.models import ChargingStation, Connector


@dataclass(frozen=True)
class Abilities:
    """What the user's role allows in the current organization, for templates: `can.operate`."""

    role: str

    def _at_least(self, role: str) -> bool:
        from organizations.services import role_rank

        return role_rank(self.role) >= role_rank(role)

    @property
    def operate(self) -> bool:
        """Run remote commands (operator and up)."""
        return self._at_least(Role.OPERATOR)

    @property
    def administer(self) -> bool:
        """Change sites, stations, groups and cards (admin and up)."""
        return self._at_least(Role.ADMIN)


class OrganizationMixin(LoginRequiredMixin):
    """Resolves the organization from the URL's `org` slug through the user's membership."""

    # The least role that may open the view; a member below it gets 403, an outsider 404.
    required_role = Role.VIEWER

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        # Another organization's slug is a 404, exactly like one that does not exist.
        self.membership = get_object_or_404(
            Membership.objects.select_related("organization"),
            user=request.user,
            organization__slug=kwargs["org"],
        )
        self.organization = self.membership.organization
        self.can = Abilities(self.membership.role)
        # Times on the organization's pages are its local times (its sites' wall clock).
        timezone.activate(zone_of(self.organization))
        if not self.membership.has_role(self.required_role):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            organization=self.organization,
            membership=self.membership,
            can=self.can,
            section=getattr(self, "section", ""),
        )
        return context


class OrganizationObjectMixin(OrganizationMixin):
    """Generic views over `model`, narrowed to the organization: another org's row is a 404."""

    model = None

    def get_queryset(self):
        return self.model.objects.for_org(self.organization)


class OrganizationFormMixin:
    """Create/update views: the form narrows its related fields; a new row gets the URL's org."""

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["organization"] = self.organization
        return kwargs

    def form_valid(self, form):
        if form.instance.pk is None and hasattr(form.instance, "organization_id"):
            form.instance.organization = self.organization
        return super().form_valid(form)


class PortalView(OrganizationMixin, TemplateView):
    """A page of one organization."""


def home(request):
    """The entry point: the dashboard of the user's first organization, or the login page."""
    if not request.user.is_authenticated:
        return redirect(settings.LOGIN_URL)
    membership = Membership.objects.filter(user=request.user).select_related("organization").first()
    if membership is None:
        return render(request, "portal/no_organization.html", status=200)
    return redirect("portal:dashboard", org=membership.organization.slug)


class DashboardView(PortalView):
    """Stations online/offline, connectors by status, running sessions, energy, open faults."""

    template_name = "portal/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        org = self.organization
        stations = ChargingStation.objects.for_org(org).aggregate(
            total=Count("pk"),
            online=Count("pk", filter=Q(connection_state=ConnectionState.ONLINE)),
        )
        by_status = dict(
            Connector.objects.for_org(org)
            .values_list("status")
            .annotate(n=Count("pk"))
            .values_list("status", "n")
        )
        zone = zone_of(org)
        now = timezone.now()
        local_today = now.astimezone(zone).date()
        today = day_start(local_today, zone)
        month = day_start(local_today.replace(day=1), zone)
        sessions = ChargingSession.objects.for_org(org)
        energy = sessions.aggregate(
            today=Sum("energy_wh", filter=Q(start__gte=today)),
            month=Sum("energy_wh", filter=Q(start__gte=month)),
        )
        context.update(
            stations_total=stations["total"],
            stations_online=stations["online"],
            stations_offline=stations["total"] - stations["online"],
            connector_statuses=[
                (status, label, by_status.get(status, 0))
                for status, label in ConnectorStatus.choices
            ],
            running=sessions.active().select_related("station", "connector", "id_token")[:20],
            running_count=sessions.active().count(),
            energy_today_wh=energy["today"] or 0,
            energy_month_wh=energy["month"] or 0,
            faults=Connector.objects.for_org(org)
            .filter(status=ConnectorStatus.FAULTED)
            .select_related("station", "station__site"),
        )
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


def not_built_yet(request, **kwargs):
    """Stands in for a page while it is being built (replaced before any commit)."""
    from django.http import Http404

    raise Http404


class SiteTabMixin(OrganizationMixin):
    """A tab of a site page: `self.site` is the organization's site from the URL, else 404."""

    section = "sites"
    tab = ""
    # The URL keyword that carries the site's primary key.
    site_kwarg = "site"

    def get_site(self):
        from stations.models import Site

        if not hasattr(self, "_site"):
            self._site = get_object_or_404(
                Site.objects.for_org(self.organization), pk=self.kwargs[self.site_kwarg]
            )
        return self._site

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(site=self.get_site(), tab=self.tab)
        return context
