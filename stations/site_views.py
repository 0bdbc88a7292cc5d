"""Portal pages of sites: My sites, and the Overview, Sheet, Configuration, EVSE controller tabs."""

import copy

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from django.views.generic import ListView, TemplateView

from core.lists import Nouns, SortedListMixin
from organizations.portal import OrganizationMixin, OrganizationObjectMixin
from stations.choices import ConnectorStatus, SiteStatus
from stations.filtersets import SITE_ORDERING
from stations.models import ChargingStation, Connector, Evse, Site
from stations.pages import site_notices
from stations.services import save_site, with_station_summary
from stations.site_forms import SiteConfigurationForm, SiteDetailsForm, SiteListFilterSet

# The short label of a site's state on its badge; SiteStatus's own labels explain it.
SITE_STATE_LABELS = {
    SiteStatus.AVAILABLE: _("Available"),
    SiteStatus.UNKNOWN: _("Unknown"),
    SiteStatus.LOAD: _("Load"),
}

# What each status of a charge point means, for the sheet's legend (in the seed's order).
CONNECTOR_STATUS_MEANINGS = [
    (ConnectorStatus.AVAILABLE, _("The station is connected and the charge point is free.")),
    (
        ConnectorStatus.UNAVAILABLE,
        _("The charge point is switched off, or the station is not connected or set up yet."),
    ),
    (
        ConnectorStatus.PREPARING,
        _("A vehicle is plugged in, but charging has not been authorized yet."),
    ),
    (ConnectorStatus.CHARGING, _("The vehicle is charging.")),
    (ConnectorStatus.FINISHING, _("Charging has ended and the vehicle can be unplugged.")),
    (ConnectorStatus.SUSPENDED_EV, _("The vehicle itself has paused charging.")),
    (
        ConnectorStatus.SUSPENDED_EVSE,
        _("The station has paused charging, or is temporarily deactivated."),
    ),
    (ConnectorStatus.RESERVED, _("The charge point is reserved for one driver.")),
    (ConnectorStatus.OCCUPIED, _("A vehicle is plugged in (reported by OCPP 2.0.1 stations).")),
    (
        ConnectorStatus.FAULTED,
        _("An error at the station or the charge point: charging is not possible now."),
    ),
    (
        ConnectorStatus.UNKNOWN,
        _("The station has not reported this charge point yet, or its setup is not finished."),
    ),
]


def sites_with_summary(organization):
    """The organization's sites with their state and station and connector counts."""
    # The API's summary, so the portal and the API always agree on a site's state.
    # Ordered explicitly: Meta.ordering does not apply to an aggregating query.
    return (
        with_station_summary(Site.objects.for_org(organization))
        .annotate(connector_count=Count("stations__connectors", distinct=True))
        .order_by("name", "pk")
    )


def site_state(site) -> dict:
    """The state of an annotated site for its badge: value, CSS class, short and long label."""
    return {
        "value": site.status,
        "css": f"site-{site.status.lower()}",
        "label": SITE_STATE_LABELS[site.status],
        "meaning": SiteStatus(site.status).label,
    }


class SiteTabMixin(OrganizationMixin):
    """A tab of a site page: `self.site` is the organization's site from the URL, else 404."""

    section = "sites"
    tab = ""
    # The URL keyword that carries the site's primary key.
    site_kwarg = "site"

    def get_site(self):
        if not hasattr(self, "_site"):
            self._site = get_object_or_404(
                Site.objects.for_org(self.organization), pk=self.kwargs[self.site_kwarg]
            )
        return self._site

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(site=self.get_site(), tab=self.tab)
        # What apps above add to every tab (the cards app: can any card charge here?).
        for notice in site_notices:
            context.update(notice(self.get_site(), self.organization))
        return context


SITE_NOUNS = Nouns(
    matched=ngettext_lazy(
        "%(count)s site matches these filters.", "%(count)s sites match these filters.", "count"
    ),
    total=ngettext_lazy("%(count)s site.", "%(count)s sites.", "count"),
    none_matched=_("No sites match these filters."),
    none=_("No sites yet. A site is created together with its first charging station."),
)


