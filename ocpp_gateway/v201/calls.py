"""OCPP 2.0.1 CSMS-to-station calls: a neutral intent → action and payload; an answer → outcome."""

from collections.abc import Callable

from ocpp_gateway import intents
from ocpp_gateway.choices import CommandStatus
from ocpp_gateway.intents import Call
from ocpp_gateway.v201 import (
    control,
    device_model,
    display,
    notifications,
    security,
    smart_charging,
    transactions,
)

# CALLRESULT statuses that mean the station does what was asked: AcceptedCanceled (a GetLog or
# UpdateFirmware that replaces a running one), EmptyResultSet (a report with nothing to say),
# Unpublished (UnpublishFirmware done).
ACCEPTED_STATUSES = frozenset(
    {
        "Accepted",
        "Unlocked",
        "Scheduled",
        "RebootRequired",
        "AcceptedCanceled",
        "EmptyResultSet",
        "Unpublished",
    }
)

# Each module of the package spells the intents of its subject: type → builder(intent, station).
_BUILDERS: dict[type, Callable[..., Call]] = {
    **control.BUILDERS,
    **transactions.BUILDERS,
    **device_model.BUILDERS,
    **notifications.BUILDERS,
    **display.BUILDERS,
    **security.BUILDERS,
    **smart_charging.BUILDERS,
}

# The answers the remote commands read through `calls.`, as v16.calls offers them too.
local_list_update = control.local_list_update
local_list_outcome = control.local_list_outcome
data_transfer_answer = control.data_transfer_answer


def supports(intent_type: type) -> bool:
    """Whether 2.0.1 has a call for this kind of intent."""
    return intent_type in _BUILDERS


def build(intent, station=None) -> Call:
    """The 2.0.1 call that carries out a neutral intent."""
    try:
        builder = _BUILDERS[type(intent)]
    except KeyError:
        raise intents.NotInVersion(type(intent).__name__, "ocpp2.0.1") from None
    return builder(intent, station)


def command_status(response: dict) -> str:
    """Accepted or rejected, from the `status` of a CALLRESULT (none means accepted)."""
    status = response.get("status")
    if status is None or status in ACCEPTED_STATUSES:
        return CommandStatus.ACCEPTED
    return CommandStatus.REJECTED
