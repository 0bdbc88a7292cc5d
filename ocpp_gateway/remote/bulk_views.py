"""Portal pages of bulk commands: choose stations and a command, confirm, follow the results."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views.generic import ListView, TemplateView

from ocpp_gateway.choices import RequestedVia
from ocpp_gateway.models import BulkCommand, BulkCommandResult, BulkResultStatus
from ocpp_gateway.remote.bulk import (
    MAX_STATIONS,
    UPLOAD_COMMANDS,
    bulk_commands_for,
    create_bulk_command,
    start_bulk_command,
    validate_bulk,
)
from ocpp_gateway.remote.forms import CommandForm
from ocpp_gateway.remote.registry import Actor, InvalidCommandParameters, get_command
from organizations.choices import Role
from organizations.portal import OrganizationMixin
from stations.forms import StationFilterSet
from stations.models import ChargingStation, Connector, Site

# The site page's "request diagnostics from every station": GetLog, which 1.6 stations receive
# as GetDiagnostics and 2.0.1 stations as GetLog (ocpp_gateway.remote.monitoring.get_log).
SITE_DIAGNOSTICS_COMMAND = "get_log"
RESULTS_TEMPLATE = "ocpp_gateway/_bulk_results.html"


def member_actor(page: OrganizationMixin) -> Actor:
    """The member on the page, as the actor of the bulk command's runs."""
    return Actor(user=page.request.user, role=page.membership.role, via=RequestedVia.USER)


def selection_items(data: QueryDict) -> list[tuple[str, str]]:
    """The selection part of a request (stations or filter), to carry it between the steps."""
    return [
        (key, value)
        for key in ("station", "scope", *StationFilterSet.shown)
        for value in data.getlist(key)
        if value != ""
    ]


class StationSelectionMixin(OrganizationMixin):
    """Stations chosen on the station list: ticked ones, or every one matching its filter."""

    required_role = Role.OPERATOR

    def selection_data(self) -> QueryDict:
        return self.request.POST if self.request.method == "POST" else self.request.GET

    def selected_stations(self) -> list[ChargingStation]:
        """The chosen stations of the organization; a station of another one is a 404."""
        if hasattr(self, "_stations"):
            return self._stations
        data = self.selection_data()
        stations = ChargingStation.objects.for_org(self.organization).select_related("site")
        if data.get("scope") == "filter":
            filterset = StationFilterSet(
                data, queryset=stations, request=self.request, organization=self.organization
            )
            if not filterset.is_valid():
                raise Http404
            chosen = list(filterset.qs.order_by("ocpp_id")[: MAX_STATIONS + 1])
        else:
            ids = data.getlist("station")
            if not all(value.isdigit() for value in ids):
                raise Http404
            wanted = {int(value) for value in ids}
            chosen = list(stations.filter(pk__in=wanted).order_by("ocpp_id"))
            # Not one of ours (or gone): as if it did not exist, and nothing is sent to any.
            if len(chosen) != len(wanted):
                raise Http404
        self._stations = chosen
        return chosen


# Not atomic, and it must not become so: the runs write command logs others read while the
# request still runs (see ocpp_gateway.remote.views.StationCommandView).
@method_decorator(transaction.non_atomic_requests, name="dispatch")
class BulkCommandNewView(StationSelectionMixin, TemplateView):
    """Send a command to the chosen stations: the command, its inputs, a confirmation."""

    section = "stations"
    template_name = "ocpp_gateway/bulk_new.html"

    def commands(self):
        """The commands the member may send, each with a form the portal can fill."""
        actor, station = member_actor(self), self.selected_stations()[0]
        return [
            spec
            for spec in bulk_commands_for(actor)
            if not CommandForm(spec, station, connectors=[]).unsupported
        ]

    def form_for(self, spec, data=None) -> CommandForm:
        station = self.selected_stations()[0]
        connectors = Connector.objects.filter(station=station).order_by("connector_id")
        form = CommandForm(spec, station, data, connectors=list(connectors))
        if spec.name in UPLOAD_COMMANDS and "location" in form.fields:
            # Empty: every station gets its own fresh upload URL of this CSMS.
            form.fields["location"].required = False
            form.fields["location"].help_text = _(
                "Leave empty: each station uploads to its own fresh URL of this CSMS, and the "
                "files appear on its page."
            )
        return form

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        stations = self.selected_stations()
        context.update(
            stations=stations[:MAX_STATIONS],
            too_many=len(stations) > MAX_STATIONS,
            selection=selection_items(self.selection_data()),
            max_stations=MAX_STATIONS,
        )
        return context

    def get(self, request, *args, **kwargs):
        if not self.selected_stations():
            return self.render_to_response(self.get_context_data(empty=True), status=400)
        name = request.GET.get("command")
        if not name:
            return self.render_to_response(self.get_context_data(commands=self.commands()))
        spec = self.allowed_spec(name)
        return self.render_to_response(self.get_context_data(spec=spec, form=self.form_for(spec)))

    def allowed_spec(self, name: str):
        spec = get_command(name)
        if spec is None:
            raise Http404
        if not member_actor(self).may_run(spec):
            # For the log line (portal.errors); the page says the role is missing.
            raise PermissionDenied(f"role {self.membership.role}, needs {spec.min_role}")
        return spec

    def post(self, request, *args, **kwargs):
        stations = self.selected_stations()
        if not stations:
            return self.render_to_response(self.get_context_data(empty=True), status=400)
        spec = self.allowed_spec(request.POST.get("command", ""))
        form = self.form_for(spec, request.POST)
        if not form.is_valid():
            return self.invalid(spec, form)
        params = form.params()
        if request.POST.get("confirm") != "yes":
            # Checked now, so the confirmation never promises what the run would refuse.
            try:
                validate_bulk(spec.name, params, stations, member_actor(self))
            except InvalidCommandParameters as error:
                form.add_serializer_errors(error.errors)
                return self.invalid(spec, form)
            return self.render_to_response(self.get_context_data(spec=spec, confirm=form))
        try:
            bulk = create_bulk_command(
                self.organization, spec.name, params, stations, member_actor(self)
            )
        except InvalidCommandParameters as error:
            form.add_serializer_errors(error.errors)
            return self.invalid(spec, form)
        start_bulk_command(bulk, member_actor(self))
        return redirect("stations:bulk-command-detail", org=self.organization.slug, pk=bulk.pk)

    def invalid(self, spec, form):
        context = self.get_context_data(
            spec=spec, form=form, problem=_("Check the inputs of the command.")
        )
        return self.render_to_response(context, status=400)


