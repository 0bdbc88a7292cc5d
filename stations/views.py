"""Portal pages of stations: all stations, a station, adding one."""

from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.crypto import get_random_string
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy, ngettext_lazy
from django.views.decorators.cache import never_cache
from django.views.generic import FormView, ListView, TemplateView

from core.lists import Nouns, SortedListMixin
from organizations.choices import Role
from organizations.portal import OrganizationFormMixin, OrganizationMixin
from stations import services
from stations.api.serializers import BASIC_AUTH_PROFILES
from stations.choices import OcppVersion, SecurityProfile
from stations.diagnostics import station_firmware
from stations.filtersets import STATION_ORDERING
from stations.forms import DUPLICATE_IDENTITY, DUPLICATE_SITE, NewStationForm, StationFilterSet
from stations.models import ChargingStation, Connector, Site, StatusEvent
from stations.pages import station_panels, station_parts

RECENT_SESSIONS, RECENT_EVENTS = 10, 20

# OCPP 1.6 takes a Basic-auth password of 16 to 20 characters, 2.0.1 up to 40 (the API's
# PASSWORD_MIN..PASSWORD_MAX): 20 letters and digits (about 119 bits) suit both.
STATION_PASSWORD_LENGTH = 20
# Where the password of a station just added waits for the one page that shows it.
NEW_PASSWORD_SESSION_KEY = "stations:new-station-password"
TLS_PROFILES = (SecurityProfile.TLS_BASIC, SecurityProfile.TLS_CLIENT_CERT)

STATION_NOUNS = Nouns(
    matched=ngettext_lazy(
        "%(count)s station matches these filters.",
        "%(count)s stations match these filters.",
        "count",
    ),
    total=ngettext_lazy("%(count)s station.", "%(count)s stations.", "count"),
    none_matched=gettext_lazy("No stations match these filters."),
    none=gettext_lazy("No charging stations yet."),
)


class StationMixin(OrganizationMixin):
    """A page of one station of the organization (`pk` in the URL); another org's is a 404."""

    section = "stations"

    def get_station(self) -> ChargingStation:
        if not hasattr(self, "_station"):
            self._station = get_object_or_404(
                ChargingStation.objects.for_org(self.organization).select_related("site"),
                pk=self.kwargs["pk"],
            )
        return self._station

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["station"] = self.get_station()
        return context


# --- All stations ------------------------------------------------------------------------------


class StationListView(SortedListMixin, OrganizationMixin, ListView):
    """Every station of the organization with its connection and connector statuses."""

    section = "stations"
    template_name = "stations/station_list.html"
    context_object_name = "stations"
    paginate_by = 50
    sorting = STATION_ORDERING
    nouns = STATION_NOUNS

    def get_queryset(self):
        stations = (
            ChargingStation.objects.for_org(self.organization)
            .select_related("site")
            .prefetch_related(
                Prefetch("connectors", queryset=Connector.objects.order_by("connector_id"))
            )
        )
        stations = self.sort(stations)
        self.filterset = StationFilterSet(
            self.request.GET or None,
            queryset=stations,
            request=self.request,
            organization=self.organization,
        )
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filtered = any(self.request.GET.get(name) for name in StationFilterSet.shown)
        context.update(filterset=self.filterset, filtered=filtered)
        return context


# --- A station ---------------------------------------------------------------------------------


class StationPageMixin(StationMixin):
    """The station page: details, connectors, history, and what other apps add to it."""

    template_name = "stations/station_detail.html"

    def connectors(self) -> list[Connector]:
        if not hasattr(self, "_connectors"):
            self._connectors = list(
                Connector.objects.filter(station=self.get_station())
                .select_related("evse")
                .order_by("connector_id")
            )
        return self._connectors

    def page_context(self) -> dict:
        """Everything of the page outside its panels: the connectors and every part."""
        station, context = self.get_station(), {"connectors": self.connectors()}
        for _template, part_context in all_parts().values():
            context.update(part_context(station, self.organization))
        return context

    def get_context_data(self, *, partial=False, **kwargs):
        context = super().get_context_data(**kwargs)
        if not partial:
            context.update(self.page_context())
        return context


