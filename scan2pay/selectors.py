"""Reads of the public Scan2Pay page: one connector by its pay code, its status in words."""

from dataclasses import dataclass

from django.db.models import F
from django.utils.translation import gettext_lazy as _

from billing.models import Tariff
from billing.payments import ready_account
from billing.services import ad_hoc_tariff_for
from stations.choices import ConnectorStatus
from stations.models import PAY_CODE_ALPHABET, PAY_CODE_LENGTH, Connector
from stations.selectors import connector_shown_status

# What a driver is told about a connector: the reported statuses folded into a few plain words.
AVAILABLE = "available"
OCCUPIED = "occupied"
RESERVED = "reserved"
OUT_OF_ORDER = "out-of-order"
OFFLINE = "offline"
UNKNOWN = "unknown"

STATUS_WORDS = {
    AVAILABLE: _("Available"),
    OCCUPIED: _("Occupied (charging)"),
    RESERVED: _("Reserved"),
    OUT_OF_ORDER: _("Out of order"),
    OFFLINE: _("Offline"),
    UNKNOWN: _("Status unknown"),
}
STATUS_MEANINGS = {
    AVAILABLE: _("The charge point is free: you can plug in."),
    OCCUPIED: _("A vehicle is plugged in or charging here."),
    RESERVED: _("The charge point is reserved for another driver."),
    OUT_OF_ORDER: _("Charging is not possible here now."),
    OFFLINE: _("The charger is not connected: charging is not possible now."),
    UNKNOWN: _("The charger has not reported this charge point's status yet."),
}
# The portal's badge colours (portal.css), so a status looks the same on both.
STATUS_CSS = {
    AVAILABLE: "status-available",
    OCCUPIED: "status-charging",
    RESERVED: "status-charging",
    OUT_OF_ORDER: "status-faulted",
    OFFLINE: "status-unavailable",
    UNKNOWN: "status-unknown",
}
_BY_REPORTED = {
    ConnectorStatus.AVAILABLE: AVAILABLE,
    ConnectorStatus.PREPARING: OCCUPIED,
    ConnectorStatus.CHARGING: OCCUPIED,
    ConnectorStatus.SUSPENDED_EV: OCCUPIED,
    ConnectorStatus.SUSPENDED_EVSE: OCCUPIED,
    ConnectorStatus.FINISHING: OCCUPIED,
    ConnectorStatus.OCCUPIED: OCCUPIED,
    ConnectorStatus.RESERVED: RESERVED,
    ConnectorStatus.UNAVAILABLE: OUT_OF_ORDER,
    ConnectorStatus.FAULTED: OUT_OF_ORDER,
}
# A station that reports itself (connector 0) so is out of order on every connector.
_STATION_DOWN = (ConnectorStatus.UNAVAILABLE, ConnectorStatus.FAULTED)


@dataclass(frozen=True)
class PayStatus:
    """A connector's status as a driver reads it: a key, a word, a sentence, a badge class."""

    key: str
    label: str
    meaning: str
    css: str


def pay_status(connector: Connector) -> PayStatus:
    """The connector's status in words; an offline station is offline whatever it last said."""
    station = connector.station
    # The portal's rule (stations.selectors): nobody charges at a station without its socket.
    shown = connector_shown_status(connector, station)
    if shown.offline:
        key = OFFLINE
    elif station.status in _STATION_DOWN:
        key = OUT_OF_ORDER
    else:
        key = _BY_REPORTED.get(shown.status, UNKNOWN)
    return PayStatus(
        key=key, label=STATUS_WORDS[key], meaning=STATUS_MEANINGS[key], css=STATUS_CSS[key]
    )


def is_pay_code(text: str) -> bool:
    """Whether `text` can be a pay code at all (spares a query for anything else)."""
    return len(text) == PAY_CODE_LENGTH and all(char in PAY_CODE_ALPHABET for char in text)


def scan2pay_connector(pay_code: str) -> Connector | None:
    """The connector of a pay code at a site with Scan2Pay on, with its station and site; None."""
    code = pay_code.strip().lower()
    if not is_pay_code(code):
        return None
    return (
        Connector.objects.select_related("station__site", "station__organization", "evse")
        .filter(
            pay_code=code,
            station__organization__isnull=False,
            # A site of another organization than its station's is bad data: no page.
            station__site__organization=F("station__organization"),
            station__site__scan2pay_enabled=True,
        )
        .first()
    )


def payable_tariff(connector: Connector) -> Tariff | None:
    """The ad-hoc tariff a driver pays at the connector, if paying there is possible now."""
    station = connector.station
    # Enabled and the platform's provider keys set: a price nobody can pay is not offered.
    account = ready_account(station.organization)
    if account is None:
        return None
    tariff = ad_hoc_tariff_for(station)
    # The payment is made in the account's currency: a tariff in another one cannot be paid.
    if tariff is None or tariff.currency != account.currency:
        return None
    return tariff