class SiteListView(SortedListMixin, OrganizationObjectMixin, ListView):
    """My sites: every site of the organization with its address, counts and state."""

    model = Site
    section = "sites"
    template_name = "stations/site_list.html"
    context_object_name = "sites"
    paginate_by = 50
    sorting = SITE_ORDERING
    nouns = SITE_NOUNS

    def get_queryset(self):
        self.filterset = SiteListFilterSet(
            self.request.GET or None,
            queryset=self.sort(sites_with_summary(self.organization)),
            organization=self.organization,
        )
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for site in context["sites"]:
            site.state = site_state(site)
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(
            filter_form=self.filterset.form,
            filter_query=query.urlencode(),
            state_legend=[
                {
                    "css": f"site-{value.lower()}",
                    "label": SITE_STATE_LABELS[value],
                    "meaning": label,
                }
                for value, label in SiteStatus.choices
            ],
        )
        return context


class SiteTabView(SiteTabMixin, TemplateView):
    """A tab of a site page of the stations app; the site's key is the URL's `pk`."""

    site_kwarg = "pk"

    def stations(self):
        """The site's stations, each of the organization (a station follows its site's org)."""
        return ChargingStation.objects.for_org(self.organization).filter(site=self.get_site())

    def require_admin(self):
        """Writes need an admin, as the API's site writes do."""
        if not self.can.administer:
            raise PermissionDenied(f"role {self.membership.role}, needs admin")


class SiteOverviewView(SiteTabView):
    """Overview: address, dates, provider, coordinates, grid capacity; admins edit them."""

    tab = "overview"
    template_name = "stations/site_detail.html"

    def get_site(self):
        if not hasattr(self, "_site"):
            self._site = get_object_or_404(
                sites_with_summary(self.organization), pk=self.kwargs[self.site_kwarg]
            )
        return self._site

    def get_form(self, data=None):
        # A copy: a refused edit must not rename the site in the page's own heading.
        return SiteDetailsForm(
            data, instance=copy.copy(self.get_site()), organization=self.organization
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["state"] = site_state(self.get_site())
        if self.can.administer and "form" not in context:
            context["form"] = self.get_form()
        return context

    def post(self, request, *args, **kwargs):
        self.require_admin()
        form = self.get_form(request.POST)
        if form.is_valid():
            try:
                save_site(form.save(commit=False))
            except IntegrityError:
                # Another request took the name between the check and the save.
                form.add_error(
                    "name", _("A site with this name already exists in this organization.")
                )
            else:
                messages.success(request, _("The site's details were saved."))
                return redirect(
                    "stations:site-detail", org=self.organization.slug, pk=form.instance.pk
                )
        context = self.get_context_data(form=form, editing=True)
        return self.render_to_response(context, status=400)


class SiteSheetView(SiteTabView):
    """Sheet: the status of every charge point of every station of the site, by station."""

    tab = "sheet"
    template_name = "stations/site_sheet.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        connectors = Connector.objects.select_related("evse").order_by("connector_id")
        context.update(
            stations=self.stations().prefetch_related(Prefetch("connectors", queryset=connectors)),
            legend=CONNECTOR_STATUS_MEANINGS,
        )
        return context


class SiteConfigurationView(SiteTabView):
    """Configuration: access groups, roaming, Scan2Pay and grid capacity; admins change them."""

    tab = "configuration"
    template_name = "stations/site_config.html"

    def get_form(self, data=None):
        return SiteConfigurationForm(
            data, instance=copy.copy(self.get_site()), organization=self.organization
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.can.administer:
            context.setdefault("form", self.get_form())
        else:
            context["access_groups"] = self.get_site().access_groups.all()
        return context

    def post(self, request, *args, **kwargs):
        self.require_admin()
        form = self.get_form(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        save_site(form.save(commit=False), access_groups=form.cleaned_data["access_groups"])
        messages.success(request, _("The site's configuration was saved."))
        return redirect("stations:site-config", org=self.organization.slug, pk=form.instance.pk)


class SiteControllersView(SiteTabView):
    """EVSE controller: serial number, OCPP and EVSE identities, connection state, plan."""

    tab = "controllers"
    template_name = "stations/site_controllers.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        evses = Evse.objects.order_by("evse_number")
        context["stations"] = self.stations().prefetch_related(Prefetch("evses", queryset=evses))
        return context