def station_sessions(station, organization) -> dict:
    """The station's last sessions."""
    # Through the station's reverse relation: sessions_app sits above stations.
    sessions = (
        station.charging_sessions.for_org(organization)
        .select_related("connector", "id_token")
        .order_by("-start", "-id")[:RECENT_SESSIONS]
    )
    return {"recent_sessions": sessions}


def station_events(station, organization) -> dict:
    """The station's last status reports."""
    events = (
        StatusEvent.objects.for_org(organization)
        .filter(station=station)
        .order_by("-timestamp", "-id")
    )
    return {"status_events": events[:RECENT_EVENTS]}


class StationDetailView(StationPageMixin, TemplateView):
    """A station: details, connectors, recent sessions, status events, and what others add."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # The gateway's "Control charging station" panel, registered in stations.pages.
        for panel in station_panels:
            context.update(panel(self))
        return context


# The pieces of the station page that refresh themselves (htmx), each with its context; apps
# above stations add theirs to stations.pages (the gateway's command log).
STATION_PARTS = {
    "sessions": ("stations/_station_sessions.html", station_sessions),
    "events": ("stations/_station_events.html", station_events),
    "firmware": ("stations/_station_firmware.html", station_firmware),
}


def all_parts() -> dict:
    """The station's own parts, then those other apps registered."""
    return {**STATION_PARTS, **station_parts}


class StationPartView(StationMixin, TemplateView):
    """One self-refreshing piece of the station page (sessions, status events, command log)."""

    def get_template_names(self):
        return [self.part()[0]]

    def part(self):
        try:
            return all_parts()[self.kwargs["part"]]
        except KeyError:
            raise Http404 from None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(self.part()[1](self.get_station(), self.organization))
        return context


# --- Adding a station --------------------------------------------------------------------------


def new_station_password() -> str:
    """A random Basic-auth password for a new station."""
    return get_random_string(STATION_PASSWORD_LENGTH)


class StationAddView(OrganizationFormMixin, OrganizationMixin, FormView):
    """A new station, on a site of the organization or a new one, with a generated password."""

    required_role = Role.ADMIN
    section = "stations"
    template_name = "stations/station_form.html"
    form_class = NewStationForm

    def form_valid(self, form):
        station = form.save(commit=False)
        station.organization = self.organization
        password = None
        if station.security_profile in BASIC_AUTH_PROFILES:
            password = new_station_password()
        site = form.new_site()
        try:
            # One transaction: a new site is not kept when the station cannot be saved.
            with transaction.atomic():
                if site is not None:
                    station.site = services.save_site(
                        site, access_groups=form.cleaned_data["new_site_access_groups"]
                    )
                services.save_station(station, password)
        except IntegrityError:
            # Another request took the identity or the site's name since the form was checked.
            if ChargingStation.objects.filter(ocpp_id=station.ocpp_id).exists():
                form.add_error("ocpp_id", DUPLICATE_IDENTITY)
            elif (
                site is not None
                and Site.objects.for_org(self.organization).filter(name=site.name).exists()
            ):
                form.add_error("new_site_name", DUPLICATE_SITE)
            else:
                raise
            return self.form_invalid(form)
        if password is not None:
            # Shown once, by the next page, which takes it out of the session.
            self.request.session[NEW_PASSWORD_SESSION_KEY] = {
                "station": station.pk,
                "password": password,
            }
        return redirect("stations:station-connect", org=self.organization.slug, pk=station.pk)

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


@method_decorator(never_cache, name="dispatch")
class StationConnectView(StationMixin, TemplateView):
    """How a station connects: URL, subprotocols, username, and a new password once."""

    required_role = Role.ADMIN
    template_name = "stations/station_connect.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        station = self.get_station()
        waiting = self.request.session.get(NEW_PASSWORD_SESSION_KEY)
        password = None
        if waiting and waiting.get("station") == station.pk:
            password = self.request.session.pop(NEW_PASSWORD_SESSION_KEY)["password"]
        # Profiles 2 and 3 connect over TLS, whatever this page was served with.
        secure = self.request.is_secure() or station.security_profile in TLS_PROFILES
        context.update(
            password=password,
            basic_auth=station.security_profile in BASIC_AUTH_PROFILES,
            websocket_url=f"{'wss' if secure else 'ws'}://{self.request.get_host()}"
            f"/ocpp/{station.ocpp_id}",
            subprotocols=[version.value for version in OcppVersion],
        )
        return context
