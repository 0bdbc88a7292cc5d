"""What the CSMS asks of a station, in no OCPP version's terms; each version's `calls` spells it.

Connectors are numbered as stations number them (from 1); None means the station itself or,
where a command says so, any connector.
"""

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
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
    # Any connector of this type (stations.choices.ConnectorType): 2.0.1 only.
    connector_type: str | None = None


@dataclass(frozen=True, slots=True)
class CancelReservation:
    """Give up a reservation the station holds."""

    reservation_id: int


@dataclass(frozen=True, slots=True)
class ClearCache:
    """Forget the cards the station authorized online."""


@dataclass(frozen=True, slots=True)
class Reset:
    """Restart the station, or (2.0.1 only) one of its EVSEs."""

    kind: ResetKind
    evse: int | None = None


@dataclass(frozen=True, slots=True)
class ChangeAvailability:
    """Make a connector, an EVSE (2.0.1 only) or (both None) the whole station operative or not."""

    operative: bool
    connector: int | None = None
    evse: int | None = None


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
    # Secure firmware update (2.0.1): the image's signature and the certificate that signed it
    # (PEM), when to install it, and the id its status notifications carry.
    signing_certificate: str = ""
    signature: str = ""
    install_at: datetime | None = None
    request_id: int | None = None


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


@dataclass(frozen=True, slots=True)
class GetTransactionStatus:
    """Ask whether a transaction still runs and whether messages of it wait in the queue."""

    # None: whether any transaction messages wait in the station's queue.
    transaction_id: str | None = None


@dataclass(frozen=True, slots=True)
class CostUpdated:
    """Tell the station what a running transaction has cost so far, tax included."""

    total_cost: Decimal
    transaction_id: str


# --- remote control, availability, reservations, local lists (2.0.1 additions) --------------


# --- device model: variables and reports ------------------------------------------------------


class ReportBase(StrEnum):
    """What a base report holds: every variable, the writable ones, or a summary."""

    FULL_INVENTORY = "FullInventory"
    CONFIGURATION_INVENTORY = "ConfigurationInventory"
    SUMMARY_INVENTORY = "SummaryInventory"


@dataclass(frozen=True, slots=True)
class VariableRead:
    """One attribute (Actual, Target, MinSet, MaxSet) of one variable to read."""

    # ComponentVariable is declared with the monitoring intents below.
    target: "ComponentVariable"
    attribute_type: str = "Actual"


@dataclass(frozen=True, slots=True)
class GetVariables:
    """Read attributes of variables of the station's device model."""

    reads: tuple[VariableRead, ...]


@dataclass(frozen=True, slots=True)
class VariableWrite:
    """A value to give one attribute of one variable."""

    target: "ComponentVariable"
    value: str
    attribute_type: str = "Actual"


@dataclass(frozen=True, slots=True)
class SetVariables:
    """Write attributes of variables; the station answers for each one."""

    writes: tuple[VariableWrite, ...]


@dataclass(frozen=True, slots=True)
class GetBaseReport:
    """Ask for a predefined report of the device model; it arrives as NotifyReport parts."""

    request_id: int
    report_base: ReportBase = ReportBase.FULL_INVENTORY


@dataclass(frozen=True, slots=True)
class GetReport:
    """Ask for the variables matching component criteria and/or the components named."""

    request_id: int
    criteria: tuple[str, ...] = ()  # Active, Available, Enabled, Problem
    targets: tuple["ComponentVariable", ...] = ()


# --- monitoring, events, logs, customer information --------------------------------------------


@dataclass(frozen=True, slots=True)
class ComponentVariable:
    """A component of the station's device model (on an EVSE/connector, or not) and a variable."""

    component: str
    variable: str = ""  # empty: every variable of the component (a report's criterion)
    component_instance: str = ""
    variable_instance: str = ""
    # Numbered as the 2.0.1 device model numbers them: EVSE ids and connector ids on the EVSE.
    evse: int | None = None
    connector: int | None = None


@dataclass(frozen=True, slots=True)
class MonitorSetting:
    """One monitor to install on a variable (with `monitor_id`: replace that monitor)."""

    target: ComponentVariable
    type: str  # UpperThreshold, LowerThreshold, Delta, Periodic, PeriodicClockAligned
    value: float
    severity: int  # 0 (danger) .. 9 (debug)
    transaction: bool = False
    monitor_id: int | None = None


@dataclass(frozen=True, slots=True)
class SetVariableMonitoring:
    """Install or replace monitors on variables of the station."""

    monitors: tuple[MonitorSetting, ...]


@dataclass(frozen=True, slots=True)
class SetMonitoringBase:
    """Which monitors are active: All, FactoryDefault or HardWiredOnly."""

    base: str


@dataclass(frozen=True, slots=True)
class SetMonitoringLevel:
    """Report only events of this severity or more severe (a lower number)."""

    severity: int


@dataclass(frozen=True, slots=True)
class ClearVariableMonitoring:
    """Remove monitors by their ids."""

    monitor_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class GetMonitoringReport:
    """Ask for the monitors the station has: all, or those matching criteria and components."""

    request_id: int
    criteria: tuple[str, ...] = ()  # ThresholdMonitoring, DeltaMonitoring, PeriodicMonitoring
    targets: tuple[ComponentVariable, ...] = ()


class LogKind(StrEnum):
    """Which log a station uploads."""

    DIAGNOSTICS = "diagnostics"
    SECURITY = "security"


