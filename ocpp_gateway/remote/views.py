"""The station page's remote control: its command log, its panel, and running a command from it."""

import json
from dataclasses import dataclass

from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from core.tokens import new_token
from ocpp_gateway.choices import CommandStatus, RequestedVia
from ocpp_gateway.models import CommandLog
from ocpp_gateway.remote.background import start_command
from ocpp_gateway.remote.forms import CommandForm
from ocpp_gateway.remote.registry import (
    Actor,
    CommandForbidden,
    CommandNotAllowed,
    CommandSpec,
    InvalidCommandParameters,
    available_commands,
    check_command,
    get_command,
)
from stations.diagnostics import upload_url
from stations.views import StationPageMixin

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
RECENT_COMMANDS = 20
# Commands that have the station upload a file: their location defaults to the CSMS's own.
UPLOAD_COMMANDS = ("get_diagnostics", "get_log")
PANEL_TEMPLATE = "stations/_station_actions.html"
RESULT_TEMPLATE = "stations/_station_command_result.html"


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


def station_commands(station, organization) -> dict:
    """The station's last commands, each with its label and the station's answer in brief."""
    logs = list(
        CommandLog.objects.for_org(organization)
        .filter(station=station)
        .select_related("requested_by", "api_key")
        .order_by("-created", "-id")[:RECENT_COMMANDS]
    )
    now = timezone.now()
    for log in logs:
        spec = get_command(log.command)
        log.label = spec.label if spec is not None else log.command
        log.answer = answer_summary(log)
        log.waited = waited_seconds(log, now)
    return {"command_logs": logs}


def waited_seconds(log: CommandLog, now=None) -> int | None:
    """Whole seconds a pending command has waited for the station; None once it is answered."""
    if log.status != CommandStatus.PENDING:
        return None
    return max(0, int(((now or timezone.now()) - log.created).total_seconds()))


def member_actor(page: StationPageMixin) -> Actor:
    """The member looking at a station page, as the actor of its commands."""
    return Actor(user=page.request.user, role=page.membership.role, via=RequestedVia.USER)


def command_buttons(page: StationPageMixin, bound: CommandForm | None = None):
    """The panel's commands and the others, each enabled or greyed out with its reason."""
    station = page.get_station()
    panel, more = {}, []
    for check in available_commands(station, member_actor(page)):
        spec, reason = check.spec, check.reason
        if bound is not None and bound.spec.name == spec.name:
            form = bound
        else:
            form = CommandForm(spec, station, connectors=page.connectors())
        if reason is None and form.unsupported:
            reason = _("Its parameters can only be given through the API.")
        if reason:
            form.disable()
        elif spec.name in UPLOAD_COMMANDS:
            offer_upload_location(form, station)
        button = CommandButton(spec, form, str(reason) if reason else None)
        if spec.name in PANEL_COMMANDS:
            panel[spec.name] = button
        else:
            more.append(button)
    return [panel[name] for name in PANEL_COMMANDS if name in panel], more


def result_context(*, spec=None, result=None, pending=None, sent=False, problem=None) -> dict:
    """What the panel's status line shows: an outcome, a command awaiting one, or a problem."""
    log = result if result is not None else pending
    context = {
        "command_spec": spec,
        "command_label": spec.label if spec is not None else getattr(log, "command", ""),
        "result": result,
        "problem": str(problem) if problem else "",
        "pending": pending,
        # Sent, though its log row was not written in time to name it (a slow runner).
        "sent": sent or pending is not None,
    }
    if result is not None:
        context.update(result_answer=answer_summary(result), result_class=result_class(result))
    if pending is not None:
        context["pending_waited"] = waited_seconds(pending)
    return context


def log_state(log: CommandLog) -> dict:
    """result_context's arguments for a command's log row: its outcome, or still waiting."""
    return {"pending": log} if log.status == CommandStatus.PENDING else {"result": log}


def offer_upload_location(form: CommandForm, station) -> None:
    """Fill the upload location with a fresh URL of the CSMS's own for this station."""
    # A fresh token each time the form is shown; it opens for uploads only once the command is
    # sent (ocpp_gateway.remote.maintenance.open_upload), so an unused one costs nothing.
    field = form.fields.get("location")
    if field is None or form.is_bound or station.organization_id is None:
        return
    field.initial = upload_url(station, new_token())
    field.help_text = _(
        "Prefilled: the station uploads to this CSMS, and the file appears under "
        "Firmware & diagnostics."
    )


