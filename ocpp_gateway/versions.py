"""The OCPP versions the gateway speaks: subprotocol → the version's package, newest first.

Adding a version is adding a package with the same modules as v16/ (handlers, calls, formats)
and a row here.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import ModuleType

from ocpp_gateway.v16 import calls as v16_calls
from ocpp_gateway.v16 import formats as v16_formats
from ocpp_gateway.v16.handlers import HANDLERS as V16_HANDLERS
from ocpp_gateway.v21 import calls as v21_calls
from ocpp_gateway.v21.handlers import HANDLERS as V21_HANDLERS
from ocpp_gateway.v201 import calls as v201_calls
from ocpp_gateway.v201 import formats as v201_formats
from ocpp_gateway.v201.handlers import HANDLERS as V201_HANDLERS
from stations.choices import OcppVersion


@dataclass(frozen=True)
class Version:
    """One OCPP version: its subprotocol and the modules that speak it."""

    subprotocol: str
    # Action → `on_<action>(station, payload) -> response` of the calls stations send us.
    handlers: Mapping[str, Callable[..., dict]]
    calls: ModuleType  # build(intent) -> Call, and the station's answers → neutral outcomes
    formats: ModuleType  # id-token info, charging profiles, local lists, dates
    # OCPP-J error codes as this version spells them, where it differs from 2.0.1's spelling.
    error_spelling: Mapping[str, str] = field(default_factory=dict)

    @property
    def family(self) -> str:
        """The version whose handlers and calls this one uses: 2.1 speaks through 2.0.1's."""
        return OcppVersion.V16.value if self.subprotocol == OcppVersion.V16 else "ocpp2.0.1"


class UnsupportedVersion(ValueError):
    """The gateway does not speak this OCPP version (yet)."""

    def __init__(self, subprotocol: str):
        super().__init__(f"The gateway does not send calls over {subprotocol} yet.")
        self.subprotocol = subprotocol


# Newest first: the first of these a station offers is the one we speak.
VERSIONS: tuple[Version, ...] = (
    # 2.1 extends 2.0.1: the same handlers and calls (plus what 2.1 adds that the platform
    # models), validated against the 2.1 schemas; the rest of 2.1 is answered NotSupported
    # (docs/ocpp.md lists it).
    Version(OcppVersion.V21.value, V21_HANDLERS, v21_calls, v201_formats),
    Version(OcppVersion.V201.value, V201_HANDLERS, v201_calls, v201_formats),
    Version(
        OcppVersion.V16.value,
        V16_HANDLERS,
        v16_calls,
        v16_formats,
        # OCPP-J 1.6 spells this code with one "r" and calls a malformed frame a formation one.
        {
            "OccurrenceConstraintViolation": "OccurenceConstraintViolation",
            "FormatViolation": "FormationViolation",
            "MessageTypeNotSupported": "ProtocolError",
        },
    ),
)
_BY_SUBPROTOCOL = {version.subprotocol: version for version in VERSIONS}
# A station that never connected is taken to speak 1.6, as every station did before 2.0.1.
DEFAULT_SUBPROTOCOL = OcppVersion.V16.value


def negotiate(offered: Iterable[str]) -> Version | None:
    """The newest version the station offers that the gateway speaks, or None."""
    offered = set(offered)
    return next((version for version in VERSIONS if version.subprotocol in offered), None)


def get(subprotocol: str) -> Version:
    """The version of a subprotocol; UnsupportedVersion when the gateway does not speak it."""
    try:
        return _BY_SUBPROTOCOL[subprotocol]
    except KeyError:
        raise UnsupportedVersion(subprotocol) from None


def for_station(station) -> Version:
    """The version the station spoke when it last connected (1.6 if it never did)."""
    return get(station.ocpp_version or DEFAULT_SUBPROTOCOL)


def handlers_for(subprotocol: str) -> Mapping[str, Callable[..., dict]]:
    """The handlers of the calls stations send over a subprotocol; UnsupportedVersion if none."""
    return get(subprotocol).handlers
