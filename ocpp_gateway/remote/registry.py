"""The registry of remote commands: each says who may run it, when, with what, and how."""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ocpp_gateway import versions
from ocpp_gateway.choices import RequestedVia
from ocpp_gateway.models import CommandLog
from organizations.api.permissions import required_role_message
from organizations.choices import Role
from sessions_app.models import ChargingSession
from stations.choices import OcppVersion
from stations.models import ChargingStation, Connector


class CommandNotAllowed(Exception):
    """The command may not run now; `reason` says why in words a person understands."""

    def __init__(self, reason):
        super().__init__(str(reason))
        self.reason = reason


class CommandForbidden(CommandNotAllowed):
    """The actor's role is below the one the command requires; `reason` names that role."""


class InvalidCommandParameters(Exception):
    """The parameters do not validate; `errors` maps fields to messages (a 400 body)."""

    def __init__(self, errors: dict):
        super().__init__(str(errors))
        self.errors = errors


@dataclass(frozen=True)
class Actor:
    """Who asks for a command: a user or API key, its role in the station's organization, how."""

    user: object = None
    # The role in the organization of the station the command is for; None: no membership.
    role: str | None = None
    via: str = RequestedVia.USER

    @classmethod
    def support(cls, user) -> "Actor":
        """Support staff in Django admin, who act in every organization."""
        # The admin site has checked the staff member's own model permissions before an action
        # runs; inside an organization they may then do what its owner may.
        return cls(user=user, role=Role.OWNER, via=RequestedVia.USER)

    def may_run(self, spec: "CommandSpec") -> bool:
        """Whether the role is at least the one the command requires."""
        return self.role is not None and Role(self.role).at_least(spec.min_role)


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


def speaks_16(station: ChargingStation) -> bool:
    """Whether the station speaks OCPP 1.6 (or a version the gateway does not, judged as 1.6)."""
    try:
        return versions.for_station(station).family == OcppVersion.V16
    except versions.UnsupportedVersion:
        return True


def only_in_201(station: ChargingStation, what) -> None:
    """Refuse a parameter a 1.6 station has no field for, naming what it is (a field error)."""
    if speaks_16(station):
        raise serializers.ValidationError(
            _("%(what)s is only for OCPP 2.0.1 stations.") % {"what": what}
        )


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


@dataclass(frozen=True)
class CommandSpec:
    """One remote command as users know it."""

    name: str
    label: str
    run: Callable[[CommandContext], CommandLog]
    params: type[serializers.Serializer] = NoParameters
    # Returns why the command may not run now, or None when it may.
    rule: Callable[[CommandContext], str | None] = lambda ctx: None
    # Enforced by execute_command and check_command: callers need not check it again.
    min_role: str = Role.OPERATOR
    needs_online: bool = True
    description: str = ""
    # The neutral intents (ocpp_gateway.intents) it sends: a station whose OCPP version has no
    # call for one of them cannot run it, and the reason names the versions that can.
    intents: tuple[type, ...] = ()


# Filled by the command modules as they are imported (ocpp_gateway.remote imports them all).
COMMANDS: dict[str, CommandSpec] = {}


def register(spec: CommandSpec) -> CommandSpec:
    """Add a command to the registry (names are unique)."""
    if spec.name in COMMANDS:
        raise ValueError(f"command {spec.name!r} is registered twice")
    COMMANDS[spec.name] = spec
    return spec


def get_command(name: str) -> CommandSpec | None:
    """The registered command of that name, or None."""
    return COMMANDS.get(name)


@dataclass(frozen=True)
class CommandCheck:
    """Whether a command may run now: its parameters' errors, else why not (neither: it may)."""

    spec: CommandSpec
    errors: dict | None = None
    reason: str | None = None
    # The reason is a role shortfall: going online or other parameters would not lift it.
    forbidden: bool = False

    @property
    def allowed(self) -> bool:
        """Whether execute_command would run the command now."""
        return not self.errors and self.reason is None


def _version_label(version: versions.Version) -> str:
    return "OCPP " + version.subprotocol.removeprefix("ocpp")


def version_reason(spec: CommandSpec, station: ChargingStation) -> str | None:
    """Why the station's OCPP version cannot carry the command, or None when it can."""
    if not spec.intents:
        return None
    try:
        calls = versions.for_station(station).calls
    except versions.UnsupportedVersion as error:
        return str(error)
    if all(calls.supports(intent) for intent in spec.intents):
        return None
    # Oldest first; a command 2.0.1 has, 2.1 has too: "OCPP 2.0.1" says both.
    able = dict.fromkeys(
        _version_label(version)
        for version in reversed(versions.VERSIONS)
        if all(version.calls.supports(intent) for intent in spec.intents)
    )
    if "OCPP 2.0.1" in able:
        able.pop("OCPP 2.1", None)
    if not able:
        return str(_("No OCPP version the gateway speaks has this command yet."))
    return str(_("Only for %(versions)s stations.") % {"versions": _(" or ").join(able)})


def why_not(spec: CommandSpec, ctx: CommandContext) -> str | None:
    """The reason `spec` may not run in `ctx`, or None."""
    # The version first: going online would not lift it.
    reason = version_reason(spec, ctx.station)
    if reason:
        return reason
    if spec.needs_online and not ctx.station.is_online:
        return str(_("The station is offline."))
    reason = spec.rule(ctx)
    return str(reason) if reason else None


def _spec_of(name: str) -> CommandSpec:
    spec = get_command(name)
    if spec is None:
        raise InvalidCommandParameters({"command": [f"Unknown command {name!r}."]})
    return spec


def _context(spec: CommandSpec, station, actor: Actor, params: dict) -> CommandContext:
    """The context of a run with validated parameters; InvalidCommandParameters when they fail."""
    serializer = spec.params(data=params, context={"station": station})
    if not serializer.is_valid():
        raise InvalidCommandParameters(serializer.errors)
    data = dict(serializer.validated_data)
    return CommandContext(
        station=station,
        user=actor.user,
        via=actor.via,
        connector=data.pop("connector", None),
        params=data,
    )


def check_command(
    station: ChargingStation, name: str, actor: Actor, params: dict | None = None, *, connector=None
) -> CommandCheck:
    """Whether `actor` may run command `name` on the station now, and if not, why."""
    # Without `params`: the role and the command's rules for the station (or `connector`), as a
    # list of commands shows them. With them: everything execute_command checks before it runs.
    spec = _spec_of(name)
    # A role shortfall comes first: going online would not lift it.
    if not actor.may_run(spec):
        return CommandCheck(spec, reason=required_role_message(spec.min_role), forbidden=True)
    if params is None:
        ctx = CommandContext(station=station, user=actor.user, via=actor.via, connector=connector)
    else:
        try:
            ctx = _context(spec, station, actor, params)
        except InvalidCommandParameters as invalid:
            return CommandCheck(spec, errors=invalid.errors)
    return CommandCheck(spec, reason=why_not(spec, ctx))


def available_commands(station: ChargingStation, actor: Actor, *, connector=None):
    """check_command of every registered command, in registration order."""
    return [check_command(station, name, actor, connector=connector) for name in COMMANDS]


def execute_command(
    station: ChargingStation, name: str, params: dict | None = None, *, actor: Actor
) -> CommandLog:
    """Check the actor's role, the parameters and the rules, then run the command; its log row."""
    spec = _spec_of(name)
    if not actor.may_run(spec):
        raise CommandForbidden(required_role_message(spec.min_role))
    ctx = _context(spec, station, actor, params or {})
    reason = why_not(spec, ctx)
    if reason:
        raise CommandNotAllowed(reason)
    return spec.run(ctx)