class BulkCommandListView(OrganizationMixin, ListView):
    """The organization's bulk commands, newest first, with their results counted."""

    section = "stations"
    template_name = "ocpp_gateway/bulk_list.html"
    context_object_name = "bulk_commands"
    paginate_by = 50

    def get_queryset(self):
        return (
            BulkCommand.objects.for_org(self.organization)
            .select_related("requested_by", "api_key", "site")
            .with_counts()
            .order_by("-created", "-id")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for bulk in context["bulk_commands"]:
            spec = get_command(bulk.command)
            bulk.label = spec.label if spec is not None else bulk.command
        return context


class BulkCommandDetailView(OrganizationMixin, TemplateView):
    """One bulk command and its per-station results, which follow the stations live."""

    section = "stations"
    template_name = "ocpp_gateway/bulk_detail.html"

    def get_template_names(self):
        # htmx fetches the table alone when a result changes (live-bulk).
        return [RESULTS_TEMPLATE] if self.request.htmx else [self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        bulk = get_object_or_404(
            BulkCommand.objects.for_org(self.organization).select_related(
                "requested_by", "api_key", "site"
            ),
            pk=self.kwargs["pk"],
        )
        spec = get_command(bulk.command)
        results = list(
            BulkCommandResult.objects.for_org(self.organization)
            .filter(bulk=bulk)
            .select_related("station", "command_log")
            .order_by("station__ocpp_id", "id")
        )
        counts = dict.fromkeys(BulkResultStatus.values, 0)
        for result in results:
            counts[result.status] += 1
        context.update(
            bulk=bulk,
            label=spec.label if spec is not None else bulk.command,
            results=results,
            counts=[(BulkResultStatus(key).label, key, n) for key, n in counts.items() if n],
            open_count=counts[BulkResultStatus.PENDING] + counts[BulkResultStatus.SENT],
        )
        return context


@method_decorator(transaction.non_atomic_requests, name="dispatch")
class SiteDiagnosticsView(OrganizationMixin, TemplateView):
    """Request diagnostics from every station of a site, each uploading to its own URL."""

    section = "sites"
    template_name = "ocpp_gateway/bulk_site_diagnostics.html"
    # GetLog needs an admin (its spec's min_role); the page says so before anything is sent.
    required_role = Role.ADMIN

    def get_site(self) -> Site:
        if not hasattr(self, "_site"):
            self._site = get_object_or_404(
                Site.objects.for_org(self.organization), pk=self.kwargs["pk"]
            )
        return self._site

    def site_stations(self) -> list[ChargingStation]:
        return list(
            ChargingStation.objects.for_org(self.organization)
            .filter(site=self.get_site())
            .order_by("ocpp_id")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        stations = self.site_stations()
        context.update(
            site=self.get_site(),
            stations=stations,
            online=sum(1 for station in stations if station.is_online),
            spec=get_command(SITE_DIAGNOSTICS_COMMAND),
        )
        return context

    def post(self, request, *args, **kwargs):
        site, actor = self.get_site(), member_actor(self)
        try:
            bulk = create_bulk_command(
                self.organization,
                SITE_DIAGNOSTICS_COMMAND,
                {},
                self.site_stations(),
                actor,
                site=site,
            )
        except InvalidCommandParameters as error:
            problems = [str(m) for messages in error.errors.values() for m in messages]
            return self.render_to_response(
                self.get_context_data(problem=" ".join(problems)), status=400
            )
        start_bulk_command(bulk, actor)
        return redirect("stations:bulk-command-detail", org=self.organization.slug, pk=bulk.pk)