@dataclass(frozen=True, slots=True)
class GetLog:
    """Upload a log to `location`; progress arrives with `request_id`."""

    request_id: int
    location: str
    kind: LogKind = LogKind.DIAGNOSTICS
    oldest: datetime | None = None
    latest: datetime | None = None
    retries: int | None = None
    retry_interval: int | None = None  # seconds


@dataclass(frozen=True, slots=True)
class CustomerInformation:
    """Report and/or clear what the station keeps about one customer, named one of three ways."""

    request_id: int
    report: bool
    clear: bool
    customer_identifier: str = ""
    id_token: str = ""
    id_token_type: str = ""
    certificate: "CertificateHash | None" = None  # declared with the certificate intents below


# --- display messages and certificates ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SetDisplayMessage:
    """Show a message on the station's display (a message with the same id is replaced)."""

    message_id: int
    # AlwaysFront, InFront or NormalCycle; state (Charging, Faulted, Idle, Unavailable) limits
    # when it shows; format is ASCII, HTML, URI or UTF8 (the words of the OCPP versions that
    # have display messages).
    priority: str
    content: str
    format: str = "UTF8"
    language: str = ""
    state: str = ""
    start: datetime | None = None
    end: datetime | None = None
    # Shown during this transaction only, and removed by the station when it ends.
    transaction_id: str = ""


@dataclass(frozen=True, slots=True)
class GetDisplayMessages:
    """Have the station report the messages it holds that match every criterion given."""

    request_id: int
    message_ids: tuple[int, ...] = ()
    priority: str = ""
    state: str = ""


@dataclass(frozen=True, slots=True)
class ClearDisplayMessage:
    """Remove one message from the station's display."""

    message_id: int


class CertificateHash(NamedTuple):
    """How stations name an installed certificate: hashes of its issuer and its serial number."""

    algorithm: str  # SHA256, SHA384 or SHA512
    issuer_name_hash: str
    issuer_key_hash: str
    serial_number: str


@dataclass(frozen=True, slots=True)
class InstallCertificate:
    """Install a CA certificate (PEM) of a kind: CSMS, manufacturer, V2G or mobility root."""

    certificate_type: str
    certificate: str


@dataclass(frozen=True, slots=True)
class DeleteCertificate:
    """Remove an installed certificate from the station."""

    certificate: CertificateHash


@dataclass(frozen=True, slots=True)
class GetInstalledCertificateIds:
    """List the certificates the station holds, of the kinds given (none: of every kind)."""

    certificate_types: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CertificateSigned:
    """Give the station the certificate chain (PEM) signed for its signing request."""

    certificate_chain: str
    certificate_type: str = ""


# --- smart charging, firmware, network profiles -------------------------------------------------


def new_request_id() -> int:
    """A fresh requestId for a call whose results arrive later, tagged with it (2.0.1)."""
    # Random rather than counted: any process may send, and the station only echoes it.
    return secrets.randbelow(2**31 - 1) + 1


@dataclass(frozen=True, slots=True)
class GetChargingProfiles:
    """Ask for the profiles the station has installed, matching every criterion given."""

    request_id: int
    # An EVSE as the station numbers it: 0 is the station's own profiles, None any EVSE's.
    evse: int | None = None
    profile_ids: tuple[int, ...] = ()
    purpose: str | None = None  # as ClearChargingProfile names it (1.6 names) or 2.0.1's
    stack_level: int | None = None
    # Who set the profiles: CSO (the CSMS), EMS, SO (a system operator) or Other.
    sources: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NetworkProfile:
    """How a station reaches the CSMS: one connection profile for one of its slots."""

    csms_url: str
    security_profile: int
    interface: str = "Wired0"  # Wired0..3, Wireless0..3
    message_timeout: int = 30  # seconds
    ocpp_version: str = "OCPP20"
    transport: str = "JSON"
    # Optional APN (mobile data) and VPN settings, in the version's terms.
    apn: Mapping[str, Any] | None = None
    vpn: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class SetNetworkProfile:
    """Store a connection profile in one of the station's configuration slots."""

    slot: int
    profile: NetworkProfile


@dataclass(frozen=True, slots=True)
class PublishFirmware:
    """A local controller downloads the firmware at `location` and serves it to its stations."""

    request_id: int
    location: str
    checksum: str  # MD5, 32 hexadecimal digits
    retries: int | None = None
    retry_interval: int | None = None  # seconds


@dataclass(frozen=True, slots=True)
class UnpublishFirmware:
    """A local controller stops serving the firmware with this MD5 checksum."""

    checksum: str


# --- tariffs (2.1) ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SetDefaultTariff:
    """Give the station a tariff to show and apply (connector None: all its EVSEs)."""

    tariff_id: str
    definition: Any  # billing.engine.TariffDefinition
    description: str = ""
    connector: int | None = None


@dataclass(frozen=True, slots=True)
class GetTariffs:
    """Ask which tariffs the station holds (connector None: all its EVSEs)."""

    connector: int | None = None


@dataclass(frozen=True, slots=True)
class ClearTariffs:
    """Remove tariffs from the station: the ones named, or all (of one EVSE, or every)."""

    tariff_ids: tuple[str, ...] = ()
    connector: int | None = None


@dataclass(frozen=True, slots=True)
class ChangeTransactionTariff:
    """Apply another tariff to a running transaction."""

    transaction_id: str
    tariff_id: str
    definition: Any  # billing.engine.TariffDefinition
    description: str = ""
