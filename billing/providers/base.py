"""What every payment provider adapter offers: intents, capture, cancel, refund, webhooks."""

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal


class PaymentsNotConfigured(Exception):
    """The platform has no keys for the provider, or the organization no payment account."""


class ProviderError(Exception):
    """The provider refused or failed a call; `declined` when the payer's bank said no."""

    def __init__(
        self, message: str, *, code: str = "", declined: bool = False, definite: bool = True
    ):
        super().__init__(message)
        self.message = message
        self.code = code
        self.declined = declined
        # False when the call's outcome is unknown (no answer, a server error): it may have
        # been done, so it is asked again with the same idempotency key, never given up.
        self.definite = definite


# ISO 4217 currencies counted in whole units, and those counted in thousandths (whose
# providers take two decimals of them); every other one in hundredths.
ZERO_DECIMAL = frozenset(
    "BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split()  # noqa: SIM905
)
THREE_DECIMAL = frozenset(["BHD", "JOD", "KWD", "OMR", "TND"])


def smallest_unit(currency: str) -> Decimal:
    """The smallest amount a payment in `currency` can move."""
    return Decimal(1) if currency.upper() in ZERO_DECIMAL else Decimal("0.01")


def representable(amount: Decimal, currency: str) -> bool:
    """Whether `amount` is a whole number of the currency's smallest unit."""
    return amount % smallest_unit(currency) == 0


class WebhookSignatureInvalid(Exception):
    """A webhook whose signature does not verify with the endpoint's secret (or is too old)."""


@dataclass(frozen=True)
class Intent:
    """A provider's payment as we read it back: how much is held and how much collected."""

    reference: str
    # One of billing.choices.PaymentStatus.
    status: str
    currency: str
    amount_authorized: Decimal
    amount_captured: Decimal | None
    client_secret: str = ""
    failure: str = ""


@dataclass(frozen=True)
class RefundResult:
    """A refund as the provider answered it."""

    reference: str
    # One of billing.choices.RefundStatus.
    status: str
    amount: Decimal
    failure: str = ""


@dataclass(frozen=True)
class WebhookEvent:
    """A verified provider event: its id (for replays), type, and the intent it concerns."""

    event_id: str
    type: str
    payload: dict = field(default_factory=dict)
    intent: Intent | None = None


@dataclass(frozen=True)
class Payout:
    """Money the provider sent (or will send) to the account's bank."""

    reference: str
    amount: Decimal
    currency: str
    # The provider's word: paid, pending, in_transit, canceled, failed.
    status: str
    created: datetime
    arrival_date: date
    failure: str = ""


@dataclass(frozen=True)
class Balance:
    """What the account holds at the provider, per currency: available and still pending."""

    available: dict[str, Decimal]
    pending: dict[str, Decimal]


class PaymentGateway(ABC):
    """One provider, acting for one account; amounts are Decimals in the currency's units."""

    provider: str

    @abstractmethod
    def authorize(
        self,
        *,
        amount: Decimal,
        currency: str,
        idempotency_key: str,
        metadata: dict,
        payment_method: str = "",
        customer: str = "",
    ) -> Intent:
        """Hold an amount; with a saved payment method it is confirmed at once (off session)."""

    @abstractmethod
    def retrieve(self, reference: str) -> Intent:
        """The payment as the provider has it now."""

    @abstractmethod
    def capture(self, reference: str, *, amount: Decimal, idempotency_key: str) -> Intent:
        """Collect part or all of what is held; the rest is released."""

    @abstractmethod
    def cancel(self, reference: str, *, idempotency_key: str) -> Intent:
        """Release what is held; nothing is collected."""

    @abstractmethod
    def refund(
        self, reference: str, *, amount: Decimal, idempotency_key: str, reason: str
    ) -> RefundResult:
        """Pay back part or all of what was collected."""

    @abstractmethod
    def parse_webhook(self, body: bytes, headers) -> WebhookEvent:
        """Verify a webhook delivery's signature and read it; raises WebhookSignatureInvalid."""

    @abstractmethod
    def payouts(self, limit: int) -> list[Payout]:
        """The account's latest payouts, newest first."""

    @abstractmethod
    def balance(self) -> Balance:
        """The account's balance at the provider."""