def panel_context(
    page: StationPageMixin,
    *,
    spec=None,
    confirm=None,
    result=None,
    problem=None,
    invalid=None,
    pending=None,
    sent=False,
) -> dict:
    """What the panel shows: a confirmation, or the commands with the last outcome."""
    context = {
        **result_context(spec=spec, result=result, pending=pending, sent=sent, problem=problem),
        "confirm": confirm,
        "panel_commands": [],
        "more_commands": [],
    }
    if confirm is None:
        panel, more = command_buttons(page, bound=invalid)
        context.update(
            panel_commands=panel,
            more_commands=more,
            more_open=invalid is not None and invalid.spec.name not in PANEL_COMMANDS,
        )
    return context


# Not atomic, and it must not become so (ATOMIC_REQUESTS included): the command's runner writes
# its log row for others to read while the request still runs (see background.start_command),
# and channels' database_sync_to_async, which writes it, closes a connection held in a
# transaction (see StationCommandViewSet).
@method_decorator(transaction.non_atomic_requests, name="dispatch")
class StationCommandView(StationPageMixin, TemplateView):
    """Run a command of the panel: a confirmation first, then the station's answer."""

    def get(self, request, *args, **kwargs):
        if "log" in request.GET and request.htmx:
            # A command that was waiting for the station: its outcome now, or still waiting.
            return self.command_status(request.GET["log"])
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
        station, actor = self.get_station(), member_actor(self)
        try:
            allowed = check_command(station, data.get("command", ""), actor)
        except InvalidCommandParameters:
            return self.respond(status=400, problem=_("Unknown command."))
        spec = allowed.spec
        # Before the inputs: a role shortfall stands whatever they are.
        if allowed.forbidden:
            return self.respond(status=403, spec=spec, problem=allowed.reason)
        form = CommandForm(spec, station, data, connectors=self.connectors())
        if not form.is_valid():
            return self.invalid(spec, form)
        params = form.params()
        if not confirmed:
            check = check_command(station, spec.name, actor, params)
            if check.errors:
                form.add_serializer_errors(check.errors)
                return self.invalid(spec, form)
            if check.reason:
                return self.respond(status=409, spec=spec, problem=check.reason)
            return self.respond(spec=spec, confirm=form)
        # The request waits a moment for the answer, not for as long as the station may take:
        # a command still waiting then is shown as sent, and its outcome arrives live.
        run = start_command(station, spec.name, params, actor=actor)
        if run.done:
            try:
                log = run.outcome()
            except InvalidCommandParameters as error:
                form.add_serializer_errors(error.errors)
                return self.invalid(spec, form)
            except CommandForbidden as error:
                return self.respond(status=403, spec=spec, problem=error.reason)
            except CommandNotAllowed as error:
                return self.respond(status=409, spec=spec, problem=error.reason)
            response = self.respond(spec=spec, result=log)
        elif run.log is not None:
            # Read again: the runner's thread is still filling in the instance it was given,
            # and a command may have finished (its answer, or no station call at all) by now.
            log = CommandLog.objects.filter(pk=run.log.pk).first()
            state = log_state(log) if log is not None else {"sent": True}
            response = self.respond(spec=spec, **state)
        else:
            response = self.respond(spec=spec, sent=True)
        # The page's command log fetches itself again (htmx), the new row included.
        response["HX-Trigger"] = json.dumps({"command-logged": {"station": station.pk}})
        return response

    def command_status(self, log_id: str):
        """The status line of one of the station's commands: its outcome, or still waiting."""
        if not log_id.isdigit():
            raise Http404
        log = get_object_or_404(
            CommandLog.objects.for_org(self.organization).filter(station=self.get_station()),
            pk=log_id,
        )
        state = result_context(spec=get_command(log.command), **log_state(log))
        context = self.get_context_data(partial=True, **state)
        return TemplateResponse(self.request, RESULT_TEMPLATE, context)

    def invalid(self, spec, form):
        """The panel again, the command's inputs with their errors (400)."""
        problem = _("Check the inputs of the command.")
        return self.respond(status=400, spec=spec, invalid=form, problem=problem)

    def respond(self, status: int = 200, **state):
        """The panel alone for htmx, else the whole station page with the panel in `state`."""
        partial = bool(self.request.htmx)
        context = self.get_context_data(partial=partial, **panel_context(self, **state))
        template = PANEL_TEMPLATE if partial else self.template_name
        return self.response_class(
            request=self.request, template=[template], context=context, status=status
        )
