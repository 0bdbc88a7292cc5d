"""OCPP 2.1 CSMS-to-station calls: 2.0.1's, and the tariff calls 2.1 adds."""

from collections.abc import Callable

from ocpp_gateway import intents
from ocpp_gateway.intents import Call
from ocpp_gateway.v21 import tariffs
from ocpp_gateway.v201 import calls as v201_calls

_BUILDERS: dict[type, Callable[..., Call]] = {**v201_calls._BUILDERS, **tariffs.BUILDERS}
# 2.1 answers as 2.0.1 does (statuses, local lists, data transfer, …): same readers.
command_status = v201_calls.command_status


def supports(intent_type: type) -> bool:
    """Whether 2.1 has a call for this kind of intent."""
    return intent_type in _BUILDERS


def build(intent, station=None) -> Call:
    """The 2.1 call that carries out a neutral intent."""
    try:
        builder = _BUILDERS[type(intent)]
    except KeyError:
        raise intents.NotInVersion(type(intent).__name__, "ocpp2.1") from None
    return builder(intent, station)


def __getattr__(name: str):
    """Every other reader of station answers is 2.0.1's (local lists, data transfer, …)."""
    return getattr(v201_calls, name)
