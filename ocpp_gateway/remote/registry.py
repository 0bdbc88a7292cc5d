"""The registry of remote commands: each says who may run it, when, with what, and how."""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ocpp_gateway.choices import RequestedVia
from ocpp_gateway.models import CommandLog
from organizations.choices import Role
from sessions_app.models import ChargingSession
from stations.models import ChargingStation, Connector


class CommandNotAllowed(Exception):
    """The command may not run now; `reason` says why in words a person understands."""

    def __init__(self, reason):
        super().__init__(str(reason))
        self.reason = reason


class InvalidCommandParameters(Exception):
    """The parameters do not validate; `errors` maps fields to messages (a 400 body)."""

    def __init__(self, errors: dict):
        super().__init__(str(errors))
        self.errors = errors


@dataclass
class CommandContext:
    """Everything a rule or a runner needs to know about the station right now."""

    station: ChargingStation
    user: object = None
    via: str = RequestedVia.USER
    connector: Connector | None = None
    params: dict = field(default_factory=dict)

    @property
    def api_key(self):
        """The organization API key a machine client asked with, or None."""
        return getattr(self.user, "api_key", None)

    @property
    def person(self):
        """The user who asked, for rows that name a user; None for a machine client."""
        return None if self.api_key is not None else self.user

    def active_session(self) -> ChargingSession | None:
        """The running session on the chosen connector, or on the station when none is chosen."""
        sessions = ChargingSession.objects.active().filter(station=self.station)
        if self.connector is not None:
            sessions = sessions.filter(connector=self.connector)
        return sessions.order_by("-start").first()


class NoParameters(serializers.Serializer):
    """A command without parameters."""


class ConnectorField(serializers.IntegerField):
    """An OCPP connectorId of the station, validated to its Connector (0, when allowed, to None)."""

    def __init__(self, *, station_allowed: bool = False, **kwargs):
        self.station_allowed = station_allowed
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        number = super().to_internal_value(data)
        # The range is checked here rather than with min_value: validators run on the result,
        # which is a Connector, not a number.
        lowest = 0 if self.station_allowed else 1
        if number < lowest:
            raise serializers.ValidationError(
                _("Ensure this value is greater than or equal to %(n)d.") % {"n": lowest}
            )
        if number == 0:
            return None
        station = self.context["station"]
        connector = Connector.objects.filter(station=station, connector_id=number).first()
        if connector is None:
            raise serializers.ValidationError(
                _("The station has no connector %(n)d.") % {"n": number}
            )
        return connector


class ConnectorParameters(serializers.Serializer):
    """A command about one connector: `connector_id` (an OCPP connector id) is required."""

    connector_id = ConnectorField(source="connector")


@dataclass(frozen=True)
class CommandSpec:
    """One remote command as users know it."""

    name: str
    label: str
    run: Callable[[CommandContext], CommandLog]
    params: type[serializers.Serializer] = NoParameters
    # Returns why the command may not run now, or None when it may.
    rule: Callable[[CommandContext], str | None] = lambda ctx: None
    min_role: str = Role.OPERATOR
    needs_online: bool = True
    description: str = ""


COMMANDS: dict[str, CommandSpec] = {}


def register(spec: CommandSpec) -> CommandSpec:
    """Add a command to the registry (names are unique)."""
    if spec.name in COMMANDS:
        raise ValueError(f"command {spec.name!r} is registered twice")
    COMMANDS[spec.name] = spec
    return spec


def _load():
    # Importing the modules registers their commands.
    from ocpp_gateway.remote import charging, maintenance  # noqa: F401


def get_command(name: str) -> CommandSpec | None:
    """The registered command of that name, or None."""
    _load()
    return COMMANDS.get(name)


def why_not(spec: CommandSpec, ctx: CommandContext) -> str | None:
    """The reason `spec` may not run in `ctx`, or None."""
    if spec.needs_online and not ctx.station.is_online:
        return str(_("The station is offline."))
    reason = spec.rule(ctx)
    return str(reason) if reason else None


def available_commands(
    station, *, connector=None, user=None
) -> list[tuple[CommandSpec, str | None]]:
    """Every command with the reason it is greyed out (None when it is allowed)."""
    _load()
    ctx = CommandContext(station=station, connector=connector, user=user)
    return [(spec, why_not(spec, ctx)) for spec in COMMANDS.values()]


def execute_command(
    station: ChargingStation,
    name: str,
    params: dict | None = None,
    *,
    user=None,
    via: str = RequestedVia.USER,
) -> CommandLog:
    """Validate, check the rules, run the command and return its CommandLog row."""
    spec = get_command(name)
    if spec is None:
        raise InvalidCommandParameters({"command": [f"Unknown command {name!r}."]})
    serializer = spec.params(data=params or {}, context={"station": station})
    if not serializer.is_valid():
        raise InvalidCommandParameters(serializer.errors)
    data = dict(serializer.validated_data)
    ctx = CommandContext(
        station=station, user=user, via=via, connector=data.pop("connector", None), params=data
    )
    reason = why_not(spec, ctx)
    if reason:
        raise CommandNotAllowed(reason)
    return spec.run(ctx)
