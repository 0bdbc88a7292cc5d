"""Version-neutral remote commands (the names users see), their rules and their execution."""

# The command modules register their commands on import; the registry knows none of them.
from ocpp_gateway.remote import (  # noqa: F401
    baselines,
    bulk,
    certificates,
    charging,
    device_model,
    display,
    maintenance,
    maintenance_windows,
    monitoring,
    raw,
    smart_charging,
    tariffs,
    transactions,
)
from ocpp_gateway.remote.registry import (
    COMMANDS,
    Actor,
    CommandCheck,
    CommandContext,
    CommandForbidden,
    CommandNotAllowed,
    CommandSpec,
    InvalidCommandParameters,
    available_commands,
    check_command,
    execute_command,
    get_command,
    register,
)

__all__ = [
    "COMMANDS",
    "Actor",
    "CommandCheck",
    "CommandContext",
    "CommandForbidden",
    "CommandNotAllowed",
    "CommandSpec",
    "InvalidCommandParameters",
    "available_commands",
    "check_command",
    "execute_command",
    "get_command",
    "register",
]
