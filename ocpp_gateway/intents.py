"""What the CSMS asks of a station, in no OCPP version's terms; each version's `calls` spells it.

Connectors are numbered as stations number them (from 1); None means the station itself or,
where a command says so, any connector.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple

from stations.models import ChargingProfile


class NotInVersion(LookupError):
    """The station's OCPP version has no call for this intent; the message says which."""

    def __init__(self, intent: str, subprotocol: str):
        super().__init__(f"{intent} does not exist in {subprotocol}.")
        self.intent = intent
        self.subprotocol = subprotocol


class Call(NamedTuple):
    """One CSMS-to-station call as a version spells it: the action and its payload."""

    action: str
    payload: dict


class ResetKind(StrEnum):
    """Soft ends transactions and restarts the software; hard reboots at once."""

    SOFT = "soft"
    HARD = "hard"


class LocalListOutcome(StrEnum):
    """What a station did with a local list it was sent."""

    ACCEPTED = "accepted"
    VERSION_MISMATCH = "version_mismatch"
    FAILED = "failed"
    NOT_SUPPORTED = "not_supported"
    NO_ANSWER = "no_answer"


@dataclass(frozen=True, slots=True)
class StartCharging:
    """Start charging for a card, on a connector or whichever the driver uses."""

    id_tag: str
    connector: int | None = None
    # A TxProfile as the caller gave it, in the station's version's terms (the API takes 1.6's).
    profile: dict | None = None
    # The RemoteStart record's id (sessions_app): what 2.0.1 sends as remoteStartId.
    remote_start_id: int | None = None


@dataclass(frozen=True, slots=True)
class StopCharging:
    """Stop the transaction of a running session."""

    transaction_id: str


@dataclass(frozen=True, slots=True)
class UnlockConnector:
    """Free a cable stuck in the car or the station."""

    connector: int


@dataclass(frozen=True, slots=True)
class Reserve:
    """Hold a connector (None: any connector of the station) for one card until `expires_at`."""

    reservation_id: int
    id_tag: str
    expires_at: datetime
    connector: int | None = None
    parent_id_tag: str = ""


@dataclass(frozen=True, slots=True)
class CancelReservation:
    """Give up a reservation the station holds."""

    reservation_id: int


@dataclass(frozen=True, slots=True)
class ClearCache:
    """Forget the cards the station authorized online."""


@dataclass(frozen=True, slots=True)
class Reset:
    """Restart the station."""

    kind: ResetKind


@dataclass(frozen=True, slots=True)
class ChangeAvailability:
    """Make a connector (None: the whole station) operative or not."""

    operative: bool
    connector: int | None = None


@dataclass(frozen=True, slots=True)
class GetConfiguration:
    """Read configuration keys: the ones given, or all."""

    keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ChangeConfiguration:
    """Set one configuration key."""

    key: str
    value: str


@dataclass(frozen=True, slots=True)
class TriggerMessage:
    """Ask the station to send a message now (its name as the remote command offers it)."""

    message: str
    connector: int | None = None


@dataclass(frozen=True, slots=True)
class UpdateFirmware:
    """Download and install the firmware at `location` from `retrieve_at` on."""

    location: str
    retrieve_at: datetime
    retries: int | None = None
    retry_interval: int | None = None  # seconds


@dataclass(frozen=True, slots=True)
class GetDiagnostics:
    """Upload a diagnostics file to `location`."""

    location: str
    start: datetime | None = None
    stop: datetime | None = None
    retries: int | None = None
    retry_interval: int | None = None  # seconds


@dataclass(frozen=True, slots=True)
class SendLocalList:
    """Send the cards a station may accept offline, whole or as the changes to what it holds."""

    full: bool
    # uid → the authorization chain's neutral answer (sessions_app.authorization).
    authorizations: Mapping[str, Any]
    # What the station holds as far as it last accepted: its version and the entries, as the
    # version's `calls` recorded them.
    held_version: int = 0
    held_entries: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class GetLocalListVersion:
    """Ask which local list version the station holds."""


@dataclass(frozen=True, slots=True)
class SetChargingProfile:
    """Install a charging profile on a connector (None: the station), or for one transaction."""

    profile: ChargingProfile
    connector: int | None = None
    transaction_id: str | None = None


@dataclass(frozen=True, slots=True)
class ClearChargingProfile:
    """Remove the profiles matching every criterion given; None matches all."""

    profile_id: int | None = None
    # Here 0 is the station's own profiles and None those of any connector.
    connector: int | None = None
    purpose: str | None = None
    stack_level: int | None = None


@dataclass(frozen=True, slots=True)
class GetCompositeSchedule:
    """The limits a connector (None: the station) will apply over the next `duration` seconds."""

    duration: int
    connector: int | None = None
    rate_unit: str | None = None


@dataclass(frozen=True, slots=True)
class DataTransfer:
    """A vendor-specific message."""

    vendor_id: str
    message_id: str = ""
    data: str | None = None


@dataclass(frozen=True, slots=True)
class DataTransferAnswer:
    """What a station answered to a data transfer: its status word and optional data."""

    status: str = ""
    data: Any = None


# --- transactions and cost (2.0.1 additions) -------------------------------------------------


# --- remote control, availability, reservations, local lists (2.0.1 additions) --------------


# --- device model: variables and reports ------------------------------------------------------


# --- monitoring, events, logs, customer information --------------------------------------------


# --- display messages and certificates ---------------------------------------------------------


# --- smart charging, firmware, network profiles -------------------------------------------------
