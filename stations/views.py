"""Portal pages of stations: all stations, a station with its remote control, adding one."""

import json
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.crypto import get_random_string
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.generic import FormView, ListView, TemplateView

from cms.api.permissions import required_role_message
from cms.portal.views import OrganizationFormMixin, OrganizationMixin
from ocpp_gateway.choices import CommandStatus, RequestedVia
from ocpp_gateway.models import CommandLog
from ocpp_gateway.remote import (
    CommandContext,
    CommandNotAllowed,
    CommandSpec,
    InvalidCommandParameters,
    available_commands,
    execute_command,
    get_command,
)
from ocpp_gateway.remote.registry import why_not
from organizations.choices import Role
from sessions_app.models import ChargingSession
from stations import services
from stations.api.serializers import BASIC_AUTH_PROFILES
from stations.choices import OcppVersion, SecurityProfile
from stations.forms import (
    DUPLICATE_IDENTITY,
    DUPLICATE_SITE,
    CommandForm,
    NewStationForm,
    StationFilterSet,
)
from stations.models import ChargingStation, Connector, Site, StatusEvent

# The "Control charging station" panel, in the order of the control panel's manual; every
# other registered command follows under "More commands".
PANEL_COMMANDS = (
    "start_charging",
    "stop_charging",
    "unlock_cable",
    "cancel_reservation",
    "stop_billing",
    "clear_rfid_cache",
    "restart_station",
)
RECENT_SESSIONS, RECENT_EVENTS, RECENT_COMMANDS = 10, 20, 20

# OCPP 1.6 takes a Basic-auth password of 16 to 20 characters, 2.0.1 up to 40 (the API's
# PASSWORD_MIN..PASSWORD_MAX): 20 letters and digits (about 119 bits) suit both.
STATION_PASSWORD_LENGTH = 20
# Where the password of a station just added waits for the one page that shows it.
NEW_PASSWORD_SESSION_KEY = "stations:new-station-password"
TLS_PROFILES = (SecurityProfile.TLS_BASIC, SecurityProfile.TLS_CLIENT_CERT)


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


class StationListView(OrganizationMixin, ListView):
    """Every station of the organization with its connection and connector statuses."""

    section = "stations"
    template_name = "stations/station_list.html"
    context_object_name = "stations"
    paginate_by = 50

    def get_queryset(self):
        stations = (
            ChargingStation.objects.for_org(self.organization)
            .select_related("site")
            .prefetch_related(
                Prefetch("connectors", queryset=Connector.objects.order_by("connector_id"))
            )
            .order_by("ocpp_id")
        )
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


@dataclass
class CommandButton:
    """One command of the panel: its inputs, and why it is greyed out (None: it is not)."""

    spec: CommandSpec
    form: CommandForm
    reason: str | None


def answer_summary(log: CommandLog | None) -> str:
    """The station's answer in one line: its response's fields, then any error."""
    if log is None:
        return ""
    parts = []
    if isinstance(log.response, dict):
        for key, value in log.response.items():
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            parts.append(f"{key}: {text}")
    elif log.response is not None:
        parts.append(json.dumps(log.response, ensure_ascii=False))
    parts.extend(part for part in (log.error_code, log.error_description) if part)
    summary = "; ".join(parts)
    return summary if len(summary) <= 300 else summary[:299] + "…"


def result_class(log: CommandLog) -> str:
    """The CSS class of a command's outcome."""
    if log.status == CommandStatus.ACCEPTED:
        return "accepted"
    if log.status == CommandStatus.REJECTED:
        return "rejected"
    return "" if log.status == CommandStatus.PENDING else "failed"


def preflight(spec: CommandSpec, station, params: dict, user) -> tuple[dict | None, str | None]:
    """Check a command as execute_command will, without running it: (field errors, reason)."""
    serializer = spec.params(data=params, context={"station": station})
    if not serializer.is_valid():
        return serializer.errors, None
    data = dict(serializer.validated_data)
    ctx = CommandContext(
        station=station, user=user, connector=data.pop("connector", None), params=data
    )
    return None, why_not(spec, ctx)


class StationPageMixin(StationMixin):
    """The station page: details, connectors, history, and the "Control charging station" panel."""

    template_name = "stations/station_detail.html"
    panel_template_name = "stations/_station_actions.html"

    def connectors(self) -> list[Connector]:
        if not hasattr(self, "_connectors"):
            self._connectors = list(
                Connector.objects.filter(station=self.get_station())
                .select_related("evse")
                .order_by("connector_id")
            )
        return self._connectors

    def command_buttons(self, bound: CommandForm | None = None):
        """The panel's commands and the others, each enabled or greyed out with its reason."""
        station, membership = self.get_station(), self.membership
        panel, more = {}, []
        for spec, reason in available_commands(station, user=self.request.user):
            # A role shortfall comes first, as in the API: going online would not lift it.
            if not membership.has_role(spec.min_role):
                reason = required_role_message(spec.min_role)
            if bound is not None and bound.spec.name == spec.name:
                form = bound
            else:
                form = CommandForm(spec, station, connectors=self.connectors())
            if reason is None and form.unsupported:
                reason = _("Its parameters can only be given through the API.")
            if reason:
                form.disable()
            button = CommandButton(spec, form, str(reason) if reason else None)
            if spec.name in PANEL_COMMANDS:
                panel[spec.name] = button
            else:
                more.append(button)
        return [panel[name] for name in PANEL_COMMANDS if name in panel], more

    def panel_context(self, *, spec=None, confirm=None, result=None, problem=None, invalid=None):
        """What the panel shows: a confirmation, or the commands with the last outcome."""
        context = {
            "command_spec": spec,
            "confirm": confirm,
            "result": result,
            "problem": str(problem) if problem else "",
            "panel_commands": [],
            "more_commands": [],
        }
        if result is not None:
            context.update(result_answer=answer_summary(result), result_class=result_class(result))
        if confirm is None:
            panel, more = self.command_buttons(bound=invalid)
            context.update(
                panel_commands=panel,
                more_commands=more,
                more_open=invalid is not None and invalid.spec.name not in PANEL_COMMANDS,
            )
        return context

    def page_context(self) -> dict:
        """Everything of the page outside the panel."""
        station = self.get_station()
        return {
            "connectors": self.connectors(),
            **station_sessions(station, self.organization),
            **station_events(station, self.organization),
            **station_commands(station, self.organization),
        }

    def get_context_data(self, *, partial=False, **kwargs):
        context = super().get_context_data(**kwargs)
        if not partial:
            context.update(self.page_context())
        return context


