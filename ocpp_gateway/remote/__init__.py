"""Version-neutral remote commands (the names users see), their rules and their execution."""

from ocpp_gateway.remote.registry import (
    COMMANDS,
    CommandContext,
    CommandNotAllowed,
    CommandSpec,
    InvalidCommandParameters,
    available_commands,
    execute_command,
    get_command,
    register,
)

__all__ = [
    "COMMANDS",
    "CommandContext",
    "CommandNotAllowed",
    "CommandSpec",
    "InvalidCommandParameters",
    "available_commands",
    "execute_command",
    "get_command",
    "register",
]
