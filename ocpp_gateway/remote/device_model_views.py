"""The station's device model page: browse and search its variables, set them, refresh them."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from ocpp_gateway.choices import CommandStatus, RequestedVia
from ocpp_gateway.remote.registry import (
    Actor,
    CommandForbidden,
    CommandNotAllowed,
    InvalidCommandParameters,
    check_command,
    execute_command,
)
from stations.choices import OcppVersion
from stations.device_model import latest_report, search_variables, station_variables
from stations.models import Mutability, StationVariable
from stations.views import StationMixin

VARIABLES_PER_PAGE = 100
# Kept in the page's links: what the operator searched for and where they were.
STATE_PARAMETERS = ("q", "component", "page")


def speaks_16(station) -> bool:
    """A station that never said otherwise is taken to speak 1.6, as the gateway does."""
    return (station.ocpp_version or OcppVersion.V16) == OcppVersion.V16


def is_writable(variable: StationVariable) -> bool:
    """Whether the station lets the operator write this attribute."""
    return not variable.constant and variable.mutability in (
        Mutability.READ_WRITE,
        Mutability.WRITE_ONLY,
        # 1.6 keys read through ChangeConfiguration's answer alone have no mutability yet.
        "",
    )


def _number(value: float) -> str:
    return f"{value:g}"


def characteristics(variable: StationVariable) -> str:
    """Data type, unit and limits in one line: "integer · s · 0…3600"."""
    parts = [variable.data_type, variable.unit]
    if variable.min_limit is not None or variable.max_limit is not None:
        low = _number(variable.min_limit) if variable.min_limit is not None else ""
        high = _number(variable.max_limit) if variable.max_limit is not None else ""
        parts.append(f"{low}…{high}")
    return " · ".join(part for part in parts if part)


def set_parameters(variable: StationVariable, value: str, version_16: bool) -> tuple[str, dict]:
    """The command and parameters that give one stored variable a new value."""
    if version_16:
        return "change_configuration", {"key": variable.variable, "value": value}
    item = {
        "component": variable.component,
        "variable": variable.variable,
        "attribute_type": variable.attribute_type,
        "value": value,
    }
    if variable.component_instance:
        item["component_instance"] = variable.component_instance
    if variable.variable_instance:
        item["variable_instance"] = variable.variable_instance
    if variable.evse_number:
        item["evse_id"] = variable.evse_number
        if variable.connector_number:
            item["connector_id"] = variable.connector_number
    return "set_variables", {"variables": [item]}


def refresh_parameters(version_16: bool) -> tuple[str, dict]:
    """The command that reads the whole device model again."""
    if version_16:
        return "get_configuration", {}
    return "get_base_report", {"report_base": "FullInventory"}


# Not atomic, and it must not become so: the view waits for the station's answer through the
# channel layer (see ocpp_gateway.remote.views.StationCommandView).
@method_decorator(transaction.non_atomic_requests, name="dispatch")
class StationDeviceModelView(StationMixin, TemplateView):
    """A station's components and variables (1.6: configuration keys), searchable, settable."""

    template_name = "stations/device_model.html"

    def actor(self) -> Actor:
        return Actor(user=self.request.user, role=self.membership.role, via=RequestedVia.USER)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        station = self.get_station()
        version_16 = speaks_16(station)
        variables = station_variables(station)
        components = list(
            variables.exclude(component="")
            .order_by("component")
            .values_list("component", flat=True)
            .distinct()
        )
        query = self.request.GET.get("q", "")[:100]
        component = self.request.GET.get("component", "")[:50]
        shown = search_variables(variables, query)
        if component:
            shown = shown.filter(component=component)
        page = Paginator(shown, VARIABLES_PER_PAGE).get_page(self.request.GET.get("page"))
        set_name, _params = set_parameters(StationVariable(), "", version_16)
        set_check = check_command(station, set_name, self.actor())
        refresh_name, _params = refresh_parameters(version_16)
        refresh_check = check_command(station, refresh_name, self.actor())
        for variable in page.object_list:
            variable.writable = is_writable(variable)
            variable.characteristics = characteristics(variable)
        context.update(
            version_16=version_16,
            page_obj=page,
            variables=page.object_list,
            total=variables.count(),
            components=components,
            query=query,
            component=component,
            filtered=bool(query or component),
            # None: the member may set values now; else why not (role, offline, version).
            set_reason=set_check.reason,
            refresh_reason=refresh_check.reason,
            report=None if version_16 else latest_report(station),
        )
        return context

    def state(self) -> dict:
        source = self.request.POST if self.request.method == "POST" else self.request.GET
        return {name: source.get(name, "") for name in STATE_PARAMETERS}

    def back(self):
        url = reverse(
            "stations:station-device-model",
            kwargs={"org": self.organization.slug, "pk": self.get_station().pk},
        )
        state = {k: v for k, v in self.state().items() if v}
        return redirect(f"{url}?{urlencode(state)}" if state else url)

    def post(self, request, *args, **kwargs):
        action = request.POST.get("action")
        if action == "set":
            self.set_value()
        elif action == "refresh":
            self.refresh()
        else:
            raise Http404
        return self.back()

    def run(self, name: str, params: dict):
        """Run a command for the member; a refusal becomes a message, the log is returned."""
        try:
            return execute_command(self.get_station(), name, params, actor=self.actor())
        except CommandForbidden as refusal:
            messages.error(self.request, refusal.reason)
        except InvalidCommandParameters as invalid:
            problems = "; ".join(
                f"{field}: {errors}" for field, errors in _flatten(invalid.errors).items()
            )
            messages.error(self.request, _("The value was not sent: %(p)s") % {"p": problems})
        except CommandNotAllowed as refusal:
            messages.error(self.request, refusal.reason)
        return None

    def set_value(self):
        station = self.get_station()
        variable = StationVariable.objects.filter(
            station=station, pk=self.request.POST.get("variable") or 0
        ).first()
        if variable is None:
            raise Http404
        value = self.request.POST.get("value", "")
        name, params = set_parameters(variable, value, speaks_16(station))
        log = self.run(name, params)
        if log is None:
            return
        variable.refresh_from_db()
        label = str(variable)
        if variable.set_at is not None and log.status in (
            CommandStatus.ACCEPTED,
            CommandStatus.REJECTED,
        ):
            answer = variable.set_status
            if variable.set_status_info:
                answer = f"{answer} ({variable.set_status_info})"
            level = messages.SUCCESS if variable.set_status == "Accepted" else messages.WARNING
            messages.add_message(
                self.request,
                level,
                _("%(v)s: the station answered %(a)s.") % {"v": label, "a": answer},
            )
        else:
            messages.error(
                self.request,
                _("%(v)s: no answer from the station (%(s)s).")
                % {"v": label, "s": log.get_status_display()},
            )

    def refresh(self):
        name, params = refresh_parameters(speaks_16(self.get_station()))
        log = self.run(name, params)
        if log is None:
            return
        if log.status == CommandStatus.ACCEPTED:
            messages.success(self.request, _("The station was asked for its device model."))
        else:
            messages.warning(
                self.request,
                _("The station did not send its device model (%(s)s).")
                % {"s": log.get_status_display()},
            )


def _flatten(errors, prefix: str = "") -> dict:
    """A serializer's nested errors as field path → messages."""
    flat = {}
    if isinstance(errors, dict):
        for key, value in errors.items():
            flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(errors, list) and errors and not isinstance(errors[0], str):
        for index, value in enumerate(errors):
            flat.update(_flatten(value, f"{prefix}[{index}]"))
    else:
        flat[prefix or "value"] = " ".join(str(e) for e in errors) if errors else ""
    return flat