def station_sessions(station, organization) -> dict:
    """The station's last sessions."""
    sessions = (
        ChargingSession.objects.for_org(organization)
        .filter(station=station)
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


def station_commands(station, organization) -> dict:
    """The station's last commands, each with its label and the station's answer in brief."""
    logs = list(
        CommandLog.objects.for_org(organization)
        .filter(station=station)
        .select_related("requested_by", "api_key")
        .order_by("-created", "-id")[:RECENT_COMMANDS]
    )
    for log in logs:
        spec = get_command(log.command)
        log.label = spec.label if spec is not None else log.command
        log.answer = answer_summary(log)
    return {"command_logs": logs}


class StationDetailView(StationPageMixin, TemplateView):
    """A station: details, connectors, recent sessions, status events, commands, remote control."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(self.panel_context())
        return context


# The pieces of the station page that refresh themselves (htmx), each with its context.
STATION_PARTS = {
    "sessions": ("stations/_station_sessions.html", station_sessions),
    "events": ("stations/_station_events.html", station_events),
    "commands": ("stations/_station_commands.html", station_commands),
}


class StationPartView(StationMixin, TemplateView):
    """One self-refreshing piece of the station page (sessions, status events, command log)."""

    def get_template_names(self):
        return [self.part()[0]]

    def part(self):
        try:
            return STATION_PARTS[self.kwargs["part"]]
        except KeyError:
            raise Http404 from None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(self.part()[1](self.get_station(), self.organization))
        return context


# Not atomic, and it must not become so (ATOMIC_REQUESTS included): the view waits for the
# station's answer through the channel layer, and channels' database_sync_to_async, which
# writes the CommandLog, closes a connection held in a transaction (see StationCommandActions).
@method_decorator(transaction.non_atomic_requests, name="dispatch")
class StationCommandView(StationPageMixin, TemplateView):
    """Run a command of the panel: a confirmation first, then the station's answer."""

    def get(self, request, *args, **kwargs):
        if "command" in request.GET:
            # A confirmation at most: a GET never runs a command.
            return self.handle(request.GET, confirmed=False)
        if request.htmx:
            # The panel as it is (the confirmation's Cancel).
            return self.respond()
        return redirect("stations:station-detail", org=self.organization.slug, pk=kwargs["pk"])

    def post(self, request, *args, **kwargs):
        return self.handle(request.POST, confirmed=request.POST.get("confirm") == "yes")

    def handle(self, data, *, confirmed: bool):
        station = self.get_station()
        spec = get_command(data.get("command", ""))
        if spec is None:
            return self.respond(status=400, problem=_("Unknown command."))
        if not self.membership.has_role(spec.min_role):
            return self.respond(status=403, spec=spec, problem=required_role_message(spec.min_role))
        form = CommandForm(spec, station, data, connectors=self.connectors())
        if not form.is_valid():
            return self.invalid(spec, form)
        params = form.params()
        if not confirmed:
            errors, reason = preflight(spec, station, params, self.request.user)
            if errors:
                form.add_serializer_errors(errors)
                return self.invalid(spec, form)
            if reason:
                return self.respond(status=409, spec=spec, problem=reason)
            return self.respond(spec=spec, confirm=form)
        try:
            log = execute_command(
                station, spec.name, params, user=self.request.user, via=RequestedVia.USER
            )
        except InvalidCommandParameters as error:
            form.add_serializer_errors(error.errors)
            return self.invalid(spec, form)
        except CommandNotAllowed as error:
            return self.respond(status=409, spec=spec, problem=error.reason)
        response = self.respond(spec=spec, result=log)
        # The page's command log fetches itself again (htmx), the new row included.
        response["HX-Trigger"] = json.dumps({"command-logged": {"station": station.pk}})
        return response

    def invalid(self, spec, form):
        """The panel again, the command's inputs with their errors (400)."""
        problem = _("Check the inputs of the command.")
        return self.respond(status=400, spec=spec, invalid=form, problem=problem)

    def respond(self, status: int = 200, **state):
        """The panel alone for htmx, else the whole station page with the panel in `state`."""
        partial = bool(self.request.htmx)
        context = self.get_context_data(partial=partial, **self.panel_context(**state))
        template = self.panel_template_name if partial else self.template_name
        return self.response_class(
            request=self.request, template=[template], context=context, status=status
        )


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
                    station.site = services.save_site(site)
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
