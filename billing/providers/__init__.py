"""Payment providers behind one interface; `gateway_for` picks an organization's adapter."""

from billing.providers.base import (
    Balance,
    Intent,
    PaymentGateway,
    PaymentsNotConfigured,
    Payout,
    ProviderError,
    RefundResult,
    WebhookEvent,
    WebhookSignatureInvalid,
    representable,
    smallest_unit,
)
from billing.providers.stripe_adapter import StripeGateway

__all__ = [
    "Balance",
    "Intent",
    "PaymentGateway",
    "PaymentsNotConfigured",
    "Payout",
    "ProviderError",
    "RefundResult",
    "StripeGateway",
    "WebhookEvent",
    "WebhookSignatureInvalid",
    "gateway_for",
    "representable",
    "smallest_unit",
]

_ADAPTERS = {"stripe": StripeGateway}


def gateway_for(provider: str, account_id: str = "") -> PaymentGateway:
    """The adapter of a provider, acting for one connected account (or the platform's own)."""
    try:
        adapter = _ADAPTERS[provider]
    except KeyError:
        raise PaymentsNotConfigured(f"No adapter for payment provider {provider!r}") from None
    return adapter(account_id=account_id)
