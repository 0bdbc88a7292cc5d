"""Run remote commands from Django admin actions and report each outcome as a message."""

from django.contrib import messages
from django.utils.translation import gettext as _

from ocpp_gateway.choices import CommandStatus
from ocpp_gateway.remote.registry import (
    Actor,
    CommandNotAllowed,
    InvalidCommandParameters,
    execute_command,
)

_LEVEL = {
    CommandStatus.ACCEPTED: messages.SUCCESS,
    CommandStatus.REJECTED: messages.WARNING,
}


def run_command_for_each(request, name: str, targets) -> None:
    """Run command `name` for each (station, params) pair; one admin message per station."""
    # Sequential on purpose: each waits for its station's answer, and the admin shows them all.
    actor = Actor.support(request.user)
    for station, params in targets:
        try:
            log = execute_command(station, name, params, actor=actor)
        except CommandNotAllowed as refusal:
            messages.error(
                request,
                _("%(station)s: %(reason)s") % {"station": station, "reason": refusal.reason},
            )
            continue
        except InvalidCommandParameters as invalid:
            messages.error(
                request,
                _("%(station)s: %(errors)s") % {"station": station, "errors": invalid.errors},
            )
            continue
        answer = (log.response or {}).get("status") or log.error_code or log.error_description
        messages.add_message(
            request,
            _LEVEL.get(log.status, messages.ERROR),
            _("%(station)s: %(command)s %(status)s%(answer)s")
            % {
                "station": station,
                "command": name.replace("_", " "),
                "status": log.get_status_display().lower(),
                "answer": f" ({answer})" if answer else "",
            },
        )
